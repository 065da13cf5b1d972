// The SCP source: what `scp -f` runs on a server, and what a client runs to upload (scp.c source()
// and rsource()). Sans-I/O: the application queues the entries to send (files, directories and
// their ends, in walk order), sends what the actions say, and feeds back the peer's acks.
//
//   scp::proto::source src{scp::proto::source_options{true}};  // -p
//   src.add(source_entry::file("a.txt", 0644, 5));
//   src.close();
//   for (;;) {
//     auto a = src.next(in);
//     switch (a.type) {
//       case source_action::kind::send: write a.data; break;
//       case source_action::kind::send_file: write exactly a.size bytes of the file, then
//                                            src.file_sent(ec_if_reading_failed); break;
//       case source_action::kind::warning: the peer refused one entry (a.ec, a.message); go on
//       case source_action::kind::need_more: read more acks into `in`; break;
//       case source_action::kind::need_entries: add() more or close(); break;
//       case source_action::kind::done / failed: stop.
//     }
//   }
//
// A 1-ack (warning) skips the entry it answers: for a directory, everything up to its end, and
// `skip_directory` in the action tells a lazily walking application to stop descending into it.
#pragma once

#include <ferry/core/bytes.hpp>
#include <ferry/scp/proto/error.hpp>
#include <ferry/scp/proto/record.hpp>

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

namespace ferry::scp::proto {

struct source_entry {
  // error: an entry that could not be sent (missing, unreadable, not a regular file); `name` is
  // the message. It goes to the peer as a warning line (scp.c source(): run_err then continue)
  // and no acknowledgement is awaited for it.
  enum class kind { file, directory, end_directory, error };
  kind type = kind::file;
  std::string name;
  std::uint32_t mode = 0644;
  std::uint64_t size = 0;
  std::optional<times_record> times;  // sent as a T record first when preserving

  static source_entry file(std::string name, std::uint32_t mode, std::uint64_t size,
                           std::optional<times_record> t = std::nullopt) {
    return {kind::file, std::move(name), mode, size, t};
  }
  static source_entry directory(std::string name, std::uint32_t mode,
                                std::optional<times_record> t = std::nullopt) {
    return {kind::directory, std::move(name), mode, 0, t};
  }
  static source_entry end_directory() { return {kind::end_directory, {}, 0, 0, std::nullopt}; }
  static source_entry error(std::string message) {
    return {kind::error, std::move(message), 0, 0, std::nullopt};
  }
};

struct source_options {
  bool preserve = false;  // -p: send a T record before each entry that has times
};

struct source_action {
  enum class kind {
    need_more,     // waiting for the peer's acknowledgement; feed more input
    need_entries,  // nothing queued: add() more entries or close()
    send,          // write `data` to the peer
    send_file,     // write exactly `size` bytes of file `name` to the peer, then file_sent()
    warning,       // the peer refused the entry `name` (`ec` = peer_warning, `message`)
    done,          // every entry sent and acknowledged
    failed,        // fatal (`ec`, `message`; peer_error carries the peer's text)
  };
  kind type = kind::need_more;
  std::string_view name;
  std::uint64_t size = 0;
  byte_view data;
  error_code ec;
  std::string_view message;
  bool skip_directory = false;  // with warning: the refused entry was a directory
};

class source {
 public:
  explicit source(source_options opts = {}) : opts_(opts) {}

  void add(source_entry e) { queue_.push_back(std::move(e)); }
  void close() { closed_ = true; }

  // After send_file: whether reading the file worked. On failure the application must still
  // have sent `size` bytes (padding, as scp.c does) so the peer stays in step; the peer is told
  // with a warning instead of the 0 status byte.
  void file_sent(error_code ec = {}, std::string_view message = {}) {
    file_ec_ = ec;
    file_message_ = message.empty() && ec ? ec.message() : std::string{message};
  }

  source_action next(byte_view& in) {
    switch (state_) {
      case state::failed: return failed_action();
      case state::done: {
        source_action a;
        a.type = source_action::kind::done;
        return a;
      }
      case state::wait_ack: return on_ack(in);
      case state::file_sent: {
        std::string line;
        if (file_ec_) format_error_ack(false, "scp: " + current_.name + ": " + file_message_, line);
        else line.assign(1, '\0');
        file_ec_ = {};
        waiting_for_ = waiting::file_status;
        return send(line);
      }
      case state::next_entry: return next_entry();
      case state::send_record: {
        // The T record was acknowledged; now the entry's own record.
        return send_record_of(current_);
      }
    }
    return fail(make_error_code(errc::bad_entry));
  }

  std::size_t depth() const noexcept { return depth_; }

 private:
  enum class state { wait_ack, file_sent, next_entry, send_record, done, failed };
  enum class waiting { start, times, entry_record, file_status };

  source_action send(std::string_view bytes_to_send) {
    out_.assign(bytes_to_send);
    state_ = state::wait_ack;
    source_action a;
    a.type = source_action::kind::send;
    a.data = as_bytes(out_);
    return a;
  }

  source_action fail(error_code ec, std::string_view message = {}) {
    state_ = state::failed;
    failed_ec_ = ec;
    failed_message_ = message.empty() ? ec.message() : std::string{message};
    return failed_action();
  }

  source_action failed_action() const {
    source_action a;
    a.type = source_action::kind::failed;
    a.ec = failed_ec_;
    a.message = failed_message_;
    return a;
  }

  source_action send_record_of(const source_entry& e) {
    record r;
    switch (e.type) {
      case source_entry::kind::error: return fail(make_error_code(errc::bad_entry));
      case source_entry::kind::file: r = file_record{e.mode, e.size, e.name}; break;
      case source_entry::kind::directory: r = directory_record{e.mode, e.name}; break;
      case source_entry::kind::end_directory: r = end_directory_record{}; break;
    }
    std::string line;
    if (auto ec = format_record(r, line)) return fail(make_error_code(errc::bad_entry), ec.message());
    waiting_for_ = waiting::entry_record;
    return send(line);
  }

  source_action next_entry() {
    while (true) {
      if (queue_.empty()) {
        source_action a;
        if (closed_) {
          if (depth_ != 0 || skip_depth_ != 0) return fail(make_error_code(errc::bad_entry));
          state_ = state::done;
          a.type = source_action::kind::done;
        } else {
          a.type = source_action::kind::need_entries;
        }
        return a;
      }
      current_ = std::move(queue_.front());
      queue_.pop_front();
      // Entries inside a directory the peer refused are dropped, nesting included.
      if (skip_depth_ != 0) {
        if (current_.type == source_entry::kind::directory) ++skip_depth_;
        if (current_.type == source_entry::kind::end_directory) --skip_depth_;
        continue;
      }
      if (current_.type == source_entry::kind::error) {
        std::string line;
        format_error_ack(false, "scp: " + current_.name, line);
        auto a = send(line);
        state_ = state::next_entry;  // nothing answers a warning line
        return a;
      }
      if (current_.type == source_entry::kind::end_directory && depth_ == 0)
        return fail(make_error_code(errc::bad_entry), "end of a directory that was not entered");
      if (opts_.preserve && current_.times && current_.type != source_entry::kind::end_directory) {
        std::string line;
        if (auto ec = format_record(*current_.times, line))
          return fail(make_error_code(errc::bad_entry), ec.message());
        waiting_for_ = waiting::times;
        return send(line);
      }
      return send_record_of(current_);
    }
  }

  source_action on_ack(byte_view& in) {
    std::string_view msg;
    error_code ec;
    auto r = acks_.next(in, msg, ec);
    switch (r) {
      case ack_reader::result::need_more: return {};
      case ack_reader::result::failed: return fail(ec);
      case ack_reader::result::fatal: return fail(make_error_code(errc::peer_error), msg);
      case ack_reader::result::warning: return on_warning(msg);
      case ack_reader::result::ok: break;
    }
    switch (waiting_for_) {
      case waiting::start:
      case waiting::file_status: state_ = state::next_entry; return next_entry();
      case waiting::times: state_ = state::send_record; return send_record_of(current_);
      case waiting::entry_record: break;
    }
    switch (current_.type) {
      case source_entry::kind::file: {
        state_ = state::file_sent;
        source_action a;
        a.type = source_action::kind::send_file;
        a.name = current_.name;
        a.size = current_.size;
        return a;
      }
      case source_entry::kind::directory: ++depth_; break;
      case source_entry::kind::end_directory: --depth_; break;
      case source_entry::kind::error: break;  // never awaits an acknowledgement
    }
    state_ = state::next_entry;
    return next_entry();
  }

  // scp.c response() returning -1: the entry is skipped, the transfer goes on.
  source_action on_warning(std::string_view msg) {
    peer_message_.assign(msg);
    // scp.c toremote(): an error answering the sink's start ends the copy (the sink refused the
    // target, e.g. -d and not a directory, and exits).
    if (waiting_for_ == waiting::start) return fail(make_error_code(errc::peer_error), peer_message_);
    source_action a;
    a.type = source_action::kind::warning;
    a.ec = make_error_code(errc::peer_warning);
    a.message = peer_message_;
    state_ = state::next_entry;
    if (waiting_for_ == waiting::start || waiting_for_ == waiting::file_status) return a;
    a.name = current_.name;
    if (current_.type == source_entry::kind::directory) {
      a.skip_directory = true;
      skip_depth_ = 1;
    } else if (current_.type == source_entry::kind::end_directory) {
      --depth_;  // the peer has left the directory anyway
    }
    return a;
  }

  source_options opts_;
  state state_ = state::wait_ack;  // scp.c: the source waits for the sink's first 0
  waiting waiting_for_ = waiting::start;
  std::deque<source_entry> queue_;
  bool closed_ = false;
  source_entry current_;
  ack_reader acks_;
  std::string out_;
  std::size_t depth_ = 0;
  std::size_t skip_depth_ = 0;
  error_code file_ec_;
  std::string file_message_;
  std::string peer_message_;
  error_code failed_ec_;
  std::string failed_message_;
};

}  // namespace ferry::scp::proto
