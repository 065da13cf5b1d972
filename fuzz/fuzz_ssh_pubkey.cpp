// Public key blobs (RFC 4253 §6.6) and public key lines from arbitrary bytes: a blob that decodes
// must re-encode to itself, and a line that parses must format back to an equal key.
#include <ferry/ssh/keys/public_key.hpp>
#include <ferry/ssh/proto/host_key.hpp>

#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ferry;
  byte_view in{data, size};
  crypto::public_key key;
  if (!ssh::proto::decode_public_key(in, key)) {
    if (ssh::proto::encode_public_key(key) != bytes(in.begin(), in.end())) std::abort();
    (void)ssh::keys::fingerprint_sha256(key);
  }
  std::string_view text = as_chars(in);
  ssh::keys::public_key_line l;
  if (!ssh::keys::parse_public_key_line(text, l)) {
    crypto::public_key k;
    if (ssh::proto::decode_public_key(l.blob, k)) std::abort();
    ssh::keys::public_key_line again;
    if (ssh::keys::parse_public_key_line(ssh::keys::format_public_key_line(k, l.comment), again) ||
        again.blob != l.blob)
      std::abort();
  }
  return 0;
}
