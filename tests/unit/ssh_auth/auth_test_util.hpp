// Shared helpers for the ssh_auth unit tests: cached keys, a users file, and an authenticator
// that records what it was asked.
#pragma once

#include <ferry/auth/authorized_keys.hpp>
#include <ferry/auth/composite.hpp>
#include <ferry/auth/static_users.hpp>
#include <ferry/crypto/password.hpp>
#include <ferry/ssh/keys/public_key.hpp>
#include <ferry/ssh/proto/host_key.hpp>
#include <ferry/test/random.hpp>

#include <map>
#include <memory>
#include <string>

namespace ferry::ssh_auth_test {

// Keys are made once per process (RSA generation is slow); seeds differ per (type, index).
inline std::shared_ptr<const crypto::private_key> key(crypto::key_type t, int index = 0) {
  static std::map<std::pair<crypto::key_type, int>, std::shared_ptr<const crypto::private_key>> cache;
  auto& k = cache[{t, index}];
  if (!k) {
    test::fixed_random rng{static_cast<std::uint64_t>(t) * 1000 + static_cast<std::uint64_t>(index) + 7};
    k = std::make_shared<const crypto::private_key>(crypto::private_key::generate(t, rng, 2048));
  }
  return k;
}

inline bytes blob_of(const crypto::private_key& k) {
  return ssh::proto::encode_public_key(k.public_part());
}

inline std::string pub_line(const crypto::private_key& k) {
  return ssh::keys::format_public_key_line(k.public_part(), "test");
}

// A cheap scrypt cost so tests stay fast.
inline crypto::scrypt_params cheap() { return {10, 8, 1}; }

inline std::string hash_of(std::string_view pw) {
  test::fixed_random rng{99};
  return crypto::hash_password(as_bytes(pw), rng, cheap());
}

// alice: password "correct horse" and keys (ed25519 #0, ecdsa256 #0, rsa #0) in authorized_keys.
// bob: password only.
inline auth::composite<auth::authorized_keys_authenticator, auth::static_users> make_authenticator() {
  auth::authorized_keys_authenticator ak;
  auth::grant g;
  g.user = "alice";
  std::string lines;
  for (auto t : {crypto::key_type::ed25519, crypto::key_type::ecdsa_p256, crypto::key_type::ecdsa_p384,
                 crypto::key_type::ecdsa_p521, crypto::key_type::rsa})
    lines += pub_line(*key(t)) + "\n";
  ak.add_user("alice", g, lines);
  auth::static_users su{cheap()};
  auth::user_entry a;
  a.name = "alice";
  a.password_hash = hash_of("correct horse");
  a.methods = {auth::method::password, auth::method::keyboard_interactive, auth::method::publickey};
  (void)su.add(a);
  auth::user_entry b;
  b.name = "bob";
  b.password_hash = hash_of("bob's secret");
  (void)su.add(b);
  return auth::composite<auth::authorized_keys_authenticator, auth::static_users>{std::move(ak),
                                                                                    std::move(su)};
}

inline secure_bytes secret(std::string_view s) { return secure_bytes(s.begin(), s.end()); }

}  // namespace ferry::ssh_auth_test
