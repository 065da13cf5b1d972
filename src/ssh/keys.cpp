// Public key lines, fingerprints and base64 for ssh::keys.
#include <ferry/core/limits.hpp>
#include <ferry/core/text.hpp>
#include <ferry/crypto/hash.hpp>
#include <ferry/ssh/keys/public_key.hpp>
#include <ferry/ssh/proto/host_key.hpp>

namespace ferry::ssh::keys {

using text::next_field;
using text::trim;

// The one base64 of the project (core/text) under the names this module exports.
std::string base64_encode(byte_view data, bool pad) { return text::base64_encode(data, pad); }
bool base64_decode(std::string_view t, bytes& out) { return text::base64_decode(t, out); }

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
