#include <ferry/crypto/hash.hpp>

#include "vectors.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ferry::crypto {
namespace {

using crypto_test::hex;
using crypto_test::load;
using crypto_test::to_hex;

hash_alg alg_named(const std::string& s) {
  if (s == "sha1") return hash_alg::sha1;
  if (s == "sha256") return hash_alg::sha256;
  if (s == "sha384") return hash_alg::sha384;
  if (s == "sha512") return hash_alg::sha512;
  throw std::invalid_argument("unknown alg " + s);
}

TEST(hash, fips_180_2_examples_match) {
  auto records = load("sha.txt");
  ASSERT_EQ(records.size(), 12u);
  for (const auto& r : records) {
    SCOPED_TRACE("sha.txt line " + std::to_string(r.line));
    auto a = alg_named(r.text("alg"));
    EXPECT_EQ(to_hex(hash(a, r.data("msg"))), to_hex(r.data("md")));
  }
}

// RFC 1321 §A.5: the MD5 test suite (whole and fed one byte at a time).
TEST(hash, md5_rfc_1321_test_suite_matches) {
  struct {
    const char* msg;
    const char* md;
  } cases[] = {
      {"", "d41d8cd98f00b204e9800998ecf8427e"},
      {"a", "0cc175b9c0f1b6a831c399e269772661"},
      {"abc", "900150983cd24fb0d6963f7d28e17f72"},
      {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
      {"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
      {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
       "d174ab98d277d9f5a5611c2c9f419d9f"},
      {"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
       "57edf4a22be3c955ac49da2e2107b67a"},
  };
  EXPECT_EQ(digest_size(hash_alg::md5), 16u);
  for (const auto& c : cases) {
    std::string m = c.msg;
    byte_view msg{reinterpret_cast<const std::uint8_t*>(m.data()), m.size()};
    EXPECT_EQ(to_hex(hash(hash_alg::md5, msg)), c.md) << m;
    hasher h{hash_alg::md5};
    for (std::size_t i = 0; i < msg.size(); ++i) h.update(msg.subspan(i, 1));
    EXPECT_EQ(to_hex(h.final()), c.md) << m;
  }
}

// FIPS 180-2 A.3 / B.3 / C.3 / D.3: one million 'a', fed in uneven pieces to exercise update().
TEST(hash, million_a_fed_incrementally_matches) {
  struct {
    hash_alg a;
    const char* md;
  } cases[] = {
      {hash_alg::sha1, "34aa973cd4c4daa4f61eeb2bdbad27316534016f"},
      {hash_alg::sha256, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
      {hash_alg::sha384,
       "9d0e1809716474cb086e834e310a4a1ced149e9c00f248527972cec5704c2a5b07b8b3dc38ecc4ebae97ddd87f3d8985"},
      {hash_alg::sha512,
       "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973ebde0ff244877ea60a4cb0432ce577c31beb"
       "009c5c2c49aa2e4eadb217ad8cc09b"},
  };
  const bytes chunk(997, 'a');
  for (const auto& c : cases) {
    hasher h{c.a};
    std::size_t left = 1000000;
    while (left > 0) {
      auto n = std::min(left, chunk.size());
      h.update(byte_view{chunk}.first(n));
      left -= n;
    }
    EXPECT_EQ(to_hex(h.final()), to_hex(hex(c.md)));
  }
}

TEST(hash, copy_forks_state_and_reset_restarts) {
  hasher h{hash_alg::sha256};
  h.update(as_bytes("ab"));
  hasher fork = h.copy();
  h.update(as_bytes("c"));
  fork.update(as_bytes("c"));
  auto expect = hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");  // "abc"
  EXPECT_EQ(h.final(), expect);
  EXPECT_EQ(fork.final(), expect);
  h.reset();
  h.update(as_bytes("abc"));
  EXPECT_EQ(h.final(), expect);
  EXPECT_EQ(h.size(), 32u);
}

TEST(hash, sha256_helper_matches_hash) {
  auto d = sha256(as_bytes("abc"));
  EXPECT_EQ(bytes(d.begin(), d.end()), hash(hash_alg::sha256, as_bytes("abc")));
}

TEST(hash, moved_from_hasher_moves_state) {
  hasher a{hash_alg::sha1};
  a.update(as_bytes("abc"));
  hasher b{std::move(a)};
  EXPECT_EQ(to_hex(b.final()), "a9993e364706816aba3e25717850c26c9cd0d89d");  // FIPS 180-2 A.1
}

TEST(hmac, rfc_2202_and_4231_cases_match) {
  auto records = load("hmac.txt");
  ASSERT_EQ(records.size(), 28u);
  for (const auto& r : records) {
    SCOPED_TRACE("hmac.txt line " + std::to_string(r.line));
    auto a = alg_named(r.text("alg"));
    hmac m{a, r.data("key")};
    m.update(r.data("data"));
    bytes out(m.size());
    m.final(out);
    auto expect = r.data("mac");
    out.resize(expect.size());  // RFC 4231 case 5 compares the truncated output
    EXPECT_EQ(to_hex(out), to_hex(expect));
  }
}

// The object is reusable after final(): a second message with the same key gives the same answer
// as a fresh object (the SSH MAC runs once per packet with one key).
TEST(hmac, reuse_after_final_equals_fresh_instance) {
  auto key = hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b");
  hmac m{hash_alg::sha256, key};
  bytes first(32), second(32);
  m.update(as_bytes("something else"));
  m.final(first);
  m.update(as_bytes("Hi "));
  m.update(as_bytes("There"));
  m.final(second);
  EXPECT_EQ(to_hex(second), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_NE(first, second);
  hmac moved{std::move(m)};
  moved.update(as_bytes("Hi There"));
  moved.final(second);
  EXPECT_EQ(to_hex(second), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

}  // namespace
}  // namespace ferry::crypto
