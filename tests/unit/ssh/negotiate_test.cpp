// RFC 4253 §7.1 negotiation, from tables.
#include <ferry/ssh/proto/negotiate.hpp>

#include <gtest/gtest.h>

using namespace ferry;
using namespace ferry::ssh;
using namespace ferry::ssh::proto;

namespace {

wire::name_list names(std::initializer_list<const char*> l) {
  wire::name_list n;
  for (auto* s : l) n.names.emplace_back(s);
  return n;
}

kexinit make(wire::name_list kex, wire::name_list hk, wire::name_list cipher, wire::name_list mac,
             wire::name_list comp = names({"none"})) {
  kexinit k;
  k.kex_algorithms = kex;
  k.server_host_key_algorithms = hk;
  k.encryption_client_to_server = k.encryption_server_to_client = cipher;
  k.mac_client_to_server = k.mac_server_to_client = mac;
  k.compression_client_to_server = k.compression_server_to_client = comp;
  return k;
}

struct row {
  const char* what;
  kexinit client, server;
  const char* kex;  // nullptr: must fail
  const char* host_key;
  const char* cipher;
  const char* mac;  // nullptr: AEAD, no MAC
};

}  // namespace

TEST(ssh_negotiate, picks_first_client_algorithm_the_server_supports) {
  std::vector<row> rows = {
      {"client order wins",
       make(names({"curve25519-sha256", "ecdh-sha2-nistp256"}), names({"ssh-ed25519", "rsa-sha2-512"}),
            names({"aes128-ctr", "aes256-ctr"}), names({"hmac-sha2-256", "hmac-sha2-512"})),
       make(names({"ecdh-sha2-nistp256", "curve25519-sha256"}), names({"rsa-sha2-512", "ssh-ed25519"}),
            names({"aes256-ctr", "aes128-ctr"}), names({"hmac-sha2-512", "hmac-sha2-256"})),
       "curve25519-sha256", "ssh-ed25519", "aes128-ctr", "hmac-sha2-256"},
      {"pseudo algorithms never match",
       make(names({"ext-info-c", "kex-strict-c-v00@openssh.com", "diffie-hellman-group14-sha256"}),
            names({"ecdsa-sha2-nistp256"}), names({"aes256-gcm@openssh.com"}), names({"hmac-sha2-256"})),
       make(names({"ext-info-c", "diffie-hellman-group14-sha256"}), names({"ecdsa-sha2-nistp256"}),
            names({"aes256-gcm@openssh.com"}), names({"hmac-sha2-512"})),
       "diffie-hellman-group14-sha256", "ecdsa-sha2-nistp256", "aes256-gcm@openssh.com", nullptr},
      {"unknown names are skipped",
       make(names({"sntrup761x25519-sha512@openssh.com", "curve25519-sha256@libssh.org"}),
            names({"ssh-dss", "rsa-sha2-256"}), names({"3des-cbc", "chacha20-poly1305@openssh.com"}),
            names({"umac-64@openssh.com"})),
       make(names({"sntrup761x25519-sha512@openssh.com", "curve25519-sha256@libssh.org"}),
            names({"ssh-dss", "rsa-sha2-256"}), names({"3des-cbc", "chacha20-poly1305@openssh.com"}),
            names({"umac-64@openssh.com"})),
       "curve25519-sha256@libssh.org", "rsa-sha2-256", "chacha20-poly1305@openssh.com", nullptr},
      {"no common kex",
       make(names({"curve25519-sha256"}), names({"ssh-ed25519"}), names({"aes128-ctr"}),
            names({"hmac-sha2-256"})),
       make(names({"ecdh-sha2-nistp256"}), names({"ssh-ed25519"}), names({"aes128-ctr"}),
            names({"hmac-sha2-256"})),
       nullptr, nullptr, nullptr, nullptr},
      {"no common MAC for a non-AEAD cipher",
       make(names({"curve25519-sha256"}), names({"ssh-ed25519"}), names({"aes128-ctr"}),
            names({"hmac-sha2-256"})),
       make(names({"curve25519-sha256"}), names({"ssh-ed25519"}), names({"aes128-ctr"}),
            names({"hmac-sha2-512"})),
       nullptr, nullptr, nullptr, nullptr},
      {"no common host key",
       make(names({"curve25519-sha256"}), names({"ssh-ed25519"}), names({"aes128-ctr"}),
            names({"hmac-sha2-256"})),
       make(names({"curve25519-sha256"}), names({"rsa-sha2-256"}), names({"aes128-ctr"}),
            names({"hmac-sha2-256"})),
       nullptr, nullptr, nullptr, nullptr},
  };
  for (const auto& r : rows) {
    negotiated n;
    auto ec = negotiate(r.client, r.server, n);
    if (!r.kex) {
      EXPECT_EQ(ec, disconnect_reason::key_exchange_failed) << r.what;
      continue;
    }
    ASSERT_FALSE(ec) << r.what;
    EXPECT_EQ(n.kex->name, r.kex) << r.what;
    EXPECT_EQ(n.host_key->name, r.host_key) << r.what;
    EXPECT_EQ(n.cipher_c2s->name, r.cipher) << r.what;
    EXPECT_EQ(n.cipher_s2c->name, r.cipher) << r.what;
    if (r.mac) {
      ASSERT_NE(n.mac_c2s, nullptr) << r.what;
      EXPECT_EQ(n.mac_c2s->name, r.mac) << r.what;
    } else {
      EXPECT_EQ(n.mac_c2s, nullptr) << r.what;
    }
  }
}

TEST(ssh_negotiate, directions_are_negotiated_separately) {
  auto c = make(names({"curve25519-sha256"}), names({"ssh-ed25519"}), names({"aes128-ctr"}),
                names({"hmac-sha2-256"}));
  c.encryption_server_to_client = names({"aes256-gcm@openssh.com", "aes128-ctr"});
  c.compression_server_to_client = names({"zlib@openssh.com", "none"});
  auto s = make(names({"curve25519-sha256"}), names({"ssh-ed25519"}),
                names({"aes128-ctr", "aes256-gcm@openssh.com"}), names({"hmac-sha2-256"}),
                names({"none", "zlib@openssh.com"}));
  negotiated n;
  ASSERT_FALSE(negotiate(c, s, n));
  EXPECT_EQ(n.cipher_c2s->name, "aes128-ctr");
  EXPECT_EQ(n.cipher_s2c->name, "aes256-gcm@openssh.com");
  EXPECT_EQ(n.mac_s2c, nullptr);
  EXPECT_EQ(n.mac_c2s->name, "hmac-sha2-256");
  EXPECT_EQ(n.compression_c2s->name, "none");
  EXPECT_EQ(n.compression_s2c->name, "zlib@openssh.com");
}

TEST(ssh_negotiate, strict_kex_needs_both_flags) {
  auto base = [](std::initializer_list<const char*> kex) {
    return make(names(kex), names({"ssh-ed25519"}), names({"aes128-ctr"}), names({"hmac-sha2-256"}));
  };
  struct {
    kexinit c, s;
    bool strict, ext_c, ext_s;
  } rows[] = {
      {base({"curve25519-sha256", "ext-info-c", "kex-strict-c-v00@openssh.com"}),
       base({"curve25519-sha256", "ext-info-s", "kex-strict-s-v00@openssh.com"}), true, true, true},
      {base({"curve25519-sha256", "kex-strict-c-v00@openssh.com"}), base({"curve25519-sha256"}),
       false, false, false},
      // The server's flag in the client's list (or the reverse) means nothing.
      {base({"curve25519-sha256", "kex-strict-s-v00@openssh.com"}),
       base({"curve25519-sha256", "kex-strict-c-v00@openssh.com"}), false, false, false},
  };
  for (const auto& r : rows) {
    negotiated n;
    ASSERT_FALSE(negotiate(r.c, r.s, n));
    EXPECT_EQ(n.strict_kex, r.strict);
    EXPECT_EQ(n.client_ext_info, r.ext_c);
    EXPECT_EQ(n.server_ext_info, r.ext_s);
  }
}

TEST(ssh_negotiate, guess_matches_only_when_both_first_choices_agree) {
  auto c = make(names({"curve25519-sha256", "ecdh-sha2-nistp256"}), names({"ssh-ed25519"}),
                names({"aes128-ctr"}), names({"hmac-sha2-256"}));
  auto s = c;
  negotiated n;
  ASSERT_FALSE(negotiate(c, s, n));
  EXPECT_TRUE(n.guess_matches);
  s.kex_algorithms = names({"ecdh-sha2-nistp256", "curve25519-sha256"});
  ASSERT_FALSE(negotiate(c, s, n));
  EXPECT_FALSE(n.guess_matches);
}

TEST(ssh_negotiate, default_lists_exclude_sha1_and_legacy_adds_it) {
  auto d = default_preferences();
  auto l = legacy_preferences();
  auto has = [](const std::vector<std::string>& v, std::string_view n) {
    return std::find(v.begin(), v.end(), n) != v.end();
  };
  EXPECT_FALSE(has(d.kex, "diffie-hellman-group14-sha1"));
  EXPECT_FALSE(has(d.host_key, "ssh-rsa"));
  EXPECT_FALSE(has(d.mac, "hmac-sha1"));
  EXPECT_TRUE(has(l.kex, "diffie-hellman-group14-sha1"));
  EXPECT_TRUE(has(l.host_key, "ssh-rsa"));
  EXPECT_TRUE(has(l.mac, "hmac-sha1-etm@openssh.com"));
  for (const auto* list : {&l.kex}) for (const auto& n : *list) EXPECT_NE(find_kex(n), nullptr) << n;
  for (const auto& n : l.host_key) EXPECT_NE(find_host_key(n), nullptr) << n;
  for (const auto& n : l.cipher) EXPECT_NE(find_cipher(n), nullptr) << n;
  for (const auto& n : l.mac) EXPECT_NE(find_mac(n), nullptr) << n;
  for (const auto& n : l.compression) EXPECT_NE(find_compression(n), nullptr) << n;
}
