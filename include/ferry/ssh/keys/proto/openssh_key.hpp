// The openssh-key-v1 private key container (OpenSSH PROTOCOL.key), as plain structs for the core
// codec. The outer structure is public; the private section holds secrets and is decoded from
// (and encoded into) wiping buffers, field by field, with secret_string / secret_mpint.
//
//   "openssh-key-v1" 0x00
//   string ciphername, string kdfname, string kdfoptions, uint32 number of keys (1)
//   string publickey (RFC 4253 §6.6 blob)
//   string encrypted private section:
//     uint32 checkint, uint32 checkint (equal: the passphrase check)
//     string keytype, key-type specific fields, string comment
//     padding 1, 2, 3, ... up to the cipher's block size (8 for "none")
#pragma once

#include <ferry/core/codec.hpp>
#include <ferry/core/limits.hpp>
#include <ferry/core/secure.hpp>

#include <array>
#include <string>
#include <tuple>

namespace ferry::ssh::keys::proto {

inline constexpr std::array<std::uint8_t, 15> magic = {'o', 'p', 'e', 'n', 's', 's', 'h', '-',
                                                       'k', 'e', 'y', '-', 'v', '1', 0};

// A string whose contents are secret.
struct secret_string {
  secure_bytes value;
};
// A non-negative mpint whose magnitude is secret (leading zeros dropped, as wire::mpint).
struct secret_mpint {
  secure_bytes magnitude;
};

template <class Container>
void wire_encode(wire::basic_writer<Container>& w, const secret_string& s) {
  w.string(byte_view{s.value.data(), s.value.size()});
}
inline void wire_encode(wire::writer& w, const secret_string& s) {
  w.string(byte_view{s.value.data(), s.value.size()});
}
inline void wire_decode(wire::reader& r, secret_string& s) {
  auto v = r.string();
  s.value.assign(v.begin(), v.end());
}
template <class Container>
void wire_encode(wire::basic_writer<Container>& w, const secret_mpint& m) {
  w.mpint_unsigned(byte_view{m.magnitude.data(), m.magnitude.size()});
}
inline void wire_encode(wire::writer& w, const secret_mpint& m) {
  w.mpint_unsigned(byte_view{m.magnitude.data(), m.magnitude.size()});
}
inline void wire_decode(wire::reader& r, secret_mpint& m) {
  auto v = r.mpint_unsigned();
  m.magnitude.assign(v.begin(), v.end());
}

struct container {
  std::array<std::uint8_t, 15> magic_bytes{};
  std::string cipher_name;
  std::string kdf_name;
  bytes kdf_options;
  std::uint32_t number_of_keys = 1;
  bytes public_key;
  bytes private_section;  // encrypted (or not, for cipher "none")
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.magic_bytes, s.cipher_name, s.kdf_name, s.kdf_options, s.number_of_keys,
                    s.public_key, s.private_section);
  }
};

// kdfoptions for "bcrypt".
struct bcrypt_options {
  bytes salt;
  std::uint32_t rounds = 16;
  template <class S>
  static auto fields(S& s) { return std::tie(s.salt, s.rounds); }
};

struct private_header {
  std::uint32_t check1 = 0;
  std::uint32_t check2 = 0;
  std::string key_type;
  template <class S>
  static auto fields(S& s) { return std::tie(s.check1, s.check2, s.key_type); }
};

// "ssh-ed25519": the public key, then seed || public key (64 bytes).
struct ed25519_private {
  bytes public_key;
  secret_string secret;
  template <class S>
  static auto fields(S& s) { return std::tie(s.public_key, s.secret); }
};

// "ecdsa-sha2-nistp*": curve identifier, SEC1 point, scalar.
struct ecdsa_private {
  std::string curve;
  bytes q;
  secret_mpint d;
  template <class S>
  static auto fields(S& s) { return std::tie(s.curve, s.q, s.d); }
};

// "ssh-rsa": n, e, d, iqmp, p, q (note the order: not the blob's e, n).
struct rsa_private {
  wire::mpint n;
  wire::mpint e;
  secret_mpint d;
  secret_mpint iqmp;
  secret_mpint p;
  secret_mpint q;
  template <class S>
  static auto fields(S& s) { return std::tie(s.n, s.e, s.d, s.iqmp, s.p, s.q); }
};

struct private_trailer {
  std::string comment;
  template <class S>
  static auto fields(S& s) { return std::tie(s.comment); }
};

}  // namespace ferry::ssh::keys::proto
