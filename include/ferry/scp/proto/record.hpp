// SCP (rcp) protocol records and acknowledgements, as OpenSSH's scp.c speaks them (scp -O); there
// is no RFC, so the rules below cite scp.c's sink() and response():
//
//   C<mode> <size> <name>\n     a file follows: exactly <size> bytes, then a status byte
//   D<mode> 0 <name>\n          enter a directory (recursive copies only)
//   E\n                         leave it
//   T<mtime> 0 <atime> 0\n      times for the next C or D (-p only); the 0s are microseconds
//   \0                          acknowledgement: ok
//   \1<message>\n               warning: this entry failed, the transfer goes on
//   \2<message>\n               fatal error
//
// The parser is strict where scp.c is, and stricter where scp.c had CVEs: the mode is exactly four
// octal digits, the size decimal and bounded, and the name a single path component (not empty,
// ".", "..", no '/', no NUL: CVE-2018-20685, CVE-2019-6111). Records are text lines, not SSH
// wire types, so they have their own small parser rather than the wire codec.
#pragma once

#include <ferry/core/bytes.hpp>
#include <ferry/core/limits.hpp>
#include <ferry/scp/proto/error.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace ferry::scp::proto {

struct file_record {  // C
  std::uint32_t mode = 0644;
  std::uint64_t size = 0;
  std::string name;
  bool operator==(const file_record&) const = default;
};

struct directory_record {  // D (the size field is sent as 0 and ignored, as scp.c does)
  std::uint32_t mode = 0755;
  std::string name;
  bool operator==(const directory_record&) const = default;
};

struct end_directory_record {  // E
  bool operator==(const end_directory_record&) const = default;
};

struct times_record {  // T
  std::uint64_t mtime = 0;
  std::uint32_t mtime_usec = 0;
  std::uint64_t atime = 0;
  std::uint32_t atime_usec = 0;
  bool operator==(const times_record&) const = default;
};

using record = std::variant<file_record, directory_record, end_directory_record, times_record>;

// A name a record may carry: one path component that cannot leave the directory it lands in.
inline error_code check_name(std::string_view name) noexcept {
  if (name.empty() || name == "." || name == ".." || name.size() > limits::fs_max_name ||
      name.find_first_of(std::string_view{"/\0\n", 3}) != std::string_view::npos)
    return make_error_code(errc::bad_name);
  return {};
}

namespace detail {

// Decimal digits only (no sign, no spaces), at most `max`. Advances s past the digits.
inline bool parse_decimal(std::string_view& s, std::uint64_t max, std::uint64_t& out) noexcept {
  std::size_t i = 0;
  std::uint64_t v = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    auto d = static_cast<std::uint64_t>(s[i] - '0');
    if (v > (max - d) / 10) return false;
    v = v * 10 + d;
    ++i;
  }
  if (i == 0) return false;
  s.remove_prefix(i);
  out = v;
  return true;
}

inline bool eat(std::string_view& s, char c) noexcept {
  if (s.empty() || s[0] != c) return false;
  s.remove_prefix(1);
  return true;
}

}  // namespace detail

// Parses one record line without its '\n'.
inline error_code parse_record(std::string_view line, record& out) {
  if (line.size() + 1 > limits::scp_max_line) return make_error_code(errc::line_too_long);
  if (line.empty()) return make_error_code(errc::bad_record);
  char kind = line[0];
  auto s = line.substr(1);
  switch (kind) {
    case 'E':
      if (!s.empty()) return make_error_code(errc::bad_record);
      out = end_directory_record{};
      return {};
    case 'T': {
      // scp.c: "mtime.sec not delimited", usec in 0..999999.
      times_record t;
      std::uint64_t mu = 0, au = 0;
      if (!detail::parse_decimal(s, limits::scp_max_time, t.mtime) || !detail::eat(s, ' ') ||
          !detail::parse_decimal(s, 999999, mu) || !detail::eat(s, ' ') ||
          !detail::parse_decimal(s, limits::scp_max_time, t.atime) || !detail::eat(s, ' ') ||
          !detail::parse_decimal(s, 999999, au) || !s.empty())
        return make_error_code(errc::bad_time);
      t.mtime_usec = static_cast<std::uint32_t>(mu);
      t.atime_usec = static_cast<std::uint32_t>(au);
      out = t;
      return {};
    }
    case 'C':
    case 'D': {
      // scp.c: four octal digits, then "mode not delimited".
      std::uint32_t mode = 0;
      for (int i = 0; i < 4; ++i) {
        if (s.empty() || s[0] < '0' || s[0] > '7') return make_error_code(errc::bad_mode);
        mode = (mode << 3) | static_cast<std::uint32_t>(s[0] - '0');
        s.remove_prefix(1);
      }
      if (!detail::eat(s, ' ')) return make_error_code(errc::bad_mode);
      std::uint64_t size = 0;
      if (!detail::parse_decimal(s, limits::scp_max_size, size) || !detail::eat(s, ' '))
        return make_error_code(errc::bad_size);
      if (auto ec = check_name(s)) return ec;
      if (kind == 'C') out = file_record{mode, size, std::string{s}};
      else out = directory_record{mode, std::string{s}};
      return {};
    }
    default: return make_error_code(errc::bad_record);
  }
}

// Appends the record's line, '\n' included. Refuses what parse_record() would refuse.
inline error_code format_record(const record& r, std::string& out) {
  auto octal = [](std::uint32_t m) {
    std::string s(4, '0');
    for (int i = 3; i >= 0; --i, m >>= 3) s[static_cast<std::size_t>(i)] = char('0' + (m & 7));
    return s;
  };
  std::string line;
  if (auto* f = std::get_if<file_record>(&r)) {
    if (f->mode > 07777) return make_error_code(errc::bad_mode);
    if (f->size > limits::scp_max_size) return make_error_code(errc::bad_size);
    if (auto ec = check_name(f->name)) return ec;
    line = "C" + octal(f->mode) + " " + std::to_string(f->size) + " " + f->name;
  } else if (auto* d = std::get_if<directory_record>(&r)) {
    if (d->mode > 07777) return make_error_code(errc::bad_mode);
    if (auto ec = check_name(d->name)) return ec;
    line = "D" + octal(d->mode) + " 0 " + d->name;
  } else if (std::holds_alternative<end_directory_record>(r)) {
    line = "E";
  } else {
    const auto& t = std::get<times_record>(r);
    if (t.mtime > limits::scp_max_time || t.atime > limits::scp_max_time ||
        t.mtime_usec > 999999 || t.atime_usec > 999999)
      return make_error_code(errc::bad_time);
    line = "T" + std::to_string(t.mtime) + " " + std::to_string(t.mtime_usec) + " " +
           std::to_string(t.atime) + " " + std::to_string(t.atime_usec);
  }
  if (line.size() + 1 > limits::scp_max_line) return make_error_code(errc::line_too_long);
  out += line;
  out += '\n';
  return {};
}

// An error acknowledgement: 1 (warning) or 2 (fatal), the message on one line. Newlines in the
// message become spaces and it is cut to fit the peer's line buffer.
inline void format_error_ack(bool fatal, std::string_view message, std::string& out) {
  out += fatal ? '\2' : '\1';
  auto n = std::min(message.size(), limits::scp_max_line - 2);
  for (std::size_t i = 0; i < n; ++i) {
    char c = message[i];
    out += (c == '\n' || c == '\r' || c == '\0') ? ' ' : c;
  }
  out += '\n';
}

// Collects one '\n'-terminated line from a byte stream, taking nothing past the '\n'.
class line_reader {
 public:
  enum class result { need_more, line, failed };

  // On result::line, `line` (without '\n') stays valid until the next call.
  result next(byte_view& in, std::string_view& line, error_code& ec) {
    if (done_) {
      buf_.clear();
      done_ = false;
    }
    while (!in.empty()) {
      char c = static_cast<char>(in[0]);
      in = in.subspan(1);
      if (c == '\n') {
        done_ = true;
        line = buf_;
        return result::line;
      }
      if (buf_.size() + 2 > limits::scp_max_line) {  // this byte plus the '\n' still to come
        ec = make_error_code(errc::line_too_long);
        return result::failed;
      }
      buf_ += c;
    }
    return result::need_more;
  }

  // True at a line boundary (nothing partial held).
  bool idle() const noexcept { return done_ || buf_.empty(); }

 private:
  std::string buf_;
  bool done_ = false;
};

// Reads one acknowledgement (scp.c response()): 0, or 1/2 followed by a message line.
class ack_reader {
 public:
  enum class result { need_more, ok, warning, fatal, failed };

  // On warning/fatal, `message` is the peer's text (valid until the next call).
  result next(byte_view& in, std::string_view& message, error_code& ec) {
    if (kind_ == 0) {
      if (in.empty()) return result::need_more;
      auto b = in[0];
      in = in.subspan(1);
      if (b == 0) return result::ok;
      if (b != 1 && b != 2) {
        ec = make_error_code(errc::bad_ack);
        return result::failed;
      }
      kind_ = b;
    }
    switch (lines_.next(in, message, ec)) {
      case line_reader::result::need_more: return result::need_more;
      case line_reader::result::failed: return result::failed;
      case line_reader::result::line: break;
    }
    auto k = kind_;
    kind_ = 0;
    return k == 1 ? result::warning : result::fatal;
  }

  bool idle() const noexcept { return kind_ == 0; }

 private:
  std::uint8_t kind_ = 0;
  line_reader lines_;
};

}  // namespace ferry::scp::proto
