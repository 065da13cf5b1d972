// ssh::client: an SSH client in one call — TCP connect, transport handshake, host key check,
// user authentication — and then commands, sessions, subsystems and forwarding over one
// connection.
//
//   ssh::client_options o;
//   o.transport.verify_host_key = auth::known_hosts_verifier(...);
//   o.auth.user = "alice";
//   o.auth.identities.push_back(ssh::identity_from_key(key));
//   ssh::client<> c{ex, std::move(o)};
//   co_await c.async_connect("example.org", 22, use_awaitable);
//   auto r = co_await c.async_exec("uname -a", use_awaitable);   // r.out, r.err, r.exit_status
//   auto sftp = co_await c.async_open_subsystem("sftp", use_awaitable);   // an ssh::channel
//   co_await c.async_disconnect(use_awaitable);
//
// client<NextLayer> also runs over any connected stream: client<ssh::channel> over a direct-tcpip
// channel of another client is ProxyJump (async_handshake instead of async_connect). Use a client
// from its executor (strand); await async_disconnect (or the connection's end) before destroying
// it.
#pragma once

#include <ferry/ssh/agent.hpp>
#include <ferry/ssh/connection.hpp>
#include <ferry/ssh/userauth.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <array>
#include <optional>
#include <string>

namespace ferry::ssh {

struct client_options {
  transport_options transport;  // transport.verify_host_key decides whether the server is trusted
  client_auth_options auth;     // user, identities, password and keyboard-interactive callbacks
  connection_options connection;
  // Also offer the identities of the ssh-agent at agent_socket (empty: $SSH_AUTH_SOCK), before
  // the key files (a file key the agent holds is offered once), as OpenSSH does.
  bool use_agent = false;
  std::string agent_socket;
  // What async_exec collects of stdout and stderr each.
  std::size_t max_exec_output = limits::ssh_exec_max_output;
};

// What a command did (RFC 4254 §6.10): exit_status, or exit_signal when a signal ended it.
struct exec_result {
  std::string out;
  std::string err;
  std::optional<std::uint32_t> exit_status;
  std::optional<exit_signal_request> exit_signal;
};

// A remote forward the server accepted (RFC 4254 §7.1): the address and the port it bound.
struct remote_forward {
  std::string address;
  std::uint16_t port = 0;
};

template <class NextLayer = boost::asio::ip::tcp::socket>
class client {
 public:
  using connection_type = ssh::connection<NextLayer>;
  using executor_type = boost::asio::any_io_executor;

  // A client that connects over TCP (async_connect).
  client(executor_type ex, client_options options)
    requires std::is_same_v<NextLayer, boost::asio::ip::tcp::socket>
      : ex_(std::move(ex)), opts_(std::move(options)), ended_(ex_) {}

  // A client over an already connected stream (async_handshake).
  template <class... Args>
  client(client_options options, Args&&... next_layer_args)
      : opts_(std::move(options)),
        conn_(std::in_place, role::client, opts_.transport, opts_.connection,
              std::forward<Args>(next_layer_args)...),
        ended_(conn_->get_executor()) {
    ex_ = conn_->get_executor();
  }

  client(const client&) = delete;
  client& operator=(const client&) = delete;

  executor_type get_executor() const { return ex_; }
  connection_type& connection() { return *conn_; }
  typename connection_type::transport_type& transport() { return conn_->transport(); }
  bool connected() const noexcept { return conn_ && running_ && !conn_->ended(); }

  // Resolves host, connects, then async_handshake. Signature: void(error_code).
  template <class Token>
  auto async_connect(std::string host, std::uint16_t port, Token&& token)
    requires std::is_same_v<NextLayer, boost::asio::ip::tcp::socket>
  {
    return detail::launch<void(error_code)>(
        ex_, std::forward<Token>(token),
        [this, h = std::move(host), port]() { return do_connect(h, port); });
  }

  // Transport handshake (host key verified by transport.verify_host_key), authentication, then
  // the connection runs. Signature: void(error_code).
  template <class Token>
  auto async_handshake(Token&& token) {
    return detail::launch<void(error_code)>(ex_, std::forward<Token>(token),
                                            [this]() { return do_handshake(); });
  }

  // Runs command with no input and collects its output. Signature: void(error_code, exec_result).
  template <class Token>
  auto async_exec(std::string command, Token&& token) {
    return detail::launch<void(error_code, exec_result)>(
        ex_, std::forward<Token>(token),
        [this, c = std::move(command)]() { return do_exec(c); });
  }

  // A session channel (no request made yet). Signature: void(error_code, channel).
  template <class Token>
  auto async_open_session(Token&& token) {
    return conn_->async_open_session(std::forward<Token>(token));
  }

  // A session running command; the channel carries its stdin/stdout (extended(): stderr).
  template <class Token>
  auto async_open_exec(std::string command, Token&& token) {
    return detail::launch<void(error_code, channel)>(
        ex_, std::forward<Token>(token), [this, c = std::move(command)]() {
          return open_with_request(std::string{proto::names::exec},
                                   wire::encode(proto::exec_request{c}));
        });
  }

  // A session running a subsystem ("sftp"). Signature: void(error_code, channel).
  template <class Token>
  auto async_open_subsystem(std::string name, Token&& token) {
    return detail::launch<void(error_code, channel)>(
        ex_, std::forward<Token>(token), [this, n = std::move(name)]() {
          return open_with_request(std::string{proto::names::subsystem},
                                   wire::encode(proto::subsystem_request{n}));
        });
  }

  // RFC 4254 §7.2 local forwarding: a channel to host:port from the server's side.
  template <class Token>
  auto async_open_direct_tcpip(std::string host, std::uint16_t port, Token&& token) {
    return conn_->async_open_direct_tcpip(host, port, std::forward<Token>(token));
  }

  // RFC 4254 §7.1 remote forwarding: the server listens on address:port (0: it picks) and opens a
  // forwarded-tcpip channel per connection, taken with async_accept_forwarded.
  // Signature: void(error_code, remote_forward).
  template <class Token>
  auto async_request_remote_forward(std::string address, std::uint16_t port, Token&& token) {
    return detail::launch<void(error_code, remote_forward)>(
        ex_, std::forward<Token>(token),
        [this, a = std::move(address), port]() { return do_remote_forward(a, port); });
  }

  template <class Token>
  auto async_cancel_remote_forward(std::string address, std::uint16_t port, Token&& token) {
    return detail::launch<void(error_code)>(
        ex_, std::forward<Token>(token),
        [this, a = std::move(address), port]() -> boost::asio::awaitable<error_code> {
          proto::tcpip_forward_request req{a, port};
          auto payload = wire::encode(req);
          std::string name{proto::names::cancel_tcpip_forward};
          auto [ec, data] = co_await conn_->async_global_request(name, std::move(payload), tok);
          co_return ec;
        });
  }

  // The next forwarded-tcpip channel (accepted; open_data() is a proto::forwarded_tcpip_open).
  // Signature: void(error_code, channel).
  template <class Token>
  auto async_accept_forwarded(Token&& token) {
    return detail::launch<void(error_code, channel)>(
        ex_, std::forward<Token>(token), [this]() -> boost::asio::awaitable<std::tuple<error_code, channel>> {
          auto [ec, ch] = co_await conn_->async_accept(tok);
          if (!ec) ch.accept();
          co_return std::tuple{ec, std::move(ch)};
        });
  }

  // OpenSSH PROTOCOL §2.2: the server refuses further session channels.
  void send_no_more_sessions() { conn_->send_global_request(proto::names::no_more_sessions); }

  // Sends what is queued, DISCONNECT, and waits for the connection to end. Signature:
  // void(error_code).
  template <class Token>
  auto async_disconnect(Token&& token) {
    return detail::launch<void(error_code)>(ex_, std::forward<Token>(token),
                                            [this]() -> boost::asio::awaitable<error_code> {
                                              if (!conn_) co_return error_code{};
                                              co_await conn_->async_disconnect(tok);
                                              while (running_) co_await ended_.wait();
                                              co_return error_code{};
                                            });
  }

  // Completes when the connection ends, with why. Signature: void(error_code).
  template <class Token>
  auto async_wait_ended(Token&& token) {
    return detail::launch<void(error_code)>(ex_, std::forward<Token>(token),
                                            [this]() -> boost::asio::awaitable<error_code> {
                                              while (running_) co_await ended_.wait();
                                              co_return run_error_;
                                            });
  }

 private:
  static constexpr auto tok = boost::asio::as_tuple(boost::asio::use_awaitable);

  boost::asio::awaitable<error_code> do_connect(std::string host, std::uint16_t port)
    requires std::is_same_v<NextLayer, boost::asio::ip::tcp::socket>
  {
    boost::asio::ip::tcp::resolver resolver{ex_};
    auto [rec, results] = co_await resolver.async_resolve(host, std::to_string(port), tok);
    if (rec) co_return rec;
    boost::asio::ip::tcp::socket socket{ex_};
    auto [cec, ep] = co_await boost::asio::async_connect(socket, results, tok);
    if (cec) co_return cec;
    socket.set_option(boost::asio::ip::tcp::no_delay{true});
    conn_.emplace(role::client, opts_.transport, opts_.connection, std::move(socket));
    co_return co_await do_handshake();
  }

  boost::asio::awaitable<error_code> do_handshake() {
    if (!conn_) co_return make_error_code(errc::unexpected_message);
    if (auto [ec] = co_await conn_->transport().async_handshake(tok); ec) co_return ec;
    auto auth = opts_.auth;
    if (opts_.use_agent) {
      auto agent = std::make_shared<agent_client>();
      if (!agent->connect(opts_.agent_socket))
        auth.identities = agent_first(agent->client_identities(), std::move(auth.identities));
    }
    if (auto [ec] = co_await async_authenticate(conn_->transport(), std::move(auth), tok); ec)
      co_return ec;
    // Forwarded channels are accepted once a remote forward was asked for.
    conn_->set_channel_filter([this](std::string_view type) {
      return forwarding_ && (type == proto::names::forwarded_tcpip ||
                             type == proto::names::forwarded_streamlocal);
    });
    running_ = true;
    conn_->async_run([this](error_code ec) {
      run_error_ = ec;
      running_ = false;
      ended_.notify();
    });
    co_return error_code{};
  }

  // OpenSSH's order: the agent's keys first, then the key files the agent does not hold.
  static std::vector<proto::client_identity> agent_first(std::vector<proto::client_identity> agent,
                                                         std::vector<proto::client_identity> files) {
    for (auto& f : files) {
      bool held = false;
      for (const auto& a : agent) held = held || a.public_blob == f.public_blob;
      if (!held) agent.push_back(std::move(f));
    }
    return agent;
  }

  boost::asio::awaitable<std::tuple<error_code, channel>> open_with_request(std::string type,
                                                                           bytes payload) {
    auto [ec, ch] = co_await conn_->async_open_session(tok);
    if (ec) co_return std::tuple{ec, channel{}};
    auto [rec] = co_await ch.async_request(std::move(type), std::move(payload), tok);
    if (rec) co_return std::tuple{rec, channel{}};
    co_return std::tuple{error_code{}, std::move(ch)};
  }

  template <class Stream>
  static boost::asio::awaitable<error_code> collect(Stream& s, std::string& out, std::size_t limit) {
    std::array<char, 16384> buf;
    for (;;) {
      auto [ec, n] = co_await s.async_read_some(boost::asio::buffer(buf), tok);
      if (out.size() + n > limit) co_return make_error_code(channel_errc::output_limit);
      out.append(buf.data(), n);
      if (ec == boost::asio::error::eof) co_return error_code{};
      if (ec) co_return ec;
    }
  }

  boost::asio::awaitable<std::tuple<error_code, exec_result>> do_exec(std::string command) {
    using namespace boost::asio::experimental::awaitable_operators;
    exec_result r;
    proto::exec_request req{command};
    std::string type{proto::names::exec};
    auto [ec, ch] = co_await open_with_request(type, wire::encode(req));
    if (ec) co_return std::tuple{ec, std::move(r)};
    ch.send_eof();
    auto err = ch.extended();
    auto both = collect(ch, r.out, opts_.max_exec_output) &&
                collect(err, r.err, opts_.max_exec_output);
    auto [e1, e2] = co_await std::move(both);
    if (e1 || e2) co_return std::tuple{e1 ? e1 : e2, std::move(r)};
    auto [wec] = co_await ch.async_wait_closed(tok);
    r.exit_status = ch.exit_status();
    r.exit_signal = ch.exit_signal();
    co_return std::tuple{wec, std::move(r)};
  }

  boost::asio::awaitable<std::tuple<error_code, remote_forward>> do_remote_forward(
      std::string address, std::uint16_t port) {
    forwarding_ = true;
    proto::tcpip_forward_request req{address, port};
    auto payload = wire::encode(req);
    std::string name{proto::names::tcpip_forward};
    auto [ec, data] = co_await conn_->async_global_request(name, std::move(payload), tok);
    if (ec) co_return std::tuple{ec, remote_forward{}};
    remote_forward f{address, port};
    if (port == 0) {
      proto::tcpip_forward_reply reply;
      if (wire::decode(data, reply) || reply.port == 0 || reply.port > 65535)
        co_return std::tuple{make_error_code(errc::bad_value), remote_forward{}};
      f.port = static_cast<std::uint16_t>(reply.port);
    }
    co_return std::tuple{error_code{}, std::move(f)};
  }

  executor_type ex_;
  client_options opts_;
  std::optional<connection_type> conn_;
  detail::signal ended_;
  bool running_ = false;
  bool forwarding_ = false;
  error_code run_error_;
};

}  // namespace ferry::ssh
