// AES-CTR, AES-GCM, ChaCha20, Poly1305 and chacha20-poly1305@openssh.com over EVP. Every context
// is created once per key; the per-packet calls only re-initialise IVs on existing contexts, which
// OpenSSL does without allocating.
#include <ferry/crypto/cipher.hpp>

#include "ossl.hpp"

#include <ferry/core/secure.hpp>

#include <openssl/core_names.h>
#include <openssl/crypto.h>

#include <climits>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <utility>

namespace ferry::crypto {
namespace {

// EVP_*Update take an int length; split larger inputs so any span works.
template <class Update>
void update_chunked(Update&& update, mutable_byte_view data) {
  std::size_t done = 0;
  while (done < data.size()) {
    std::size_t n = std::min<std::size_t>(data.size() - done, INT_MAX / 2);
    int outl = 0;
    detail::check(update(data.data() + done, &outl, data.data() + done, static_cast<int>(n)) == 1 &&
                      static_cast<std::size_t>(outl) == n,
                  "cipher update");
    done += n;
  }
}

void xor_in_place(EVP_CIPHER_CTX* ctx, mutable_byte_view data) {
  update_chunked(
      [ctx](std::uint8_t* out, int* outl, const std::uint8_t* in, int inl) {
        return EVP_EncryptUpdate(ctx, out, outl, in, inl);
      },
      data);
}

EVP_CIPHER_CTX* new_cipher_ctx(const EVP_CIPHER* c, byte_view key, const std::uint8_t* iv, int enc) {
  detail::cipher_ctx_ptr ctx{EVP_CIPHER_CTX_new()};
  detail::check(ctx != nullptr, "EVP_CIPHER_CTX_new");
  detail::check(EVP_CipherInit_ex(ctx.get(), c, nullptr, key.data(), iv, enc) == 1,
                "EVP_CipherInit_ex");
  return ctx.release();
}

}  // namespace

// ---- AES-CTR (RFC 4344 §4) ---------------------------------------------------------------------

aes_ctr::aes_ctr(byte_view key, byte_view iv) : ctx_(nullptr) {
  const char* name = key.size() == 16   ? "AES-128-CTR"
                     : key.size() == 24 ? "AES-192-CTR"
                     : key.size() == 32 ? "AES-256-CTR"
                                        : nullptr;
  if (name == nullptr || iv.size() != 16) detail::throw_crypto("aes_ctr: bad key or iv size");
  ctx_ = new_cipher_ctx(detail::cipher(name), key, iv.data(), 1);
}

aes_ctr::~aes_ctr() { EVP_CIPHER_CTX_free(ctx_); }

aes_ctr::aes_ctr(aes_ctr&& o) noexcept : ctx_(std::exchange(o.ctx_, nullptr)) {}

aes_ctr& aes_ctr::operator=(aes_ctr&& o) noexcept {
  if (this != &o) {
    EVP_CIPHER_CTX_free(ctx_);
    ctx_ = std::exchange(o.ctx_, nullptr);
  }
  return *this;
}

void aes_ctr::apply(mutable_byte_view data) { xor_in_place(ctx_, data); }

// ---- AES-GCM (RFC 5647, NIST SP 800-38D) --------------------------------------------------------

aes_gcm::aes_gcm(byte_view key) : enc_(nullptr), dec_(nullptr) {
  const char* name = key.size() == 16 ? "AES-128-GCM" : key.size() == 32 ? "AES-256-GCM" : nullptr;
  if (name == nullptr) detail::throw_crypto("aes_gcm: bad key size");
  // Two contexts so that seal and open (one direction each in SSH) never re-key each other.
  enc_ = new_cipher_ctx(detail::cipher(name), key, nullptr, 1);
  try {
    dec_ = new_cipher_ctx(detail::cipher(name), key, nullptr, 0);
  } catch (...) {
    EVP_CIPHER_CTX_free(enc_);
    throw;
  }
}

aes_gcm::~aes_gcm() {
  EVP_CIPHER_CTX_free(enc_);
  EVP_CIPHER_CTX_free(dec_);
}

aes_gcm::aes_gcm(aes_gcm&& o) noexcept
    : enc_(std::exchange(o.enc_, nullptr)), dec_(std::exchange(o.dec_, nullptr)) {}

aes_gcm& aes_gcm::operator=(aes_gcm&& o) noexcept {
  if (this != &o) {
    EVP_CIPHER_CTX_free(enc_);
    EVP_CIPHER_CTX_free(dec_);
    enc_ = std::exchange(o.enc_, nullptr);
    dec_ = std::exchange(o.dec_, nullptr);
  }
  return *this;
}

namespace {

void gcm_start(EVP_CIPHER_CTX* ctx, byte_view nonce, byte_view aad) {
  if (nonce.size() != 12) detail::throw_crypto("aes_gcm: nonce must be 12 bytes");
  // Key unchanged (nullptr), direction unchanged (-1): only the IV is set, no allocation.
  detail::check(EVP_CipherInit_ex(ctx, nullptr, nullptr, nullptr, nonce.data(), -1) == 1,
                "gcm set iv");
  if (!aad.empty()) {
    int outl = 0;
    detail::check(EVP_CipherUpdate(ctx, nullptr, &outl, aad.data(), static_cast<int>(aad.size())) == 1,
                  "gcm aad");
  }
}

}  // namespace

void aes_gcm::seal(byte_view nonce, byte_view aad, mutable_byte_view data, mutable_byte_view tag) {
  if (tag.size() < aead_tag_size) throw std::length_error("aes_gcm::seal: tag buffer too small");
  gcm_start(enc_, nonce, aad);
  xor_in_place(enc_, data);
  std::uint8_t none[16];
  int outl = 0;
  detail::check(EVP_EncryptFinal_ex(enc_, none, &outl) == 1 &&
                    EVP_CIPHER_CTX_ctrl(enc_, EVP_CTRL_AEAD_GET_TAG, int{aead_tag_size}, tag.data()) == 1,
                "gcm final");
}

error_code aes_gcm::open(byte_view nonce, byte_view aad, mutable_byte_view data, byte_view tag) {
  if (tag.size() != aead_tag_size) return make_error_code(errc::auth_tag_mismatch);
  gcm_start(dec_, nonce, aad);
  update_chunked(
      [this](std::uint8_t* out, int* outl, const std::uint8_t* in, int inl) {
        return EVP_DecryptUpdate(dec_, out, outl, in, inl);
      },
      data);
  detail::check(EVP_CIPHER_CTX_ctrl(dec_, EVP_CTRL_AEAD_SET_TAG, int{aead_tag_size},
                                    const_cast<std::uint8_t*>(tag.data())) == 1,
                "gcm set tag");
  std::uint8_t none[16];
  int outl = 0;
  // OpenSSL compares the tag in constant time inside the final call.
  if (EVP_DecryptFinal_ex(dec_, none, &outl) != 1) return make_error_code(errc::auth_tag_mismatch);
  return {};
}

// ---- ChaCha20 and Poly1305 (RFC 8439) ----------------------------------------------------------

namespace {

// OpenSSL's ChaCha20 IV is the 32-bit block counter (little-endian) followed by the 96-bit nonce,
// i.e. state words 12..15 of RFC 8439 §2.3.
void chacha_iv(std::uint8_t iv[16], std::uint32_t counter, const std::uint8_t* nonce12) {
  for (int i = 0; i < 4; ++i) iv[i] = static_cast<std::uint8_t>(counter >> (8 * i));
  std::memcpy(iv + 4, nonce12, 12);
}

}  // namespace

void chacha20_xor(byte_view key, std::uint32_t counter, byte_view nonce, mutable_byte_view data) {
  if (key.size() != 32 || nonce.size() != 12) detail::throw_crypto("chacha20: bad key or nonce size");
  std::uint8_t iv[16];
  chacha_iv(iv, counter, nonce.data());
  detail::cipher_ctx_ptr ctx{new_cipher_ctx(detail::cipher("ChaCha20"), key, iv, 1)};
  xor_in_place(ctx.get(), data);
}

void poly1305(byte_view key, byte_view message, mutable_byte_view tag) {
  if (key.size() != 32 || tag.size() < 16) detail::throw_crypto("poly1305: bad key or tag size");
  detail::mac_ctx_ptr ctx{EVP_MAC_CTX_new(detail::mac("POLY1305"))};
  std::size_t outl = 0;
  detail::check(ctx != nullptr && EVP_MAC_init(ctx.get(), key.data(), key.size(), nullptr) == 1 &&
                    EVP_MAC_update(ctx.get(), message.data(), message.size()) == 1 &&
                    EVP_MAC_final(ctx.get(), tag.data(), &outl, tag.size()) == 1 && outl == 16,
                "poly1305");
}

// ---- chacha20-poly1305@openssh.com (OpenSSH PROTOCOL.chacha20poly1305) -------------------------

struct chacha20_poly1305_openssh::state {
  EVP_CIPHER_CTX* main = nullptr;    // K_2: payload, and the Poly1305 key from block 0
  EVP_CIPHER_CTX* length = nullptr;  // K_1: the 4-byte packet length
  EVP_MAC_CTX* poly = nullptr;

  ~state() {
    EVP_CIPHER_CTX_free(main);
    EVP_CIPHER_CTX_free(length);
    EVP_MAC_CTX_free(poly);
  }

  // OpenSSH runs the original ChaCha20 (64-bit counter, 64-bit nonce) with the nonce = seqnr as a
  // big-endian uint64. In OpenSSL's layout that is: counter (LE32) || 0 (upper counter) || seqnr.
  static void set_iv(EVP_CIPHER_CTX* ctx, std::uint32_t counter, std::uint32_t seqnr) {
    std::uint8_t iv[16] = {};
    for (int i = 0; i < 4; ++i) iv[i] = static_cast<std::uint8_t>(counter >> (8 * i));
    for (int i = 0; i < 4; ++i) iv[12 + i] = static_cast<std::uint8_t>(seqnr >> (24 - 8 * i));
    detail::check(EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, iv) == 1, "chacha20 set iv");
  }

  // Poly1305 over the whole encrypted packet, keyed with the first 32 bytes of K_2's block 0.
  void tag(std::uint32_t seqnr, byte_view packet, std::uint8_t out[16]) {
    std::uint8_t poly_key[32] = {};
    set_iv(main, 0, seqnr);
    xor_in_place(main, mutable_byte_view{poly_key});
    std::size_t outl = 0;
    bool ok = EVP_MAC_init(poly, poly_key, sizeof poly_key, nullptr) == 1 &&
              EVP_MAC_update(poly, packet.data(), packet.size()) == 1 &&
              EVP_MAC_final(poly, out, &outl, 16) == 1 && outl == 16;
    secure_wipe(poly_key, sizeof poly_key);
    detail::check(ok, "poly1305");
  }

  void crypt(std::uint32_t seqnr, mutable_byte_view packet) {
    set_iv(length, 0, seqnr);
    xor_in_place(length, packet.first(4));
    set_iv(main, 1, seqnr);
    xor_in_place(main, packet.subspan(4));
  }
};

chacha20_poly1305_openssh::chacha20_poly1305_openssh(byte_view key) : s_(nullptr) {
  if (key.size() != 64) detail::throw_crypto("chacha20-poly1305@openssh.com: key must be 64 bytes");
  auto s = std::make_unique<state>();
  const std::uint8_t zero_iv[16] = {};
  s->main = new_cipher_ctx(detail::cipher("ChaCha20"), key.first(32), zero_iv, 1);
  s->length = new_cipher_ctx(detail::cipher("ChaCha20"), key.subspan(32, 32), zero_iv, 1);
  s->poly = EVP_MAC_CTX_new(detail::mac("POLY1305"));
  detail::check(s->poly != nullptr, "EVP_MAC_CTX_new");
  s_ = s.release();
}

chacha20_poly1305_openssh::~chacha20_poly1305_openssh() { delete s_; }

chacha20_poly1305_openssh::chacha20_poly1305_openssh(chacha20_poly1305_openssh&& o) noexcept
    : s_(std::exchange(o.s_, nullptr)) {}

chacha20_poly1305_openssh& chacha20_poly1305_openssh::operator=(
    chacha20_poly1305_openssh&& o) noexcept {
  if (this != &o) {
    delete s_;
    s_ = std::exchange(o.s_, nullptr);
  }
  return *this;
}

std::uint32_t chacha20_poly1305_openssh::decrypt_length(std::uint32_t seqnr,
                                                        byte_view encrypted_length) const {
  if (encrypted_length.size() < 4) throw std::length_error("decrypt_length: need 4 bytes");
  std::uint8_t b[4];
  std::memcpy(b, encrypted_length.data(), 4);
  state::set_iv(s_->length, 0, seqnr);
  xor_in_place(s_->length, mutable_byte_view{b});
  return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) |
         std::uint32_t{b[3]};
}

void chacha20_poly1305_openssh::seal(std::uint32_t seqnr, mutable_byte_view packet,
                                     mutable_byte_view tag) {
  if (packet.size() < 4 || tag.size() < aead_tag_size)
    throw std::length_error("chacha20-poly1305 seal: packet or tag too small");
  s_->crypt(seqnr, packet);
  s_->tag(seqnr, packet, tag.data());
}

error_code chacha20_poly1305_openssh::open(std::uint32_t seqnr, mutable_byte_view packet,
                                           byte_view tag) {
  if (packet.size() < 4 || tag.size() != aead_tag_size)
    return make_error_code(errc::auth_tag_mismatch);
  // Authenticate before decrypting anything (PROTOCOL.chacha20poly1305), in constant time.
  std::uint8_t expected[16];
  s_->tag(seqnr, packet, expected);
  if (CRYPTO_memcmp(expected, tag.data(), sizeof expected) != 0)
    return make_error_code(errc::auth_tag_mismatch);
  s_->crypt(seqnr, packet);
  return {};
}

}  // namespace ferry::crypto
