// Arguments a server reads from commands, and the reply texts that carry values back. Sans-I/O:
// strings in, values out. Each parser is strict: a number is all digits, a mode is octal, and
// anything else is refused (501) rather than guessed at.
#pragma once

#include <ferry/core/limits.hpp>
#include <ferry/ftp/proto/listing.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ferry::ftp {

enum class argument_status { ok, syntax, unsupported };

// TYPE (RFC 959 §4.1.2): "A", "A N", "I", "L 8". ASCII with a TELNET/ASA format control and EBCDIC
// are refused as unsupported (504).
inline argument_status parse_type_argument(std::string_view arg, bool& ascii) {
  std::string a;
  for (char c : arg) a += detail::lower(c);
  if (a == "a" || a == "a n") {
    ascii = true;
    return argument_status::ok;
  }
  if (a == "i" || a == "l 8" || a == "l8") {
    ascii = false;
    return argument_status::ok;
  }
  if (a == "e" || a == "a t" || a == "a c" || a == "e n" || (a.size() > 2 && a[0] == 'l'))
    return argument_status::unsupported;
  return argument_status::syntax;
}

// A decimal offset (REST, RFC 3659 §5.2; RANG), at most 19 digits.
inline bool parse_offset_argument(std::string_view arg, std::uint64_t& out) {
  return detail::parse_uint(arg, out);
}

// RANG start end (draft-bryan-ftp-range §3): "RANG 1 0" resets to the whole file.
inline bool parse_rang_argument(std::string_view arg, std::uint64_t& start, std::uint64_t& end) {
  auto sp = arg.find(' ');
  if (sp == std::string_view::npos) return false;
  return detail::parse_uint(arg.substr(0, sp), start) && detail::parse_uint(arg.substr(sp + 1), end);
}

// MFMT YYYYMMDDHHMMSS[.sss] path (draft-somers-ftp-mfxx §3).
inline bool parse_mfmt_argument(std::string_view arg, std::chrono::sys_seconds& when,
                                std::string& path) {
  auto sp = arg.find(' ');
  if (sp == std::string_view::npos || sp + 1 >= arg.size()) return false;
  if (parse_mlsx_time(arg.substr(0, sp), when)) return false;
  path = std::string{arg.substr(sp + 1)};
  return true;
}

// SITE CHMOD mode path: mode is 1-4 octal digits.
inline bool parse_chmod_argument(std::string_view arg, std::uint32_t& mode, std::string& path) {
  auto sp = arg.find(' ');
  if (sp == std::string_view::npos || sp == 0 || sp > 4 || sp + 1 >= arg.size()) return false;
  mode = 0;
  for (char c : arg.substr(0, sp)) {
    if (c < '0' || c > '7') return false;
    mode = mode * 8 + std::uint32_t(c - '0');
  }
  path = std::string{arg.substr(sp + 1)};
  return true;
}

// LIST/NLST/STAT arguments: clients send ls(1) options ("-la", "-a path") that RFC 959 does not
// define; leading words starting with '-' are dropped and what remains is the path.
inline std::string_view list_path_argument(std::string_view arg) {
  while (!arg.empty() && arg[0] == '-') {
    auto sp = arg.find(' ');
    if (sp == std::string_view::npos) return {};
    arg.remove_prefix(sp + 1);
    while (!arg.empty() && arg[0] == ' ') arg.remove_prefix(1);
  }
  return arg;
}

// The Telnet sequences a client sends before an urgent ABOR (RFC 959 §4.1.3: IAC IP, IAC DM):
// IAC followed by a command byte is removed; IAC IAC stands for one 0xFF byte (RFC 854).
inline std::string strip_telnet(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    auto c = static_cast<unsigned char>(in[i]);
    if (c != 0xff) {
      out += in[i];
      continue;
    }
    if (i + 1 < in.size() && static_cast<unsigned char>(in[i + 1]) == 0xff) {
      out += in[i];
      ++i;
      continue;
    }
    if (i + 1 < in.size()) ++i;  // IAC <command>: both go
    // WILL/WONT/DO/DONT carry an option byte as well.
    auto cmd = i < in.size() ? static_cast<unsigned char>(in[i]) : 0;
    if (cmd >= 251 && cmd <= 254 && i + 1 < in.size()) ++i;
  }
  return out;
}

// HASH algorithm names (draft-bryan-ftpext-hash-02 §3, the IANA hash function textual names).
// MD5 is there because clients ask for it (the draft lists it); it proves no integrity.
enum class hash_name { sha1, sha256, sha512, md5 };

inline std::optional<hash_name> parse_hash_name(std::string_view s) {
  std::string u;
  for (char c : s) u += static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
  if (u == "SHA-1") return hash_name::sha1;
  if (u == "SHA-256") return hash_name::sha256;
  if (u == "SHA-512") return hash_name::sha512;
  if (u == "MD5") return hash_name::md5;
  return std::nullopt;
}

inline std::string_view hash_name_text(hash_name h) {
  switch (h) {
    case hash_name::sha1: return "SHA-1";
    case hash_name::sha256: return "SHA-256";
    case hash_name::sha512: return "SHA-512";
    case hash_name::md5: return "MD5";
  }
  return "";
}

// "SHA-256 0-49 <hex> path" (draft-bryan-ftpext-hash-02 §3.1: the range is start-end, inclusive
// end, as the bytes actually hashed).
inline std::string format_hash_reply_text(hash_name h, std::uint64_t start, std::uint64_t end,
                                          std::string_view hex, std::string_view path) {
  std::string s{hash_name_text(h)};
  s += ' ';
  s += std::to_string(start);
  s += '-';
  s += std::to_string(end);
  s += ' ';
  s += hex;
  s += ' ';
  s += path;
  return s;
}

// The 213 reply to HASH parsed: "<alg> <start>-<end> <hex> <path>" (draft-bryan-ftpext-hash-02
// §3.1). The path is the rest of the line (it may hold spaces); the hex digest must have the
// algorithm's length.
struct hash_reply {
  hash_name algorithm = hash_name::sha256;
  std::uint64_t start = 0;
  std::uint64_t end = 0;
  std::string hex;  // lower case
  std::string path;
  bool operator==(const hash_reply&) const = default;
};

inline std::size_t hash_hex_length(hash_name h) noexcept {
  switch (h) {
    case hash_name::sha1: return 40;
    case hash_name::sha256: return 64;
    case hash_name::sha512: return 128;
    case hash_name::md5: return 32;
  }
  return 0;
}

inline bool parse_hash_reply(std::string_view text, hash_reply& out) {
  auto field = [&text]() {
    auto sp = text.find(' ');
    auto f = text.substr(0, sp);
    text = sp == std::string_view::npos ? std::string_view{} : text.substr(sp + 1);
    return f;
  };
  auto number = [](std::string_view s, std::uint64_t& v) {
    if (s.empty() || s.size() > 20) return false;
    v = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
      auto d = std::uint64_t(c - '0');
      if (v > (UINT64_MAX - d) / 10) return false;
      v = v * 10 + d;
    }
    return true;
  };
  hash_reply r;
  auto alg = parse_hash_name(field());
  if (!alg) return false;
  r.algorithm = *alg;
  auto range = field();
  auto dash = range.find('-');
  if (dash == std::string_view::npos || !number(range.substr(0, dash), r.start) ||
      !number(range.substr(dash + 1), r.end) || r.end < r.start)
    return false;
  auto hex = field();
  if (hex.size() != hash_hex_length(r.algorithm)) return false;
  for (char c : hex) {
    if (c >= 'A' && c <= 'F') c = char(c + 32);
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    r.hex += c;
  }
  r.path = std::string{text};
  out = std::move(r);
  return true;
}

// A name that may go into a reply or a listing line: CR or LF would end the line and let a file
// name forge replies or listing entries (RFC 959 §4.1.3, the Telnet end-of-line), NUL ends C
// strings in clients.
inline bool name_fits_line(std::string_view name) noexcept {
  return name.find_first_of(std::string_view{"\r\n\0", 3}) == std::string_view::npos;
}

// MLST/MLSD facts a client selected with OPTS MLST (RFC 3659 §7.9); all on by default.
struct mlst_facts {
  bool type = true;
  bool size = true;
  bool modify = true;
  bool perm = true;
  bool unix_mode = true;
};

// "type;size;modify;" (case-insensitive); unknown facts are ignored (RFC 3659 §7.9).
inline mlst_facts parse_mlst_facts(std::string_view arg) {
  mlst_facts f{false, false, false, false, false};
  while (!arg.empty()) {
    auto semi = arg.find(';');
    auto name = arg.substr(0, semi);
    std::string l;
    for (char c : name) l += detail::lower(c);
    if (l == "type") f.type = true;
    else if (l == "size") f.size = true;
    else if (l == "modify") f.modify = true;
    else if (l == "perm") f.perm = true;
    else if (l == "unix.mode") f.unix_mode = true;
    if (semi == std::string_view::npos) break;
    arg.remove_prefix(semi + 1);
  }
  return f;
}

inline std::string format_mlst_facts(const mlst_facts& f, bool marks) {
  std::string s;
  auto add = [&](bool on, const char* n) {
    if (marks) {
      s += n;
      if (on) s += '*';
      s += ';';
    } else if (on) {
      s += n;
      s += ';';
    }
  };
  add(f.type, "type");
  add(f.size, "size");
  add(f.modify, "modify");
  add(f.perm, "perm");
  add(f.unix_mode, "UNIX.mode");
  return s;
}

}  // namespace ferry::ftp
