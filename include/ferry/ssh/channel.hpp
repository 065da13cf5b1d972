// ssh::channel: one SSH channel (RFC 4254 §5) as an Asio AsyncReadStream + AsyncWriteStream, so
// anything that runs over a stream (SFTP, SCP, a nested ssh::transport for ProxyJump) runs over
// it. Reading returns channel data, eof once the peer sent EOF (or closed) and everything was read;
// extended() is the same for stderr (extended data type 1). Writes wait for the peer's window
// (back-pressure) and complete once the data is queued for the transport.
//
//   auto ch = co_await conn.async_open_session(use_awaitable);
//   co_await ch.async_exec("ls -l", use_awaitable);     // want_reply; request_failed if refused
//   auto n = co_await ch.async_read_some(buf, use_awaitable);
//   ch.send_eof();  ch.close();  ch.exit_status();
//
// The local window re-opens only as the application reads, so a reader that stops reading stalls
// its sender. stdout and stderr share the window: read both (or discard_stderr()) when a command
// may write much to stderr. A channel belongs to its connection's executor (strand); use it there.
// Destroying a channel closes it (an incoming one not yet accepted is refused).
// Reads, writes and async_wait_closed support per-operation cancellation (any type: nothing is
// half-done, a cancelled write sent nothing); requests do not (their replies must still be
// matched in order).
#pragma once

#include <ferry/ssh/detail/connection_core.hpp>

#include <boost/asio/append.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/error.hpp>

#include <algorithm>
#include <array>
#include <memory>
#include <optional>
#include <tuple>
#include <string>
#include <string_view>
#include <utility>

namespace ferry::ssh {

using proto::exit_signal_request;
using proto::pty_request;
using proto::window_change_request;

namespace detail {

// The first non-empty buffer of a sequence (empty if none).
template <class MutableBuffers>
boost::asio::mutable_buffer first_buffer(const MutableBuffers& buffers) {
  for (auto it = boost::asio::buffer_sequence_begin(buffers); it != boost::asio::buffer_sequence_end(buffers); ++it) {
    boost::asio::mutable_buffer b{*it};
    if (b.size() > 0) return b;
  }
  return {};
}

// Lends a waiting read's buffer to a receive_buffer for as long as the read waits (also when its
// coroutine is destroyed while suspended).
struct lend_guard {
  receive_buffer& rx;
  lend_guard(receive_buffer& r, boost::asio::mutable_buffer b) : rx(r) {
    rx.lent = static_cast<std::uint8_t*>(b.data());
    rx.lent_size = b.size();
    rx.lent_used = 0;
  }
  ~lend_guard() {
    rx.lent = nullptr;
    rx.lent_size = 0;
    rx.lent_used = 0;
  }
  lend_guard(const lend_guard&) = delete;
  lend_guard& operator=(const lend_guard&) = delete;
};

using io_result = std::tuple<error_code, std::size_t>;

// One attempt at a read on the data (or stderr) stream: the result when the read can complete
// now, nullopt when it must wait for the peer.
template <class MutableBuffers>
std::optional<io_result> try_read(channel_state& s, const MutableBuffers& buffers, bool ext) {
  if (boost::asio::buffer_size(buffers) == 0) return io_result{error_code{}, 0};
  auto& rx = ext ? s.rx_stderr : s.rx;
  if (rx.size() > 0) {
    auto f = rx.first(), sec = rx.second();
    const std::array<boost::asio::const_buffer, 2> pieces{
        boost::asio::buffer(f.data(), f.size()), boost::asio::buffer(sec.data(), sec.size())};
    auto n = boost::asio::buffer_copy(buffers, pieces);
    rx.take(n);
    if (s.core) s.core->consume(s, n);
    return io_result{error_code{}, n};
  }
  if (s.close_sent && !s.closed) return io_result{make_error_code(channel_errc::channel_closed), 0};
  if (s.eof_received || s.closed || !s.core) {
    if (s.error && s.error != channel_errc::channel_closed) return io_result{s.error, 0};
    return io_result{make_error_code(boost::asio::error::eof), 0};
  }
  return std::nullopt;
}

// One attempt at a write: queues what the window allows (one copy, straight from the caller's
// buffers into the message the transport seals in place), or nullopt with what to wait for.
template <class ConstBuffers>
std::optional<io_result> try_write(channel_state& s, const ConstBuffers& buffers,
                                   std::uint32_t ext, bool& wait_for_space) {
  auto size = boost::asio::buffer_size(buffers);
  if (size == 0) return io_result{error_code{}, 0};
  if (!s.core) return io_result{make_error_code(channel_errc::connection_closed), 0};
  if (s.closed || s.close_sent) {
    auto ec = s.error && s.error != channel_errc::channel_closed
                  ? s.error
                  : make_error_code(channel_errc::channel_closed);
    return io_result{ec, 0};
  }
  auto& m = s.core->machine();
  if (m.eof_sent(s.id)) return io_result{make_error_code(channel_errc::channel_closed), 0};
  auto n = m.sendable(s.id);
  if (n > 0 && s.core->output_has_space()) {
    n = std::min(n, size);
    mutable_byte_view into;
    if (auto ec = s.core->send_data(s, n, ext, into)) return io_result{ec, 0};
    boost::asio::buffer_copy(boost::asio::buffer(into.data(), into.size()), buffers, n);
    return io_result{error_code{}, n};
  }
  wait_for_space = n > 0;
  return std::nullopt;
}

// Runs an I/O operation: when try_now() completes it at once, the handler is posted with its
// result (no coroutine is started); otherwise body (a coroutine) runs behind the token as launch().
template <class Token, class Try, class Body>
auto launch_io(const boost::asio::any_io_executor& ex, Token&& token, Try try_now, Body body) {
  return boost::asio::async_initiate<Token, void(error_code, std::size_t)>(
      [ex](auto handler, Try t, Body b) {
        if (auto r = t()) {
          boost::asio::post(ex, boost::asio::append(std::move(handler), std::get<0>(*r),
                                                    std::get<1>(*r)));
          return;
        }
        launch<void(error_code, std::size_t)>(ex, std::move(handler), std::move(b));
      },
      token, std::move(try_now), std::move(body));
}

// The one read/write body shared by the data and stderr streams.
template <class MutableBuffers, class Token>
auto channel_read(std::shared_ptr<channel_state> s, const MutableBuffers& buffers, bool ext,
                  Token&& token) {
  auto ex = s->changed_executor();
  auto try_now = [s, buffers, ext]() { return try_read(*s, buffers, ext); };
  return launch_io(
      ex, std::forward<Token>(token), std::move(try_now),
      [s = std::move(s), buffers, ext]() -> boost::asio::awaitable<io_result> {
        co_await allow_cancellation();
        for (;;) {
          if (auto r = try_read(*s, buffers, ext)) co_return *r;
          // Lend the first buffer to the stream while waiting: data arriving meanwhile lands in it
          // directly instead of passing through the channel's buffer.
          auto& rx = ext ? s->rx_stderr : s->rx;
          std::size_t got = 0;
          {
            lend_guard lend{rx, first_buffer(buffers)};
            co_await s->changed.wait();
            got = rx.lent_used;
          }
          if (got > 0) {
            if (s->core) s->core->consume(*s, got);
            co_return io_result{error_code{}, got};
          }
          if (co_await cancelled())
            co_return io_result{make_error_code(boost::asio::error::operation_aborted), 0};
        }
      });
}

template <class ConstBuffers, class Token>
auto channel_write(std::shared_ptr<channel_state> s, const ConstBuffers& buffers,
                   std::uint32_t ext, Token&& token) {
  auto ex = s->changed_executor();
  auto try_now = [s, buffers, ext]() {
    bool space = false;
    return try_write(*s, buffers, ext, space);
  };
  return launch_io(
      ex, std::forward<Token>(token), std::move(try_now),
      [s = std::move(s), buffers, ext]() -> boost::asio::awaitable<io_result> {
        co_await allow_cancellation();
        for (;;) {
          bool wait_for_space = false;
          if (auto r = try_write(*s, buffers, ext, wait_for_space)) co_return *r;
          if (wait_for_space)
            co_await s->core->space_signal().wait();
          else
            co_await s->changed.wait();
          if (co_await cancelled())
            co_return io_result{make_error_code(boost::asio::error::operation_aborted), 0};
        }
      });
}

}  // namespace detail

// The stderr side of a channel (extended data type 1) as its own stream.
class channel_extended {
 public:
  using executor_type = boost::asio::any_io_executor;
  explicit channel_extended(std::shared_ptr<detail::channel_state> s) : s_(std::move(s)) {}
  executor_type get_executor() const { return s_->changed_executor(); }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& b, Token&& token) {
    return detail::channel_read(s_, b, true, std::forward<Token>(token));
  }
  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& b, Token&& token) {
    return detail::channel_write(s_, b, proto::extended_data_stderr, std::forward<Token>(token));
  }

 private:
  std::shared_ptr<detail::channel_state> s_;
};

class channel {
 public:
  using executor_type = boost::asio::any_io_executor;

  channel() = default;
  explicit channel(std::shared_ptr<detail::channel_state> s) : s_(std::move(s)) {}
  channel(channel&& o) noexcept : s_(std::move(o.s_)) {}
  channel& operator=(channel&& o) noexcept {
    if (this != &o) {
      release();
      s_ = std::move(o.s_);
    }
    return *this;
  }
  ~channel() { release(); }

  executor_type get_executor() const { return s_->changed_executor(); }
  bool valid() const noexcept { return s_ != nullptr; }
  // Open, not closed by either side, and its connection alive.
  bool is_open() const noexcept { return s_ && s_->open && !s_->closed && !s_->close_sent && s_->core; }
  std::uint32_t id() const noexcept { return s_->id; }
  const std::string& type() const noexcept { return s_->type; }
  // The type-specific data of the peer's CHANNEL_OPEN (e.g. proto::direct_tcpip_open).
  byte_view open_data() const noexcept { return s_->open_data; }

  // --- an incoming channel (from connection::async_accept) ---------------------------------
  void accept() {
    if (s_ && s_->core) s_->core->accept(s_);
  }
  void reject(proto::open_failure_reason r, std::string_view text = {}) {
    if (s_ && s_->core) s_->core->reject(*s_, r, text);
  }

  // --- streams -------------------------------------------------------------------------------
  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& b, Token&& token) {
    return detail::channel_read(s_, b, false, std::forward<Token>(token));
  }
  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& b, Token&& token) {
    return detail::channel_write(s_, b, 0, std::forward<Token>(token));
  }
  channel_extended extended() const { return channel_extended{s_}; }
  // Extended data is dropped as it arrives (and its window given back).
  void discard_stderr() {
    s_->discard_stderr = true;
    if (auto n = s_->rx_stderr.size(); n > 0) {
      s_->rx_stderr.take(n);
      if (s_->core) s_->core->consume(*s_, n);
    }
  }
  // Bytes received and not read yet (data, stderr).
  std::size_t available() const noexcept { return s_->rx.size(); }
  std::size_t available_stderr() const noexcept { return s_->rx_stderr.size(); }

  // --- EOF and close -------------------------------------------------------------------------
  // RFC 4254 §5.3: no more data from us (after what was written).
  error_code send_eof() { return s_->core ? s_->core->send_eof(*s_) : make_error_code(channel_errc::connection_closed); }
  void shutdown_send(error_code& ec) { ec = send_eof(); }
  // Sends CLOSE; reads and writes end. async_wait_closed() then waits for the peer's CLOSE.
  error_code close() { return s_ && s_->core ? s_->core->close(*s_) : error_code{}; }
  void close(error_code& ec) { ec = close(); }
  bool eof_received() const noexcept { return s_->eof_received; }
  bool closed() const noexcept { return s_->closed; }

  // Completes once the peer's CLOSE arrived (or the connection ended: its error).
  template <class Token>
  auto async_wait_closed(Token&& token) {
    return detail::launch<void(error_code)>(
        get_executor(), std::forward<Token>(token), [s = s_]() -> boost::asio::awaitable<error_code> {
          co_await detail::allow_cancellation();
          while (!s->closed && s->core) {
            co_await s->changed.wait();
            if (co_await detail::cancelled()) co_return make_error_code(boost::asio::error::operation_aborted);
          }
          if (s->error && s->error != channel_errc::channel_closed) co_return s->error;
          co_return error_code{};
        });
  }

  // --- exit status (RFC 4254 §6.10) ----------------------------------------------------------
  std::optional<std::uint32_t> exit_status() const { return s_->exit_status; }
  std::optional<exit_signal_request> exit_signal() const { return s_->exit_signal; }
  error_code send_exit_status(std::uint32_t status) {
    return send_request(proto::names::exit_status, wire::encode(proto::exit_status_request{status}));
  }
  error_code send_exit_signal(std::string_view signal, bool core_dumped = false,
                              std::string_view message = {}) {
    return send_request(proto::names::exit_signal,
                        wire::encode(proto::exit_signal_request{std::string{signal}, core_dumped,
                                                                std::string{message}, ""}));
  }

  // --- requests (RFC 4254 §6) ----------------------------------------------------------------
  // A request with want_reply; completes with request_failed when the peer refuses it.
  template <class Token>
  auto async_request(std::string type, bytes payload, Token&& token) {
    return detail::launch<void(error_code)>(
        get_executor(), std::forward<Token>(token),
        [s = s_, t = std::move(type), p = std::move(payload)]() -> boost::asio::awaitable<error_code> {
          if (!s->core) co_return make_error_code(channel_errc::connection_closed);
          auto slot = std::make_shared<detail::reply_slot>();
          if (auto ec = s->core->send_request(*s, t, p, slot)) co_return ec;
          while (!slot->done) co_await s->changed.wait();
          if (slot->success) co_return error_code{};
          if (s->error && s->error != channel_errc::channel_closed) co_return s->error;
          co_return make_error_code(channel_errc::request_failed);
        });
  }
  // A request without want_reply.
  error_code send_request(std::string_view type, byte_view payload = {}) {
    if (!s_->core) return make_error_code(channel_errc::connection_closed);
    return s_->core->send_request(*s_, type, payload, nullptr);
  }

  template <class Token>
  auto async_exec(std::string_view command, Token&& token) {
    return async_request(std::string{proto::names::exec},
                         wire::encode(proto::exec_request{std::string{command}}),
                         std::forward<Token>(token));
  }
  template <class Token>
  auto async_subsystem(std::string_view name, Token&& token) {
    return async_request(std::string{proto::names::subsystem},
                         wire::encode(proto::subsystem_request{std::string{name}}),
                         std::forward<Token>(token));
  }
  template <class Token>
  auto async_shell(Token&& token) {
    return async_request(std::string{proto::names::shell}, bytes{}, std::forward<Token>(token));
  }
  template <class Token>
  auto async_pty(const pty_request& pty, Token&& token) {
    return async_request(std::string{proto::names::pty_req}, wire::encode(pty),
                         std::forward<Token>(token));
  }
  template <class Token>
  auto async_env(std::string_view name, std::string_view value, Token&& token) {
    return async_request(std::string{proto::names::env},
                         wire::encode(proto::env_request{std::string{name}, std::string{value}}),
                         std::forward<Token>(token));
  }
  error_code send_signal(std::string_view name) {
    return send_request(proto::names::signal, wire::encode(proto::signal_request{std::string{name}}));
  }
  error_code send_window_change(const window_change_request& w) {
    return send_request(proto::names::window_change, wire::encode(w));
  }
  error_code send_break(std::uint32_t ms) {
    return send_request(proto::names::break_, wire::encode(proto::break_request{ms}));
  }

  // Requests from the peer the connection does not handle itself (all but exit-status,
  // exit-signal, eow and keepalive); the result answers a want_reply. Unset: refused.
  void set_request_handler(std::function<bool(const detail::channel_request_view&)> h) {
    s_->on_request = std::move(h);
  }

  const std::shared_ptr<detail::channel_state>& state() const noexcept { return s_; }

 private:
  void release() {
    if (!s_) return;
    s_->on_request = nullptr;
    if (s_->core && !s_->closed) {
      if (s_->open)
        s_->core->close(*s_);
      else
        s_->core->reject(*s_, proto::open_failure_reason::administratively_prohibited, "refused");
    }
    s_.reset();
  }

  std::shared_ptr<detail::channel_state> s_;
};

}  // namespace ferry::ssh
