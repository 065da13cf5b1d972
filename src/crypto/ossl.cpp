#include "ossl.hpp"

#include <openssl/core_names.h>

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

}  // namespace ferry::crypto::detail
