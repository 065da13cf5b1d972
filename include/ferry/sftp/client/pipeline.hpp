// Pipelined bulk I/O on one open handle: many READ (or WRITE) requests in flight at once, issued
// from the reply path itself so the stream never idles waiting for the caller.
//
// read_pipeline asks for [start, end) in blocks and hands each DATA reply to a data_sink at its
// offset as it arrives (out of order is fine: the sink writes in place). A short DATA is asked
// again for the rest; STATUS eof marks the end of the file. It tracks the contiguous prefix done,
// which is what a caller keeps when the transfer fails: never a hole.
//
// write_pipeline reads blocks from a data_source straight into the session's send buffer as the
// data of WRITE requests; the prefix acknowledged by the server is its progress.
//
// The number in flight starts small and grows by one per reply up to the maximum (slow start),
// so a short file does not cost a burst of requests past its end.
#pragma once

#include <ferry/sftp/client/session.hpp>

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <unordered_map>
#include <vector>

namespace ferry::sftp::detail {

struct data_sink {
  virtual error_code write(std::uint64_t offset, byte_view data) = 0;

 protected:
  ~data_sink() = default;
};

struct data_source {
  // Fills up to buf.size() bytes from offset; fewer only at the end of the data.
  virtual error_code read(std::uint64_t offset, mutable_byte_view buf, std::size_t& n) = 0;

 protected:
  ~data_source() = default;
};

struct pipeline_options {
  std::size_t block = limits::sftp_client_default_block;
  std::size_t max_in_flight = 64;
  bool slow_start = true;
  // Called with the contiguous prefix (absolute offset) each time it grows.
  std::function<void(std::uint64_t)> progress;
};

inline constexpr std::uint64_t unknown_end = std::numeric_limits<std::uint64_t>::max();

// Completed ranges beyond the contiguous prefix, merged as they join it.
class range_tracker {
 public:
  explicit range_tracker(std::uint64_t start) : contiguous_(start) {}
  // Returns true when the contiguous prefix grew.
  bool add(std::uint64_t offset, std::uint64_t length) {
    if (length == 0) return false;
    if (offset != contiguous_) {
      ranges_[offset] = offset + length;
      return false;
    }
    contiguous_ += length;
    for (auto it = ranges_.begin(); it != ranges_.end() && it->first <= contiguous_;) {
      contiguous_ = std::max(contiguous_, it->second);
      it = ranges_.erase(it);
    }
    return true;
  }
  std::uint64_t contiguous() const noexcept { return contiguous_; }

 private:
  std::uint64_t contiguous_;
  std::map<std::uint64_t, std::uint64_t> ranges_;
};

template <class Session>
class pipeline_base : public reply_handler {
 protected:
  pipeline_base(Session& s, const proto::handle& h, std::uint64_t start, pipeline_options o)
      : s_(s), handle_(h), opts_(std::move(o)), next_(start), done_(start), finished_(s.executor()) {
    opts_.max_in_flight =
        std::clamp<std::size_t>(opts_.max_in_flight, 1, limits::sftp_client_max_in_flight);
    opts_.block = std::max<std::size_t>(1, opts_.block);
    window_ = opts_.slow_start ? std::min(opts_.max_in_flight, limits::sftp_client_initial_in_flight)
                               : opts_.max_in_flight;
  }
  // A pipeline destroyed with requests outstanding (its coroutine destroyed, not resumed) leaves
  // no handler pointing at it.
  ~pipeline_base() {
    for (auto& [id, c] : in_flight_) s_.detach(id);
  }

  struct chunk {
    std::uint64_t offset;
    std::uint32_t length;
  };

 public:
  // Runs until every request is answered (or the operation is cancelled: then the outstanding
  // requests are abandoned). Returns the first error; contiguous() is what was done.
  awaitable<error_code> run() {
    pump();
    if (!co_await finished_.wait()) {
      for (auto& [id, c] : in_flight_) s_.detach(id);
      in_flight_.clear();
      co_return boost::asio::error::operation_aborted;
    }
    co_return ec_;
  }

  std::uint64_t contiguous() const noexcept { return done_.contiguous(); }

 protected:
  virtual void pump() = 0;

  void fail(error_code ec) {
    if (!ec_) ec_ = ec;
  }

  void grow() {
    if (window_ < opts_.max_in_flight) ++window_;
  }

  void completed(std::uint64_t offset, std::uint64_t length) {
    if (done_.add(offset, length) && opts_.progress) opts_.progress(done_.contiguous());
  }

  void finish_if_idle() {
    if (in_flight_.empty() && !finished_.is_set()) finished_.notify();
  }

  // A non-ok STATUS as an error (recorded as the session's last status); ok gives no error.
  error_code status_of(byte_view packet, std::uint32_t& code) {
    proto::status_reply st;
    if (auto ec = wire::decode(packet, st)) return ec;
    code = st.code;
    if (st.code != 0) s_.note_status(st);
    return st.error();
  }

  Session& s_;
  proto::handle handle_;
  pipeline_options opts_;
  std::uint64_t next_;
  std::size_t window_ = 1;
  std::unordered_map<std::uint32_t, chunk> in_flight_;
  range_tracker done_;
  error_code ec_;
  signal finished_;
};

template <class Session>
class read_pipeline final : public pipeline_base<Session> {
  using base = pipeline_base<Session>;
  using typename base::chunk;

 public:
  read_pipeline(Session& s, const proto::handle& h, std::uint64_t start, std::uint64_t end,
                data_sink& sink, pipeline_options o)
      : base(s, h, start, std::move(o)), end_(end), sink_(sink) {}

  // Where the server said the file ends, if it did.
  std::uint64_t eof_offset() const noexcept { return eof_; }

 private:
  void pump() override {
    while (!this->ec_ && this->in_flight_.size() < this->window_) {
      chunk c{};
      if (!retry_.empty()) {
        c = retry_.back();
        retry_.pop_back();
        if (c.offset >= eof_) continue;
      } else if (this->next_ < end_ && this->next_ < eof_) {
        c = {this->next_,
             to_u32(std::min<std::uint64_t>(this->opts_.block, end_ - this->next_))};
        this->next_ += c.length;
      } else {
        break;
      }
      proto::read_request req{0, this->handle_, c.offset, c.length};
      namespace k = proto::reply_kind;
      if (!this->s_.start(req, this, k::status | k::data)) {
        this->fail(this->s_.failure());
        break;
      }
      this->in_flight_.emplace(req.request_id, c);
    }
    this->finish_if_idle();
  }

  void on_reply(std::uint32_t id, error_code ec, byte_view packet) override {
    auto it = this->in_flight_.find(id);
    if (it == this->in_flight_.end()) return;
    chunk c = it->second;
    this->in_flight_.erase(it);
    if (ec) {
      this->fail(ec);
    } else if (packet[0] == proto::packet_type::data) {
      on_data(c, packet);
    } else {
      std::uint32_t code = 0;
      auto st = this->status_of(packet, code);
      if (code == static_cast<std::uint32_t>(status::eof)) eof_ = std::min(eof_, c.offset);
      else this->fail(st ? st : make_error_code(errc::unexpected_message));
    }
    pump();
  }

  void on_data(const chunk& c, byte_view packet) {
    proto::data_reply_view v;
    if (auto ec = wire::decode(packet, v)) return this->fail(ec);
    auto n = v.data.value.size();
    // More than asked for, or nothing at all (which would ask again forever): the server is
    // broken. Data after a failure is not written: the prefix kept is the one already done.
    if (n > c.length || n == 0) return this->fail(make_error_code(errc::bad_value));
    if (this->ec_) return;
    if (auto ec = sink_.write(c.offset, v.data.value)) return this->fail(ec);
    this->completed(c.offset, n);
    if (n < c.length) retry_.push_back({c.offset + n, static_cast<std::uint32_t>(c.length - n)});
    this->grow();
  }

  std::uint64_t end_;
  std::uint64_t eof_ = unknown_end;
  data_sink& sink_;
  std::vector<chunk> retry_;
};

template <class Session>
class write_pipeline final : public pipeline_base<Session> {
  using base = pipeline_base<Session>;
  using typename base::chunk;

 public:
  write_pipeline(Session& s, const proto::handle& h, std::uint64_t start, std::uint64_t end,
                 data_source& source, pipeline_options o)
      : base(s, h, start, std::move(o)), end_(end), source_(source) {
    head_.handle = h;
  }

  // Bytes the source gave (the end of the data when it ended before end).
  std::uint64_t read_end() const noexcept { return this->next_; }

 private:
  void pump() override {
    while (!this->ec_ && !source_done_ && this->in_flight_.size() < this->window_ &&
           this->next_ < end_) {
      auto want = static_cast<std::size_t>(
          std::min<std::uint64_t>(this->opts_.block, end_ - this->next_));
      std::size_t got = 0;
      auto fill = [&](mutable_byte_view into, std::size_t& n) {
        auto ec = source_.read(this->next_, into, n);
        got = ec ? 0 : n;
        return ec;
      };
      error_code ec;
      std::size_t n = this->s_.start_write(head_, this->next_, want, this, fill, ec);
      if (ec) {
        this->fail(ec);
        break;
      }
      if (got < want) source_done_ = true;
      if (n == 0) break;
      this->in_flight_.emplace(head_.request_id, chunk{this->next_, to_u32(n)});
      this->next_ += n;
    }
    this->finish_if_idle();
  }

  void on_reply(std::uint32_t id, error_code ec, byte_view packet) override {
    auto it = this->in_flight_.find(id);
    if (it == this->in_flight_.end()) return;
    chunk c = it->second;
    this->in_flight_.erase(it);
    if (ec) {
      this->fail(ec);
    } else {
      std::uint32_t code = 0;
      if (auto st = this->status_of(packet, code)) {
        this->fail(st);
      } else {
        this->completed(c.offset, c.length);
        this->grow();
      }
    }
    pump();
  }

  std::uint64_t end_;
  data_source& source_;
  bool source_done_ = false;
  proto::write_request_head head_;  // the handle, encoded again for each WRITE
};

}  // namespace ferry::sftp::detail
