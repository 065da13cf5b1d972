// Key files against OpenSSH's ssh-keygen, generated at test time: every key type in every format
// ssh-keygen writes (openssh, -m PEM, -m PKCS8), with and without a passphrase, loads, signs and
// verifies; keys ferry writes are read back by ssh-keygen -y; fingerprints equal ssh-keygen -l.
#include "sshd_fixture.hpp"

#include <ferry/crypto/random.hpp>
#include <ferry/ssh/keys/private_key.hpp>
#include <ferry/ssh/keys/public_key.hpp>
#include <ferry/ssh/proto/algorithms.hpp>
#include <ferry/ssh/proto/host_key.hpp>

#include <gtest/gtest.h>

namespace ssh_auth_keys_test {
using namespace ferry;
using namespace ferry::ssh;
namespace fs = std::filesystem;

namespace {

struct key_spec {
  std::string type;
  int bits;
  crypto::key_type expect;
};

const key_spec specs[] = {
    {"ed25519", 0, crypto::key_type::ed25519},
    {"ecdsa", 256, crypto::key_type::ecdsa_p256},
    {"ecdsa", 384, crypto::key_type::ecdsa_p384},
    {"ecdsa", 521, crypto::key_type::ecdsa_p521},
    {"rsa", 3072, crypto::key_type::rsa},
};

fs::path keygen(const interop::temp_dir& dir, const std::string& name, const key_spec& s,
                const std::string& format, const std::string& pass) {
  auto path = dir / name;
  std::vector<std::string> argv{"ssh-keygen", "-q", "-t", s.type, "-N", pass, "-C", "c-" + name,
                                "-f", path.string()};
  if (s.bits) {
    argv.push_back("-b");
    argv.push_back(std::to_string(s.bits));
  }
  if (!format.empty()) {
    argv.push_back("-m");
    argv.push_back(format);
  }
  EXPECT_EQ(interop::run(argv, dir / "keygen.log"), 0) << interop::read_file(dir / "keygen.log");
  return path;
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

// ssh-keygen's own output for a command (stdout+stderr), first line.
std::string keygen_output(const interop::temp_dir& dir, const std::vector<std::string>& argv) {
  auto log = dir / "out.log";
  fs::remove(log);
  EXPECT_EQ(interop::run(argv, log), 0) << interop::read_file(log);
  return first_line(interop::read_file(log));
}

void expect_signs_and_verifies(const crypto::private_key& k) {
  bytes data = to_bytes("data to sign");
  for (const auto& alg : proto::host_key_algorithms()) {
    if (alg.key != k.type() || alg.name == "ssh-rsa") continue;
    bytes sig;
    ASSERT_FALSE(proto::sign_blob(alg, k, data, sig)) << alg.name;
    EXPECT_FALSE(proto::verify_blob(alg, k.public_part(), data, sig)) << alg.name;
    data.push_back(1);
    EXPECT_TRUE(proto::verify_blob(alg, k.public_part(), data, sig)) << alg.name;
  }
}

}  // namespace

// Each key is generated once; ssh-keygen -p then rewrites copies of it in each format, with and
// without a passphrase (-a 4 keeps bcrypt_pbkdf cheap; the 16-round default is covered by the
// vectors in tests/vectors/keys).
TEST(ssh_auth_keys, ssh_keygen_keys_load_in_every_format_with_and_without_passphrase) {
  interop::temp_dir dir{"ferry-keys-"};
  int n = 0;
  for (const auto& s : specs) {
    auto base = keygen(dir, "base" + std::to_string(n), s, "", "");
    std::vector<std::string> formats{"RFC4716"};
    if (s.type != "ed25519") formats = {"RFC4716", "PEM", "PKCS8"};  // ed25519: openssh only
    for (const auto& f : formats) {
      for (std::string pass : {"", "pass phrase 1"}) {
        auto name = "k" + std::to_string(n++);
        auto path = dir / name;
        fs::copy_file(base, path);
        fs::copy_file(base.string() + ".pub", path.string() + ".pub");
        ASSERT_EQ(interop::run({"ssh-keygen", "-q", "-p", "-P", "", "-N", pass, "-a", "4", "-m", f,
                                "-f", path.string()},
                               dir / "p.log"),
                  0)
            << interop::read_file(dir / "p.log");
        SCOPED_TRACE(s.type + " " + std::to_string(s.bits) + " " + f + " pass=" + pass);
        keys::key_file k;
        auto ec = keys::read_private_key_file(path, as_bytes(pass), k);
        ASSERT_FALSE(ec) << ec.message();
        EXPECT_EQ(k.key.type(), s.expect);
        // The public half is the .pub file's key.
        crypto::public_key pub;
        ASSERT_FALSE(keys::parse_public_key_line(interop::read_file(path.string() + ".pub"), pub));
        EXPECT_EQ(proto::encode_public_key(pub), proto::encode_public_key(k.key.public_part()));
        if (f == "RFC4716") {
          EXPECT_EQ(k.comment, "c-" + base.filename().string());
        }
        expect_signs_and_verifies(k.key);
        if (!pass.empty()) {
          keys::key_file w;
          EXPECT_EQ(keys::read_private_key_file(path, as_bytes("wrong phrase"), w),
                    keys::errc::wrong_passphrase);
          EXPECT_EQ(keys::read_private_key_file(path, {}, w), keys::errc::passphrase_required);
        }
      }
    }
  }
}

TEST(ssh_auth_keys, ed25519_pkcs8_from_openssl_loads) {
  interop::temp_dir dir{"ferry-keys-"};
  auto path = dir / "ed.pem";
  ASSERT_EQ(interop::run({"openssl", "genpkey", "-algorithm", "ed25519", "-out", path.string()},
                         dir / "openssl.log"),
            0);
  keys::key_file k;
  ASSERT_FALSE(keys::read_private_key_file(path, {}, k));
  EXPECT_EQ(k.key.type(), crypto::key_type::ed25519);
  expect_signs_and_verifies(k.key);
}

TEST(ssh_auth_keys, keys_ferry_writes_are_read_by_ssh_keygen_with_matching_fingerprints) {
  interop::temp_dir dir{"ferry-keys-"};
  int n = 0;
  for (const auto& s : specs) {
    auto key = keys::generate_key(s.expect, 2048);
    for (std::string pass : {"", "ferry pass"}) {
      auto path = dir / ("w" + std::to_string(n++));
      SCOPED_TRACE(s.type + " " + std::to_string(s.bits) + " pass=" + pass);
      keys::write_options o;
      o.comment = "written@ferry";
      o.passphrase = as_bytes(pass);
      o.rounds = 4;
      interop::write_file(path, keys::write_openssh_private_key(key, o));
      fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
      // ssh-keygen -y prints the public key of the private key file.
      auto y = keygen_output(dir, {"ssh-keygen", "-y", "-P", pass, "-f", path.string()});
      crypto::public_key pub;
      ASSERT_FALSE(keys::parse_public_key_line(y, pub)) << y;
      EXPECT_EQ(proto::encode_public_key(pub), proto::encode_public_key(key.public_part()));
      // ssh-keygen -l on the .pub ferry writes: the same line as ferry's fingerprint_line.
      interop::write_file(path.string() + ".pub",
                          keys::format_public_key_line(key.public_part(), "written@ferry") + "\n");
      auto l = keygen_output(dir, {"ssh-keygen", "-l", "-f", path.string() + ".pub"});
      EXPECT_EQ(l, keys::fingerprint_line(key.public_part(), "written@ferry"));
      // And ferry reads its own file back.
      keys::key_file back;
      ASSERT_FALSE(keys::read_private_key_file(path, as_bytes(pass), back));
      EXPECT_EQ(back.comment, "written@ferry");
      EXPECT_EQ(proto::encode_public_key(back.key.public_part()),
                proto::encode_public_key(key.public_part()));
    }
  }
}

TEST(ssh_auth_keys, ssh_keygen_changing_the_passphrase_of_a_ferry_key_keeps_it_loadable) {
  interop::temp_dir dir{"ferry-keys-"};
  auto key = keys::generate_key(crypto::key_type::ed25519);
  auto path = dir / "id";
  keys::write_options o;
  o.passphrase = as_bytes("first pass");
  o.rounds = 4;
  interop::write_file(path, keys::write_openssh_private_key(key, o));
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
  ASSERT_EQ(interop::run({"ssh-keygen", "-p", "-a", "4", "-P", "first pass", "-N", "second pass", "-f",
                          path.string()},
                         dir / "p.log"),
            0)
      << interop::read_file(dir / "p.log");
  keys::key_file k;
  ASSERT_FALSE(keys::read_private_key_file(path, as_bytes("second pass"), k));
  EXPECT_EQ(proto::encode_public_key(k.key.public_part()), proto::encode_public_key(key.public_part()));
  EXPECT_EQ(keys::read_private_key_file(path, as_bytes("first pass"), k), keys::errc::wrong_passphrase);
}

}  // namespace ssh_auth_keys_test
