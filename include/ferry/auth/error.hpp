// Errors from reading authentication data (authorized_keys lines, users files). Decisions are not
// errors: an authenticator answers "denied" with an empty result, never with an error_code.
#pragma once

#include <ferry/core/error.hpp>

namespace ferry::auth {

enum class errc {
  malformed_line = 1,  // not "[options] type base64 [comment]" / not "name:hash:root:home:options"
  line_too_long,       // over limits::auth_max_line
  unknown_option,      // an option sshd(8) does not define (sshd refuses the key too)
  bad_option_value,    // a quoted value missing, unterminated, or not valid for the option
  bad_base64,          // the key blob is not base64
  key_type_mismatch,   // the blob's own type name differs from the line's
  bad_pattern,         // a from= pattern that cannot match (bad CIDR)
  bad_password_hash,   // a hash string this build cannot check
  duplicate_user,      // a users file names someone twice
};

class error_category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "ferry.auth"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::malformed_line: return "malformed line";
      case errc::line_too_long: return "line too long";
      case errc::unknown_option: return "unknown option";
      case errc::bad_option_value: return "bad option value";
      case errc::bad_base64: return "bad base64";
      case errc::key_type_mismatch: return "key type does not match the key blob";
      case errc::bad_pattern: return "bad address pattern";
      case errc::bad_password_hash: return "unsupported or malformed password hash";
      case errc::duplicate_user: return "user listed twice";
    }
    return "unknown auth error";
  }
};

inline const boost::system::error_category& auth_category() noexcept {
  static const error_category cat;
  return cat;
}

inline error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), auth_category()}; }

}  // namespace ferry::auth

template <>
struct boost::system::is_error_code_enum<ferry::auth::errc> : std::true_type {};
