// ferry-server's SSH side: accepts connections, runs the transport handshake and user
// authentication, and serves each session channel: the "sftp" subsystem with sftp::server and
// `scp -t/-f` exec requests with scp::server, both over the user's jailed view of the root. Other
// exec requests, shells and port forwarding are refused (the program offers no command execution
// unless --allow-exec, and then only scp and sftp until the process handler is wired).
//
// Limits: pre-auth connections at once (MaxStartups-like: over the limit a new connection is
// closed at once), sessions per connection (sshd's MaxSessions, in the connection layer), the
// login grace time and the handshake timeout. Each connection runs on its own strand.
#pragma once

#include "logging.hpp"

#include <ferry/fs/local.hpp>
#include <ferry/scp/server.hpp>
#include <ferry/sftp/server.hpp>
#include <ferry/ssh/connection.hpp>
#include <ferry/ssh/userauth.hpp>

#include <boost/asio/write.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace ferry_server {

namespace asio = boost::asio;

template <class Users>
class ssh_service {
 public:
  using tcp = asio::ip::tcp;
  using connection_type = ferry::ssh::connection<tcp::socket>;

  // Pre-auth connections at once before new ones are turned away (sshd's MaxStartups start).
  static constexpr std::size_t max_unauthenticated = 64;

  ssh_service(asio::any_io_executor ex, ferry::fs::local_filesystem files, Users users,
              std::vector<std::shared_ptr<const ferry::crypto::private_key>> host_keys,
              bool allow_exec, bool read_only, const logger& log)
      : ex_(std::move(ex)),
        files_(std::move(files)),
        users_(std::move(users)),
        host_keys_(std::move(host_keys)),
        allow_exec_(allow_exec),
        read_only_(read_only),
        log_(log),
        acceptor_(ex_) {}

  ferry::error_code listen(const std::string& address, std::uint16_t port) {
    ferry::error_code ec;
    auto addr = asio::ip::make_address(address, ec);
    if (ec) return ec;
    tcp::endpoint ep{addr, port};
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (!ec) port_ = acceptor_.local_endpoint().port();
    return ec;
  }

  std::uint16_t port() const noexcept { return port_; }

  void start() {
    if (acceptor_.is_open()) asio::co_spawn(ex_, accept_loop(), asio::detached);
  }

  void stop_accepting() {
    ferry::error_code ignored;
    acceptor_.close(ignored);
  }

  // Calls done once no connection is left or after grace, whichever comes first.
  void async_drain(std::chrono::seconds grace, std::function<void()> done) {
    auto timer = std::make_shared<asio::steady_timer>(ex_);
    auto deadline = std::chrono::steady_clock::now() + grace;
    auto poll = std::make_shared<std::function<void()>>();
    *poll = [this, timer, deadline, done, poll] {
      if (active_ == 0 || std::chrono::steady_clock::now() >= deadline) {
        done();
        *poll = nullptr;  // breaks the cycle
        return;
      }
      timer->expires_after(std::chrono::milliseconds{100});
      timer->async_wait([poll](ferry::error_code) {
        if (*poll) (*poll)();
      });
    };
    (*poll)();
  }

  // Ends every connection now.
  void stop() {
    stop_accepting();
    std::lock_guard lk{m_};
    for (auto& weak : connections_) {
      if (auto c = weak.lock()) {
        asio::post(c->get_executor(), [c] {
          ferry::error_code ignored;
          c->transport().next_layer().close(ignored);
        });
      }
    }
  }

 private:
  static constexpr auto tok = asio::as_tuple(asio::use_awaitable);

  asio::awaitable<void> accept_loop() {
    for (;;) {
      tcp::socket socket{asio::make_strand(ex_)};
      auto [ec] = co_await acceptor_.async_accept(socket, tok);
      if (ec) {
        if (!acceptor_.is_open()) co_return;
        continue;  // EMFILE and friends: try again
      }
      std::string peer = peer_of(socket);
      if (unauthenticated_ >= max_unauthenticated) {
        log_.refusal("ssh", peer, "too many unauthenticated connections");
        ferry::error_code ignored;
        socket.close(ignored);
        continue;
      }
      socket.set_option(tcp::no_delay(true), ec);
      auto strand = socket.get_executor();
      asio::co_spawn(strand, serve(std::move(socket), std::move(peer)), asio::detached);
    }
  }

  static std::string peer_of(tcp::socket& s) {
    ferry::error_code ec;
    auto ep = s.remote_endpoint(ec);
    return ec ? std::string{"?"} : ep.address().to_string() + ":" + std::to_string(ep.port());
  }

  asio::awaitable<void> serve(tcp::socket socket, std::string peer) {
    ++active_;
    ++unauthenticated_;
    bool counted_unauth = true;
    auto leave_unauth = [&] {
      if (counted_unauth) --unauthenticated_;
      counted_unauth = false;
    };
    ferry::ssh::transport_options t;
    t.host_keys = host_keys_;
    t.handshake_timeout = std::chrono::seconds{30};
    ferry::ssh::connection_options co;
    co.window = 16 * 1024 * 1024;
    auto c = std::make_shared<connection_type>(ferry::ssh::role::server, t, co, std::move(socket));
    {
      std::lock_guard lk{m_};
      connections_.push_back(c);
    }
    co_await run_connection(*c, peer, leave_unauth);
    leave_unauth();
    {
      std::lock_guard lk{m_};
      connections_.remove_if([&](const std::weak_ptr<connection_type>& w) {
        auto p = w.lock();
        return !p || p == c;
      });
    }
    --active_;
  }

  asio::awaitable<void> run_connection(connection_type& c, const std::string& peer,
                                       const std::function<void()>& authenticated) {
    if (auto [ec] = co_await c.transport().async_handshake(tok); ec) {
      log_.detail("ssh handshake failed peer=" + peer + ": " + ec.message());
      co_return;
    }
    ferry::ssh::server_auth_options ao;
    ao.login_grace_time = std::chrono::seconds{60};
    auto [aec, grant] = co_await ferry::ssh::async_accept_auth(c.transport(), users_, ao, tok);
    if (aec) {
      log_.refusal("ssh", peer, "authentication: " + aec.message());
      co_return;
    }
    authenticated();
    ferry::error_code vec;
    auto user_files = files_.for_user(grant.view, vec);
    if (vec) {
      log_.refusal("ssh", peer, "user " + grant.user + ": no view of the root: " + vec.message());
      co_await c.transport().async_disconnect(ferry::ssh::disconnect_reason::by_application,
                                              "no access", tok);
      co_return;
    }
    log_.login("ssh", grant.user, peer, "");
    auto session = std::make_shared<session_context>(std::move(user_files));
    session->user = grant.user;
    session->peer = peer;
    session->read_only = grant.perms.read_only || read_only_;
    c.set_channel_filter([](std::string_view type) { return type == ferry::ssh::proto::names::session; });
    asio::co_spawn(c.get_executor(), accept_channels(c, session), asio::detached);
    co_await c.async_run(tok);
    log_.detail("ssh disconnect peer=" + peer + " user=" + grant.user);
  }

  // One authenticated connection: the user's view and the session channels it has open. Used on
  // the connection's strand only.
  struct session_context : std::enable_shared_from_this<session_context> {
    explicit session_context(ferry::fs::local_filesystem f) : files(std::move(f)) {}
    ferry::fs::local_filesystem files;
    std::string user;
    std::string peer;
    bool read_only = false;
    std::vector<std::shared_ptr<ferry::ssh::channel>> channels;
    std::set<const ferry::ssh::channel*> started;  // channels running sftp or scp
  };

  asio::awaitable<void> accept_channels(connection_type& c, std::shared_ptr<session_context> s) {
    for (;;) {
      auto [ec, ch] = co_await c.async_accept(tok);
      if (ec) co_return;
      ch.accept();
      auto shared_ch = std::make_shared<ferry::ssh::channel>(std::move(ch));
      // The handler lives in the channel: it holds neither the channel nor the context (no
      // cycle); the context outlives every request, since requests stop with the connection.
      std::weak_ptr<ferry::ssh::channel> weak = shared_ch;
      session_context* sp = s.get();
      shared_ch->set_request_handler(
          [this, weak, sp](const ferry::ssh::detail::channel_request_view& r) {
            auto strong = weak.lock();
            return strong && on_request(strong, *sp, r);
          });
      s->channels.push_back(std::move(shared_ch));
    }
  }

  // One session channel's requests: env and pty are accepted and ignored (a client may send
  // them before its subsystem), "sftp" and scp exec start the service; the rest is refused.
  bool on_request(const std::shared_ptr<ferry::ssh::channel>& ch, session_context& sc,
                  const ferry::ssh::detail::channel_request_view& r) {
    namespace names = ferry::ssh::proto::names;
    if (r.type == names::env) return true;
    if (r.type == names::pty_req || r.type == names::window_change) return allow_exec_;
    if (sc.started.count(ch.get())) return false;  // one service per session channel
    auto s = sc.shared_from_this();
    if (r.type == names::subsystem) {
      ferry::ssh::proto::subsystem_request sub;
      if (ferry::wire::decode(r.data, sub) || sub.name != "sftp") return false;
      sc.started.insert(ch.get());
      asio::co_spawn(ch->get_executor(), serve_sftp(ch, s), asio::detached);
      return true;
    }
    if (r.type == names::exec) {
      ferry::ssh::proto::exec_request ex;
      if (ferry::wire::decode(r.data, ex)) return false;
      if (ex.command.rfind("scp ", 0) != 0) {
        log_.refusal("ssh", s->peer, "exec refused user=" + s->user + " command=" + ex.command);
        return false;
      }
      sc.started.insert(ch.get());
      asio::co_spawn(ch->get_executor(), serve_scp(ch, s, std::move(ex.command)), asio::detached);
      return true;
    }
    return false;
  }

  asio::awaitable<void> serve_sftp(std::shared_ptr<ferry::ssh::channel> ch,
                                   std::shared_ptr<session_context> s) {
    ferry::sftp::server_options o;
    o.read_only = s->read_only;
    o.user = s->user;
    o.level = log_.verbosity() >= 2 ? ferry::sftp::log_level::verbose : ferry::sftp::log_level::info;
    o.log = [this, s](ferry::sftp::log_level, std::string_view text) {
      log_.info("sftp user=" + s->user + " peer=" + s->peer + " " + std::string{text});
    };
    ferry::sftp::server<ferry::fs::local_filesystem> srv{s->files, std::move(o)};
    auto [ec] = co_await srv.async_run(*ch, tok);
    finish(*s, ch, ec ? 1 : 0);
  }

  asio::awaitable<void> serve_scp(std::shared_ptr<ferry::ssh::channel> ch,
                                  std::shared_ptr<session_context> s, std::string command) {
    struct file_timer {
      std::chrono::steady_clock::time_point start;
    };
    auto timing = std::make_shared<file_timer>();
    const bool upload = command.find(" -t") != std::string::npos;
    ferry::scp::server_options o;
    o.on_event = [this, s, timing, upload](const ferry::scp::event& e) {
      using kind = ferry::scp::event::kind;
      if (e.type == kind::file_begin) timing->start = std::chrono::steady_clock::now();
      if (e.type == kind::file_end) {
        double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - timing->start).count();
        log_.transfer("scp", s->user, s->peer, upload ? "upload" : "download", e.path, e.bytes, secs, true);
      }
      if (e.type == kind::warning)
        log_.info("scp user=" + s->user + " peer=" + s->peer + " warning: " + std::string{e.message});
    };
    if (s->read_only && upload) {
      // scp -t writes: a read-only user gets scp's own refusal text.
      static constexpr char refusal[] = "\2scp: read-only: permission denied\n";
      co_await asio::async_write(*ch, asio::buffer(refusal, sizeof refusal - 1), tok);
      finish(*s, ch, 1);
      co_return;
    }
    ferry::scp::server<ferry::fs::local_filesystem> srv{s->files, std::move(o)};
    auto [ec, status] = co_await srv.async_run(*ch, std::move(command), tok);
    finish(*s, ch, ec && status == 0 ? 1 : status);
  }

  void finish(session_context& sc, const std::shared_ptr<ferry::ssh::channel>& ch, int status) {
    sc.started.erase(ch.get());
    std::erase(sc.channels, ch);
    if (!ch->is_open()) return;
    ch->send_exit_status(std::uint32_t(status));
    ch->send_eof();
    ch->close();
  }

  asio::any_io_executor ex_;
  ferry::fs::local_filesystem files_;
  Users users_;
  std::vector<std::shared_ptr<const ferry::crypto::private_key>> host_keys_;
  bool allow_exec_;
  bool read_only_;
  const logger& log_;
  tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::atomic<std::size_t> active_{0};
  std::atomic<std::size_t> unauthenticated_{0};
  std::mutex m_;
  std::list<std::weak_ptr<connection_type>> connections_;
};

}  // namespace ferry_server
