// The engine under sftp::client: one SFTP session over one stream (draft-ietf-secsh-filexfer-02).
//
// One reader coroutine reads the stream in large pieces, frames the packets in place
// (proto::frame_buffer: several replies per read, none copied), checks each reply against its
// outstanding request (proto::request_tracker) and hands it, as a view into the receive buffer,
// to that request's reply_handler. Requests are encoded straight into a send buffer (a WRITE's
// data is read from its source right into it); one writer coroutine flushes it, so requests
// issued together leave in one write. A
// protocol violation that breaks the stream (a bad length, a reply to no request) or an I/O error
// ends the session: every outstanding request and every later one fails with that error.
//
// Everything runs on the stream's executor and is not thread-safe: use a client from one strand.
#pragma once

#include <ferry/core/bytes.hpp>
#include <ferry/core/error.hpp>
#include <ferry/core/limits.hpp>
#include <ferry/sftp/proto/client_views.hpp>
#include <ferry/sftp/proto/decode.hpp>
#include <ferry/sftp/proto/frame.hpp>
#include <ferry/sftp/proto/session.hpp>
#include <ferry/sftp/proto/status.hpp>
#include <ferry/sftp/server/buffers.hpp>  // detail::buffer: a byte vector that grows unzeroed

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

namespace ferry::sftp {

// limits@openssh.com (PROTOCOL §4.8); 0 means the server named no limit.
struct server_limits {
  std::uint64_t max_packet_length = 0;
  std::uint64_t max_read_length = 0;
  std::uint64_t max_write_length = 0;
  std::uint64_t max_open_handles = 0;
};

namespace detail {

template <class T>
using awaitable = boost::asio::awaitable<T>;
template <class T>
using result = std::pair<error_code, T>;

// Receives the reply to one request: the packet (type byte + body) as a view valid only during
// the call, or an error (then the packet is empty): unexpected_message when the reply's type does
// not fit the request, or whatever ended the session.
struct reply_handler {
  virtual void on_reply(std::uint32_t id, error_code ec, byte_view packet) = 0;

 protected:
  ~reply_handler() = default;
};

// A wake-up for one waiting coroutine: a timer that never expires, cancelled to wake.
class signal {
 public:
  explicit signal(const boost::asio::any_io_executor& ex)
      : timer_(ex, boost::asio::steady_timer::time_point::max()) {}

  void notify() {
    set_ = true;
    timer_.cancel();
  }
  bool is_set() const noexcept { return set_; }

  // True once notified; false if the awaiting operation was cancelled first.
  awaitable<bool> wait() {
    while (!set_) {
      error_code ec;
      co_await timer_.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
      if (set_) break;
      auto cs = co_await boost::asio::this_coro::cancellation_state;
      if (cs.cancelled() != boost::asio::cancellation_type::none) co_return false;
    }
    co_return true;
  }

 private:
  boost::asio::steady_timer timer_;
  bool set_ = false;
};

// A handler that keeps a copy of the reply and wakes its coroutine.
struct reply_slot final : reply_handler {
  explicit reply_slot(const boost::asio::any_io_executor& ex) : done(ex) {}
  void on_reply(std::uint32_t, error_code e, byte_view p) override {
    ec = e;
    packet.assign(p.begin(), p.end());
    done.notify();
  }
  signal done;
  error_code ec;
  bytes packet;
};

template <class S>
void close_stream(S& s) {
  if constexpr (requires(error_code& ec) { s.close(ec); }) {
    error_code ignored;
    s.close(ignored);
  } else if constexpr (requires { s.close(); }) {
    s.close();
  }
}

inline std::uint32_t to_u32(std::size_t n) noexcept {
  return static_cast<std::uint32_t>(std::min<std::size_t>(n, 0xffffffffu));
}

template <class Stream>
class session : public std::enable_shared_from_this<session<Stream>> {
 public:
  using executor_type = boost::asio::any_io_executor;

  template <class... Args>
  explicit session(Args&&... args)
      : stream_(std::forward<Args>(args)...),
        ex_(stream_.get_executor()),
        // Four reads' worth: a reply straddling the end is moved to the front once per four.
        in_(4 * limits::sftp_client_read_buffer) {}

  Stream& stream() noexcept { return stream_; }
  const executor_type& executor() const noexcept { return ex_; }

  // --- state ----------------------------------------------------------------------------------
  bool ready() const noexcept { return initialized_ && !dead_; }
  error_code failure() const noexcept {
    if (dead_) return dead_;
    if (!initialized_) return make_error_code(status::no_connection);
    return {};
  }
  const proto::version_reply& version() const noexcept { return version_; }
  const server_limits& limits() const noexcept { return limits_; }
  bool supports(std::string_view ext) const { return version_.extension(ext).has_value(); }
  const proto::status_reply& last_status() const noexcept { return last_status_; }
  // Data bytes one READ asks for and one WRITE carries (for a handle of handle_size bytes).
  std::size_t max_read() const noexcept { return max_read_; }
  std::size_t max_write(std::size_t handle_size) const noexcept {
    std::size_t packet_cap = limits_.max_packet_length
                                 ? static_cast<std::size_t>(std::min<std::uint64_t>(
                                       limits_.max_packet_length, limits::sftp_max_message))
                                 : limits::sftp_client_default_block + 1024;
    std::size_t room = packet_cap > proto::write_request_overhead + handle_size
                           ? packet_cap - proto::write_request_overhead - handle_size
                           : 1;
    return std::max<std::size_t>(1, std::min(max_write_, room));
  }

  // The stream ended or broke under us: eof on a read, or EPIPE/ECONNRESET on a write, whichever
  // side notices first when the server goes away. Other errors are passed on as they are.
  static error_code stream_error(const error_code& ec) {
    namespace ae = boost::asio::error;
    if (ec == ae::eof || ec == ae::broken_pipe || ec == ae::connection_reset ||
        ec == ae::connection_aborted)
      return make_error_code(status::connection_lost);
    return ec;
  }

  // Ends the session (closing the stream) with ec, failing every outstanding request.
  void fail(error_code ec) {
    if (dead_) return;
    dead_ = ec ? ec : make_error_code(status::connection_lost);
    auto handlers = std::move(handlers_);
    handlers_.clear();
    for (auto& [id, h] : handlers)
      if (h) h->on_reply(id, dead_, {});
    close_stream(stream_);
  }

  void shutdown() { fail(make_error_code(status::no_connection)); }

  // --- sending --------------------------------------------------------------------------------
  // Registers h for the reply and queues the request; false (nothing sent) once the session has
  // ended. allowed is the reply_kind mask of the request.
  template <class Request>
  bool start(Request& req, reply_handler* h, unsigned allowed) {
    if (dead_ || !initialized_) return false;
    req.request_id = tracker_.add(allowed);
    handlers_[req.request_id] = h;
    append(req);
    kick();
    return true;
  }

  // A WRITE at offset of up to max_n bytes that fill(mutable_byte_view into, std::size_t& n)
  // places straight into the send buffer (no copy of the data in between). head carries the
  // handle; its request_id, offset and data_length are set here. Returns the bytes written by
  // fill (0: nothing was sent, no request started); ec is fill's error, or the session's failure.
  template <class Fill>
  std::size_t start_write(proto::write_request_head& head, std::uint64_t offset,
                          std::size_t max_n, reply_handler* h, Fill&& fill, error_code& ec) {
    ec = {};
    if (dead_ || !initialized_) {
      ec = failure();
      return 0;
    }
    const std::size_t head_size = proto::write_packet_head_size(head.handle.value.size());
    const std::size_t at = out_.size();
    out_.resize(at + head_size + max_n);
    std::size_t n = 0;
    ec = fill(mutable_byte_view{out_.data() + at + head_size, max_n}, n);
    n = std::min(n, max_n);
    if (ec || n == 0) {
      out_.resize(at);
      return 0;
    }
    head.request_id = tracker_.add(proto::reply_kind::status);
    head.offset = offset;
    head.data_length = static_cast<std::uint32_t>(n);
    handlers_[head.request_id] = h;
    scratch_.clear();
    proto::encode_write_head(scratch_, head);
    std::memcpy(out_.data() + at, scratch_.data(), head_size);
    out_.resize(at + head_size + n);
    kick();
    return n;
  }

  // The handler of id will not be called; its reply is read and dropped when it comes.
  void detach(std::uint32_t id) {
    auto it = handlers_.find(id);
    if (it != handlers_.end()) it->second = nullptr;
  }

  void note_status(const proto::status_reply& s) { last_status_ = s; }

  // Leaves no handler pointing at a slot whose coroutine ends (or is destroyed) before its reply.
  struct detach_guard {
    session& s;
    std::uint32_t id;
    reply_slot& slot;
    ~detach_guard() {
      if (!slot.done.is_set()) s.detach(id);
    }
  };

  // One request, its reply decoded. A STATUS other than ok becomes its error code (and
  // last_status()); ok is returned as the status_reply.
  template <class Request>
  awaitable<result<proto::reply>> call(Request req) {
    reply_slot slot{ex_};
    auto allowed = proto::allowed_replies(proto::request{req});
    if (!start(req, &slot, allowed)) co_return result<proto::reply>{failure(), {}};
    detach_guard guard{*this, req.request_id, slot};
    if (!co_await slot.done.wait())
      co_return result<proto::reply>{boost::asio::error::operation_aborted, {}};
    if (slot.ec) co_return result<proto::reply>{slot.ec, {}};
    proto::reply r;
    if (auto ec = proto::decode_reply(slot.packet, r)) co_return result<proto::reply>{ec, {}};
    if (auto* s = std::get_if<proto::status_reply>(&r); s && s->code != 0) {
      last_status_ = *s;
      co_return result<proto::reply>{s->error(), std::move(r)};
    }
    co_return result<proto::reply>{error_code{}, std::move(r)};
  }

  // --- handshake ------------------------------------------------------------------------------
  // INIT/VERSION (§4), then limits@openssh.com when announced; starts the reader.
  awaitable<error_code> init() {
    if (initialized_ || dead_) co_return make_error_code(errc::unexpected_message);
    proto::init_request hello;
    append(hello);
    kick();
    byte_view packet;
    while (true) {
      error_code ec;
      auto r = in_.next(packet, ec);
      if (r == proto::frame_buffer::result::failed) {
        fail(ec);
        co_return dead_;
      }
      if (r == proto::frame_buffer::result::packet) break;
      auto space = in_.space();
      auto n = co_await stream_.async_read_some(boost::asio::buffer(space.data(), space.size()),
                                                boost::asio::redirect_error(
                                                    boost::asio::use_awaitable, ec));
      if (ec) {
        fail(stream_error(ec));
        co_return dead_;
      }
      if (dead_) co_return dead_;
      in_.commit(n);
    }
    if (auto ec = wire::decode(packet, version_)) {
      fail(ec);
      co_return dead_;
    }
    if (auto ec = proto::check_server_version(version_)) {
      fail(ec);
      co_return dead_;
    }
    initialized_ = true;
    // Bytes after VERSION in the same read (a server sends nothing unasked, so these can only
    // be a violation, but they are judged like any other reply).
    feed();
    if (dead_) co_return dead_;
    boost::asio::co_spawn(ex_, read_loop(this->shared_from_this()), boost::asio::detached);
    if (supports(proto::extension_of<proto::limits_request>)) {
      proto::limits_request req;
      auto [ec, reply] = co_await call(std::move(req));
      if (ec) co_return ec;
      auto* ext = std::get_if<proto::extended_reply>(&reply);
      if (!ext) co_return make_error_code(errc::unexpected_message);
      proto::limits_reply l;
      if (auto dec = proto::decode_extended_reply(*ext, l)) co_return dec;
      limits_ = {l.max_packet_length, l.max_read_length, l.max_write_length, l.max_open_handles};
    }
    apply_limits();
    co_return error_code{};
  }

 private:
  void apply_limits() {
    // A READ's DATA reply must fit the receive limit; a WRITE must fit the server's packet limit.
    const std::size_t cap_read = limits::sftp_max_message - proto::data_reply_overhead;
    auto pick = [&](std::uint64_t announced) -> std::size_t {
      if (announced == 0) return limits::sftp_client_default_block;
      return static_cast<std::size_t>(std::min<std::uint64_t>(announced, cap_read));
    };
    max_read_ = pick(limits_.max_read_length);
    max_write_ = pick(limits_.max_write_length);
  }

  template <class Request>
  void append(const Request& req) {
    scratch_.clear();
    proto::encode_packet(scratch_, req);
    out_.insert(out_.end(), scratch_.begin(), scratch_.end());
  }

  void kick() {
    if (writer_running_ || out_.empty() || dead_) return;
    writer_running_ = true;
    boost::asio::co_spawn(ex_, write_loop(this->shared_from_this()), boost::asio::detached);
  }

  static awaitable<void> write_loop(std::shared_ptr<session> self) {
    while (!self->out_.empty() && !self->dead_) {
      std::swap(self->out_, self->writing_);
      error_code ec;
      co_await boost::asio::async_write(self->stream_, boost::asio::buffer(self->writing_),
                                        boost::asio::redirect_error(boost::asio::use_awaitable,
                                                                    ec));
      self->writing_.clear();
      if (ec) self->fail(stream_error(ec));
    }
    self->writer_running_ = false;
  }

  static awaitable<void> read_loop(std::shared_ptr<session> self) {
    while (!self->dead_) {
      error_code ec;
      auto space = self->in_.space();
      auto n = co_await self->stream_.async_read_some(
          boost::asio::buffer(space.data(), space.size()),
          boost::asio::redirect_error(boost::asio::use_awaitable, ec));
      if (self->dead_) break;
      if (ec) {
        self->fail(stream_error(ec));
        break;
      }
      self->in_.commit(n);
      self->feed();
    }
  }

  // Every whole packet received so far, each handled where it lies in the receive buffer.
  void feed() {
    while (!dead_) {
      byte_view packet;
      error_code ec;
      switch (in_.next(packet, ec)) {
        case proto::frame_buffer::result::need_more: return;
        case proto::frame_buffer::result::failed: fail(ec); return;
        case proto::frame_buffer::result::packet: dispatch(packet); break;
      }
    }
  }

  void dispatch(byte_view packet) {
    proto::reply_header h;
    if (auto ec = proto::peek_reply_header(packet, h)) return fail(ec);
    // A reply to no outstanding request means the two sides disagree about the session.
    if (!tracker_.is_outstanding(h.request_id))
      return fail(make_error_code(errc::unexpected_message));
    auto ec = tracker_.complete(h.request_id, proto::reply_kind::of_type(h.type));
    reply_handler* handler = nullptr;
    if (auto it = handlers_.find(h.request_id); it != handlers_.end()) {
      handler = it->second;
      handlers_.erase(it);
    }
    if (handler) handler->on_reply(h.request_id, ec, ec ? byte_view{} : packet);
  }

  Stream stream_;
  executor_type ex_;
  proto::request_tracker tracker_;
  std::unordered_map<std::uint32_t, reply_handler*> handlers_;
  buffer out_;      // requests not yet handed to the writer (grows unzeroed: WRITE data lands here)
  buffer writing_;  // what the writer is writing
  bytes scratch_;   // one encoded request on its way into out_
  bool writer_running_ = false;
  proto::frame_buffer in_;
  error_code dead_;
  bool initialized_ = false;
  proto::version_reply version_;
  server_limits limits_;
  std::size_t max_read_ = limits::sftp_client_default_block;
  std::size_t max_write_ = limits::sftp_client_default_block;
  proto::status_reply last_status_;
};

}  // namespace detail
}  // namespace ferry::sftp
