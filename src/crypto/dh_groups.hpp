// The RFC 3526 primes as hex strings (defined in dh_groups.cpp).
#pragma once

namespace ferry::crypto::detail {

extern const char* const modp_2048_hex;
extern const char* const modp_4096_hex;
extern const char* const modp_8192_hex;

}  // namespace ferry::crypto::detail
