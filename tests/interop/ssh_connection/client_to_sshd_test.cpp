// ssh::client against a private OpenSSH sshd: exec (stdout, stderr, exit codes, signals), 100 MiB
// each way through `cat`, a rekey in the middle of a transfer (RekeyLimit 1M), 50 channels at once,
// local (direct-tcpip) and remote (tcpip-forward) forwarding to an in-process echo server, and a
// jump: a second ssh::client over a direct-tcpip channel of the first, authenticated end to end.
#include "interop/sshd_fixture.hpp"

#include <ferry/ssh/client.hpp>
#include <ferry/ssh/keys/private_key.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <gtest/gtest.h>

namespace client_to_sshd_test {
namespace asio = boost::asio;
using asio::ip::tcp;
using namespace ferry;
using namespace ferry::ssh;

namespace {

constexpr auto tok = asio::as_tuple(asio::use_awaitable);

client_options options_for(const interop::sshd& d) {
  client_options o;
  o.transport.verify_host_key = [](const host_key_info&) { return error_code{}; };
  o.auth.user = "root";
  keys::key_file k;
  if (keys::read_private_key_file(d.user_key(), {}, k)) throw std::runtime_error("user key");
  o.auth.identities.push_back(
      identity_from_key(std::make_shared<const crypto::private_key>(std::move(k.key))));
  return o;
}

// Runs f(client) on a fresh io_context with a connected client; disconnects afterwards.
template <class F>
void with_client(const interop::sshd& d, F f, std::chrono::seconds limit = std::chrono::seconds{60},
                 client_options o = {}) {
  asio::io_context ioc;
  if (!o.transport.verify_host_key) o = options_for(d);
  client<> c{ioc.get_executor(), std::move(o)};
  bool done = false;
  std::exception_ptr failure;
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        auto [ec] = co_await c.async_connect("127.0.0.1", d.port(), tok);
        EXPECT_FALSE(ec) << ec.message() << "\n" << d.log();
        if (!ec) {
          co_await f(c, ioc);
          co_await c.async_disconnect(tok);
        }
        done = true;
        ioc.stop();
      },
      [&](std::exception_ptr e) { failure = e; });
  ioc.run_for(limit);
  if (failure) std::rethrow_exception(failure);
  EXPECT_TRUE(done) << "did not finish in time";
}

// A deterministic, non-repeating-looking byte pattern.
void fill_pattern(std::uint64_t offset, char* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    auto x = offset + i;
    p[i] = char((x * 2654435761u) >> 13 ^ (x >> 17));
  }
}

// Sends `total` pattern bytes into ch, then EOF, while reading the echo back and comparing it.
asio::awaitable<std::pair<std::size_t, bool>> echo_through(channel& ch, std::size_t total) {
  auto ex = co_await asio::this_coro::executor;
  bool write_ok = true;
  asio::co_spawn(ex, [&]() -> asio::awaitable<void> {
    std::vector<char> buf(256 * 1024);
    for (std::size_t off = 0; off < total;) {
      auto n = std::min(buf.size(), total - off);
      fill_pattern(off, buf.data(), n);
      auto [ec, w] = co_await asio::async_write(ch, asio::buffer(buf.data(), n), tok);
      if (ec) {
        write_ok = false;
        co_return;
      }
      off += n;
    }
    ch.send_eof();
  }, asio::detached);
  std::vector<char> got(256 * 1024), want(256 * 1024);
  std::size_t received = 0;
  bool same = true;
  for (;;) {
    auto [ec, n] = co_await ch.async_read_some(asio::buffer(got), tok);
    if (n) {
      fill_pattern(received, want.data(), n);
      if (std::memcmp(got.data(), want.data(), n) != 0) same = false;
      received += n;
    }
    if (ec) break;
  }
  co_return std::pair{received, same && write_ok};
}

// An echo server on 127.0.0.1 (in-process), for forwarding tests.
struct echo_server {
  tcp::acceptor acceptor;
  explicit echo_server(asio::io_context& ioc) : acceptor(ioc, {asio::ip::address_v4::loopback(), 0}) {
    asio::co_spawn(ioc, run(), asio::detached);
  }
  std::uint16_t port() const { return acceptor.local_endpoint().port(); }
  asio::awaitable<void> run() {
    for (;;) {
      auto [ec, s] = co_await acceptor.async_accept(tok);
      if (ec) co_return;
      asio::co_spawn(acceptor.get_executor(), echo(std::move(s)), asio::detached);
    }
  }
  static asio::awaitable<void> echo(tcp::socket s) {
    std::array<char, 8192> buf;
    for (;;) {
      auto [ec, n] = co_await s.async_read_some(asio::buffer(buf), tok);
      if (ec) co_return;
      auto [wec, w] = co_await asio::async_write(s, asio::buffer(buf.data(), n), tok);
      if (wec) co_return;
    }
  }
};

class ssh_client_to_sshd : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    daemon = new interop::sshd({"MaxSessions 64", "AllowTcpForwarding yes", "LogLevel ERROR"});
  }
  static void TearDownTestSuite() {
    delete daemon;
    daemon = nullptr;
  }
  static inline interop::sshd* daemon = nullptr;
};

}  // namespace

TEST_F(ssh_client_to_sshd, exec_returns_stdout_stderr_and_exit_status) {
  with_client(*daemon, [](client<>& c, asio::io_context&) -> asio::awaitable<void> {
    auto [ec, r] = co_await c.async_exec("echo out; echo err >&2; exit 7", tok);
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(r.out, "out\n");
    // The fixture's sshd logs at DEBUG3 with -e, and its session child's early debug lines land
    // on the session's stderr before the command runs: the command's own output comes last.
    EXPECT_TRUE(r.err.ends_with("err\n")) << r.err;
    EXPECT_EQ(r.exit_status.value_or(99), 7u);
    auto [ec2, r2] = co_await c.async_exec("true", tok);
    EXPECT_FALSE(ec2);
    EXPECT_EQ(r2.exit_status.value_or(99), 0u);
    EXPECT_TRUE(r2.out.empty());
  });
}

TEST_F(ssh_client_to_sshd, exec_reports_the_signal_that_killed_the_command) {
  with_client(*daemon, [](client<>& c, asio::io_context&) -> asio::awaitable<void> {
    auto [ec, r] = co_await c.async_exec("kill -TERM $$", tok);
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_FALSE(r.exit_status);
    EXPECT_EQ(r.exit_signal.value_or(proto::exit_signal_request{}).signal, "TERM");
  });
}

TEST_F(ssh_client_to_sshd, hundred_mib_each_way_through_cat) {
  with_client(*daemon, [](client<>& c, asio::io_context&) -> asio::awaitable<void> {
    auto [ec, ch] = co_await c.async_open_exec("cat", tok);
    EXPECT_FALSE(ec) << ec.message();
    if (ec) co_return;
    constexpr std::size_t total = 100u << 20;
    auto [received, same] = co_await echo_through(ch, total);
    EXPECT_EQ(received, total);
    EXPECT_TRUE(same);
    co_await ch.async_wait_closed(tok);
    EXPECT_EQ(ch.exit_status().value_or(99), 0u);
  }, std::chrono::seconds{180});
}

// (sshd at DEBUG3 takes ~0.25 s per session to wind down, as it does for OpenSSH's own
// multiplexed sessions: this test takes ~12 s for that reason alone.)
TEST_F(ssh_client_to_sshd, fifty_channels_at_once_on_one_connection) {
  with_client(*daemon, [](client<>& c, asio::io_context& ioc) -> asio::awaitable<void> {
    constexpr int count = 50;
    int ok = 0, done = 0;
    std::string failures;
    for (int i = 0; i < count; ++i) {
      asio::co_spawn(ioc, [&, i]() -> asio::awaitable<void> {
        auto [ec, ch] = co_await c.async_open_exec("cat", tok);
        if (!ec) {
          auto [received, same] = co_await echo_through(ch, 100000 + i * 1000);
          if (received == std::size_t(100000 + i * 1000) && same) ++ok;
        } else {
          failures += ec.message() + ";";
        }
        ++done;
      }, asio::detached);
    }
    asio::steady_timer t{ioc};
    while (done < count) {
      t.expires_after(std::chrono::milliseconds{5});
      co_await t.async_wait(tok);
    }
    EXPECT_EQ(ok, count) << failures;
  });
}

TEST_F(ssh_client_to_sshd, direct_tcpip_reaches_a_local_echo_server) {
  with_client(*daemon, [](client<>& c, asio::io_context& ioc) -> asio::awaitable<void> {
    echo_server echo{ioc};
    auto [ec, ch] = co_await c.async_open_direct_tcpip("127.0.0.1", echo.port(), tok);
    EXPECT_FALSE(ec) << ec.message();
    if (ec) co_return;
    std::string msg(100000, 'q');
    co_await asio::async_write(ch, asio::buffer(msg), tok);
    std::string back(msg.size(), 0);
    auto [rec, n] = co_await asio::async_read(ch, asio::buffer(back), tok);
    EXPECT_FALSE(rec);
    EXPECT_EQ(back, msg);
    echo.acceptor.close();
  });
}

TEST_F(ssh_client_to_sshd, remote_forward_brings_connections_back_to_the_client) {
  with_client(*daemon, [](client<>& c, asio::io_context& ioc) -> asio::awaitable<void> {
    auto [ec, fwd] = co_await c.async_request_remote_forward("127.0.0.1", 0, tok);
    EXPECT_FALSE(ec) << ec.message();
    if (ec) co_return;
    const std::uint16_t port = fwd.port;
    EXPECT_NE(port, 0);
    // Serve forwarded channels with an echo.
    asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
      auto [aec, ch] = co_await c.async_accept_forwarded(tok);
      if (aec) co_return;
      proto::forwarded_tcpip_open info;
      EXPECT_FALSE(wire::decode(ch.open_data(), info));
      EXPECT_EQ(info.connected_port, port);
      std::array<char, 4096> buf;
      for (;;) {
        auto [rec, n] = co_await ch.async_read_some(asio::buffer(buf), tok);
        if (rec) break;
        co_await asio::async_write(ch, asio::buffer(buf.data(), n), tok);
      }
      ch.close();
    }, asio::detached);
    tcp::socket s{ioc};
    tcp::endpoint ep{asio::ip::address_v4::loopback(), port};
    auto [cec] = co_await s.async_connect(ep, tok);
    EXPECT_FALSE(cec) << cec.message();
    std::string msg = "through the remote forward";
    co_await asio::async_write(s, asio::buffer(msg), tok);
    std::string back(msg.size(), 0);
    auto [rec, n] = co_await asio::async_read(s, asio::buffer(back), tok);
    EXPECT_FALSE(rec) << rec.message();
    EXPECT_EQ(back, msg);
    s.close();
    auto [xec] = co_await c.async_cancel_remote_forward("127.0.0.1", port, tok);
    EXPECT_FALSE(xec) << xec.message();
  });
}

// ProxyJump: ferry -> sshd -> direct-tcpip to sshd again -> a second client over that channel,
// with its own handshake and authentication.
TEST_F(ssh_client_to_sshd, jump_through_a_direct_tcpip_channel) {
  with_client(*daemon, [](client<>& c, asio::io_context&) -> asio::awaitable<void> {
    auto [ec, ch] = co_await c.async_open_direct_tcpip("127.0.0.1", daemon->port(), tok);
    EXPECT_FALSE(ec) << ec.message();
    if (ec) co_return;
    client<channel> inner{options_for(*daemon), std::move(ch)};
    auto [hec] = co_await inner.async_handshake(tok);
    EXPECT_FALSE(hec) << hec.message();
    if (hec) co_return;
    auto [xec, r] = co_await inner.async_exec("echo jumped", tok);
    EXPECT_FALSE(xec) << xec.message();
    EXPECT_EQ(r.out, "jumped\n");
    co_await inner.async_disconnect(tok);
  });
}

TEST(ssh_client_to_sshd_rekey, rekey_during_a_transfer_loses_nothing) {
  interop::sshd d{{"RekeyLimit 1M", "LogLevel ERROR"}};
  std::size_t kexes = 0;
  with_client(d, [&](client<>& c, asio::io_context&) -> asio::awaitable<void> {
    auto [ec, ch] = co_await c.async_open_exec("cat", tok);
    EXPECT_FALSE(ec) << ec.message();
    if (ec) co_return;
    constexpr std::size_t total = 16u << 20;
    auto [received, same] = co_await echo_through(ch, total);
    EXPECT_EQ(received, total);
    EXPECT_TRUE(same);
    kexes = c.transport().machine().kex_count();
  });
  // sshd rekeys every MiB in each direction: many exchanges happened during the transfer.
  EXPECT_GE(kexes, 8u);
}

}  // namespace client_to_sshd_test
