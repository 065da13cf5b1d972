// The algorithm registry: every kex method, host-key algorithm, cipher, MAC and compression
// method ferry implements, as name -> description tables, and the preference lists a transport
// offers by default and with the legacy algorithms added. A new algorithm is one table row plus,
// where it needs one, a new kind handled by the packet codec or the kex.
#pragma once

#include <ferry/crypto/hash.hpp>
#include <ferry/crypto/kex.hpp>
#include <ferry/crypto/sign.hpp>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::ssh::proto {

// Names in the kex list that are not kex methods but capability flags.
namespace pseudo {
inline constexpr std::string_view ext_info_c = "ext-info-c";  // RFC 8308 §2.1
inline constexpr std::string_view ext_info_s = "ext-info-s";
inline constexpr std::string_view strict_c = "kex-strict-c-v00@openssh.com";  // OpenSSH PROTOCOL 1.10
inline constexpr std::string_view strict_s = "kex-strict-s-v00@openssh.com";
inline bool is_pseudo(std::string_view n) noexcept {
  return n == ext_info_c || n == ext_info_s || n == strict_c || n == strict_s;
}
}  // namespace pseudo

enum class kex_kind { curve25519, ecdh, dh_group, dh_gex };

// RFC 3526 MODP groups (2048, 4096 and 8192 bits) used by the fixed-group methods.
enum class modp_group { none, group14, group16, group18 };

struct kex_algorithm {
  std::string_view name;
  kex_kind kind;
  crypto::hash_alg hash;
  crypto::curve curve;                   // ecdh only
  modp_group group;                      // dh_group only
};

enum class cipher_kind { none, aes_ctr, aes_gcm, chacha20_poly1305 };

struct cipher_algorithm {
  std::string_view name;
  cipher_kind kind;
  std::size_t key_size;
  std::size_t iv_size;
  std::size_t block_size;  // RFC 4253 §6: padding aligns to max(8, block size)
  std::size_t tag_size;    // AEAD tag; 0 when a MAC is negotiated
  bool aead() const noexcept { return tag_size != 0; }
};

struct mac_algorithm {
  std::string_view name;
  crypto::hash_alg hash;
  std::size_t key_size;
  std::size_t mac_size;
  bool etm;  // encrypt-then-MAC (OpenSSH PROTOCOL §1.7): the length stays clear
};

struct host_key_algorithm {
  std::string_view name;       // the algorithm negotiated and named in signatures
  crypto::key_type key;
  crypto::hash_alg hash;
  std::string_view blob_name;  // the name in the public key blob (ssh-rsa for rsa-sha2-*)
};

enum class compression_kind { none, zlib, zlib_delayed };

struct compression_algorithm {
  std::string_view name;
  compression_kind kind;
};

inline std::span<const kex_algorithm> kex_algorithms() {
  using crypto::curve;
  using crypto::hash_alg;
  static const kex_algorithm table[] = {
      {"curve25519-sha256", kex_kind::curve25519, hash_alg::sha256, curve::p256, modp_group::none},
      {"curve25519-sha256@libssh.org", kex_kind::curve25519, hash_alg::sha256, curve::p256, modp_group::none},
      {"ecdh-sha2-nistp256", kex_kind::ecdh, hash_alg::sha256, curve::p256, modp_group::none},
      {"ecdh-sha2-nistp384", kex_kind::ecdh, hash_alg::sha384, curve::p384, modp_group::none},
      {"ecdh-sha2-nistp521", kex_kind::ecdh, hash_alg::sha512, curve::p521, modp_group::none},
      {"diffie-hellman-group-exchange-sha256", kex_kind::dh_gex, hash_alg::sha256, curve::p256,
       modp_group::none},
      {"diffie-hellman-group16-sha512", kex_kind::dh_group, hash_alg::sha512, curve::p256,
       modp_group::group16},
      {"diffie-hellman-group18-sha512", kex_kind::dh_group, hash_alg::sha512, curve::p256,
       modp_group::group18},
      {"diffie-hellman-group14-sha256", kex_kind::dh_group, hash_alg::sha256, curve::p256,
       modp_group::group14},
      {"diffie-hellman-group14-sha1", kex_kind::dh_group, hash_alg::sha1, curve::p256,
       modp_group::group14},
  };
  return table;
}

inline std::span<const host_key_algorithm> host_key_algorithms() {
  using crypto::hash_alg;
  using crypto::key_type;
  static const host_key_algorithm table[] = {
      {"ssh-ed25519", key_type::ed25519, hash_alg::sha512, "ssh-ed25519"},
      {"ecdsa-sha2-nistp256", key_type::ecdsa_p256, hash_alg::sha256, "ecdsa-sha2-nistp256"},
      {"ecdsa-sha2-nistp384", key_type::ecdsa_p384, hash_alg::sha384, "ecdsa-sha2-nistp384"},
      {"ecdsa-sha2-nistp521", key_type::ecdsa_p521, hash_alg::sha512, "ecdsa-sha2-nistp521"},
      {"rsa-sha2-512", key_type::rsa, hash_alg::sha512, "ssh-rsa"},  // RFC 8332
      {"rsa-sha2-256", key_type::rsa, hash_alg::sha256, "ssh-rsa"},
      {"ssh-rsa", key_type::rsa, hash_alg::sha1, "ssh-rsa"},
  };
  return table;
}

inline std::span<const cipher_algorithm> cipher_algorithms() {
  static const cipher_algorithm table[] = {
      {"chacha20-poly1305@openssh.com", cipher_kind::chacha20_poly1305, 64, 0, 8, 16},
      {"aes128-ctr", cipher_kind::aes_ctr, 16, 16, 16, 0},
      {"aes192-ctr", cipher_kind::aes_ctr, 24, 16, 16, 0},
      {"aes256-ctr", cipher_kind::aes_ctr, 32, 16, 16, 0},
      {"aes128-gcm@openssh.com", cipher_kind::aes_gcm, 16, 12, 16, 16},  // RFC 5647 §7.1
      {"aes256-gcm@openssh.com", cipher_kind::aes_gcm, 32, 12, 16, 16},
      {"none", cipher_kind::none, 0, 0, 8, 0},
  };
  return table;
}

inline std::span<const mac_algorithm> mac_algorithms() {
  using crypto::hash_alg;
  static const mac_algorithm table[] = {
      {"hmac-sha2-256-etm@openssh.com", hash_alg::sha256, 32, 32, true},
      {"hmac-sha2-512-etm@openssh.com", hash_alg::sha512, 64, 64, true},
      {"hmac-sha2-256", hash_alg::sha256, 32, 32, false},  // RFC 6668
      {"hmac-sha2-512", hash_alg::sha512, 64, 64, false},
      {"hmac-sha1-etm@openssh.com", hash_alg::sha1, 20, 20, true},
      {"hmac-sha1", hash_alg::sha1, 20, 20, false},
  };
  return table;
}

inline std::span<const compression_algorithm> compression_algorithms() {
  static const compression_algorithm table[] = {
      {"none", compression_kind::none},
      {"zlib@openssh.com", compression_kind::zlib_delayed},
      {"zlib", compression_kind::zlib},
  };
  return table;
}

template <class T>
const T* find_in(std::span<const T> table, std::string_view name) noexcept {
  for (const auto& a : table)
    if (a.name == name) return &a;
  return nullptr;
}

inline const kex_algorithm* find_kex(std::string_view n) { return find_in(kex_algorithms(), n); }
inline const host_key_algorithm* find_host_key(std::string_view n) {
  return find_in(host_key_algorithms(), n);
}
inline const cipher_algorithm* find_cipher(std::string_view n) {
  return find_in(cipher_algorithms(), n);
}
inline const mac_algorithm* find_mac(std::string_view n) { return find_in(mac_algorithms(), n); }
inline const compression_algorithm* find_compression(std::string_view n) {
  return find_in(compression_algorithms(), n);
}

// What a transport offers, most preferred first. Names not in the registry are refused when a
// transport is built.
struct algorithm_preferences {
  std::vector<std::string> kex;
  std::vector<std::string> host_key;
  std::vector<std::string> cipher;
  std::vector<std::string> mac;
  std::vector<std::string> compression;
};

// Safe algorithms only, in OpenSSH 9.x's order of preference, without what ssh-audit flags in
// OpenSSH's own defaults: the NIST-curve ECDH kex methods and the encrypt-and-MAC MACs (issue
// #12; tests/interop/ssh_audit checks a ferry-server). ECDSA host-key algorithms stay: they are
// only offered by a server that has an ECDSA host key.
inline algorithm_preferences default_preferences() {
  return {
      {"curve25519-sha256", "curve25519-sha256@libssh.org", "diffie-hellman-group-exchange-sha256",
       "diffie-hellman-group16-sha512", "diffie-hellman-group18-sha512",
       "diffie-hellman-group14-sha256"},
      {"ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
       "rsa-sha2-512", "rsa-sha2-256"},
      {"chacha20-poly1305@openssh.com", "aes128-ctr", "aes192-ctr", "aes256-ctr",
       "aes128-gcm@openssh.com", "aes256-gcm@openssh.com"},
      {"hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com"},
      {"none", "zlib@openssh.com"},
  };
}

// The defaults plus what is kept for old peers (off unless asked for): the NIST-curve ECDH kex
// methods, the encrypt-and-MAC SHA-2 MACs and the SHA-1 based algorithms.
inline algorithm_preferences legacy_preferences() {
  auto p = default_preferences();
  p.kex.insert(p.kex.begin() + 2, {"ecdh-sha2-nistp256", "ecdh-sha2-nistp384", "ecdh-sha2-nistp521"});
  p.kex.push_back("diffie-hellman-group14-sha1");
  p.host_key.push_back("ssh-rsa");
  p.mac.push_back("hmac-sha2-256");
  p.mac.push_back("hmac-sha2-512");
  p.mac.push_back("hmac-sha1-etm@openssh.com");
  p.mac.push_back("hmac-sha1");
  p.compression.push_back("zlib");
  return p;
}

}  // namespace ferry::ssh::proto
