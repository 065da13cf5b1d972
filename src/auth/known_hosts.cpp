// known_hosts parsing, matching (plain, wildcard, negated, hashed) and the host key policies.
#include <ferry/auth/authorized_keys.hpp>
#include <ferry/auth/known_hosts.hpp>
#include <ferry/core/limits.hpp>
#include <ferry/core/text.hpp>
#include <ferry/crypto/hash.hpp>
#include <ferry/crypto/random.hpp>
#include <ferry/ssh/error.hpp>
#include <ferry/ssh/proto/host_key.hpp>

#include <fstream>
#include <mutex>

namespace ferry::auth {
namespace {

constexpr std::size_t sha1_size = 20;
constexpr std::string_view hash_magic = "|1|";  // sshd(8): hashed hostnames start with this

using text::next_field;
using text::trim;

std::array<std::uint8_t, sha1_size> hmac_sha1(byte_view key, std::string_view name) {
  crypto::hmac h{crypto::hash_alg::sha1, key};
  h.update(as_bytes(name));
  std::array<std::uint8_t, sha1_size> out{};
  h.final(out);
  return out;
}

std::mutex& file_mutex() {
  static std::mutex m;
  return m;
}

}  // namespace

error_code parse_known_hosts_line(std::string_view line, known_host_entry& out, bool& empty) {
  empty = false;
  out = known_host_entry{};
  if (line.size() > limits::known_hosts_max_line) return errc::line_too_long;
  line = trim(line);
  if (line.empty() || line.front() == '#') {
    empty = true;
    return {};
  }
  auto first = next_field(line);
  if (!first.empty() && first.front() == '@') {
    if (first == "@revoked") out.marker = known_host_marker::revoked;
    else if (first == "@cert-authority") out.marker = known_host_marker::cert_authority;
    else return errc::malformed_line;
    first = next_field(line);
  }
  auto type = next_field(line);
  auto b64 = next_field(line);
  if (first.empty() || type.empty() || b64.empty()) return errc::malformed_line;
  if (first.substr(0, hash_magic.size()) == hash_magic) {
    auto rest = first.substr(hash_magic.size());
    auto bar = rest.find('|');
    if (bar == std::string_view::npos) return errc::malformed_line;
    if (!text::base64_decode(rest.substr(0, bar), out.salt) ||
        !text::base64_decode(rest.substr(bar + 1), out.hash))
      return errc::bad_base64;
    if (out.salt.size() != sha1_size || out.hash.size() != sha1_size) return errc::malformed_line;
    out.hashed = true;
  } else {
    std::string_view p = first;
    while (true) {
      auto comma = p.find(',');
      auto pat = p.substr(0, comma);
      if (pat.empty() || pat == "!") return errc::bad_pattern;
      out.patterns.emplace_back(pat);
      if (out.patterns.size() > limits::max_names) return errc::bad_pattern;
      if (comma == std::string_view::npos) break;
      p.remove_prefix(comma + 1);
    }
  }
  if (!text::base64_decode(b64, out.blob)) return errc::bad_base64;
  // The blob names its own type; it must be the one on the line.
  ssh::proto::key_blob_header h;
  if (wire::decode(out.blob, h) || h.name != type) return errc::key_type_mismatch;
  out.key_type = std::string{type};
  out.comment = std::string{trim(line)};
  return {};
}

std::string known_host_name(std::string_view host, std::uint16_t port) {
  if (port == 22) return std::string{host};
  return "[" + std::string{host} + "]:" + std::to_string(port);
}

bool known_host_matches(const known_host_entry& e, std::string_view name) {
  if (e.hashed) {
    auto h = hmac_sha1(e.salt, name);
    return crypto::constant_time_equal(h, e.hash);
  }
  bool positive = false;
  for (const auto& p : e.patterns) {
    if (!p.empty() && p.front() == '!') {
      if (match_glob(std::string_view{p}.substr(1), name)) return false;
    } else if (match_glob(p, name)) {
      positive = true;
    }
  }
  return positive;
}

std::string format_known_host_line(std::string_view name, byte_view blob, bool hash,
                                   random_source* rng) {
  ssh::proto::key_blob_header h;
  (void)wire::decode(blob, h);
  std::string out;
  if (hash) {
    std::array<std::uint8_t, sha1_size> salt{};
    (rng ? *rng : crypto::system_random()).fill(salt);
    out = std::string{hash_magic} + text::base64_encode(salt) + "|" +
          text::base64_encode(hmac_sha1(salt, name));
  } else {
    out = std::string{name};
  }
  out += ' ';
  out += h.name;
  out += ' ';
  out += text::base64_encode(blob);
  return out;
}

void known_hosts::load(std::string_view text, std::vector<std::pair<std::size_t, error_code>>* errors) {
  std::size_t n = 0;
  while (!text.empty() && n < limits::known_hosts_max_lines) {
    ++n;
    auto nl = text.find('\n');
    auto line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    known_host_entry e;
    bool empty = false;
    if (auto ec = parse_known_hosts_line(line, e, empty)) {
      if (errors) errors->emplace_back(n, ec);
      continue;
    }
    if (empty) continue;
    e.line = n;
    entries_.push_back(std::move(e));
  }
}

error_code known_hosts::load_file(const std::filesystem::path& path,
                                  std::vector<std::pair<std::size_t, error_code>>* errors) {
  std::ifstream in{path, std::ios::binary};
  if (!in) return {};
  std::string text{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
  load(text, errors);
  return {};
}

known_hosts::status known_hosts::check(std::string_view host, std::uint16_t port,
                                       byte_view blob) const {
  const auto name = known_host_name(host, port);
  bool listed = false;
  bool matched = false;
  for (const auto& e : entries_) {
    const bool same = e.blob.size() == blob.size() && std::equal(e.blob.begin(), e.blob.end(), blob.begin());
    if (e.marker == known_host_marker::revoked) {
      if (same) return status::revoked;
      continue;
    }
    if (e.marker == known_host_marker::cert_authority) continue;
    if (!known_host_matches(e, name)) continue;
    listed = true;
    if (same) matched = true;
  }
  if (matched) return status::match;
  return listed ? status::mismatch : status::not_found;
}

error_code verify_known_host(const std::filesystem::path& path, std::string_view host,
                             std::uint16_t port, byte_view blob, host_key_policy policy,
                             bool hash_new_entries) {
  const auto refuse = make_error_code(ssh::disconnect_reason::host_key_not_verifiable);
  std::lock_guard lock{file_mutex()};
  known_hosts kh;
  kh.load_file(path);
  switch (kh.check(host, port, blob)) {
    case known_hosts::status::match: return {};
    case known_hosts::status::revoked: return refuse;
    case known_hosts::status::mismatch: return policy == host_key_policy::off ? error_code{} : refuse;
    case known_hosts::status::not_found: break;
  }
  if (policy == host_key_policy::strict) return refuse;
  if (policy == host_key_policy::off) return {};
  // A file whose last line has no newline must not have the new entry glued onto it.
  bool need_newline = false;
  {
    std::ifstream in{path, std::ios::binary | std::ios::ate};
    if (in && in.tellg() > 0) {
      in.seekg(-1, std::ios::end);
      need_newline = in.get() != '\n';
    }
  }
  std::ofstream out{path, std::ios::binary | std::ios::app};
  if (need_newline) out << '\n';
  out << format_known_host_line(known_host_name(host, port), blob, hash_new_entries) << '\n';
  if (!out) return refuse;
  return {};
}

ssh::proto::host_key_verifier known_hosts_verifier(std::filesystem::path path, std::string host,
                                                   std::uint16_t port, host_key_policy policy,
                                                   bool hash_new_entries) {
  return [path = std::move(path), host = std::move(host), port, policy,
          hash_new_entries](const ssh::proto::host_key_info& k) {
    return verify_known_host(path, host, port, k.blob, policy, hash_new_entries);
  };
}

}  // namespace ferry::auth
