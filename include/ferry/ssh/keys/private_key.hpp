// Private key files: OpenSSH's openssh-key-v1 format (PROTOCOL.key) read and written, plain or
// encrypted with bcrypt_pbkdf + aes256-ctr as ssh-keygen does; PEM (PKCS#1 "RSA PRIVATE KEY",
// SEC1 "EC PRIVATE KEY") and PKCS#8 ("PRIVATE KEY", "ENCRYPTED PRIVATE KEY") read through OpenSSL.
//
//   keys::key_file k;
//   if (auto ec = keys::read_private_key(text, as_bytes("passphrase"), k)) ...;  // any format
//   std::string out = keys::write_openssh_private_key(k.key, {.comment = "me@host"});
//
// A wrong passphrase gives errc::wrong_passphrase; an encrypted key without one gives
// errc::passphrase_required. Readers never throw.
#pragma once

#include <ferry/core/bytes.hpp>
#include <ferry/core/random.hpp>
#include <ferry/crypto/sign.hpp>
#include <ferry/ssh/keys/error.hpp>

#include <filesystem>
#include <string>
#include <string_view>

namespace ferry::ssh::keys {

struct key_file {
  crypto::private_key key;
  std::string comment;
};

// Any supported format, recognised by its armour.
error_code read_private_key(std::string_view text, byte_view passphrase, key_file& out);
// Reads a file (at most limits::ssh_key_max_file bytes) and parses it as read_private_key.
error_code read_private_key_file(const std::filesystem::path& path, byte_view passphrase,
                                 key_file& out);

// openssh-key-v1 only.
error_code read_openssh_private_key(std::string_view text, byte_view passphrase, key_file& out);
// Whether text is an openssh-key-v1 key with a cipher other than "none" (false if unparseable).
bool openssh_key_encrypted(std::string_view text);

struct write_options {
  std::string comment;
  byte_view passphrase{};    // empty: unencrypted ("none"/"none")
  unsigned rounds = 16;      // bcrypt_pbkdf rounds (ssh-keygen's default)
  random_source* rng = nullptr;  // salt and check integers; null: crypto::system_random()
};

// The armoured openssh-key-v1 text (70-column base64 lines, as ssh-keygen), ending in a newline.
std::string write_openssh_private_key(const crypto::private_key& key, const write_options& o = {});

// A new key (ed25519, ecdsa P-256/384/521, rsa with rsa_bits) from the system CSPRNG.
crypto::private_key generate_key(crypto::key_type type, unsigned rsa_bits = 3072);

}  // namespace ferry::ssh::keys
