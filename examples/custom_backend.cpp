// Writing a Filesystem backend: a read-only "static content" store that serves a fixed set of
// files from memory (say, firmware images compiled into a device, or a bundle fetched at start).
//
// The quickest way to a backend is a synchronous core behind fs::sync_adapter, which turns each
// member into an Asio initiating function (callbacks, use_awaitable, deferred...). A core that
// might block (disk, network) gets a blocking executor so it never stalls the network threads;
// this one only touches memory, so it runs inline and completes through a post.
//
// The required set (fs::filesystem) is: stat, open, read_at, write_at, close, opendir, readdir,
// mkdir, rmdir, remove, rename, realpath. Everything else is optional and simply left out here:
// fs::async_fsync, fs::async_symlink... then complete with "operation unsupported", which the SFTP
// server reports as SSH_FX_OP_UNSUPPORTED. Paths go through fs::path::normalize, the one place
// that checks them (NUL, lengths, ".." stopping at the root).
//
//   $ ./custom_backend
#include <ferry/fs/error.hpp>
#include <ferry/fs/operations.hpp>
#include <ferry/fs/path.hpp>
#include <ferry/fs/sync_adapter.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cerrno>
#include <iostream>
#include <map>
#include <mutex>

namespace asio = boost::asio;
using namespace ferry;

// Files live in one flat directory "/". The core is called from any thread: guard shared state.
class static_content_core {
 public:
  explicit static_content_core(std::map<std::string, std::string> files)
      : files_(std::move(files)) {}

  error_code stat(std::string_view p, fs::attributes& out) {
    std::string c;
    if (auto ec = fs::path::normalize(p, "/", c)) return ec;
    if (c == "/") {
      out = {};
      out.permissions = fs::mode::directory | 0555;
      out.link_count = 2;
      return {};
    }
    auto it = files_.find(c.substr(1));
    if (it == files_.end()) return fs::from_errno(ENOENT);
    out = {};
    out.permissions = fs::mode::regular | 0444;
    out.size = it->second.size();
    return {};
  }

  error_code open(std::string_view p, const fs::open_mode& m, fs::handle& out) {
    if (m.write || m.append || m.create || m.truncate) return fs::from_errno(EROFS);
    std::string c;
    if (auto ec = fs::path::normalize(p, "/", c)) return ec;
    if (c == "/") return fs::from_errno(EISDIR);
    auto it = files_.find(c.substr(1));
    if (it == files_.end()) return fs::from_errno(ENOENT);
    std::lock_guard lock{m_};
    out = fs::handle{next_++};
    open_[out.id] = &it->second;  // files_ never changes, so the pointer stays valid
    return {};
  }

  error_code read_at(fs::handle h, std::uint64_t offset, mutable_byte_view buf, std::size_t& n) {
    std::lock_guard lock{m_};
    auto it = open_.find(h.id);
    if (it == open_.end() || !it->second) return fs::from_errno(EBADF);
    const std::string& data = *it->second;
    if (offset >= data.size()) return asio::error::eof;  // the Filesystem convention for EOF
    n = std::min<std::size_t>(buf.size(), data.size() - offset);
    std::copy_n(data.data() + offset, n, buf.data());
    return {};
  }

  error_code write_at(fs::handle, std::uint64_t, byte_view, std::size_t& n) {
    n = 0;
    return fs::from_errno(EBADF);  // no handle is ever open for writing
  }

  error_code close(fs::handle h) {
    std::lock_guard lock{m_};
    return open_.erase(h.id) ? error_code{} : fs::from_errno(EBADF);
  }

  error_code opendir(std::string_view p, fs::handle& out) {
    std::string c;
    if (auto ec = fs::path::normalize(p, "/", c)) return ec;
    if (c != "/") return fs::from_errno(files_.count(c.substr(1)) ? ENOTDIR : ENOENT);
    std::lock_guard lock{m_};
    out = fs::handle{next_++};
    open_[out.id] = nullptr;  // a directory handle
    listed_[out.id] = false;
    return {};
  }

  error_code readdir(fs::handle h, std::vector<fs::dir_entry>& out) {
    std::lock_guard lock{m_};
    auto it = listed_.find(h.id);
    if (it == listed_.end()) return fs::from_errno(EBADF);
    if (it->second) return asio::error::eof;  // one batch, then end of listing
    it->second = true;
    for (const auto& [name, data] : files_) {
      fs::dir_entry e{name, {}};
      e.attrs.permissions = fs::mode::regular | 0444;
      e.attrs.size = data.size();
      out.push_back(std::move(e));
    }
    return {};
  }

  // Changes are refused with EROFS: the store is read-only.
  error_code mkdir(std::string_view, std::uint32_t) { return fs::from_errno(EROFS); }
  error_code rmdir(std::string_view) { return fs::from_errno(EROFS); }
  error_code remove(std::string_view) { return fs::from_errno(EROFS); }
  error_code rename(std::string_view, std::string_view) { return fs::from_errno(EROFS); }

  error_code realpath(std::string_view p, std::string& out) {
    fs::attributes a;
    if (auto ec = fs::path::normalize(p, "/", out)) return ec;
    return stat(out, a);  // SFTP clients expect realpath to fail for what does not exist
  }

 private:
  const std::map<std::string, std::string> files_;
  std::mutex m_;
  std::map<std::uint64_t, const std::string*> open_;
  std::map<std::uint64_t, bool> listed_;
  std::uint64_t next_ = 1;
};

using static_content_fs = fs::sync_adapter<static_content_core>;
static_assert(fs::filesystem<static_content_fs>);  // usable by the SFTP, SCP and FTP servers
static_assert(!fs::has_fsync<static_content_fs> && !fs::has_symlink<static_content_fs>);

int main() {
  asio::io_context ioc;
  static_content_fs store{ioc.get_executor(),
                          std::make_shared<static_content_core>(std::map<std::string, std::string>{
                              {"README", "Firmware images for the field units.\n"},
                              {"fw-1.2.bin", std::string(1024, '\x7f')},
                          })};
  constexpr auto tok = asio::as_tuple(asio::use_awaitable);

  asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
    auto [oec, dir] = co_await store.async_opendir("/", tok);
    while (true) {
      auto [ec, batch] = co_await store.async_readdir(dir, tok);
      if (ec) break;  // asio::error::eof ends the listing
      for (auto& e : batch) std::cout << e.name << "  " << e.attrs.size << " bytes\n";
    }
    co_await store.async_close(dir, tok);

    auto [ec, h] = co_await store.async_open("../../README", fs::open_mode::read_only(), tok);
    bytes buf(64);
    auto [rec, n] = co_await store.async_read_at(h, 0, buf, tok);
    std::cout << "README: " << as_chars(byte_view{buf}.first(n));
    co_await store.async_close(h, tok);

    auto [wec, wh] = co_await store.async_open("/new", fs::open_mode::write_new(), tok);
    std::cout << "create /new: " << wec.message() << "\n";
    auto [sec] = co_await fs::async_symlink(store, "README", "/link", tok);
    std::cout << "symlink: " << sec.message() << "\n";
  }, asio::detached);
  ioc.run();
}
