// ssh::connection<NextLayer>: the SSH connection protocol (RFC 4254) over an ssh::transport,
// either role. It owns the transport; authenticate on transport() first, then run:
//
//   ssh::connection<tcp::socket> c{role::client, transport_options, connection_options, socket};
//   co_await c.transport().async_handshake(use_awaitable);
//   co_await ssh::async_authenticate(c.transport(), auth, use_awaitable);
//   co_spawn(ex, c.async_run(use_awaitable), ...);        // until the connection ends
//   auto ch = co_await c.async_open_session(use_awaitable);
//
// async_run reads every message and hands it to the channels (one reader), while one writer
// drains the queue of outgoing messages into the transport in order, so the reader never waits for
// the peer to read. Each channel buffers at most its window; the window re-opens as the
// application reads (back-pressure). Protocol violations end the connection with a DISCONNECT
// carrying the reason (protocol_error) and a description. Everything runs on the transport's
// executor; use the connection and its channels from that executor (strand) only. The connection
// must outlive async_run's completion.
#pragma once

#include <ferry/ssh/channel.hpp>
#include <ferry/ssh/transport.hpp>

#include <boost/asio/experimental/awaitable_operators.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace ferry::ssh {

template <class NextLayer>
class connection {
 public:
  using transport_type = ssh::transport<NextLayer>;
  using next_layer_type = transport_type;
  using executor_type = boost::asio::any_io_executor;

  template <class... Args>
  connection(role r, transport_options t, connection_options c, Args&&... next_layer_args)
      : transport_(r, std::move(t), std::forward<Args>(next_layer_args)...),
        core_(transport_.get_executor(), r, c),
        keepalive_timer_(transport_.get_executor()) {}

  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  transport_type& transport() noexcept { return transport_; }
  next_layer_type& next_layer() noexcept { return transport_; }
  executor_type get_executor() noexcept { return transport_.get_executor(); }
  detail::connection_core& core() noexcept { return core_; }
  const connection_options& options() const noexcept { return core_.options(); }

  // Which channel types the peer may open (they then wait in async_accept); the rest are
  // refused with unknown_channel_type. Unset: all are refused.
  void set_channel_filter(std::function<bool(std::string_view type)> f) {
    core_.accept_open_types = std::move(f);
  }
  // Answers the peer's global requests: a value is success with that reply data, nullopt is
  // failure. Unset: all fail (as OpenSSH answers keepalive@openssh.com).
  void set_global_request_handler(
      std::function<std::optional<bytes>(std::string_view name, byte_view data)> h) {
    core_.on_global_request = std::move(h);
  }

  bool ended() const noexcept { return core_.ended(); }
  error_code error() const noexcept { return core_.error(); }

  // Runs the reader, the writer and keepalives until the connection ends. Completes with success
  // after async_disconnect, else with why it ended. Signature: void(error_code).
  template <class Token>
  auto async_run(Token&& token) {
    return detail::launch<void(error_code)>(get_executor(), std::forward<Token>(token),
                                            [this]() { return run(); });
  }

  // Opens a channel of any type with its type-specific data. Signature: void(error_code, channel);
  // a refusal carries the peer's reason (ssh::open_failure_category()).
  template <class Token>
  auto async_open_channel(std::string type, bytes extra, Token&& token) {
    return detail::launch<void(error_code, channel)>(
        get_executor(), std::forward<Token>(token),
        [this, t = std::move(type), e = std::move(extra)]() mutable
        -> boost::asio::awaitable<std::tuple<error_code, channel>> {
          auto [ec, s] = co_await core_.open_channel(std::move(t), std::move(e));
          co_return std::tuple{ec, channel{std::move(s)}};
        });
  }

  template <class Token>
  auto async_open_session(Token&& token) {
    return async_open_channel(std::string{proto::names::session}, bytes{},
                              std::forward<Token>(token));
  }

  // RFC 4254 §7.2 local forwarding: a channel to host:port as seen from the peer.
  template <class Token>
  auto async_open_direct_tcpip(std::string_view host, std::uint16_t port, Token&& token,
                               std::string_view originator = "127.0.0.1",
                               std::uint16_t originator_port = 0) {
    return async_open_channel(
        std::string{proto::names::direct_tcpip},
        wire::encode(proto::direct_tcpip_open{std::string{host}, port, std::string{originator},
                                              originator_port}),
        std::forward<Token>(token));
  }

  // OpenSSH PROTOCOL §2.4: a channel to a unix socket on the peer's side.
  template <class Token>
  auto async_open_direct_streamlocal(std::string_view path, Token&& token) {
    return async_open_channel(
        std::string{proto::names::direct_streamlocal},
        wire::encode(proto::direct_streamlocal_open{std::string{path}, "", 0}),
        std::forward<Token>(token));
  }

  // The next channel the peer opened (of a type the filter lets through), not yet confirmed:
  // call accept() or reject() on it. Signature: void(error_code, channel).
  template <class Token>
  auto async_accept(Token&& token) {
    return detail::launch<void(error_code, channel)>(
        get_executor(), std::forward<Token>(token),
        [this]() -> boost::asio::awaitable<std::tuple<error_code, channel>> {
          co_await detail::allow_cancellation();
          auto [ec, s] = co_await core_.accept_channel();
          co_return std::tuple{ec, channel{std::move(s)}};
        });
  }

  // A global request with want_reply. Signature: void(error_code, bytes reply_data);
  // request_failed when the peer refuses.
  template <class Token>
  auto async_global_request(std::string name, bytes payload, Token&& token) {
    return detail::launch<void(error_code, bytes)>(
        get_executor(), std::forward<Token>(token),
        [this, n = std::move(name), p = std::move(payload)]() mutable {
          return core_.global_request(std::move(n), std::move(p));
        });
  }
  void send_global_request(std::string_view name, byte_view payload = {}) {
    core_.global_request_no_reply(name, payload);
  }

  // Sends what is queued, then DISCONNECT (by_application); async_run then completes.
  // Signature: void(error_code).
  template <class Token>
  auto async_disconnect(Token&& token) {
    return detail::launch<void(error_code)>(get_executor(), std::forward<Token>(token),
                                            [this]() -> boost::asio::awaitable<error_code> {
                                              closing_ = true;
                                              core_.notify_writer();
                                              if (!running_) {
                                                co_await transport_.async_disconnect(
                                                    disconnect_reason::by_application, "",
                                                    boost::asio::as_tuple(boost::asio::use_awaitable));
                                                core_.fail(make_error_code(channel_errc::connection_closed));
                                              }
                                              co_return error_code{};
                                            });
  }

 private:
  static constexpr auto tok = boost::asio::as_tuple(boost::asio::use_awaitable);
  // Bytes sealed per gather write at most.
  static constexpr std::size_t max_write_batch = 1024 * 1024;

  boost::asio::awaitable<error_code> run() {
    using namespace boost::asio::experimental::awaitable_operators;
    running_ = true;
    auto all = reader() && writer() && keepalive();
    co_await std::move(all);
    running_ = false;
    if (closing_) co_return error_code{};
    co_return core_.error();
  }

  // The loops call the transport's coroutines directly (no co_spawn per packet). The reader
  // hands each decrypted payload to the core where it lies in the transport's input buffer.
  boost::asio::awaitable<void> reader() {
    while (!core_.ended()) {
      // A peer that does not read our replies does not get to make us queue more of them.
      while (core_.machine().output_bytes() > limits::ssh_max_queued_output && !core_.ended())
        co_await core_.space_signal().wait();
      if (core_.ended()) break;
      auto [ec, payload] = co_await transport_.read_packet_view();
      if (ec) {
        core_.fail(closing_ ? make_error_code(channel_errc::connection_closed) : ec);
        break;
      }
      // payload is valid only until the transport runs again: handle it before any co_await.
      if (!core_.handle(payload, transport_.received_sequence())) {
        auto reason = core_.machine().error();
        co_await transport_.async_disconnect(reason, core_.machine().description(), tok);
        core_.fail(make_error_code(reason));
        break;
      }
    }
    keepalive_timer_.cancel();
  }

  // Takes every queued message, seals each in place into the transport's output and writes the
  // batch with one gather write, while channels queue the next batch.
  boost::asio::awaitable<void> writer() {
    bytes packet;
    for (;;) {
      while (!core_.machine().has_output() && !core_.ended() && !closing_)
        co_await core_.writer_signal().wait();
      if (core_.ended()) break;
      if (!core_.machine().has_output()) {  // closing, and everything went out
        co_await transport_.async_disconnect(disconnect_reason::by_application, "", tok);
        core_.fail(make_error_code(channel_errc::connection_closed));
        break;
      }
      error_code ec;
      if (!transport_.can_send()) ec = co_await transport_.wait_writable();
      // Seal until the queue is empty or a key exchange starts (a rekey limit was reached):
      // what is left waits for the next round, in order.
      std::size_t batch = 0;
      while (!ec && core_.machine().has_output() && transport_.can_send() &&
             batch < max_write_batch) {
        core_.machine().pop_packet(packet);
        batch += packet.size();
        ec = transport_.send_in_place(packet);
      }
      core_.on_output_taken();
      if (!ec) ec = co_await transport_.flush_output();
      if (ec) {
        core_.fail(ec);
        // The reader may be waiting for the peer: a message the transport refused to seal must
        // end the connection for both sides, not leave it open with nobody writing.
        co_await transport_.async_disconnect(disconnect_reason::by_application, ec.message(), tok);
        break;
      }
    }
    keepalive_timer_.cancel();
  }

  boost::asio::awaitable<void> keepalive() {
    const auto interval = core_.options().keepalive_interval;
    if (interval.count() <= 0) co_return;
    unsigned missed = 0;
    auto seen = core_.packets_received();
    while (!core_.ended()) {
      keepalive_timer_.expires_after(interval);
      co_await keepalive_timer_.async_wait(tok);
      if (core_.ended() || closing_) break;
      if (core_.packets_received() != seen) {
        seen = core_.packets_received();
        missed = 0;
        continue;
      }
      if (missed >= core_.options().keepalive_max) {
        co_await transport_.async_disconnect(disconnect_reason::by_application,
                                             "keepalive timeout", tok);
        core_.fail(make_error_code(channel_errc::keepalive_timeout));
        break;
      }
      ++missed;
      core_.send_keepalive();
    }
  }

  transport_type transport_;
  detail::connection_core core_;
  boost::asio::steady_timer keepalive_timer_;
  bool closing_ = false;
  bool running_ = false;
};

}  // namespace ferry::ssh
