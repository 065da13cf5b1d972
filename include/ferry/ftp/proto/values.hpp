// Values carried in reply texts: the 257 pathname (RFC 959 Appendix II), the 213 SIZE and MDTM
// replies (RFC 3659 §3-4).
#pragma once

#include <ferry/ftp/error.hpp>
#include <ferry/ftp/proto/listing.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace ferry::ftp {

// 257 "/usr/dir ""with quotes""" created: the name is between the first quote and the next lone
// quote; a doubled quote stands for one quote (RFC 959 Appendix II).
inline error_code parse_pathname_reply(std::string_view text, std::string& out) {
  auto open = text.find('"');
  if (open == std::string_view::npos) return make_error_code(errc::bad_reply);
  std::string name;
  for (auto i = open + 1; i < text.size(); ++i) {
    if (text[i] != '"') {
      name += text[i];
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '"') {
      name += '"';
      ++i;
      continue;
    }
    out = std::move(name);
    return {};
  }
  return make_error_code(errc::bad_reply);
}

inline std::string format_pathname_reply_text(std::string_view path, std::string_view comment) {
  std::string s = "\"";
  for (char c : path) {
    if (c == '"') s += '"';
    s += c;
  }
  s += '"';
  if (!comment.empty()) {
    s += ' ';
    s += comment;
  }
  return s;
}

// 213 SIZE reply text: the size in octets, decimal (RFC 3659 §4.2).
inline error_code parse_size_reply(std::string_view text, std::uint64_t& out) {
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  if (!detail::parse_uint(text, out)) return make_error_code(errc::bad_reply);
  return {};
}

// 213 MDTM reply text: a time-val in UTC (RFC 3659 §3.2).
inline error_code parse_mdtm_reply(std::string_view text, std::chrono::sys_seconds& out) {
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  if (parse_mlsx_time(text, out)) return make_error_code(errc::bad_reply);
  return {};
}

}  // namespace ferry::ftp
