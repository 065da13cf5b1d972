// Key-agreement primitives: X25519 (RFC 7748), ECDH on NIST P-256/384/521, finite-field DH with
// the RFC 3526 groups (and any group, for diffie-hellman-group-exchange). Every derive() validates
// the peer's public value first. Shared secrets come back as big-endian magnitudes in wiped memory.
#pragma once

#include <ferry/core/bytes.hpp>
#include <ferry/core/error.hpp>
#include <ferry/core/random.hpp>
#include <ferry/core/secure.hpp>

#include <memory>

struct evp_pkey_st;

namespace ferry::crypto {

enum class curve { p256, p384, p521 };

// Field-element size in bytes: 32, 48, 66.
std::size_t curve_size(curve c) noexcept;

class x25519_keypair {
 public:
  // The private scalar comes from rng (so a fixed RNG gives a reproducible session).
  static x25519_keypair generate(random_source& rng);
  // A known private key (32 bytes, clamped by the function as RFC 7748 §5 says): for test vectors.
  static x25519_keypair from_private(byte_view scalar32);
  byte_view public_key() const noexcept { return {pub_, 32}; }
  // Refuses a peer value of the wrong size and an all-zero shared secret (RFC 7748 §6.1).
  error_code derive(byte_view peer, secure_bytes& shared) const;
  ~x25519_keypair();
  x25519_keypair(x25519_keypair&&) noexcept;
  x25519_keypair& operator=(x25519_keypair&&) noexcept;

 private:
  x25519_keypair() = default;
  evp_pkey_st* key_ = nullptr;
  std::uint8_t pub_[32] = {};
};

class ecdh_keypair {
 public:
  // The private scalar is drawn from rng by rejection sampling until it lies in [1, n-1].
  static ecdh_keypair generate(curve c, random_source& rng);
  // A known private scalar d (big-endian, 1 <= d < n; otherwise throws): for test vectors.
  static ecdh_keypair from_scalar(curve c, byte_view d);
  curve which() const noexcept { return curve_; }
  // SEC1 uncompressed point (0x04 || X || Y).
  byte_view public_key() const noexcept { return pub_; }
  // Refuses points that are malformed, not on the curve or the point at infinity. The secret is
  // the X coordinate (RFC 5656 §4).
  error_code derive(byte_view peer_point, secure_bytes& shared) const;
  ~ecdh_keypair();
  ecdh_keypair(ecdh_keypair&&) noexcept;
  ecdh_keypair& operator=(ecdh_keypair&&) noexcept;

 private:
  ecdh_keypair() = default;
  curve curve_ = curve::p256;
  evp_pkey_st* key_ = nullptr;
  bytes pub_;
};

// A finite-field group (p, g) as big-endian magnitudes.
struct dh_group {
  bytes p;
  bytes g;
  std::size_t bits() const noexcept;
  static const dh_group& group14();  // RFC 3526 2048-bit MODP
  static const dh_group& group16();  // RFC 3526 4096-bit MODP
  static const dh_group& group18();  // RFC 3526 8192-bit MODP
};

class dh_keypair {
 public:
  // private_bits: the exponent size (twice the hash's security level is the usual choice).
  static dh_keypair generate(const dh_group& group, std::size_t private_bits, random_source& rng);
  // A known private exponent x (1 < x < p-1; otherwise throws): for tests.
  static dh_keypair from_private(const dh_group& group, byte_view x);
  byte_view public_value() const noexcept { return pub_; }  // magnitude
  // Refuses a peer value outside 1 < f < p-1.
  error_code derive(byte_view peer_value, secure_bytes& shared) const;
  ~dh_keypair();
  dh_keypair(dh_keypair&&) noexcept;
  dh_keypair& operator=(dh_keypair&&) noexcept;

 private:
  dh_keypair() = default;
  evp_pkey_st* key_ = nullptr;
  bytes pub_;
};

}  // namespace ferry::crypto
