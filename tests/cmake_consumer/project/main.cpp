// A consumer of the installed (or add_subdirectory'd) ferry: uses the wire codec and a hash, and
// fails if either gives a wrong answer.
#include <ferry/core/wire.hpp>
#include <ferry/crypto/hash.hpp>

#include <cstdio>
#include <string_view>

int main() {
  ferry::bytes out;
  ferry::wire::writer w{out};
  w.string(std::string_view{"ferry"});
  ferry::wire::reader r{out};
  auto s = r.string_view(ferry::limits::max_string);
  if (!r.ok() || s != "ferry") {
    std::puts("wire round trip failed");
    return 1;
  }
  // SHA-256 of 00 00 00 05 'f' 'e' 'r' 'r' 'y' is 56fc678d...d239 (sha256sum of the same bytes).
  auto digest = ferry::crypto::sha256(out);
  if (digest[0] != 0x56 || digest[1] != 0xfc || digest[31] != 0x39) {
    std::puts("sha256 gave a wrong digest");
    return 1;
  }
  std::puts("consumer ok");
  return 0;
}
