// Shared pieces of the fs tests: backends as typed-test parameters, a coroutine runner and small
// file helpers written against the Filesystem concept only.
#pragma once

#include <ferry/fs/local.hpp>
#include <ferry/fs/memory.hpp>
#include <ferry/fs/operations.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>

namespace ferry::fs::testing {

namespace asio = boost::asio;
inline constexpr auto tok = asio::as_tuple(asio::use_awaitable);

// ASSERT_* cannot be used inside a coroutine (it returns); this records the failure and leaves.
#define FERRY_CO_ASSERT(cond)                     \
  do {                                            \
    if (!(cond)) {                                \
      ADD_FAILURE() << "assertion failed: " #cond; \
      co_return;                                  \
    }                                             \
  } while (0)

// Runs a coroutine to completion on ioc, rethrowing what it throws.
inline void run(asio::io_context& ioc, asio::awaitable<void> body) {
  std::exception_ptr failure;
  asio::co_spawn(ioc, std::move(body), [&](std::exception_ptr e) { failure = e; });
  ioc.restart();
  ioc.run();
  if (failure) std::rethrow_exception(failure);
}

// A fresh directory under the system's temp dir, removed (without following symlinks) at the end.
class temp_dir {
 public:
  temp_dir() {
    auto pattern = (std::filesystem::temp_directory_path() / "ferry-fs-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

struct backend_options {
  bool read_only = false;
  std::uint32_t umask = 022;
  std::string home = "/";
};

struct memory_backend {
  using fs_type = memory_filesystem;
  static fs_type make(asio::io_context& ioc, const backend_options& o = {}) {
    memory_options m;
    m.read_only = o.read_only;
    m.umask = o.umask;
    m.home = o.home;
    return make_memory_filesystem(ioc.get_executor(), m);
  }
};

template <path::resolver R>
struct local_backend {
  using fs_type = local_filesystem;
  temp_dir dir;
  fs_type make(asio::io_context& ioc, const backend_options& o = {}) {
    local_options l;
    l.read_only = o.read_only;
    l.umask = o.umask;
    l.home = o.home;
    l.resolver = R;
    error_code ec;
    auto f = make_local_filesystem(ioc.get_executor(), dir.path().string(), l, ec, 2);
    if (ec) throw system_error(ec);
    return f;
  }
};

using local_openat2_backend = local_backend<path::resolver::openat2>;
using local_walk_backend = local_backend<path::resolver::walk>;

template <class F>
asio::awaitable<error_code> write_file(F& f, std::string p, std::string_view content) {
  auto [ec, h] = co_await f.async_open(p, open_mode::write_new(), tok);
  if (ec) co_return ec;
  auto [wec, n] = co_await async_write_all_at(f, h, 0, as_bytes(content), tok);
  auto [cec] = co_await f.async_close(h, tok);
  co_return wec ? wec : cec;
}

// The whole content of a file, or the first error.
template <class F>
asio::awaitable<std::pair<error_code, std::string>> read_file(F& f, std::string p) {
  auto [ec, h] = co_await f.async_open(p, open_mode::read_only(), tok);
  if (ec) co_return std::pair{ec, std::string{}};
  std::string out;
  bytes buf(4096);
  while (true) {
    auto [rec, n] = co_await f.async_read_at(h, out.size(), buf, tok);
    if (rec == asio::error::eof) break;
    if (rec) {
      co_await f.async_close(h, tok);
      co_return std::pair{rec, std::string{}};
    }
    out.append(reinterpret_cast<const char*>(buf.data()), n);
  }
  auto [cec] = co_await f.async_close(h, tok);
  co_return std::pair{cec, out};
}

// Only the content ("" on any error), for comparisons.
template <class F>
asio::awaitable<std::string> content(F& f, std::string p) {
  auto [ec, s] = co_await read_file(f, std::move(p));
  co_return ec ? std::string{} : s;
}

template <class F>
asio::awaitable<std::vector<dir_entry>> list(F& f, std::string p, error_code& ec) {
  std::vector<dir_entry> all;
  auto [oec, h] = co_await f.async_opendir(p, tok);
  if ((ec = oec)) co_return all;
  while (true) {
    auto [rec, batch] = co_await f.async_readdir(h, tok);
    if (rec == asio::error::eof) break;
    if ((ec = rec)) break;
    all.insert(all.end(), batch.begin(), batch.end());
  }
  co_await f.async_close(h, tok);
  co_return all;
}

}  // namespace ferry::fs::testing
