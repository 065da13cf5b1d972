// Hashes and HMAC over EVP. HMAC is built here (RFC 2104 §2) from digest contexts made once per key:
// the states after absorbing K0^ipad and K0^opad are kept, and each message works on copies of
// them in two more contexts. ferry allocates nothing per message; OpenSSL 3.0 itself duplicates
// the provider's digest state inside EVP_MD_CTX_copy_ex (as its own EVP_MAC HMAC does on re-init),
// which no non-deprecated API avoids.
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
  // Digest states after absorbing K0^ipad and K0^opad; each message starts from copies of them,
  // so the padded key is hashed once per key rather than once per message.
  EVP_MD_CTX* inner_keyed = nullptr;
  EVP_MD_CTX* outer_keyed = nullptr;
  EVP_MD_CTX* inner = nullptr;
  EVP_MD_CTX* outer = nullptr;

  ~state() {
    for (auto* c : {inner_keyed, outer_keyed, inner, outer}) EVP_MD_CTX_free(c);
  }

  void start_inner() {
    detail::check(EVP_MD_CTX_copy_ex(inner, inner_keyed) == 1, "hmac init");
  }
};

hmac::hmac(hash_alg a, byte_view key) : alg_(a), s_(nullptr) {
  auto s = std::make_unique<state>();
  const EVP_MD* md = detail::md(a);
  const auto block = static_cast<std::size_t>(EVP_MD_get_block_size(md));
  detail::check(block <= max_block, "hmac block size");
  for (auto** c : {&s->inner_keyed, &s->outer_keyed, &s->inner, &s->outer}) {
    *c = EVP_MD_CTX_new();
    detail::check(*c != nullptr, "EVP_MD_CTX_new");
  }
  // RFC 2104 §2: a key longer than the block is hashed first; K0 is the key zero-padded.
  std::uint8_t k0[max_block] = {};
  if (key.size() > block) {
    hash(a, key, mutable_byte_view{k0, digest_size(a)});
  } else if (!key.empty()) {
    std::memcpy(k0, key.data(), key.size());
  }
  std::uint8_t ipad[max_block], opad[max_block];
  for (std::size_t i = 0; i < block; ++i) {
    ipad[i] = static_cast<std::uint8_t>(k0[i] ^ 0x36);
    opad[i] = static_cast<std::uint8_t>(k0[i] ^ 0x5c);
  }
  const bool ok = EVP_DigestInit_ex(s->inner_keyed, md, nullptr) == 1 &&
                  EVP_DigestUpdate(s->inner_keyed, ipad, block) == 1 &&
                  EVP_DigestInit_ex(s->outer_keyed, md, nullptr) == 1 &&
                  EVP_DigestUpdate(s->outer_keyed, opad, block) == 1;
  secure_wipe(k0, sizeof k0);
  secure_wipe(ipad, sizeof ipad);
  secure_wipe(opad, sizeof opad);
  detail::check(ok, "hmac key");
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
            EVP_MD_CTX_copy_ex(s->outer, s->outer_keyed) == 1 &&
            EVP_DigestUpdate(s->outer, inner_digest, n) == 1 &&
            EVP_DigestFinal_ex(s->outer, out.data(), nullptr) == 1;
  secure_wipe(inner_digest, sizeof inner_digest);
  detail::check(ok, "hmac final");
  // Ready for the next message with the same key.
  s->start_inner();
}

}  // namespace ferry::crypto
