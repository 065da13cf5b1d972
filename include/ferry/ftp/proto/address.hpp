// Data-connection addresses: the 227 (PASV) and 229 (EPSV) replies, and the PORT and EPRT
// arguments (RFC 959 §4.1.2, RFC 2428 §2-3). Parsers are strict about numbers (every octet
// 0-255, ports 1-65535) because these values come from the peer and pick where we connect.
#pragma once

#include <ferry/ftp/error.hpp>

#include <arpa/inet.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace ferry::ftp {

struct ipv4_endpoint {
  std::array<std::uint8_t, 4> address{};
  std::uint16_t port = 0;
  bool operator==(const ipv4_endpoint&) const = default;
};

// An EPRT endpoint: family 1 (IPv4, address in the first 4 bytes) or 2 (IPv6), RFC 2428 §2.
struct net_endpoint {
  int family = 1;
  std::array<std::uint8_t, 16> address{};
  std::uint16_t port = 0;
  bool operator==(const net_endpoint&) const = default;
};

namespace detail {

// Reads 1-max_digits decimal digits at s[pos]; fails on none, too many, or a value above max.
inline bool read_number(std::string_view s, std::size_t& pos, unsigned max, std::size_t max_digits,
                        unsigned& v) noexcept {
  std::size_t start = pos;
  v = 0;
  while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
    if (pos - start == max_digits) return false;
    v = v * 10 + unsigned(s[pos] - '0');
    ++pos;
  }
  return pos > start && v <= max;
}

// "h1,h2,h3,h4,p1,p2" at s[pos] (RFC 959 §4.1.2, PORT and 227).
inline bool read_host_port(std::string_view s, std::size_t& pos, ipv4_endpoint& out) noexcept {
  unsigned v[6];
  for (int i = 0; i < 6; ++i) {
    if (i > 0) {
      if (pos >= s.size() || s[pos] != ',') return false;
      ++pos;
    }
    if (!read_number(s, pos, 255, 3, v[i])) return false;
  }
  for (int i = 0; i < 4; ++i) out.address[i] = static_cast<std::uint8_t>(v[i]);
  out.port = static_cast<std::uint16_t>(v[4] * 256 + v[5]);
  return out.port != 0;
}

inline void append_host_port(const ipv4_endpoint& e, std::string& out) {
  for (auto b : e.address) {
    out += std::to_string(b);
    out += ',';
  }
  out += std::to_string(e.port >> 8);
  out += ',';
  out += std::to_string(e.port & 0xff);
}

}  // namespace detail

// The text of a 227 reply. RFC 1123 §4.1.2.6: the format varies between servers, so scan for the
// first digit and read six numbers from there. The address is returned, but a client should
// connect to the control connection's peer instead (a 227 pointing elsewhere is the FTP bounce /
// NAT-confusion problem).
inline error_code parse_pasv_reply(std::string_view text, ipv4_endpoint& out) {
  auto pos = text.find_first_of("0123456789");
  if (pos == std::string_view::npos) return make_error_code(errc::bad_address);
  if (pos > 0 && text[pos - 1] == '-') return make_error_code(errc::bad_address);  // negative
  if (!detail::read_host_port(text, pos, out)) return make_error_code(errc::bad_address);
  // A seventh number ("1,2,3,4,5,6,7") means we did not read what the server meant.
  if (pos < text.size() && (text[pos] == ',' || (text[pos] >= '0' && text[pos] <= '9')))
    return make_error_code(errc::bad_address);
  return {};
}

inline std::string format_pasv_reply_text(const ipv4_endpoint& e) {
  std::string s = "Entering Passive Mode (";
  detail::append_host_port(e, s);
  s += ").";
  return s;
}

// The text of a 229 reply: "Entering Extended Passive Mode (|||port|)" (RFC 2428 §3). The
// delimiter is whatever character follows '(' (33-126, not a digit); address fields are empty.
inline error_code parse_epsv_reply(std::string_view text, std::uint16_t& port) {
  auto open = text.find('(');
  if (open == std::string_view::npos || open + 1 >= text.size())
    return make_error_code(errc::bad_address);
  std::size_t pos = open + 1;
  char d = text[pos];
  if (d < 33 || d > 126 || (d >= '0' && d <= '9')) return make_error_code(errc::bad_address);
  if (text.substr(pos, 3) != std::string(3, d)) return make_error_code(errc::bad_address);
  pos += 3;
  unsigned v = 0;
  if (!detail::read_number(text, pos, 65535, 5, v) || v == 0)
    return make_error_code(errc::bad_address);
  if (text.substr(pos, 2) != std::string{d, ')'}) return make_error_code(errc::bad_address);
  port = static_cast<std::uint16_t>(v);
  return {};
}

inline std::string format_epsv_reply_text(std::uint16_t port) {
  return "Entering Extended Passive Mode (|||" + std::to_string(port) + "|)";
}

// PORT h1,h2,h3,h4,p1,p2 (RFC 959 §4.1.2); the whole argument, nothing around it.
inline error_code parse_port_argument(std::string_view arg, ipv4_endpoint& out) {
  std::size_t pos = 0;
  if (!detail::read_host_port(arg, pos, out) || pos != arg.size())
    return make_error_code(errc::bad_address);
  return {};
}

inline std::string format_port_argument(const ipv4_endpoint& e) {
  std::string s;
  detail::append_host_port(e, s);
  return s;
}

// EPRT <d><net-prt><d><net-addr><d><tcp-port><d> (RFC 2428 §2).
inline error_code parse_eprt_argument(std::string_view arg, net_endpoint& out) {
  if (arg.size() < 2) return make_error_code(errc::bad_address);
  char d = arg[0];
  if (d < 33 || d > 126 || (d >= '0' && d <= '9') || arg.back() != d)
    return make_error_code(errc::bad_address);
  auto body = arg.substr(1, arg.size() - 2);
  auto d1 = body.find(d);
  if (d1 == std::string_view::npos) return make_error_code(errc::bad_address);
  auto d2 = body.find(d, d1 + 1);
  if (d2 == std::string_view::npos || body.find(d, d2 + 1) != std::string_view::npos)
    return make_error_code(errc::bad_address);
  auto prt = body.substr(0, d1);
  auto addr = body.substr(d1 + 1, d2 - d1 - 1);
  auto port = body.substr(d2 + 1);
  if (prt == "1") {
    out.family = 1;
  } else if (prt == "2") {
    out.family = 2;
  } else {
    return make_error_code(errc::bad_address);
  }
  if (addr.empty() || addr.size() >= INET6_ADDRSTRLEN) return make_error_code(errc::bad_address);
  char buf[INET6_ADDRSTRLEN] = {};
  addr.copy(buf, addr.size());
  out.address = {};
  if (inet_pton(out.family == 1 ? AF_INET : AF_INET6, buf, out.address.data()) != 1)
    return make_error_code(errc::bad_address);
  std::size_t pos = 0;
  unsigned v = 0;
  if (!detail::read_number(port, pos, 65535, 5, v) || pos != port.size() || v == 0)
    return make_error_code(errc::bad_address);
  out.port = static_cast<std::uint16_t>(v);
  return {};
}

inline std::string format_eprt_argument(const net_endpoint& e) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(e.family == 1 ? AF_INET : AF_INET6, e.address.data(), buf, sizeof buf);
  return "|" + std::to_string(e.family) + "|" + buf + "|" + std::to_string(e.port) + "|";
}

}  // namespace ferry::ftp
