// OpenSSH's ssh against ssh::server (2 threads): exec through the real-command handler (stdout,
// stderr, exit status), 10 MiB of stdin through cat compared byte for byte, a subsystem registered
// by name, -L and -R forwarding to a local echo server, keepalives (ServerAliveInterval) answered;
// and the server's limits: unauthenticated connections (MaxStartups), idle timeout, a garbage
// client next to a good one, graceful stop letting a running command finish.
#include "interop/sshd_fixture.hpp"

#include <ferry/auth/authorized_keys.hpp>
#include <ferry/ssh/client.hpp>
#include <ferry/ssh/keys/private_key.hpp>
#include <ferry/ssh/process_handler.hpp>
#include <ferry/ssh/server.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <gtest/gtest.h>

#include <future>
#include <thread>

namespace ssh_to_ferry_test {
namespace asio = boost::asio;
using asio::ip::tcp;
using namespace ferry;
using namespace ferry::ssh;

namespace {

constexpr auto tok = asio::as_tuple(asio::use_awaitable);

// The "echo" subsystem: copies input back until EOF. Shows how a subsystem is registered.
session_task echo_subsystem() {
  return [](session& s) -> asio::awaitable<session_exit> {
    std::array<char, 16384> buf;
    for (;;) {
      auto [ec, n] = co_await s.channel().async_read_some(asio::buffer(buf), tok);
      if (n) co_await asio::async_write(s.channel(), asio::buffer(buf.data(), n), tok);
      if (ec) break;
    }
    co_return session_exit{};
  };
}

// A ferry SSH server on 127.0.0.1 run by two threads, accepting the test's user key for "tester".
class ferry_sshd {
 public:
  explicit ferry_sshd(server_options o = {}) {
    user_key_ = interop::keygen(dir_, "user", "ed25519");
    auth::grant g;
    g.user = "tester";
    authenticator_.add_user("tester", g, interop::read_file(user_key_.string() + ".pub"));
    o.transport.host_keys.push_back(
        std::make_shared<const crypto::private_key>(keys::generate_key(crypto::key_type::ed25519)));
    server_.emplace(ioc_.get_executor(), std::move(o), authenticator_, [](const auth::grant&) {
      auto h = std::make_unique<routing_handler>();
      h->fallback_exec = [](session&, std::string_view cmd) { return run_process(std::string{cmd}); };
      h->subsystems["echo"] = echo_subsystem();
      h->allow_direct_tcpip = true;
      h->allow_tcpip_forward = true;
      h->allow_env = true;
      h->allow_pty = true;
      h->allow_direct_streamlocal = true;
      return std::unique_ptr<connection_handler>(std::move(h));
    });
    if (auto ec = server_->listen({asio::ip::address_v4::loopback(), 0}))
      throw std::runtime_error("listen: " + ec.message());
    server_->async_run([this](error_code) { run_done_ = true; });
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { ioc_.run(); });
  }
  ~ferry_sshd() {
    server_->stop();
    for (int i = 0; i < 500 && !run_done_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds{10});
    ioc_.stop();
    for (auto& t : threads_) t.join();
  }
  std::uint16_t port() const { return server_->local_endpoint().port(); }
  const std::filesystem::path& user_key() const { return user_key_; }
  const interop::temp_dir& dir() const { return dir_; }
  server& srv() { return *server_; }
  bool run_done() const { return run_done_; }

 private:
  interop::temp_dir dir_{"ferry-ssh-server-"};
  std::filesystem::path user_key_;
  auth::authorized_keys_authenticator authenticator_;
  asio::io_context ioc_;
  std::optional<server> server_;
  std::atomic<bool> run_done_{false};
  std::vector<std::thread> threads_;
};

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string{"'\\''"} : std::string(1, c);
  return q + "'";
}

std::vector<std::string> ssh_argv(const ferry_sshd& d, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> a{"ssh", "-F", "/dev/null", "-o", "BatchMode=yes",
                             "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                             "-i", d.user_key().string(), "-p", std::to_string(d.port()),
                             "-l", "tester"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

// Runs `ssh ... command` through sh with stdin/stdout/stderr redirected to files.
int run_ssh_shell(const ferry_sshd& d, const std::vector<std::string>& extra, const std::string& command,
                  const std::string& redirections, std::chrono::seconds timeout = std::chrono::seconds{60}) {
  std::string line;
  auto quiet = extra;
  quiet.insert(quiet.begin(), {"-o", "LogLevel=ERROR"});  // no "Permanently added" on stderr
  for (const auto& a : ssh_argv(d, quiet)) line += quote(a) + " ";
  line += "127.0.0.1 " + quote(command) + " " + redirections;
  return interop::run({"sh", "-c", line}, d.dir() / "sh.log", timeout);
}

// Echo server on its own thread (blocking sockets are simplest here).
class echo_server {
 public:
  echo_server() : acceptor_(ioc_, {asio::ip::address_v4::loopback(), 0}) {
    asio::co_spawn(ioc_, run(), asio::detached);
    thread_ = std::thread{[this] { ioc_.run(); }};
  }
  ~echo_server() {
    ioc_.stop();
    thread_.join();
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  asio::awaitable<void> run() {
    for (;;) {
      auto [ec, s] = co_await acceptor_.async_accept(tok);
      if (ec) co_return;
      asio::co_spawn(ioc_, echo(std::move(s)), asio::detached);
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
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::thread thread_;
};

// Echo server on a unix socket (for direct-streamlocal@openssh.com).
class unix_echo_server {
 public:
  explicit unix_echo_server(std::string path) : path_(std::move(path)), acceptor_(ioc_, asio::local::stream_protocol::endpoint{path_}) {
    asio::co_spawn(ioc_, run(), asio::detached);
    thread_ = std::thread{[this] { ioc_.run(); }};
  }
  ~unix_echo_server() {
    ioc_.stop();
    thread_.join();
    ::unlink(path_.c_str());
  }

 private:
  asio::awaitable<void> run() {
    for (;;) {
      auto [ec, s] = co_await acceptor_.async_accept(tok);
      if (ec) co_return;
      asio::co_spawn(ioc_, echo(std::move(s)), asio::detached);
    }
  }
  static asio::awaitable<void> echo(asio::local::stream_protocol::socket s) {
    std::array<char, 8192> buf;
    for (;;) {
      auto [ec, n] = co_await s.async_read_some(asio::buffer(buf), tok);
      if (ec) co_return;
      auto [wec, w] = co_await asio::async_write(s, asio::buffer(buf.data(), n), tok);
      if (wec) co_return;
    }
  }
  std::string path_;
  asio::io_context ioc_;
  asio::local::stream_protocol::acceptor acceptor_;
  std::thread thread_;
};

// Connects to 127.0.0.1:port (retrying while a forward comes up), sends msg, reads it back.
std::string echo_via(std::uint16_t port, const std::string& msg) {
  for (int i = 0; i < 500 && !interop::port_open(port); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  asio::io_context ioc;
  tcp::socket s{ioc};
  error_code ec;
  s.connect({asio::ip::address_v4::loopback(), port}, ec);
  if (ec) return "connect: " + ec.message();
  asio::write(s, asio::buffer(msg), ec);
  std::string back(msg.size(), 0);
  asio::read(s, asio::buffer(back), ec);
  if (ec) return "read: " + ec.message();
  return back;
}

}  // namespace

TEST(ssh_to_ferry, exec_returns_stdout_stderr_and_exit_status) {
  ferry_sshd d;
  auto out = d.dir() / "out", err = d.dir() / "err";
  int rc = run_ssh_shell(d, {}, "echo out; echo err >&2; exit 5",
                         "</dev/null >" + out.string() + " 2>" + err.string());
  EXPECT_EQ(rc, 5) << interop::read_file(err);
  EXPECT_EQ(interop::read_file(out), "out\n");
  EXPECT_EQ(interop::read_file(err), "err\n");
}

TEST(ssh_to_ferry, ten_mib_of_stdin_through_cat_arrive_unchanged) {
  ferry_sshd d;
  auto in = d.dir() / "in", out = d.dir() / "out", err = d.dir() / "err";
  std::string data(10u << 20, 0);
  std::uint64_t x = 88172645463325252ull;
  for (auto& c : data) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = char(x);
  }
  interop::write_file(in, data);
  int rc = run_ssh_shell(d, {}, "cat", "<" + in.string() + " >" + out.string() + " 2>" + err.string());
  EXPECT_EQ(rc, 0) << interop::read_file(err);
  EXPECT_EQ(interop::run({"cmp", in.string(), out.string()}, d.dir() / "cmp.log"), 0)
      << interop::read_file(d.dir() / "cmp.log");
}

TEST(ssh_to_ferry, a_registered_subsystem_serves_the_channel) {
  ferry_sshd d;
  auto in = d.dir() / "in", out = d.dir() / "out";
  interop::write_file(in, "hello subsystem\n");
  int rc = run_ssh_shell(d, {"-s"}, "echo", "<" + in.string() + " >" + out.string() + " 2>/dev/null");
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(interop::read_file(out), "hello subsystem\n");
  // An unknown subsystem is refused.
  rc = run_ssh_shell(d, {"-s"}, "nope", "</dev/null >/dev/null 2>/dev/null");
  EXPECT_NE(rc, 0);
}

TEST(ssh_to_ferry, local_forwarding_reaches_an_echo_server) {
  ferry_sshd d;
  echo_server echo;
  auto lport = interop::free_port();
  auto argv = ssh_argv(d, {"-N", "-L", std::to_string(lport) + ":127.0.0.1:" + std::to_string(echo.port())});
  argv.push_back("127.0.0.1");
  interop::process ssh{argv, d.dir() / "ssh-L.log"};
  std::string msg(50000, 'L');
  EXPECT_EQ(echo_via(lport, msg), msg) << interop::read_file(d.dir() / "ssh-L.log");
}

TEST(ssh_to_ferry, remote_forwarding_brings_connections_back_through_the_client) {
  ferry_sshd d;
  echo_server echo;
  auto rport = interop::free_port();
  auto argv = ssh_argv(d, {"-N", "-o", "ExitOnForwardFailure=yes", "-R",
                           "127.0.0.1:" + std::to_string(rport) + ":127.0.0.1:" + std::to_string(echo.port())});
  argv.push_back("127.0.0.1");
  interop::process ssh{argv, d.dir() / "ssh-R.log"};
  std::string msg(50000, 'R');
  EXPECT_EQ(echo_via(rport, msg), msg) << interop::read_file(d.dir() / "ssh-R.log");
}

TEST(ssh_to_ferry, local_forwarding_to_a_unix_socket_uses_direct_streamlocal) {
  ferry_sshd d;
  auto sock = (d.dir() / "echo.sock").string();
  unix_echo_server echo{sock};
  auto lport = interop::free_port();
  auto argv = ssh_argv(d, {"-N", "-L", std::to_string(lport) + ":" + sock});
  argv.push_back("127.0.0.1");
  interop::process ssh{argv, d.dir() / "ssh-Lunix.log"};
  std::string msg(30000, 'U');
  EXPECT_EQ(echo_via(lport, msg), msg) << interop::read_file(d.dir() / "ssh-Lunix.log");
}

TEST(ssh_to_ferry, a_command_on_a_pty_sees_a_terminal) {
  ferry_sshd d;
  auto out = d.dir() / "out";
  int rc = run_ssh_shell(d, {"-tt"}, "tty; stty size; exit 3", "</dev/null >" + out.string() + " 2>&1");
  EXPECT_EQ(rc, 3) << interop::read_file(out);
  auto text = interop::read_file(out);
  EXPECT_NE(text.find("/dev/pts/"), std::string::npos) << text;
}

TEST(ssh_to_ferry, server_alive_keepalives_are_answered) {
  ferry_sshd d;
  auto argv = ssh_argv(d, {"-vvv", "-N", "-o", "ServerAliveInterval=1", "-o", "ServerAliveCountMax=2"});
  argv.push_back("127.0.0.1");
  auto log = d.dir() / "ssh-alive.log";
  interop::process ssh{argv, log};
  std::this_thread::sleep_for(std::chrono::milliseconds{4500});
  // With two unanswered keepalives ssh would have given up after ~3 s.
  EXPECT_TRUE(ssh.running()) << interop::read_file(log);
  ssh.stop();
  auto text = interop::read_file(log);
  std::size_t replies = 0;
  for (auto at = text.find("receive packet: type 82"); at != std::string::npos;
       at = text.find("receive packet: type 82", at + 1))
    ++replies;
  EXPECT_GE(replies, 2u) << text;
  EXPECT_EQ(text.find("Timeout, server"), std::string::npos);
}

TEST(ssh_to_ferry, a_garbage_client_does_not_disturb_a_good_one) {
  ferry_sshd d;
  asio::io_context ioc;
  tcp::socket bad{ioc};
  bad.connect({asio::ip::address_v4::loopback(), d.port()});
  asio::write(bad, asio::buffer(std::string(100000, '\x7f')));
  auto out = d.dir() / "out";
  int rc = run_ssh_shell(d, {}, "echo fine", "</dev/null >" + out.string() + " 2>/dev/null");
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(interop::read_file(out), "fine\n");
}

TEST(ssh_to_ferry, unauthenticated_connections_past_max_startups_are_dropped) {
  server_options o;
  o.max_startups = 3;
  ferry_sshd d{o};
  asio::io_context ioc;
  std::vector<tcp::socket> idle;
  for (int i = 0; i < 3; ++i) {
    idle.emplace_back(ioc);
    idle.back().connect({asio::ip::address_v4::loopback(), d.port()});
  }
  for (int i = 0; i < 500 && d.srv().unauthenticated_count() < 3; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  EXPECT_EQ(d.srv().unauthenticated_count(), 3u);
  // The fourth is closed at once: reading gives EOF (or a reset) without any banner.
  tcp::socket extra{ioc};
  extra.connect({asio::ip::address_v4::loopback(), d.port()});
  std::array<char, 64> buf;
  error_code ec;
  extra.read_some(asio::buffer(buf), ec);
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
  // Freeing the slots lets a real client in again.
  idle.clear();
  for (int i = 0; i < 500 && d.srv().unauthenticated_count() > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  auto out = d.dir() / "out";
  EXPECT_EQ(run_ssh_shell(d, {}, "echo in", "</dev/null >" + out.string() + " 2>/dev/null"), 0);
  EXPECT_EQ(interop::read_file(out), "in\n");
}

TEST(ssh_to_ferry, idle_connections_are_closed_after_the_idle_timeout) {
  server_options o;
  o.idle_timeout = std::chrono::milliseconds{300};
  ferry_sshd d{o};
  // ssh -N sends nothing after login; the server ends it.
  auto argv = ssh_argv(d, {"-N"});
  argv.push_back("127.0.0.1");
  interop::process ssh{argv, d.dir() / "ssh-idle.log"};
  int rc = ssh.wait(std::chrono::seconds{10});
  EXPECT_NE(rc, -1) << "ssh was not disconnected";
  EXPECT_EQ(d.srv().connection_count(), 0u);
}

TEST(ssh_to_ferry, graceful_stop_lets_a_running_command_finish_and_refuses_new_connections) {
  ferry_sshd d;
  auto out = d.dir() / "out";
  std::string line;
  for (const auto& a : ssh_argv(d)) line += quote(a) + " ";
  line += "127.0.0.1 'sleep 1; echo finished' </dev/null >" + out.string() + " 2>/dev/null";
  interop::process ssh{{"sh", "-c", line}, d.dir() / "stop.log"};
  for (int i = 0; i < 500 && d.srv().connection_count() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  std::this_thread::sleep_for(std::chrono::milliseconds{300});  // logged in, command running
  d.srv().stop();
  EXPECT_EQ(ssh.wait(std::chrono::seconds{10}), 0);
  EXPECT_EQ(interop::read_file(out), "finished\n");
  for (int i = 0; i < 500 && !d.run_done(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds{10});
  EXPECT_TRUE(d.run_done());
  EXPECT_FALSE(interop::port_open(d.port()));
}

// A jump to a ferry server: ferry client -> sshd -> direct-tcpip -> ferry server, authenticated
// end to end with a second client over the channel.
TEST(ssh_to_ferry, jump_through_sshd_to_a_ferry_server) {
  ferry_sshd target;
  interop::sshd jump{{"AllowTcpForwarding yes"}};
  asio::io_context ioc;
  client_options o;
  o.transport.verify_host_key = [](const host_key_info&) { return error_code{}; };
  o.auth.user = "root";
  keys::key_file k;
  ASSERT_FALSE(keys::read_private_key_file(jump.user_key(), {}, k));
  o.auth.identities.push_back(identity_from_key(std::make_shared<const crypto::private_key>(std::move(k.key))));
  client_options inner_o;
  inner_o.transport.verify_host_key = o.transport.verify_host_key;
  inner_o.auth.user = "tester";
  keys::key_file k2;
  ASSERT_FALSE(keys::read_private_key_file(target.user_key(), {}, k2));
  inner_o.auth.identities.push_back(
      identity_from_key(std::make_shared<const crypto::private_key>(std::move(k2.key))));
  client<> c{ioc.get_executor(), std::move(o)};
  std::string got;
  bool done = false;
  asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
    auto [ec] = co_await c.async_connect("127.0.0.1", jump.port(), tok);
    EXPECT_FALSE(ec) << ec.message();
    if (!ec) {
      auto [oec, ch] = co_await c.async_open_direct_tcpip("127.0.0.1", target.port(), tok);
      EXPECT_FALSE(oec) << oec.message();
      if (!oec) {
        client<channel> inner{std::move(inner_o), std::move(ch)};
        auto [hec] = co_await inner.async_handshake(tok);
        EXPECT_FALSE(hec) << hec.message();
        if (!hec) {
          auto [xec, r] = co_await inner.async_exec("echo via jump", tok);
          EXPECT_FALSE(xec) << xec.message();
          got = r.out;
          co_await inner.async_disconnect(tok);
        }
      }
      co_await c.async_disconnect(tok);
    }
    done = true;
  }, asio::detached);
  ioc.run_for(std::chrono::seconds{30});
  EXPECT_TRUE(done);
  EXPECT_EQ(got, "via jump\n");
}

}  // namespace ssh_to_ferry_test
