// FTP replies (RFC 959 §4.2): a streaming parser for single- and multi-line replies, and the
// formatter a server uses. Sans-I/O: bytes in, replies out; nothing here knows about sockets.
//
//   reply_parser p;
//   auto used = p.feed(bytes, ec);   // consumes up to the end of one complete reply, never past it
//   if (p.has_reply()) { reply r = p.take(); ... }
//
// The parser stops right after a complete reply, so the caller sees what followed it (RFC 4217 §6:
// nothing may follow 234 in plaintext; the client refuses it).
#pragma once

#include <ferry/core/limits.hpp>
#include <ferry/ftp/error.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::ftp {

struct reply {
  int code = 0;
  // One element per line, without CR LF. The first and last lines lose their "ddd-"/"ddd "
  // prefix; lines in between are kept as sent (RFC 2389 FEAT lines start with a space).
  std::vector<std::string> lines;

  // RFC 959 §4.2.1: the first digit is the reply class.
  int kind() const noexcept { return code / 100; }
  bool preliminary() const noexcept { return kind() == 1; }
  bool completion() const noexcept { return kind() == 2; }
  bool intermediate() const noexcept { return kind() == 3; }
  bool transient_negative() const noexcept { return kind() == 4; }
  bool permanent_negative() const noexcept { return kind() == 5; }

  // All lines joined with '\n'.
  std::string text() const {
    std::string t;
    for (std::size_t i = 0; i < lines.size(); ++i) {
      if (i) t += '\n';
      t += lines[i];
    }
    return t;
  }
  bool operator==(const reply&) const = default;
};

namespace detail {

inline bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// "ddd" with a first digit 1-5 (RFC 959 §4.2.1); returns the code or 0.
inline int reply_code_prefix(std::string_view line) noexcept {
  if (line.size() < 3 || !is_digit(line[0]) || !is_digit(line[1]) || !is_digit(line[2])) return 0;
  if (line[0] < '1' || line[0] > '5') return 0;
  return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
}

}  // namespace detail

class reply_parser {
 public:
  // Consumes bytes from in, stopping right after the end of a complete reply (has_reply() then
  // turns true) or when in is exhausted. Returns the number of bytes consumed. Errors are sticky.
  std::size_t feed(std::string_view in, error_code& ec) {
    ec = ec_;
    if (ec_ || ready_) return 0;
    std::size_t used = 0;
    while (used < in.size()) {
      auto rest = in.substr(used);
      auto lf = rest.find('\n');
      auto chunk = rest.substr(0, lf == std::string_view::npos ? rest.size() : lf);
      // The line may still end in CR; allow one byte for it beyond the cap.
      if (line_.size() + chunk.size() > limits::ftp_max_line + 1) return fail(errc::line_too_long, ec);
      line_.append(chunk);
      if (lf == std::string_view::npos) {
        used = in.size();
        break;
      }
      used += lf + 1;
      if (!line_.empty() && line_.back() == '\r') line_.pop_back();
      if (line_.size() > limits::ftp_max_line) return fail(errc::line_too_long, ec);
      if (auto e = take_line(); e != errc{}) return fail(e, ec);
      line_.clear();
      if (ready_) break;
    }
    return used;
  }

  bool has_reply() const noexcept { return ready_; }
  // True while part of a reply has been consumed but the reply is not complete.
  bool mid_reply() const noexcept { return !ready_ && (!line_.empty() || code_ != 0); }
  error_code error() const noexcept { return ec_; }

  reply take() {
    reply r{code_, std::move(lines_)};
    code_ = 0;
    bytes_ = 0;
    lines_.clear();
    ready_ = false;
    return r;
  }

 private:
  std::size_t fail(errc e, error_code& ec) {
    ec_ = ec = make_error_code(e);
    return 0;
  }

  errc take_line() {
    std::string_view line = line_;
    // RFC 854: CR is only ever followed by LF (end of line) or NUL; neither may be inside a line.
    if (line.find_first_of(std::string_view{"\r\0", 2}) != std::string_view::npos)
      return errc::forbidden_character;
    bytes_ += line.size() + 2;
    if (bytes_ > limits::ftp_max_reply_bytes || lines_.size() >= limits::ftp_max_reply_lines)
      return errc::reply_too_long;
    if (code_ == 0) {
      // First line: "ddd text", "ddd-text" (multi-line) or a bare "ddd".
      int code = detail::reply_code_prefix(line);
      if (code == 0) return errc::bad_reply;
      if (line.size() == 3 || line[3] == ' ') {
        lines_.emplace_back(line.substr(line.size() == 3 ? 3 : 4));
        code_ = code;
        ready_ = true;
        return {};
      }
      if (line[3] != '-') return errc::bad_reply;
      code_ = code;
      lines_.emplace_back(line.substr(4));
      return {};
    }
    // RFC 959 §4.2: the reply ends at a line that starts with the same code followed by SP; any
    // other line (including "ddd-..." and other codes) is part of the text.
    if (detail::reply_code_prefix(line) == code_ && (line.size() == 3 || line[3] == ' ')) {
      lines_.emplace_back(line.substr(line.size() == 3 ? 3 : 4));
      ready_ = true;
      return {};
    }
    lines_.emplace_back(line);
    return {};
  }

  std::string line_;
  int code_ = 0;
  bool ready_ = false;
  std::size_t bytes_ = 0;
  std::vector<std::string> lines_;
  error_code ec_;
};

// Appends a reply to out: text lines are separated by '\n' in `text`. One line gives "ddd text";
// more give "ddd-first", the middle lines, "ddd last" (RFC 959 §4.2). A middle line that starts
// with a digit is padded with a space so that no client takes it for the end. CR and NUL in the
// text are refused, as are codes outside 100..599.
inline error_code format_reply(int code, std::string_view text, std::string& out) {
  if (code < 100 || code > 599) return make_error_code(errc::bad_reply);
  if (text.find('\r') != std::string_view::npos || text.find('\0') != std::string_view::npos)
    return make_error_code(errc::forbidden_character);
  std::vector<std::string_view> lines;
  while (true) {
    auto lf = text.find('\n');
    lines.push_back(text.substr(0, lf));
    if (lf == std::string_view::npos) break;
    text.remove_prefix(lf + 1);
  }
  if (lines.size() > limits::ftp_max_reply_lines) return make_error_code(errc::reply_too_long);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    bool edge = i == 0 || i + 1 == lines.size();
    bool pad = !edge && !lines[i].empty() && detail::is_digit(lines[i][0]);
    if (lines[i].size() + (edge ? 4 : pad ? 1 : 0) > limits::ftp_max_line)
      return make_error_code(errc::line_too_long);
  }
  auto c = std::to_string(code);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    bool first = i == 0, last = i + 1 == lines.size();
    if (first || last) {
      out += c;
      out += last ? ' ' : '-';
    } else if (!lines[i].empty() && detail::is_digit(lines[i][0])) {
      out += ' ';
    }
    out += lines[i];
    out += "\r\n";
  }
  return {};
}

inline std::string format_reply(int code, std::string_view text, error_code& ec) {
  std::string out;
  ec = format_reply(code, text, out);
  return out;
}

}  // namespace ferry::ftp
