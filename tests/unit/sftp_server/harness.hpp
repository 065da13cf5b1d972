// In-process harness for sftp::server tests: a server session on one end of a test::stream pair
// and a scripted client on the other that sends request structs (or raw bytes) and reads replies.
#pragma once

#include <ferry/fs/memory.hpp>
#include <ferry/sftp/proto/decode.hpp>
#include <ferry/sftp/proto/frame.hpp>
#include <ferry/sftp/server.hpp>
#include <ferry/test/stream.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>

namespace ferry::sftp_server_test {

namespace asio = boost::asio;
using namespace ferry::sftp::proto;
using ferry::sftp::status;

inline constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

class client {
 public:
  explicit client(test::stream& s) : s_(s) {}

  // Requests are queued by plain calls (never a temporary inside a co_await: g++ 12) and written
  // by flush(), which every receive does first.
  void send_raw(bytes b) { out_.insert(out_.end(), b.begin(), b.end()); }

  template <class M>
  void send(const M& m) {
    encode_packet(out_, m);
  }

  asio::awaitable<void> flush() {
    if (out_.empty()) co_return;
    bytes b;
    b.swap(out_);
    auto [ec, n] = co_await asio::async_write(s_, asio::buffer(b), nothrow);
    if (ec) throw std::runtime_error("client write: " + ec.message());
  }

  // The next reply packet; nullopt at EOF.
  asio::awaitable<std::optional<reply>> recv() {
    co_await flush();
    for (;;) {
      if (!packets_.empty()) {
        reply r;
        auto ec = decode_reply(packets_.front(), r);
        packets_.pop_front();
        if (ec) throw std::runtime_error("undecodable reply: " + ec.message());
        co_return r;
      }
      std::uint8_t buf[65536];
      auto [ec, n] = co_await s_.async_read_some(asio::buffer(buf), nothrow);
      if (ec) co_return std::nullopt;
      byte_view in{buf, n};
      while (true) {
        byte_view p;
        error_code fec;
        auto res = splitter_.next(in, p, fec);
        if (res == frame_splitter::result::failed) throw std::runtime_error("bad frame");
        if (res == frame_splitter::result::need_more) break;
        packets_.emplace_back(p.begin(), p.end());
      }
    }
  }

  template <class T>
  asio::awaitable<T> recv_as() {
    auto r = co_await recv();
    if (!r) throw std::runtime_error("EOF instead of a reply");
    if (auto* t = std::get_if<T>(&*r)) co_return std::move(*t);
    if (auto* st = std::get_if<status_reply>(&*r))
      throw std::runtime_error("got STATUS " + std::to_string(st->code) + " " +
                               st->message.value_or(""));
    throw std::runtime_error("unexpected reply type");
  }

  asio::awaitable<status_reply> status_of() { co_return co_await recv_as<status_reply>(); }

  asio::awaitable<version_reply> handshake() {
    init_request init;
    send(init);
    co_return co_await recv_as<version_reply>();
  }

  std::uint32_t next_id() { return ++id_; }

  // Convenience round trips.
  asio::awaitable<handle> open(std::string path, std::uint32_t pflags, attrs a = {}) {
    open_request r{next_id(), std::move(path), pflags, a};
    send(r);
    auto h = co_await recv_as<handle_reply>();
    co_return h.handle;
  }
  asio::awaitable<status_reply> close(const handle& h) {
    close_request r{next_id(), h};
    send(r);
    co_return co_await status_of();
  }

 private:
  test::stream& s_;
  frame_splitter splitter_;
  std::deque<bytes> packets_;
  bytes out_;
  std::uint32_t id_ = 0;
};

inline bytes as_bytes_of(std::string_view s) { return bytes(s.begin(), s.end()); }

inline attrs perms(std::uint32_t p) {
  attrs a;
  a.permissions = p;
  return a;
}

// ASSERT_* cannot be used in a coroutine (they return void): this ends the test body instead.
#define CO_ASSERT(cond)                                                          \
  do {                                                                           \
    if (!(cond)) throw std::runtime_error("assertion failed: " #cond);           \
  } while (0)

// Serves one session of `files` on one end of a stream pair while body(client&) runs on the other
// (after the handshake, unless told not to); then the client shuts down its sending side and
// drains replies until the server, having completed, shuts down its own. Returns the session's
// result (nullopt if it did not complete). Failures inside body fail the test.
template <class Filesystem, class Body>
std::optional<error_code> serve_one(asio::io_context& ioc, Filesystem& files,
                                    sftp::server_options o, Body body, bool handshake = true,
                                    std::function<void(test::stream&, test::stream&)> setup = {}) {
  std::optional<error_code> result;
  ioc.restart();
  auto pair = test::make_stream_pair(ioc.get_executor());
  auto& c = pair.first;
  auto& s = pair.second;
  if (setup) setup(c, s);
  sftp::server<Filesystem> srv{files, std::move(o)};
  srv.async_run(s, [&](error_code ec) {
    result = ec;
    s.shutdown_send();
  });
  std::exception_ptr failure;
  bool done = false;
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        client cl{c};
        if (handshake) co_await cl.handshake();
        co_await body(cl);
        co_await cl.flush();
        c.shutdown_send();
        while (co_await cl.recv()) {
        }
      },
      [&](std::exception_ptr e) {
        failure = e;
        done = true;
        c.close();
      });
  ioc.run_for(std::chrono::seconds(60));
  EXPECT_TRUE(done) << "client coroutine did not finish";
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      ADD_FAILURE() << e.what();
    }
  }
  EXPECT_TRUE(result.has_value()) << "server session did not complete";
  return result;
}

// A server on a memory filesystem.
struct fixture {
  asio::io_context ioc;
  fs::memory_filesystem files;
  std::optional<error_code> result;

  explicit fixture(fs::memory_options mo = {})
      : files(fs::make_memory_filesystem(ioc.get_executor(), std::move(mo))) {}

  template <class Body>
  void run(sftp::server_options o, Body body, bool handshake = true) {
    result = serve_one(ioc, files, std::move(o), std::move(body), handshake);
    if (!result) result = make_error_code(errc::truncated);
  }

  fs::memory_core& core() { return files.core(); }
};

}  // namespace ferry::sftp_server_test
