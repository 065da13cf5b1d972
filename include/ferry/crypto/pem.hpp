// PEM private keys through OpenSSL's decoders: PKCS#1 ("RSA PRIVATE KEY", also with the legacy
// "Proc-Type: 4,ENCRYPTED" headers), SEC1 ("EC PRIVATE KEY") and PKCS#8 ("PRIVATE KEY",
// "ENCRYPTED PRIVATE KEY"), as ssh-keygen -m PEM / -m PKCS8 writes them.
#pragma once

#include <ferry/core/bytes.hpp>
#include <ferry/crypto/sign.hpp>

#include <string_view>

namespace ferry::crypto {

enum class pem_status {
  ok,
  not_pem,              // no key found in the text
  passphrase_required,  // encrypted, and the passphrase was empty
  wrong_passphrase,     // encrypted, and decryption with the passphrase failed
  unsupported_key,      // a key type other than Ed25519, ECDSA P-256/384/521 and RSA
  invalid_key,          // the parts do not fit together (public point not d*G, p*q != n, ...)
};

pem_status read_pem_private_key(std::string_view text, byte_view passphrase, private_key& out);

}  // namespace ferry::crypto
