#include <ferry/crypto/kex.hpp>
#include <ferry/test/random.hpp>

#include "scripted_random.hpp"
#include "vectors.hpp"

// Only to read OpenSSL's built-in RFC 3526 groups for the cross-check below.
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <gtest/gtest.h>

#include <string>

namespace ferry::crypto {
namespace {

using crypto_test::hex;
using crypto_test::load;
using crypto_test::scripted_random;
using crypto_test::to_hex;

std::string hex_of(const secure_bytes& s) { return to_hex(byte_view{s.data(), s.size()}); }

// ---- X25519 ---------------------------------------------------------------------------------

TEST(x25519, rfc_7748_section_5_2_vectors_match) {
  int n = 0;
  for (const auto& r : load("x25519.txt")) {
    if (!r.has("scalar")) continue;
    SCOPED_TRACE(r.text("case"));
    auto kp = x25519_keypair::from_private(r.data("scalar"));
    secure_bytes shared;
    ASSERT_FALSE(kp.derive(r.data("u"), shared));
    EXPECT_EQ(hex_of(shared), to_hex(r.data("out")));
    ++n;
  }
  EXPECT_EQ(n, 2);
}

TEST(x25519, rfc_7748_section_6_1_alice_and_bob_agree) {
  auto records = load("x25519.txt");
  const auto& r = records.at(2);
  ASSERT_EQ(r.text("case"), "6.1");
  // Drive generate() through the rng so the rng path is what is checked.
  scripted_random alice_rng{r.data("alice_private")}, bob_rng{r.data("bob_private")};
  auto alice = x25519_keypair::generate(alice_rng);
  auto bob = x25519_keypair::generate(bob_rng);
  EXPECT_EQ(to_hex(alice.public_key()), to_hex(r.data("alice_public")));
  EXPECT_EQ(to_hex(bob.public_key()), to_hex(r.data("bob_public")));
  secure_bytes k1, k2;
  ASSERT_FALSE(alice.derive(bob.public_key(), k1));
  ASSERT_FALSE(bob.derive(alice.public_key(), k2));
  EXPECT_EQ(hex_of(k1), to_hex(r.data("shared")));
  EXPECT_EQ(hex_of(k2), to_hex(r.data("shared")));
}

TEST(x25519, low_order_points_giving_zero_secret_are_refused) {
  test::fixed_random rng;
  auto kp = x25519_keypair::generate(rng);
  bytes zero(32, 0), one(32, 0);
  one[0] = 1;  // u = 1 (little-endian)
  // RFC 7748 §7 lists these among the points of small order; they make the output all zeros.
  for (const auto& peer : {zero, one}) {
    secure_bytes shared{1, 2, 3};
    EXPECT_EQ(kp.derive(peer, shared), errc::invalid_public_value) << to_hex(peer);
    EXPECT_TRUE(shared.empty());
  }
}

TEST(x25519, wrong_length_peer_is_refused) {
  test::fixed_random rng;
  auto kp = x25519_keypair::generate(rng);
  secure_bytes shared;
  EXPECT_EQ(kp.derive(bytes(31, 9), shared), errc::invalid_public_value);
  EXPECT_EQ(kp.derive(bytes(33, 9), shared), errc::invalid_public_value);
}

TEST(x25519, fixed_rng_reproduces_keys_and_moved_key_still_derives) {
  test::fixed_random r1{42}, r2{42}, r3{43};
  auto a = x25519_keypair::generate(r1);
  auto b = x25519_keypair::generate(r2);
  auto c = x25519_keypair::generate(r3);
  EXPECT_EQ(to_hex(a.public_key()), to_hex(b.public_key()));
  EXPECT_NE(to_hex(a.public_key()), to_hex(c.public_key()));
  x25519_keypair moved{std::move(a)};
  secure_bytes k1, k2;
  ASSERT_FALSE(moved.derive(c.public_key(), k1));
  ASSERT_FALSE(c.derive(moved.public_key(), k2));
  EXPECT_EQ(k1, k2);
}

// ---- ECDH -----------------------------------------------------------------------------------

using crypto_test::curve_named;

TEST(ecdh, rfc_5903_section_8_vectors_match) {
  auto records = load("ecdh.txt");
  ASSERT_EQ(records.size(), 3u);
  for (const auto& r : records) {
    SCOPED_TRACE(r.text("curve"));
    auto c = curve_named(r.text("curve"));
    auto i = ecdh_keypair::from_scalar(c, r.data("i"));
    auto rr = ecdh_keypair::from_scalar(c, r.data("r"));
    EXPECT_EQ(i.which(), c);
    EXPECT_EQ(to_hex(i.public_key()), to_hex(r.data("gi")));
    EXPECT_EQ(to_hex(rr.public_key()), to_hex(r.data("gr")));
    secure_bytes s1, s2;
    ASSERT_FALSE(i.derive(r.data("gr"), s1));
    ASSERT_FALSE(rr.derive(r.data("gi"), s2));
    EXPECT_EQ(hex_of(s1), to_hex(r.data("shared")));
    EXPECT_EQ(hex_of(s2), to_hex(r.data("shared")));
    EXPECT_EQ(s1.size(), curve_size(c));
  }
}

TEST(ecdh, generate_draws_the_scalar_from_the_rng) {
  // With the RFC 5903 P-256 private key as the rng's only output, generate() must give its point.
  const auto records = load("ecdh.txt");
  const auto& r = records.at(0);
  scripted_random rng{r.data("i")};
  auto kp = ecdh_keypair::generate(curve::p256, rng);
  EXPECT_EQ(to_hex(kp.public_key()), to_hex(r.data("gi")));
}

TEST(ecdh, scalar_at_or_above_order_is_redrawn) {
  // P-256 order n; the first draw is n itself (out of range), the second the RFC 5903 key.
  const auto records = load("ecdh.txt");
  auto script = hex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
  auto i = records.at(0).data("i");
  script.insert(script.end(), i.begin(), i.end());
  scripted_random rng{script};
  auto kp = ecdh_keypair::generate(curve::p256, rng);
  EXPECT_EQ(rng.used(), 64u);
  EXPECT_EQ(to_hex(kp.public_key()), to_hex(records.at(0).data("gi")));
  EXPECT_THROW(ecdh_keypair::from_scalar(curve::p256, bytes(32, 0)), system_error);
}

TEST(ecdh, invalid_peer_points_are_refused) {
  const auto records = load("ecdh.txt");
  for (const auto& r : records) {
    SCOPED_TRACE(r.text("curve"));
    auto c = curve_named(r.text("curve"));
    auto i = ecdh_keypair::from_scalar(c, r.data("i"));
    auto gr = r.data("gr");
    secure_bytes shared;
    auto off_curve = gr;
    off_curve.back() ^= 1;  // y changed: not on the curve
    EXPECT_EQ(i.derive(off_curve, shared), errc::invalid_public_value);
    EXPECT_EQ(i.derive(byte_view{gr}.first(gr.size() - 1), shared), errc::invalid_public_value);
    auto longer = gr;
    longer.push_back(0);
    EXPECT_EQ(i.derive(longer, shared), errc::invalid_public_value);
    auto compressed = gr;
    compressed[0] = 0x02;
    EXPECT_EQ(i.derive(compressed, shared), errc::invalid_public_value);
    EXPECT_EQ(i.derive(bytes{0x00}, shared), errc::invalid_public_value);  // SEC1 infinity
    EXPECT_EQ(i.derive(bytes(gr.size(), 0), shared), errc::invalid_public_value);
    auto zero_point = bytes(gr.size(), 0);
    zero_point[0] = 0x04;
    EXPECT_EQ(i.derive(zero_point, shared), errc::invalid_public_value);
    EXPECT_TRUE(shared.empty());
  }
}

TEST(ecdh, generated_keys_agree_on_every_curve) {
  test::fixed_random rng{7};
  for (auto c : {curve::p256, curve::p384, curve::p521}) {
    auto a = ecdh_keypair::generate(c, rng);
    auto b = ecdh_keypair::generate(c, rng);
    EXPECT_EQ(a.public_key().size(), 1 + 2 * curve_size(c));
    secure_bytes k1, k2;
    ASSERT_FALSE(a.derive(b.public_key(), k1));
    ASSERT_FALSE(b.derive(a.public_key(), k2));
    EXPECT_EQ(k1, k2);
    EXPECT_EQ(k1.size(), curve_size(c));
  }
}

// ---- finite-field DH ------------------------------------------------------------------------

bytes openssl_named_group_prime(const char* name) {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "DH", nullptr);
  EXPECT_NE(ctx, nullptr);
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>(name), 0),
      OSSL_PARAM_construct_end()};
  EVP_PKEY* key = nullptr;
  EXPECT_EQ(EVP_PKEY_fromdata_init(ctx), 1);
  EXPECT_EQ(EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_KEY_PARAMETERS, params), 1);
  BIGNUM* p = nullptr;
  EXPECT_EQ(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_FFC_P, &p), 1);
  bytes out(static_cast<std::size_t>(BN_num_bytes(p)));
  BN_bn2bin(p, out.data());
  BN_free(p);
  EVP_PKEY_free(key);
  EVP_PKEY_CTX_free(ctx);
  return out;
}

TEST(dh, rfc_3526_groups_equal_openssl_builtin_groups) {
  EXPECT_EQ(to_hex(dh_group::group14().p), to_hex(openssl_named_group_prime("modp_2048")));
  EXPECT_EQ(to_hex(dh_group::group16().p), to_hex(openssl_named_group_prime("modp_4096")));
  EXPECT_EQ(to_hex(dh_group::group18().p), to_hex(openssl_named_group_prime("modp_8192")));
  EXPECT_EQ(dh_group::group14().bits(), 2048u);
  EXPECT_EQ(dh_group::group16().bits(), 4096u);
  EXPECT_EQ(dh_group::group18().bits(), 8192u);
  EXPECT_EQ(dh_group::group14().g, bytes{2});
}

TEST(dh, known_answers_match) {
  auto records = load("dh.txt");
  ASSERT_EQ(records.size(), 2u);
  for (const auto& r : records) {
    SCOPED_TRACE(r.text("group"));
    dh_group g{r.data("p"), r.data("g")};
    if (r.text("group") == "group14") {
      EXPECT_EQ(g.p, dh_group::group14().p);
    }
    auto a = dh_keypair::from_private(g, r.data("x"));
    auto b = dh_keypair::from_private(g, r.data("y"));
    EXPECT_EQ(to_hex(a.public_value()), to_hex(r.data("e")));
    EXPECT_EQ(to_hex(b.public_value()), to_hex(r.data("f")));
    secure_bytes k1, k2;
    ASSERT_FALSE(a.derive(b.public_value(), k1));
    ASSERT_FALSE(b.derive(a.public_value(), k2));
    EXPECT_EQ(hex_of(k1), to_hex(r.data("k")));
    EXPECT_EQ(hex_of(k2), to_hex(r.data("k")));
  }
}

TEST(dh, generated_keys_agree_for_each_rfc_3526_group) {
  test::fixed_random rng{11};
  for (const dh_group* g : {&dh_group::group14(), &dh_group::group16(), &dh_group::group18()}) {
    auto a = dh_keypair::generate(*g, 512, rng);
    auto b = dh_keypair::generate(*g, 512, rng);
    secure_bytes k1, k2;
    ASSERT_FALSE(a.derive(b.public_value(), k1));
    ASSERT_FALSE(b.derive(a.public_value(), k2));
    EXPECT_EQ(k1, k2);
    EXPECT_NE(k1.front(), 0);  // a magnitude: no leading zero byte
    EXPECT_LE(k1.size(), g->p.size());
  }
}

TEST(dh, out_of_range_peer_values_are_refused) {
  const auto& g = dh_group::group14();
  test::fixed_random rng{12};
  auto kp = dh_keypair::generate(g, 256, rng);
  auto add = [](bytes v, int delta) {  // v + delta for delta in {-1, +1}, big-endian
    for (std::size_t i = v.size(); i-- > 0;) {
      int x = v[i] + delta;
      v[i] = static_cast<std::uint8_t>(x & 0xff);
      if (x >= 0 && x <= 255) break;
    }
    return v;
  };
  const bytes zero{0}, one{1}, p = g.p, pm1 = add(g.p, -1), pp1 = add(g.p, +1);
  for (const auto& f : {zero, one, pm1, p, pp1, bytes{}}) {
    secure_bytes shared;
    EXPECT_EQ(kp.derive(f, shared), errc::invalid_public_value) << to_hex(f);
    EXPECT_TRUE(shared.empty());
  }
  secure_bytes shared;
  EXPECT_FALSE(kp.derive(bytes{2}, shared));  // the smallest value the range allows
}

TEST(dh, private_exponent_comes_from_rng_with_requested_size) {
  // 16 bytes of script for a 128-bit exponent: the key equals from_private with those bytes.
  auto x = hex("0123456789abcdef0123456789abcdef");
  scripted_random rng{x};
  auto a = dh_keypair::generate(dh_group::group14(), 128, rng);
  auto b = dh_keypair::from_private(dh_group::group14(), x);
  EXPECT_EQ(rng.used(), 16u);
  EXPECT_EQ(to_hex(a.public_value()), to_hex(b.public_value()));
}

}  // namespace
}  // namespace ferry::crypto
