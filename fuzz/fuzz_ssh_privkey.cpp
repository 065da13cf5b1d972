// Private key files (openssh-key-v1, PEM, PKCS#8) from arbitrary text: the reader must never
// throw, crash or read out of bounds, and a key it accepts must round-trip through the writer.
#include <ferry/ssh/keys/private_key.hpp>
#include <ferry/ssh/keys/proto/openssh_key.hpp>
#include <ferry/ssh/keys/public_key.hpp>
#include <ferry/ssh/proto/host_key.hpp>
#include <ferry/test/random.hpp>

#include <cstdlib>
#include <string_view>

namespace {

// Whether the input names a bcrypt KDF with more than a few rounds (each costs milliseconds; the
// reader accepts up to limits::ssh_key_max_kdf_rounds, too slow for a fuzzing loop).
bool expensive(std::string_view text) {
  auto b = text.find("-----BEGIN OPENSSH PRIVATE KEY-----");
  if (b == std::string_view::npos) return false;
  auto e = text.find("-----END OPENSSH PRIVATE KEY-----");
  std::string body;
  for (char c : text.substr(b + 35, e == std::string_view::npos ? 0 : e - b - 35))
    if (c != '\n' && c != '\r') body += c;
  ferry::bytes blob;
  if (!ferry::ssh::keys::base64_decode(body, blob)) return false;
  ferry::ssh::keys::proto::container c;
  if (ferry::wire::decode(blob, c)) return false;
  ferry::ssh::keys::proto::bcrypt_options o;
  if (ferry::wire::decode(c.kdf_options, o)) return false;
  return o.rounds > 2;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ferry;
  std::string_view text{reinterpret_cast<const char*>(data), size};
  for (std::string_view pass : {std::string_view{}, std::string_view{"fuzz"}}) {
    if (!pass.empty() && expensive(text)) break;
    ssh::keys::key_file k;
    if (ssh::keys::read_private_key(text, as_bytes(pass), k)) continue;
    if (!k.key.valid()) std::abort();
    test::fixed_random rng{1};
    ssh::keys::write_options o;
    o.comment = k.comment;
    o.rng = &rng;
    auto written = ssh::keys::write_openssh_private_key(k.key, o);
    ssh::keys::key_file back;
    if (ssh::keys::read_private_key(written, {}, back)) std::abort();
    if (ssh::proto::encode_public_key(back.key.public_part()) !=
        ssh::proto::encode_public_key(k.key.public_part()))
      std::abort();
  }
  return 0;
}
