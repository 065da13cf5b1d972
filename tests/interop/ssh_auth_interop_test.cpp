// User authentication and host keys against OpenSSH 9.2, both ways:
//  - ferry client -> private sshd: publickey with every key type from ssh-keygen files and from a
//    real ssh-agent (started here, stopped by pid); unlisted keys refused; known_hosts made by
//    ssh-keyscan (plain and ssh-keygen -H hashed) verify, a changed or revoked key is refused.
//  - OpenSSH ssh -> ferry server: publickey, password (sshpass) and keyboard-interactive succeed
//    ("Authenticated to" in ssh -v, the grant on the server); a wrong password and an unlisted key
//    are refused; MaxAuthTries disconnects.
// sshd password logins are not tested: without PAM (UsePAM no in a sandbox) sshd checks the
// system's shadow passwords, and the test must not give a system account a password.
#include "sshd_fixture.hpp"

#include <ferry/auth/authorized_keys.hpp>
#include <ferry/auth/composite.hpp>
#include <ferry/auth/known_hosts.hpp>
#include <ferry/auth/static_users.hpp>
#include <ferry/crypto/password.hpp>
#include <ferry/crypto/random.hpp>
#include <ferry/ssh/agent.hpp>
#include <ferry/ssh/keys/private_key.hpp>
#include <ferry/ssh/keys/public_key.hpp>
#include <ferry/ssh/proto/host_key.hpp>
#include <ferry/ssh/userauth.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <mutex>
#include <thread>

namespace ssh_auth_interop_test {
namespace asio = boost::asio;
using asio::ip::tcp;
using namespace ferry;
using namespace ferry::ssh;
namespace stdfs = std::filesystem;

namespace {

constexpr auto tok = asio::as_tuple(asio::use_awaitable);
constexpr auto rethrow = [](std::exception_ptr e) {
  if (e) std::rethrow_exception(e);
};

struct login_result {
  error_code handshake;
  error_code auth;
};

host_key_verifier accept_any() {
  return [](const host_key_info&) { return error_code{}; };
}

// A ferry client: handshake, then ssh-userauth with c (skipped when c.user is empty).
login_result ferry_login(unsigned short port, client_auth_options c, host_key_verifier v) {
  login_result r;
  asio::io_context ioc;
  transport_options o;
  o.verify_host_key = std::move(v);
  tcp::socket sock{ioc};
  sock.connect({asio::ip::address_v4::loopback(), port});
  transport<tcp::socket> t{role::client, std::move(o), std::move(sock)};
  asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
    auto [ec] = co_await t.async_handshake(tok);
    r.handshake = ec;
    if (ec || c.user.empty()) co_return;
    auto [ec2] = co_await async_authenticate(t, std::move(c), tok);
    r.auth = ec2;
    if (!ec2) co_await t.async_disconnect(disconnect_reason::by_application, "done", tok);
  }, rethrow);
  ioc.run_for(std::chrono::seconds{20});
  return r;
}

struct key_spec {
  std::string type;
  int bits;
};
const key_spec specs[] = {{"ed25519", 0}, {"ecdsa", 256}, {"ecdsa", 384}, {"ecdsa", 521}, {"rsa", 3072}};

stdfs::path make_key(const interop::temp_dir& dir, const std::string& name, const key_spec& s,
                  const std::string& pass = "") {
  auto path = dir / name;
  std::vector<std::string> argv{"ssh-keygen", "-q", "-t", s.type, "-N", pass, "-a", "4", "-C", name,
                                "-f", path.string()};
  if (s.bits) {
    argv.push_back("-b");
    argv.push_back(std::to_string(s.bits));
  }
  if (interop::run(argv, dir / "keygen.log") != 0) throw std::runtime_error("ssh-keygen failed");
  return path;
}

std::string fingerprint_of_pub(const stdfs::path& pub) {
  crypto::public_key k;
  if (keys::parse_public_key_line(interop::read_file(pub), k)) return "?";
  return keys::fingerprint_sha256(k);
}

// --- ferry client -> sshd -------------------------------------------------------------------

class ssh_auth_client_to_sshd : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    daemon = new interop::sshd({"PasswordAuthentication no", "KbdInteractiveAuthentication no",
                                "MaxAuthTries 6"});
    dir = new interop::temp_dir{"ferry-auth-keys-"};
    int n = 0;
    for (const auto& s : specs) {
      // The RSA key is passphrase-protected: loading it exercises bcrypt_pbkdf + aes256-ctr.
      auto pass = s.type == "rsa" ? std::string{"rsa pass"} : std::string{};
      auto k = make_key(*dir, "user" + std::to_string(n++), s, pass);
      std::ofstream{daemon->dir() / "authorized_keys", std::ios::app}
          << interop::read_file(k.string() + ".pub");
      user_keys.push_back({k, pass});
    }
  }
  static void TearDownTestSuite() {
    delete dir;
    delete daemon;
    user_keys.clear();
  }

  static client_auth_options root_with(std::vector<client_identity> ids) {
    client_auth_options c;
    c.user = "root";
    c.identities = std::move(ids);
    return c;
  }

  static inline interop::sshd* daemon = nullptr;
  static inline interop::temp_dir* dir = nullptr;
  static inline std::vector<std::pair<stdfs::path, std::string>> user_keys;
};

TEST_F(ssh_auth_client_to_sshd, publickey_from_key_files_succeeds_for_every_key_type) {
  for (const auto& [path, pass] : user_keys) {
    SCOPED_TRACE(path.filename().string());
    keys::key_file k;
    ASSERT_FALSE(keys::read_private_key_file(path, as_bytes(pass), k));
    auto key = std::make_shared<const crypto::private_key>(std::move(k.key));
    auto r = ferry_login(daemon->port(), root_with({identity_from_key(key)}), accept_any());
    ASSERT_FALSE(r.handshake) << r.handshake.message();
    EXPECT_FALSE(r.auth) << r.auth.message() << "\n" << daemon->log();
    // sshd logs the key it accepted by its fingerprint.
    EXPECT_NE(daemon->log().find("Accepted publickey for root from 127.0.0.1"), std::string::npos);
    EXPECT_NE(daemon->log().find(fingerprint_of_pub(path.string() + ".pub")), std::string::npos);
  }
  // RFC 8332: with server-sig-algs from sshd the RSA key signs with rsa-sha2-512.
  EXPECT_NE(daemon->log().find("rsa-sha2-512"), std::string::npos);
}

TEST_F(ssh_auth_client_to_sshd, unlisted_key_is_refused_and_a_listed_one_after_it_succeeds) {
  auto stranger = std::make_shared<const crypto::private_key>(keys::generate_key(crypto::key_type::ed25519));
  auto r = ferry_login(daemon->port(), root_with({identity_from_key(stranger)}), accept_any());
  ASSERT_FALSE(r.handshake);
  EXPECT_EQ(r.auth, disconnect_reason::no_more_auth_methods_available);

  keys::key_file k;
  ASSERT_FALSE(keys::read_private_key_file(user_keys[0].first, {}, k));
  auto listed = std::make_shared<const crypto::private_key>(std::move(k.key));
  r = ferry_login(daemon->port(), root_with({identity_from_key(stranger), identity_from_key(listed)}),
                  accept_any());
  EXPECT_FALSE(r.auth) << r.auth.message();
}

TEST_F(ssh_auth_client_to_sshd, publickey_through_a_real_ssh_agent_for_every_key_type) {
  interop::temp_dir adir{"ferry-agent-"};
  auto sock = (adir / "agent.sock").string();
  interop::process agent{{"ssh-agent", "-D", "-a", sock}, adir / "agent.log"};
  for (int i = 0; i < 400 && !stdfs::exists(sock); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  ASSERT_TRUE(stdfs::exists(sock)) << interop::read_file(adir / "agent.log");
  for (const auto& [path, pass] : user_keys) {
    if (!pass.empty()) continue;  // ssh-add would ask for it
    ASSERT_EQ(interop::run({"env", "SSH_AUTH_SOCK=" + sock, "ssh-add", path.string()}, adir / "add.log"), 0)
        << interop::read_file(adir / "add.log");
  }
  // The passphrase-protected RSA key goes in through ferry: decrypted, rewritten unencrypted.
  for (const auto& [path, pass] : user_keys) {
    if (pass.empty()) continue;
    keys::key_file k;
    ASSERT_FALSE(keys::read_private_key_file(path, as_bytes(pass), k));
    auto plain = adir / "rsa_plain";
    interop::write_file(plain, keys::write_openssh_private_key(k.key, {.comment = "rsa"}));
    stdfs::permissions(plain, stdfs::perms::owner_read | stdfs::perms::owner_write);
    ASSERT_EQ(interop::run({"env", "SSH_AUTH_SOCK=" + sock, "ssh-add", plain.string()}, adir / "add.log"), 0)
        << interop::read_file(adir / "add.log");
  }
  auto client = std::make_shared<agent_client>();
  ASSERT_FALSE(client->connect(sock));
  std::vector<agent_identity> ids;
  ASSERT_FALSE(client->list_identities(ids));
  EXPECT_EQ(ids.size(), std::size(specs));
  // One identity at a time, so each key type is proven on its own.
  for (auto& id : client->client_identities()) {
    SCOPED_TRACE(std::to_string(static_cast<int>(id.type)));
    auto r = ferry_login(daemon->port(), root_with({id}), accept_any());
    ASSERT_FALSE(r.handshake);
    EXPECT_FALSE(r.auth) << r.auth.message();
  }
  agent.stop();
}

TEST_F(ssh_auth_client_to_sshd, known_hosts_from_ssh_keyscan_verifies_plain_and_hashed) {
  interop::temp_dir kdir{"ferry-kh-"};
  auto kh = kdir / "known_hosts";
  ASSERT_EQ(interop::run({"sh", "-c", "ssh-keyscan -p " + std::to_string(daemon->port()) +
                                          " 127.0.0.1 > " + kh.string() + " 2>/dev/null"},
                         kdir / "scan.log"),
            0);
  auto text = interop::read_file(kh);
  ASSERT_NE(text.find("[127.0.0.1]:" + std::to_string(daemon->port())), std::string::npos) << text;
  auto strict = auth::known_hosts_verifier(kh, "127.0.0.1", daemon->port(), auth::host_key_policy::strict);
  EXPECT_FALSE(ferry_login(daemon->port(), {}, strict).handshake);
  // A name the file does not list is refused under strict.
  auto other = auth::known_hosts_verifier(kh, "localhost", daemon->port(), auth::host_key_policy::strict);
  EXPECT_EQ(ferry_login(daemon->port(), {}, other).handshake, disconnect_reason::host_key_not_verifiable);

  ASSERT_EQ(interop::run({"ssh-keygen", "-H", "-f", kh.string()}, kdir / "hash.log"), 0);
  auto hashed = interop::read_file(kh);
  ASSERT_NE(hashed.find("|1|"), std::string::npos);
  ASSERT_EQ(hashed.find("127.0.0.1"), std::string::npos);
  EXPECT_FALSE(ferry_login(daemon->port(), {}, strict).handshake);
}

TEST_F(ssh_auth_client_to_sshd, changed_or_revoked_host_key_is_refused) {
  interop::temp_dir kdir{"ferry-kh-"};
  auto kh = kdir / "known_hosts";
  auto name = auth::known_host_name("127.0.0.1", daemon->port());
  // Another key of every type under the server's name: the server's real key is "changed".
  std::string lines;
  for (auto t : {crypto::key_type::ed25519, crypto::key_type::ecdsa_p256, crypto::key_type::ecdsa_p384,
                 crypto::key_type::ecdsa_p521}) {
    auto k = keys::generate_key(t);
    lines += auth::format_known_host_line(name, proto::encode_public_key(k.public_part())) + "\n";
  }
  interop::write_file(kh, lines);
  for (auto policy : {auth::host_key_policy::strict, auth::host_key_policy::accept_new}) {
    auto v = auth::known_hosts_verifier(kh, "127.0.0.1", daemon->port(), policy);
    EXPECT_EQ(ferry_login(daemon->port(), {}, v).handshake, disconnect_reason::host_key_not_verifiable);
  }
  // accept-new on an empty file records the key; strict then accepts it.
  interop::write_file(kh, "");
  auto accept_new = auth::known_hosts_verifier(kh, "127.0.0.1", daemon->port(),
                                               auth::host_key_policy::accept_new, true);
  EXPECT_FALSE(ferry_login(daemon->port(), {}, accept_new).handshake);
  auto recorded = interop::read_file(kh);
  EXPECT_EQ(recorded.rfind("|1|", 0), 0u) << recorded;
  auto strict = auth::known_hosts_verifier(kh, "127.0.0.1", daemon->port(), auth::host_key_policy::strict);
  EXPECT_FALSE(ferry_login(daemon->port(), {}, strict).handshake);
  // Revoking that key refuses it even with checking off.
  auth::known_hosts parsed;
  parsed.load(recorded);
  ASSERT_EQ(parsed.entries().size(), 1u);
  interop::write_file(kh, recorded + "@revoked * " + parsed.entries()[0].key_type + " " +
                              keys::base64_encode(parsed.entries()[0].blob) + "\n");
  auto off = auth::known_hosts_verifier(kh, "127.0.0.1", daemon->port(), auth::host_key_policy::off);
  EXPECT_EQ(ferry_login(daemon->port(), {}, off).handshake, disconnect_reason::host_key_not_verifiable);
}

// --- OpenSSH ssh -> ferry server -------------------------------------------------------------

using test_authenticator = auth::composite<auth::authorized_keys_authenticator, auth::static_users>;

struct server_event {
  error_code ec;
  std::string user;
};

// A ferry SSH server on 127.0.0.1 in its own thread: handshake + async_accept_auth per
// connection, each outcome recorded; the connection is then closed (no connection layer yet).
class ferry_server {
 public:
  ferry_server(test_authenticator a, server_auth_options o)
      : auth_(std::move(a)), options_(std::move(o)), acceptor_(ioc_, {asio::ip::address_v4::loopback(), 0}) {
    host_key_ = std::make_shared<const crypto::private_key>(keys::generate_key(crypto::key_type::ed25519));
    asio::co_spawn(ioc_, accept_loop(), rethrow);
    thread_ = std::thread{[this] { ioc_.run(); }};
  }
  ~ferry_server() {
    ioc_.stop();
    thread_.join();
  }
  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  std::vector<server_event> events() {
    std::lock_guard l{m_};
    return events_;
  }

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, sock] = co_await acceptor_.async_accept(tok);
      if (ec) co_return;
      asio::co_spawn(ioc_, serve(std::move(sock)), rethrow);
    }
  }
  asio::awaitable<void> serve(tcp::socket sock) {
    transport_options so;
    so.host_keys.push_back(host_key_);
    transport<tcp::socket> t{role::server, std::move(so), std::move(sock)};
    auto [ec] = co_await t.async_handshake(tok);
    server_event e;
    if (!ec) {
      auto [aec, g] = co_await async_accept_auth(t, auth_, options_, tok);
      ec = aec;
      e.user = g.user;
      if (!aec) co_await t.async_disconnect(disconnect_reason::by_application, "no sessions here", tok);
    }
    e.ec = ec;
    std::lock_guard l{m_};
    events_.push_back(e);
  }

  test_authenticator auth_;
  server_auth_options options_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::shared_ptr<const crypto::private_key> host_key_;
  std::thread thread_;
  std::mutex m_;
  std::vector<server_event> events_;
};

std::vector<std::string> ssh_base(unsigned short port) {
  return {"ssh", "-v", "-F", "/dev/null", "-o", "StrictHostKeyChecking=no", "-o",
          "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=10", "-p", std::to_string(port)};
}

interop::ssh_result run_client(std::vector<std::string> argv) {
  interop::temp_dir d{"ferry-ssh-"};
  int status = interop::run(argv, d / "ssh.log", std::chrono::seconds{20});
  return {status, interop::read_file(d / "ssh.log")};
}

class ssh_auth_ssh_to_ferry_server : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir = new interop::temp_dir{"ferry-auth-srv-"};
    alice_key = new stdfs::path{make_key(*dir, "alice", {"ed25519", 0})};
    alice_rsa = new stdfs::path{make_key(*dir, "alice_rsa", {"rsa", 3072})};
    for (int i = 0; i < 3; ++i) strangers.push_back(make_key(*dir, "stranger" + std::to_string(i), {"ecdsa", 256}));
  }
  static void TearDownTestSuite() {
    delete alice_key;
    delete alice_rsa;
    delete dir;
    strangers.clear();
  }

  static test_authenticator authenticator() {
    auth::authorized_keys_authenticator ak;
    auth::grant g;
    g.user = "alice";
    ak.add_user("alice", g, interop::read_file(alice_key->string() + ".pub") +
                                interop::read_file(alice_rsa->string() + ".pub"));
    auth::static_users su{crypto::scrypt_params{10, 8, 1}};
    auth::user_entry e;
    e.name = "alice";
    e.password_hash = crypto::hash_password(as_bytes("alice pw"), crypto::system_random(), {10, 8, 1});
    EXPECT_FALSE(su.add(e));
    return test_authenticator{std::move(ak), std::move(su)};
  }

  static server_auth_options options() {
    server_auth_options o;
    o.failure_delay = std::chrono::milliseconds{10};
    return o;
  }

  static inline interop::temp_dir* dir = nullptr;
  static inline stdfs::path* alice_key = nullptr;
  static inline stdfs::path* alice_rsa = nullptr;
  static inline std::vector<stdfs::path> strangers;
};

TEST_F(ssh_auth_ssh_to_ferry_server, publickey_logs_in_with_ed25519_and_rsa) {
  ferry_server srv{authenticator(), options()};
  for (const auto* key : {alice_key, alice_rsa}) {
    auto argv = ssh_base(srv.port());
    argv.insert(argv.end(), {"-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-i", key->string(),
                             "alice@127.0.0.1", "true"});
    auto r = run_client(argv);
    EXPECT_NE(r.log.find("Authenticated to 127.0.0.1"), std::string::npos) << r.log;
    EXPECT_NE(r.log.find("using \"publickey\""), std::string::npos);
  }
  auto ev = srv.events();
  ASSERT_EQ(ev.size(), 2u);
  for (const auto& e : ev) {
    EXPECT_FALSE(e.ec) << e.ec.message();
    EXPECT_EQ(e.user, "alice");
  }
}

TEST_F(ssh_auth_ssh_to_ferry_server, password_and_keyboard_interactive_log_in_with_sshpass) {
  ferry_server srv{authenticator(), options()};
  for (std::string method : {"password", "keyboard-interactive"}) {
    std::vector<std::string> argv{"sshpass", "-p", "alice pw"};
    auto base = ssh_base(srv.port());
    argv.insert(argv.end(), base.begin(), base.end());
    argv.insert(argv.end(), {"-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=" + method,
                             "-o", "NumberOfPasswordPrompts=1", "alice@127.0.0.1", "true"});
    auto r = run_client(argv);
    EXPECT_NE(r.log.find("Authenticated to 127.0.0.1"), std::string::npos) << method << "\n" << r.log;
    EXPECT_NE(r.log.find("using \"" + method + "\""), std::string::npos) << r.log;
  }
  auto ev = srv.events();
  ASSERT_EQ(ev.size(), 2u);
  for (const auto& e : ev) EXPECT_EQ(e.user, "alice");
}

TEST_F(ssh_auth_ssh_to_ferry_server, wrong_password_and_unlisted_key_are_refused) {
  ferry_server srv{authenticator(), options()};
  std::vector<std::string> argv{"sshpass", "-p", "not alice pw"};
  auto base = ssh_base(srv.port());
  argv.insert(argv.end(), base.begin(), base.end());
  argv.insert(argv.end(), {"-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=password",
                           "-o", "NumberOfPasswordPrompts=1", "alice@127.0.0.1", "true"});
  auto r = run_client(argv);
  EXPECT_NE(r.status, 0);
  EXPECT_EQ(r.log.find("Authenticated to"), std::string::npos) << r.log;
  EXPECT_NE(r.log.find("Permission denied"), std::string::npos) << r.log;

  argv = ssh_base(srv.port());
  argv.insert(argv.end(), {"-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-i", strangers[0].string(),
                           "alice@127.0.0.1", "true"});
  r = run_client(argv);
  EXPECT_NE(r.status, 0);
  EXPECT_EQ(r.log.find("Authenticated to"), std::string::npos) << r.log;
  EXPECT_NE(r.log.find("Permission denied"), std::string::npos) << r.log;
  for (const auto& e : srv.events()) EXPECT_TRUE(e.user.empty());
}

TEST_F(ssh_auth_ssh_to_ferry_server, max_auth_tries_disconnects_a_client_offering_many_keys) {
  auto o = options();
  o.max_auth_tries = 2;
  ferry_server srv{authenticator(), o};
  auto argv = ssh_base(srv.port());
  argv.insert(argv.end(), {"-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes"});
  for (const auto& k : strangers) argv.insert(argv.end(), {"-i", k.string()});
  argv.insert(argv.end(), {"-i", alice_key->string(), "alice@127.0.0.1", "true"});
  auto r = run_client(argv);
  EXPECT_NE(r.status, 0);
  EXPECT_EQ(r.log.find("Authenticated to"), std::string::npos) << r.log;
  EXPECT_NE(r.log.find("too many authentication failures"), std::string::npos) << r.log;
  auto ev = srv.events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].ec, disconnect_reason::no_more_auth_methods_available);
}

}  // namespace

}  // namespace ssh_auth_interop_test
