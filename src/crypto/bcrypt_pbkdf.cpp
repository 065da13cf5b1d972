// bcrypt_pbkdf as OpenBSD defines it (bcrypt_pbkdf(3), used by OpenSSH's PROTOCOL.key "bcrypt"
// KDF): a PBKDF2-like loop whose PRF is a bcrypt hash keyed by SHA-512(passphrase).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O2")  // see blowfish.cpp
#endif

#include <ferry/core/secure.hpp>
#include <ferry/crypto/bcrypt_pbkdf.hpp>
#include <ferry/crypto/hash.hpp>

#include <algorithm>
#include <array>

namespace ferry::crypto {
namespace {

constexpr std::size_t hash_size = 32;     // bcrypt hash output
constexpr std::size_t sha512_size = 64;
constexpr std::size_t max_output = 1024;  // bcrypt_pbkdf(3) refuses more

// One bcrypt hash: the expensive key schedule (64 rounds of expand0 with salt and pass), then
// 64 encryptions of the fixed text; the words leave little-endian, as OpenBSD's code writes them.
void bcrypt_hash(const std::uint8_t* sha2pass, const std::uint8_t* sha2salt, std::uint8_t* out) {
  static constexpr char text[] = "OxychromaticBlowfishSwatDynamite";
  byte_view pass{sha2pass, sha512_size};
  byte_view salt{sha2salt, sha512_size};
  blowfish bf;
  bf.expand(salt, pass);
  for (int i = 0; i < 64; ++i) {
    bf.expand0(salt);
    bf.expand0(pass);
  }
  std::array<std::uint32_t, 8> c{};
  for (std::size_t i = 0; i < 8; ++i) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(text) + 4 * i;
    c[i] = (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           std::uint32_t{p[3]};
  }
  for (int i = 0; i < 64; ++i)
    for (std::size_t k = 0; k < 8; k += 2) bf.encrypt(c[k], c[k + 1]);
  for (std::size_t i = 0; i < 8; ++i) {
    out[4 * i + 3] = std::uint8_t(c[i] >> 24);
    out[4 * i + 2] = std::uint8_t(c[i] >> 16);
    out[4 * i + 1] = std::uint8_t(c[i] >> 8);
    out[4 * i + 0] = std::uint8_t(c[i]);
  }
  secure_wipe(c.data(), sizeof c);
}

}  // namespace

error_code bcrypt_pbkdf(byte_view pass, byte_view salt, unsigned rounds, mutable_byte_view out) {
  if (rounds < 1 || salt.empty() || out.empty() || out.size() > max_output)
    return make_error_code(errc::bad_value);
  const std::size_t key_len = out.size();
  const std::size_t stride = (key_len + hash_size - 1) / hash_size;
  const std::size_t amount = (key_len + stride - 1) / stride;

  std::array<std::uint8_t, sha512_size> sha2pass{}, sha2salt{};
  std::array<std::uint8_t, hash_size> block{}, tmp{};
  hash(hash_alg::sha512, pass, sha2pass);

  secure_bytes count_salt;
  count_salt.reserve(salt.size() + 4);
  std::size_t remaining = key_len;
  for (std::uint32_t count = 1; remaining > 0; ++count) {
    count_salt.assign(salt.begin(), salt.end());
    count_salt.push_back(std::uint8_t(count >> 24));
    count_salt.push_back(std::uint8_t(count >> 16));
    count_salt.push_back(std::uint8_t(count >> 8));
    count_salt.push_back(std::uint8_t(count));
    hash(hash_alg::sha512, count_salt, sha2salt);
    bcrypt_hash(sha2pass.data(), sha2salt.data(), tmp.data());
    block = tmp;
    for (unsigned i = 1; i < rounds; ++i) {
      hash(hash_alg::sha512, tmp, sha2salt);
      bcrypt_hash(sha2pass.data(), sha2salt.data(), tmp.data());
      for (std::size_t k = 0; k < hash_size; ++k) block[k] ^= tmp[k];
    }
    // Output bytes are spread across the blocks so that every byte needs every round.
    std::size_t n = std::min(amount, remaining);
    std::size_t i = 0;
    for (; i < n; ++i) {
      std::size_t dest = i * stride + (count - 1);
      if (dest >= key_len) break;
      out[dest] = block[i];
    }
    remaining -= i;
  }
  secure_wipe(sha2pass.data(), sha2pass.size());
  secure_wipe(sha2salt.data(), sha2salt.size());
  secure_wipe(block.data(), block.size());
  secure_wipe(tmp.data(), tmp.size());
  return {};
}

}  // namespace ferry::crypto
