// The operating system's CSPRNG (OpenSSL RAND_bytes) and constant-time helpers.
#pragma once

#include <ferry/core/bytes.hpp>
#include <ferry/core/random.hpp>

namespace ferry::crypto {

// The process-wide CSPRNG; thread-safe.
random_source& system_random() noexcept;

// Compares in time that depends only on the sizes (CRYPTO_memcmp); different sizes are unequal.
bool constant_time_equal(byte_view a, byte_view b) noexcept;

}  // namespace ferry::crypto
