// Public key and signature blobs for host keys: RFC 4253 §6.6 (formats), RFC 8709 (ssh-ed25519),
// RFC 5656 §3.1 (ecdsa-sha2-*), RFC 8332 (rsa-sha2-256/512 over ssh-rsa keys).
#pragma once

#include <ferry/core/codec.hpp>
#include <ferry/crypto/sign.hpp>
#include <ferry/ssh/proto/algorithms.hpp>

#include <string>
#include <tuple>

namespace ferry::ssh::proto {

// The blob's leading name, with the rest left for the key-type specific decode.
struct key_blob_header {
  std::string name;
  wire::remainder rest;
  template <class S>
  static auto fields(S& s) { return std::tie(s.name, s.rest); }
};

struct ed25519_key_blob {
  std::string name;
  bytes key;
  template <class S>
  static auto fields(S& s) { return std::tie(s.name, s.key); }
};

struct ecdsa_key_blob {
  std::string name;
  std::string curve;  // nistp256, nistp384, nistp521
  bytes q;            // SEC1 point
  template <class S>
  static auto fields(S& s) { return std::tie(s.name, s.curve, s.q); }
};

struct rsa_key_blob {
  std::string name;
  wire::mpint e;
  wire::mpint n;
  template <class S>
  static auto fields(S& s) { return std::tie(s.name, s.e, s.n); }
};

struct signature_blob {
  std::string algorithm;
  bytes signature;
  template <class S>
  static auto fields(S& s) { return std::tie(s.algorithm, s.signature); }
};

struct ecdsa_signature {  // RFC 5656 §3.1.2
  wire::mpint r;
  wire::mpint s;
  template <class S>
  static auto fields(S& s) { return std::tie(s.r, s.s); }
};

// The blob's name for a key type ("ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa").
std::string_view key_blob_name(crypto::key_type t) noexcept;

// The public key blob of key.
bytes encode_public_key(const crypto::public_key& key);

// Parses a public key blob; refuses unknown types, malformed fields and invalid points.
error_code decode_public_key(byte_view blob, crypto::public_key& key);

// True when alg signs with keys of type t.
inline bool algorithm_uses(const host_key_algorithm& alg, crypto::key_type t) noexcept {
  return alg.key == t;
}

// Signs data with key as alg names, into a signature blob.
error_code sign_blob(const host_key_algorithm& alg, const crypto::private_key& key, byte_view data,
                     bytes& blob);

// Verifies a signature blob over data; the blob must name alg itself.
error_code verify_blob(const host_key_algorithm& alg, const crypto::public_key& key, byte_view data,
                       byte_view blob);

}  // namespace ferry::ssh::proto
