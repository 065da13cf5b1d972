// One SFTP v3 server session over one stream (draft-ietf-secsh-filexfer-02; OpenSSH PROTOCOL §4
// for the extensions). The reader takes packets off the stream and starts each request as its own
// coroutine, so many run at once. Requests naming the same handle keep their order where it
// matters: READs and WRITEs of one handle run at the same time unless their byte ranges overlap
// and one of them writes (an upload's WRITEs all run at once; a READ of a range waits for the WRITE
// of it before); FSTAT and FSTATVFS wait for running WRITEs; anything else on a handle (CLOSE,
// FSETSTAT, READDIR, FSYNC, copy-data, WRITE on a handle opened for appending) waits for what came
// before it and holds back what comes after. Replies are queued and written, in request order,
// in batches by one writer. The reader stops reading while too many requests are in flight or too
// many reply bytes are queued, so a client that does not read its replies stalls only itself.
//
// Everything of a session runs on one strand. Paths are handed to the Filesystem as the client
// sent them: the backend's rooted view (fs/path) is the jail; the session itself never joins or
// interprets a path beyond splitting off a last name for REALPATH of a name that does not exist.
#pragma once

#include <ferry/core/error.hpp>
#include <ferry/fs/error.hpp>
#include <ferry/fs/filesystem.hpp>
#include <ferry/fs/operations.hpp>
#include <ferry/fs/path.hpp>
#include <ferry/sftp/proto/decode.hpp>
#include <ferry/sftp/proto/frame.hpp>
#include <ferry/sftp/proto/fs_attrs.hpp>
#include <ferry/sftp/proto/server_io.hpp>
#include <ferry/sftp/proto/session.hpp>
#include <ferry/sftp/server/buffers.hpp>
#include <ferry/sftp/server/options.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

namespace ferry::sftp::detail {

namespace asio = boost::asio;

struct open_entry;

// What a request does to the bytes of its handle, for the per-handle ordering: requests whose
// accesses conflict run in the order they arrived.
struct access {
  enum kind_t : std::uint8_t { read, write, exclusive } kind = exclusive;
  std::uint64_t begin = 0;
  std::uint64_t end = 0;  // exclusive end; begin == end: no bytes
  std::uint64_t seq = 0;  // the request it belongs to
  bool ordered = false;   // a WRITE that waits for every WRITE before it (no concurrent_writes)

  bool conflicts(const access& o) const noexcept {
    if (kind == exclusive || o.kind == exclusive) return true;
    if (kind == read && o.kind == read) return false;
    if (kind == write && o.kind == write && (ordered || o.ordered)) return true;
    return begin < o.end && o.begin < end;
  }
};

// One request as the reader hands it on. WRITE is kept apart from the decoded variant so that its
// data stays a view into a pooled buffer (the packet itself when it was read straight into one).
struct job {
  proto::request req;
  bool is_write = false;
  std::uint32_t write_id = 0;
  std::uint64_t write_offset = 0;
  byte_view write_data;
  buffer write_buf;
  std::shared_ptr<open_entry> entry;  // the handle it runs on, if any
  access acc;                         // its access to that handle
};

struct open_entry {
  fs::handle fh;
  bool directory = false;
  bool readable = false;
  bool writable = false;
  bool append = false;  // WRITEs land at the end whatever their offset: they run one at a time
  std::string path;  // as opened (fstatvfs, and fstat/fsetstat for backends without them)
  std::uint32_t slot = 0;
  std::uint32_t generation = 0;
  bool closing = false;  // a CLOSE arrived: later requests on it are refused
  // per-handle ordering: the accesses of the requests running on it, and those waiting
  std::vector<access> running;
  std::deque<job> queue;
  // READDIR: the backend's last batch and how far the client has been sent through it
  std::vector<fs::dir_entry> listing;
  std::size_t next = 0;
  bool eof = false;
  // For the transfer record at close (server_options::on_transfer).
  std::uint64_t bytes_read = 0;
  std::uint64_t bytes_written = 0;
  std::chrono::steady_clock::time_point opened = std::chrono::steady_clock::now();
};

template <class Filesystem, class Stream>
class server_session : public std::enable_shared_from_this<server_session<Filesystem, Stream>> {
 public:
  using executor_type = asio::any_io_executor;
  template <class T>
  using awaitable = asio::awaitable<T, executor_type>;

  server_session(Filesystem files, std::shared_ptr<const server_options> opts, Stream& stream,
          executor_type strand)
      : fs_(std::move(files)),
        opts_(std::move(opts)),
        stream_(stream),
        strand_(strand),
        signal_(strand),
        writer_wake_(strand),
        max_read_(std::clamp<std::size_t>(opts_->max_read_length, 1, limits::sftp_server_max_read)),
        max_in_flight_(
            std::clamp<std::size_t>(opts_->max_in_flight, 1, limits::sftp_server_max_in_flight)),
        max_handles_(std::min(opts_->max_handles, limits::sftp_server_max_handles)) {}

  // The whole session: completes with no error on EOF at a packet boundary, else with the reason
  // it ended. Every handle still open is closed before it completes.
  awaitable<error_code> run(std::shared_ptr<server_session> self) {
    in_.resize(in_capacity);
    log(log_level::info, [] { return std::string{"session opened"}; });
    asio::co_spawn(strand_, writer(self), asio::detached);
    error_code result = co_await read_loop();
    while (in_flight_ > 0) co_await wait(signal_);
    writer_stop_ = true;
    writer_wake_.cancel();
    while (writer_running_) co_await wait(signal_);
    for (auto& e : slots_) {
      if (!e) continue;
      auto fh = e->fh;
      co_await fs_.async_close(fh, nothrow);
      report_transfer(*e, false);  // the client went away without closing it
      e.reset();
    }
    if (!result && write_failed_) result = write_error_;
    log(log_level::info, [&] {
      return "session closed: " + (result ? result.message() : std::string{"end of input"}) +
             " (" + std::to_string(requests_) + " requests)";
    });
    co_return result;
  }

 private:
  static constexpr auto nothrow = asio::as_tuple(asio::use_awaitable_t<executor_type>{});
  static constexpr std::size_t in_capacity = 256 * 1024;
  // Packets at least this long are read straight into a buffer of their own (WRITE data goes to
  // the filesystem from there); shorter ones are gathered in the input buffer.
  static constexpr std::size_t direct_threshold = 32 * 1024;

  // --- waiting ------------------------------------------------------------------------------------
  // A timer that never expires, cancelled to wake its waiter. Everything runs on one strand, so
  // a waiter checks its condition and starts waiting with nothing in between.
  awaitable<void> wait(asio::steady_timer& t) {
    t.expires_at(asio::steady_timer::time_point::max());
    co_await t.async_wait(nothrow);
  }

  bool busy() const noexcept {
    return in_flight_ >= max_in_flight_ || out_bytes_ >= limits::sftp_server_max_queued_output;
  }

  // --- logging ------------------------------------------------------------------------------------
  bool logs(log_level l) const noexcept {
    return opts_->log && l != log_level::quiet && static_cast<int>(l) <= static_cast<int>(opts_->level);
  }
  template <class F>
  void log(log_level l, F&& make) {
    if (logs(l)) opts_->log(l, make());
  }

  // --- reading ------------------------------------------------------------------------------------
  awaitable<error_code> read_loop() {
    std::size_t b = 0, e = 0;
    for (;;) {
      for (;;) {
        if (write_failed_) co_return write_error_;
        if (discard_ > 0) {
          auto n = std::min(discard_, e - b);
          b += n;
          discard_ -= n;
          if (discard_ > 0) break;
          continue;
        }
        byte_view avail{in_.data() + b, e - b};
        auto len = proto::frame_length(avail);
        if (!len) break;
        if (*len == 0) {  // no type byte: nothing to answer
          log(log_level::error, [] { return std::string{"empty packet ignored"}; });
          b += 4;
          continue;
        }
        if (*len > limits::sftp_max_message) {
          // Answer for its id (when it is there) and skip its bytes: one oversized request
          // does not end the session.
          std::size_t head = std::min<std::size_t>(*len, 5);
          if (avail.size() < 4 + head) break;
          if (!initialized_) co_return make_error_code(errc::length_limit);
          auto h = proto::peek_head(avail.subspan(4, head));
          log(log_level::error, [&] {
            return "packet of " + std::to_string(*len) + " bytes over the " +
                   std::to_string(limits::sftp_max_message) + "-byte limit";
          });
          if (h && h->request_id)
            reply_status(*h->request_id, status::bad_message,
                         "packet of " + std::to_string(*len) + " bytes exceeds the limit of " +
                             std::to_string(limits::sftp_max_message));
          discard_ = std::size_t{4} + *len;
          continue;
        }
        if (avail.size() >= 4 + std::size_t{*len}) {
          while (busy() && !write_failed_) co_await wait(signal_);
          auto ec = handle_packet(avail.subspan(4, *len), buffer{});
          b += 4 + std::size_t{*len};
          if (ec) co_return ec;
          continue;
        }
        if (*len >= direct_threshold) {
          while (busy() && !write_failed_) co_await wait(signal_);
          if (write_failed_) co_return write_error_;
          buffer pkt = pool_.get();
          pkt.resize(*len);
          std::size_t have = avail.size() - 4;
          std::memcpy(pkt.data(), avail.data() + 4, have);
          b = e = 0;
          auto rest = asio::buffer(pkt.data() + have, pkt.size() - have);
          auto [rec, n] = co_await asio::async_read(stream_, rest, cancellable());
          if (rec) co_return rec == asio::error::eof ? make_error_code(errc::truncated) : rec;
          byte_view whole{pkt.data(), pkt.size()};
          auto ec = handle_packet(whole, std::move(pkt));
          if (ec) co_return ec;
          continue;
        }
        break;
      }
      if (b == e) {
        b = e = 0;
      } else if (b > 0 && in_.size() - e < direct_threshold + 4) {
        std::memmove(in_.data(), in_.data() + b, e - b);
        e -= b;
        b = 0;
      }
      auto space = asio::buffer(in_.data() + e, in_.size() - e);
      auto [ec, n] = co_await stream_.async_read_some(space, cancellable());
      if (ec) {
        if (write_failed_) co_return write_error_;
        if (ec == asio::error::eof)
          co_return (b == e && discard_ == 0) ? error_code{} : make_error_code(errc::truncated);
        co_return ec;
      }
      e += n;
    }
  }

  auto cancellable() { return asio::bind_cancellation_slot(read_cancel_.slot(), nothrow); }

  // One whole packet (type byte first). An error ends the session (only before INIT).
  error_code handle_packet(byte_view p, buffer owner) {
    auto head = proto::peek_head(p);
    if (!initialized_) {
      if (head->type != proto::packet_type::init) {
        log(log_level::error,
            [&] { return "packet type " + std::to_string(head->type) + " before INIT"; });
        return make_error_code(errc::unexpected_message);
      }
      proto::init_request init;
      auto ec = wire::decode(p, init);
      if (ec) return ec;
      initialized_ = true;
      log(log_level::debug1,
          [&] { return "client version " + std::to_string(init.version); });
      send(proto::server_hello(init));
      return {};
    }
    if (head->type == proto::packet_type::write) {
      proto::write_view w;
      auto ec = decode_write_view(p, w);
      if (ec) {
        pool_.put(std::move(owner));
        if (head->request_id)
          reply_status(*head->request_id, status::bad_message, "malformed write: " + ec.message());
        return {};
      }
      job j;
      j.is_write = true;
      j.write_id = w.request_id;
      j.write_offset = w.offset;
      if (owner.empty()) {
        j.write_buf = pool_.get();
        j.write_buf.assign(w.data.begin(), w.data.end());
        j.write_data = byte_view{j.write_buf.data(), j.write_buf.size()};
      } else {
        j.write_data = w.data;  // points into owner's heap block, which moves with it
        j.write_buf = std::move(owner);
      }
      accept(std::move(j), w.handle);
      return {};
    }
    pool_.put(std::move(owner));
    job j;
    auto res = proto::decode_request(p, j.req);
    if (res) {
      if (res.request_id) {
        if (res.answer() == status::op_unsupported)
          reply_status(*res.request_id, status::op_unsupported,
                       "unsupported request type " + std::to_string(head->type));
        else
          reply_status(*res.request_id, status::bad_message,
                       "malformed request (type " + std::to_string(head->type) +
                           "): " + res.ec.message());
      } else {
        log(log_level::error, [&] {
          return "packet type " + std::to_string(head->type) + " too short for a request id";
        });
      }
      return {};
    }
    if (std::holds_alternative<proto::init_request>(j.req)) {
      log(log_level::error, [] { return std::string{"INIT after the handshake ignored"}; });
      return {};
    }
    accept(std::move(j), {});
    return {};
  }

  static std::uint32_t id_of(const job& j) {
    if (j.is_write) return j.write_id;
    return std::visit(
        [](const auto& m) -> std::uint32_t {
          if constexpr (requires { m.request_id; }) return m.request_id;
          else return 0;
        },
        j.req);
  }

  static constexpr std::uint64_t end_of(std::uint64_t offset, std::uint64_t length) noexcept {
    return length > ~std::uint64_t{0} - offset ? ~std::uint64_t{0} : offset + length;
  }

  // The handle a request runs on, and what it does to it.
  static std::optional<std::string_view> handle_of(const job& j, access& a) {
    using namespace proto;
    a = access{};
    if (auto* r = std::get_if<read_request>(&j.req)) {
      a = {access::read, r->offset, end_of(r->offset, r->length), 0};
      return r->handle.value;
    }
    // The size and times they report must include every WRITE before them.
    a = {access::read, 0, ~std::uint64_t{0}, 0};
    if (auto* r = std::get_if<fstat_request>(&j.req)) return r->handle.value;
    if (auto* r = std::get_if<fstatvfs_request>(&j.req)) return r->handle.value;
    a = access{};
    if (auto* r = std::get_if<close_request>(&j.req)) return r->handle.value;
    if (auto* r = std::get_if<fsetstat_request>(&j.req)) return r->handle.value;
    if (auto* r = std::get_if<readdir_request>(&j.req)) return r->handle.value;
    if (auto* r = std::get_if<fsync_request>(&j.req)) return r->handle.value;
    if (auto* r = std::get_if<copy_data_request>(&j.req)) return r->write_to_handle.value;
    return std::nullopt;
  }

  bool permitted(std::string_view name) const {
    const auto& o = *opts_;
    if (o.read_only && request_writes(name)) return false;
    for (const auto& d : o.denied_requests)
      if (d == name) return false;
    if (o.allowed_requests.empty()) return true;
    for (const auto& a : o.allowed_requests)
      if (a == name) return true;
    return false;
  }

  void accept(job j, std::string_view write_handle) {
    ++requests_;
    auto id = id_of(j);
    expect_reply(id);
    std::string_view name = j.is_write ? std::string_view{"write"} : request_name(j.req);
    if (name.empty()) {
      auto* x = std::get_if<proto::extended_request>(&j.req);
      std::string ext = x ? x->name : std::string{};
      log(log_level::verbose, [&] { return "unsupported extension \"" + ext + "\""; });
      reply_status(id, status::op_unsupported, "unsupported extension \"" + ext + "\"");
      return;
    }
    if (!permitted(name)) {
      log(log_level::verbose, [&] { return "refusing \"" + std::string{name} + "\" request"; });
      pool_.put(std::move(j.write_buf));
      reply_status(id, status::permission_denied,
                   opts_->read_only && request_writes(name)
                       ? "read-only server: " + std::string{name} + " refused"
                       : "request \"" + std::string{name} + "\" not permitted");
      return;
    }
    access acc;
    std::optional<std::string_view> h = write_handle_of(j, write_handle, acc);
    if (!h) {
      ++in_flight_;
      start(std::move(j));
      return;
    }
    auto e = lookup(*h);
    if (!e || e->closing) {
      pool_.put(std::move(j.write_buf));
      reply_status(id, status::failure, e ? "handle is being closed" : "invalid handle");
      return;
    }
    ++in_flight_;
    if (std::holds_alternative<proto::close_request>(j.req)) e->closing = true;
    if (j.is_write && e->append) acc.kind = access::exclusive;
    if (j.is_write && !opts_->concurrent_writes) acc.ordered = true;
    acc.seq = ++seq_;
    j.entry = e;
    j.acc = acc;
    if (may_run(*e, acc) && !blocked_by_queue(*e, acc, e->queue.size())) {
      e->running.push_back(acc);
      start(std::move(j));
    } else {
      e->queue.push_back(std::move(j));
    }
  }

  std::optional<std::string_view> write_handle_of(const job& j, std::string_view write_handle,
                                                  access& acc) {
    if (!j.is_write) return handle_of(j, acc);
    acc = {access::write, j.write_offset, end_of(j.write_offset, j.write_data.size()), 0};
    return write_handle;
  }

  // Whether a request may start next to those running on its handle.
  static bool may_run(const open_entry& e, const access& a) noexcept {
    for (const auto& r : e.running)
      if (a.conflicts(r)) return false;
    return true;
  }

  // Whether one of the first n requests waiting on the handle (all earlier than a) conflicts
  // with a: then a waits too, behind it.
  static bool blocked_by_queue(const open_entry& e, const access& a, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i)
      if (a.conflicts(e.queue[i].acc)) return true;
    return false;
  }

  // A request on a handle ended: start, in arrival order, every waiting request that conflicts
  // neither with a running one nor with one that arrived before it and still waits.
  void finished(const std::shared_ptr<open_entry>& e, const access& done) {
    for (auto it = e->running.begin(); it != e->running.end(); ++it) {
      if (it->seq == done.seq) {
        *it = e->running.back();
        e->running.pop_back();
        break;
      }
    }
    std::size_t i = 0;
    while (i < e->queue.size()) {
      const access& a = e->queue[i].acc;
      if (may_run(*e, a) && !blocked_by_queue(*e, a, i)) {
        job next = std::move(e->queue[i]);
        e->queue.erase(e->queue.begin() + static_cast<std::ptrdiff_t>(i));
        e->running.push_back(next.acc);
        start(std::move(next));
        continue;
      }
      if (a.kind == access::exclusive) break;  // everything after it waits for it
      ++i;
    }
  }

  void start(job j) {
    asio::co_spawn(strand_, run_job(this->shared_from_this(), std::move(j)), asio::detached);
  }

  awaitable<void> run_job([[maybe_unused]] std::shared_ptr<server_session> self, job j) {
    auto id = id_of(j);
    bool ok = true;
    try {
      co_await dispatch(j);
    } catch (const std::exception&) {
      ok = false;
    }
    if (!ok) reply_status(id, status::failure, "internal error");
    pool_.put(std::move(j.write_buf));
    if (j.entry) finished(j.entry, j.acc);
    --in_flight_;
    signal_.cancel();
  }

  // --- handles ------------------------------------------------------------------------------------
  std::string add_handle(const std::shared_ptr<open_entry>& e) {
    std::uint32_t slot;
    if (!free_slots_.empty()) {
      slot = free_slots_.back();
      free_slots_.pop_back();
    } else {
      slot = static_cast<std::uint32_t>(slots_.size());
      slots_.emplace_back();
      generations_.push_back(0);
    }
    slots_[slot] = e;
    e->slot = slot;
    e->generation = ++generations_[slot];
    ++open_;
    std::string h(8, '\0');
    auto put = [&](std::size_t at, std::uint32_t v) {
      for (int i = 0; i < 4; ++i) h[at + i] = static_cast<char>((v >> (24 - 8 * i)) & 0xff);
    };
    put(0, slot);
    put(4, e->generation);
    return h;
  }

  std::shared_ptr<open_entry> lookup(std::string_view h) const {
    if (h.size() != 8) return nullptr;
    auto get = [&](std::size_t at) {
      std::uint32_t v = 0;
      for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(h[at + i]);
      return v;
    };
    auto slot = get(0), gen = get(4);
    if (slot >= slots_.size() || !slots_[slot] || generations_[slot] != gen) return nullptr;
    return slots_[slot];
  }

  void remove_handle(const std::shared_ptr<open_entry>& e) {
    if (e->slot < slots_.size() && slots_[e->slot] == e) {
      slots_[e->slot].reset();
      free_slots_.push_back(e->slot);
      --open_;
    }
  }

  bool handles_full() const noexcept { return open_ + opening_ >= max_handles_; }

  // --- replies ------------------------------------------------------------------------------------
  // Replies leave in the order their requests arrived, whatever order the requests finish in:
  // OpenSSH's sftp-server answers strictly in order and its clients rely on it (scp's SFTP mode
  // truncates a download at the first reordered READ reply). Each accepted request holds a slot
  // in pending_; its reply fills the slot, and the ready slots at the front go to the writer.
  // A reply without a slot (an answer to an oversized packet, VERSION) queues behind the rest.
  void expect_reply(std::uint32_t id) { pending_.push_back({id, buffer{}, false}); }

  void queue(buffer b) {
    if (write_failed_) {
      pool_.put(std::move(b));
      return;
    }
    out_bytes_ += b.size();
    const bool has_id = b.size() >= 9 && b.data()[4] != proto::packet_type::version;
    std::uint32_t id = 0;
    for (std::size_t i = 5; has_id && i < 9; ++i) id = (id << 8) | b.data()[i];
    auto slot = std::find_if(pending_.begin(), pending_.end(),
                             [&](const reply_slot& r) { return !r.ready && r.id == id; });
    if (has_id && slot != pending_.end()) {
      slot->reply = std::move(b);
      slot->ready = true;
    } else {
      pending_.push_back({id, std::move(b), true});
    }
    bool moved = false;
    while (!pending_.empty() && pending_.front().ready) {
      out_.push_back(std::move(pending_.front().reply));
      pending_.pop_front();
      moved = true;
    }
    if (moved) writer_wake_.cancel();
  }

  // Encoded through the one codec into scratch_ (its writer is for bytes), then into a pooled
  // buffer: a copy of a small reply, never of bulk data (DATA replies are built in place).
  template <class M>
  void send(const M& m) {
    scratch_.clear();
    proto::encode_packet(scratch_, m);
    buffer b = pool_.get();
    b.assign(scratch_.begin(), scratch_.end());
    queue(std::move(b));
  }

  void reply_status(std::uint32_t id, status s, std::string message) {
    send(proto::make_status(id, s, std::move(message)));
  }
  void reply_ok(std::uint32_t id) { reply_status(id, status::ok, "Success"); }

  // A filesystem error as a status: the v3 code from the one mapping (proto/status.hpp) and the
  // error's own text, which says more than the code ("Directory not empty", "File exists").
  void reply_error(std::uint32_t id, const error_code& ec) {
    auto s = to_status(ec);
    std::string msg = s == status::eof ? std::string{"End of file"} : ec.message();
    if (s == status::op_unsupported) msg = "operation not supported by this server";
    reply_status(id, s, std::move(msg));
  }
  void reply_result(std::uint32_t id, const error_code& ec) {
    if (ec) reply_error(id, ec);
    else reply_ok(id);
  }

  void reply_name(std::uint32_t id, std::string name) {
    proto::name_reply r;
    r.request_id = id;
    proto::name_entry e;
    e.longname = name;
    e.filename = std::move(name);
    r.names.entries.push_back(std::move(e));
    send(r);
  }

  // --- names ----------------------------------------------------------------------------------------
  std::string lookup_name(std::unordered_map<std::uint32_t, std::string>& cache,
                          const std::function<std::optional<std::string>(std::uint32_t)>& f,
                          std::uint32_t id) {
    if (!f) return {};
    auto it = cache.find(id);
    if (it != cache.end()) return it->second;
    auto n = f(id).value_or(std::string{});
    if (cache.size() < 4096) cache.emplace(id, n);
    return n;
  }

  void fill_names(fs::attributes& a) {
    if (!a.owner) {
      auto n = lookup_name(users_, opts_->user_name, a.uid);
      if (!n.empty()) a.owner = std::move(n);
    }
    if (!a.group) {
      auto n = lookup_name(groups_, opts_->group_name, a.gid);
      if (!n.empty()) a.group = std::move(n);
    }
  }

  std::uint32_t create_mode(const proto::attrs& a, std::uint32_t fallback) const noexcept {
    std::uint32_t m = a.permissions ? (*a.permissions & fs::mode::permission_mask) : fallback;
    return m & ~(opts_->umask & fs::mode::permission_mask);
  }

  // --- dispatch -------------------------------------------------------------------------------------
  awaitable<void> dispatch(job& j) {
    using namespace proto;
    if (j.is_write) co_return co_await op_write(j);
    auto& q = j.req;
    if (auto* r = std::get_if<open_request>(&q)) co_return co_await op_open(*r);
    if (auto* r = std::get_if<close_request>(&q)) co_return co_await op_close(r->request_id, j.entry);
    if (auto* r = std::get_if<read_request>(&q)) co_return co_await op_read(*r, j.entry);
    if (auto* r = std::get_if<fstat_request>(&q)) co_return co_await op_fstat(r->request_id, j.entry);
    if (auto* r = std::get_if<fsetstat_request>(&q)) co_return co_await op_fsetstat(*r, j.entry);
    if (auto* r = std::get_if<opendir_request>(&q)) co_return co_await op_opendir(*r);
    if (auto* r = std::get_if<readdir_request>(&q)) co_return co_await op_readdir(r->request_id, j.entry);
    if (auto* r = std::get_if<fsync_request>(&q)) {
      auto fh = j.entry->fh;
      auto [ec] = co_await fs::async_fsync(fs_, fh, nothrow);
      co_return reply_result(r->request_id, ec);
    }
    if (auto* r = std::get_if<fstatvfs_request>(&q))
      co_return co_await op_statvfs(r->request_id, j.entry->path);
    if (auto* r = std::get_if<copy_data_request>(&q)) co_return co_await op_copy_data(*r, j.entry);
    if (auto* r = std::get_if<stat_request>(&q)) co_return co_await op_stat(r->request_id, r->path, true);
    if (auto* r = std::get_if<lstat_request>(&q)) co_return co_await op_stat(r->request_id, r->path, false);
    if (auto* r = std::get_if<setstat_request>(&q)) {
      log(log_level::verbose, [&] { return "set \"" + r->path + "\""; });
      auto sa = to_set_attributes(r->attrs);
      auto [ec] = co_await fs::async_setstat(fs_, std::move(r->path), sa, nothrow);
      co_return reply_result(r->request_id, ec);
    }
    if (auto* r = std::get_if<lsetstat_request>(&q)) co_return co_await op_lsetstat(*r);
    if (auto* r = std::get_if<remove_request>(&q)) {
      log(log_level::verbose, [&] { return "remove name \"" + r->filename + "\""; });
      auto [ec] = co_await fs_.async_remove(std::move(r->filename), nothrow);
      co_return reply_result(r->request_id, ec);
    }
    if (auto* r = std::get_if<mkdir_request>(&q)) {
      auto mode = create_mode(r->attrs, 0777);
      log(log_level::verbose, [&] { return "mkdir name \"" + r->path + "\" mode 0" + octal(mode); });
      auto [ec] = co_await fs_.async_mkdir(std::move(r->path), mode, nothrow);
      co_return reply_result(r->request_id, ec);
    }
    if (auto* r = std::get_if<rmdir_request>(&q)) {
      log(log_level::verbose, [&] { return "rmdir name \"" + r->path + "\""; });
      auto [ec] = co_await fs_.async_rmdir(std::move(r->path), nothrow);
      co_return reply_result(r->request_id, ec);
    }
    if (auto* r = std::get_if<realpath_request>(&q)) co_return co_await op_realpath(r->request_id, r->path);
    if (auto* r = std::get_if<rename_request>(&q)) {
      log(log_level::verbose,
          [&] { return "rename old \"" + r->oldpath + "\" new \"" + r->newpath + "\""; });
      auto [ec] = co_await fs_.async_rename(std::move(r->oldpath), std::move(r->newpath), nothrow);
      co_return reply_result(r->request_id, ec);
    }
    if (auto* r = std::get_if<posix_rename_request>(&q)) {
      log(log_level::verbose,
          [&] { return "posix-rename old \"" + r->oldpath + "\" new \"" + r->newpath + "\""; });
      auto [ec] = co_await fs::async_posix_rename(fs_, std::move(r->oldpath), std::move(r->newpath),
                                                  nothrow);
      co_return reply_result(r->request_id, ec);
    }
    if (auto* r = std::get_if<readlink_request>(&q)) {
      auto [ec, target] = co_await fs::async_readlink(fs_, std::move(r->path), nothrow);
      if (ec) co_return reply_error(r->request_id, ec);
      co_return reply_name(r->request_id, std::move(target));
    }
    if (auto* r = std::get_if<symlink_request>(&q)) {
      log(log_level::verbose,
          [&] { return "symlink old \"" + r->target_path + "\" new \"" + r->link_path + "\""; });
      auto [ec] = co_await fs::async_symlink(fs_, std::move(r->target_path),
                                             std::move(r->link_path), nothrow);
      co_return reply_result(r->request_id, ec);
    }
    if (auto* r = std::get_if<hardlink_request>(&q)) {
      log(log_level::verbose,
          [&] { return "hardlink old \"" + r->oldpath + "\" new \"" + r->newpath + "\""; });
      auto [ec] = co_await fs::async_hardlink(fs_, std::move(r->oldpath), std::move(r->newpath),
                                              nothrow);
      co_return reply_result(r->request_id, ec);
    }
    if (auto* r = std::get_if<statvfs_request>(&q)) co_return co_await op_statvfs(r->request_id, r->path);
    if (auto* r = std::get_if<limits_request>(&q)) {
      limits_reply l;
      l.request_id = r->request_id;
      l.max_packet_length = limits::sftp_max_message;
      l.max_read_length = max_read_;
      l.max_write_length = max_read_;
      l.max_open_handles = max_handles_;
      co_return send(l);
    }
    if (auto* r = std::get_if<expand_path_request>(&q)) co_return co_await op_expand_path(*r);
    if (auto* r = std::get_if<home_directory_request>(&q)) {
      if (!r->username.empty() && r->username != opts_->user)
        co_return reply_status(r->request_id, status::no_such_file, "no such user");
      co_return co_await op_realpath(r->request_id, std::string{});
    }
    if (auto* r = std::get_if<users_groups_by_id_request>(&q)) {
      users_groups_by_id_reply out;
      out.request_id = r->request_id;
      for (auto u : r->uids.ids) out.usernames.names.push_back(lookup_name(users_, opts_->user_name, u));
      for (auto g : r->gids.ids)
        out.groupnames.names.push_back(lookup_name(groups_, opts_->group_name, g));
      co_return send(out);
    }
    reply_status(id_of(j), status::op_unsupported, "unsupported request");
  }

  static std::string octal(std::uint32_t v) {
    char b[16];
    std::snprintf(b, sizeof b, "%o", v);
    return b;
  }

  // --- operations -----------------------------------------------------------------------------------
  awaitable<void> op_open(proto::open_request& r) {
    auto m = proto::to_open_mode(r.pflags, r.attrs);
    if (!m.read && !m.write) m.read = true;  // as OpenSSH: no access flags opens for reading
    if (opts_->read_only && (m.write || m.create || m.truncate || m.append))
      co_return reply_status(r.request_id, status::permission_denied,
                             "read-only server: open for writing refused");
    m.permissions = create_mode(r.attrs, 0666);
    log(log_level::verbose, [&] {
      std::string f;
      auto add = [&](bool on, const char* n) {
        if (!on) return;
        if (!f.empty()) f += ',';
        f += n;
      };
      add(m.read, "READ");
      add(m.write, "WRITE");
      add(m.append, "APPEND");
      add(m.create, "CREATE");
      add(m.truncate, "TRUNCATE");
      add(m.exclusive, "EXCL");
      return "open \"" + r.filename + "\" flags " + f + " mode 0" + octal(m.permissions);
    });
    if (handles_full())
      co_return reply_status(r.request_id, status::failure,
                             "too many open handles (limit " + std::to_string(max_handles_) + ")");
    std::string path = r.filename;
    ++opening_;
    auto [ec, fh] = co_await fs_.async_open(std::move(path), m, nothrow);
    --opening_;
    if (ec) co_return reply_error(r.request_id, ec);
    auto e = std::make_shared<open_entry>();
    e->fh = fh;
    e->readable = m.read;
    e->writable = m.write;
    e->append = m.append;
    e->path = std::move(r.filename);
    proto::handle_reply hr;
    hr.request_id = r.request_id;
    hr.handle.value = add_handle(e);
    send(hr);
  }

  awaitable<void> op_opendir(proto::opendir_request& r) {
    log(log_level::verbose, [&] { return "opendir \"" + r.path + "\""; });
    if (handles_full())
      co_return reply_status(r.request_id, status::failure,
                             "too many open handles (limit " + std::to_string(max_handles_) + ")");
    std::string path = r.path;
    ++opening_;
    auto [ec, fh] = co_await fs_.async_opendir(std::move(path), nothrow);
    --opening_;
    if (ec) co_return reply_error(r.request_id, ec);
    auto e = std::make_shared<open_entry>();
    e->fh = fh;
    e->directory = true;
    e->readable = true;
    e->path = std::move(r.path);
    proto::handle_reply hr;
    hr.request_id = r.request_id;
    hr.handle.value = add_handle(e);
    send(hr);
  }

  awaitable<void> op_close(std::uint32_t id, std::shared_ptr<open_entry> e) {
    log(log_level::verbose, [&] { return "close \"" + e->path + "\""; });
    auto fh = e->fh;
    auto [ec] = co_await fs_.async_close(fh, nothrow);
    remove_handle(e);
    report_transfer(*e, !ec);
    reply_result(id, ec);
  }

  // A file handle that moved data ends: one record for the log (OpenSSH logs "close ... bytes
  // read N written M" at this point).
  void report_transfer(const open_entry& e, bool closed_ok) {
    if (e.directory || !opts_->on_transfer || (e.bytes_read == 0 && e.bytes_written == 0)) return;
    transfer_record t;
    t.path = e.path;
    t.bytes_read = e.bytes_read;
    t.bytes_written = e.bytes_written;
    t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - e.opened).count();
    t.completed = closed_ok;
    opts_->on_transfer(t);
  }

  awaitable<void> op_read(proto::read_request& r, std::shared_ptr<open_entry> e) {
    if (e->directory)
      co_return reply_status(r.request_id, status::failure, "READ on a directory handle");
    std::size_t n = std::min<std::size_t>(r.length, max_read_);
    if (n == 0) co_return reply_status(r.request_id, status::eof, "End of file");
    buffer b = pool_.get();
    b.resize(proto::data_reply_header_size + n);
    mutable_byte_view into{b.data() + proto::data_reply_header_size, n};
    auto fh = e->fh;
    auto [ec, got] = co_await fs_.async_read_at(fh, r.offset, into, nothrow);
    if (ec || got == 0) {
      pool_.put(std::move(b));
      if (!ec || ec == asio::error::eof) co_return reply_status(r.request_id, status::eof, "End of file");
      co_return reply_error(r.request_id, ec);
    }
    got = std::min(got, n);
    e->bytes_read += got;
    proto::encode_data_header(b.data(), r.request_id, static_cast<std::uint32_t>(got));
    b.resize(proto::data_reply_header_size + got);
    queue(std::move(b));
  }

  awaitable<void> op_write(job& j) {
    auto& e = j.entry;
    if (e->directory || !e->writable)
      co_return reply_status(j.write_id, status::permission_denied, "handle not open for writing");
    auto fh = e->fh;
    auto data = j.write_data;
    auto [ec, n] = co_await fs::async_write_all_at(fs_, fh, j.write_offset, data, nothrow);
    e->bytes_written += n;
    reply_result(j.write_id, ec);
  }

  awaitable<void> op_fstat(std::uint32_t id, std::shared_ptr<open_entry> e) {
    auto fh = e->fh;
    auto [ec, a] = co_await fs::async_fstat(fs_, fh, nothrow);
    if (ec == ferry::errc::unsupported) co_return co_await op_stat(id, e->path, true);
    if (ec) co_return reply_error(id, ec);
    send(proto::attrs_reply{id, proto::to_attrs(a)});
  }

  awaitable<void> op_fsetstat(proto::fsetstat_request& r, std::shared_ptr<open_entry> e) {
    auto sa = proto::to_set_attributes(r.attrs);
    auto fh = e->fh;
    auto [ec] = co_await fs::async_fsetstat(fs_, fh, sa, nothrow);
    if (ec == ferry::errc::unsupported) {
      std::string p = e->path;
      auto [ec2] = co_await fs::async_setstat(fs_, std::move(p), sa, nothrow);
      co_return reply_result(r.request_id, ec2);
    }
    reply_result(r.request_id, ec);
  }

  awaitable<void> op_stat(std::uint32_t id, std::string path, bool follow) {
    error_code ec;
    fs::attributes a;
    if (follow) {
      std::tie(ec, a) = co_await fs_.async_stat(std::move(path), nothrow);
    } else {
      std::string copy = path;
      std::tie(ec, a) = co_await fs::async_lstat(fs_, std::move(copy), nothrow);
      if (ec == ferry::errc::unsupported) std::tie(ec, a) = co_await fs_.async_stat(std::move(path), nothrow);
    }
    if (ec) co_return reply_error(id, ec);
    send(proto::attrs_reply{id, proto::to_attrs(a)});
  }

  // PROTOCOL §4.7: the attributes of a symlink itself. The Filesystem concept changes only what a
  // path leads to, so a symlink is answered "unsupported" rather than changing its target.
  awaitable<void> op_lsetstat(proto::lsetstat_request& r) {
    std::string p = r.path;
    auto [ec, a] = co_await fs::async_lstat(fs_, std::move(p), nothrow);
    if (ec && ec != ferry::errc::unsupported) co_return reply_error(r.request_id, ec);
    if (!ec && a.is_symlink())
      co_return reply_status(r.request_id, status::op_unsupported,
                             "cannot change the attributes of a symbolic link");
    auto sa = proto::to_set_attributes(r.attrs);
    auto [ec2] = co_await fs::async_setstat(fs_, std::move(r.path), sa, nothrow);
    reply_result(r.request_id, ec2);
  }

  awaitable<void> op_readdir(std::uint32_t id, std::shared_ptr<open_entry> e) {
    if (!e->directory) co_return reply_status(id, status::failure, "READDIR on a file handle");
    if (e->next >= e->listing.size() && !e->eof) {
      auto fh = e->fh;
      auto [ec, list] = co_await fs_.async_readdir(fh, nothrow);
      if (ec == asio::error::eof || (!ec && list.empty())) {
        e->eof = true;
      } else if (ec) {
        co_return reply_error(id, ec);
      } else {
        e->listing = std::move(list);
        e->next = 0;
      }
    }
    if (e->next >= e->listing.size()) co_return reply_status(id, status::eof, "End of file");
    proto::name_reply nr;
    nr.request_id = id;
    std::size_t bytes = 0;
    auto now = static_cast<std::int64_t>(std::time(nullptr));
    while (e->next < e->listing.size() && bytes < limits::sftp_server_readdir_bytes &&
           nr.names.entries.size() < limits::sftp_max_names) {
      auto& de = e->listing[e->next++];
      fs::attributes a = de.attrs;
      fill_names(a);
      proto::name_entry ne;
      ne.longname = proto::format_longname(de.name, a, now);
      ne.filename = std::move(de.name);
      ne.attrs = proto::to_attrs(a);
      bytes += ne.filename.size() + ne.longname.size() + 64;
      nr.names.entries.push_back(std::move(ne));
    }
    if (e->next >= e->listing.size()) {
      e->listing.clear();
      e->next = 0;
    }
    send(nr);
  }

  // REALPATH: the canonical path; a last component that does not exist yet is allowed (as
  // OpenSSH's sftp-server, so a client can resolve where it is about to create a file).
  awaitable<void> op_realpath(std::uint32_t id, std::string path) {
    if (path.empty()) path = ".";
    std::string copy = path;
    auto [ec, out] = co_await fs_.async_realpath(std::move(copy), nothrow);
    if (ec == boost::system::errc::no_such_file_or_directory) {
      auto slash = path.find_last_of('/');
      std::string parent = slash == std::string::npos ? std::string{"."}
                           : slash == 0               ? std::string{"/"}
                                                      : path.substr(0, slash);
      std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
      if (fs::path::is_plain_name(name)) {
        auto [pec, pout] = co_await fs_.async_realpath(std::move(parent), nothrow);
        if (!pec) {
          ec = {};
          out = fs::path::join(pout, name);
        }
      }
    }
    if (ec) co_return reply_error(id, ec);
    std::string resolved = std::move(out);  // a named copy: lambdas cannot capture bindings (clang 14)
    log(log_level::debug1, [&] { return "realpath \"" + path + "\" -> \"" + resolved + "\""; });
    reply_name(id, std::move(resolved));
  }

  // PROTOCOL §4.9: "~" and "~/..." are the home (relative paths start there); "~user" only for
  // this session's own user.
  awaitable<void> op_expand_path(proto::expand_path_request& r) {
    std::string p = r.path;
    if (!p.empty() && p[0] == '~') {
      auto slash = p.find('/');
      std::string user = p.substr(1, slash == std::string::npos ? std::string::npos : slash - 1);
      if (!user.empty() && user != opts_->user)
        co_return reply_status(r.request_id, status::no_such_file, "no such user");
      p = slash == std::string::npos ? std::string{} : p.substr(slash + 1);
    }
    co_await op_realpath(r.request_id, std::move(p));
  }

  awaitable<void> op_statvfs(std::uint32_t id, std::string path) {
    auto [ec, s] = co_await fs::async_statvfs(fs_, std::move(path), nothrow);
    if (ec) co_return reply_error(id, ec);
    proto::statvfs_reply r;
    r.request_id = id;
    r.bsize = s.block_size;
    r.frsize = s.fragment_size;
    r.blocks = s.blocks;
    r.bfree = s.blocks_free;
    r.bavail = s.blocks_available;
    r.files = s.files;
    r.ffree = s.files_free;
    r.favail = s.files_available;
    r.fsid = s.fsid;
    r.flag = s.flags;
    r.namemax = s.name_max;
    send(r);
  }

  // PROTOCOL §4.10: copies between two open handles on the server (runs in the write handle's
  // order; the read handle is only read).
  awaitable<void> op_copy_data(proto::copy_data_request& r, std::shared_ptr<open_entry> to) {
    auto from = lookup(r.read_from_handle.value);
    if (!from || from->closing) co_return reply_status(r.request_id, status::failure, "invalid handle");
    if (from->directory || to->directory || !from->readable || !to->writable)
      co_return reply_status(r.request_id, status::permission_denied,
                             "copy-data needs a file open for reading and one open for writing");
    std::uint64_t len = r.read_data_length;
    if (len == 0) {
      // "To the end of the file" means the end as it is now: a copy into the same file through
      // another handle would otherwise chase its own writes for ever.
      auto fh = from->fh;
      auto [sec, a] = co_await fs::async_fstat(fs_, fh, nothrow);
      if (!sec) {
        if (a.size <= r.read_from_offset) co_return reply_ok(r.request_id);
        len = a.size - r.read_from_offset;
      }
    }
    if (from == to) {
      // Overlapping ranges of one file would read what the copy itself wrote.
      auto a = r.read_from_offset, b = r.write_to_offset;
      bool overlap = len == 0 || (a < b ? b - a < len : a - b < len);
      if (overlap)
        co_return reply_status(r.request_id, status::failure, "copy-data ranges overlap");
    }
    buffer b = pool_.get();
    b.resize(std::min<std::size_t>(max_read_, 256 * 1024));
    std::uint64_t done = 0;
    error_code ec;
    auto rfh = from->fh, wfh = to->fh;
    while (len == 0 || done < len) {
      std::size_t want = b.size();
      if (len != 0) want = static_cast<std::size_t>(std::min<std::uint64_t>(want, len - done));
      mutable_byte_view into{b.data(), want};
      auto [rec, got] = co_await fs_.async_read_at(rfh, r.read_from_offset + done, into, nothrow);
      if (rec == asio::error::eof || (!rec && got == 0)) break;
      if (rec) {
        ec = rec;
        break;
      }
      byte_view chunk{b.data(), got};
      auto [wec, wrote] = co_await fs::async_write_all_at(fs_, wfh, r.write_to_offset + done, chunk,
                                                          nothrow);
      (void)wrote;
      if (wec) {
        ec = wec;
        break;
      }
      done += got;
    }
    pool_.put(std::move(b));
    reply_result(r.request_id, ec);
  }

  // --- writing --------------------------------------------------------------------------------------
  awaitable<void> writer([[maybe_unused]] std::shared_ptr<server_session> self) {
    writer_running_ = true;
    std::vector<asio::const_buffer> iov;
    std::vector<buffer> batch;
    for (;;) {
      while (out_.empty() && !writer_stop_) co_await wait(writer_wake_);
      if (out_.empty()) break;
      iov.clear();
      batch.clear();
      std::size_t bytes = 0;
      while (!out_.empty() && batch.size() < 64 && bytes < 4 * 1024 * 1024) {
        batch.push_back(std::move(out_.front()));
        out_.pop_front();
        iov.emplace_back(batch.back().data(), batch.back().size());
        bytes += batch.back().size();
      }
      auto [ec, n] = co_await asio::async_write(stream_, iov, nothrow);
      (void)n;
      out_bytes_ -= bytes;
      for (auto& b : batch) pool_.put(std::move(b));
      if (ec) {
        write_failed_ = true;
        write_error_ = ec;
        for (auto& b : out_) pool_.put(std::move(b));
        out_.clear();
        for (auto& r : pending_) pool_.put(std::move(r.reply));
        pending_.clear();
        out_bytes_ = 0;
        read_cancel_.emit(asio::cancellation_type::terminal);
        log(log_level::error, [&] { return "write failed: " + write_error_.message(); });
      }
      signal_.cancel();
      if (ec) break;
    }
    writer_running_ = false;
    signal_.cancel();
  }

  Filesystem fs_;
  std::shared_ptr<const server_options> opts_;
  Stream& stream_;
  executor_type strand_;
  asio::steady_timer signal_;       // the main coroutine waits here (back-pressure, draining)
  asio::steady_timer writer_wake_;  // the writer waits here for replies
  asio::cancellation_signal read_cancel_;
  std::size_t max_read_;
  std::size_t max_in_flight_;
  std::size_t max_handles_;

  buffer in_;
  std::size_t discard_ = 0;
  bool initialized_ = false;
  std::size_t in_flight_ = 0;
  std::size_t requests_ = 0;
  std::uint64_t seq_ = 0;  // numbers accepted requests (access::seq)

  struct reply_slot {
    std::uint32_t id;
    buffer reply;
    bool ready;
  };
  std::deque<reply_slot> pending_;  // replies in request order, not yet ready or not yet moved
  std::deque<buffer> out_;
  std::size_t out_bytes_ = 0;  // queued reply bytes, in pending_ and out_
  bool writer_running_ = false;
  bool writer_stop_ = false;
  bool write_failed_ = false;
  error_code write_error_;

  std::vector<std::shared_ptr<open_entry>> slots_;
  std::vector<std::uint32_t> generations_;
  std::vector<std::uint32_t> free_slots_;
  std::size_t open_ = 0;
  std::size_t opening_ = 0;

  buffer_pool pool_;
  bytes scratch_;
  std::unordered_map<std::uint32_t, std::string> users_;
  std::unordered_map<std::uint32_t, std::string> groups_;
};

}  // namespace ferry::sftp::detail
