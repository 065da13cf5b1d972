// Public key lines ("type base64 [comment]", the .pub file format of ssh-keygen(1)) and key
// fingerprints in ssh-keygen -l's format: "SHA256:" + base64 without padding of SHA-256(blob).
#pragma once

#include <ferry/core/bytes.hpp>
#include <ferry/core/error.hpp>
#include <ferry/crypto/sign.hpp>
#include <ferry/ssh/keys/error.hpp>

#include <string>
#include <string_view>

namespace ferry::ssh::keys {

struct public_key_line {
  std::string type;  // as written on the line; must equal the blob's own name
  bytes blob;        // RFC 4253 §6.6
  std::string comment;
};

// Parses one line (leading/trailing blanks allowed). The blob must decode as a key ferry knows.
error_code parse_public_key_line(std::string_view line, public_key_line& out);
// The same, giving the key itself.
error_code parse_public_key_line(std::string_view line, crypto::public_key& key,
                                 std::string* comment = nullptr);

// "type base64[ comment]" with no newline.
std::string format_public_key_line(const crypto::public_key& key, std::string_view comment = {});

// "SHA256:<unpadded base64>" of the blob.
std::string fingerprint_sha256(byte_view blob);
std::string fingerprint_sha256(const crypto::public_key& key);

// ssh-keygen -l output: "<bits> SHA256:<fp> <comment or 'no comment'> (<ED25519|ECDSA|RSA>)".
std::string fingerprint_line(const crypto::public_key& key, std::string_view comment);

// Key size as ssh-keygen reports it (256 for Ed25519, the curve size, the RSA modulus bits).
unsigned key_bits(const crypto::public_key& key);

// RFC 4648 §4 base64 with padding, and a strict decoder (padding optional at the end).
std::string base64_encode(byte_view data, bool pad = true);
bool base64_decode(std::string_view text, bytes& out);

}  // namespace ferry::ssh::keys
