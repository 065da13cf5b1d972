// Pre-authentication flood against ssh::server (issue #12): more unauthenticated TCP connections
// than max_startups (idle ones, ones that send a banner and stop inside the key exchange, ones that
// finish the key exchange and never authenticate). Past the limit new connections are closed at
// once without a banner and a legitimate login is refused; once the flood stops (the flooders
// leave, or the server drops them after its handshake timeout / login grace time) a legitimate
// ferry client logs in and runs a command.
#include <ferry/ssh/client.hpp>
#include <ferry/ssh/server.hpp>
#include <ferry/ssh/transport.hpp>
#include <ferry/test/random.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
using namespace ferry;
using tcp = asio::ip::tcp;

struct password_users {
  auth::method_set methods(const auth::request&) const { return {auth::method::password}; }
  auth::result check_password(const auth::request& r, byte_view pw) const {
    if (r.user != "tester" || as_chars(pw) != "secret") return std::nullopt;
    auth::grant g;
    g.user = "tester";
    return g;
  }
};

std::shared_ptr<const crypto::private_key> host_key() {
  static auto k = [] {
    test::fixed_random rng{12};
    return std::make_shared<const crypto::private_key>(
        crypto::private_key::generate(crypto::key_type::ed25519, rng));
  }();
  return k;
}

// ssh::server on two threads with short limits; "echo" answers "ok".
class flood_server {
 public:
  explicit flood_server(ssh::server_options o) {
    o.transport.host_keys.push_back(host_key());
    o.auth.failure_delay = std::chrono::milliseconds{1};
    srv_.emplace(ioc_.get_executor(), std::move(o), users_, [](const auth::grant&) {
      auto h = std::make_unique<ssh::routing_handler>();
      h->exec_programs["echo"] = [](ssh::session& s) -> asio::awaitable<ssh::session_exit> {
        std::string_view ok = "ok\n";
        co_await asio::async_write(s.channel(), asio::buffer(ok),
                                   asio::as_tuple(asio::use_awaitable));
        co_return ssh::session_exit{};
      };
      return std::unique_ptr<ssh::connection_handler>(std::move(h));
    });
    if (auto ec = srv_->listen({asio::ip::address_v4::loopback(), 0}))
      throw std::runtime_error("listen: " + ec.message());
    srv_->async_run([this](error_code) { run_done_ = true; });
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { ioc_.run(); });
  }
  ~flood_server() {
    srv_->stop();
    for (int i = 0; i < 1000 && !run_done_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds{10});
    ioc_.stop();
    for (auto& t : threads_) t.join();
  }
  std::uint16_t port() const { return srv_->local_endpoint().port(); }
  ssh::server& srv() { return *srv_; }

  // Polls (bounded) until pred holds.
  template <class Pred>
  bool wait_for(Pred pred, std::chrono::seconds limit = std::chrono::seconds{15}) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
      if (std::chrono::steady_clock::now() > until) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds{5});
    }
    return true;
  }

 private:
  password_users users_;
  asio::io_context ioc_;
  std::optional<ssh::server> srv_;
  std::atomic<bool> run_done_{false};
  std::vector<std::thread> threads_;
};

// A blocking loopback socket whose reads give up after 15 s (so a hang fails, not blocks).
tcp::socket connect_raw(asio::io_context& ioc, std::uint16_t port) {
  tcp::socket s{ioc};
  s.connect({asio::ip::address_v4::loopback(), port});
  timeval tv{15, 0};
  ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return s;
}

// Reads until the server ends the connection; returns what arrived and why it ended.
std::pair<std::string, error_code> read_to_end(tcp::socket& s) {
  std::string got;
  std::array<char, 4096> buf;
  for (;;) {
    error_code ec;
    auto n = s.read_some(asio::buffer(buf), ec);
    got.append(buf.data(), n);
    if (ec) return {got, ec};
  }
}

bool closed_by_server(const error_code& ec) {
  return ec == asio::error::eof || ec == asio::error::connection_reset;
}

// A legitimate login with the ferry client, then `echo`. Returns the error, or what echo printed.
std::pair<error_code, std::string> login_and_echo(std::uint16_t port) {
  asio::io_context ioc;
  ssh::client_options o;
  o.transport.verify_host_key = [](const ssh::host_key_info&) { return error_code{}; };
  o.transport.handshake_timeout = std::chrono::seconds{10};
  o.auth.user = "tester";
  o.auth.methods = {"password"};
  o.auth.password = [] {
    std::string_view pw = "secret";
    return std::optional<secure_bytes>{secure_bytes(pw.begin(), pw.end())};
  };
  ssh::client<> c{ioc.get_executor(), std::move(o)};
  std::pair<error_code, std::string> result;
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        constexpr auto tok = asio::as_tuple(asio::use_awaitable);
        auto [ec] = co_await c.async_connect("127.0.0.1", port, tok);
        if (ec) {
          result.first = ec;
          co_return;
        }
        auto [eec, r] = co_await c.async_exec("echo", tok);
        result = {eec, r.out};
        co_await c.async_disconnect(tok);
      },
      asio::detached);
  ioc.run_for(std::chrono::seconds{20});
  return result;
}

// Sends an identification line and the first bytes of a KEXINIT packet, then stops.
// Write errors are ignored: past max_startups the server may have closed the socket already.
void banner_and_half_a_kexinit(tcp::socket& s) {
  std::string_view id = "SSH-2.0-flood_0.1\r\n";
  error_code ignored;
  asio::write(s, asio::buffer(id), ignored);
  // packet_length 1020 (a valid length: 4 + 1020 is a multiple of 8), padding 4, KEXINIT (20),
  // 3 bytes of cookie: far from complete.
  const std::uint8_t part[] = {0, 0, 3, 252, 4, 20, 1, 2, 3};
  asio::write(s, asio::buffer(part), ignored);
}

}  // namespace

TEST(ssh_preauth_flood, connections_past_max_startups_are_closed_and_logins_work_once_the_flood_stops) {
  ssh::server_options o;
  o.max_startups = 6;
  flood_server d{o};
  asio::io_context ioc;
  std::vector<tcp::socket> flood;
  for (int i = 0; i < 3; ++i) flood.push_back(connect_raw(ioc, d.port()));  // idle
  for (int i = 0; i < 3; ++i) {
    flood.push_back(connect_raw(ioc, d.port()));
    banner_and_half_a_kexinit(flood.back());
  }
  ASSERT_TRUE(d.wait_for([&] { return d.srv().unauthenticated_count() == 6; }))
      << d.srv().unauthenticated_count() << " " << d.srv().connection_count();
  // Every connection past the limit is closed before a banner is sent.
  for (int i = 0; i < 10; ++i) {
    auto extra = connect_raw(ioc, d.port());
    banner_and_half_a_kexinit(extra);
    auto [got, ec] = read_to_end(extra);
    EXPECT_TRUE(closed_by_server(ec)) << ec.message();
    EXPECT_EQ(got, "") << "a connection past max_startups got a banner";
  }
  EXPECT_EQ(d.srv().unauthenticated_count(), 6u);
  // A legitimate client is refused too while the flood lasts.
  auto [refused, nothing] = login_and_echo(d.port());
  EXPECT_TRUE(refused);
  // The flooders leave: the slots free up and a real login works.
  flood.clear();
  ASSERT_TRUE(d.wait_for([&] { return d.srv().unauthenticated_count() == 0; }));
  auto [ec, out] = login_and_echo(d.port());
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(out, "ok\n");
  ASSERT_TRUE(d.wait_for([&] { return d.srv().connection_count() == 0; }));
}

TEST(ssh_preauth_flood, slow_peers_are_dropped_after_the_handshake_timeout_and_login_grace_time) {
  ssh::server_options o;
  o.max_startups = 4;
  o.transport.handshake_timeout = std::chrono::milliseconds{800};
  o.auth.login_grace_time = std::chrono::milliseconds{800};
  flood_server d{o};
  asio::io_context ioc;
  // Idle, stopped inside the key exchange, and (a real transport) stopped after the key exchange
  // and the service request, never authenticating.
  auto idle = connect_raw(ioc, d.port());
  auto half_kex = connect_raw(ioc, d.port());
  banner_and_half_a_kexinit(half_kex);
  ssh::transport_options to;
  to.verify_host_key = [](const ssh::host_key_info&) { return error_code{}; };
  ssh::transport<tcp::socket> no_auth{ssh::role::client, to, connect_raw(ioc, d.port())};
  std::optional<error_code> no_auth_end;
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        constexpr auto tok = asio::as_tuple(asio::use_awaitable);
        auto [hec] = co_await no_auth.async_handshake(tok);
        EXPECT_FALSE(hec) << hec.message();
        auto [sec] = co_await no_auth.async_request_service("ssh-userauth", tok);
        EXPECT_FALSE(sec) << sec.message();
        bytes in;
        for (;;) {  // wait for the server to give up on us
          auto [ec, n] = co_await no_auth.async_read_packet(in, tok);
          if (ec) {
            no_auth_end = ec;
            co_return;
          }
        }
      },
      asio::detached);
  ioc.run_for(std::chrono::seconds{15});
  ASSERT_TRUE(no_auth_end.has_value()) << "the server kept a connection that never authenticated";
  EXPECT_TRUE(*no_auth_end) << "ended without an error";
  for (auto* s : {&idle, &half_kex}) {
    auto [got, ec] = read_to_end(*s);
    EXPECT_TRUE(closed_by_server(ec)) << ec.message();
    EXPECT_EQ(got.rfind("SSH-2.0-", 0), 0u);  // it was greeted, then dropped
  }
  ASSERT_TRUE(d.wait_for([&] { return d.srv().unauthenticated_count() == 0; }));
  EXPECT_EQ(d.srv().connection_count(), 0u);
  auto [ec, out] = login_and_echo(d.port());
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(out, "ok\n");
}
