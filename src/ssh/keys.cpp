// Public key lines, fingerprints and base64 for ssh::keys.
#include <ferry/core/limits.hpp>
#include <ferry/crypto/hash.hpp>
#include <ferry/ssh/keys/public_key.hpp>
#include <ferry/ssh/proto/host_key.hpp>

namespace ferry::ssh::keys {
namespace {

constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int value_of(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

bool blank(char c) { return c == ' ' || c == '\t'; }

std::string_view next_field(std::string_view& s) {
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  std::size_t n = 0;
  while (n < s.size() && !blank(s[n])) ++n;
  auto f = s.substr(0, n);
  s.remove_prefix(n);
  return f;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (blank(s.front()) || s.front() == '\r' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() && (blank(s.back()) || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string base64_encode(byte_view data, bool pad) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    std::uint32_t v = (std::uint32_t{data[i]} << 16) | (std::uint32_t{data[i + 1]} << 8) | data[i + 2];
    out += alphabet[v >> 18];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  if (i < data.size()) {
    std::uint32_t v = std::uint32_t{data[i]} << 16;
    if (i + 1 < data.size()) v |= std::uint32_t{data[i + 1]} << 8;
    out += alphabet[v >> 18];
    out += alphabet[(v >> 12) & 63];
    if (i + 1 < data.size()) out += alphabet[(v >> 6) & 63];
    else if (pad) out += '=';
    if (pad) out += '=';
  }
  return out;
}

bool base64_decode(std::string_view text, bytes& out) {
  out.clear();
  // Padding only at the end, at most two, and only where the length needs it.
  std::size_t pad = 0;
  while (!text.empty() && text.back() == '=' && pad < 2) {
    text.remove_suffix(1);
    ++pad;
  }
  if (pad && (text.size() + pad) % 4 != 0) return false;
  if (text.size() % 4 == 1) return false;
  out.reserve(text.size() / 4 * 3 + 2);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = value_of(c);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(std::uint8_t(acc >> bits));
    }
  }
  // Leftover bits must be zero (a canonical encoding).
  return (acc & ((1u << bits) - 1)) == 0;
}

error_code parse_public_key_line(std::string_view line, public_key_line& out) {
  if (line.size() > limits::auth_max_line) return errc::too_large;
  line = trim(line);
  auto type = next_field(line);
  auto b64 = next_field(line);
  if (type.empty() || b64.empty()) return errc::not_a_key;
  bytes blob;
  if (!base64_decode(b64, blob)) return errc::bad_base64;
  crypto::public_key key;
  if (auto ec = ssh::proto::decode_public_key(blob, key)) {
    if (ec == ferry::errc::unsupported) return errc::unsupported_key_type;
    return errc::malformed;
  }
  if (ssh::proto::key_blob_name(key.type()) != type) return errc::malformed;
  out.type = std::string{type};
  out.blob = std::move(blob);
  out.comment = std::string{trim(line)};
  return {};
}

error_code parse_public_key_line(std::string_view line, crypto::public_key& key,
                                 std::string* comment) {
  public_key_line l;
  if (auto ec = parse_public_key_line(line, l)) return ec;
  if (auto ec = ssh::proto::decode_public_key(l.blob, key)) return errc::malformed;
  if (comment) *comment = std::move(l.comment);
  return {};
}

std::string format_public_key_line(const crypto::public_key& key, std::string_view comment) {
  std::string out{ssh::proto::key_blob_name(key.type())};
  out += ' ';
  out += base64_encode(ssh::proto::encode_public_key(key));
  if (!comment.empty()) {
    out += ' ';
    out += comment;
  }
  return out;
}

std::string fingerprint_sha256(byte_view blob) {
  auto d = crypto::sha256(blob);
  return "SHA256:" + base64_encode(d, false);
}

std::string fingerprint_sha256(const crypto::public_key& key) {
  return fingerprint_sha256(ssh::proto::encode_public_key(key));
}

unsigned key_bits(const crypto::public_key& key) {
  switch (key.type()) {
    case crypto::key_type::ed25519: return 256;
    case crypto::key_type::ecdsa_p256: return 256;
    case crypto::key_type::ecdsa_p384: return 384;
    case crypto::key_type::ecdsa_p521: return 521;
    case crypto::key_type::rsa: return static_cast<unsigned>(key.bits());
  }
  return 0;
}

std::string fingerprint_line(const crypto::public_key& key, std::string_view comment) {
  std::string out = std::to_string(key_bits(key)) + " " + fingerprint_sha256(key) + " ";
  out += comment.empty() ? std::string_view{"no comment"} : comment;
  switch (key.type()) {
    case crypto::key_type::ed25519: out += " (ED25519)"; break;
    case crypto::key_type::rsa: out += " (RSA)"; break;
    default: out += " (ECDSA)"; break;
  }
  return out;
}

}  // namespace ferry::ssh::keys
