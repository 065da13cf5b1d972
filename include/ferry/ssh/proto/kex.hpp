// One key exchange method run (RFC 4253 §8, RFC 4419, RFC 5656 §4, RFC 8731, RFC 8268) and the
// key derivation that follows it (RFC 4253 §7.2), sans-I/O. The transport machine feeds it the
// kex-method messages (numbers 30..49) and sends what it returns; once done() the exchange hash H
// and the shared secret K are known.
#pragma once

#include <ferry/core/random.hpp>
#include <ferry/core/secure.hpp>
#include <ferry/crypto/kex.hpp>
#include <ferry/crypto/sign.hpp>
#include <ferry/ssh/error.hpp>
#include <ferry/ssh/proto/identification.hpp>
#include <ferry/ssh/proto/negotiate.hpp>
#include <ferry/ssh/proto/packet.hpp>

#include <functional>
#include <optional>
#include <string_view>

namespace ferry::ssh::proto {

// What a client is shown before it trusts a server (known_hosts, a prompt, a pinned key).
struct host_key_info {
  const host_key_algorithm* algorithm = nullptr;
  byte_view blob;                      // the public key blob, K_S
  const crypto::public_key* key = nullptr;
};

// Returns success to accept the key; any error refuses it (host_key_not_verifiable is sent).
using host_key_verifier = std::function<error_code(const host_key_info&)>;

struct kex_inputs {
  role local = role::client;
  const negotiated* algorithms = nullptr;
  std::string_view v_c, v_s;  // identification lines without CR LF
  byte_view i_c, i_s;         // the KEXINIT payloads
  random_source* rng = nullptr;
  const crypto::private_key* host_key = nullptr;  // server: the key for the negotiated algorithm
  const host_key_verifier* verify = nullptr;      // client
  // RFC 4419 §3 request a client sends (bits).
  std::uint32_t gex_min = 2048, gex_n = 3072, gex_max = 8192;
};

class key_exchange {
 public:
  explicit key_exchange(const kex_inputs& in);
  ~key_exchange();
  key_exchange(key_exchange&&) noexcept;
  key_exchange& operator=(key_exchange&&) noexcept;

  // The client's first message (ECDH/DH init or the group-exchange request); empty for a server.
  error_code start(bytes& out);
  // Consumes one kex-method message; out receives the reply, if any.
  error_code on_message(byte_view payload, bytes& out);

  bool done() const noexcept { return done_; }
  const bytes& exchange_hash() const noexcept { return h_; }
  const secure_bytes& shared_secret() const noexcept { return k_; }  // K as an mpint encoding
  const bytes& host_key_blob() const noexcept { return k_s_; }

 private:
  struct state;
  error_code finish(byte_view k_s, byte_view method_part, const secure_bytes& shared);
  error_code client_reply(byte_view payload);
  error_code server_init(byte_view payload, bytes& out);

  kex_inputs in_;
  std::unique_ptr<state> s_;
  bool done_ = false;
  bytes h_;
  secure_bytes k_;
  bytes k_s_;
};

// RFC 4253 §7.2: HASH(K || H || letter || session_id), extended by HASH(K || H || K1 || ...).
secure_bytes derive_key(crypto::hash_alg hash, byte_view k, byte_view h, char letter,
                        byte_view session_id, std::size_t size);

// The keys of one direction: client-to-server uses letters A, C, E; server-to-client B, D, F.
direction_keys make_direction_keys(const negotiated& alg, bool client_to_server, byte_view k,
                                   byte_view h, byte_view session_id);

}  // namespace ferry::ssh::proto
