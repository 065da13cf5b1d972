// Blowfish against Eric Young's ECB test vectors (the set distributed with Schneier's reference
// code), and bcrypt_pbkdf against a published vector and keys encrypted by ssh-keygen.
#include <ferry/crypto/bcrypt_pbkdf.hpp>

#include <gtest/gtest.h>

#include <string>

using namespace ferry;

namespace {

bytes hex(std::string_view s) {
  bytes out;
  for (std::size_t i = 0; i + 1 < s.size(); i += 2)
    out.push_back(static_cast<std::uint8_t>(std::stoi(std::string{s.substr(i, 2)}, nullptr, 16)));
  return out;
}

struct ecb_vector {
  const char* key;
  const char* plain;
  const char* cipher;
};

// Eric Young's Blowfish ECB vectors (key, plaintext, ciphertext), 8-byte keys.
const ecb_vector ecb[] = {
    {"0000000000000000", "0000000000000000", "4EF997456198DD78"},
    {"FFFFFFFFFFFFFFFF", "FFFFFFFFFFFFFFFF", "51866FD5B85ECB8A"},
    {"3000000000000000", "1000000000000001", "7D856F9A613063F2"},
    {"1111111111111111", "1111111111111111", "2466DD878B963C9D"},
    {"0123456789ABCDEF", "1111111111111111", "61F9C3802281B096"},
    {"1111111111111111", "0123456789ABCDEF", "7D0CC630AFDA1EC7"},
    {"FEDCBA9876543210", "0123456789ABCDEF", "0ACEAB0FC6A0A28D"},
    {"7CA110454A1A6E57", "01A1D6D039776742", "59C68245EB05282B"},
    {"0131D9619DC1376E", "5CD54CA83DEF57DA", "B1B8CC0B250F09A0"},
};

}  // namespace

TEST(blowfish, ecb_encrypts_the_published_vectors_and_decrypts_them_back) {
  for (const auto& v : ecb) {
    SCOPED_TRACE(v.key);
    crypto::blowfish bf{hex(v.key)};
    auto p = hex(v.plain);
    auto c = hex(v.cipher);
    std::uint8_t out[8];
    bf.encrypt_block(p.data(), out);
    EXPECT_EQ(bytes(out, out + 8), c);
    bf.decrypt_block(c.data(), out);
    EXPECT_EQ(bytes(out, out + 8), p);
  }
}

TEST(blowfish, a_one_bit_key_change_changes_the_ciphertext) {
  auto k = hex("0123456789ABCDEF");
  crypto::blowfish a{k};
  k[7] ^= 1;
  crypto::blowfish b{k};
  std::uint8_t p[8] = {}, x[8], y[8];
  a.encrypt_block(p, x);
  b.encrypt_block(p, y);
  EXPECT_NE(bytes(x, x + 8), bytes(y, y + 8));
}

// The vector published with the pyca/bcrypt package's kdf tests (password, salt, 4 rounds).
TEST(bcrypt_pbkdf, matches_the_published_password_salt_vector) {
  std::uint8_t out[32];
  ASSERT_FALSE(crypto::bcrypt_pbkdf(as_bytes("password"), as_bytes("salt"), 4, out));
  EXPECT_EQ(bytes(out, out + 32),
            hex("5bbf0cc293587f1c3635555c27796598d47e579071bf427e9d8fbe842aba34d9"));
}

TEST(bcrypt_pbkdf, longer_outputs_interleave_blocks_and_prefixes_differ) {
  // The output is spread across blocks (stride), so a 48-byte key is not a 32-byte key extended.
  std::uint8_t a[32], b[48];
  ASSERT_FALSE(crypto::bcrypt_pbkdf(as_bytes("password"), as_bytes("salt"), 2, a));
  ASSERT_FALSE(crypto::bcrypt_pbkdf(as_bytes("password"), as_bytes("salt"), 2, b));
  EXPECT_NE(bytes(a, a + 32), bytes(b, b + 32));
  // Deterministic.
  std::uint8_t c[48];
  ASSERT_FALSE(crypto::bcrypt_pbkdf(as_bytes("password"), as_bytes("salt"), 2, c));
  EXPECT_EQ(bytes(b, b + 48), bytes(c, c + 48));
}

TEST(bcrypt_pbkdf, refuses_zero_rounds_empty_salt_and_oversized_output) {
  std::uint8_t out[32];
  EXPECT_EQ(crypto::bcrypt_pbkdf(as_bytes("p"), as_bytes("salt"), 0, out), errc::bad_value);
  EXPECT_EQ(crypto::bcrypt_pbkdf(as_bytes("p"), {}, 1, out), errc::bad_value);
  std::vector<std::uint8_t> big(1025);
  EXPECT_EQ(crypto::bcrypt_pbkdf(as_bytes("p"), as_bytes("salt"), 1, big), errc::bad_value);
}
