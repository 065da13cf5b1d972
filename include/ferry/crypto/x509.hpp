// X.509 certificates for TLS servers (FTPS): a self-signed certificate and key made at run time
// (the server's embedded default when no certificate is configured), and loading a PEM certificate
// chain and key into a server TLS context with session resumption switched on, which FTPS data
// connections need (RFC 4217 §10.2: a data connection resumes the control connection's session).
// The context is passed as the opaque pointer Asio exposes (ssl::context::native_handle()); no
// OpenSSL header is included here.
#pragma once

#include <ferry/core/bytes.hpp>
#include <ferry/core/error.hpp>
#include <ferry/core/secure.hpp>

#include <chrono>
#include <string>
#include <string_view>

struct ssl_ctx_st;

namespace ferry::crypto::x509 {

struct certificate_and_key {
  std::string certificate_pem;  // "-----BEGIN CERTIFICATE-----" ...
  secure_bytes private_key_pem;  // PKCS#8 "-----BEGIN PRIVATE KEY-----" ...
};

// A self-signed certificate (X.509 v3, ECDSA P-256 with SHA-256, CN=common_name, a random 128-bit
// serial, valid from one hour ago for `validity`) and its key.
error_code make_self_signed(std::string_view common_name, std::chrono::hours validity,
                            certificate_and_key& out);

// Reads a whole (PEM) file; the buffer wipes itself, since it may hold a key.
error_code read_file(const std::string& path, secure_bytes& out);

// Puts a certificate chain (the leaf first, then intermediates, all PEM) and its private key into a
// server context, checks that they belong together, and enables resumption: the server session
// cache (TLS 1.2 session IDs) under session_id_context, and session tickets (TLS 1.3 and 1.2).
error_code configure_server_context(ssl_ctx_st* ctx, std::string_view certificate_chain_pem,
                                    byte_view private_key_pem,
                                    std::string_view session_id_context);

}  // namespace ferry::crypto::x509
