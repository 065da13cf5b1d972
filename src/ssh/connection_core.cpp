#include <ferry/ssh/detail/connection_core.hpp>

#include <boost/asio/error.hpp>

namespace ferry::ssh::detail {

namespace {

proto::connection_config machine_config(proto::role r, const connection_options& o) {
  proto::connection_config c;
  c.local = r;
  c.window = o.window;
  c.max_packet = o.max_packet;
  c.max_send_packet = o.max_send_packet;
  c.max_channels = o.max_channels;
  c.max_sessions = o.max_sessions;
  return c;
}

}  // namespace

connection_core::connection_core(executor_type ex, proto::role r, const connection_options& o)
    : ex_(ex),
      role_(r),
      opts_(o),
      machine_(machine_config(r, o)),
      writer_signal_(ex),
      space_signal_(ex),
      accept_signal_(ex),
      global_signal_(ex) {}

connection_core::~connection_core() {
  if (!ended_) fail(make_error_code(channel_errc::connection_closed));
  for (auto& [id, s] : channels_) s->core = nullptr;
  for (auto& s : incoming_) s->core = nullptr;
}

std::shared_ptr<channel_state> connection_core::state_of(std::uint32_t id) {
  auto it = channels_.find(id);
  return it == channels_.end() ? nullptr : it->second;
}

void connection_core::end_channel(channel_state& s, error_code ec) {
  s.closed = true;
  if (!s.error) s.error = ec;
  for (auto& r : s.replies) r->done = true;  // success stays false
  s.replies.clear();
  s.changed.notify();
}

void connection_core::fail(error_code ec) {
  if (ended_) return;
  ended_ = true;
  error_ = ec ? ec : make_error_code(channel_errc::connection_closed);
  for (auto& [id, s] : channels_) end_channel(*s, error_);
  for (auto& s : incoming_) end_channel(*s, error_);
  for (auto& r : global_replies_) r->done = true;
  global_replies_.clear();
  writer_signal_.notify();
  space_signal_.notify();
  accept_signal_.notify();
  global_signal_.notify();
}

bool connection_core::handle(byte_view payload, std::uint32_t sequence) {
  using kind = proto::connection_machine::event_kind;
  ++packets_received_;
  last_activity_ = std::chrono::steady_clock::now();
  auto e = machine_.process(payload, sequence);
  switch (e.kind) {
    case kind::none: break;
    case kind::error: return false;
    case kind::open_request: on_open_request(e); break;
    case kind::open_confirmed: {
      if (auto s = state_of(e.channel)) {
        s->open = true;
        s->changed.notify();
      }
      break;
    }
    case kind::open_failed: {
      if (auto s = state_of(e.channel)) {
        channels_.erase(e.channel);
        auto reason = e.code >= 1 && e.code <= 4 ? make_error_code(static_cast<proto::open_failure_reason>(e.code))
                                                 : make_error_code(proto::open_failure_reason::administratively_prohibited);
        end_channel(*s, reason);
      }
      break;
    }
    case kind::data:
    case kind::extended_data: {
      auto s = state_of(e.channel);
      if (!s) break;
      if (e.kind == kind::data) {
        s->rx.deliver(e.data);
      } else if (e.code == proto::extended_data_stderr && !s->discard_stderr) {
        s->rx_stderr.deliver(e.data);
      } else {
        machine_.consume(e.channel, e.data.size());  // nobody reads it: give the window back
      }
      s->changed.notify();
      break;
    }
    case kind::window_adjust: {
      if (auto s = state_of(e.channel)) s->changed.notify();
      break;
    }
    case kind::eof: {
      if (auto s = state_of(e.channel)) {
        s->eof_received = true;
        s->changed.notify();
      }
      break;
    }
    case kind::close: {
      if (auto s = state_of(e.channel)) {
        channels_.erase(e.channel);
        s->close_sent = true;  // the machine answered with CLOSE
        end_channel(*s, make_error_code(channel_errc::channel_closed));
      }
      break;
    }
    case kind::channel_request: {
      if (auto s = state_of(e.channel))
        on_channel_request(*s, e);
      else if (e.want_reply)
        machine_.reply_request(e.channel, false);
      break;
    }
    case kind::channel_reply: {
      if (auto s = state_of(e.channel); s && !s->replies.empty()) {
        auto r = s->replies.front();
        s->replies.pop_front();
        r->done = true;
        r->success = e.code == 1;
        s->changed.notify();
      }
      break;
    }
    case kind::global_request: {
      std::optional<bytes> reply;
      if (on_global_request) reply = on_global_request(e.name, e.data);
      if (e.want_reply) {
        if (reply)
          machine_.reply_global(true, *reply);
        else
          machine_.reply_global(false);
      }
      break;
    }
    case kind::global_reply: {
      if (!global_replies_.empty()) {
        auto r = global_replies_.front();
        global_replies_.pop_front();
        r->done = true;
        r->success = e.code == 1;
        r->data.assign(e.data.begin(), e.data.end());
        global_signal_.notify();
      }
      break;
    }
  }
  if (machine_.has_output()) writer_signal_.notify();
  return true;
}

void connection_core::on_open_request(const proto::connection_machine::event& e) {
  if (ended_ || !accept_open_types || !accept_open_types(e.name)) {
    machine_.reject_open(e.channel, proto::open_failure_reason::unknown_channel_type,
                         "unknown channel type");
    return;
  }
  auto s = std::make_shared<channel_state>(this, e.channel, std::string{e.name}, ex_);
  s->open_data.assign(e.data.begin(), e.data.end());
  incoming_.push_back(std::move(s));
  accept_signal_.notify();
}

void connection_core::on_channel_request(channel_state& s, const proto::connection_machine::event& e) {
  bool ok = false;
  if (e.name == proto::names::exit_status) {
    proto::exit_status_request r;
    if (!wire::decode(e.data, r)) {
      s.exit_status = r.status;
      ok = true;
    }
  } else if (e.name == proto::names::exit_signal) {
    proto::exit_signal_request r;
    if (!wire::decode(e.data, r)) {
      s.exit_signal = std::move(r);
      ok = true;
    }
  } else if (e.name == proto::names::eow || e.name == proto::names::keepalive) {
    ok = false;  // OpenSSH answers its own keepalive with failure too; eow is advisory
  } else if (s.on_request) {
    ok = s.on_request(channel_request_view{e.name, e.want_reply, e.data});
  }
  if (e.want_reply) machine_.reply_request(s.id, ok);
  s.changed.notify();
}

// --- operations ----------------------------------------------------------------------------------

boost::asio::awaitable<std::tuple<error_code, std::shared_ptr<channel_state>>>
connection_core::open_channel(std::string type, bytes extra) {
  if (ended_) co_return std::tuple{error_, nullptr};
  std::uint32_t id = 0;
  if (auto ec = machine_.open_channel(type, extra, id)) co_return std::tuple{ec, nullptr};
  auto s = std::make_shared<channel_state>(this, id, std::move(type), ex_);
  channels_[id] = s;
  writer_signal_.notify();
  while (!s->open && !s->closed) co_await s->changed.wait();
  if (!s->open) co_return std::tuple{s->error, nullptr};
  co_return std::tuple{error_code{}, s};
}

boost::asio::awaitable<std::tuple<error_code, std::shared_ptr<channel_state>>>
connection_core::accept_channel() {
  while (incoming_.empty() && !ended_) {
    co_await accept_signal_.wait();
    if (co_await cancelled())
      co_return std::tuple{make_error_code(boost::asio::error::operation_aborted), nullptr};
  }
  if (incoming_.empty()) co_return std::tuple{error_, nullptr};
  auto s = incoming_.front();
  incoming_.pop_front();
  co_return std::tuple{error_code{}, s};
}

void connection_core::accept(const std::shared_ptr<channel_state>& s) {
  if (s->open || s->closed || ended_) return;
  if (machine_.accept_open(s->id)) return;
  s->open = true;
  channels_[s->id] = s;
  writer_signal_.notify();
}

void connection_core::reject(channel_state& s, proto::open_failure_reason r, std::string_view text) {
  if (s.open || s.closed || ended_) return;
  machine_.reject_open(s.id, r, text);
  s.closed = true;
  s.close_sent = true;
  s.error = make_error_code(channel_errc::channel_closed);
  writer_signal_.notify();
}

boost::asio::awaitable<std::tuple<error_code, bytes>> connection_core::global_request(
    std::string name, bytes payload) {
  if (ended_) co_return std::tuple{error_, bytes{}};
  machine_.send_global_request(name, true, payload);
  auto slot = std::make_shared<reply_slot>();
  global_replies_.push_back(slot);
  writer_signal_.notify();
  while (!slot->done) co_await global_signal_.wait();
  if (ended_ && !slot->success) co_return std::tuple{error_, bytes{}};
  if (!slot->success) co_return std::tuple{make_error_code(channel_errc::request_failed), bytes{}};
  co_return std::tuple{error_code{}, std::move(slot->data)};
}

void connection_core::global_request_no_reply(std::string_view name, byte_view payload) {
  if (ended_) return;
  machine_.send_global_request(name, false, payload);
  writer_signal_.notify();
}

void connection_core::send_keepalive() {
  if (ended_) return;
  machine_.send_global_request(proto::names::keepalive, true);
  global_replies_.push_back(std::make_shared<reply_slot>());
  writer_signal_.notify();
}

void connection_core::consume(channel_state& s, std::size_t n) {
  if (s.closed || ended_) return;
  machine_.consume(s.id, n);
  if (machine_.has_output()) writer_signal_.notify();
}

error_code connection_core::send_data(channel_state& s, byte_view data, std::uint32_t ext) {
  if (ended_) return error_;
  if (s.closed) return make_error_code(channel_errc::channel_closed);
  auto ec = machine_.send_data(s.id, data, ext);
  writer_signal_.notify();
  return ec;
}

error_code connection_core::send_data(channel_state& s, std::size_t n, std::uint32_t ext,
                                      mutable_byte_view& into) {
  if (ended_) return error_;
  if (s.closed) return make_error_code(channel_errc::channel_closed);
  auto ec = machine_.send_data(s.id, n, ext, into);
  writer_signal_.notify();
  return ec;
}

error_code connection_core::send_eof(channel_state& s) {
  if (ended_) return error_;
  if (s.closed) return make_error_code(channel_errc::channel_closed);
  auto ec = machine_.send_eof(s.id);
  writer_signal_.notify();
  return ec;
}

error_code connection_core::close(channel_state& s) {
  if (s.close_sent || s.closed || ended_) return {};
  s.close_sent = true;
  auto ec = machine_.send_close(s.id);
  writer_signal_.notify();
  // Reads end now; the number stays taken until the peer's CLOSE arrives.
  s.changed.notify();
  return ec;
}

error_code connection_core::send_request(channel_state& s, std::string_view type, byte_view payload,
                                         std::shared_ptr<reply_slot> reply) {
  if (ended_) return error_;
  if (s.closed || s.close_sent) return make_error_code(channel_errc::channel_closed);
  if (auto ec = machine_.send_request(s.id, type, reply != nullptr, payload)) return ec;
  if (reply) s.replies.push_back(std::move(reply));
  writer_signal_.notify();
  return {};
}

}  // namespace ferry::ssh::detail
