// Internal helpers shared by the OpenSSL wrappers in src/crypto: algorithm objects fetched once,
// owning pointers, and error reporting. Never installed, never included outside src/crypto.
#pragma once

#include <ferry/core/bytes.hpp>
#include <ferry/core/error.hpp>
#include <ferry/core/secure.hpp>
#include <ferry/crypto/hash.hpp>
#include <ferry/crypto/kex.hpp>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include <memory>

namespace ferry::crypto::detail {

// Throws system_error(crypto_failure): used where OpenSSL refuses something that only a broken
// library or a caller's precondition violation can cause (wrong key size, out of memory).
[[noreturn]] void throw_crypto(const char* what);

inline void check(bool ok, const char* what) {
  if (!ok) throw_crypto(what);
}

// Algorithms are fetched once (explicit fetches avoid the implicit fetch and its lock on every
// init call) and live for the process.
const EVP_MD* md(hash_alg a);
const EVP_CIPHER* cipher(const char* name);  // "AES-128-CTR", "AES-256-GCM", "ChaCha20", ...
EVP_MAC* mac(const char* name);              // "POLY1305"

struct bn_free {
  void operator()(BIGNUM* p) const noexcept { BN_clear_free(p); }
};
struct bn_ctx_free {
  void operator()(BN_CTX* p) const noexcept { BN_CTX_free(p); }
};
struct pkey_free {
  void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
};
struct pkey_ctx_free {
  void operator()(EVP_PKEY_CTX* p) const noexcept { EVP_PKEY_CTX_free(p); }
};
struct md_ctx_free {
  void operator()(EVP_MD_CTX* p) const noexcept { EVP_MD_CTX_free(p); }
};
struct cipher_ctx_free {
  void operator()(EVP_CIPHER_CTX* p) const noexcept { EVP_CIPHER_CTX_free(p); }
};
struct mac_ctx_free {
  void operator()(EVP_MAC_CTX* p) const noexcept { EVP_MAC_CTX_free(p); }
};
struct ec_group_free {
  void operator()(EC_GROUP* p) const noexcept { EC_GROUP_free(p); }
};
struct ec_point_free {
  void operator()(EC_POINT* p) const noexcept { EC_POINT_clear_free(p); }
};

using bn_ptr = std::unique_ptr<BIGNUM, bn_free>;
using bn_ctx_ptr = std::unique_ptr<BN_CTX, bn_ctx_free>;
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;
using pkey_ctx_ptr = std::unique_ptr<EVP_PKEY_CTX, pkey_ctx_free>;
using md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, md_ctx_free>;
using cipher_ctx_ptr = std::unique_ptr<EVP_CIPHER_CTX, cipher_ctx_free>;
using mac_ctx_ptr = std::unique_ptr<EVP_MAC_CTX, mac_ctx_free>;
using ec_group_ptr = std::unique_ptr<EC_GROUP, ec_group_free>;
using ec_point_ptr = std::unique_ptr<EC_POINT, ec_point_free>;

// Big-endian magnitude <-> BIGNUM.
bn_ptr bn_from(byte_view magnitude);
bytes bn_to_bytes(const BIGNUM* n);
// A copy of a BIGNUM parameter of a key, or null.
bn_ptr pkey_bn(const EVP_PKEY* key, const char* param);

// ---- NIST curves ----------------------------------------------------------------------------
const char* curve_name(curve c) noexcept;  // "P-256", "P-384", "P-521"
int curve_nid(curve c) noexcept;
ec_group_ptr new_group(curve c);
// d*G as a SEC1 uncompressed point; d must be in [1, n-1] (otherwise returns false).
bool ec_public_from_scalar(curve c, const BIGNUM* d, bytes& point);
// An EC key (private scalar + public point) built with EVP_PKEY_fromdata; throws on failure.
pkey_ptr ec_keypair(curve c, const BIGNUM* d, byte_view point);
// A peer's public point: SEC1 uncompressed, right length, on the curve, not infinity; null otherwise.
pkey_ptr ec_public(curve c, byte_view point);
// The SEC1 uncompressed public point of an EC key.
bytes ec_point_of(const EVP_PKEY* key);

// Derives with EVP_PKEY_derive; an error if OpenSSL refuses the peer or the derivation.
error_code derive(EVP_PKEY* mine, EVP_PKEY* peer, secure_bytes& out);

}  // namespace ferry::crypto::detail
