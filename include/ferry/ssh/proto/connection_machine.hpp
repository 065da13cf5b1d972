// The SSH connection protocol (RFC 4254) as a sans-I/O state machine: the channel table, both
// windows of every channel, open/confirm/failure, EOF/CLOSE, channel and global requests and
// their replies, and every check a hostile peer must not get past. The Asio layer
// (ssh::connection) feeds it each upper-layer payload the transport delivers and writes whatever
// it queues:
//
//   connection_machine m{config};
//   ev = m.process(payload, seq);       // one event per message (or none)
//   while (m.pop_output(packet)) transport.write(packet);
//   m.send_data(id, bytes) / m.consume(id, n) / m.open_channel(...) / m.reply_request(...)
//
// Flow control (RFC 4254 §5.2): the peer may send at most `window` bytes before we re-open the
// window; we re-open it only as consume() reports that the application took the data, so a slow
// reader stalls its sender and nothing is buffered beyond one window per channel. Data beyond the
// window or above our max packet, a WINDOW_ADJUST past 2^32-1, any message for a channel that does
// not exist (or whose CLOSE the peer already sent), and replies nobody asked for end the connection
// with a protocol error: process() returns event::error and error()/description() say why; the
// caller then sends DISCONNECT.
#pragma once

#include <ferry/core/bytes.hpp>
#include <ferry/ssh/error.hpp>
#include <ferry/ssh/proto/connection_messages.hpp>
#include <ferry/ssh/proto/identification.hpp>
#include <ferry/ssh/proto/packet.hpp>

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::ssh::proto {

struct connection_config {
  role local = role::client;
  // The window we offer each channel and the largest data payload we accept in one message.
  std::uint32_t window = 4 * 1024 * 1024;
  std::uint32_t max_packet = 64 * 1024;
  // The largest data payload we send, whatever the peer accepts (bounded by the transport limit).
  std::uint32_t max_send_packet = 64 * 1024;
  std::size_t max_channels = limits::ssh_max_channels;
  // Session channels the peer may have open at once (a server's MaxSessions).
  std::size_t max_sessions = limits::ssh_max_sessions;
  std::size_t max_pending_opens = limits::ssh_max_pending_opens;
};

class connection_machine {
 public:
  enum class event_kind {
    none,            // handled inside (or ignored)
    open_request,    // the peer opens a channel: accept_open() or reject_open() it
    open_confirmed,  // our open succeeded
    open_failed,     // our open was refused: code = reason, text = description; id is freed
    data,            // data for channel
    extended_data,   // extended data for channel, code = data type (1: stderr)
    window_adjust,   // more may be sent on channel
    eof,
    close,           // the peer closed channel; we replied CLOSE if needed; id is freed
    channel_request,
    channel_reply,   // code 1 success, 0 failure
    global_request,
    global_reply,    // code 1 success, 0 failure; data = the reply's data
    error,           // protocol violation: disconnect with error()/description()
  };

  struct event {
    event_kind kind = event_kind::none;
    std::uint32_t channel = 0;
    std::uint32_t code = 0;
    bool want_reply = false;
    std::string_view name;  // channel type or request name (views into the payload)
    byte_view data;         // valid until the next call to process()
    std::string_view text;
  };

  explicit connection_machine(connection_config config = {}) : cfg_(config) {}

  // sequence: the transport sequence number the payload arrived with. A message number this
  // layer does not know (51..79, the unassigned 83..89, 101..255) is answered with
  // SSH_MSG_UNIMPLEMENTED quoting it (RFC 4253 §11.4), in order with the other replies, and the
  // connection goes on; a late USERAUTH_REQUEST (50) is ignored (RFC 4252 §5.1).
  event process(byte_view payload, std::uint32_t sequence = 0);

  // --- output ------------------------------------------------------------------------------
  bool has_output() const noexcept { return !out_.empty(); }
  std::size_t output_bytes() const noexcept { return out_bytes_; }
  // Moves the next queued message into out (whose old buffer is recycled).
  bool pop_output(bytes& out);
  // The same laid out for transport_machine::send_in_place: packet_headroom spare bytes, then
  // the message, with room reserved for padding and MAC (no copy on the way to the wire).
  bool pop_packet(bytes& out);

  // --- channels we open ------------------------------------------------------------------------
  // Queues CHANNEL_OPEN; the id names the channel from now on. Fails when the table is full.
  error_code open_channel(std::string_view type, byte_view extra, std::uint32_t& id);

  // --- channels the peer opens ----------------------------------------------------------------
  error_code accept_open(std::uint32_t id, byte_view extra = {});
  error_code reject_open(std::uint32_t id, open_failure_reason reason, std::string_view text);

  // --- data ------------------------------------------------------------------------------------
  // Bytes that may go in the next DATA message on id (window and max packet; 0 if none).
  std::size_t sendable(std::uint32_t id) const noexcept;
  // Queues DATA (ext_type 0) or EXTENDED_DATA; data.size() must be at most sendable(id).
  error_code send_data(std::uint32_t id, byte_view data, std::uint32_t ext_type = 0);
  // The same where the caller writes the n data bytes into `into` (straight from a gather of
  // buffers), valid until the next call on the machine.
  error_code send_data(std::uint32_t id, std::size_t n, std::uint32_t ext_type,
                       mutable_byte_view& into);
  // The application took n received bytes of id: the window re-opens by them (in batches).
  void consume(std::uint32_t id, std::size_t n);
  error_code send_eof(std::uint32_t id);
  // Queues CLOSE (once); the id is freed when the peer's CLOSE has also arrived.
  error_code send_close(std::uint32_t id);

  // --- requests ------------------------------------------------------------------------------
  error_code send_request(std::uint32_t id, std::string_view type, bool want_reply,
                          byte_view payload = {});
  // Answers the oldest channel request of id that wanted a reply (RFC 4254 §5.4: in order).
  error_code reply_request(std::uint32_t id, bool success);
  void send_global_request(std::string_view name, bool want_reply, byte_view payload = {});
  // Answers the oldest global request that wanted a reply (RFC 4254 §4: in order).
  error_code reply_global(bool success, byte_view payload = {});

  // --- state -----------------------------------------------------------------------------------
  bool exists(std::uint32_t id) const noexcept { return find(id) != nullptr; }
  bool is_open(std::uint32_t id) const noexcept;
  bool eof_sent(std::uint32_t id) const noexcept;
  bool close_sent(std::uint32_t id) const noexcept;
  std::uint32_t remote_window(std::uint32_t id) const noexcept;
  std::uint32_t local_window(std::uint32_t id) const noexcept;
  std::uint32_t remote_max_packet(std::uint32_t id) const noexcept;
  std::size_t channel_count() const noexcept { return count_; }
  std::size_t session_count() const noexcept { return sessions_; }
  bool no_more_sessions() const noexcept { return no_more_sessions_; }
  std::size_t pending_global_requests() const noexcept { return global_pending_; }

  bool failed() const noexcept { return failed_; }
  disconnect_reason error() const noexcept { return reason_; }
  const std::string& description() const noexcept { return description_; }
  const connection_config& config() const noexcept { return cfg_; }

 private:
  enum class state : std::uint8_t { free, opening, incoming, open };

  struct channel {
    state st = state::free;
    bool peer_session = false;  // a session channel the peer opened (counts against max)
    bool sent_eof = false, got_eof = false, sent_close = false, got_close = false;
    std::uint32_t remote_id = 0;
    std::uint64_t remote_window = 0;
    std::uint32_t remote_max_packet = 0;
    std::uint32_t local_window = 0;
    std::uint64_t unacked = 0;          // consumed, not yet given back in WINDOW_ADJUST
    std::uint32_t requests_pending = 0;  // ours awaiting SUCCESS/FAILURE
    std::uint32_t replies_owed = 0;      // the peer's awaiting our reply
  };

  channel* find(std::uint32_t id) noexcept;
  const channel* find(std::uint32_t id) const noexcept;
  // A channel the peer may address: exists, past the open, and its CLOSE not yet received.
  channel* live(std::uint32_t id, std::uint8_t msg_id);
  std::uint32_t allocate();
  void release(std::uint32_t id);
  event fail(std::string_view text);
  // Queued messages keep packet_headroom spare bytes in front (see pop_packet).
  template <class M>
  void queue(const M& m) {
    bytes b = take_spare();
    b.resize(packet_headroom);
    wire::encode(b, m);
    out_bytes_ += b.size() - packet_headroom;
    out_.push_back(std::move(b));
  }
  bytes take_spare();

  event on_global_request(byte_view payload);
  event on_global_reply(byte_view payload, bool success);
  event on_open(byte_view payload);
  event on_open_confirmation(byte_view payload);
  event on_open_failure(byte_view payload);
  event on_window_adjust(byte_view payload);
  event on_data(byte_view payload, bool extended);
  event on_eof(byte_view payload);
  event on_close(byte_view payload);
  event on_request(byte_view payload);
  event on_reply(byte_view payload, bool success);

  connection_config cfg_;
  std::vector<channel> channels_;
  std::vector<std::uint32_t> free_ids_;
  std::size_t count_ = 0;
  std::size_t sessions_ = 0;
  std::size_t incoming_pending_ = 0;
  bool no_more_sessions_ = false;
  std::size_t global_pending_ = 0;  // ours awaiting a reply
  std::size_t global_owed_ = 0;     // the peer's awaiting our reply

  std::deque<bytes> out_;
  std::vector<bytes> spare_;
  std::size_t out_bytes_ = 0;

  // Decoded strings the current event's views point into.
  std::string name_, text_;
  bytes data_;

  bool failed_ = false;
  disconnect_reason reason_ = disconnect_reason::protocol_error;
  std::string description_;
};

}  // namespace ferry::ssh::proto
