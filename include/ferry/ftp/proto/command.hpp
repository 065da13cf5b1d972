// FTP commands (RFC 959 §5.3): "VERB[ SP argument] CR LF". The client serializes them, the server
// reads them with command_reader. Arguments are pathnames and may hold spaces and UTF-8 (RFC 2640),
// but never CR, LF or NUL: those would end or split the line (command injection), so both sides
// refuse them rather than escape them.
#pragma once

#include <ferry/core/limits.hpp>
#include <ferry/ftp/error.hpp>

#include <string>
#include <string_view>

namespace ferry::ftp {

struct command {
  std::string verb;      // upper case, 3 or 4 letters
  std::string argument;  // empty when absent
  bool operator==(const command&) const = default;
};

namespace detail {

inline bool is_alpha(char c) noexcept { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

// RFC 959 §5.3.1: command codes are alphabetic, four or fewer characters (three in practice for
// the oldest, e.g. PWD, MKD).
inline bool valid_verb(std::string_view v) noexcept {
  if (v.size() < 3 || v.size() > 4) return false;
  for (char c : v)
    if (!is_alpha(c)) return false;
  return true;
}

inline bool has_line_breaking_char(std::string_view s) noexcept {
  return s.find_first_of(std::string_view{"\r\n\0", 3}) != std::string_view::npos;
}

}  // namespace detail

// Parses one command line without its CR LF. The verb is case-insensitive (RFC 959 §5.3) and
// returned upper case; a single SP separates it from the argument, which is taken verbatim.
inline error_code parse_command(std::string_view line, command& out) {
  if (line.size() > limits::ftp_max_line) return make_error_code(errc::line_too_long);
  if (detail::has_line_breaking_char(line)) return make_error_code(errc::forbidden_character);
  auto sp = line.find(' ');
  auto verb = line.substr(0, sp);
  if (!detail::valid_verb(verb)) return make_error_code(errc::bad_command);
  out.verb.clear();
  for (char c : verb) out.verb += static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
  out.argument = sp == std::string_view::npos ? std::string{} : std::string{line.substr(sp + 1)};
  return {};
}

// Appends "VERB argument\r\n" (or "VERB\r\n" for an empty argument) to out.
inline error_code serialize_command(std::string_view verb, std::string_view argument,
                                    std::string& out) {
  if (!detail::valid_verb(verb)) return make_error_code(errc::bad_command);
  if (detail::has_line_breaking_char(argument)) return make_error_code(errc::forbidden_character);
  if (verb.size() + 1 + argument.size() > limits::ftp_max_line)
    return make_error_code(errc::line_too_long);
  out += verb;
  if (!argument.empty()) {
    out += ' ';
    out += argument;
  }
  out += "\r\n";
  return {};
}

inline error_code serialize_command(const command& c, std::string& out) {
  return serialize_command(c.verb, c.argument, out);
}

// Splits the control connection into commands for a server. Lines end in CR LF (a bare LF is
// accepted, as most servers do); a line above limits::ftp_max_line is an error, detected before it
// is buffered in full. Like reply_parser, feed() stops right after one complete command.
class command_reader {
 public:
  std::size_t feed(std::string_view in, error_code& ec) {
    ec = ec_;
    if (ec_ || ready_) return 0;
    auto lf = in.find('\n');
    auto chunk = in.substr(0, lf == std::string_view::npos ? in.size() : lf);
    if (line_.size() + chunk.size() > limits::ftp_max_line + 1) {
      ec_ = ec = make_error_code(errc::line_too_long);
      return 0;
    }
    line_.append(chunk);
    if (lf == std::string_view::npos) return in.size();
    if (!line_.empty() && line_.back() == '\r') line_.pop_back();
    if (auto e = parse_command(line_, cmd_)) {
      // A malformed line is reported but not fatal: the server answers 500 and reads on.
      line_.clear();
      ec = e;
      return lf + 1;
    }
    line_.clear();
    ready_ = true;
    return lf + 1;
  }

  bool has_command() const noexcept { return ready_; }
  bool mid_line() const noexcept { return !line_.empty(); }
  error_code error() const noexcept { return ec_; }

  command take() {
    ready_ = false;
    return std::move(cmd_);
  }

 private:
  std::string line_;
  command cmd_;
  bool ready_ = false;
  error_code ec_;
};

}  // namespace ferry::ftp
