// Raw OpenSSL EVP implementations of one SSH packet's crypto work, the baselines ferry's wrappers
// (bench_crypto) and its packet codec (bench_ssh) are measured against: contexts made once, IVs set
// per packet, as a tuned C program would do it.
#pragma once

#include <ferry/core/bytes.hpp>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstdint>
#include <stdexcept>

namespace ferry_bench {

using ferry::bytes;

inline void ok(int rc, const char* what) {
  if (rc != 1) throw std::runtime_error(what);
}

// One SSH packet's worth of work: seal = encrypt + authenticate, open = verify + decrypt. The
// first 4 bytes play the packet length (AAD for GCM, separately encrypted for chacha, plain for
// encrypt-then-MAC), as in RFC 5647, PROTOCOL.chacha20poly1305 and OpenSSH's -etm MACs.
struct workload {
  virtual ~workload() = default;
  virtual void seal(std::uint32_t seqnr, bytes& packet, std::uint8_t* tag) = 0;
  virtual bool open(std::uint32_t seqnr, bytes& packet, const std::uint8_t* tag) = 0;
};

inline void nonce_for(std::uint8_t nonce[12], std::uint32_t seqnr) {
  // RFC 5647 §7.1: fixed field || invocation counter; the counter's low word is enough here.
  for (int i = 0; i < 8; ++i) nonce[i] = static_cast<std::uint8_t>(0x10 + i);
  for (int i = 0; i < 4; ++i) nonce[8 + i] = static_cast<std::uint8_t>(seqnr >> (24 - 8 * i));
}

inline void be32(std::uint8_t out[4], std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
}

struct evp_gcm final : workload {
  EVP_CIPHER_CTX* enc = EVP_CIPHER_CTX_new();
  EVP_CIPHER_CTX* dec = EVP_CIPHER_CTX_new();
  EVP_CIPHER* cipher;
  explicit evp_gcm(std::size_t key_size)
      : cipher(EVP_CIPHER_fetch(nullptr, key_size == 16 ? "AES-128-GCM" : "AES-256-GCM", nullptr)) {
    bytes key(key_size, 0x11);
    ok(EVP_EncryptInit_ex(enc, cipher, nullptr, key.data(), nullptr), "gcm enc init");
    ok(EVP_DecryptInit_ex(dec, cipher, nullptr, key.data(), nullptr), "gcm dec init");
  }
  ~evp_gcm() override {
    EVP_CIPHER_CTX_free(enc);
    EVP_CIPHER_CTX_free(dec);
    EVP_CIPHER_free(cipher);
  }
  void seal(std::uint32_t seqnr, bytes& p, std::uint8_t* tag) override {
    std::uint8_t nonce[12], none[16];
    nonce_for(nonce, seqnr);
    int n = 0;
    ok(EVP_EncryptInit_ex(enc, nullptr, nullptr, nullptr, nonce), "iv");
    ok(EVP_EncryptUpdate(enc, nullptr, &n, p.data(), 4), "aad");
    ok(EVP_EncryptUpdate(enc, p.data() + 4, &n, p.data() + 4, static_cast<int>(p.size() - 4)), "upd");
    ok(EVP_EncryptFinal_ex(enc, none, &n), "final");
    ok(EVP_CIPHER_CTX_ctrl(enc, EVP_CTRL_AEAD_GET_TAG, 16, tag), "tag");
  }
  bool open(std::uint32_t seqnr, bytes& p, const std::uint8_t* tag) override {
    std::uint8_t nonce[12], none[16];
    nonce_for(nonce, seqnr);
    int n = 0;
    ok(EVP_DecryptInit_ex(dec, nullptr, nullptr, nullptr, nonce), "iv");
    ok(EVP_DecryptUpdate(dec, nullptr, &n, p.data(), 4), "aad");
    ok(EVP_DecryptUpdate(dec, p.data() + 4, &n, p.data() + 4, static_cast<int>(p.size() - 4)), "upd");
    ok(EVP_CIPHER_CTX_ctrl(dec, EVP_CTRL_AEAD_SET_TAG, 16, const_cast<std::uint8_t*>(tag)), "tag");
    return EVP_DecryptFinal_ex(dec, none, &n) == 1;
  }
};

struct evp_chacha final : workload {
  EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "ChaCha20", nullptr);
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "POLY1305", nullptr);
  EVP_CIPHER_CTX* main = EVP_CIPHER_CTX_new();
  EVP_CIPHER_CTX* len = EVP_CIPHER_CTX_new();
  EVP_MAC_CTX* poly = EVP_MAC_CTX_new(mac);
  evp_chacha() {
    bytes key(64, 0x22);
    std::uint8_t iv[16] = {};
    ok(EVP_EncryptInit_ex(main, cipher, nullptr, key.data(), iv), "k2");
    ok(EVP_EncryptInit_ex(len, cipher, nullptr, key.data() + 32, iv), "k1");
  }
  ~evp_chacha() override {
    EVP_CIPHER_CTX_free(main);
    EVP_CIPHER_CTX_free(len);
    EVP_MAC_CTX_free(poly);
    EVP_MAC_free(mac);
    EVP_CIPHER_free(cipher);
  }
  static void iv(EVP_CIPHER_CTX* ctx, std::uint32_t counter, std::uint32_t seqnr) {
    std::uint8_t v[16] = {};
    v[0] = static_cast<std::uint8_t>(counter);
    for (int i = 0; i < 4; ++i) v[12 + i] = static_cast<std::uint8_t>(seqnr >> (24 - 8 * i));
    ok(EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, v), "iv");
  }
  void tag_of(std::uint32_t seqnr, const bytes& p, std::uint8_t* out) {
    std::uint8_t key[32] = {};
    int n = 0;
    iv(main, 0, seqnr);
    ok(EVP_EncryptUpdate(main, key, &n, key, 32), "polykey");
    std::size_t outl = 0;
    ok(EVP_MAC_init(poly, key, 32, nullptr), "poly init");
    ok(EVP_MAC_update(poly, p.data(), p.size()), "poly upd");
    ok(EVP_MAC_final(poly, out, &outl, 16), "poly final");
  }
  void crypt(std::uint32_t seqnr, bytes& p) {
    int n = 0;
    iv(len, 0, seqnr);
    ok(EVP_EncryptUpdate(len, p.data(), &n, p.data(), 4), "len");
    iv(main, 1, seqnr);
    ok(EVP_EncryptUpdate(main, p.data() + 4, &n, p.data() + 4, static_cast<int>(p.size() - 4)), "pay");
  }
  void seal(std::uint32_t seqnr, bytes& p, std::uint8_t* tag) override {
    crypt(seqnr, p);
    tag_of(seqnr, p, tag);
  }
  bool open(std::uint32_t seqnr, bytes& p, const std::uint8_t* tag) override {
    std::uint8_t expect[16];
    tag_of(seqnr, p, expect);
    if (CRYPTO_memcmp(expect, tag, 16) != 0) return false;
    crypt(seqnr, p);
    return true;
  }
};

struct evp_ctr_etm final : workload {
  EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "AES-128-CTR", nullptr);
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  EVP_CIPHER_CTX* enc = EVP_CIPHER_CTX_new();
  EVP_CIPHER_CTX* dec = EVP_CIPHER_CTX_new();
  EVP_MAC_CTX* mac_out = EVP_MAC_CTX_new(mac);
  EVP_MAC_CTX* mac_in = EVP_MAC_CTX_new(mac);
  evp_ctr_etm() {
    bytes key(16, 0x33), iv(16, 0x44), mk(32, 0x55);
    ok(EVP_EncryptInit_ex(enc, cipher, nullptr, key.data(), iv.data()), "enc");
    ok(EVP_EncryptInit_ex(dec, cipher, nullptr, key.data(), iv.data()), "dec");
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    ok(EVP_MAC_init(mac_out, mk.data(), mk.size(), params), "mac out");
    ok(EVP_MAC_init(mac_in, mk.data(), mk.size(), params), "mac in");
  }
  ~evp_ctr_etm() override {
    EVP_CIPHER_CTX_free(enc);
    EVP_CIPHER_CTX_free(dec);
    EVP_MAC_CTX_free(mac_out);
    EVP_MAC_CTX_free(mac_in);
    EVP_MAC_free(mac);
    EVP_CIPHER_free(cipher);
  }
  static void mac_of(EVP_MAC_CTX* m, std::uint32_t seqnr, const bytes& p, std::uint8_t* out) {
    std::uint8_t s[4];
    be32(s, seqnr);
    std::size_t outl = 0;
    ok(EVP_MAC_init(m, nullptr, 0, nullptr), "mac reinit");  // same key, fresh message
    ok(EVP_MAC_update(m, s, 4), "mac seq");
    ok(EVP_MAC_update(m, p.data(), p.size()), "mac data");
    ok(EVP_MAC_final(m, out, &outl, 32), "mac final");
  }
  void seal(std::uint32_t seqnr, bytes& p, std::uint8_t* tag) override {
    int n = 0;
    ok(EVP_EncryptUpdate(enc, p.data() + 4, &n, p.data() + 4, static_cast<int>(p.size() - 4)), "ctr");
    mac_of(mac_out, seqnr, p, tag);
  }
  bool open(std::uint32_t seqnr, bytes& p, const std::uint8_t* tag) override {
    std::uint8_t expect[32];
    mac_of(mac_in, seqnr, p, expect);
    if (CRYPTO_memcmp(expect, tag, 32) != 0) return false;
    int n = 0;
    ok(EVP_EncryptUpdate(dec, p.data() + 4, &n, p.data() + 4, static_cast<int>(p.size() - 4)), "ctr");
    return true;
  }
};

}  // namespace ferry_bench
