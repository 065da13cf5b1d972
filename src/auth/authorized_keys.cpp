#include <ferry/auth/authorized_keys.hpp>
#include <ferry/core/limits.hpp>
#include <ferry/core/text.hpp>
#include <ferry/core/wire.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <ctime>

#include <arpa/inet.h>

namespace ferry::auth {


namespace {

// A line without options starts with the key type (sshd(8): options never look like one).
bool looks_like_key_type(std::string_view token) {
  for (std::string_view p : {"ssh-", "ecdsa-sha2-", "sk-ssh-", "sk-ecdsa-sha2-"}) {
    if (token.substr(0, p.size()) == p) return true;
  }
  return false;
}

std::vector<std::string> split_commas(std::string_view s) {
  std::vector<std::string> out;
  while (true) {
    auto c = s.find(',');
    out.emplace_back(s.substr(0, c));
    if (c == std::string_view::npos) break;
    s.remove_prefix(c + 1);
  }
  return out;
}

error_code set_option(key_options& o, std::string_view name, const std::optional<std::string>& v) {
  struct flag {
    std::string_view name;
    bool key_options::*field;
  };
  static constexpr std::array<flag, 4> plain{{{"restrict", &key_options::restrict},
                                              {"cert-authority", &key_options::cert_authority},
                                              {"no-touch-required", &key_options::no_touch_required},
                                              {"verify-required", &key_options::verify_required}}};
  struct toggle {
    std::string_view on, off;
    std::optional<bool> key_options::*field;
  };
  static constexpr std::array<toggle, 5> toggles{{
      {"pty", "no-pty", &key_options::pty},
      {"port-forwarding", "no-port-forwarding", &key_options::port_forwarding},
      {"agent-forwarding", "no-agent-forwarding", &key_options::agent_forwarding},
      {"x11-forwarding", "no-x11-forwarding", &key_options::x11_forwarding},
      {"user-rc", "no-user-rc", &key_options::user_rc},
  }};
  for (const auto& f : plain) {
    if (text::iequals(name, f.name)) {
      if (v) return errc::bad_option_value;
      o.*(f.field) = true;
      return {};
    }
  }
  for (const auto& t : toggles) {
    if (text::iequals(name, t.on) || text::iequals(name, t.off)) {
      if (v) return errc::bad_option_value;
      o.*(t.field) = text::iequals(name, t.on);
      return {};
    }
  }
  static constexpr std::array<std::string_view, 8> valued{
      "command", "environment", "expiry-time", "from", "permitopen", "permitlisten",
      "principals", "tunnel"};
  bool known = std::any_of(valued.begin(), valued.end(),
                           [&](std::string_view n) { return text::iequals(name, n); });
  if (!known) return errc::unknown_option;
  if (!v) return errc::bad_option_value;
  if (text::iequals(name, "command")) {
    o.command = *v;
  } else if (text::iequals(name, "environment")) {
    auto eq = v->find('=');
    if (eq == 0 || eq == std::string::npos) return errc::bad_option_value;
    o.environment.push_back(*v);
  } else if (text::iequals(name, "expiry-time")) {
    auto t = parse_expiry_time(*v);
    if (!t) return errc::bad_option_value;
    // Several expiry-time options: the earliest wins, as in sshd.
    if (!o.expiry || *t < *o.expiry) o.expiry = t;
  } else if (text::iequals(name, "from")) {
    for (auto& p : split_commas(*v)) {
      std::string_view body = p;
      if (!body.empty() && body[0] == '!') body.remove_prefix(1);
      if (body.empty()) return errc::bad_pattern;
      if (body.find('/') != std::string_view::npos && !valid_cidr(body)) return errc::bad_pattern;
      o.from.push_back(std::move(p));
    }
  } else if (text::iequals(name, "permitopen")) {
    if (v->find(':') == std::string::npos) return errc::bad_option_value;
    o.permit_open.push_back(*v);
  } else if (text::iequals(name, "permitlisten")) {
    o.permit_listen.push_back(*v);
  } else if (text::iequals(name, "principals")) {
    o.principals = *v;
  } else {
    o.tunnel = *v;
  }
  return {};
}

// Parses "name[="value"],name..." up to the first unquoted blank; advances s past it.
error_code parse_options(std::string_view& s, key_options& o) {
  std::size_t i = 0;
  while (true) {
    auto start = i;
    while (i < s.size() &&
           (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '-' || s[i] == '_')) {
      ++i;
    }
    auto name = s.substr(start, i - start);
    if (name.empty()) return errc::malformed_line;
    std::optional<std::string> value;
    if (i < s.size() && s[i] == '=') {
      if (++i >= s.size() || s[i] != '"') return errc::bad_option_value;
      ++i;
      std::string v;
      bool closed = false;
      while (i < s.size()) {
        if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == '"') {
          v += '"';
          i += 2;
        } else if (s[i] == '"') {
          ++i;
          closed = true;
          break;
        } else {
          v += s[i++];
        }
      }
      if (!closed) return errc::bad_option_value;
      value = std::move(v);
    }
    if (auto ec = set_option(o, name, value)) return ec;
    if (i < s.size() && s[i] == ',') {
      ++i;
      continue;
    }
    if (i < s.size() && !text::is_blank(s[i])) return errc::malformed_line;
    s.remove_prefix(i);
    return {};
  }
}

std::string_view next_token(std::string_view& s) {
  s = text::trim(s);
  auto end = std::find_if(s.begin(), s.end(), text::is_blank);
  auto tok = s.substr(0, static_cast<std::size_t>(end - s.begin()));
  s.remove_prefix(tok.size());
  return tok;
}

// Parses a numeric address; v4-mapped IPv6 addresses become IPv4. Returns the family or 0.
int parse_address(std::string_view text, std::array<std::uint8_t, 16>& out) {
  std::string s{text};
  if (auto pct = s.find('%'); pct != std::string::npos) s.resize(pct);  // IPv6 zone
  if (::inet_pton(AF_INET, s.c_str(), out.data()) == 1) return AF_INET;
  if (::inet_pton(AF_INET6, s.c_str(), out.data()) == 1) {
    static constexpr std::uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(out.data(), mapped, 12) == 0) {
      std::memmove(out.data(), out.data() + 12, 4);
      return AF_INET;
    }
    return AF_INET6;
  }
  return 0;
}

bool parse_cidr(std::string_view p, int& family, std::array<std::uint8_t, 16>& net,
                unsigned& bits) {
  auto slash = p.find('/');
  if (slash == std::string_view::npos) return false;
  auto len = p.substr(slash + 1);
  if (len.empty() || len.size() > 3) return false;
  bits = 0;
  for (char c : len) {
    if (c < '0' || c > '9') return false;
    bits = bits * 10 + static_cast<unsigned>(c - '0');
  }
  std::string a{p.substr(0, slash)};
  if (::inet_pton(AF_INET, a.c_str(), net.data()) == 1) family = AF_INET;
  else if (::inet_pton(AF_INET6, a.c_str(), net.data()) == 1) family = AF_INET6;
  else return false;
  unsigned max = family == AF_INET ? 32 : 128;
  if (bits > max) return false;
  // Host bits must be zero, as OpenSSH's addr_match_cidr_list insists.
  for (unsigned b = bits; b < max; ++b) {
    if (net[b / 8] & (0x80u >> (b % 8))) return false;
  }
  return true;
}

bool cidr_contains(std::string_view pattern, std::string_view address) {
  int family = 0;
  std::array<std::uint8_t, 16> net{};
  unsigned bits = 0;
  if (!parse_cidr(pattern, family, net, bits)) return false;
  std::array<std::uint8_t, 16> addr{};
  if (parse_address(address, addr) != family) return false;
  for (unsigned b = 0; b < bits; ++b) {
    auto mask = static_cast<std::uint8_t>(0x80u >> (b % 8));
    if ((net[b / 8] & mask) != (addr[b / 8] & mask)) return false;
  }
  return true;
}

}  // namespace

bool valid_cidr(std::string_view pattern) {
  int family = 0;
  std::array<std::uint8_t, 16> net{};
  unsigned bits = 0;
  return parse_cidr(pattern, family, net, bits);
}

bool match_glob(std::string_view pattern, std::string_view text) {
  std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  auto lower = [](char c) { return std::tolower(static_cast<unsigned char>(c)); };
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || lower(pattern[p]) == lower(text[t]))) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool match_from(const std::vector<std::string>& patterns, std::string_view remote_address,
                std::string_view remote_host) {
  bool positive = false;
  for (const auto& raw : patterns) {
    std::string_view p = raw;
    bool negated = !p.empty() && p[0] == '!';
    if (negated) p.remove_prefix(1);
    bool hit;
    if (p.find('/') != std::string_view::npos) {
      hit = !remote_address.empty() && cidr_contains(p, remote_address);
    } else {
      hit = (!remote_address.empty() && match_glob(p, remote_address)) ||
            (!remote_host.empty() && match_glob(p, remote_host));
    }
    if (hit && negated) return false;  // a negated match denies outright
    if (hit) positive = true;
  }
  return positive;
}

std::optional<std::chrono::system_clock::time_point> parse_expiry_time(std::string_view s) {
  bool utc = !s.empty() && (s.back() == 'Z' || s.back() == 'z');
  if (utc) s.remove_suffix(1);
  if (s.size() != 8 && s.size() != 12 && s.size() != 14) return std::nullopt;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  auto num = [&](std::size_t at, std::size_t n) {
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) v = v * 10 + (s[i] - '0');
    return v;
  };
  std::tm tm{};
  tm.tm_year = num(0, 4) - 1900;
  tm.tm_mon = num(4, 2) - 1;
  tm.tm_mday = num(6, 2);
  if (s.size() >= 12) {
    tm.tm_hour = num(8, 2);
    tm.tm_min = num(10, 2);
  }
  if (s.size() == 14) tm.tm_sec = num(12, 2);
  if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 60 || tm.tm_year < 70) {
    return std::nullopt;
  }
  tm.tm_isdst = -1;
  std::time_t t = utc ? ::timegm(&tm) : std::mktime(&tm);
  if (t == static_cast<std::time_t>(-1)) return std::nullopt;
  return std::chrono::system_clock::from_time_t(t);
}

std::string_view key_type_of_algorithm(std::string_view algorithm) {
  // RFC 8332 §3: rsa-sha2-256 and rsa-sha2-512 are signature algorithms over ssh-rsa keys.
  if (algorithm == "rsa-sha2-256" || algorithm == "rsa-sha2-512") return "ssh-rsa";
  return algorithm;
}

error_code parse_authorized_key(std::string_view line, authorized_key& out) {
  out = {};
  if (line.size() > limits::auth_max_line) return errc::line_too_long;
  line = text::trim(line);
  if (line.empty() || line.front() == '#') return {};
  std::string_view rest = line;
  {
    std::string_view probe = rest;
    if (!looks_like_key_type(next_token(probe))) {
      if (auto ec = parse_options(rest, out.options)) {
        out = {};
        return ec;
      }
    }
  }
  auto type = next_token(rest);
  auto b64 = next_token(rest);
  if (type.empty() || b64.empty() || !looks_like_key_type(type)) {
    out = {};
    return errc::malformed_line;
  }
  if (!text::base64_decode(b64, out.blob)) {
    out = {};
    return errc::bad_base64;
  }
  // The blob names its own type first (RFC 4253 §6.6); it must be the one the line claims.
  wire::reader r{out.blob};
  if (r.string_view(limits::max_name_length) != type || !r.ok()) {
    out = {};
    return errc::key_type_mismatch;
  }
  out.type = std::string{type};
  out.comment = std::string{text::trim(rest)};
  return {};
}

std::vector<authorized_key> parse_authorized_keys(
    std::string_view text, std::vector<std::pair<std::size_t, error_code>>* errors) {
  std::vector<authorized_key> out;
  std::size_t number = 0;
  while (!text.empty()) {
    ++number;
    auto nl = text.find('\n');
    auto line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    authorized_key k;
    if (auto ec = parse_authorized_key(line, k)) {
      if (errors) errors->emplace_back(number, ec);
      continue;
    }
    if (!k.type.empty()) out.push_back(std::move(k));
  }
  return out;
}

bool options_allow(const key_options& o, const request& r) {
  if (o.expiry && r.now > *o.expiry) return false;
  if (!o.from.empty() && !match_from(o.from, r.remote_address, r.remote_host)) return false;
  return true;
}

void apply_options(const key_options& o, permissions& perms) {
  if (o.restrict) {
    perms.pty = perms.port_forwarding = perms.agent_forwarding = perms.x11_forwarding =
        perms.user_rc = false;
  }
  if (o.pty) perms.pty = *o.pty;
  if (o.port_forwarding) perms.port_forwarding = *o.port_forwarding;
  if (o.agent_forwarding) perms.agent_forwarding = *o.agent_forwarding;
  if (o.x11_forwarding) perms.x11_forwarding = *o.x11_forwarding;
  if (o.user_rc) perms.user_rc = *o.user_rc;
  if (o.command) perms.forced_command = o.command;
  perms.permit_open.insert(perms.permit_open.end(), o.permit_open.begin(), o.permit_open.end());
  perms.environment.insert(perms.environment.end(), o.environment.begin(), o.environment.end());
}

void authorized_keys_authenticator::add_user(std::string name, grant account,
                                             std::vector<authorized_key> keys) {
  account.user = name;
  auto& a = users_[std::move(name)];
  a.base = std::move(account);
  a.keys.insert(a.keys.end(), std::make_move_iterator(keys.begin()),
                std::make_move_iterator(keys.end()));
}

void authorized_keys_authenticator::add_user(
    std::string name, grant account, std::string_view authorized_keys_text,
    std::vector<std::pair<std::size_t, error_code>>* errors) {
  add_user(std::move(name), std::move(account), parse_authorized_keys(authorized_keys_text, errors));
}

method_set authorized_keys_authenticator::methods(const request&) const {
  // Offered to everyone, known or not, so the answer does not tell which users exist.
  return {method::publickey};
}

const authorized_key* authorized_keys_authenticator::find(const request& r,
                                                          std::string_view algorithm,
                                                          byte_view blob,
                                                          const user_keys*& acct) const {
  auto it = users_.find(r.user);
  if (it == users_.end()) return nullptr;
  auto type = key_type_of_algorithm(algorithm);
  for (const auto& k : it->second.keys) {
    if (k.options.cert_authority) continue;
    if (k.type != type) continue;
    if (!std::equal(k.blob.begin(), k.blob.end(), blob.begin(), blob.end())) continue;
    if (!options_allow(k.options, r)) continue;
    acct = &it->second;
    return &k;
  }
  return nullptr;
}

bool authorized_keys_authenticator::accept_public_key(const request& r,
                                                      std::string_view algorithm,
                                                      byte_view blob) const {
  const user_keys* a = nullptr;
  return find(r, algorithm, blob, a) != nullptr;
}

result authorized_keys_authenticator::authorize_public_key(const request& r,
                                                           std::string_view algorithm,
                                                           byte_view blob) const {
  const user_keys* a = nullptr;
  auto* k = find(r, algorithm, blob, a);
  if (!k) return std::nullopt;
  grant g = a->base;
  apply_options(k->options, g.perms);
  return g;
}

}  // namespace ferry::auth
