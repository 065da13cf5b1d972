// The non-template heart of ssh::connection: the connection machine, the channels' buffers and
// wait points, request/reply bookkeeping and the dispatch of every incoming message. The template
// (ssh/connection.hpp) adds the reader and writer loops over its transport; ssh::channel works
// on a channel_state and this core, so it does not depend on the transport's NextLayer.
//
// Everything here runs on the connection's executor (one strand); nothing locks.
#pragma once

#include <ferry/core/bytes.hpp>
#include <ferry/ssh/connection_error.hpp>
#include <ferry/ssh/error.hpp>
#include <ferry/ssh/proto/connection_machine.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ferry::ssh {

struct connection_options {
  // RFC 4254 §5.2: the window we give each channel and the largest data message we accept.
  std::uint32_t window = 4 * 1024 * 1024;
  std::uint32_t max_packet = 64 * 1024;
  // The largest data message we send (also bounded by what the peer accepts).
  std::uint32_t max_send_packet = 64 * 1024;
  std::size_t max_channels = limits::ssh_max_channels;
  // Session channels the peer may have open at once (server; sshd's MaxSessions).
  std::size_t max_sessions = limits::ssh_max_sessions;
  // Queued output past which channel writers wait for the transport to catch up.
  std::size_t max_queued_data = 1024 * 1024;
  // keepalive@openssh.com global requests sent when nothing arrived for this long (zero: none);
  // after keepalive_max unanswered intervals the connection ends with keepalive_timeout.
  std::chrono::milliseconds keepalive_interval{0};
  unsigned keepalive_max = 3;
};

namespace detail {

// An Asio "condition variable": waiters park on a timer that never expires; notify() wakes all of
// them and they re-check their condition.
class signal {
 public:
  explicit signal(const boost::asio::any_io_executor& ex)
      : timer_(ex, boost::asio::steady_timer::time_point::max()) {}
  void notify() { timer_.cancel(); }
  boost::asio::awaitable<void> wait() {
    co_await timer_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  }

 private:
  boost::asio::steady_timer timer_;
};

// Keeps body (a lambda that may itself be a coroutine) alive in this frame while it runs: a
// coroutine lambda's captures live in the closure, not in its frame.
template <class Body>
auto run_body(Body b) -> decltype(b()) {
  co_return co_await b();
}

// Runs body (returning awaitable<error_code> or awaitable<std::tuple<error_code, T...>>) behind
// any completion token with the given signature.
template <class Signature, class Token, class Body>
auto launch(const boost::asio::any_io_executor& ex, Token&& token, Body body) {
  return boost::asio::async_initiate<Token, Signature>(
      [ex](auto handler, Body b) {
        auto hex = boost::asio::get_associated_executor(handler, ex);
        // The caller's cancellation slot reaches the coroutine (per-operation cancellation).
        auto slot = boost::asio::get_associated_cancellation_slot(handler);
        boost::asio::co_spawn(
            ex, run_body(std::move(b)),
            boost::asio::bind_cancellation_slot(
                slot,
                boost::asio::bind_executor(
                hex, [h = std::move(handler)](std::exception_ptr e, auto result) mutable {
                  if (e) std::rethrow_exception(e);
                  if constexpr (std::is_same_v<decltype(result), error_code>)
                    std::move(h)(result);
                  else
                    std::apply([&](auto&&... a) { std::move(h)(std::move(a)...); },
                               std::move(result));
                })));
      },
      token, std::move(body));
}

// Inside an operation's coroutine: accept any kind of cancellation from the caller's slot, and
// tell whether it was cancelled (checked after each wait, since waits only re-check conditions).
inline boost::asio::awaitable<void> allow_cancellation() {
  co_await boost::asio::this_coro::reset_cancellation_state(boost::asio::enable_total_cancellation());
  co_await boost::asio::this_coro::throw_if_cancelled(false);  // report, do not throw
}
inline boost::asio::awaitable<bool> cancelled() {
  auto cs = co_await boost::asio::this_coro::cancellation_state;
  co_return cs.cancelled() != boost::asio::cancellation_type::none;
}

// Received bytes of one stream of a channel (data or stderr), bounded by the channel's window:
// a ring that grows to the largest amount ever buffered (nothing is moved or zero-filled per
// message). Reads see it as at most two contiguous pieces.
struct receive_buffer {
  bytes data;             // capacity: a power of two (or empty)
  std::size_t head = 0;   // first unread byte
  std::size_t count = 0;  // unread bytes
  // A read waiting on this stream lends its buffer: while nothing is buffered here, arriving
  // data is copied straight into it (one copy fewer) and the read completes with `lent_used`.
  std::uint8_t* lent = nullptr;
  std::size_t lent_size = 0;
  std::size_t lent_used = 0;

  // Stores arriving data: into the lent buffer first (in order: only when nothing is buffered).
  void deliver(byte_view b) {
    if (lent && count == 0 && lent_used < lent_size) {
      auto n = std::min(b.size(), lent_size - lent_used);
      std::memcpy(lent + lent_used, b.data(), n);
      lent_used += n;
      b = b.subspan(n);
    }
    append(b);
  }

  std::size_t size() const noexcept { return count; }
  // The unread bytes in order: first, then second (empty unless they wrap).
  byte_view first() const noexcept {
    return {data.data() + head, std::min(count, data.size() - head)};
  }
  byte_view second() const noexcept {
    auto f = std::min(count, data.size() - head);
    return {data.data(), count - f};
  }
  void append(byte_view b) {
    if (b.empty()) return;
    if (count + b.size() > data.size()) grow(count + b.size());
    std::size_t tail = (head + count) & (data.size() - 1);
    std::size_t n1 = std::min(b.size(), data.size() - tail);
    std::memcpy(data.data() + tail, b.data(), n1);
    if (n1 < b.size()) std::memcpy(data.data(), b.data() + n1, b.size() - n1);
    count += b.size();
  }
  void take(std::size_t n) noexcept {
    count -= n;
    head = count == 0 ? 0 : (head + n) & (data.size() - 1);
  }

 private:
  void grow(std::size_t need) {
    std::size_t cap = data.empty() ? 64 * 1024 : data.size();
    while (cap < need) cap *= 2;
    bytes next(cap);
    auto f = first(), s = second();
    if (!f.empty()) std::memcpy(next.data(), f.data(), f.size());
    if (!s.empty()) std::memcpy(next.data() + f.size(), s.data(), s.size());
    data.swap(next);
    head = 0;
  }
};

struct reply_slot {
  bool done = false;
  bool success = false;
  bytes data;
};

class connection_core;

// A channel request as the peer sent it (server sessions and clients see these).
struct channel_request_view {
  std::string_view type;
  bool want_reply = false;
  byte_view data;
};

struct channel_state {
  channel_state(connection_core* c, std::uint32_t i, std::string t,
                const boost::asio::any_io_executor& executor)
      : core(c), id(i), type(std::move(t)), ex(executor), changed(executor) {}

  const boost::asio::any_io_executor& changed_executor() const noexcept { return ex; }

  connection_core* core;  // null once the connection is gone
  std::uint32_t id;
  std::string type;
  boost::asio::any_io_executor ex;
  bytes open_data;  // the peer's CHANNEL_OPEN type-specific data (incoming channels)
  signal changed;   // data, window, EOF, close, replies, errors
  bool open = false;
  bool eof_received = false;
  bool closed = false;  // the peer's CLOSE arrived, or we closed, or the connection ended
  bool close_sent = false;
  bool discard_stderr = false;
  error_code error;  // why the channel failed (open refused, connection ended)
  receive_buffer rx, rx_stderr;
  std::deque<std::shared_ptr<reply_slot>> replies;
  std::optional<std::uint32_t> exit_status;
  std::optional<proto::exit_signal_request> exit_signal;
  // Requests the core does not handle itself (exit-status, exit-signal, eow, keepalive) go here;
  // the result answers want_reply. Unset: refused.
  std::function<bool(const channel_request_view&)> on_request;
};

class connection_core {
 public:
  using executor_type = boost::asio::any_io_executor;

  connection_core(executor_type ex, proto::role r, const connection_options& o);
  ~connection_core();
  connection_core(const connection_core&) = delete;
  connection_core& operator=(const connection_core&) = delete;

  executor_type get_executor() const noexcept { return ex_; }
  proto::connection_machine& machine() noexcept { return machine_; }
  const connection_options& options() const noexcept { return opts_; }
  proto::role local_role() const noexcept { return role_; }

  // --- hooks -----------------------------------------------------------------------------------
  // Which channel types the peer may open (they then wait for async_accept); others are refused
  // with unknown_channel_type. Unset: all refused.
  std::function<bool(std::string_view type)> accept_open_types;
  // Global requests from the peer: a value is success with that reply data; nullopt is failure.
  // Unset: every request fails.
  std::function<std::optional<bytes>(std::string_view name, byte_view data)> on_global_request;

  // --- the reader and writer loops (ssh::connection) -----------------------------------------
  // One message from the transport, with the sequence number it arrived with. Returns false
  // once the connection must end (protocol_failed then says whether a DISCONNECT is due).
  bool handle(byte_view payload, std::uint32_t sequence);
  bool protocol_failed() const noexcept { return machine_.failed(); }
  // The connection ended (transport error, DISCONNECT, local close): everything waiting wakes.
  void fail(error_code ec);
  bool ended() const noexcept { return ended_; }
  error_code error() const noexcept { return error_; }
  void notify_writer() { writer_signal_.notify(); }
  signal& writer_signal() noexcept { return writer_signal_; }
  signal& space_signal() noexcept { return space_signal_; }
  // The writer took a message off the queue.
  void on_output_taken() {
    if (machine_.output_bytes() < opts_.max_queued_data) space_signal_.notify();
  }
  bool output_has_space() const noexcept { return machine_.output_bytes() < opts_.max_queued_data; }
  std::uint64_t packets_received() const noexcept { return packets_received_; }
  std::chrono::steady_clock::time_point last_activity() const noexcept { return last_activity_; }
  std::size_t channel_count() const noexcept { return channels_.size(); }

  // --- operations (coroutine bodies of the public initiating functions) -----------------------
  boost::asio::awaitable<std::tuple<error_code, std::shared_ptr<channel_state>>> open_channel(
      std::string type, bytes extra);
  boost::asio::awaitable<std::tuple<error_code, std::shared_ptr<channel_state>>> accept_channel();
  boost::asio::awaitable<std::tuple<error_code, bytes>> global_request(std::string name,
                                                                       bytes payload);
  void global_request_no_reply(std::string_view name, byte_view payload);
  // keepalive@openssh.com with want_reply; the reply only shows the peer is alive.
  void send_keepalive();

  // Channel primitives used by ssh::channel.
  void consume(channel_state& s, std::size_t n);
  error_code send_data(channel_state& s, byte_view data, std::uint32_t ext);
  // Queues n bytes of data that the caller copies into `into` (a gather of buffers, one copy).
  error_code send_data(channel_state& s, std::size_t n, std::uint32_t ext, mutable_byte_view& into);
  error_code send_eof(channel_state& s);
  error_code close(channel_state& s);
  error_code send_request(channel_state& s, std::string_view type, byte_view payload,
                          std::shared_ptr<reply_slot> reply);
  void accept(const std::shared_ptr<channel_state>& s);
  void reject(channel_state& s, proto::open_failure_reason r, std::string_view text);

 private:
  void on_open_request(const proto::connection_machine::event& e);
  void on_channel_request(channel_state& s, const proto::connection_machine::event& e);
  void end_channel(channel_state& s, error_code ec);
  std::shared_ptr<channel_state> state_of(std::uint32_t id);

  executor_type ex_;
  proto::role role_;
  connection_options opts_;
  proto::connection_machine machine_;
  std::unordered_map<std::uint32_t, std::shared_ptr<channel_state>> channels_;
  std::deque<std::shared_ptr<channel_state>> incoming_;
  std::deque<std::shared_ptr<reply_slot>> global_replies_;
  signal writer_signal_;
  signal space_signal_;
  signal accept_signal_;
  signal global_signal_;
  bool ended_ = false;
  error_code error_;
  std::uint64_t packets_received_ = 0;
  std::chrono::steady_clock::time_point last_activity_ = std::chrono::steady_clock::now();
};

}  // namespace detail
}  // namespace ferry::ssh
