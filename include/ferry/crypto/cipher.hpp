// Symmetric ciphers, in place and allocation-free per call: AES-CTR, AES-GCM, ChaCha20, Poly1305
// and OpenSSH's chacha20-poly1305@openssh.com construction (PROTOCOL.chacha20poly1305).
#pragma once

#include <ferry/core/bytes.hpp>
#include <ferry/core/error.hpp>

#include <cstdint>

struct evp_cipher_ctx_st;
struct evp_mac_ctx_st;

namespace ferry::crypto {

inline constexpr std::size_t aead_tag_size = 16;

// AES-CTR keystream (key 16/24/32 bytes, iv 16 bytes); apply() continues the stream.
class aes_ctr {
 public:
  aes_ctr(byte_view key, byte_view iv);
  ~aes_ctr();
  aes_ctr(aes_ctr&& o) noexcept;
  aes_ctr& operator=(aes_ctr&& o) noexcept;
  void apply(mutable_byte_view data);  // encrypt == decrypt, in place

 private:
  evp_cipher_ctx_st* ctx_;
};

// AES-GCM with a 12-byte nonce and 16-byte tag (key 16 or 32 bytes).
class aes_gcm {
 public:
  explicit aes_gcm(byte_view key);
  ~aes_gcm();
  aes_gcm(aes_gcm&& o) noexcept;
  aes_gcm& operator=(aes_gcm&& o) noexcept;
  void seal(byte_view nonce, byte_view aad, mutable_byte_view data, mutable_byte_view tag);
  // Verifies the tag and decrypts in place; on a mismatch returns auth_tag_mismatch and the
  // contents of data are unspecified.
  error_code open(byte_view nonce, byte_view aad, mutable_byte_view data, byte_view tag);

 private:
  evp_cipher_ctx_st* enc_;
  evp_cipher_ctx_st* dec_;
};

// RFC 8439 ChaCha20 (32-bit block counter, 96-bit nonce): XORs the keystream into data.
void chacha20_xor(byte_view key, std::uint32_t counter, byte_view nonce, mutable_byte_view data);
// RFC 8439 Poly1305 one-time authenticator.
void poly1305(byte_view key, byte_view message, mutable_byte_view tag);

// chacha20-poly1305@openssh.com: key is 64 bytes, K_2 (main) then K_1 (length), as OpenSSH.
// A packet is the 4-byte length followed by the rest; the tag covers both encrypted parts.
class chacha20_poly1305_openssh {
 public:
  explicit chacha20_poly1305_openssh(byte_view key);
  ~chacha20_poly1305_openssh();
  chacha20_poly1305_openssh(chacha20_poly1305_openssh&& o) noexcept;
  chacha20_poly1305_openssh& operator=(chacha20_poly1305_openssh&& o) noexcept;

  // Decrypts the 4 length bytes only (a reader needs the length before the whole packet).
  std::uint32_t decrypt_length(std::uint32_t seqnr, byte_view encrypted_length) const;
  void seal(std::uint32_t seqnr, mutable_byte_view packet, mutable_byte_view tag);
  error_code open(std::uint32_t seqnr, mutable_byte_view packet, byte_view tag);

 private:
  struct state;
  state* s_;
};

}  // namespace ferry::crypto
