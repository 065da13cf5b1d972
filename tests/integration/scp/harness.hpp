// In-process SCP: a ferry client and a ferry server joined by an in-memory stream, both over
// memory filesystems. The transport is one function (exec) so the same tests can later run over
// an SSH exec channel.
#pragma once

#include <ferry/fs/memory.hpp>
#include <ferry/scp/client.hpp>
#include <ferry/scp/server.hpp>
#include <ferry/test/stream.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace ferry::test_scp {

namespace asio = boost::asio;

// Synchronous helpers on a memory filesystem's core.
inline void put(fs::memory_filesystem& f, const std::string& path, std::string_view data,
                std::uint32_t mode = 0644) {
  auto& c = f.core();
  fs::handle h;
  fs::open_mode m = fs::open_mode::write_new();
  m.permissions = mode;
  ASSERT_FALSE(c.open(path, m, h)) << path;
  std::size_t n = 0;
  if (!data.empty()) {
    ASSERT_FALSE(c.write_at(h, 0, as_bytes(data), n));
  }
  ASSERT_FALSE(c.close(h));
  fs::set_attributes a;
  a.permissions = mode;
  ASSERT_FALSE(c.setstat(path, a));
}

inline void mkdir(fs::memory_filesystem& f, const std::string& path, std::uint32_t mode = 0755) {
  ASSERT_FALSE(f.core().mkdir(path, mode)) << path;
  fs::set_attributes a;
  a.permissions = mode;
  ASSERT_FALSE(f.core().setstat(path, a));
}

inline void set_times(fs::memory_filesystem& f, const std::string& path, std::int64_t mtime,
                      std::int64_t atime) {
  fs::set_attributes a;
  a.mtime = mtime;
  a.atime = atime;
  ASSERT_FALSE(f.core().setstat(path, a));
}

inline std::string get(fs::memory_filesystem& f, const std::string& path) {
  auto& c = f.core();
  fs::handle h;
  if (c.open(path, fs::open_mode::read_only(), h)) return "<missing>";
  std::string out;
  std::uint8_t buf[4096];
  for (std::uint64_t off = 0;;) {
    std::size_t n = 0;
    auto ec = c.read_at(h, off, mutable_byte_view{buf, sizeof buf}, n);
    if (ec || n == 0) break;
    out.append(reinterpret_cast<const char*>(buf), n);
    off += n;
  }
  (void)c.close(h);
  return out;
}

inline bool exists(fs::memory_filesystem& f, const std::string& path) {
  fs::attributes a;
  return !f.core().lstat(path, a);
}

inline fs::attributes stat(fs::memory_filesystem& f, const std::string& path) {
  fs::attributes a;
  EXPECT_FALSE(f.core().stat(path, a)) << path;
  return a;
}

// One exec request served by a ferry scp server over an in-memory stream pair.
struct exec_session {
  test::stream client;
  test::stream server_end;
  error_code server_ec;
  int status = -1;
  bool done = false;
};

template <class Server>
std::unique_ptr<exec_session> exec(asio::io_context& ioc, Server& srv, std::string command) {
  auto [a, b] = test::make_stream_pair(ioc.get_executor());
  auto s = std::unique_ptr<exec_session>(new exec_session{std::move(a), std::move(b), {}, -1, false});
  auto* raw = s.get();
  srv.async_run(raw->server_end, std::move(command), [raw](error_code ec, int status) {
    raw->server_ec = ec;
    raw->status = status;
    raw->done = true;
    raw->server_end.shutdown_send();  // the channel's EOF after the exit status
  });
  return s;
}

// Waits (on the io_context) until the server side of the session has completed.
inline asio::awaitable<void> wait_server(exec_session& s) {
  asio::steady_timer t{co_await asio::this_coro::executor};
  for (int i = 0; i < 2000 && !s.done; ++i) {
    t.expires_after(std::chrono::milliseconds(1));
    co_await t.async_wait(asio::use_awaitable);
  }
  EXPECT_TRUE(s.done) << "server did not finish";
}

}  // namespace ferry::test_scp
