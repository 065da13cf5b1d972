#include <ferry/crypto/random.hpp>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ossl.hpp"

#include <climits>

namespace ferry::crypto {
namespace {

class system_random_source final : public random_source {
 public:
  void fill(mutable_byte_view out) override {
    // RAND_bytes takes an int; fill in chunks so any size works. OpenSSL's default DRBG is
    // thread-safe (per-thread instances), so one object serves the process.
    std::size_t done = 0;
    while (done < out.size()) {
      std::size_t n = std::min<std::size_t>(out.size() - done, INT_MAX);
      detail::check(RAND_bytes(out.data() + done, static_cast<int>(n)) == 1, "RAND_bytes");
      done += n;
    }
  }
};

}  // namespace

random_source& system_random() noexcept {
  static system_random_source rng;
  return rng;
}

bool constant_time_equal(byte_view a, byte_view b) noexcept {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace ferry::crypto
