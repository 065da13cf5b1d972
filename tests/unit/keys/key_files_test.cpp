// openssh-key-v1 files: keys encrypted by ssh-keygen (tests/vectors/keys) decrypt with their
// passphrase and only with it; ferry's own files round-trip; fingerprints equal ssh-keygen -l's;
// hostile containers are refused with typed errors and never throw.
#include "support/vectors_dir.hpp"
#include <ferry/ssh/keys/private_key.hpp>
#include <ferry/ssh/keys/proto/openssh_key.hpp>
#include <ferry/ssh/keys/public_key.hpp>
#include <ferry/ssh/proto/host_key.hpp>
#include <ferry/test/random.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

using namespace ferry;
using namespace ferry::ssh;

namespace {

std::string vector_file(const std::string& name) {
  std::ifstream in{std::string{FERRY_VECTORS_DIR} + "/keys/" + name, std::ios::binary};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string armour(const bytes& blob) {
  std::string out = "-----BEGIN OPENSSH PRIVATE KEY-----\n" + keys::base64_encode(blob) +
                    "\n-----END OPENSSH PRIVATE KEY-----\n";
  return out;
}

bytes unarmour(const std::string& text) {
  auto b = text.find('\n') + 1;
  auto e = text.find("-----END");
  std::string body;
  for (char c : text.substr(b, e - b))
    if (c != '\n') body += c;
  bytes out;
  EXPECT_TRUE(keys::base64_decode(body, out));
  return out;
}

crypto::private_key test_key(crypto::key_type t) {
  test::fixed_random rng{static_cast<std::uint64_t>(t) + 11};
  return crypto::private_key::generate(t, rng, 2048);
}

}  // namespace

TEST(key_files, ssh_keygen_encrypted_ed25519_decrypts_with_its_passphrase_only) {
  auto text = vector_file("ed25519_bcrypt_secret_pass");
  ASSERT_FALSE(text.empty());
  EXPECT_TRUE(keys::openssh_key_encrypted(text));
  keys::key_file k;
  ASSERT_FALSE(keys::read_private_key(text, as_bytes("secret pass"), k));
  EXPECT_EQ(k.comment, "vec@ferry");
  crypto::public_key pub;
  ASSERT_FALSE(keys::parse_public_key_line(vector_file("ed25519_bcrypt_secret_pass.pub"), pub));
  EXPECT_EQ(proto::encode_public_key(pub), proto::encode_public_key(k.key.public_part()));
  EXPECT_EQ(keys::read_private_key(text, as_bytes("secret pasS"), k), keys::errc::wrong_passphrase);
  EXPECT_EQ(keys::read_private_key(text, {}, k), keys::errc::passphrase_required);
}

TEST(key_files, ssh_keygen_encrypted_rsa_decrypts_and_signs) {
  keys::key_file k;
  ASSERT_FALSE(keys::read_private_key(vector_file("rsa2048_bcrypt_rsa-pass"), as_bytes("rsa-pass"), k));
  EXPECT_EQ(k.key.type(), crypto::key_type::rsa);
  EXPECT_EQ(k.comment, "rsa@vector");
  bytes sig;
  ASSERT_FALSE(k.key.sign(crypto::hash_alg::sha256, to_bytes("m"), sig));
  EXPECT_FALSE(k.key.public_part().verify(crypto::hash_alg::sha256, to_bytes("m"), sig));
}

TEST(key_files, fingerprints_equal_ssh_keygen_l_output) {
  auto expected = vector_file("fingerprints.txt");
  for (const auto* name : {"ed25519_bcrypt_secret_pass.pub", "rsa2048_bcrypt_rsa-pass.pub"}) {
    std::string comment;
    crypto::public_key k;
    ASSERT_FALSE(keys::parse_public_key_line(vector_file(name), k, &comment));
    auto line = keys::fingerprint_line(k, comment);
    EXPECT_NE(expected.find(line + "\n"), std::string::npos) << line;
  }
}

TEST(key_files, written_keys_read_back_for_every_type_plain_and_encrypted) {
  for (auto t : {crypto::key_type::ed25519, crypto::key_type::ecdsa_p256, crypto::key_type::ecdsa_p384,
                 crypto::key_type::ecdsa_p521, crypto::key_type::rsa}) {
    auto key = test_key(t);
    for (std::string pass : {"", "pw"}) {
      test::fixed_random rng{5};
      keys::write_options o;
      o.comment = "round trip";
      o.passphrase = as_bytes(pass);
      o.rounds = 2;
      o.rng = &rng;
      auto text = keys::write_openssh_private_key(key, o);
      EXPECT_EQ(keys::openssh_key_encrypted(text), !pass.empty());
      keys::key_file back;
      ASSERT_FALSE(keys::read_private_key(text, as_bytes(pass), back)) << static_cast<int>(t);
      EXPECT_EQ(back.comment, "round trip");
      EXPECT_EQ(proto::encode_public_key(back.key.public_part()),
                proto::encode_public_key(key.public_part()));
      // 70-column lines, as ssh-keygen writes them.
      std::istringstream lines{text};
      for (std::string l; std::getline(lines, l);) EXPECT_LE(l.size(), 70u);
    }
  }
}

TEST(key_files, plain_container_layout_follows_protocol_key) {
  test::fixed_random rng{1};
  auto key = test_key(crypto::key_type::ed25519);
  keys::write_options o;
  o.rng = &rng;
  auto blob = unarmour(keys::write_openssh_private_key(key, o));
  keys::proto::container c;
  ASSERT_FALSE(wire::decode(blob, c));
  EXPECT_EQ(c.magic_bytes, keys::proto::magic);
  EXPECT_EQ(c.cipher_name, "none");
  EXPECT_EQ(c.kdf_name, "none");
  EXPECT_TRUE(c.kdf_options.empty());
  EXPECT_EQ(c.number_of_keys, 1u);
  EXPECT_EQ(c.public_key, proto::encode_public_key(key.public_part()));
  EXPECT_EQ(c.private_section.size() % 8, 0u);
}

TEST(key_files, hostile_containers_are_refused_with_typed_errors) {
  test::fixed_random rng{1};
  auto key = test_key(crypto::key_type::ecdsa_p256);
  keys::write_options o;
  o.rng = &rng;
  auto good = unarmour(keys::write_openssh_private_key(key, o));
  keys::proto::container c;
  ASSERT_FALSE(wire::decode(good, c));
  keys::key_file k;
  auto with = [&](auto change) {
    auto m = c;
    change(m);
    return keys::read_private_key(armour(wire::encode(m)), {}, k);
  };
  EXPECT_EQ(with([](auto& m) { m.cipher_name = "3des-cbc"; }), keys::errc::unsupported_cipher);
  EXPECT_EQ(with([](auto& m) { m.number_of_keys = 2; }), keys::errc::malformed);
  EXPECT_EQ(with([](auto& m) { m.kdf_name = "scrypt"; }), keys::errc::unsupported_kdf);
  EXPECT_EQ(with([](auto& m) { m.magic_bytes[0] = 'O'; }), keys::errc::not_a_key);
  EXPECT_EQ(with([](auto& m) { m.private_section[0] ^= 1; }), keys::errc::malformed);  // check ints
  EXPECT_EQ(with([](auto& m) { m.private_section.pop_back(); }), keys::errc::malformed);
  test::fixed_random other_rng{777};
  auto other = crypto::private_key::generate(crypto::key_type::ecdsa_p256, other_rng);
  EXPECT_EQ(with([&](auto& m) { m.public_key = proto::encode_public_key(other.public_part()); }),
            keys::errc::public_mismatch);
  // Bad padding byte.
  EXPECT_EQ(with([](auto& m) { m.private_section.back() ^= 0x40; }), keys::errc::malformed);
  // Encrypted with absurd kdf rounds: refused before any work.
  keys::proto::bcrypt_options bo{bytes(16, 1), 1u << 30};
  EXPECT_EQ(with([&](auto& m) {
              m.cipher_name = "aes256-ctr";
              m.kdf_name = "bcrypt";
              m.kdf_options = wire::encode(bo);
            }),
            keys::errc::malformed);
  EXPECT_EQ(keys::read_private_key("hello", {}, k), keys::errc::not_a_key);
  EXPECT_EQ(keys::read_private_key("-----BEGIN OPENSSH PRIVATE KEY-----\n!!\n-----END OPENSSH PRIVATE KEY-----",
                                   {}, k),
            keys::errc::bad_base64);
  EXPECT_EQ(keys::read_private_key(std::string(limits::ssh_key_max_file + 1, 'A'), {}, k),
            keys::errc::too_large);
}

TEST(public_key_lines, parse_format_and_refuse_mismatched_types) {
  auto key = test_key(crypto::key_type::ed25519).public_part();
  auto line = keys::format_public_key_line(key, "me@host two words");
  keys::public_key_line l;
  ASSERT_FALSE(keys::parse_public_key_line("  " + line + "\r\n", l));
  EXPECT_EQ(l.type, "ssh-ed25519");
  EXPECT_EQ(l.comment, "me@host two words");
  EXPECT_EQ(l.blob, proto::encode_public_key(key));
  auto swapped = "ssh-rsa" + line.substr(std::string{"ssh-ed25519"}.size());
  EXPECT_EQ(keys::parse_public_key_line(swapped, l), keys::errc::malformed);
  EXPECT_EQ(keys::parse_public_key_line("ssh-ed25519 AAAA*", l), keys::errc::bad_base64);
  EXPECT_EQ(keys::parse_public_key_line("ssh-ed25519", l), keys::errc::not_a_key);
}

TEST(public_key_lines, base64_round_trips_and_is_strict) {
  for (std::size_t n = 0; n < 10; ++n) {
    bytes b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i * 37 + 1);
    bytes back;
    ASSERT_TRUE(keys::base64_decode(keys::base64_encode(b), back));
    EXPECT_EQ(back, b);
    ASSERT_TRUE(keys::base64_decode(keys::base64_encode(b, false), back));
    EXPECT_EQ(back, b);
  }
  bytes out;
  EXPECT_FALSE(keys::base64_decode("A", out));
  EXPECT_FALSE(keys::base64_decode("AB=C", out));
  EXPECT_FALSE(keys::base64_decode("AB===", out));
  EXPECT_FALSE(keys::base64_decode("AB\n", out));
  EXPECT_FALSE(keys::base64_decode("AF==", out));  // non-zero leftover bits
}

TEST(public_key_lines, fingerprint_is_unpadded_base64_of_sha256) {
  // SHA-256("") = e3b0c442...; its base64 without padding.
  EXPECT_EQ(keys::fingerprint_sha256(bytes{}), "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU");
}

// Found by fuzz_ssh_privkey: a SEC1 key whose public point is not d*G loaded through OpenSSL and
// then failed to round-trip. Such a key is refused.
TEST(key_files, pem_key_whose_public_point_does_not_match_the_scalar_is_refused) {
  keys::key_file k;
  EXPECT_EQ(keys::read_private_key(vector_file("ec_pem_public_not_d_times_g.pem"), {}, k),
            keys::errc::malformed);
}
