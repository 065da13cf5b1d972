// Errors from reading key files, public key lines and known_hosts entries (ssh::keys).
#pragma once

#include <ferry/core/error.hpp>

namespace ferry::ssh::keys {

enum class errc {
  not_a_key = 1,        // no known armour / not "type base64 [comment]"
  malformed,            // the armour is right but the contents are not (PROTOCOL.key fields)
  passphrase_required,  // the key is encrypted and no passphrase was given
  wrong_passphrase,     // the check integers (or the PEM decryption) did not match
  unsupported_cipher,   // a PROTOCOL.key cipher ferry does not implement
  unsupported_kdf,      // a kdf other than "none" / "bcrypt"
  unsupported_key_type, // a key type ferry does not implement (DSA, certificates, sk-*)
  public_mismatch,      // the public key section differs from the private key
  bad_base64,
  too_large,            // over a limit in core/limits.hpp
};

class error_category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "ferry.ssh.keys"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::not_a_key: return "not a key";
      case errc::malformed: return "malformed key";
      case errc::passphrase_required: return "the key is encrypted: passphrase required";
      case errc::wrong_passphrase: return "wrong passphrase";
      case errc::unsupported_cipher: return "unsupported key file cipher";
      case errc::unsupported_kdf: return "unsupported key file kdf";
      case errc::unsupported_key_type: return "unsupported key type";
      case errc::public_mismatch: return "public key does not match the private key";
      case errc::bad_base64: return "bad base64";
      case errc::too_large: return "key data over its size limit";
    }
    return "unknown key error";
  }
};

inline const boost::system::error_category& keys_category() noexcept {
  static const error_category cat;
  return cat;
}

inline error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), keys_category()}; }

}  // namespace ferry::ssh::keys

template <>
struct boost::system::is_error_code_enum<ferry::ssh::keys::errc> : std::true_type {};
