// Blowfish (Schneier 1993) and OpenBSD's bcrypt_pbkdf, the key derivation OpenSSH uses for
// encrypted openssh-key-v1 private keys (PROTOCOL.key: kdfname "bcrypt"). OpenSSL 3 offers
// neither (Blowfish only in the legacy provider, bcrypt_pbkdf not at all), so both are
// implemented here from their specifications. Blowfish is exposed for its test vectors and for
// bcrypt's "expensive key schedule"; it is not offered as an SSH cipher.
#pragma once

#include <ferry/core/bytes.hpp>
#include <ferry/core/error.hpp>

#include <array>
#include <cstdint>

namespace ferry::crypto {

class blowfish {
 public:
  // The initial state (P-array and S-boxes from the digits of pi) without any key.
  blowfish() noexcept;
  // The standard key schedule (key of 1..72 bytes).
  explicit blowfish(byte_view key) noexcept;
  ~blowfish();

  void encrypt(std::uint32_t& l, std::uint32_t& r) const noexcept;
  void decrypt(std::uint32_t& l, std::uint32_t& r) const noexcept;
  // One 8-byte block, big-endian halves (as the published ECB vectors).
  void encrypt_block(const std::uint8_t in[8], std::uint8_t out[8]) const noexcept;
  void decrypt_block(const std::uint8_t in[8], std::uint8_t out[8]) const noexcept;

  // bcrypt's key schedule steps (Provos & Mazieres 1999, "ExpandKey"): with a salt, and the
  // salt-less form used in the 2^cost loop.
  void expand(byte_view data, byte_view key) noexcept;
  void expand0(byte_view key) noexcept;

 private:
  std::uint32_t p_[18];
  std::uint32_t s_[4][256];
};

// bcrypt_pbkdf(pass, salt, rounds) -> out (1..1024 bytes), as OpenBSD's bcrypt_pbkdf(3): SHA-512
// of the passphrase and of salt||counter feed a bcrypt hash with the fixed 32-byte text
// "OxychromaticBlowfishSwatDynamite"; rounds iterations are XORed; output bytes are interleaved
// across blocks. Returns bad_value for empty salt, zero rounds or a bad output size.
error_code bcrypt_pbkdf(byte_view pass, byte_view salt, unsigned rounds, mutable_byte_view out);

}  // namespace ferry::crypto
