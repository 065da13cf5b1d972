#include <ferry/crypto/cipher.hpp>

#include "vectors.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ferry::crypto {
namespace {

using crypto_test::hex;
using crypto_test::load;
using crypto_test::to_hex;

std::uint32_t be32(byte_view b) {
  return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | b[3];
}

// ---- AES-CTR --------------------------------------------------------------------------------

TEST(aes_ctr, sp800_38a_f5_vectors_match) {
  auto records = load("aes_ctr.txt");
  ASSERT_EQ(records.size(), 2u);
  for (const auto& r : records) {
    SCOPED_TRACE(r.text("case"));
    auto data = r.data("pt");
    aes_ctr c{r.data("key"), r.data("iv")};
    c.apply(data);
    EXPECT_EQ(to_hex(data), to_hex(r.data("ct")));
  }
}

// The keystream continues across apply() calls, including calls that split a block (SSH decrypts
// the first block of a packet before the rest).
TEST(aes_ctr, keystream_continues_across_uneven_calls) {
  const auto records = load("aes_ctr.txt");
  const auto& r = records.at(0);
  auto data = r.data("pt");
  aes_ctr c{r.data("key"), r.data("iv")};
  mutable_byte_view v{data};
  c.apply(v.first(5));
  c.apply(v.subspan(5, 16));
  c.apply(v.subspan(21));
  EXPECT_EQ(to_hex(data), to_hex(r.data("ct")));
  aes_ctr d{r.data("key"), r.data("iv")};
  aes_ctr moved{std::move(d)};
  moved.apply(data);
  EXPECT_EQ(data, r.data("pt"));
}

TEST(aes_ctr, bad_key_or_iv_size_is_refused) {
  bytes k15(15), k16(16), iv16(16), iv12(12);
  EXPECT_THROW(aes_ctr(k15, iv16), system_error);
  EXPECT_THROW(aes_ctr(k16, iv12), system_error);
}

// ---- AES-GCM --------------------------------------------------------------------------------

TEST(aes_gcm, mcgrew_viega_cases_seal_and_open) {
  auto records = load("aes_gcm.txt");
  ASSERT_EQ(records.size(), 8u);
  for (const auto& r : records) {
    SCOPED_TRACE("case " + r.text("case"));
    aes_gcm g{r.data("key")};
    auto data = r.data("pt");
    bytes tag(aead_tag_size);
    g.seal(r.data("iv"), r.data("aad"), data, tag);
    EXPECT_EQ(to_hex(data), to_hex(r.data("ct")));
    EXPECT_EQ(to_hex(tag), to_hex(r.data("tag")));
    EXPECT_FALSE(g.open(r.data("iv"), r.data("aad"), data, tag));
    EXPECT_EQ(to_hex(data), to_hex(r.data("pt")));
  }
}

TEST(aes_gcm, same_object_seals_many_nonces) {
  // Cases 3 and 4 share key and IV but differ in aad and length: sealing them in a row on one
  // object checks that per-call IV setting fully resets the previous message's state.
  auto records = load("aes_gcm.txt");
  aes_gcm g{records[2].data("key")};
  for (int rep = 0; rep < 2; ++rep) {
    for (int i : {2, 3}) {
      const auto& r = records[static_cast<std::size_t>(i)];
      auto data = r.data("pt");
      bytes tag(16);
      g.seal(r.data("iv"), r.data("aad"), data, tag);
      EXPECT_EQ(to_hex(tag), to_hex(r.data("tag")));
    }
  }
}

TEST(aes_gcm, any_modification_is_rejected) {
  const auto records = load("aes_gcm.txt");
  const auto& r = records.at(3);  // case 4: has ciphertext and aad
  aes_gcm g{r.data("key")};
  const auto iv = r.data("iv"), aad = r.data("aad"), ct = r.data("ct"), tag = r.data("tag");
  auto reject = [&](bytes i, bytes a, bytes c, bytes t) {
    return g.open(i, a, c, t) == errc::auth_tag_mismatch;
  };
  for (std::size_t bit = 0; bit < ct.size() * 8; bit += 7) {
    auto c = ct;
    c[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    EXPECT_TRUE(reject(iv, aad, c, tag)) << "ciphertext bit " << bit;
  }
  for (std::size_t bit = 0; bit < 128; ++bit) {
    auto t = tag;
    t[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    EXPECT_TRUE(reject(iv, aad, ct, t)) << "tag bit " << bit;
  }
  auto a = aad;
  a[0] ^= 1;
  EXPECT_TRUE(reject(iv, a, ct, tag));
  auto i = iv;
  i[11] ^= 1;
  EXPECT_TRUE(reject(i, aad, ct, tag));
  EXPECT_TRUE(reject(iv, aad, ct, bytes(tag.begin(), tag.end() - 1)));
  // And the untouched message still opens on the same object afterwards.
  auto c = ct;
  EXPECT_FALSE(g.open(iv, aad, c, tag));
  EXPECT_EQ(c, r.data("pt"));
}

// ---- ChaCha20 / Poly1305 --------------------------------------------------------------------

TEST(chacha20, rfc_8439_vectors_match) {
  int n = 0;
  for (const auto& r : load("chacha20_poly1305.txt")) {
    if (r.text("kind") != "chacha20") continue;
    SCOPED_TRACE(r.text("case"));
    auto data = r.data("pt");
    chacha20_xor(r.data("key"), static_cast<std::uint32_t>(std::stoul(r.text("counter"))),
                 r.data("nonce"), data);
    EXPECT_EQ(to_hex(data), to_hex(r.data("ct")));
    ++n;
  }
  EXPECT_EQ(n, 4);
}

TEST(poly1305, rfc_8439_vectors_match) {
  int n = 0;
  for (const auto& r : load("chacha20_poly1305.txt")) {
    if (r.text("kind") != "poly1305") continue;
    SCOPED_TRACE(r.text("case"));
    bytes tag(16);
    poly1305(r.data("key"), r.data("msg"), tag);
    EXPECT_EQ(to_hex(tag), to_hex(r.data("tag")));
    ++n;
  }
  EXPECT_EQ(n, 2);
}

// ---- chacha20-poly1305@openssh.com ----------------------------------------------------------

// The construction recomputed from the spec with the RFC 8439 primitives (not the class).
void reference_seal(byte_view key, std::uint32_t seqnr, bytes& packet, bytes& tag) {
  bytes nonce(12, 0);
  for (int i = 0; i < 4; ++i) nonce[8 + i] = static_cast<std::uint8_t>(seqnr >> (24 - 8 * i));
  auto k2 = key.first(32), k1 = key.subspan(32);
  chacha20_xor(k1, 0, nonce, mutable_byte_view{packet}.first(4));
  chacha20_xor(k2, 1, nonce, mutable_byte_view{packet}.subspan(4));
  bytes poly_key(32, 0);
  chacha20_xor(k2, 0, nonce, poly_key);
  tag.resize(16);
  poly1305(poly_key, packet, tag);
}

TEST(chacha20_poly1305_openssh, known_answers_match) {
  auto records = load("chacha20_poly1305_openssh.txt");
  ASSERT_EQ(records.size(), 3u);
  for (const auto& r : records) {
    auto seqnr = static_cast<std::uint32_t>(std::stoul(r.text("seqnr")));
    SCOPED_TRACE(seqnr);
    chacha20_poly1305_openssh c{r.data("key")};
    auto packet = r.data("packet");
    bytes tag(16);
    c.seal(seqnr, packet, tag);
    EXPECT_EQ(to_hex(packet), to_hex(r.data("sealed")));
    EXPECT_EQ(to_hex(tag), to_hex(r.data("tag")));
    auto plain = r.data("packet");
    EXPECT_EQ(c.decrypt_length(seqnr, packet), be32(plain));
    EXPECT_FALSE(c.open(seqnr, packet, tag));
    EXPECT_EQ(packet, plain);
  }
}

TEST(chacha20_poly1305_openssh, matches_reference_built_from_rfc_8439_primitives) {
  bytes key(64);
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(i * 7 + 3);
  chacha20_poly1305_openssh c{key};
  for (std::uint32_t seqnr : {0u, 1u, 2u, 0x01020304u, 0xffffffffu}) {
    bytes packet(4 + 60 + (seqnr & 31));
    for (std::size_t i = 0; i < packet.size(); ++i) packet[i] = static_cast<std::uint8_t>(i + seqnr);
    auto expect = packet;
    bytes expect_tag;
    reference_seal(key, seqnr, expect, expect_tag);
    bytes tag(16);
    c.seal(seqnr, packet, tag);
    EXPECT_EQ(to_hex(packet), to_hex(expect)) << seqnr;
    EXPECT_EQ(to_hex(tag), to_hex(expect_tag)) << seqnr;
  }
}

TEST(chacha20_poly1305_openssh, any_flipped_bit_is_rejected_and_packet_left_alone) {
  bytes key(64);
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(255 - i);
  chacha20_poly1305_openssh c{key};
  const std::uint32_t seqnr = 3;
  bytes packet = {0, 0, 0, 12, 4, 'h', 'e', 'l', 'l', 'o', 0, 0, 0, 0, 0, 0};
  bytes tag(16);
  c.seal(seqnr, packet, tag);
  bytes wire = packet;
  wire.insert(wire.end(), tag.begin(), tag.end());
  for (std::size_t bit = 0; bit < wire.size() * 8; ++bit) {
    auto w = wire;
    w[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    bytes p(w.begin(), w.end() - 16), t(w.end() - 16, w.end());
    const auto before = p;
    EXPECT_EQ(c.open(seqnr, p, t), errc::auth_tag_mismatch) << "bit " << bit;
    EXPECT_EQ(p, before) << "decrypted before authenticating, bit " << bit;
  }
  auto p = packet;
  EXPECT_EQ(c.open(seqnr + 1, p, tag), errc::auth_tag_mismatch);
  EXPECT_FALSE(c.open(seqnr, p, tag));
  EXPECT_EQ(be32(p), 12u);
}

TEST(chacha20_poly1305_openssh, decrypt_length_reads_only_the_length) {
  bytes key(64, 0x42);
  chacha20_poly1305_openssh c{key};
  bytes packet(4 + 32, 0xee);
  packet[0] = 0;
  packet[1] = 0;
  packet[2] = 0x01;
  packet[3] = 0x20;
  bytes tag(16);
  c.seal(77, packet, tag);
  EXPECT_EQ(c.decrypt_length(77, byte_view{packet}.first(4)), 0x120u);
  EXPECT_NE(c.decrypt_length(78, byte_view{packet}.first(4)), 0x120u);
  // Length decryption does not disturb the next full open.
  EXPECT_FALSE(c.open(77, packet, tag));
  EXPECT_EQ(packet[4], 0xee);
}

TEST(chacha20_poly1305_openssh, key_must_be_64_bytes) {
  EXPECT_THROW(chacha20_poly1305_openssh(bytes(32)), system_error);
}

}  // namespace
}  // namespace ferry::crypto
