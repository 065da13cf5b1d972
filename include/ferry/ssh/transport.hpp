// ssh::transport<NextLayer>: the SSH transport layer (RFC 4253) over any Asio stream, either role.
//
//   ssh::transport<tcp::socket> t{ssh::role::client, options, std::move(socket)};
//   co_await t.async_handshake(use_awaitable);          // version exchange + first kex
//   co_await t.async_write_packet(payload, use_awaitable);
//   auto n = co_await t.async_read_packet(buffer, use_awaitable);
//
// The protocol lives in proto::transport_machine; this class moves bytes. One read and one write
// may be outstanding at once (full duplex). Key re-exchange is invisible to callers: while one
// runs, writes wait and reads never see kex messages; whichever operation is waiting drives the
// exchange, and upper-layer packets that arrive meanwhile are queued, never lost. Every operation
// completes with an error_code: ssh::disconnect_reason for protocol failures and DISCONNECTs,
// or the next layer's error. After a failure the DISCONNECT is flushed and the next layer closed.
// Use a transport from one thread or strand. The time-based rekey limit is checked whenever a
// packet passes (an idle connection rekeys with its next packet). Operations do not support
// per-operation cancellation yet; async_disconnect or closing the next layer ends them.
#pragma once

#include <ferry/ssh/options.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <deque>
#include <exception>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace ferry::ssh {

template <class NextLayer>
class transport {
 public:
  using next_layer_type = NextLayer;
  using executor_type = typename NextLayer::executor_type;

  template <class... Args>
  transport(role r, transport_options options, Args&&... next_layer_args)
      : next_(std::forward<Args>(next_layer_args)...),
        options_(with_role(std::move(options), r)),
        config_error_(proto::validate(options_)),
        machine_(static_cast<const proto::transport_config&>(options_)),
        signal_(next_.get_executor(), boost::asio::steady_timer::time_point::max()),
        handshake_timer_(next_.get_executor()) {}

  transport(const transport&) = delete;
  transport& operator=(const transport&) = delete;

  next_layer_type& next_layer() noexcept { return next_; }
  const next_layer_type& next_layer() const noexcept { return next_; }
  executor_type get_executor() noexcept { return next_.get_executor(); }

  // The protocol state: negotiated algorithms, session id, counters, peer extensions.
  const proto::transport_machine& machine() const noexcept { return machine_; }
  const bytes& session_id() const noexcept { return machine_.session_id(); }
  const std::vector<proto::extension>& peer_extensions() const noexcept {
    return machine_.peer_extensions();
  }
  role local_role() const noexcept { return options_.local; }

  // Version exchange and the first key exchange. Signature: void(error_code).
  template <class Token>
  auto async_handshake(Token&& token) {
    return launch<void(error_code)>(std::forward<Token>(token), [this]() { return do_handshake(); });
  }

  // The next upper-layer message (message number 50 and above, or SERVICE_ACCEPT) into out.
  // Signature: void(error_code, std::size_t).
  template <class Token>
  auto async_read_packet(bytes& out, Token&& token) {
    return launch<void(error_code, std::size_t)>(std::forward<Token>(token),
                                                 [this, &out]() { return do_read(out); });
  }

  // Sends one upper-layer message; payload must stay valid until completion. Signature:
  // void(error_code).
  template <class Token>
  auto async_write_packet(byte_view payload, Token&& token) {
    return launch<void(error_code)>(std::forward<Token>(token),
                                    [this, payload]() { return do_write(payload); });
  }

  // Client: RFC 4253 §10 SERVICE_REQUEST, completing on the matching SERVICE_ACCEPT.
  template <class Token>
  auto async_request_service(std::string name, Token&& token) {
    return launch<void(error_code)>(std::forward<Token>(token), [this, n = std::move(name)]() {
      return do_request_service(n);
    });
  }

  // Sends DISCONNECT (RFC 4253 §11.1) and closes the next layer. Signature: void(error_code).
  template <class Token>
  auto async_disconnect(disconnect_reason reason, std::string_view description, Token&& token) {
    return launch<void(error_code)>(std::forward<Token>(token),
                                    [this, reason, d = std::string{description}]() {
                                      return do_disconnect(reason, d);
                                    });
  }

  // Starts a key re-exchange; the next read or write drives it.
  void rekey() { machine_.rekey(); }

  // --- for ssh::connection's reader and writer loops --------------------------------------
  // Coroutines awaited directly (no co_spawn per packet); same rules as the operations above.
  template <class T>
  using awaitable = boost::asio::awaitable<T, executor_type>;

  // The next upper-layer message as a view, valid until the next read (and until nothing else
  // drives the transport: handle it before awaiting anything else).
  awaitable<std::pair<error_code, byte_view>> read_packet_view() {
    while (true) {
      if (!queue_.empty()) {
        held_ = std::move(queue_.front().payload);
        view_sequence_ = queue_.front().sequence;
        queue_.pop_front();
        co_return std::pair{error_code{}, byte_view{held_}};
      }
      if (current_error()) co_return std::pair{co_await finish_with_error(), byte_view{}};
      if (!reading_) {
        byte_view view;
        bool got = false;
        auto done = [this, &got] { return got || machine_.closed() || bool(io_error_); };
        co_await pump(nullptr, got, done, false, &view);
        // Replies the packet caused (pong, unimplemented) go out with the next read or write.
        if (got) {
          view_sequence_ = machine_.received_sequence();
          co_return std::pair{error_code{}, view};
        }
      } else {
        co_await wait_signal();
      }
    }
  }

  // The peer's sequence number of the message read_packet_view() returned last (what an
  // SSH_MSG_UNIMPLEMENTED reply quotes).
  std::uint32_t received_sequence() const noexcept { return view_sequence_; }

  // True when a message may be sealed now (no key exchange holds our direction).
  bool can_send() const noexcept { return machine_.can_send(); }
  // Waits (driving a key exchange when nobody reads) until can_send() or a failure.
  awaitable<error_code> wait_writable() { co_return co_await wait_can_send(); }
  // Seals one message laid out for proto::transport_machine::send_in_place (headroom, payload);
  // it goes out with the next flush_output(). Needs can_send().
  error_code send_in_place(bytes& packet) {
    if (auto ec = machine_.send_in_place(packet)) {
      if (machine_.closed()) notify();
      return ec;
    }
    return {};
  }
  // Writes everything sealed so far (one gather write per batch).
  awaitable<error_code> flush_output() {
    if (current_error()) co_return co_await finish_with_error();
    auto ec = co_await flush_until(machine_.output_total());
    if (ec) co_return co_await finish_with_error();
    co_return error_code{};
  }

 private:
  static transport_options with_role(transport_options o, role r) {
    o.local = r;
    return o;
  }

  // Runs body as a coroutine behind any completion token.
  template <class Signature, class Token, class Body>
  auto launch(Token&& token, Body body) {
    return boost::asio::async_initiate<Token, Signature>(
        [this](auto handler, Body b) {
          auto ex = boost::asio::get_associated_executor(handler, get_executor());
          boost::asio::co_spawn(
              get_executor(), b(),
              boost::asio::bind_executor(
                  ex, [h = std::move(handler)](std::exception_ptr e, auto result) mutable {
                    if (e) std::rethrow_exception(e);
                    complete(std::move(h), std::move(result));
                  }));
        },
        token, std::move(body));
  }

  template <class Handler>
  static void complete(Handler&& h, error_code ec) {
    std::move(h)(ec);
  }
  template <class Handler>
  static void complete(Handler&& h, std::pair<error_code, std::size_t> r) {
    std::move(h)(r.first, r.second);
  }

  // --- coordination ---------------------------------------------------------------------------
  // One operation at a time reads from the next layer and one writes; the others wait on
  // signal_ (a timer that never expires, cancelled to wake every waiter) and re-check.
  void notify() { signal_.cancel(); }

  awaitable<void> wait_signal() {
    co_await signal_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable_t<executor_type>{}));
  }

  error_code current_error() const {
    if (config_error_) return config_error_;
    if (machine_.closed()) return machine_.error();
    return io_error_;
  }

  void close_next_layer() {
    if (next_closed_) return;
    next_closed_ = true;
    if constexpr (requires(NextLayer& n, error_code& e) { n.close(e); }) {
      error_code ignored;
      next_.close(ignored);
    } else if constexpr (requires(NextLayer& n) { n.close(); }) {
      next_.close();
    }
  }

  // Writes queued output until nothing is left; only one caller at a time. The machine's output
  // chain goes out in one gather write per round.
  awaitable<void> flush() {
    writing_ = true;
    while (machine_.has_output() && !io_error_) {
      machine_.take_output(write_segments_);
      write_buffers_.clear();
      for (const auto& seg : write_segments_) write_buffers_.push_back(boost::asio::buffer(seg));
      auto [ec, n] = co_await boost::asio::async_write(
          next_, write_buffers_, boost::asio::as_tuple(boost::asio::use_awaitable_t<executor_type>{}));
      written_ += n;
      for (auto& seg : write_segments_) machine_.recycle(std::move(seg));
      write_segments_.clear();
      if (ec) io_error_ = ec;
    }
    writing_ = false;
    notify();
  }

  // Waits until everything queued up to target is written (or writing failed).
  awaitable<error_code> flush_until(std::uint64_t target) {
    while (written_ < target && !io_error_) {
      if (!writing_)
        co_await flush();
      else
        co_await wait_signal();
    }
    co_return io_error_;
  }

  // After a failure: the DISCONNECT goes out, then the next layer closes.
  awaitable<error_code> finish_with_error() {
    auto ec = current_error();
    if (machine_.closed() && !io_error_) co_await flush_until(machine_.output_total());
    close_next_layer();
    notify();
    co_return ec;
  }

  // Reads and processes input until done() holds or the connection fails. Upper-layer packets
  // go to *app (the first one, when app is given) or to the queue.
  // With only_available, reads only what the next layer already holds (a writer checking for a
  // peer's KEXINIT without blocking).
  // With view, the first packet is left in the machine's input and *view points at it (the
  // pump then stops: done() must hold once got is set).
  template <class Done>
  awaitable<void> pump(bytes* app, bool& got, const Done& done, bool only_available = false,
                       byte_view* view = nullptr) {
    reading_ = true;
    while (!done()) {
      byte_view payload;
      auto ev = machine_.process(payload);
      if (ev == proto::transport_machine::event::packet) {
        if (view && !got) {
          *view = payload;
          got = true;
        } else if (app && !got) {
          app->assign(payload.begin(), payload.end());
          got = true;
        } else {
          queue_.push_back({bytes(payload.begin(), payload.end()), machine_.received_sequence()});
        }
        notify();
        continue;
      }
      notify();
      if (ev == proto::transport_machine::event::closed || io_error_) break;
      if (done()) break;
      // Output (kex replies, pongs, our KEXINIT) must go out before we wait for the peer.
      if (machine_.has_output() && !writing_) co_await flush();
      if (io_error_) break;
      if (only_available && input_available() == 0) break;
      // Read as much as the kernel holds (up to read_size) so several packets open per read.
      // The read size starts small and doubles while reads fill it: an idle connection keeps a
      // small buffer (memory per connection), a bulk transfer soon reads read_size at a time.
      auto space = machine_.input_space(std::max(machine_.input_wanted(), read_size_ / 4), read_size_);
      auto [ec, n] = co_await next_.async_read_some(
          boost::asio::buffer(space.data(), space.size()),
          boost::asio::as_tuple(boost::asio::use_awaitable_t<executor_type>{}));
      machine_.commit_input(n);
      if (n == space.size() && read_size_ < options_.read_size)
        read_size_ = std::min(read_size_ * 2, options_.read_size);
      if (ec && n == 0) {
        io_error_ = ec;
        break;
      }
    }
    reading_ = false;
    notify();
  }

  // Bytes the next layer can hand over without waiting (0 when it cannot tell).
  std::size_t input_available() {
    if constexpr (requires(NextLayer& n, error_code& e) { n.available(e); }) {
      error_code ec;
      auto n = next_.available(ec);
      return ec ? 0 : n;
    } else if constexpr (requires(NextLayer& n) { n.available(); }) {
      return next_.available();
    } else {
      return 0;
    }
  }

  // --- operations -----------------------------------------------------------------------------

  awaitable<error_code> do_handshake() {
    if (config_error_) co_return config_error_;
    if (started_) co_return make_error_code(errc::unexpected_message);
    started_ = true;
    machine_.start();
    if (options_.handshake_timeout.count() > 0) {
      handshake_timer_.expires_after(options_.handshake_timeout);
      handshake_timer_.async_wait([this](error_code ec) {
        if (ec || machine_.handshake_done()) return;
        handshake_timed_out_ = true;
        close_next_layer();
      });
    }
    bool got = false;
    auto done = [this] { return machine_.handshake_done() || machine_.closed() || bool(io_error_); };
    while (!done()) {
      if (!reading_)
        co_await pump(nullptr, got, done);
      else
        co_await wait_signal();
    }
    handshake_timer_.cancel();
    if (handshake_timed_out_) {
      // The timer handler ran while we were reading: the abort came from our own close.
      co_return make_error_code(boost::asio::error::timed_out);
    }
    if (current_error()) co_return co_await finish_with_error();
    co_return co_await flush_until(machine_.output_total());
  }

  awaitable<std::pair<error_code, std::size_t>> do_read(bytes& out) {
    bool got = false;
    auto done = [this, &got] { return got || machine_.closed() || bool(io_error_); };
    while (true) {
      if (!queue_.empty()) {
        out = std::move(queue_.front().payload);
        queue_.pop_front();
        if (machine_.has_output() && !writing_) co_await flush();
        co_return std::pair{error_code{}, out.size()};
      }
      if (current_error()) co_return std::pair{co_await finish_with_error(), std::size_t{0}};
      if (!reading_) {
        co_await pump(&out, got, done);
        if (got) {
          // Replies the packet caused (pong, unimplemented, service accept) go out now.
          if (machine_.has_output() && !writing_) co_await flush();
          co_return std::pair{error_code{}, out.size()};
        }
      } else {
        co_await wait_signal();
      }
    }
  }

  // Until our direction is free (or the connection failed).
  awaitable<error_code> wait_can_send() {
    bool got = false;
    auto ready = [this] { return machine_.can_send() || machine_.closed() || bool(io_error_); };
    // A writer that nobody reads for would never see the peer's KEXINIT; look at what arrived.
    if (!reading_ && input_available() > 0) {
      auto never = [] { return false; };
      co_await pump(nullptr, got, never, true);
    }
    while (true) {
      if (current_error()) co_return co_await finish_with_error();
      if (machine_.can_send()) co_return error_code{};
      if (!started_) co_return make_error_code(errc::unexpected_message);
      // A key exchange holds our direction: drive it if nobody else reads.
      if (!reading_)
        co_await pump(nullptr, got, ready);
      else
        co_await wait_signal();
    }
  }

  awaitable<error_code> do_write(byte_view payload) {
    if (auto ec = co_await wait_can_send()) co_return ec;
    if (auto ec = machine_.send(payload)) {
      if (machine_.closed()) co_return co_await finish_with_error();
      co_return ec;
    }
    auto ec = co_await flush_until(machine_.output_total());
    if (ec) co_return co_await finish_with_error();
    co_return error_code{};
  }

  awaitable<error_code> do_request_service(std::string name) {
    if (options_.local != role::client) co_return make_error_code(errc::unexpected_message);
    auto req = wire::encode(proto::service_request{name});
    if (auto ec = co_await do_write(req)) co_return ec;
    bytes reply;
    auto [ec, n] = co_await do_read(reply);
    if (ec) co_return ec;
    proto::service_accept a;
    if (wire::decode(reply, a) || a.service_name != name) {
      machine_.disconnect(disconnect_reason::protocol_error, "expected SERVICE_ACCEPT");
      co_return co_await finish_with_error();
    }
    co_return error_code{};
  }

  awaitable<error_code> do_disconnect(disconnect_reason reason, std::string description) {
    if (!started_) {
      close_next_layer();
      co_return error_code{};
    }
    machine_.disconnect(reason, description);
    co_await flush_until(machine_.output_total());
    close_next_layer();
    notify();
    co_return error_code{};
  }

  NextLayer next_;
  transport_options options_;
  error_code config_error_;
  proto::transport_machine machine_;
  boost::asio::steady_timer signal_;
  boost::asio::steady_timer handshake_timer_;
  // Upper-layer messages read while nobody asked for one (during a handshake or a write).
  struct queued {
    bytes payload;
    std::uint32_t sequence;
  };
  std::deque<queued> queue_;
  bytes held_;  // the queued packet read_packet_view() handed out
  std::uint32_t view_sequence_ = 0;
  std::vector<bytes> write_segments_;
  std::vector<boost::asio::const_buffer> write_buffers_;
  std::uint64_t written_ = 0;
  error_code io_error_;
  bool reading_ = false;
  bool writing_ = false;
  bool started_ = false;
  bool next_closed_ = false;
  bool handshake_timed_out_ = false;
  std::size_t read_size_ = std::min<std::size_t>(options_.read_size, 16 * 1024);
};

}  // namespace ferry::ssh
