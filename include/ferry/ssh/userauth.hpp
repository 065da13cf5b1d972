// SSH user authentication over ssh::transport (RFC 4252 "ssh-userauth"), both roles.
//
// Client:
//   ssh::client_auth_options o;
//   o.user = "alice";
//   o.identities.push_back(ssh::identity_from_key(key));      // or agent.identities()
//   o.password = [] { return std::optional<secure_bytes>{...}; };
//   co_await ssh::async_authenticate(transport, std::move(o), use_awaitable);
//
// Server (after the transport handshake; the transport answers SERVICE_REQUEST itself):
//   auto grant = co_await ssh::async_accept_auth(transport, authenticator, options, use_awaitable);
//
// Both take any completion token. The client completes with void(error_code): success, the
// transport's error, or no_more_auth_methods_available (after sending DISCONNECT with it). The
// server completes with void(error_code, auth::grant): on failure the DISCONNECT has been sent
// (reason as the error), or the login grace time ran out (asio::error::timed_out, connection
// closed). Authenticator calls run synchronously on the transport's executor; a slow one
// (password hashing) holds that executor for the duration of the check.
#pragma once

#include <ferry/core/secure.hpp>
#include <ferry/ssh/proto/userauth_client.hpp>
#include <ferry/ssh/proto/userauth_server.hpp>
#include <ferry/ssh/transport.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <exception>
#include <memory>
#include <utility>

namespace ferry::ssh {

using proto::client_identity;
using proto::identity_from_key;

struct client_auth_options : proto::userauth_client_config {};

struct server_auth_options : proto::userauth_server_config {
  // sshd's LoginGraceTime: authentication must finish within this time (zero: no limit).
  std::chrono::milliseconds login_grace_time{std::chrono::seconds{120}};
  // A failed attempt is answered no sooner than this after its request arrived, so failures
  // take the same time whatever failed (unknown user, wrong key, wrong password).
  std::chrono::milliseconds failure_delay{std::chrono::milliseconds{50}};
};

namespace detail {

template <class Signature, class Executor, class Token, class Body>
auto launch_auth(Executor ex, Token&& token, Body body) {
  return boost::asio::async_initiate<Token, Signature>(
      [ex](auto handler, Body b) {
        auto hex = boost::asio::get_associated_executor(handler, ex);
        boost::asio::co_spawn(
            ex, b(),
            boost::asio::bind_executor(
                hex, [h = std::move(handler)](std::exception_ptr e, auto result) mutable {
                  if (e) std::rethrow_exception(e);
                  if constexpr (std::is_same_v<decltype(result), error_code>)
                    std::move(h)(result);
                  else
                    std::move(h)(result.first, std::move(result.second));
                }));
      },
      token, std::move(body));
}

template <class NextLayer>
void close_layer(NextLayer& n) {
  if constexpr (requires(NextLayer& l, error_code& e) { l.close(e); }) {
    error_code ignored;
    n.close(ignored);
  } else if constexpr (requires(NextLayer& l) { l.close(); }) {
    n.close();
  }
}

template <class NextLayer>
std::string remote_address_of(NextLayer& n) {
  if constexpr (requires(NextLayer& l, error_code& e) { l.remote_endpoint(e).address().to_string(); }) {
    error_code ec;
    auto ep = n.remote_endpoint(ec);
    if (!ec) return ep.address().to_string();
  }
  return {};
}

template <class NextLayer>
boost::asio::awaitable<error_code, typename NextLayer::executor_type> auth_client(
    transport<NextLayer>& t, client_auth_options o) {
  using executor = typename NextLayer::executor_type;
  constexpr auto tok = boost::asio::as_tuple(boost::asio::use_awaitable_t<executor>{});
  if (t.session_id().empty()) co_return make_error_code(errc::unexpected_message);
  if (auto [ec] = co_await t.async_request_service("ssh-userauth", tok); ec) co_return ec;
  proto::userauth_client_machine m{std::move(o), t.session_id(),
                                   proto::server_sig_algs(t.peer_extensions())};
  m.start();
  bytes in;
  for (;;) {
    for (auto& p : m.take_output()) {
      auto [ec] = co_await t.async_write_packet(p, tok);
      secure_wipe(p.data(), p.size());  // may hold a password or INFO_RESPONSE answers
      if (ec) co_return ec;
    }
    if (m.succeeded()) co_return error_code{};
    auto [ec, n] = co_await t.async_read_packet(in, tok);
    if (ec) co_return ec;
    auto ev = m.process(in);
    if (ev == proto::userauth_client_machine::event::failure) {
      auto reason = static_cast<disconnect_reason>(m.error().value());
      co_await t.async_disconnect(reason, "authentication failed", tok);
      co_return m.error();
    }
  }
}

template <class NextLayer>
boost::asio::awaitable<std::pair<error_code, auth::grant>, typename NextLayer::executor_type>
auth_server(transport<NextLayer>& t, proto::auth_backend backend, server_auth_options o) {
  using executor = typename NextLayer::executor_type;
  constexpr auto tok = boost::asio::as_tuple(boost::asio::use_awaitable_t<executor>{});
  // Without a finished key exchange there is no session id to bind signatures to.
  if (t.session_id().empty())
    co_return std::pair{make_error_code(errc::unexpected_message), auth::grant{}};
  if (o.remote_address.empty()) o.remote_address = remote_address_of(t.next_layer());
  proto::userauth_server_machine m{o, std::move(backend), t.session_id()};

  // LoginGraceTime: closing the next layer fails the pending read.
  auto timed_out = std::make_shared<bool>(false);
  boost::asio::steady_timer grace{t.get_executor()};
  if (o.login_grace_time.count() > 0) {
    grace.expires_after(o.login_grace_time);
    grace.async_wait([timed_out, &t](error_code ec) {
      if (ec) return;
      *timed_out = true;
      close_layer(t.next_layer());
    });
  }
  boost::asio::steady_timer delay{t.get_executor()};
  bytes in;
  for (;;) {
    auto [ec, n] = co_await t.async_read_packet(in, tok);
    if (*timed_out) co_return std::pair{make_error_code(boost::asio::error::timed_out), auth::grant{}};
    if (ec) {
      grace.cancel();
      co_return std::pair{ec, auth::grant{}};
    }
    const auto arrived = std::chrono::steady_clock::now();
    auto ev = m.process(in);
    secure_wipe(in.data(), in.size());
    if (m.last_failed() && o.failure_delay.count() > 0) {
      delay.expires_at(arrived + o.failure_delay);
      co_await delay.async_wait(tok);
    }
    for (auto& p : m.take_output()) {
      auto [wec] = co_await t.async_write_packet(p, tok);
      if (wec) {
        grace.cancel();
        co_return std::pair{*timed_out ? make_error_code(boost::asio::error::timed_out) : wec,
                            auth::grant{}};
      }
    }
    using event = proto::userauth_server_machine::event;
    if (ev == event::success) {
      grace.cancel();
      co_return std::pair{error_code{}, m.granted()};
    }
    if (ev == event::disconnect) {
      grace.cancel();
      co_await t.async_disconnect(m.reason(), m.description(), tok);
      co_return std::pair{make_error_code(m.reason()), auth::grant{}};
    }
  }
}

}  // namespace detail

// Client: requests "ssh-userauth" and authenticates. Signature: void(error_code).
template <class NextLayer, class Token>
auto async_authenticate(transport<NextLayer>& t, client_auth_options options, Token&& token) {
  return detail::launch_auth<void(error_code)>(
      t.get_executor(), std::forward<Token>(token),
      [&t, o = std::move(options)]() mutable { return detail::auth_client(t, std::move(o)); });
}

// Server: authenticates the client against a, which must outlive the operation (it is used by
// reference). LoginGraceTime runs from this call; the transport's handshake_timeout covers the
// time before it. Signature: void(error_code, auth::grant).
template <class NextLayer, auth::authenticator A, class Token>
auto async_accept_auth(transport<NextLayer>& t, const A& a, server_auth_options options,
                       Token&& token) {
  return detail::launch_auth<void(error_code, auth::grant)>(
      t.get_executor(), std::forward<Token>(token),
      [&t, b = proto::make_backend(a), o = std::move(options)]() mutable {
        return detail::auth_server(t, std::move(b), std::move(o));
      });
}

}  // namespace ferry::ssh
