// Password hashing for stored credentials (the users file of auth::static_users).
//
// New hashes are scrypt (RFC 7914) through OpenSSL's EVP_KDF "SCRYPT", written as
//
//   $scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<hash>
//
// with salt (16 bytes) and hash (32 bytes) in standard base64 (RFC 4648 §4) without '=' padding,
// the PHC string format's conventions. Verification also accepts crypt(3) strings ($6$ SHA-512
// crypt, $5$, $y$ yescrypt, $2b$ bcrypt, ...) when ferry was built with libcrypt (crypt_r), so an
// existing /etc/shadow-style hash can be reused. Comparisons are constant time. Costs read from a
// stored hash are capped (limits::auth_scrypt_*), so a crafted entry cannot exhaust the server.
#pragma once

#include <ferry/core/bytes.hpp>
#include <ferry/core/random.hpp>

#include <string>
#include <string_view>

namespace ferry::crypto {

struct scrypt_params {
  unsigned ln = 15;  // N = 2^15: about 32 MiB and tens of milliseconds per check
  unsigned r = 8;
  unsigned p = 1;
};

// A new "$scrypt$..." string for password, salted from rng. Throws std::invalid_argument for
// parameters over the limits (a programming error, not peer input).
std::string hash_password(byte_view password, random_source& rng, scrypt_params params = {});

// True if password matches encoded. False for a mismatch, a malformed string, costs over the
// limits, or a scheme this build cannot check.
bool verify_password(byte_view password, std::string_view encoded);

// Whether verify_password can check strings of this form at all (for validating a users file).
bool password_hash_supported(std::string_view encoded);

// Whether crypt(3) strings are checked (ferry was linked with libcrypt).
bool crypt_supported() noexcept;

}  // namespace ferry::crypto
