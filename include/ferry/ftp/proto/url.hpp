// ftp:// and ftps:// URLs as typed on a command line (RFC 1738 §3.2, RFC 3986 §3.2 for the
// authority, ftps:// = implicit FTPS): ftp://[user[:password]@]host[:port][/path][;type=a|i|d].
//
// Sans-I/O and strict, since every decoded part ends up on the control connection: raw control
// characters, spaces, '?' and '#' are refused, percent escapes must be complete, and no decoded
// part may hold CR, LF or NUL (a "%0d%0aDELE x" in a URL must not become a second command).
//
// The path is what follows the '/' after the authority, decoded: "ftp://h/pub/a" names "pub/a",
// relative to the login directory (RFC 1738 §3.2.2); "ftp://h/%2Fetc/a" or "ftp://h//etc/a" name
// the absolute "/etc/a".
#pragma once

#include <ferry/core/limits.hpp>
#include <ferry/ftp/error.hpp>

#include <arpa/inet.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ferry::ftp {

enum class url_scheme { ftp, ftps };

struct url {
  url_scheme scheme = url_scheme::ftp;
  std::optional<std::string> user;      // decoded; absent: none in the URL
  std::optional<std::string> password;  // decoded; absent: none in the URL
  std::string host;                     // a name, an IPv4 literal, or an IPv6 literal (no brackets)
  bool ipv6_literal = false;
  std::uint16_t port = 21;  // 21 for ftp://, 990 for ftps:// unless given
  bool port_given = false;
  std::string path;  // decoded (see above); empty: the login directory
  char type = 0;     // RFC 1738 §3.2.2 ";type=" code: 'a', 'i', 'd', or 0 when absent

  // Whether the path ends in '/' (or is empty): it names a directory.
  bool names_directory() const noexcept { return path.empty() || path.back() == '/'; }
  // The last path component ("" for a directory URL).
  std::string_view file_name() const noexcept {
    std::string_view p = path;
    auto slash = p.rfind('/');
    return slash == std::string_view::npos ? p : p.substr(slash + 1);
  }

  friend bool operator==(const url&, const url&) = default;
};

namespace detail {

inline int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

inline bool url_unreserved(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

}  // namespace detail

// Decodes %XX escapes; refuses an incomplete escape and any decoded CR, LF or NUL.
inline error_code percent_decode(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return make_error_code(errc::bad_url);
      int hi = detail::hex_value(in[i + 1]), lo = detail::hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return make_error_code(errc::bad_url);
      c = char(hi * 16 + lo);
      i += 2;
    }
    if (c == '\r' || c == '\n' || c == '\0') return make_error_code(errc::forbidden_character);
    out += c;
  }
  return {};
}

// Escapes everything but unreserved characters (and '/' when keep_slash) as %XX.
inline std::string percent_encode(std::string_view in, bool keep_slash) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(in.size());
  for (char c : in) {
    if (detail::url_unreserved(c) || (keep_slash && c == '/')) {
      out += c;
    } else {
      auto b = static_cast<unsigned char>(c);
      out += '%';
      out += hex[b >> 4];
      out += hex[b & 15];
    }
  }
  return out;
}

inline error_code parse_url(std::string_view text, url& out) {
  auto bad = [] { return make_error_code(errc::bad_url); };
  if (text.size() > limits::ftp_max_url) return make_error_code(errc::line_too_long);
  // Raw bytes: no control characters, no space, no DEL (RFC 3986 §2); no query or fragment,
  // which FTP URLs do not have (a '?' or '#' in a name is written %3F / %23).
  for (char c : text) {
    auto b = static_cast<unsigned char>(c);
    if (c == '\r' || c == '\n' || c == '\0') return make_error_code(errc::forbidden_character);
    if (b < 0x21 || b == 0x7f || c == '?' || c == '#') return bad();
  }
  url u;
  auto sep = text.find("://");
  if (sep == std::string_view::npos) return bad();
  auto scheme = text.substr(0, sep);
  auto lower = [](std::string_view s) {
    std::string l{s};
    for (auto& ch : l)
      if (ch >= 'A' && ch <= 'Z') ch = char(ch + 32);
    return l;
  };
  if (lower(scheme) == "ftp") {
    u.scheme = url_scheme::ftp;
    u.port = 21;
  } else if (lower(scheme) == "ftps") {
    u.scheme = url_scheme::ftps;
    u.port = 990;
  } else {
    return bad();
  }
  auto rest = text.substr(sep + 3);
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  std::string_view raw_path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);

  // userinfo: up to the last '@' (an unescaped '@' in a password is common enough to accept).
  auto at = authority.rfind('@');
  if (at != std::string_view::npos) {
    auto userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    auto colon = userinfo.find(':');
    std::string user, password;
    if (auto ec = percent_decode(userinfo.substr(0, colon), user)) return ec;
    if (user.empty()) return bad();
    u.user = std::move(user);
    if (colon != std::string_view::npos) {
      if (auto ec = percent_decode(userinfo.substr(colon + 1), password)) return ec;
      u.password = std::move(password);
    }
  }

  // host: [IPv6] or a registered name / IPv4 literal (RFC 3986 §3.2.2); no zone identifiers.
  std::string_view port_text;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return bad();
    std::string literal{authority.substr(1, close - 1)};
    in6_addr a6{};
    if (literal.empty() || ::inet_pton(AF_INET6, literal.c_str(), &a6) != 1) return bad();
    u.host = std::move(literal);
    u.ipv6_literal = true;
    auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad();
      port_text = after.substr(1);
      has_port = true;
    }
  } else {
    auto colon = authority.find(':');
    auto host = authority.substr(0, colon);
    if (host.empty()) return bad();
    for (char c : host)
      if (!detail::url_unreserved(c)) return bad();
    u.host = std::string{host};
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      has_port = true;
    }
  }
  if (has_port) {
    if (port_text.empty() || port_text.size() > 5) return bad();
    std::uint32_t p = 0;
    for (char c : port_text) {
      if (c < '0' || c > '9') return bad();
      p = p * 10 + std::uint32_t(c - '0');
    }
    if (p == 0 || p > 65535) return bad();
    u.port = std::uint16_t(p);
    u.port_given = true;
  }

  // RFC 1738 §3.2.2: an optional ";type=<a|i|d>" ends the path.
  auto semi = raw_path.rfind(";type=");
  if (semi != std::string_view::npos) {
    auto code = raw_path.substr(semi + 6);
    if (code.size() != 1) return bad();
    char t = code[0];
    if (t >= 'A' && t <= 'Z') t = char(t + 32);
    if (t != 'a' && t != 'i' && t != 'd') return bad();
    u.type = t;
    raw_path = raw_path.substr(0, semi);
  }
  if (auto ec = percent_decode(raw_path, u.path)) return ec;
  out = std::move(u);
  return {};
}

// The URL as text (the inverse of parse_url; with include_password false the password is left out,
// for messages).
inline std::string format_url(const url& u, bool include_password = true) {
  std::string s = u.scheme == url_scheme::ftps ? "ftps://" : "ftp://";
  if (u.user) {
    s += percent_encode(*u.user, false);
    if (u.password && include_password) s += ":" + percent_encode(*u.password, false);
    s += '@';
  }
  s += u.ipv6_literal ? "[" + u.host + "]" : u.host;
  if (u.port_given) s += ":" + std::to_string(u.port);
  if (!u.path.empty() || u.type) {
    s += '/';
    // A leading '/' (an absolute path) is escaped, so that it is not read as the separator.
    std::string_view p = u.path;
    if (!p.empty() && p.front() == '/') {
      s += "%2F";
      p.remove_prefix(1);
    }
    s += percent_encode(p, true);
  }
  if (u.type) {
    s += ";type=";
    s += u.type;
  }
  return s;
}

}  // namespace ferry::ftp
