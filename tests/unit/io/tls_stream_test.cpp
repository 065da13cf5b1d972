// io::tls_stream on loopback sockets against asio::ssl::stream (OpenSSL's usual memory-BIO path)
// and against itself in the server role: handshakes, bulk data both ways compared byte for byte,
// close_notify as eof, a connection cut without close_notify as stream_truncated, session
// resumption, a failed certificate check, cancellation, and overlapping operations refused.
#include <ferry/crypto/tls.hpp>
#include <ferry/crypto/x509.hpp>
#include <ferry/io/tls_stream.hpp>

#include <support/run_coroutine.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace tls_stream_test {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using ferry::error_code;
using ferry::io::tls_stream;
using ferry_test_support::run_coroutine;

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

std::unique_ptr<ssl::context> server_context() {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  ferry::crypto::x509::certificate_and_key ck;
  EXPECT_FALSE(ferry::crypto::x509::make_self_signed("127.0.0.1", std::chrono::hours(1), ck));
  EXPECT_FALSE(ferry::crypto::x509::configure_server_context(ctx->native_handle(), ck.certificate_pem,
                                                             ck.private_key_pem, "tls_stream_test"));
  return ctx;
}

std::vector<std::uint8_t> pattern(std::size_t n) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>((i * 131) ^ (i >> 11));
  return v;
}

// Lets the other coroutines run until flag is set (at most about a second).
asio::awaitable<void> wait_for(asio::io_context& io, const bool& flag) {
  asio::steady_timer t{io};
  for (int i = 0; i < 200 && !flag; ++i) {
    t.expires_after(std::chrono::milliseconds(5));
    co_await t.async_wait(asio::use_awaitable);
  }
}

// Runs a peer's side next to the test coroutine; done is set once it has finished (each test
// waits for that before its streams go).
void spawn_peer(asio::io_context& io, bool& done, std::function<asio::awaitable<void>()> peer) {
  asio::co_spawn(
      io,
      [&done, peer = std::move(peer)]() -> asio::awaitable<void> {
        co_await peer();
        done = true;
      },
      asio::detached);
}

// A connected pair of loopback sockets.
asio::awaitable<std::pair<tcp::socket, tcp::socket>> connected_pair(asio::io_context& io) {
  tcp::acceptor acceptor{io, {asio::ip::address_v4::loopback(), 0}};
  tcp::socket client{io};
  co_await client.async_connect(acceptor.local_endpoint(), asio::use_awaitable);
  auto server = co_await acceptor.async_accept(asio::use_awaitable);
  co_return std::pair{std::move(client), std::move(server)};
}

// The ends under test: io::tls_stream as the client, asio::ssl::stream as the server.
struct ends {
  tls_stream client;
  ssl::stream<tcp::socket> server;
};

asio::awaitable<ends> connect_ends(asio::io_context& io, ssl::context& client_ctx, ssl::context& server_ctx) {
  auto [c, s] = co_await connected_pair(io);
  co_return ends{tls_stream{std::move(c), client_ctx, tls_stream::role::client},
                 ssl::stream<tcp::socket>{std::move(s), server_ctx}};
}

// Every test has a server context (a fresh self-signed certificate) and a client context.
class TlsStream : public ::testing::Test {
 protected:
  std::unique_ptr<ssl::context> server_ctx = server_context();
  ssl::context client_ctx{ssl::context::tls_client};
};

TEST_F(TlsStream, DownloadsFromAsioSslStreamAndSeesCloseNotifyAsEof) {
  auto data = pattern(9 * 1024 * 1024 + 123);
  run_coroutine([&](asio::io_context& io) -> asio::awaitable<void> {
    auto e = co_await connect_ends(io, client_ctx, *server_ctx);
    auto& client = e.client;  // not a structured binding: clang 14 cannot capture those
    auto& server = e.server;
    bool served = false;
    spawn_peer(io, served, [&]() -> asio::awaitable<void> {
      co_await server.async_handshake(ssl::stream_base::server, asio::use_awaitable);
      co_await asio::async_write(server, asio::buffer(data), asio::use_awaitable);
      auto [ec] = co_await server.async_shutdown(nothrow);
      EXPECT_FALSE(ec) << ec.message();
    });
    co_await client.async_handshake(asio::use_awaitable);
    std::vector<std::uint8_t> got(data.size() + 1);
    auto [ec, n] = co_await asio::async_read(client, asio::buffer(got), nothrow);
    EXPECT_EQ(ec, asio::error::eof) << ec.message();
    EXPECT_EQ(n, data.size());
    got.resize(n);
    EXPECT_TRUE(got == data);
    auto [sec] = co_await client.async_shutdown(nothrow);  // answers the server's close_notify
    EXPECT_FALSE(sec) << sec.message();
    co_await wait_for(io, served);
    EXPECT_TRUE(served);
  });
}

TEST_F(TlsStream, UploadsToAsioSslStreamThenShutsDownCleanly) {
  auto data = pattern(7 * 1024 * 1024 + 5);
  run_coroutine([&](asio::io_context& io) -> asio::awaitable<void> {
    auto e = co_await connect_ends(io, client_ctx, *server_ctx);
    auto& client = e.client;  // not a structured binding: clang 14 cannot capture those
    auto& server = e.server;
    std::vector<std::uint8_t> got(data.size() + 1);
    error_code server_ec;
    std::size_t server_n = 0;
    bool served = false;
    spawn_peer(io, served, [&]() -> asio::awaitable<void> {
      co_await server.async_handshake(ssl::stream_base::server, asio::use_awaitable);
      std::tie(server_ec, server_n) = co_await asio::async_read(server, asio::buffer(got), nothrow);
      co_await server.async_shutdown(nothrow);
    });
    co_await client.async_handshake(asio::use_awaitable);
    // Odd-sized writes: records are cut wherever the buffers end.
    std::size_t off = 0;
    for (std::size_t step = 1; off < data.size(); step = step * 3 + 1) {
      std::size_t n = std::min(step, data.size() - off);
      co_await asio::async_write(client, asio::buffer(data.data() + off, n), asio::use_awaitable);
      off += n;
    }
    auto [ec] = co_await client.async_shutdown(nothrow);  // waits for the server's close_notify
    EXPECT_FALSE(ec) << ec.message();
    co_await wait_for(io, served);
    EXPECT_TRUE(served);
    EXPECT_EQ(server_ec, asio::error::eof) << server_ec.message();
    EXPECT_EQ(server_n, data.size());
    got.resize(server_n);
    EXPECT_TRUE(got == data);
  });
}

TEST_F(TlsStream, ServerRoleResumesTheSessionOfAnEarlierConnection) {
  run_coroutine([&](asio::io_context& io) -> asio::awaitable<void> {
    ferry::crypto::tls::session session;
    for (int round = 0; round < 2; ++round) {
      auto [c, s] = co_await connected_pair(io);
      tls_stream client{std::move(c), client_ctx, tls_stream::role::client};
      tls_stream server{std::move(s), *server_ctx, tls_stream::role::server};
      if (round == 1) {
        EXPECT_TRUE(ferry::crypto::tls::offer_session(client.native_handle(), session));
      }
      bool served = false;
      spawn_peer(io, served, [&]() -> asio::awaitable<void> {
        co_await server.async_handshake(asio::use_awaitable);
        std::uint8_t byte = 0x5a;
        co_await asio::async_write(server, asio::buffer(&byte, 1), asio::use_awaitable);
        co_await server.async_shutdown(asio::use_awaitable);
      });
      co_await client.async_handshake(asio::use_awaitable);
      std::uint8_t byte = 0;
      co_await asio::async_read(client, asio::buffer(&byte, 1), asio::use_awaitable);
      EXPECT_EQ(byte, 0x5a);
      // TLS 1.3 tickets come after the handshake: reading on to the close_notify takes them.
      auto [ec, n] = co_await client.async_read_some(asio::buffer(&byte, 1), nothrow);
      EXPECT_EQ(ec, asio::error::eof) << ec.message();
      EXPECT_EQ(n, 0u);
      co_await client.async_shutdown(asio::use_awaitable);
      co_await wait_for(io, served);
      EXPECT_TRUE(served);
      EXPECT_EQ(ferry::crypto::tls::session_reused(client.native_handle()), round == 1);
      EXPECT_EQ(ferry::crypto::tls::session_reused(server.native_handle()), round == 1);
      session = ferry::crypto::tls::current_session(client.native_handle());
      EXPECT_TRUE(session.resumable());
    }
  });
}

TEST_F(TlsStream, ConnectionCutWithoutCloseNotifyIsStreamTruncatedAfterTheData) {
  auto data = pattern(300 * 1024);
  run_coroutine([&](asio::io_context& io) -> asio::awaitable<void> {
    auto e = co_await connect_ends(io, client_ctx, *server_ctx);
    auto& client = e.client;  // not a structured binding: clang 14 cannot capture those
    auto& server = e.server;
    bool served = false;
    spawn_peer(io, served, [&]() -> asio::awaitable<void> {
      co_await server.async_handshake(ssl::stream_base::server, asio::use_awaitable);
      co_await asio::async_write(server, asio::buffer(data), asio::use_awaitable);
      server.next_layer().close();  // no close_notify
    });
    co_await client.async_handshake(asio::use_awaitable);
    std::vector<std::uint8_t> got(data.size() * 2);
    auto [ec, n] = co_await asio::async_read(client, asio::buffer(got), nothrow);
    EXPECT_EQ(ec, ssl::error::stream_truncated) << ec.message();
    EXPECT_EQ(n, data.size());
    got.resize(n);
    EXPECT_TRUE(got == data);
    co_await wait_for(io, served);
    EXPECT_TRUE(served);
  });
}

TEST_F(TlsStream, HandshakeFailsWhenTheCertificateIsNotTrusted) {
  client_ctx.set_verify_mode(ssl::verify_peer);  // no trust anchors: the self-signed one fails
  run_coroutine([&](asio::io_context& io) -> asio::awaitable<void> {
    auto e = co_await connect_ends(io, client_ctx, *server_ctx);
    auto& client = e.client;  // not a structured binding: clang 14 cannot capture those
    auto& server = e.server;
    error_code server_ec;
    bool served = false;
    spawn_peer(io, served, [&]() -> asio::awaitable<void> {
      std::tie(server_ec) = co_await server.async_handshake(ssl::stream_base::server, nothrow);
    });
    auto [ec] = co_await client.async_handshake(nothrow);
    EXPECT_EQ(ec.category(), asio::error::get_ssl_category()) << ec.message();
    EXPECT_NE(ec.message().find("certificate"), std::string::npos) << ec.message();
    client.next_layer().close();  // the server's handshake ends too, before the streams go
    co_await wait_for(io, served);
    EXPECT_TRUE(served);
    EXPECT_TRUE(server_ec);
  });
}

TEST_F(TlsStream, CancellingEndsAPendingReadOverlapsAreRefusedAndAClosedSocketIsNotRead) {
  run_coroutine([&](asio::io_context& io) -> asio::awaitable<void> {
    auto e = co_await connect_ends(io, client_ctx, *server_ctx);
    auto& client = e.client;  // not a structured binding: clang 14 cannot capture those
    auto& server = e.server;
    bool served = false;
    spawn_peer(io, served, [&]() -> asio::awaitable<void> {
      co_await server.async_handshake(ssl::stream_base::server, nothrow);
    });
    co_await client.async_handshake(asio::use_awaitable);
    co_await wait_for(io, served);

    // The server sends nothing: the read waits until the socket is cancelled.
    std::uint8_t buf[16];
    error_code read_ec;
    bool read_done = false;
    client.async_read_some(asio::buffer(buf), [&](error_code ec, std::size_t) {
      read_ec = ec;
      read_done = true;
    });
    std::uint8_t byte = 1;
    auto [wec, wn] = co_await client.async_write_some(asio::buffer(&byte, 1), nothrow);
    EXPECT_EQ(wec, boost::system::errc::operation_in_progress) << wec.message();
    EXPECT_EQ(wn, 0u);
    EXPECT_FALSE(read_done);
    client.next_layer().cancel();
    co_await wait_for(io, read_done);
    EXPECT_TRUE(read_done);
    EXPECT_EQ(read_ec, asio::error::operation_aborted) << read_ec.message();

    // An empty buffer completes at once, with nothing read.
    auto [eec, en] = co_await client.async_read_some(asio::mutable_buffer{}, nothrow);
    EXPECT_FALSE(eec);
    EXPECT_EQ(en, 0u);

    // Once the socket is closed, its old descriptor number is never read again.
    client.next_layer().close();
    auto [cec, cn] = co_await client.async_read_some(asio::buffer(buf), nothrow);
    EXPECT_EQ(cec, asio::error::bad_descriptor) << cec.message();
    EXPECT_EQ(cn, 0u);
  });
}

}  // namespace
}  // namespace tls_stream_test
