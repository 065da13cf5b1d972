// The SCP sink: what `scp -t` runs on a server, and what a client runs to download (scp.c sink()).
// Sans-I/O: feed it the peer's bytes, carry out the actions it returns, report how they went.
//
//   scp::proto::sink_options o;
//   o.recursive = true;                  // -r
//   o.target_is_directory = true;        // what stat() said about the target
//   scp::proto::sink s{o};
//   for (;;) {
//     auto a = s.next(in);             // consumes from `in`
//     switch (a.type) {
//       case sink_action::kind::need_more: read more into `in`; on EOF check s.finish(); break;
//       case sink_action::kind::send: write a.data to the peer; break;
//       case sink_action::kind::open_file: open a.name (relative to the current directory);
//                                          on failure s.report(ec, message); break;
//       ...
//       case sink_action::kind::failed: write a.data (may be empty), then stop.
//     }
//   }
//
// Every name an action carries is one validated path component (record.hpp check_name): never
// empty, ".", "..", nor containing '/'. Directory structure is expressed only by
// create_directory (enter it on success) and leave_directory, never by the names themselves.
// At depth 0 the application maps a name to target/name when the target is a directory, and to
// the target itself otherwise (scp.c: "np = targisdir ? targ/name : targ").
#pragma once

#include <ferry/core/bytes.hpp>
#include <ferry/core/limits.hpp>
#include <ferry/scp/proto/error.hpp>
#include <ferry/scp/proto/record.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::scp::proto {

struct sink_options {
  bool recursive = false;                   // -r: D and E records are allowed
  bool preserve = false;                    // -p: T records are allowed and modes kept in full
  bool target_should_be_directory = false;  // -d: refuse to start unless the target is one
  bool target_is_directory = false;         // what the application found at the target
  // Client role: the names the download asked for, in the order asked (`scp -f a b` sends a,
  // then b; a source it cannot send is a warning instead). An entry at depth 0 must be the next
  // of these or a later one; any other name, or one asked once and sent twice, is refused before
  // anything is created (CVE-2019-6111; OpenSSH checks names against the request since 8.0).
  // Empty: the server role, any valid name is taken.
  std::vector<std::string> expected_names;
  // The target as the user named it, for the -d refusal's message ("scp: x: Not a directory").
  std::string target_name;
};

struct sink_action {
  enum class kind {
    need_more,         // all input consumed; feed more (or call finish() at EOF)
    send,              // write `data` to the peer
    create_directory,  // create directory `name` (or use the existing one) with `mode`, enter it;
                       // `times` (with -p) are for leave_directory, after its contents
    open_file,         // create or truncate file `name` with `mode`; `size` bytes will follow
    write,             // append `data` to the open file
    close_file,        // close the file; apply `times` when present
    leave_directory,   // leave the current directory; apply `times` to it when present
    warning,           // the peer reported a non-fatal error (`message`); the transfer goes on
    failed,            // fatal (`ec`, `message`): write `data` to the peer if any, then stop
  };
  kind type = kind::need_more;
  std::string_view name;
  std::uint32_t mode = 0;  // permission bits only: 07777 with -p, 0777 without
  std::uint64_t size = 0;
  std::optional<times_record> times;
  byte_view data;
  error_code ec;
  std::string_view message;
};

class sink {
 public:
  explicit sink(sink_options opts) : opts_(std::move(opts)) {}

  // The outcome of the last create_directory / open_file / write / close_file action. Not
  // calling it means success. A failed open or mkdir is reported to the peer as a warning and the
  // peer skips that entry (scp.c: run_err then continue); a failed write drops the rest of the
  // file's bytes and is reported once the file is over.
  void report(error_code ec, std::string_view message = {}) {
    if (!ec) return;
    result_ = ec;
    result_message_ = message.empty() ? ec.message() : std::string{message};
  }

  // Consumes from the front of `in` and returns the next thing to do. Views in the action (name,
  // data, message) stay valid until the next call.
  sink_action next(byte_view& in) { return step(in); }

  // Call at EOF from the peer: success only at a record boundary outside any directory, with no
  // T record waiting and, for a download, the requested entry received.
  error_code finish() const noexcept {
    if (state_ == state::failed) return failed_ec_;
    if (state_ != state::expect_record || depth_ != 0 || !lines_.idle() || pending_times_)
      return make_error_code(errc::truncated);
    if (!opts_.expected_names.empty() && top_entries_ == 0 && top_warnings_ == 0)
      return make_error_code(errc::truncated);
    return {};
  }

  std::size_t depth() const noexcept { return depth_; }

 private:
  enum class state {
    start,
    expect_record,
    open_result,
    mkdir_result,
    data,
    file_status,
    file_status_message,
    close,
    close_result,
    ack,
    failed,
  };

  sink_action send(std::string_view bytes_to_send, state then) {
    out_.assign(bytes_to_send);
    state_ = then;
    sink_action a;
    a.type = sink_action::kind::send;
    a.data = as_bytes(out_);
    return a;
  }

  sink_action send_ok(state then) { return send(std::string_view{"\0", 1}, then); }

  // scp.c run_err(): "\1scp: <what>: <why>\n"; the peer skips this entry.
  sink_action send_warning(std::string_view what, std::string_view why, state then) {
    std::string line;
    format_error_ack(false, "scp: " + std::string{what} + ": " + std::string{why}, line);
    return send(line, then);
  }

  sink_action fail(error_code ec, std::string_view message = {}, bool tell_peer = true) {
    state_ = state::failed;
    failed_ec_ = ec;
    failed_message_ = message.empty() ? ec.message() : std::string{message};
    out_.clear();
    // scp.c SCREWUP(): "protocol error: why"; a refusal of the target is reported as scp.c
    // verifydir() does: "scp: TARGET: Not a directory".
    std::string text = "scp: protocol error: " + failed_message_;
    if (ec == errc::target_not_directory)
      text = opts_.target_name.empty() ? "scp: " + failed_message_
                                       : "scp: " + opts_.target_name + ": Not a directory";
    if (tell_peer) format_error_ack(true, text, out_);
    return failed_action();
  }

  sink_action failed_action() const {
    sink_action a;
    a.type = sink_action::kind::failed;
    a.ec = failed_ec_;
    a.message = failed_message_;
    a.data = as_bytes(out_);
    return a;
  }

  std::uint32_t effective_mode(std::uint32_t mode) const noexcept {
    // Without -p the setuid, setgid and sticky bits a peer sends are not applied (scp.c masks
    // with the umask; the application applies its umask on top of this).
    return opts_.preserve ? (mode & 07777) : (mode & 0777);
  }

  // Download policy for an entry at depth 0.
  error_code check_top_entry(std::string_view name) {
    if (depth_ != 0 || opts_.expected_names.empty()) return {};
    for (auto i = next_expected_; i < opts_.expected_names.size(); ++i) {
      if (opts_.expected_names[i] == name) {
        next_expected_ = i + 1;
        return {};
      }
    }
    return make_error_code(errc::unrequested_name);
  }

  sink_action step(byte_view& in) {
    switch (state_) {
      case state::failed: {
        auto a = failed_action();
        a.data = {};  // already handed over once
        return a;
      }
      case state::start:
        if (opts_.target_should_be_directory && !opts_.target_is_directory)
          return fail(make_error_code(errc::target_not_directory));
        // scp.c sink(): a 0 byte tells the source to start.
        return send_ok(state::expect_record);
      case state::ack: return send_ok(state::expect_record);
      case state::expect_record: return on_record(in);
      case state::open_result: {
        if (take_result()) return send_warning(name_, result_message_, state::expect_record);
        remaining_ = size_;
        write_failed_ = false;
        return send_ok(state::data);
      }
      case state::mkdir_result: {
        if (take_result()) {
          dir_times_.pop_back();
          return send_warning(name_, result_message_, state::expect_record);
        }
        ++depth_;
        return send_ok(state::expect_record);
      }
      case state::data: {
        if (take_result() && !write_failed_) {
          write_failed_ = true;
          write_message_ = result_message_;
        }
        while (remaining_ != 0) {
          if (in.empty()) return need_more();
          auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, in.size()));
          auto chunk = in.first(n);
          in = in.subspan(n);
          remaining_ -= n;
          if (write_failed_) continue;  // scp.c keeps reading to stay in step with the source
          sink_action a;
          a.type = sink_action::kind::write;
          a.name = name_;
          a.data = chunk;
          return a;
        }
        state_ = state::file_status;
        return step(in);
      }
      case state::file_status: {
        // After the data the source sends one status byte: 0, or 1/2 + message if reading the
        // file failed on its side. Anything else means it sent more than it declared.
        if (in.empty()) return need_more();
        auto b = in[0];
        if (b == 0) {
          in = in.subspan(1);
          state_ = state::close;
          return step(in);
        }
        if (b != 1 && b != 2) return fail(make_error_code(errc::bad_ack));
        state_ = state::file_status_message;
        return step(in);
      }
      case state::file_status_message: {
        std::string_view msg;
        error_code ec;
        switch (acks_.next(in, msg, ec)) {
          case ack_reader::result::need_more: return need_more();
          case ack_reader::result::failed: return fail(ec);
          case ack_reader::result::fatal:
            return fail(make_error_code(errc::peer_error), msg, false);
          case ack_reader::result::ok:
          case ack_reader::result::warning: break;
        }
        // scp.c sink(): the file is still closed and acknowledged; the warning is shown.
        peer_message_.assign(msg);
        state_ = state::close;
        sink_action a;
        a.type = sink_action::kind::warning;
        a.ec = make_error_code(errc::peer_warning);
        a.message = peer_message_;
        a.name = name_;
        return a;
      }
      case state::close: {
        state_ = state::close_result;
        sink_action a;
        a.type = sink_action::kind::close_file;
        a.name = name_;
        a.times = file_times_;
        file_times_.reset();
        return a;
      }
      case state::close_result: {
        bool close_failed = take_result();
        if (write_failed_) return send_warning(name_, write_message_, state::expect_record);
        if (close_failed) return send_warning(name_, result_message_, state::expect_record);
        return send_ok(state::expect_record);
      }
    }
    return fail(make_error_code(errc::bad_record));
  }

  sink_action need_more() const { return {}; }

  bool take_result() {
    bool failed = static_cast<bool>(result_);
    result_ = {};
    return failed;
  }

  sink_action on_record(byte_view& in) {
    std::string_view line;
    error_code ec;
    switch (lines_.next(in, line, ec)) {
      case line_reader::result::need_more: return need_more();
      case line_reader::result::failed: return fail(ec);
      case line_reader::result::line: break;
    }
    result_ = {};
    // scp.c sink(): a line starting with 1 or 2 is the source's error message.
    if (!line.empty() && (line[0] == '\1' || line[0] == '\2')) {
      if (pending_times_) return fail(make_error_code(errc::unexpected_record));
      peer_message_.assign(line.substr(1));
      if (line[0] == '\2') return fail(make_error_code(errc::peer_error), peer_message_, false);
      if (depth_ == 0) ++top_warnings_;
      sink_action a;
      a.type = sink_action::kind::warning;
      a.ec = make_error_code(errc::peer_warning);
      a.message = peer_message_;
      return a;
    }
    record rec;
    if (auto pec = parse_record(line, rec)) return fail(pec);

    if (auto* t = std::get_if<times_record>(&rec)) {
      if (!opts_.preserve || pending_times_) return fail(make_error_code(errc::unexpected_record));
      pending_times_ = *t;
      return send_ok(state::expect_record);
    }
    if (std::holds_alternative<end_directory_record>(rec)) {
      if (depth_ == 0 || pending_times_) return fail(make_error_code(errc::unexpected_record));
      --depth_;
      sink_action a;
      a.type = sink_action::kind::leave_directory;
      a.times = dir_times_.back();
      dir_times_.pop_back();
      state_ = state::ack;
      return a;
    }
    if (auto* d = std::get_if<directory_record>(&rec)) {
      if (!opts_.recursive) return fail(make_error_code(errc::unexpected_record));
      if (depth_ >= limits::scp_max_depth) return fail(make_error_code(errc::too_deep));
      if (auto cec = check_top_entry(d->name)) return fail(cec);
      if (depth_ == 0) ++top_entries_;
      name_ = std::move(d->name);
      dir_times_.push_back(pending_times_);
      pending_times_.reset();
      state_ = state::mkdir_result;
      sink_action a;
      a.type = sink_action::kind::create_directory;
      a.name = name_;
      a.mode = effective_mode(d->mode);
      a.times = dir_times_.back();
      return a;
    }
    auto& f = std::get<file_record>(rec);
    if (auto cec = check_top_entry(f.name)) return fail(cec);
    if (depth_ == 0) ++top_entries_;
    name_ = std::move(f.name);
    size_ = f.size;
    file_times_ = pending_times_;
    pending_times_.reset();
    state_ = state::open_result;
    sink_action a;
    a.type = sink_action::kind::open_file;
    a.name = name_;
    a.mode = effective_mode(f.mode);
    a.size = size_;
    a.times = file_times_;
    return a;
  }

  sink_options opts_;
  state state_ = state::start;
  line_reader lines_;
  ack_reader acks_;
  std::string out_;
  std::string name_;
  std::uint64_t size_ = 0;
  std::uint64_t remaining_ = 0;
  std::size_t depth_ = 0;
  std::size_t top_entries_ = 0;
  std::size_t top_warnings_ = 0;
  std::size_t next_expected_ = 0;
  std::optional<times_record> pending_times_;
  std::optional<times_record> file_times_;
  std::vector<std::optional<times_record>> dir_times_;
  error_code result_;
  std::string result_message_;
  bool write_failed_ = false;
  std::string write_message_;
  std::string peer_message_;
  error_code failed_ec_;
  std::string failed_message_;
};

}  // namespace ferry::scp::proto
