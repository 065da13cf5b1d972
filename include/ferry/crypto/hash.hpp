// Hashes and HMAC (OpenSSL EVP underneath; no OpenSSL header leaks from here).
#pragma once

#include <ferry/core/bytes.hpp>

#include <array>
#include <cstddef>

struct evp_md_ctx_st;

namespace ferry::crypto {

// md5 is for interoperability only (FTP HASH, draft-bryan-ftpext-hash), never for security.
enum class hash_alg { sha1, sha256, sha384, sha512, md5 };

inline constexpr std::size_t max_digest_size = 64;

constexpr std::size_t digest_size(hash_alg a) noexcept {
  switch (a) {
    case hash_alg::sha1: return 20;
    case hash_alg::sha256: return 32;
    case hash_alg::sha384: return 48;
    case hash_alg::sha512: return 64;
    case hash_alg::md5: return 16;
  }
  return 0;
}

// Incremental hash. copy() forks the state (the exchange hash and key derivation use it).
class hasher {
 public:
  explicit hasher(hash_alg a);
  ~hasher();
  hasher(hasher&& o) noexcept;
  hasher& operator=(hasher&& o) noexcept;
  hasher copy() const;

  hash_alg alg() const noexcept { return alg_; }
  std::size_t size() const noexcept { return digest_size(alg_); }
  void update(byte_view data);
  // Writes size() bytes to out (out.size() >= size()); the hasher must be reset() before reuse.
  void final(mutable_byte_view out);
  bytes final();
  void reset();

 private:
  hash_alg alg_;
  evp_md_ctx_st* ctx_;
};

void hash(hash_alg a, byte_view data, mutable_byte_view out);
bytes hash(hash_alg a, byte_view data);
std::array<std::uint8_t, 32> sha256(byte_view data);

// HMAC with a fixed key; after final() it is ready for the next message with the same key.
class hmac {
 public:
  hmac(hash_alg a, byte_view key);
  ~hmac();
  hmac(hmac&& o) noexcept;
  hmac& operator=(hmac&& o) noexcept;

  std::size_t size() const noexcept { return digest_size(alg_); }
  void update(byte_view data);
  // out.size() >= size(). ferry allocates nothing here; OpenSSL 3.0 itself duplicates a digest
  // state per message (src/crypto/hash.cpp says why this cannot be avoided).
  void final(mutable_byte_view out);

 private:
  struct state;  // the keyed inner/outer digest states and working copies (src/crypto/hash.cpp)
  hash_alg alg_;
  state* s_;
};

}  // namespace ferry::crypto
