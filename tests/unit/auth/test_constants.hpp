// Constants the authenticator tests share.
#pragma once

#include <ferry/crypto/password.hpp>

#include <string>

namespace ferry::auth::fixtures {

// A cheap scrypt cost, so that hashing in tests takes microseconds.
inline constexpr crypto::scrypt_params fast{.ln = 4, .r = 8, .p = 1};

// A public key made with ssh-keygen for these tests.
inline const std::string ed_line =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKT92qT5CeH26N/V1hGNrF2JXCTGsXSGUVivMU5pT2hY alice@laptop";

}  // namespace ferry::auth::fixtures
