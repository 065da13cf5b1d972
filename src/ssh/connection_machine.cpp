#include <ferry/ssh/connection_error.hpp>
#include <ferry/ssh/proto/connection_machine.hpp>
#include <ferry/ssh/proto/userauth.hpp>

#include <algorithm>
#include <limits>

namespace ferry::ssh::proto {

namespace {
constexpr std::uint64_t max_window = std::numeric_limits<std::uint32_t>::max();
}

connection_machine::channel* connection_machine::find(std::uint32_t id) noexcept {
  if (id >= channels_.size() || channels_[id].st == state::free) return nullptr;
  return &channels_[id];
}

const connection_machine::channel* connection_machine::find(std::uint32_t id) const noexcept {
  if (id >= channels_.size() || channels_[id].st == state::free) return nullptr;
  return &channels_[id];
}

connection_machine::channel* connection_machine::live(std::uint32_t id, std::uint8_t) {
  auto* c = find(id);
  if (!c || c->st != state::open || c->got_close) return nullptr;
  return c;
}

std::uint32_t connection_machine::allocate() {
  std::uint32_t id;
  if (!free_ids_.empty()) {
    id = free_ids_.back();
    free_ids_.pop_back();
  } else {
    id = static_cast<std::uint32_t>(channels_.size());
    channels_.emplace_back();
  }
  channels_[id] = channel{};
  ++count_;
  return id;
}

void connection_machine::release(std::uint32_t id) {
  auto& c = channels_[id];
  if (c.peer_session) --sessions_;
  if (c.st == state::incoming) --incoming_pending_;
  c = channel{};
  --count_;
  free_ids_.push_back(id);
}

connection_machine::event connection_machine::fail(std::string_view text) {
  if (!failed_) {
    failed_ = true;
    reason_ = disconnect_reason::protocol_error;
    description_ = std::string{text};
  }
  event e;
  e.kind = event_kind::error;
  e.text = description_;
  return e;
}

bytes connection_machine::take_spare() {
  if (spare_.empty()) return {};
  bytes b = std::move(spare_.back());
  spare_.pop_back();
  b.clear();
  return b;
}

bool connection_machine::pop_packet(bytes& out) {
  if (out_.empty()) return false;
  // Spare buffers keep their size: a data message resized over an old one is not zero-filled.
  if (out.capacity() > 0 && spare_.size() < 64) spare_.push_back(std::move(out));
  out = std::move(out_.front());
  out_.pop_front();
  out_bytes_ -= out.size() - packet_headroom;
  return true;
}

bool connection_machine::pop_output(bytes& out) {
  if (!pop_packet(out)) return false;
  out.erase(out.begin(), out.begin() + packet_headroom);
  return true;
}

connection_machine::event connection_machine::process(byte_view payload, std::uint32_t sequence) {
  if (failed_) return fail(description_);
  if (payload.empty()) return fail("empty message");
  switch (payload[0]) {
    case msg::global_request: return on_global_request(payload);
    case msg::request_success: return on_global_reply(payload, true);
    case msg::request_failure: return on_global_reply(payload, false);
    case msg::channel_open: return on_open(payload);
    case msg::channel_open_confirmation: return on_open_confirmation(payload);
    case msg::channel_open_failure: return on_open_failure(payload);
    case msg::channel_window_adjust: return on_window_adjust(payload);
    case msg::channel_data: return on_data(payload, false);
    case msg::channel_extended_data: return on_data(payload, true);
    case msg::channel_eof: return on_eof(payload);
    case msg::channel_close: return on_close(payload);
    case msg::channel_request: return on_request(payload);
    case msg::channel_success: return on_reply(payload, true);
    case msg::channel_failure: return on_reply(payload, false);
    default: break;
  }
  // RFC 4252 §5.1: authentication requests after success are ignored.
  if (payload[0] == msg::userauth_request) return {};
  // RFC 4253 §11.4: anything else we do not implement is answered, and the connection goes on.
  queue(unimplemented{sequence});
  return {};
}

// --- global requests ---------------------------------------------------------------------------

connection_machine::event connection_machine::on_global_request(byte_view payload) {
  global_request m;
  if (wire::decode(payload, m)) return fail("malformed GLOBAL_REQUEST");
  if (m.want_reply) ++global_owed_;
  if (m.name == names::no_more_sessions) {
    // OpenSSH PROTOCOL §2.2: later session opens are refused.
    no_more_sessions_ = true;
    if (m.want_reply) reply_global(true);
    return {};
  }
  name_ = std::move(m.name);
  data_ = std::move(m.data.data);
  event e;
  e.kind = event_kind::global_request;
  e.name = name_;
  e.want_reply = m.want_reply;
  e.data = data_;
  return e;
}

connection_machine::event connection_machine::on_global_reply(byte_view payload, bool success) {
  if (global_pending_ == 0) return fail("global request reply without a request");
  event e;
  e.kind = event_kind::global_reply;
  e.code = success ? 1 : 0;
  if (success) {
    request_success m;
    if (wire::decode(payload, m)) return fail("malformed REQUEST_SUCCESS");
    data_ = std::move(m.data.data);
    e.data = data_;
  } else {
    request_failure m;
    if (wire::decode(payload, m)) return fail("malformed REQUEST_FAILURE");
  }
  --global_pending_;
  return e;
}

void connection_machine::send_global_request(std::string_view name, bool want_reply,
                                             byte_view payload) {
  global_request m{std::string{name}, want_reply, {bytes(payload.begin(), payload.end())}};
  if (want_reply) ++global_pending_;
  queue(m);
}

error_code connection_machine::reply_global(bool success, byte_view payload) {
  if (global_owed_ == 0) return make_error_code(errc::unexpected_message);
  --global_owed_;
  if (success)
    queue(request_success{{bytes(payload.begin(), payload.end())}});
  else
    queue(request_failure{});
  return {};
}

// --- opening ---------------------------------------------------------------------------------

connection_machine::event connection_machine::on_open(byte_view payload) {
  channel_open m;
  if (wire::decode(payload, m)) return fail("malformed CHANNEL_OPEN");
  auto refuse = [&](open_failure_reason r, std::string_view text) {
    queue(channel_open_failure{m.sender_channel, static_cast<std::uint32_t>(r), std::string{text},
                               std::string{}});
    return event{};
  };
  if (count_ >= cfg_.max_channels) return refuse(open_failure_reason::resource_shortage, "too many channels");
  if (incoming_pending_ >= cfg_.max_pending_opens)
    return refuse(open_failure_reason::resource_shortage, "too many pending channel opens");
  if (m.type.size() > limits::ssh_max_request_name)
    return refuse(open_failure_reason::unknown_channel_type, "unknown channel type");
  const bool session = cfg_.local == role::server && m.type == names::session;
  if (session) {
    if (no_more_sessions_)
      return refuse(open_failure_reason::administratively_prohibited, "no more sessions");
    if (sessions_ >= cfg_.max_sessions)
      return refuse(open_failure_reason::resource_shortage, "too many sessions");
  }
  auto id = allocate();
  auto& c = channels_[id];
  c.st = state::incoming;
  c.peer_session = session;
  if (session) ++sessions_;
  ++incoming_pending_;
  c.remote_id = m.sender_channel;
  c.remote_window = m.initial_window;
  c.remote_max_packet = std::max<std::uint32_t>(m.max_packet, 1);
  name_ = std::move(m.type);
  data_ = std::move(m.data.data);
  event e;
  e.kind = event_kind::open_request;
  e.channel = id;
  e.name = name_;
  e.data = data_;
  return e;
}

error_code connection_machine::accept_open(std::uint32_t id, byte_view extra) {
  auto* c = find(id);
  if (!c || c->st != state::incoming) return make_error_code(errc::unexpected_message);
  c->st = state::open;
  --incoming_pending_;
  c->local_window = cfg_.window;
  queue(channel_open_confirmation{c->remote_id, id, cfg_.window, cfg_.max_packet,
                                  {bytes(extra.begin(), extra.end())}});
  return {};
}

error_code connection_machine::reject_open(std::uint32_t id, open_failure_reason reason,
                                           std::string_view text) {
  auto* c = find(id);
  if (!c || c->st != state::incoming) return make_error_code(errc::unexpected_message);
  queue(channel_open_failure{c->remote_id, static_cast<std::uint32_t>(reason), std::string{text},
                             std::string{}});
  release(id);
  return {};
}

error_code connection_machine::open_channel(std::string_view type, byte_view extra,
                                            std::uint32_t& id) {
  if (count_ >= cfg_.max_channels) return make_error_code(channel_errc::too_many_channels);
  id = allocate();
  channels_[id].st = state::opening;
  queue(channel_open{std::string{type}, id, cfg_.window, cfg_.max_packet,
                     {bytes(extra.begin(), extra.end())}});
  return {};
}

connection_machine::event connection_machine::on_open_confirmation(byte_view payload) {
  channel_open_confirmation m;
  if (wire::decode(payload, m)) return fail("malformed CHANNEL_OPEN_CONFIRMATION");
  auto* c = find(m.recipient_channel);
  if (!c || c->st != state::opening) return fail("CHANNEL_OPEN_CONFIRMATION for no pending open");
  c->st = state::open;
  c->remote_id = m.sender_channel;
  c->remote_window = m.initial_window;
  c->remote_max_packet = std::max<std::uint32_t>(m.max_packet, 1);
  c->local_window = cfg_.window;
  data_ = std::move(m.data.data);
  event e;
  e.kind = event_kind::open_confirmed;
  e.channel = m.recipient_channel;
  e.data = data_;
  return e;
}

connection_machine::event connection_machine::on_open_failure(byte_view payload) {
  channel_open_failure m;
  if (wire::decode(payload, m)) return fail("malformed CHANNEL_OPEN_FAILURE");
  auto* c = find(m.recipient_channel);
  if (!c || c->st != state::opening) return fail("CHANNEL_OPEN_FAILURE for no pending open");
  release(m.recipient_channel);
  text_ = std::move(m.description);
  event e;
  e.kind = event_kind::open_failed;
  e.channel = m.recipient_channel;
  e.code = m.reason_code;
  e.text = text_;
  return e;
}

// --- data and windows ------------------------------------------------------------------------

connection_machine::event connection_machine::on_window_adjust(byte_view payload) {
  channel_window_adjust m;
  if (wire::decode(payload, m)) return fail("malformed CHANNEL_WINDOW_ADJUST");
  auto* c = live(m.recipient_channel, msg::channel_window_adjust);
  if (!c) return fail("CHANNEL_WINDOW_ADJUST for an unknown channel");
  // RFC 4254 §5.2: the window may not grow past 2^32 - 1.
  if (c->remote_window + m.bytes_to_add > max_window) return fail("channel window overflow");
  c->remote_window += m.bytes_to_add;
  event e;
  e.kind = event_kind::window_adjust;
  e.channel = m.recipient_channel;
  return e;
}

connection_machine::event connection_machine::on_data(byte_view payload, bool extended) {
  std::uint32_t id = 0, type = 0;
  byte_view data;
  if (extended) {
    channel_extended_data m;
    if (wire::decode(payload, m)) return fail("malformed CHANNEL_EXTENDED_DATA");
    id = m.recipient_channel;
    type = m.data_type_code;
    data = m.data.data;
  } else {
    channel_data m;
    if (wire::decode(payload, m)) return fail("malformed CHANNEL_DATA");
    id = m.recipient_channel;
    data = m.data.data;
  }
  auto* c = live(id, payload[0]);
  if (!c) return fail("channel data for an unknown channel");
  if (c->got_eof) return fail("channel data after EOF");
  if (data.size() > cfg_.max_packet) return fail("channel data above the maximum packet size");
  if (data.size() > c->local_window) return fail("channel data beyond the window");
  c->local_window -= static_cast<std::uint32_t>(data.size());
  if (c->sent_close) return {};  // we closed: what was in flight is dropped
  event e;
  e.kind = extended ? event_kind::extended_data : event_kind::data;
  e.channel = id;
  e.code = type;
  e.data = data;
  return e;
}

std::size_t connection_machine::sendable(std::uint32_t id) const noexcept {
  auto* c = find(id);
  if (!c || c->st != state::open || c->sent_eof || c->sent_close) return 0;
  return static_cast<std::size_t>(std::min<std::uint64_t>(
      {c->remote_window, c->remote_max_packet, cfg_.max_send_packet}));
}

error_code connection_machine::send_data(std::uint32_t id, byte_view data, std::uint32_t ext_type) {
  auto* c = find(id);
  if (!c || c->st != state::open || c->sent_eof || c->sent_close)
    return make_error_code(channel_errc::channel_closed);
  if (data.size() > sendable(id)) return make_error_code(errc::length_limit);
  c->remote_window -= data.size();
  if (ext_type == 0)
    queue(channel_data{c->remote_id, {data}});
  else
    queue(channel_extended_data{c->remote_id, ext_type, {data}});
  return {};
}

error_code connection_machine::send_data(std::uint32_t id, std::size_t n, std::uint32_t ext_type,
                                         mutable_byte_view& into) {
  auto* c = find(id);
  if (!c || c->st != state::open || c->sent_eof || c->sent_close)
    return make_error_code(channel_errc::channel_closed);
  if (n > sendable(id)) return make_error_code(errc::length_limit);
  c->remote_window -= n;
  // RFC 4254 §5.2: byte msg, uint32 recipient, [uint32 data_type_code,] string data.
  bytes b;
  if (!spare_.empty()) {
    b = std::move(spare_.back());
    spare_.pop_back();
  }
  const std::size_t header = ext_type == 0 ? 9 : 13;
  b.reserve(packet_headroom + header + n + packet_tailroom);
  b.resize(packet_headroom + header + n);
  std::uint8_t* p = b.data() + packet_headroom;
  auto put = [&p](std::uint32_t v) {
    p[0] = std::uint8_t(v >> 24);
    p[1] = std::uint8_t(v >> 16);
    p[2] = std::uint8_t(v >> 8);
    p[3] = std::uint8_t(v);
    p += 4;
  };
  *p++ = ext_type == 0 ? msg::channel_data : msg::channel_extended_data;
  put(c->remote_id);
  if (ext_type != 0) put(ext_type);
  put(static_cast<std::uint32_t>(n));
  into = mutable_byte_view{p, n};
  out_bytes_ += header + n;
  out_.push_back(std::move(b));
  return {};
}

void connection_machine::consume(std::uint32_t id, std::size_t n) {
  auto* c = find(id);
  if (!c || c->st != state::open || c->sent_close || c->got_close || n == 0) return;
  c->unacked = std::min<std::uint64_t>(c->unacked + n, cfg_.window - c->local_window);
  // Re-open in batches (half a window), as OpenSSH does, not one adjust per read.
  if (c->unacked > 0 && (c->local_window < cfg_.window / 2 || c->unacked >= cfg_.window / 2)) {
    queue(channel_window_adjust{c->remote_id, static_cast<std::uint32_t>(c->unacked)});
    c->local_window += static_cast<std::uint32_t>(c->unacked);
    c->unacked = 0;
  }
}

// --- EOF and CLOSE ---------------------------------------------------------------------------

connection_machine::event connection_machine::on_eof(byte_view payload) {
  channel_eof m;
  if (wire::decode(payload, m)) return fail("malformed CHANNEL_EOF");
  auto* c = live(m.recipient_channel, msg::channel_eof);
  if (!c) return fail("CHANNEL_EOF for an unknown channel");
  if (c->got_eof) return {};
  c->got_eof = true;
  event e;
  e.kind = event_kind::eof;
  e.channel = m.recipient_channel;
  return e;
}

connection_machine::event connection_machine::on_close(byte_view payload) {
  channel_close m;
  if (wire::decode(payload, m)) return fail("malformed CHANNEL_CLOSE");
  auto* c = live(m.recipient_channel, msg::channel_close);
  if (!c) return fail("CHANNEL_CLOSE for an unknown channel");
  // RFC 4254 §5.3: answer with CLOSE unless we sent one; then the number is free again.
  if (!c->sent_close) queue(channel_close{c->remote_id});
  release(m.recipient_channel);
  event e;
  e.kind = event_kind::close;
  e.channel = m.recipient_channel;
  return e;
}

error_code connection_machine::send_eof(std::uint32_t id) {
  auto* c = find(id);
  if (!c || c->st != state::open || c->sent_close) return make_error_code(channel_errc::channel_closed);
  if (c->sent_eof) return {};
  c->sent_eof = true;
  queue(channel_eof{c->remote_id});
  return {};
}

error_code connection_machine::send_close(std::uint32_t id) {
  auto* c = find(id);
  if (!c || c->st != state::open) return make_error_code(channel_errc::channel_closed);
  if (c->sent_close) return {};
  c->sent_close = true;
  queue(channel_close{c->remote_id});
  return {};
}

// --- channel requests ------------------------------------------------------------------------

connection_machine::event connection_machine::on_request(byte_view payload) {
  channel_request m;
  if (wire::decode(payload, m)) return fail("malformed CHANNEL_REQUEST");
  auto* c = live(m.recipient_channel, msg::channel_request);
  if (!c) return fail("CHANNEL_REQUEST for an unknown channel");
  if (c->sent_close) return {};  // nothing more may be sent on it, not even a reply
  if (m.want_reply) ++c->replies_owed;
  name_ = std::move(m.type);
  data_ = std::move(m.data.data);
  event e;
  e.kind = event_kind::channel_request;
  e.channel = m.recipient_channel;
  e.name = name_;
  e.want_reply = m.want_reply;
  e.data = data_;
  return e;
}

connection_machine::event connection_machine::on_reply(byte_view payload, bool success) {
  std::uint32_t id = 0;
  error_code ec;
  if (success) {
    channel_success m;
    ec = wire::decode(payload, m);
    id = m.recipient_channel;
  } else {
    channel_failure m;
    ec = wire::decode(payload, m);
    id = m.recipient_channel;
  }
  if (ec) return fail("malformed CHANNEL_SUCCESS/FAILURE");
  auto* c = live(id, payload[0]);
  if (!c) return fail("channel request reply for an unknown channel");
  if (c->requests_pending == 0) return fail("channel request reply without a request");
  --c->requests_pending;
  event e;
  e.kind = event_kind::channel_reply;
  e.channel = id;
  e.code = success ? 1 : 0;
  return e;
}

error_code connection_machine::send_request(std::uint32_t id, std::string_view type,
                                            bool want_reply, byte_view payload) {
  auto* c = find(id);
  if (!c || c->st != state::open || c->sent_close) return make_error_code(channel_errc::channel_closed);
  if (want_reply) ++c->requests_pending;
  queue(channel_request{c->remote_id, std::string{type}, want_reply,
                        {bytes(payload.begin(), payload.end())}});
  return {};
}

error_code connection_machine::reply_request(std::uint32_t id, bool success) {
  auto* c = find(id);
  if (!c || c->replies_owed == 0) return make_error_code(errc::unexpected_message);
  --c->replies_owed;
  if (c->sent_close) return {};
  if (success)
    queue(channel_success{c->remote_id});
  else
    queue(channel_failure{c->remote_id});
  return {};
}

// --- state -----------------------------------------------------------------------------------

bool connection_machine::is_open(std::uint32_t id) const noexcept {
  auto* c = find(id);
  return c && c->st == state::open;
}
bool connection_machine::eof_sent(std::uint32_t id) const noexcept {
  auto* c = find(id);
  return c && c->sent_eof;
}
bool connection_machine::close_sent(std::uint32_t id) const noexcept {
  auto* c = find(id);
  return c && c->sent_close;
}
std::uint32_t connection_machine::remote_window(std::uint32_t id) const noexcept {
  auto* c = find(id);
  return c ? static_cast<std::uint32_t>(c->remote_window) : 0;
}
std::uint32_t connection_machine::local_window(std::uint32_t id) const noexcept {
  auto* c = find(id);
  return c ? c->local_window : 0;
}
std::uint32_t connection_machine::remote_max_packet(std::uint32_t id) const noexcept {
  auto* c = find(id);
  return c ? c->remote_max_packet : 0;
}

}  // namespace ferry::ssh::proto
