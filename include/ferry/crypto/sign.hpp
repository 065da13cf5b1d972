// Signature keys: Ed25519 (RFC 8032), ECDSA P-256/384/521, RSA PKCS#1 v1.5 with SHA-256/512 (and
// SHA-1 for legacy verification). Signatures cross this interface in a raw form that the SSH layer
// encodes: Ed25519 64 bytes; ECDSA r || s, each curve_size() bytes big-endian; RSA the modulus-sized
// signature. Components are big-endian magnitudes.
#pragma once

#include <ferry/core/bytes.hpp>
#include <ferry/core/error.hpp>
#include <ferry/core/random.hpp>
#include <ferry/core/secure.hpp>
#include <ferry/crypto/hash.hpp>
#include <ferry/crypto/kex.hpp>

struct evp_pkey_st;

namespace ferry::crypto {

enum class key_type { ed25519, ecdsa_p256, ecdsa_p384, ecdsa_p521, rsa };

class public_key {
 public:
  static public_key ed25519(byte_view pub32);            // throws nothing: check valid()
  static public_key ecdsa(curve c, byte_view point);     // SEC1 uncompressed, validated
  static public_key rsa(byte_view n, byte_view e);
  bool valid() const noexcept { return key_ != nullptr; }
  key_type type() const noexcept { return type_; }
  std::size_t bits() const noexcept;

  // hash is ignored for Ed25519; for ECDSA it is the curve's hash (SHA-256/384/512).
  error_code verify(hash_alg hash, byte_view data, byte_view signature) const;

  // Components, for key blobs: ed25519 → the 32-byte key; ecdsa → the SEC1 point; rsa → n and e.
  bytes ed25519_bytes() const;
  bytes ecdsa_point() const;
  bytes rsa_n() const;
  bytes rsa_e() const;

  public_key() = default;
  ~public_key();
  public_key(const public_key&);
  public_key& operator=(const public_key&);
  public_key(public_key&&) noexcept;
  public_key& operator=(public_key&&) noexcept;
  explicit public_key(evp_pkey_st* adopted, key_type t) noexcept : key_(adopted), type_(t) {}
  evp_pkey_st* native() const noexcept { return key_; }

 private:
  evp_pkey_st* key_ = nullptr;
  key_type type_ = key_type::ed25519;
};

class private_key {
 public:
  // Ed25519 and ECDSA keys take their secret from rng; RSA uses OpenSSL's generator.
  static private_key generate(key_type t, random_source& rng, unsigned rsa_bits = 3072);
  static private_key ed25519_from_seed(byte_view seed32);
  static private_key ecdsa_from_scalar(curve c, byte_view d);
  static private_key rsa_from_components(byte_view n, byte_view e, byte_view d, byte_view p,
                                         byte_view q, byte_view iqmp);
  bool valid() const noexcept { return key_ != nullptr; }
  key_type type() const noexcept { return type_; }
  public_key public_part() const;

  error_code sign(hash_alg hash, byte_view data, bytes& signature) const;

  // Secret components, for writing key files.
  secure_bytes ed25519_seed() const;
  secure_bytes ecdsa_scalar() const;
  struct rsa_parts {
    bytes n, e;
    secure_bytes d, p, q, iqmp;
  };
  rsa_parts rsa_components() const;

  private_key() = default;
  ~private_key();
  private_key(private_key&&) noexcept;
  private_key& operator=(private_key&&) noexcept;
  explicit private_key(evp_pkey_st* adopted, key_type t) noexcept : key_(adopted), type_(t) {}
  evp_pkey_st* native() const noexcept { return key_; }

 private:
  evp_pkey_st* key_ = nullptr;
  key_type type_ = key_type::ed25519;
};

}  // namespace ferry::crypto
