// PEM / PKCS#8 private keys via OpenSSL's PEM reader (which dispatches to the OSSL_DECODER
// machinery in OpenSSL 3): the passphrase is handed over through the password callback, so we
// can tell "needed but not given" from "given but wrong".
#include <ferry/crypto/pem.hpp>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "ossl.hpp"

#include <algorithm>
#include <climits>
#include <cstring>
#include <string>

namespace ferry::crypto {
namespace {

struct bio_free {
  void operator()(BIO* b) const noexcept { BIO_free(b); }
};

struct pass_state {
  byte_view passphrase;
  bool asked = false;
};

int password_cb(char* buf, int size, int /*rwflag*/, void* u) {
  auto* st = static_cast<pass_state*>(u);
  st->asked = true;
  if (st->passphrase.empty() || size <= 0) return -1;  // abort: no passphrase to offer
  auto n = std::min<std::size_t>(st->passphrase.size(), static_cast<std::size_t>(size));
  std::memcpy(buf, st->passphrase.data(), n);
  return static_cast<int>(n);
}

bool type_of(EVP_PKEY* k, key_type& t) {
  if (EVP_PKEY_is_a(k, "ED25519")) {
    t = key_type::ed25519;
    return true;
  }
  if (EVP_PKEY_is_a(k, "RSA")) {
    t = key_type::rsa;
    return true;
  }
  if (EVP_PKEY_is_a(k, "EC")) {
    char group[64] = {};
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len) !=
        1)
      return false;
    std::string g{group, len};
    if (g == "prime256v1" || g == "P-256") t = key_type::ecdsa_p256;
    else if (g == "secp384r1" || g == "P-384") t = key_type::ecdsa_p384;
    else if (g == "secp521r1" || g == "P-521") t = key_type::ecdsa_p521;
    else return false;
    return true;
  }
  return false;
}

}  // namespace

pem_status read_pem_private_key(std::string_view text, byte_view passphrase, private_key& out) {
  if (text.size() > INT_MAX || text.find("-----BEGIN ") == std::string_view::npos)
    return pem_status::not_pem;
  std::unique_ptr<BIO, bio_free> bio{BIO_new_mem_buf(text.data(), static_cast<int>(text.size()))};
  if (!bio) return pem_status::not_pem;
  pass_state st{passphrase};
  EVP_PKEY* k = PEM_read_bio_PrivateKey(bio.get(), nullptr, password_cb, &st);
  ERR_clear_error();
  if (k == nullptr) {
    if (st.asked) return passphrase.empty() ? pem_status::passphrase_required
                                            : pem_status::wrong_passphrase;
    return pem_status::not_pem;
  }
  detail::pkey_ptr owned{k};
  key_type t{};
  if (!type_of(k, t)) return pem_status::unsupported_key;
  // A PEM/PKCS#8 key carries its public part next to the private one and OpenSSL does not check
  // that they agree; a key that signs with one half and announces the other must not load.
  if (t != key_type::ed25519) {  // Ed25519's public key is always derived from the seed
    detail::pkey_ctx_ptr ctx{EVP_PKEY_CTX_new_from_pkey(nullptr, k, nullptr)};
    int ok = ctx ? EVP_PKEY_pairwise_check(ctx.get()) : 0;
    ERR_clear_error();
    if (ok != 1) return pem_status::invalid_key;
  }
  out = private_key{owned.release(), t};
  return pem_status::ok;
}

}  // namespace ferry::crypto
