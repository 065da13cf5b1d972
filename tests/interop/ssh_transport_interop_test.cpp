// The transport against OpenSSH 9.2 in both directions, one algorithm forced per run:
//  - ferry client -> private sshd: key exchange, NEWKEYS, SERVICE_ACCEPT for ssh-userauth;
//  - OpenSSH ssh -vvv -> ferry server: the client's log shows the algorithm, NEWKEYS both ways and
//    strict kex (ssh then fails at authentication, which ferry's transport does not provide).
#include "sshd_fixture.hpp"

#include <ferry/crypto/random.hpp>
#include <ferry/ssh/keys/private_key.hpp>
#include <ferry/ssh/transport.hpp>
#include <ferry/ssh/userauth.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <mutex>
#include <thread>

namespace ssh_transport_interop_test {
namespace asio = boost::asio;
using asio::ip::tcp;
using namespace ferry;
using namespace ferry::ssh;

namespace {

constexpr auto tok = asio::as_tuple(asio::use_awaitable);

struct client_run {
  error_code ec;
  bool strict = false;
  std::string kex, host_key, cipher, mac, compression;
  std::size_t kexes = 0;
  std::string hook_algorithm;
};

// Connects a ferry client, handshakes and requests ssh-userauth.
client_run run_client(unsigned short port, transport_options o) {
  client_run r;
  asio::io_context ioc;
  o.verify_host_key = [&r](const host_key_info& k) {
    r.hook_algorithm = std::string{k.algorithm->name};
    return error_code{};
  };
  tcp::socket sock{ioc};
  sock.connect({asio::ip::address_v4::loopback(), port});
  sock.set_option(tcp::no_delay{true});
  transport<tcp::socket> t{role::client, std::move(o), std::move(sock)};
  asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
    auto [ec] = co_await t.async_handshake(tok);
    if ((r.ec = ec)) co_return;
    auto [ec2] = co_await t.async_request_service("ssh-userauth", tok);
    r.ec = ec2;
    co_await t.async_disconnect(disconnect_reason::by_application, "done", tok);
  }, asio::detached);
  ioc.run_for(std::chrono::seconds{20});
  const auto& n = t.machine().algorithms();
  r.strict = t.machine().strict_kex();
  if (n.kex) {
    r.kex = n.kex->name;
    r.host_key = n.host_key->name;
    r.cipher = n.cipher_c2s->name;
    r.mac = n.mac_c2s ? std::string{n.mac_c2s->name} : "";
    r.compression = n.compression_c2s->name;
  }
  r.kexes = t.machine().kex_count();
  return r;
}

class ferry_client_to_sshd : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    daemon = new interop::sshd({"KexAlgorithms +diffie-hellman-group14-sha1",
                                "HostKeyAlgorithms +ssh-rsa", "Compression yes"});
  }
  static void TearDownTestSuite() {
    delete daemon;
    daemon = nullptr;
  }
  static interop::sshd* daemon;

  transport_options forced(void (*edit)(algorithm_preferences&, const std::string&), const std::string& name) {
    transport_options o;
    o.algorithms = legacy_preferences();
    edit(o.algorithms, name);
    return o;
  }
};

interop::sshd* ferry_client_to_sshd::daemon = nullptr;

}  // namespace

TEST_F(ferry_client_to_sshd, every_kex_reaches_service_accept_with_strict_kex) {
  for (const auto& kex : legacy_preferences().kex) {
    auto r = run_client(daemon->port(), forced([](auto& a, const auto& n) { a.kex = {n}; }, kex));
    EXPECT_FALSE(r.ec) << kex << ": " << r.ec.message() << "\n" << daemon->log().substr(0, 0);
    EXPECT_EQ(r.kex, kex);
    EXPECT_TRUE(r.strict) << kex;
  }
}

TEST_F(ferry_client_to_sshd, every_host_key_algorithm_verifies) {
  for (const auto& hk : legacy_preferences().host_key) {
    auto r = run_client(daemon->port(), forced([](auto& a, const auto& n) { a.host_key = {n}; }, hk));
    EXPECT_FALSE(r.ec) << hk << ": " << r.ec.message();
    EXPECT_EQ(r.host_key, hk);
    EXPECT_EQ(r.hook_algorithm, hk);
  }
}

TEST_F(ferry_client_to_sshd, every_cipher_and_mac_carries_packets) {
  for (const auto& c : legacy_preferences().cipher) {
    auto r = run_client(daemon->port(), forced([](auto& a, const auto& n) { a.cipher = {n}; }, c));
    EXPECT_FALSE(r.ec) << c << ": " << r.ec.message();
    EXPECT_EQ(r.cipher, c);
  }
  for (const auto& m : legacy_preferences().mac) {
    auto o = forced([](auto& a, const auto& n) { a.mac = {n}; }, m);
    o.algorithms.cipher = {"aes128-ctr"};
    auto r = run_client(daemon->port(), o);
    EXPECT_FALSE(r.ec) << m << ": " << r.ec.message();
    EXPECT_EQ(r.mac, m);
  }
}

TEST_F(ferry_client_to_sshd, delayed_compression_is_negotiated) {
  auto o = forced([](auto& a, const auto& n) { a.compression = {n}; }, "zlib@openssh.com");
  auto r = run_client(daemon->port(), o);
  EXPECT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.compression, "zlib@openssh.com");
}

// OpenSSH accepts a key re-exchange only after user authentication (sshd and ssh both refuse
// KEXINIT while authenticating), so these log in with a key first (ferry's userauth client), then
// send 1 KiB IGNORE packets, each round closed by a global request whose reply proves that every
// KEXINIT sent before it was handled.
std::size_t rekeys_after_auth(const interop::sshd& daemon, std::uint64_t client_rekey_bytes,
                              error_code& result) {
  keys::key_file kf;
  if ((result = keys::read_private_key_file(daemon.user_key(), {}, kf))) return 0;
  auto key = std::make_shared<const crypto::private_key>(std::move(kf.key));
  asio::io_context ioc;
  tcp::socket sock{ioc};
  sock.connect({asio::ip::address_v4::loopback(), daemon.port()});
  transport_options o;
  o.rekey_bytes = client_rekey_bytes;
  o.verify_host_key = [](const host_key_info&) { return error_code{}; };
  transport<tcp::socket> t{role::client, std::move(o), std::move(sock)};
  asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
    auto [ec] = co_await t.async_handshake(tok);
    if ((result = ec)) co_return;
    client_auth_options a;
    a.user = "root";
    a.methods = {"publickey"};
    a.identities.push_back(proto::identity_from_key(key));
    auto [ec2] = co_await async_authenticate(t, std::move(a), tok);
    if ((result = ec2)) co_return;
    // Eight rounds of 32 KiB; sshd checks its rekey limit between rounds of its main loop, so
    // each round waits for the reply to a global request.
    for (int round = 0; round < 8; ++round) {
      for (int i = 0; i < 32; ++i) {
        bytes p = wire::encode(proto::ignore{bytes(1024, std::uint8_t(i))});
        auto [e] = co_await t.async_write_packet(p, tok);
        if ((result = e)) co_return;
      }
      // RFC 4254 §4 SSH_MSG_GLOBAL_REQUEST "keepalive@openssh.com", want reply: sshd answers
      // REQUEST_FAILURE (82).
      bytes req{80};
      wire::writer w{req};
      w.string(std::string_view{"keepalive@openssh.com"});
      w.boolean(true);
      auto [e3] = co_await t.async_write_packet(req, tok);
      if ((result = e3)) co_return;
      // sshd's own hostkeys-00@openssh.com request (80, no reply wanted) may come first.
      bytes reply;
      do {
        auto [e4, n] = co_await t.async_read_packet(reply, tok);
        if ((result = e4)) co_return;
      } while (!reply.empty() && reply[0] == 80);
      if (reply.empty() || reply[0] != 82) {
        result = make_error_code(errc::unexpected_message);
        co_return;
      }
    }
    co_await t.async_disconnect(disconnect_reason::by_application, "done", tok);
  }, asio::detached);
  ioc.run_for(std::chrono::seconds{20});
  return t.machine().kex_count();
}

// sshd answers a KEXINIT during authentication with UNIMPLEMENTED: the exchange fails at once
// instead of waiting forever.
TEST_F(ferry_client_to_sshd, rekey_refused_before_auth_fails_fast) {
  asio::io_context ioc;
  tcp::socket sock{ioc};
  sock.connect({asio::ip::address_v4::loopback(), daemon->port()});
  transport_options o;
  o.verify_host_key = [](const host_key_info&) { return error_code{}; };
  transport<tcp::socket> t{role::client, std::move(o), std::move(sock)};
  error_code result;
  asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
    auto [ec] = co_await t.async_handshake(tok);
    if ((result = ec)) co_return;
    auto [ec2] = co_await t.async_request_service("ssh-userauth", tok);
    if ((result = ec2)) co_return;
    t.rekey();
    bytes p = wire::encode(proto::ignore{{1}});
    auto [ec3] = co_await t.async_write_packet(p, tok);  // waits for the exchange
    result = ec3;
  }, asio::detached);
  auto start = std::chrono::steady_clock::now();
  ioc.run_for(std::chrono::seconds{10});
  EXPECT_EQ(result, disconnect_reason::key_exchange_failed);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds{5});
}

TEST(ferry_client_rekey, follows_rekeys_sshd_starts_with_rekeylimit_16k) {
  interop::sshd daemon{{"RekeyLimit 16K"}};
  error_code ec;
  auto kexes = rekeys_after_auth(daemon, 0, ec);
  EXPECT_FALSE(ec) << ec.message() << "\n" << daemon.log();
  EXPECT_GE(kexes, 5u) << daemon.log();  // 256 KiB at 16 KiB per key
}

TEST(ferry_client_rekey, rekeys_every_16k_itself_against_sshd) {
  interop::sshd daemon{{"RekeyLimit 1G"}};
  error_code ec;
  auto kexes = rekeys_after_auth(daemon, 16 * 1024, ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_GE(kexes, 5u);
  EXPECT_NE(daemon.log().find("SSH2_MSG_KEXINIT received"), std::string::npos);
}

// --- OpenSSH client -> ferry server ---------------------------------------------------------------

namespace {

struct server_run {
  error_code ec;
  bool strict = false;
  std::size_t kexes = 0;
};

// A ferry server on 127.0.0.1 in a background thread. Each connection: handshake, then the first
// upper-layer packet (USERAUTH_REQUEST) is answered with DISCONNECT: this suite is about the
// transport, authentication has its own.
class ferry_server {
 public:
  ferry_server() : acceptor_(ioc_, {asio::ip::address_v4::loopback(), 0}) {
    for (auto t : {crypto::key_type::ed25519, crypto::key_type::ecdsa_p256, crypto::key_type::ecdsa_p384,
                   crypto::key_type::ecdsa_p521, crypto::key_type::rsa})
      keys_.push_back(std::make_shared<const crypto::private_key>(
          crypto::private_key::generate(t, crypto::system_random(), 2048)));
    asio::co_spawn(ioc_, accept_loop(), asio::detached);
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~ferry_server() {
    ioc_.stop();
    thread_.join();
  }
  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  std::vector<server_run> runs() {
    std::lock_guard l{m_};
    return runs_;
  }

 private:
  asio::awaitable<void> accept_loop() {
    while (true) {
      auto [ec, sock] = co_await acceptor_.async_accept(tok);
      if (ec) co_return;
      asio::co_spawn(ioc_, serve(std::move(sock)), asio::detached);
    }
  }

  asio::awaitable<void> serve(tcp::socket sock) {
    transport_options o;
    o.algorithms = legacy_preferences();
    o.host_keys = keys_;
    transport<tcp::socket> t{role::server, o, std::move(sock)};
    server_run r;
    auto [ec] = co_await t.async_handshake(tok);
    r.ec = ec;
    if (!ec) {
      bytes in;
      auto [e2, n] = co_await t.async_read_packet(in, tok);
      if (!r.ec) r.ec = e2;
      co_await t.async_disconnect(disconnect_reason::no_more_auth_methods_available,
                                  "authentication is not implemented", tok);
    }
    r.strict = t.machine().strict_kex();
    r.kexes = t.machine().kex_count();
    std::lock_guard l{m_};
    runs_.push_back(r);
  }

  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::vector<std::shared_ptr<const crypto::private_key>> keys_;
  std::thread thread_;
  std::mutex m_;
  std::vector<server_run> runs_;
};

void expect_handshake_in_log(const interop::ssh_result& r, const std::string& what) {
  EXPECT_NE(r.log.find("SSH2_MSG_NEWKEYS sent"), std::string::npos) << what << "\n" << r.log;
  EXPECT_NE(r.log.find("SSH2_MSG_NEWKEYS received"), std::string::npos) << what;
  EXPECT_NE(r.log.find("will use strict KEX ordering"), std::string::npos) << what;
  EXPECT_NE(r.log.find("SSH2_MSG_SERVICE_ACCEPT received"), std::string::npos) << what;
  EXPECT_NE(r.status, 0) << what;  // authentication cannot succeed yet
}

}  // namespace

TEST(openssh_client_to_ferry_server, every_algorithm_forced_shows_newkeys_both_ways) {
  ferry_server server;
  auto prefs = legacy_preferences();
  auto server_host_keys = prefs.host_key;
  std::erase(server_host_keys, "ssh-rsa");  // verify-only: a ferry server never signs SHA-1
  struct row {
    const char* option;
    std::vector<std::string> names;
    const char* log_prefix;
  } rows[] = {
      {"KexAlgorithms", prefs.kex, "kex: algorithm: "},
      {"HostKeyAlgorithms", server_host_keys, "kex: host key algorithm: "},
      {"Ciphers", prefs.cipher, "kex: server->client cipher: "},
      {"MACs", prefs.mac, "MAC: "},
  };
  std::size_t runs = 0;
  for (const auto& row : rows) {
    for (const auto& name : row.names) {
      std::vector<std::string> extra{"-o", std::string{row.option} + "=" + name};
      if (std::string_view{row.option} == "MACs") {
        extra.push_back("-o");
        extra.push_back("Ciphers=aes256-ctr");
      }
      auto r = interop::run_ssh(server.port(), extra);
      expect_handshake_in_log(r, name);
      EXPECT_NE(r.log.find(row.log_prefix + name), std::string::npos) << name << "\n" << r.log;
      ++runs;
    }
  }
  auto results = server.runs();
  ASSERT_EQ(results.size(), runs);
  for (const auto& r : results) {
    EXPECT_TRUE(r.strict);
    EXPECT_FALSE(r.ec) << r.ec.message();
  }
}

TEST(openssh_client_to_ferry_server, compression_is_negotiated) {
  ferry_server server;
  auto r = interop::run_ssh(server.port(), {"-o", "Compression=yes"});
  expect_handshake_in_log(r, "compression");
  EXPECT_NE(r.log.find("compression: zlib@openssh.com"), std::string::npos) << r.log;
}

TEST(openssh_client_to_ferry_server, ssh_rsa_sha1_is_never_offered_by_the_server) {
  ferry_server server;
  auto r = interop::run_ssh(server.port(), {"-o", "HostKeyAlgorithms=ssh-rsa"});
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.log.find("no matching host key type found"), std::string::npos) << r.log;
}

}  // namespace ssh_transport_interop_test
