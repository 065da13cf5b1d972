// Where ferry's protocol code gets random bytes (cookies, padding, ephemeral keys). The default is
// the operating system's CSPRNG via OpenSSL (crypto::system_random()); tests and fuzzers pass a
// deterministic source (test::fixed_random) so sessions can be replayed.
#pragma once

#include <ferry/core/bytes.hpp>

namespace ferry {

class random_source {
 public:
  virtual ~random_source() = default;
  virtual void fill(mutable_byte_view out) = 0;
};

}  // namespace ferry
