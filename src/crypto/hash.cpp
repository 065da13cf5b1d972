// Hashes and HMAC over EVP. HMAC is built here from two EVP_MD_CTXs and the padded key (RFC 2104
// §2), so the per-packet path is two digest inits on contexts made once per key. ferry allocates
// nothing per message; OpenSSL 3.0 itself re-creates the provider's digest context on each init
// (EVP_MAC's HMAC duplicates one per message instead), which no non-deprecated API avoids.
#include <ferry/crypto/hash.hpp>

#include "ossl.hpp"

#include <ferry/core/secure.hpp>

#include <memory>
#include <utility>
#include <cstring>
#include <stdexcept>

namespace ferry::crypto {

hasher::hasher(hash_alg a) : alg_(a), ctx_(EVP_MD_CTX_new()) {
  detail::check(ctx_ != nullptr, "EVP_MD_CTX_new");
  if (EVP_DigestInit_ex(ctx_, detail::md(a), nullptr) != 1) {
    EVP_MD_CTX_free(ctx_);
    detail::throw_crypto("EVP_DigestInit_ex");
  }
}

hasher::~hasher() { EVP_MD_CTX_free(ctx_); }

hasher::hasher(hasher&& o) noexcept : alg_(o.alg_), ctx_(std::exchange(o.ctx_, nullptr)) {}

hasher& hasher::operator=(hasher&& o) noexcept {
  if (this != &o) {
    EVP_MD_CTX_free(ctx_);
    alg_ = o.alg_;
    ctx_ = std::exchange(o.ctx_, nullptr);
  }
  return *this;
}

hasher hasher::copy() const {
  hasher h{alg_};
  detail::check(EVP_MD_CTX_copy_ex(h.ctx_, ctx_) == 1, "EVP_MD_CTX_copy_ex");
  return h;
}

void hasher::update(byte_view data) {
  detail::check(EVP_DigestUpdate(ctx_, data.data(), data.size()) == 1, "EVP_DigestUpdate");
}

void hasher::final(mutable_byte_view out) {
  if (out.size() < size()) throw std::length_error("hasher::final: output too small");
  detail::check(EVP_DigestFinal_ex(ctx_, out.data(), nullptr) == 1, "EVP_DigestFinal_ex");
}

bytes hasher::final() {
  bytes out(size());
  final(mutable_byte_view{out});
  return out;
}

void hasher::reset() {
  detail::check(EVP_DigestInit_ex(ctx_, detail::md(alg_), nullptr) == 1, "EVP_DigestInit_ex");
}

void hash(hash_alg a, byte_view data, mutable_byte_view out) {
  if (out.size() < digest_size(a)) throw std::length_error("hash: output too small");
  detail::check(EVP_Digest(data.data(), data.size(), out.data(), nullptr, detail::md(a), nullptr) == 1,
                "EVP_Digest");
}

bytes hash(hash_alg a, byte_view data) {
  bytes out(digest_size(a));
  hash(a, data, out);
  return out;
}

std::array<std::uint8_t, 32> sha256(byte_view data) {
  std::array<std::uint8_t, 32> out{};
  hash(hash_alg::sha256, data, out);
  return out;
}

// ---- HMAC ------------------------------------------------------------------------------------
namespace {
constexpr std::size_t max_block = 128;  // SHA-384/512 block size; SHA-1/256 use 64
}  // namespace

struct hmac::state {
  EVP_MD_CTX* inner = nullptr;
  EVP_MD_CTX* outer = nullptr;
  const EVP_MD* md = nullptr;
  std::size_t block = 0;
  std::uint8_t ipad[max_block] = {};  // K0 ^ 0x36..
  std::uint8_t opad[max_block] = {};  // K0 ^ 0x5c..

  ~state() {
    EVP_MD_CTX_free(inner);
    EVP_MD_CTX_free(outer);
    secure_wipe(ipad, sizeof ipad);
    secure_wipe(opad, sizeof opad);
  }

  void start_inner() {
    detail::check(EVP_DigestInit_ex(inner, md, nullptr) == 1 &&
                      EVP_DigestUpdate(inner, ipad, block) == 1,
                  "hmac init");
  }
};

hmac::hmac(hash_alg a, byte_view key) : alg_(a), s_(nullptr) {
  auto s = std::make_unique<state>();
  s->md = detail::md(a);
  s->block = static_cast<std::size_t>(EVP_MD_get_block_size(s->md));
  detail::check(s->block <= max_block, "hmac block size");
  s->inner = EVP_MD_CTX_new();
  s->outer = EVP_MD_CTX_new();
  detail::check(s->inner != nullptr && s->outer != nullptr, "EVP_MD_CTX_new");
  // RFC 2104 §2: a key longer than the block is hashed first; K0 is the key zero-padded.
  std::uint8_t k0[max_block] = {};
  if (key.size() > s->block) {
    hash(a, key, mutable_byte_view{k0, digest_size(a)});
  } else if (!key.empty()) {
    std::memcpy(k0, key.data(), key.size());
  }
  for (std::size_t i = 0; i < s->block; ++i) {
    s->ipad[i] = static_cast<std::uint8_t>(k0[i] ^ 0x36);
    s->opad[i] = static_cast<std::uint8_t>(k0[i] ^ 0x5c);
  }
  secure_wipe(k0, sizeof k0);
  s->start_inner();
  s_ = s.release();
}

hmac::~hmac() { delete s_; }

hmac::hmac(hmac&& o) noexcept : alg_(o.alg_), s_(std::exchange(o.s_, nullptr)) {}

hmac& hmac::operator=(hmac&& o) noexcept {
  if (this != &o) {
    delete s_;
    alg_ = o.alg_;
    s_ = std::exchange(o.s_, nullptr);
  }
  return *this;
}

void hmac::update(byte_view data) {
  detail::check(EVP_DigestUpdate(s_->inner, data.data(), data.size()) == 1,
                "hmac update");
}

void hmac::final(mutable_byte_view out) {
  if (out.size() < size()) throw std::length_error("hmac::final: output too small");
  auto* s = s_;
  std::uint8_t inner_digest[max_digest_size];
  unsigned n = 0;
  bool ok = EVP_DigestFinal_ex(s->inner, inner_digest, &n) == 1 &&
            EVP_DigestInit_ex(s->outer, s->md, nullptr) == 1 &&
            EVP_DigestUpdate(s->outer, s->opad, s->block) == 1 &&
            EVP_DigestUpdate(s->outer, inner_digest, n) == 1 &&
            EVP_DigestFinal_ex(s->outer, out.data(), nullptr) == 1;
  secure_wipe(inner_digest, sizeof inner_digest);
  detail::check(ok, "hmac final");
  // Ready for the next message with the same key.
  s->start_inner();
}

}  // namespace ferry::crypto
