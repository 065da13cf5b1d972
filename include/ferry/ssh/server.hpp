// ssh::server: an SSH server on TCP. Accepts on an io_context run by any number of threads (each
// connection on its own strand), runs the handshake, authenticates against an Authenticator,
// and gives each authenticated connection a handler object that decides every session request
// and forwarding request (defaults deny):
//
//   ssh::server_options o;
//   o.transport.host_keys.push_back(host_key);
//   ssh::server srv{ioc.get_executor(), o, authenticator, [](const auth::grant&) {
//     auto h = std::make_unique<ssh::routing_handler>();
//     h->subsystems["sftp"] = [](ssh::session& s) -> asio::awaitable<ssh::session_exit> { ... };
//     return h;
//   }};
//   srv.listen({asio::ip::address_v4::loopback(), 2222});
//   srv.async_run(asio::detached);   ...   srv.stop();
//
// Limits: unauthenticated connections at once (max_startups, as sshd's MaxStartups: more are
// dropped), session channels per connection (connection.max_sessions, 10), the login grace time
// (auth.login_grace_time), an idle timeout, and a graceful stop (no new connections or channels;
// open channels get stop_grace to finish, then every connection is disconnected).
// A misbehaving client only ends its own connection.
#pragma once

#include <ferry/ssh/connection.hpp>
#include <ferry/ssh/session.hpp>
#include <ferry/ssh/userauth.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>

#include <atomic>
#include <list>
#include <map>
#include <memory>
#include <mutex>

namespace ferry::ssh {

// Decides what an authenticated connection may do. One object per connection, used from that
// connection's strand only. Every default denies.
class connection_handler {
 public:
  virtual ~connection_handler() = default;
  // A task serving the session, or an empty function to refuse.
  virtual session_task exec(session&, std::string_view /*command*/) { return {}; }
  virtual session_task shell(session&) { return {}; }
  virtual session_task subsystem(session&, std::string_view /*name*/) { return {}; }
  virtual bool pty(session&, const pty_request&) { return false; }
  virtual bool env(session&, std::string_view /*name*/, std::string_view /*value*/) { return false; }
  // RFC 4254 §7.2 local forwarding (the server connects to host:port).
  virtual bool direct_tcpip(std::string_view /*host*/, std::uint32_t /*port*/) { return false; }
  // RFC 4254 §7.1 remote forwarding (the server listens on address:port).
  virtual bool tcpip_forward(std::string_view /*address*/, std::uint32_t /*port*/) { return false; }
  // OpenSSH PROTOCOL §2.4 (the server connects to a unix socket).
  virtual bool direct_streamlocal(std::string_view /*path*/) { return false; }
};

// A handler configured by tables: subsystems by name ("sftp"), exec commands by their first word
// ("scp" for `scp -t`/`scp -f`), and an optional fallback for any other command (such as
// run_process from ssh/process_handler.hpp — off unless set).
class routing_handler : public connection_handler {
 public:
  std::map<std::string, session_task, std::less<>> subsystems;
  std::map<std::string, session_task, std::less<>> exec_programs;
  std::function<session_task(session&, std::string_view command)> fallback_exec;
  session_task shell_task;
  bool allow_pty = false;
  bool allow_env = false;
  bool allow_direct_tcpip = false;
  bool allow_tcpip_forward = false;
  bool allow_direct_streamlocal = false;

  session_task exec(session& s, std::string_view command) override {
    auto word = command.substr(0, command.find(' '));
    if (auto it = exec_programs.find(word); it != exec_programs.end()) return it->second;
    if (fallback_exec) return fallback_exec(s, command);
    return {};
  }
  session_task shell(session&) override { return shell_task; }
  session_task subsystem(session&, std::string_view name) override {
    if (auto it = subsystems.find(name); it != subsystems.end()) return it->second;
    return {};
  }
  bool pty(session&, const pty_request&) override { return allow_pty; }
  bool env(session&, std::string_view, std::string_view) override { return allow_env; }
  bool direct_tcpip(std::string_view, std::uint32_t) override { return allow_direct_tcpip; }
  bool tcpip_forward(std::string_view, std::uint32_t) override { return allow_tcpip_forward; }
  bool direct_streamlocal(std::string_view) override { return allow_direct_streamlocal; }
};

using handler_factory = std::function<std::unique_ptr<connection_handler>(const auth::grant&)>;

struct server_options {
  transport_options transport;  // host_keys; handshake_timeout bounds the key exchange
  server_auth_options auth;     // login_grace_time, max_auth_tries, methods
  connection_options connection;
  // Connections not yet authenticated at once (sshd's MaxStartups); more are closed at once.
  std::size_t max_startups = 10;
  // A connection with no message from the client for this long is disconnected (zero: never).
  std::chrono::milliseconds idle_timeout{0};
  // After stop(): how long open channels may go on before their connections are disconnected.
  std::chrono::milliseconds stop_grace{std::chrono::seconds{5}};
};

namespace detail {

// Copies from -> to until from ends; then half-closes to. Errors close both.
template <class From, class To>
boost::asio::awaitable<void> splice_one(From& from, To& to, bool& failed) {
  constexpr auto tok = boost::asio::as_tuple(boost::asio::use_awaitable);
  std::vector<char> buf(64 * 1024);
  for (;;) {
    auto [ec, n] = co_await from.async_read_some(boost::asio::buffer(buf), tok);
    if (n) {
      auto [wec, w] = co_await boost::asio::async_write(to, boost::asio::buffer(buf.data(), n), tok);
      if (wec) {
        failed = true;
        break;
      }
    }
    if (ec) {
      if (ec != boost::asio::error::eof) failed = true;
      break;
    }
    if (failed) break;
  }
  error_code ignored;
  if constexpr (requires { to.send_eof(); })
    to.send_eof();
  else
    to.shutdown(To::shutdown_send, ignored);
  if (failed) {
    from.close(ignored);
    to.close(ignored);
  }
}

// Joins a channel and a socket both ways until both directions ended.
template <class Socket>
boost::asio::awaitable<void> splice(channel& ch, Socket& sock) {
  using namespace boost::asio::experimental::awaitable_operators;
  bool failed = false;
  auto both = splice_one(ch, sock, failed) && splice_one(sock, ch, failed);
  co_await std::move(both);
  error_code ignored;
  sock.close(ignored);
  ch.close();
  co_await ch.async_wait_closed(boost::asio::as_tuple(boost::asio::use_awaitable));
}

}  // namespace detail

class server {
 public:
  using executor_type = boost::asio::any_io_executor;
  using tcp = boost::asio::ip::tcp;
  using connection_type = ssh::connection<tcp::socket>;

  // a must outlive the server (it is used by reference from every connection).
  template <auth::authenticator A>
  server(executor_type ex, server_options options, const A& a, handler_factory factory)
      : ex_(ex),
        opts_(std::move(options)),
        factory_(std::move(factory)),
        acceptor_(boost::asio::make_strand(ex)) {
    authenticate_ = [&a](transport<tcp::socket>& t, server_auth_options o) {
      return detail::auth_server(t, proto::make_backend(a), std::move(o));
    };
  }

  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // Binds and listens. Call before async_run.
  error_code listen(const tcp::endpoint& ep) {
    error_code ec;
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(boost::asio::socket_base::max_listen_connections, ec);
    return ec;
  }
  tcp::endpoint local_endpoint() const {
    error_code ec;
    return acceptor_.local_endpoint(ec);
  }

  // Accepts until stop(), then completes once every connection ended. Signature: void(error_code).
  template <class Token>
  auto async_run(Token&& token) {
    return detail::launch<void(error_code)>(acceptor_.get_executor(), std::forward<Token>(token),
                                            [this]() { return run(); });
  }

  // Graceful stop, from any thread: no new connections or channels; channels that are open get
  // stop_grace to finish; then every connection is disconnected and async_run completes.
  void stop() {
    {
      std::lock_guard l{m_};
      if (stopping_) return;
      stopping_ = true;
      stop_deadline_ = std::chrono::steady_clock::now() + opts_.stop_grace;
      for (auto& c : live_) c->stop.store(true);
    }
    boost::asio::post(acceptor_.get_executor(), [this] {
      error_code ignored;
      acceptor_.close(ignored);
    });
  }

  // Connections open now, and those of them not authenticated yet.
  std::size_t connection_count() const {
    std::lock_guard l{m_};
    return live_.size();
  }
  std::size_t unauthenticated_count() const {
    std::lock_guard l{m_};
    return unauth_;
  }

 private:
  static constexpr auto tok = boost::asio::as_tuple(boost::asio::use_awaitable);

  struct live_connection {
    std::atomic<bool> stop{false};
  };

  // Everything one authenticated connection needs while it runs (lives in serve()'s frame).
  struct conn_context {
    connection_type& conn;
    auth::grant grant;
    std::unique_ptr<connection_handler> handler;
    std::shared_ptr<live_connection> live;
    std::string remote;
    std::size_t active = 0;  // child coroutines still running
    std::map<std::pair<std::string, std::uint32_t>, std::shared_ptr<tcp::acceptor>> forwards;
  };

  boost::asio::awaitable<error_code> run() {
    for (;;) {
      auto [ec, sock] = co_await acceptor_.async_accept(boost::asio::make_strand(ex_), tok);
      if (ec) {
        if (!acceptor_.is_open()) break;
        continue;  // EMFILE and the like: keep serving
      }
      auto ex = sock.get_executor();
      boost::asio::co_spawn(ex, serve(std::move(sock)), boost::asio::detached);
    }
    // Wait for the connections to end (stop() makes them).
    boost::asio::steady_timer t{acceptor_.get_executor()};
    while (connection_count() > 0) {
      t.expires_after(std::chrono::milliseconds{20});
      co_await t.async_wait(tok);
    }
    co_return error_code{};
  }

  std::shared_ptr<live_connection> register_connection(bool& refused) {
    auto live = std::make_shared<live_connection>();
    std::lock_guard l{m_};
    refused = stopping_ || unauth_ >= opts_.max_startups;
    if (refused) return nullptr;
    ++unauth_;
    live_.push_back(live);
    return live;
  }
  void unregister(const std::shared_ptr<live_connection>& live, bool authenticated) {
    std::lock_guard l{m_};
    if (!authenticated) --unauth_;
    live_.remove(live);
  }
  void authenticated() {
    std::lock_guard l{m_};
    --unauth_;
  }

  boost::asio::awaitable<void> serve(tcp::socket sock) {
    bool refused = false;
    auto live = register_connection(refused);
    if (refused) {
      error_code ignored;
      sock.close(ignored);
      co_return;
    }
    error_code ec;
    auto ep = sock.remote_endpoint(ec);
    std::string remote = ec ? std::string{} : ep.address().to_string();
    sock.set_option(tcp::no_delay{true}, ec);
    auto conn = std::make_unique<connection_type>(role::server, opts_.transport, opts_.connection,
                                                  std::move(sock));
    auto [hec] = co_await conn->transport().async_handshake(tok);
    if (hec) {
      unregister(live, false);
      co_return;
    }
    auto ao = opts_.auth;
    ao.remote_address = remote;
    auto [aec, grant] = co_await authenticate_(conn->transport(), std::move(ao));
    if (aec) {
      unregister(live, false);
      co_return;
    }
    authenticated();
    conn_context ctx{*conn, std::move(grant), nullptr, live, remote, 0, {}};
    ctx.handler = factory_ ? factory_(ctx.grant) : nullptr;
    if (!ctx.handler) ctx.handler = std::make_unique<connection_handler>();
    co_await serve_connection(ctx);
    unregister(live, true);
  }

  boost::asio::awaitable<void> serve_connection(conn_context& ctx) {
    auto& conn = ctx.conn;
    conn.set_channel_filter([&ctx](std::string_view type) {
      if (ctx.live->stop.load()) return false;
      return type == proto::names::session || type == proto::names::direct_tcpip ||
             type == proto::names::direct_streamlocal;
    });
    conn.set_global_request_handler([this, &ctx](std::string_view name, byte_view data) {
      return global_request(ctx, name, data);
    });
    bool run_done = false;
    conn.async_run([&run_done](error_code) { run_done = true; });
    ++ctx.active;
    boost::asio::co_spawn(conn.get_executor(), watch(ctx, run_done), boost::asio::detached);
    for (;;) {
      auto [ec, ch] = co_await conn.async_accept(tok);
      if (ec) break;
      ++ctx.active;
      if (ch.type() == proto::names::session) {
        boost::asio::co_spawn(conn.get_executor(), run_session(ctx, std::move(ch)),
                              boost::asio::detached);
      } else {
        boost::asio::co_spawn(conn.get_executor(), run_forward(ctx, std::move(ch)),
                              boost::asio::detached);
      }
    }
    for (auto& [key, a] : ctx.forwards) {
      error_code ignored;
      a->close(ignored);
    }
    // Children end once the connection did (their channels fail); wait for them.
    boost::asio::steady_timer t{conn.get_executor()};
    while (ctx.active > 0 || !run_done) {
      t.expires_after(std::chrono::milliseconds{10});
      co_await t.async_wait(tok);
    }
  }

  // Idle timeout and graceful stop, checked a few times a second.
  boost::asio::awaitable<void> watch(conn_context& ctx, bool& run_done) {
    boost::asio::steady_timer t{ctx.conn.get_executor()};
    while (!run_done) {
      t.expires_after(std::chrono::milliseconds{100});
      co_await t.async_wait(tok);
      if (run_done) break;
      auto now = std::chrono::steady_clock::now();
      bool end = false;
      if (opts_.idle_timeout.count() > 0 && now - ctx.conn.core().last_activity() > opts_.idle_timeout)
        end = true;
      if (ctx.live->stop.load()) {
        std::chrono::steady_clock::time_point deadline;
        {
          std::lock_guard l{m_};
          deadline = stop_deadline_;
        }
        if (ctx.conn.core().channel_count() == 0 || now >= deadline) end = true;
      }
      if (end) {
        co_await ctx.conn.async_disconnect(tok);
        break;
      }
    }
    --ctx.active;
  }

  std::optional<bytes> global_request(conn_context& ctx, std::string_view name, byte_view data) {
    if (name == proto::names::tcpip_forward) {
      proto::tcpip_forward_request r;
      if (wire::decode(data, r) || r.port > 65535) return std::nullopt;
      if (!ctx.grant.perms.port_forwarding || !ctx.handler->tcpip_forward(r.address, r.port))
        return std::nullopt;
      // GatewayPorts no: "", "localhost" and loopback names bind the loopback address.
      error_code ec;
      auto addr = boost::asio::ip::make_address(
          r.address.empty() || r.address == "localhost" ? "127.0.0.1" : r.address, ec);
      if (ec) return std::nullopt;
      auto a = std::make_shared<tcp::acceptor>(ctx.conn.get_executor());
      tcp::endpoint ep{addr, static_cast<std::uint16_t>(r.port)};
      a->open(ep.protocol(), ec);
      if (!ec) a->set_option(tcp::acceptor::reuse_address(true), ec);
      if (!ec) a->bind(ep, ec);
      if (!ec) a->listen(boost::asio::socket_base::max_listen_connections, ec);
      if (ec) return std::nullopt;
      auto bound = a->local_endpoint(ec).port();
      ctx.forwards[{r.address, bound}] = a;
      ++ctx.active;
      boost::asio::co_spawn(ctx.conn.get_executor(), forward_listener(ctx, a, r.address, bound),
                            boost::asio::detached);
      if (r.port == 0) return wire::encode(proto::tcpip_forward_reply{bound});
      return bytes{};
    }
    if (name == proto::names::cancel_tcpip_forward) {
      proto::tcpip_forward_request r;
      if (wire::decode(data, r)) return std::nullopt;
      auto it = ctx.forwards.find({r.address, r.port});
      if (it == ctx.forwards.end()) return std::nullopt;
      error_code ignored;
      it->second->close(ignored);
      ctx.forwards.erase(it);
      return bytes{};
    }
    return std::nullopt;  // keepalive@openssh.com and the rest: failure, as sshd
  }

  boost::asio::awaitable<void> forward_listener(conn_context& ctx, std::shared_ptr<tcp::acceptor> a,
                                                std::string address, std::uint16_t port) {
    for (;;) {
      auto [ec, s] = co_await a->async_accept(tok);
      if (ec) break;
      ++ctx.active;
      boost::asio::co_spawn(ctx.conn.get_executor(), forward_out(ctx, std::move(s), address, port),
                            boost::asio::detached);
    }
    --ctx.active;
  }

  // A connection to a remote forward: a forwarded-tcpip channel to the client, joined to it.
  boost::asio::awaitable<void> forward_out(conn_context& ctx, tcp::socket s, std::string address,
                                           std::uint16_t port) {
    error_code ec;
    auto peer = s.remote_endpoint(ec);
    proto::forwarded_tcpip_open info{address, port, ec ? "" : peer.address().to_string(),
                                     ec ? 0u : peer.port()};
    auto payload = wire::encode(info);
    std::string type{proto::names::forwarded_tcpip};
    auto [oec, ch] = co_await ctx.conn.async_open_channel(type, std::move(payload), tok);
    if (!oec) co_await detail::splice(ch, s);
    --ctx.active;
  }

  // direct-tcpip and direct-streamlocal: connect, then join.
  boost::asio::awaitable<void> run_forward(conn_context& ctx, channel ch) {
    auto ex = ctx.conn.get_executor();
    if (ch.type() == proto::names::direct_tcpip) {
      proto::direct_tcpip_open r;
      if (wire::decode(ch.open_data(), r) || r.port_to_connect > 65535 ||
          !ctx.grant.perms.port_forwarding ||
          !ctx.handler->direct_tcpip(r.host_to_connect, r.port_to_connect)) {
        ch.reject(open_failure_reason::administratively_prohibited, "forwarding refused");
      } else {
        tcp::resolver resolver{ex};
        auto [rec, results] =
            co_await resolver.async_resolve(r.host_to_connect, std::to_string(r.port_to_connect), tok);
        tcp::socket s{ex};
        error_code cec = rec;
        if (!rec) {
          auto [c, ep] = co_await boost::asio::async_connect(s, results, tok);
          cec = c;
        }
        if (cec) {
          ch.reject(open_failure_reason::connect_failed, cec.message());
        } else {
          ch.accept();
          co_await detail::splice(ch, s);
        }
      }
    } else {
      proto::direct_streamlocal_open r;
      if (wire::decode(ch.open_data(), r) || !ctx.grant.perms.port_forwarding ||
          !ctx.handler->direct_streamlocal(r.socket_path)) {
        ch.reject(open_failure_reason::administratively_prohibited, "forwarding refused");
      } else {
        boost::asio::local::stream_protocol::socket s{ex};
        boost::asio::local::stream_protocol::endpoint ep{r.socket_path};
        auto [cec] = co_await s.async_connect(ep, tok);
        if (cec) {
          ch.reject(open_failure_reason::connect_failed, cec.message());
        } else {
          ch.accept();
          co_await detail::splice(ch, s);
        }
      }
    }
    --ctx.active;
  }

  // One session channel: requests until exec/shell/subsystem starts a task; then the task; then
  // exit-status, EOF, CLOSE.
  boost::asio::awaitable<void> run_session(conn_context& ctx, channel ch) {
    ch.accept();
    session s{std::move(ch), ctx.grant, ctx.remote};
    session_task task;
    auto& perms = ctx.grant.perms;
    auto start = [&](std::string kind, std::string command, session_task t) {
      if (!t) return false;
      s.set_started(std::move(kind), std::move(command));
      task = std::move(t);
      return true;
    };
    s.channel().set_request_handler([&](const detail::channel_request_view& r) -> bool {
      auto& h = *ctx.handler;
      const bool started = static_cast<bool>(task);
      if (r.type == proto::names::pty_req) {
        proto::pty_request p;
        if (started || wire::decode(r.data, p) || p.modes.size() > limits::ssh_max_pty_modes ||
            !perms.pty || !h.pty(s, p))
          return false;
        s.set_pty(std::move(p));
        return true;
      }
      if (r.type == proto::names::env) {
        proto::env_request e;
        if (started || wire::decode(r.data, e) || s.env().size() >= limits::ssh_max_env ||
            !h.env(s, e.name, e.value))
          return false;
        s.add_env(std::move(e.name), std::move(e.value));
        return true;
      }
      if (r.type == proto::names::exec || r.type == proto::names::shell ||
          r.type == proto::names::subsystem) {
        if (started) return false;
        if (r.type == proto::names::subsystem) {
          proto::subsystem_request q;
          if (wire::decode(r.data, q)) return false;
          if (perms.forced_command) return start("exec", *perms.forced_command, h.exec(s, *perms.forced_command));
          return start("subsystem", q.name, h.subsystem(s, q.name));
        }
        if (r.type == proto::names::exec) {
          proto::exec_request q;
          if (wire::decode(r.data, q)) return false;
          auto cmd = perms.forced_command ? *perms.forced_command : q.command;
          return start("exec", cmd, h.exec(s, cmd));
        }
        if (perms.forced_command) return start("exec", *perms.forced_command, h.exec(s, *perms.forced_command));
        return start("shell", "", h.shell(s));
      }
      if (r.type == proto::names::window_change) {
        proto::window_change_request w;
        if (wire::decode(r.data, w)) return false;
        s.set_window(w);
        if (s.on_window_change) s.on_window_change(w);
        return true;
      }
      if (r.type == proto::names::signal) {
        proto::signal_request q;
        if (wire::decode(r.data, q) || !s.on_signal) return false;
        s.on_signal(q.name);
        return true;
      }
      if (r.type == proto::names::break_) {
        proto::break_request q;
        if (wire::decode(r.data, q) || !s.on_break) return false;
        return s.on_break(q.length_ms);
      }
      return false;  // xon-xoff, x11-req, auth-agent-req and the rest
    });
    auto state = s.channel().state();
    while (!task && s.channel().is_open()) co_await state->changed.wait();
    if (task) {
      auto t = std::move(task);
      auto result = co_await t(s);
      s.on_window_change = nullptr;
      s.on_signal = nullptr;
      s.on_break = nullptr;
      if (s.channel().is_open()) {
        if (result.signal.empty())
          s.channel().send_exit_status(result.status);
        else
          s.channel().send_exit_signal(result.signal, result.core_dumped, result.message);
        s.channel().send_eof();
      }
    }
    s.channel().set_request_handler(nullptr);
    s.channel().close();
    co_await s.channel().async_wait_closed(tok);
    --ctx.active;
  }

  executor_type ex_;
  server_options opts_;
  handler_factory factory_;
  tcp::acceptor acceptor_;
  std::function<boost::asio::awaitable<std::pair<error_code, auth::grant>>(
      transport<tcp::socket>&, server_auth_options)>
      authenticate_;
  mutable std::mutex m_;
  std::list<std::shared_ptr<live_connection>> live_;
  std::size_t unauth_ = 0;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point stop_deadline_{};
};

}  // namespace ferry::ssh
