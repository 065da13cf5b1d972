// ferry's generic error codes. Each module (ssh, sftp, ftp, fs) follows the same pattern: an enum,
// a Boost.System category whose messages are all in one switch, and make_error_code found by ADL.
// Boost.System codes are what Asio completion handlers carry; they convert to std::error_code.
#pragma once

#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>

#include <string>

namespace ferry {

using error_code = boost::system::error_code;
using system_error = boost::system::system_error;

enum class errc {
  truncated = 1,         // input ended inside a field
  length_limit,          // a length is above its named limit
  bad_value,             // a field holds a value the format forbids
  trailing_data,         // bytes left after the last field
  unexpected_message,    // a message id that does not belong here
  unsupported,           // a feature or operation this build or backend does not provide
  injected_failure,      // test::fail_count made this operation fail
  crypto_failure,        // a primitive refused (bad key, failed verification, library error)
  auth_tag_mismatch,     // MAC or AEAD tag did not verify
  invalid_public_value,  // a peer's DH/ECDH/X25519 value failed validation
  bad_signature,         // a signature did not verify
};

class error_category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "ferry"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::truncated: return "input ended inside a field";
      case errc::length_limit: return "length above its limit";
      case errc::bad_value: return "field holds a forbidden value";
      case errc::trailing_data: return "unexpected bytes after the last field";
      case errc::unexpected_message: return "unexpected message";
      case errc::unsupported: return "operation unsupported";
      case errc::injected_failure: return "injected failure";
      case errc::crypto_failure: return "cryptographic operation failed";
      case errc::auth_tag_mismatch: return "message authentication failed";
      case errc::invalid_public_value: return "invalid public value from peer";
      case errc::bad_signature: return "signature did not verify";
    }
    return "unknown ferry error";
  }
};

inline const boost::system::error_category& ferry_category() noexcept {
  static const error_category cat;
  return cat;
}

inline error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), ferry_category()}; }

}  // namespace ferry

template <>
struct boost::system::is_error_code_enum<ferry::errc> : std::true_type {};
