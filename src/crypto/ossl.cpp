#include "ossl.hpp"

#include <openssl/core_names.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>

namespace ferry::crypto::detail {

void throw_crypto(const char* what) {
  throw system_error(make_error_code(errc::crypto_failure), what);
}

namespace {

template <class T, class Fetch>
T* fetch_or_throw(Fetch f, const char* name) {
  T* p = f(nullptr, name, nullptr);
  if (p == nullptr) throw_crypto(name);
  return p;
}

}  // namespace

const EVP_MD* md(hash_alg a) {
  // Function-local statics: thread-safe one-time fetch; the objects are kept for the process.
  switch (a) {
    case hash_alg::sha1: {
      static EVP_MD* m = fetch_or_throw<EVP_MD>(EVP_MD_fetch, "SHA1");
      return m;
    }
    case hash_alg::sha256: {
      static EVP_MD* m = fetch_or_throw<EVP_MD>(EVP_MD_fetch, "SHA256");
      return m;
    }
    case hash_alg::sha384: {
      static EVP_MD* m = fetch_or_throw<EVP_MD>(EVP_MD_fetch, "SHA384");
      return m;
    }
    case hash_alg::sha512: {
      static EVP_MD* m = fetch_or_throw<EVP_MD>(EVP_MD_fetch, "SHA512");
      return m;
    }
    case hash_alg::md5: {
      static EVP_MD* m = fetch_or_throw<EVP_MD>(EVP_MD_fetch, "MD5");
      return m;
    }
  }
  throw_crypto("unknown hash");
}

const EVP_CIPHER* cipher(const char* name) {
  // The set of names is small and fixed; one static per name used by ferry.
  static EVP_CIPHER* aes128_ctr = fetch_or_throw<EVP_CIPHER>(EVP_CIPHER_fetch, "AES-128-CTR");
  static EVP_CIPHER* aes192_ctr = fetch_or_throw<EVP_CIPHER>(EVP_CIPHER_fetch, "AES-192-CTR");
  static EVP_CIPHER* aes256_ctr = fetch_or_throw<EVP_CIPHER>(EVP_CIPHER_fetch, "AES-256-CTR");
  static EVP_CIPHER* aes128_gcm = fetch_or_throw<EVP_CIPHER>(EVP_CIPHER_fetch, "AES-128-GCM");
  static EVP_CIPHER* aes256_gcm = fetch_or_throw<EVP_CIPHER>(EVP_CIPHER_fetch, "AES-256-GCM");
  static EVP_CIPHER* chacha20 = fetch_or_throw<EVP_CIPHER>(EVP_CIPHER_fetch, "ChaCha20");
  std::string_view n{name};
  if (n == "AES-128-CTR") return aes128_ctr;
  if (n == "AES-192-CTR") return aes192_ctr;
  if (n == "AES-256-CTR") return aes256_ctr;
  if (n == "AES-128-GCM") return aes128_gcm;
  if (n == "AES-256-GCM") return aes256_gcm;
  if (n == "ChaCha20") return chacha20;
  throw_crypto(name);
}

EVP_MAC* mac(const char* name) {
  static EVP_MAC* poly = fetch_or_throw<EVP_MAC>(EVP_MAC_fetch, "POLY1305");
  if (std::string_view{name} == "POLY1305") return poly;
  throw_crypto(name);
}

bn_ptr bn_from(byte_view magnitude) {
  bn_ptr n{BN_bin2bn(magnitude.data(), static_cast<int>(magnitude.size()), nullptr)};
  check(n != nullptr, "BN_bin2bn");
  return n;
}

bytes bn_to_bytes(const BIGNUM* n) {
  bytes out(static_cast<std::size_t>(BN_num_bytes(n)));
  BN_bn2bin(n, out.data());
  return out;
}

bn_ptr pkey_bn(const EVP_PKEY* key, const char* param) {
  BIGNUM* n = nullptr;
  if (EVP_PKEY_get_bn_param(key, param, &n) != 1) return nullptr;
  return bn_ptr{n};
}

const char* curve_name(curve c) noexcept {
  switch (c) {
    case curve::p256: return "P-256";
    case curve::p384: return "P-384";
    case curve::p521: return "P-521";
  }
  return "P-256";
}

int curve_nid(curve c) noexcept {
  switch (c) {
    case curve::p256: return NID_X9_62_prime256v1;
    case curve::p384: return NID_secp384r1;
    case curve::p521: return NID_secp521r1;
  }
  return NID_undef;
}

ec_group_ptr new_group(curve c) {
  ec_group_ptr g{EC_GROUP_new_by_curve_name(curve_nid(c))};
  check(g != nullptr, "EC_GROUP_new_by_curve_name");
  return g;
}

bool ec_public_from_scalar(curve c, const BIGNUM* d, bytes& point) {
  auto g = new_group(c);
  const BIGNUM* n = EC_GROUP_get0_order(g.get());
  if (BN_is_zero(d) || BN_is_negative(d) || BN_cmp(d, n) >= 0) return false;
  ec_point_ptr q{EC_POINT_new(g.get())};
  bn_ctx_ptr bctx{BN_CTX_secure_new()};
  check(q != nullptr && bctx != nullptr, "EC_POINT_new");
  check(EC_POINT_mul(g.get(), q.get(), d, nullptr, nullptr, bctx.get()) == 1, "EC_POINT_mul");
  point.assign(1 + 2 * curve_size(c), 0);
  auto len = EC_POINT_point2oct(g.get(), q.get(), POINT_CONVERSION_UNCOMPRESSED, point.data(),
                                point.size(), bctx.get());
  check(len == point.size(), "EC_POINT_point2oct");
  return true;
}

namespace {

struct param_bld_free {
  void operator()(OSSL_PARAM_BLD* p) const noexcept { OSSL_PARAM_BLD_free(p); }
};
struct param_free {
  void operator()(OSSL_PARAM* p) const noexcept { OSSL_PARAM_free(p); }
};

pkey_ptr ec_fromdata(curve c, const BIGNUM* d, byte_view point) {
  std::unique_ptr<OSSL_PARAM_BLD, param_bld_free> bld{OSSL_PARAM_BLD_new()};
  check(bld != nullptr, "OSSL_PARAM_BLD_new");
  check(OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve_name(c), 0) ==
                1 &&
            OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                             point.size()) == 1,
        "OSSL_PARAM_BLD_push");
  if (d != nullptr) check(OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, d) == 1, "push d");
  std::unique_ptr<OSSL_PARAM, param_free> params{OSSL_PARAM_BLD_to_param(bld.get())};
  check(params != nullptr, "OSSL_PARAM_BLD_to_param");
  pkey_ctx_ptr ctx{EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr)};
  check(ctx != nullptr && EVP_PKEY_fromdata_init(ctx.get()) == 1, "EVP_PKEY_fromdata_init");
  EVP_PKEY* key = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &key, d != nullptr ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
                        params.get()) != 1)
    return nullptr;
  return pkey_ptr{key};
}

}  // namespace

pkey_ptr ec_keypair(curve c, const BIGNUM* d, byte_view point) {
  auto k = ec_fromdata(c, d, point);
  check(k != nullptr, "EVP_PKEY_fromdata (EC key pair)");
  return k;
}

pkey_ptr ec_public(curve c, byte_view point) {
  // RFC 5656 §3.1 / SEC1 §2.3.4: uncompressed form only, exact length.
  if (point.size() != 1 + 2 * curve_size(c) || point[0] != 0x04) return nullptr;
  auto g = new_group(c);
  ec_point_ptr q{EC_POINT_new(g.get())};
  bn_ctx_ptr bctx{BN_CTX_new()};
  check(q != nullptr && bctx != nullptr, "EC_POINT_new");
  // RFC 5656 §4 / SEC1 §3.2.2.1: the point must decode, lie on the curve and not be infinity
  // (the NIST curves have cofactor 1, so that is the whole check).
  if (EC_POINT_oct2point(g.get(), q.get(), point.data(), point.size(), bctx.get()) != 1) return nullptr;
  if (EC_POINT_is_on_curve(g.get(), q.get(), bctx.get()) != 1) return nullptr;
  if (EC_POINT_is_at_infinity(g.get(), q.get()) == 1) return nullptr;
  return ec_fromdata(c, nullptr, point);
}

bytes ec_point_of(const EVP_PKEY* key) {
  std::size_t len = 0;
  check(EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, nullptr, 0, &len) == 1,
        "get public point size");
  bytes out(len);
  check(EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, out.data(), out.size(),
                                        &len) == 1,
        "get public point");
  out.resize(len);
  return out;
}

error_code derive(EVP_PKEY* mine, EVP_PKEY* peer, secure_bytes& out) {
  pkey_ctx_ptr ctx{EVP_PKEY_CTX_new_from_pkey(nullptr, mine, nullptr)};
  check(ctx != nullptr, "EVP_PKEY_CTX_new_from_pkey");
  if (EVP_PKEY_derive_init(ctx.get()) != 1) return make_error_code(errc::crypto_failure);
  if (EVP_PKEY_derive_set_peer_ex(ctx.get(), peer, 1) != 1)
    return make_error_code(errc::invalid_public_value);
  std::size_t len = 0;
  if (EVP_PKEY_derive(ctx.get(), nullptr, &len) != 1) return make_error_code(errc::crypto_failure);
  out.assign(len, 0);
  if (EVP_PKEY_derive(ctx.get(), out.data(), &len) != 1) {
    out.clear();
    // OpenSSL refuses e.g. an all-zero X25519 result here.
    return make_error_code(errc::invalid_public_value);
  }
  out.resize(len);
  return {};
}

}  // namespace ferry::crypto::detail
