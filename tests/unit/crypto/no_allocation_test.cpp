// The per-packet operations (HMAC update/final, AES-CTR apply, AES-GCM seal/open, the OpenSSH
// ChaCha20-Poly1305 seal/open/decrypt_length) must not allocate. OpenSSL's allocator is routed
// through counting functions installed before OpenSSL allocates anything, and global operator new
// is counted too; each operation then runs with counting switched on.
//
// One exception is OpenSSL's, not ferry's: OpenSSL 3.0 frees and re-creates the provider's digest
// context on every EVP_DigestInit_ex (and the EVP_MAC HMAC re-init duplicates one), so any HMAC
// built on non-deprecated EVP allocates inside the digest provider once per digest. The HMAC test
// pins that down: no other allocation, and at most two (inner and outer hash) per message.
#include <ferry/crypto/cipher.hpp>
#include <ferry/crypto/hash.hpp>

#include <openssl/crypto.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>

namespace {

std::atomic<bool> counting{false};
std::atomic<long> allocations{0};
std::atomic<long> digest_context_allocations{0};

void* counted_malloc(std::size_t n, const char* file, int) {
  if (counting) {
    if (file != nullptr && std::strstr(file, "providers/implementations/digests/") != nullptr)
      ++digest_context_allocations;
    else
      ++allocations;
  }
  return std::malloc(n);
}
void* counted_realloc(void* p, std::size_t n, const char*, int) {
  if (counting) ++allocations;
  return std::realloc(p, n);
}
void counted_free(void* p, const char*, int) { std::free(p); }

// Runs before main, so before OpenSSL's first allocation (after which it refuses new functions).
const bool hooks_installed = CRYPTO_set_mem_functions(counted_malloc, counted_realloc, counted_free) == 1;

template <class F>
long allocations_during(F&& f) {
  allocations = 0;
  digest_context_allocations = 0;
  counting = true;
  f();
  counting = false;
  return allocations.load();
}

}  // namespace

// These replace the global operator new and delete with malloc and free, which g++ 12 (at -O1,
// the test executables' level) takes for a mismatched pair inside the replacement itself.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(std::size_t n) {
  if (counting) ++allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc{};
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace ferry::crypto {
namespace {

TEST(no_allocation, counting_hooks_are_installed_and_see_allocations) {
  ASSERT_TRUE(hooks_installed);
  // The counter must be able to see an allocation, or the tests below prove nothing.
  EXPECT_GT(allocations_during([] { hmac h{hash_alg::sha256, bytes(32, 1)}; }) +
                digest_context_allocations,
            0);
}

TEST(no_allocation, hmac_update_and_final_only_openssl_digest_reinit) {
  for (auto a : {hash_alg::sha1, hash_alg::sha256, hash_alg::sha512}) {
    hmac h{a, bytes(32, 7)};
    bytes data(1024, 9), out(64);
    h.update(data);
    h.final(out);  // warm up
    EXPECT_EQ(allocations_during([&] {
                for (int i = 0; i < 10; ++i) {
                  h.update(data);
                  h.final(out);
                }
              }),
              0);
    EXPECT_LE(digest_context_allocations.load(), 2 * 10);
  }
}

TEST(no_allocation, aes_ctr_apply) {
  aes_ctr c{bytes(16, 1), bytes(16, 2)};
  bytes data(4096);
  c.apply(data);
  EXPECT_EQ(allocations_during([&] {
              for (int i = 0; i < 10; ++i) c.apply(data);
            }),
            0);
}

TEST(no_allocation, aes_gcm_seal_and_open) {
  for (std::size_t key_size : {16u, 32u}) {
    aes_gcm g{bytes(key_size, 1)};
    bytes nonce(12, 3), aad(4, 4), data(4096, 5), tag(16);
    g.seal(nonce, aad, data, tag);
    ASSERT_FALSE(g.open(nonce, aad, data, tag));
    EXPECT_EQ(allocations_during([&] {
                for (int i = 0; i < 10; ++i) {
                  nonce[11] = static_cast<std::uint8_t>(i);
                  g.seal(nonce, aad, data, tag);
                  (void)g.open(nonce, aad, data, tag);
                }
              }),
              0);
  }
}

TEST(no_allocation, chacha20_poly1305_openssh_seal_open_decrypt_length) {
  chacha20_poly1305_openssh c{bytes(64, 1)};
  bytes packet(4096, 6), tag(16);
  c.seal(0, packet, tag);
  ASSERT_FALSE(c.open(0, packet, tag));
  std::uint32_t sink = 0;
  EXPECT_EQ(allocations_during([&] {
              for (std::uint32_t i = 1; i < 10; ++i) {
                c.seal(i, packet, tag);
                sink += c.decrypt_length(i, packet);
                (void)c.open(i, packet, tag);
              }
            }),
            0);
  EXPECT_NE(sink, 0u);
}

}  // namespace
}  // namespace ferry::crypto
