#include <ferry/crypto/random.hpp>
#include <ferry/crypto/sign.hpp>
#include <ferry/test/random.hpp>

#include "scripted_random.hpp"
#include "vectors.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ferry::crypto {
namespace {

using crypto_test::hex;
using crypto_test::load;
using crypto_test::scripted_random;
using crypto_test::to_hex;

bytes flip(bytes b, std::size_t bit) {
  b[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
  return b;
}

// ---- Ed25519 --------------------------------------------------------------------------------

TEST(ed25519, rfc_8032_tests_1_to_3_sign_and_verify) {
  auto records = load("ed25519.txt");
  ASSERT_EQ(records.size(), 3u);
  for (const auto& r : records) {
    SCOPED_TRACE(r.text("case"));
    auto key = private_key::ed25519_from_seed(r.data("seed"));
    ASSERT_TRUE(key.valid());
    EXPECT_EQ(key.type(), key_type::ed25519);
    auto pub = key.public_part();
    EXPECT_EQ(to_hex(pub.ed25519_bytes()), to_hex(r.data("public")));
    bytes sig;
    ASSERT_FALSE(key.sign(hash_alg::sha512, r.data("msg"), sig));
    EXPECT_EQ(to_hex(sig), to_hex(r.data("sig")));  // Ed25519 is deterministic
    auto from_bytes = public_key::ed25519(r.data("public"));
    EXPECT_FALSE(from_bytes.verify(hash_alg::sha512, r.data("msg"), r.data("sig")));
    auto other_msg = r.data("msg");
    other_msg.push_back(0);
    EXPECT_EQ(from_bytes.verify(hash_alg::sha512, other_msg, r.data("sig")), errc::bad_signature);
    EXPECT_EQ(from_bytes.verify(hash_alg::sha512, r.data("msg"), flip(r.data("sig"), 3)),
              errc::bad_signature);
    EXPECT_EQ(to_hex(byte_view{key.ed25519_seed().data(), 32}), to_hex(r.data("seed")));
  }
}

TEST(ed25519, generate_takes_the_seed_from_the_rng) {
  auto records = load("ed25519.txt");
  scripted_random rng{records.at(0).data("seed")};
  auto key = private_key::generate(key_type::ed25519, rng);
  EXPECT_EQ(to_hex(key.public_part().ed25519_bytes()), to_hex(records.at(0).data("public")));
}

TEST(ed25519, malformed_inputs_are_refused) {
  EXPECT_FALSE(public_key::ed25519(bytes(31)).valid());
  EXPECT_FALSE(private_key::ed25519_from_seed(bytes(33)).valid());
  auto records = load("ed25519.txt");
  auto pub = public_key::ed25519(records.at(0).data("public"));
  auto sig = records.at(0).data("sig");
  EXPECT_EQ(pub.verify(hash_alg::sha512, {}, byte_view{sig}.first(63)), errc::bad_signature);
}

// ---- ECDSA ----------------------------------------------------------------------------------

using crypto_test::curve_named;

hash_alg hash_named(const std::string& s) {
  if (s == "sha256") return hash_alg::sha256;
  if (s == "sha384") return hash_alg::sha384;
  return hash_alg::sha512;
}

TEST(ecdsa, rfc_6979_signatures_verify_and_altered_ones_fail) {
  auto records = load("ecdsa_rfc6979.txt");
  ASSERT_EQ(records.size(), 3u);
  for (const auto& r : records) {
    SCOPED_TRACE(r.text("section"));
    auto c = curve_named(r.text("curve"));
    auto h = hash_named(r.text("hash"));
    auto pub = public_key::ecdsa(c, r.data("q"));
    ASSERT_TRUE(pub.valid());
    EXPECT_EQ(pub.bits(), c == curve::p256 ? 256u : c == curve::p384 ? 384u : 521u);
    const auto msg = r.data("msg"), sig = r.data("sig");
    EXPECT_FALSE(pub.verify(h, msg, sig));
    EXPECT_EQ(pub.verify(h, as_bytes("samplf"), sig), errc::bad_signature);
    EXPECT_EQ(pub.verify(h, msg, flip(sig, 5)), errc::bad_signature);              // s
    EXPECT_EQ(pub.verify(h, msg, flip(sig, sig.size() * 4)), errc::bad_signature);  // r
    EXPECT_EQ(pub.verify(h, msg, byte_view{sig}.first(sig.size() - 1)), errc::bad_signature);
    // The private scalar reproduces the public point, and its own signatures verify.
    auto key = private_key::ecdsa_from_scalar(c, r.data("x"));
    ASSERT_TRUE(key.valid());
    EXPECT_EQ(to_hex(key.public_part().ecdsa_point()), to_hex(r.data("q")));
    EXPECT_EQ(to_hex(byte_view{key.ecdsa_scalar().data(), curve_size(c)}), to_hex(r.data("x")));
    bytes mine;
    ASSERT_FALSE(key.sign(h, msg, mine));
    EXPECT_EQ(mine.size(), 2 * curve_size(c));
    EXPECT_FALSE(pub.verify(h, msg, mine));
    EXPECT_EQ(pub.verify(h, as_bytes("samplf"), mine), errc::bad_signature);
  }
}

TEST(ecdsa, generated_keys_round_trip_on_every_curve) {
  test::fixed_random rng{99};
  for (auto t : {key_type::ecdsa_p256, key_type::ecdsa_p384, key_type::ecdsa_p521}) {
    auto key = private_key::generate(t, rng);
    ASSERT_TRUE(key.valid());
    EXPECT_EQ(key.type(), t);
    auto h = t == key_type::ecdsa_p256 ? hash_alg::sha256
             : t == key_type::ecdsa_p384 ? hash_alg::sha384
                                        : hash_alg::sha512;
    bytes sig;
    ASSERT_FALSE(key.sign(h, as_bytes("data"), sig));
    auto pub = key.public_part();
    EXPECT_EQ(pub.type(), t);
    EXPECT_FALSE(pub.verify(h, as_bytes("data"), sig));
    EXPECT_EQ(pub.verify(h, as_bytes("date"), sig), errc::bad_signature);
    // Rebuilt from its exported parts, the key is the same key.
    auto c = t == key_type::ecdsa_p256 ? curve::p256 : t == key_type::ecdsa_p384 ? curve::p384 : curve::p521;
    auto again = private_key::ecdsa_from_scalar(c, key.ecdsa_scalar());
    EXPECT_EQ(again.public_part().ecdsa_point(), pub.ecdsa_point());
  }
  test::fixed_random r1{5}, r2{5};
  EXPECT_EQ(private_key::generate(key_type::ecdsa_p256, r1).public_part().ecdsa_point(),
            private_key::generate(key_type::ecdsa_p256, r2).public_part().ecdsa_point());
}

TEST(ecdsa, scalar_with_mpint_sign_byte_is_accepted) {
  auto records = load("ecdsa_rfc6979.txt");
  const auto& r = records.at(0);  // P-256 x starts with 0xc9: an mpint gives it a 0x00 prefix
  auto x = r.data("x");
  x.insert(x.begin(), 0);
  auto key = private_key::ecdsa_from_scalar(curve::p256, x);
  ASSERT_TRUE(key.valid());
  EXPECT_EQ(to_hex(key.public_part().ecdsa_point()), to_hex(r.data("q")));
  EXPECT_EQ(key.ecdsa_scalar().size(), 32u);
}

TEST(ecdsa, invalid_points_and_scalars_are_refused) {
  auto records = load("ecdsa_rfc6979.txt");
  auto q = records.at(0).data("q");
  EXPECT_FALSE(public_key::ecdsa(curve::p256, flip(q, q.size() * 8 - 1)).valid());  // off curve
  EXPECT_FALSE(public_key::ecdsa(curve::p384, q).valid());                          // wrong size
  EXPECT_FALSE(private_key::ecdsa_from_scalar(curve::p256, bytes(32, 0)).valid());
  EXPECT_FALSE(private_key::ecdsa_from_scalar(
                   curve::p256, hex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551"))
                   .valid());  // d = n
}

// ---- RSA PKCS#1 v1.5 ------------------------------------------------------------------------

TEST(rsa, openssl_made_signatures_are_reproduced_exactly) {
  auto records = load("rsa_pkcs1.txt");
  ASSERT_EQ(records.size(), 1u);
  const auto& r = records[0];
  auto key = private_key::rsa_from_components(r.data("n"), r.data("e"), r.data("d"), r.data("p"),
                                              r.data("q"), r.data("iqmp"));
  ASSERT_TRUE(key.valid());
  auto pub = public_key::rsa(r.data("n"), r.data("e"));
  ASSERT_TRUE(pub.valid());
  EXPECT_EQ(pub.bits(), 2048u);
  const auto msg = r.data("msg");
  for (auto [h, field] : {std::pair{hash_alg::sha1, "sig_sha1"}, std::pair{hash_alg::sha256, "sig_sha256"},
                          std::pair{hash_alg::sha512, "sig_sha512"}}) {
    SCOPED_TRACE(field);
    bytes sig;
    ASSERT_FALSE(key.sign(h, msg, sig));
    EXPECT_EQ(to_hex(sig), to_hex(r.data(field)));
    EXPECT_FALSE(pub.verify(h, msg, r.data(field)));
    EXPECT_EQ(pub.verify(h, as_bytes("another message"), r.data(field)), errc::bad_signature);
    EXPECT_EQ(pub.verify(h, msg, flip(r.data(field), 100)), errc::bad_signature);
  }
  // A signature made with one hash does not verify under another.
  EXPECT_EQ(pub.verify(hash_alg::sha512, msg, r.data("sig_sha256")), errc::bad_signature);
  auto parts = key.rsa_components();
  EXPECT_EQ(parts.n, r.data("n"));
  EXPECT_EQ(parts.e, r.data("e"));
  EXPECT_EQ(to_hex(byte_view{parts.iqmp.data(), parts.iqmp.size()}), to_hex(r.data("iqmp")));
  EXPECT_EQ(key.public_part().rsa_n(), r.data("n"));
}

TEST(rsa, inconsistent_components_are_refused) {
  auto records = load("rsa_pkcs1.txt");
  const auto& r = records[0];
  auto bad_q = flip(r.data("q"), 9);
  EXPECT_FALSE(private_key::rsa_from_components(r.data("n"), r.data("e"), r.data("d"), r.data("p"),
                                                bad_q, r.data("iqmp"))
                   .valid());
  auto bad_d = flip(r.data("d"), 9);
  EXPECT_FALSE(private_key::rsa_from_components(r.data("n"), r.data("e"), bad_d, r.data("p"),
                                                r.data("q"), r.data("iqmp"))
                   .valid());
  EXPECT_FALSE(public_key::rsa(bytes(64, 0xff), r.data("e")).valid());  // 512-bit modulus
  EXPECT_FALSE(public_key::rsa(r.data("n"), bytes{2}).valid());        // even exponent
}

TEST(rsa, generated_key_signs_and_verifies_and_exports) {
  auto key = private_key::generate(key_type::rsa, system_random(), 2048);
  ASSERT_TRUE(key.valid());
  EXPECT_EQ(key.public_part().bits(), 2048u);
  for (auto h : {hash_alg::sha256, hash_alg::sha512}) {
    bytes sig;
    ASSERT_FALSE(key.sign(h, as_bytes("hello"), sig));
    EXPECT_EQ(sig.size(), 256u);
    EXPECT_FALSE(key.public_part().verify(h, as_bytes("hello"), sig));
    EXPECT_EQ(key.public_part().verify(h, as_bytes("hellp"), sig), errc::bad_signature);
  }
  auto parts = key.rsa_components();
  auto again = private_key::rsa_from_components(parts.n, parts.e, parts.d, parts.p, parts.q, parts.iqmp);
  ASSERT_TRUE(again.valid());
  bytes s1, s2;
  ASSERT_FALSE(key.sign(hash_alg::sha256, as_bytes("x"), s1));
  ASSERT_FALSE(again.sign(hash_alg::sha256, as_bytes("x"), s2));
  EXPECT_EQ(s1, s2);
}

TEST(public_key, copies_share_and_moves_empty_the_source) {
  auto records = load("ed25519.txt");
  auto a = public_key::ed25519(records.at(0).data("public"));
  public_key b = a;
  EXPECT_EQ(b.ed25519_bytes(), a.ed25519_bytes());
  public_key c = std::move(a);
  EXPECT_FALSE(a.valid());  // NOLINT(bugprone-use-after-move): the moved-from state is specified
  EXPECT_TRUE(c.valid());
  EXPECT_EQ(c.verify(hash_alg::sha512, {}, records.at(0).data("sig")), error_code{});
}

}  // namespace
}  // namespace ferry::crypto
