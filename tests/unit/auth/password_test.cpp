// crypto password hashing: scrypt strings made and checked by ferry, crypt(3) strings checked
// through libcrypt, and refusal of anything malformed or too costly.
#include <ferry/core/limits.hpp>
#include <ferry/crypto/password.hpp>
#include <ferry/test/random.hpp>

#include <gtest/gtest.h>

#include <stdexcept>

namespace ferry::crypto {
namespace {

constexpr scrypt_params fast{.ln = 4, .r = 8, .p = 1};

bytes from_hex(std::string_view h) {
  bytes out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(std::stoi(std::string{h.substr(i, 2)}, nullptr, 16)));
  }
  return out;
}

std::string b64_nopad(byte_view in) {
  static constexpr char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (auto b : in) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += a[(acc >> bits) & 63];
    }
  }
  if (bits) out += a[(acc << (6 - bits)) & 63];
  return out;
}

TEST(password, a_fresh_hash_accepts_its_password_and_nothing_else) {
  test::fixed_random rng;
  auto h = hash_password(as_bytes("correct horse"), rng, fast);
  EXPECT_EQ(h.rfind("$scrypt$ln=4,r=8,p=1$", 0), 0u) << h;
  EXPECT_TRUE(verify_password(as_bytes("correct horse"), h));
  EXPECT_FALSE(verify_password(as_bytes("correct horsE"), h));
  EXPECT_FALSE(verify_password(as_bytes(""), h));
  EXPECT_TRUE(password_hash_supported(h));
}

TEST(password, hashes_of_the_same_password_differ_by_salt) {
  test::fixed_random rng;
  auto a = hash_password(as_bytes("pw"), rng, fast);
  auto b = hash_password(as_bytes("pw"), rng, fast);
  EXPECT_NE(a, b);
  EXPECT_TRUE(verify_password(as_bytes("pw"), a));
  EXPECT_TRUE(verify_password(as_bytes("pw"), b));
}

TEST(password, rfc7914_test_vector_verifies) {
  // RFC 7914 §12: scrypt("pleaseletmein", "SodiumChloride", N=16384, r=8, p=1, dkLen=64).
  auto dk = from_hex(
      "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2"
      "d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887");
  auto encoded = "$scrypt$ln=14,r=8,p=1$" + b64_nopad(as_bytes("SodiumChloride")) + "$" +
                 b64_nopad(dk);
  EXPECT_TRUE(verify_password(as_bytes("pleaseletmein"), encoded));
  EXPECT_FALSE(verify_password(as_bytes("pleaseletmeim"), encoded));
  dk[63] ^= 1;
  auto flipped = "$scrypt$ln=14,r=8,p=1$" + b64_nopad(as_bytes("SodiumChloride")) + "$" +
                 b64_nopad(dk);
  EXPECT_FALSE(verify_password(as_bytes("pleaseletmein"), flipped));
}

TEST(password, malformed_strings_never_verify) {
  test::fixed_random rng;
  auto good = hash_password(as_bytes("pw"), rng, fast);
  auto salt_at = good.find('$', 9);
  for (std::string bad : {
           std::string{""}, std::string{"pw"}, std::string{"$scrypt$"},
           std::string{"$scrypt$ln=4,r=8$"} + good.substr(salt_at + 1),
           std::string{"$scrypt$r=8,ln=4,p=1$"} + good.substr(salt_at + 1),
           std::string{"$scrypt$ln=04,r=8,p=1$"} + good.substr(salt_at + 1),
           std::string{"$scrypt$ln=4,r=8,p=1,x=1$"} + good.substr(salt_at + 1),
           good + "$extra", good.substr(0, good.size() - 1) + "!",
           std::string{"$scrypt$ln=4,r=8,p=1$c2hvcnQ$"} + good.substr(good.rfind('$') + 1),
       }) {
    EXPECT_FALSE(verify_password(as_bytes("pw"), bad)) << bad;
    EXPECT_FALSE(password_hash_supported(bad)) << bad;
  }
}

TEST(password, costs_above_the_limits_are_refused_without_running) {
  test::fixed_random rng;
  auto good = hash_password(as_bytes("pw"), rng, fast);
  auto tail = good.substr(good.find('$', 9));
  auto too_big = "$scrypt$ln=" + std::to_string(limits::auth_scrypt_max_ln + 1) + ",r=8,p=1" + tail;
  EXPECT_FALSE(verify_password(as_bytes("pw"), too_big));
  EXPECT_FALSE(password_hash_supported(too_big));
  EXPECT_FALSE(password_hash_supported("$scrypt$ln=4,r=64,p=64" + tail));
  EXPECT_FALSE(password_hash_supported("$scrypt$ln=20,r=8,p=1" + tail));  // 1 GiB of memory
  EXPECT_THROW(hash_password(as_bytes("pw"), rng, {.ln = 30, .r = 8, .p = 1}),
               std::invalid_argument);
  std::string huge(limits::auth_max_password + 1, 'x');
  auto h = hash_password(as_bytes(huge), rng, fast);
  EXPECT_FALSE(verify_password(as_bytes(huge), h));
}

TEST(password, crypt3_sha512_and_yescrypt_strings_verify_when_libcrypt_is_linked) {
  // Made with `openssl passwd -6 -salt saltsalt` and libxcrypt's crypt() respectively.
  const std::string sha512 =
      "$6$saltsalt$hRM5XZ86KXEw9UOmjigeVqFgULtFB2sgpC9lXQDfMib3Zgw7mEiUvBJI2EplzfAqxL5Vvwp2scFtv/"
      "uamSo5z0";
  const std::string yescrypt = "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$zwtVrjrUCmXcyLTs6oxLTQlzifSUkF8RHJ./"
                               "tK5KU79";
  for (const auto& h : {sha512, yescrypt}) {
    EXPECT_EQ(verify_password(as_bytes("correct horse"), h), crypt_supported()) << h;
    EXPECT_FALSE(verify_password(as_bytes("correct horsf"), h)) << h;
    EXPECT_FALSE(verify_password(as_bytes(std::string_view("correct horse\0x", 15)), h)) << h;
    EXPECT_EQ(password_hash_supported(h), crypt_supported()) << h;
  }
  EXPECT_FALSE(password_hash_supported("$unknown$abc$def"));
}

}  // namespace
}  // namespace ferry::crypto
