// RFC 4648 §4 base64 decoding for authorized_keys blobs (internal to src/auth).
#pragma once

#include <ferry/core/bytes.hpp>

#include <string_view>

namespace ferry::auth::detail {

// Strict: the alphabet only, '=' padding only at the end and only as needed (missing padding is
// accepted, as OpenSSH does not write keys without it but users paste them so).
bool decode_base64(std::string_view in, bytes& out);

}  // namespace ferry::auth::detail
