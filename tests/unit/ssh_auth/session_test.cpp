// ssh::async_authenticate against ssh::async_accept_auth over real transports on test::stream:
// every method end to end, partial success, MaxAuthTries, LoginGraceTime, banners.
#include "auth_test_util.hpp"

#include <ferry/ssh/userauth.hpp>
#include <ferry/test/stream.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <optional>

namespace session_test {
namespace asio = boost::asio;
using namespace ferry;
using namespace ferry::ssh;
using namespace ferry::ssh_auth_test;
using transport_t = transport<test::stream>;

namespace {

constexpr auto tok = asio::as_tuple(asio::use_awaitable);
constexpr auto rethrow = [](std::exception_ptr e) {
  if (e) std::rethrow_exception(e);
};

struct outcome {
  error_code client_ec, server_ec;
  auth::grant grant;
  bool client_done = false, server_done = false;
};

// Runs a client with c against a server with s over a fresh transport pair.
template <class Auth>
outcome run(client_auth_options c, server_auth_options s, const Auth& a,
            std::chrono::seconds limit = std::chrono::seconds{20}) {
  asio::io_context ioc;
  auto [x, y] = test::make_stream_pair(ioc.get_executor());
  transport_options co;
  co.verify_host_key = [](const host_key_info&) { return error_code{}; };
  transport_options so;
  so.host_keys.push_back(key(crypto::key_type::ed25519, 50));
  transport_t client{role::client, co, std::move(x)};
  transport_t server{role::server, so, std::move(y)};
  outcome o;
  asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
    auto [ec] = co_await client.async_handshake(tok);
    if (!ec) std::tie(ec) = co_await async_authenticate(client, std::move(c), tok);
    o.client_ec = ec;
    o.client_done = true;
    if (!ec) co_await client.async_disconnect(disconnect_reason::by_application, "done", tok);
  }, rethrow);
  asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
    auto [ec] = co_await server.async_handshake(tok);
    if (!ec) {
      auto [e2, g] = co_await async_accept_auth(server, a, std::move(s), tok);
      ec = e2;
      o.grant = std::move(g);
    }
    o.server_ec = ec;
    o.server_done = true;
  }, rethrow);
  ioc.run_for(limit);
  return o;
}

server_auth_options fast_server() {
  server_auth_options s;
  s.failure_delay = std::chrono::milliseconds{0};
  return s;
}

client_auth_options alice() {
  client_auth_options c;
  c.user = "alice";
  return c;
}

}  // namespace

TEST(ssh_auth_session, publickey_succeeds_for_every_key_type) {
  auto a = make_authenticator();
  for (auto t : {crypto::key_type::ed25519, crypto::key_type::ecdsa_p256, crypto::key_type::ecdsa_p384,
                 crypto::key_type::ecdsa_p521, crypto::key_type::rsa}) {
    auto c = alice();
    c.identities.push_back(identity_from_key(key(t)));
    auto o = run(c, fast_server(), a);
    EXPECT_TRUE(o.client_done && o.server_done);
    EXPECT_FALSE(o.client_ec) << o.client_ec.message();
    EXPECT_FALSE(o.server_ec) << o.server_ec.message();
    EXPECT_EQ(o.grant.user, "alice");
  }
}

TEST(ssh_auth_session, unlisted_key_is_skipped_and_the_next_identity_succeeds) {
  auto a = make_authenticator();
  auto c = alice();
  c.identities.push_back(identity_from_key(key(crypto::key_type::ed25519, 3)));  // not listed
  c.identities.push_back(identity_from_key(key(crypto::key_type::ecdsa_p256)));
  auto o = run(c, fast_server(), a);
  EXPECT_FALSE(o.client_ec) << o.client_ec.message();
  EXPECT_EQ(o.grant.user, "alice");
}

TEST(ssh_auth_session, password_succeeds_and_wrong_password_fails) {
  auto a = make_authenticator();
  auto c = alice();
  c.methods = {"password"};
  c.password = [] { return std::optional{secret("correct horse")}; };
  auto o = run(c, fast_server(), a);
  EXPECT_FALSE(o.client_ec) << o.client_ec.message();
  EXPECT_EQ(o.grant.user, "alice");

  c.password = [] { return std::optional{secret("wrong horse")}; };
  o = run(c, fast_server(), a);
  EXPECT_EQ(o.client_ec, disconnect_reason::no_more_auth_methods_available);
  EXPECT_TRUE(o.server_ec);
  EXPECT_TRUE(o.grant.user.empty());
}

TEST(ssh_auth_session, keyboard_interactive_answers_the_password_prompt) {
  auto a = make_authenticator();
  client_auth_options c;
  c.user = "bob";
  c.methods = {"keyboard-interactive"};
  std::vector<std::string> seen;
  c.keyboard_interactive = [&](const auth::challenge& ch) {
    for (const auto& p : ch.prompts) seen.push_back(p.text);
    return std::optional{std::vector<secure_bytes>{secret("bob's secret")}};
  };
  auto o = run(c, fast_server(), a);
  EXPECT_FALSE(o.client_ec) << o.client_ec.message();
  EXPECT_EQ(o.grant.user, "bob");
  EXPECT_EQ(seen, std::vector<std::string>{"Password: "});
}

TEST(ssh_auth_session, partial_success_requires_publickey_then_password) {
  auto a = make_authenticator();
  auto s = fast_server();
  s.required_chains = {{auth::method::publickey, auth::method::password}};
  // Password alone is not enough.
  auto c = alice();
  c.methods = {"password"};
  c.password = [] { return std::optional{secret("correct horse")}; };
  auto o = run(c, s, a);
  EXPECT_EQ(o.client_ec, disconnect_reason::no_more_auth_methods_available);
  // Key then password is.
  c.methods = {"publickey", "password"};
  c.identities.push_back(identity_from_key(key(crypto::key_type::ed25519)));
  o = run(c, s, a);
  EXPECT_FALSE(o.client_ec) << o.client_ec.message();
  EXPECT_EQ(o.grant.user, "alice");
  // Key then wrong password is not.
  c.password = [] { return std::optional{secret("nope")}; };
  o = run(c, s, a);
  EXPECT_EQ(o.client_ec, disconnect_reason::no_more_auth_methods_available);
}

TEST(ssh_auth_session, max_auth_tries_disconnects_at_the_limit) {
  auto a = make_authenticator();
  auto s = fast_server();
  s.max_auth_tries = 3;
  auto c = alice();
  for (int i = 10; i < 20; ++i) c.identities.push_back(identity_from_key(key(crypto::key_type::ed25519, i)));
  c.identities.push_back(identity_from_key(key(crypto::key_type::ed25519)));  // would succeed
  auto o = run(c, s, a);
  EXPECT_EQ(o.server_ec, disconnect_reason::no_more_auth_methods_available);
  EXPECT_EQ(o.client_ec, disconnect_reason::no_more_auth_methods_available);
  EXPECT_TRUE(o.grant.user.empty());
}

TEST(ssh_auth_session, banner_reaches_the_client_callback) {
  auto a = make_authenticator();
  auto s = fast_server();
  s.banner = "Authorised use only\r\n";
  auto c = alice();
  c.identities.push_back(identity_from_key(key(crypto::key_type::ed25519)));
  std::string got;
  c.banner = [&](std::string_view b) { got = b; };
  auto o = run(c, s, a);
  EXPECT_FALSE(o.client_ec);
  EXPECT_EQ(got, "Authorised use only\r\n");
}

TEST(ssh_auth_session, login_grace_time_closes_an_idle_client) {
  auto a = make_authenticator();
  asio::io_context ioc;
  auto [x, y] = test::make_stream_pair(ioc.get_executor());
  transport_options co;
  co.verify_host_key = [](const host_key_info&) { return error_code{}; };
  transport_options so;
  so.host_keys.push_back(key(crypto::key_type::ed25519, 50));
  transport_t client{role::client, co, std::move(x)};
  transport_t server{role::server, so, std::move(y)};
  error_code sec;
  bool done = false;
  auto start = std::chrono::steady_clock::now();
  asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
    co_await client.async_handshake(tok);
    co_await client.async_request_service("ssh-userauth", tok);
    bytes in;
    co_await client.async_read_packet(in, tok);  // never answered: waits until the server closes
  }, rethrow);
  asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
    co_await server.async_handshake(tok);
    auto s = fast_server();
    s.login_grace_time = std::chrono::milliseconds{200};
    auto [ec, g] = co_await async_accept_auth(server, a, s, tok);
    sec = ec;
    done = true;
  }, rethrow);
  ioc.run_for(std::chrono::seconds{10});
  EXPECT_TRUE(done);
  EXPECT_EQ(sec, asio::error::timed_out);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds{5});
}

TEST(ssh_auth_session, failed_attempts_take_at_least_the_failure_delay) {
  auto a = make_authenticator();
  auto s = fast_server();
  s.failure_delay = std::chrono::milliseconds{150};
  client_auth_options c;
  c.user = "nobody";  // unknown user, unknown key: fails fast without the delay
  c.methods = {"publickey"};
  c.identities.push_back(identity_from_key(key(crypto::key_type::ed25519, 5)));
  auto start = std::chrono::steady_clock::now();
  auto o = run(c, s, a);
  EXPECT_EQ(o.client_ec, disconnect_reason::no_more_auth_methods_available);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds{150});
}

TEST(ssh_auth_session, client_sending_success_or_a_channel_open_before_auth_is_disconnected) {
  // CVE-2018-10933 (USERAUTH_SUCCESS from the client) and CVE-2025-32433 (connection messages
  // before authentication), over a real transport: the server ends with protocol_error, no grant.
  auto a = make_authenticator();
  for (std::uint8_t id : {std::uint8_t{52}, std::uint8_t{90}, std::uint8_t{98}}) {
    asio::io_context ioc;
    auto [x, y] = test::make_stream_pair(ioc.get_executor());
    transport_options co;
    co.verify_host_key = [](const host_key_info&) { return error_code{}; };
    transport_options so;
    so.host_keys.push_back(key(crypto::key_type::ed25519, 50));
    transport_t client{role::client, co, std::move(x)};
    transport_t server{role::server, so, std::move(y)};
    error_code sec;
    auth::grant g;
    bool done = false;
    asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
      co_await client.async_handshake(tok);
      co_await client.async_request_service("ssh-userauth", tok);
      bytes evil{id, 0, 0, 0, 7, 's', 'e', 's', 's', 'i', 'o', 'n', 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0x40, 0};
      co_await client.async_write_packet(evil, tok);
      bytes in;
      co_await client.async_read_packet(in, tok);
    }, rethrow);
    asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
      co_await server.async_handshake(tok);
      auto [ec, gr] = co_await async_accept_auth(server, a, fast_server(), tok);
      sec = ec;
      g = gr;
      done = true;
    }, rethrow);
    ioc.run_for(std::chrono::seconds{10});
    EXPECT_TRUE(done);
    EXPECT_EQ(sec, disconnect_reason::protocol_error) << int(id);
    EXPECT_TRUE(g.user.empty());
  }
}

}  // namespace session_test
