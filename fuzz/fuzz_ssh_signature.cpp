// Host-key signature blobs (RFC 8709 ssh-ed25519, RFC 5656 ecdsa-sha2-*, RFC 8332 rsa-sha2-*)
// from arbitrary bytes. Byte 0 picks the algorithm, byte 1 the mode:
//   0: the rest is a signature blob over a fixed message: verify_blob never crashes, and a blob it
//      accepts is refused for any other message;
//   1: a real signature blob of the fixed message with one byte changed (position and xor value
//      from the input) never verifies;
//   2: the rest is a public key blob: a key decode_public_key accepts never verifies a real
//      signature unless it is the signer's key.
#include <ferry/crypto/random.hpp>
#include <ferry/ssh/proto/host_key.hpp>

#include <cstdlib>
#include <map>

using namespace ferry;
using namespace ferry::ssh::proto;

namespace {

const crypto::private_key& key_for(crypto::key_type t) {
  static const auto keys = [] {
    std::map<crypto::key_type, crypto::private_key> k;
    std::uint8_t seed[66];
    for (int i = 0; i < 66; ++i) seed[i] = std::uint8_t(0x11 + i);
    k.emplace(crypto::key_type::ed25519, crypto::private_key::ed25519_from_seed(byte_view{seed, 32}));
    seed[0] = 0x01;  // every scalar below its curve's order
    k.emplace(crypto::key_type::ecdsa_p256,
              crypto::private_key::ecdsa_from_scalar(crypto::curve::p256, byte_view{seed, 32}));
    k.emplace(crypto::key_type::ecdsa_p384,
              crypto::private_key::ecdsa_from_scalar(crypto::curve::p384, byte_view{seed, 48}));
    k.emplace(crypto::key_type::ecdsa_p521,
              crypto::private_key::ecdsa_from_scalar(crypto::curve::p521, byte_view{seed, 66}));
    k.emplace(crypto::key_type::rsa,
              crypto::private_key::generate(crypto::key_type::rsa, crypto::system_random(), 2048));
    for (auto& [type, key] : k)
      if (!key.valid()) std::abort();
    return k;
  }();
  return keys.at(t);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const auto algs = host_key_algorithms();
  const host_key_algorithm& alg = algs[data[0] % algs.size()];
  const crypto::private_key& signer = key_for(alg.key);
  const crypto::public_key signer_pub = signer.public_part();
  static const std::uint8_t message_bytes[] = "exchange hash H, as signed in KEXDH_REPLY";
  const byte_view message{message_bytes, sizeof message_bytes - 1};
  const byte_view rest{data + 2, size - 2};

  switch (data[1] % 3) {
    case 0:
      if (!verify_blob(alg, signer_pub, message, rest) &&
          !verify_blob(alg, signer_pub, message.first(message.size() - 1), rest))
        std::abort();  // one signature accepted for two messages
      break;
    case 1: {
      bytes blob;
      if (sign_blob(alg, signer, message, blob)) std::abort();
      if (verify_blob(alg, signer_pub, message, blob)) std::abort();  // the real one verifies
      if (rest.size() < 3) break;
      const std::size_t at = (std::size_t(rest[0]) << 8 | rest[1]) % blob.size();
      if (rest[2] == 0) break;
      blob[at] ^= rest[2];
      if (!verify_blob(alg, signer_pub, message, blob)) std::abort();
      break;
    }
    default: {
      crypto::public_key other;
      if (decode_public_key(rest, other)) break;
      bytes blob;
      if (sign_blob(alg, signer, message, blob)) std::abort();
      if (!verify_blob(alg, other, message, blob) &&
          encode_public_key(other) != encode_public_key(signer_pub))
        std::abort();
      break;
    }
  }
  return 0;
}
