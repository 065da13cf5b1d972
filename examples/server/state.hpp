// ferry-server's state directory: the SSH host keys and the TLS certificate it keeps between runs.
// On first use the directory is created (mode 0700) with an Ed25519 and an RSA-3072 host key in
// OpenSSH's format (ssh_host_ed25519_key, ssh_host_rsa_key, each with its .pub) and a self-signed
// certificate for the FTPS side (tls_cert.pem, tls_key.pem); later runs load them, so clients'
// known_hosts entries stay valid.
#pragma once

#include <ferry/crypto/x509.hpp>
#include <ferry/ssh/keys/private_key.hpp>
#include <ferry/ssh/keys/public_key.hpp>

#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace ferry_server {

namespace stdfs = std::filesystem;

struct state {
  std::vector<std::shared_ptr<const ferry::crypto::private_key>> host_keys;
  std::vector<std::string> fingerprints;  // ssh-keygen -l style, one per host key
  std::string certificate_file, key_file;
  bool created = false;  // anything was made on this run
};

namespace detail {

inline bool write_private(const stdfs::path& p, std::string_view text, std::string& error) {
  // Created 0600 before anything secret is written into it.
  std::error_code ec;
  stdfs::remove(p, ec);
  {
    std::ofstream out{p, std::ios::binary};
    if (!out) {
      error = "cannot write " + p.string();
      return false;
    }
  }
  ::chmod(p.c_str(), 0600);
  std::ofstream out{p, std::ios::binary | std::ios::trunc};
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (!out) {
    error = "cannot write " + p.string();
    return false;
  }
  return true;
}

inline bool write_public(const stdfs::path& p, std::string_view text, std::string& error) {
  std::ofstream out{p, std::ios::binary | std::ios::trunc};
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (!out) {
    error = "cannot write " + p.string();
    return false;
  }
  return true;
}

inline bool host_key(const stdfs::path& dir, const char* name, ferry::crypto::key_type type,
                     state& s, std::string& error) {
  namespace keys = ferry::ssh::keys;
  auto path = dir / name;
  keys::key_file k;
  if (!stdfs::exists(path)) {
    k.key = keys::generate_key(type);
    k.comment = std::string{"ferry-server "} + name;
    if (!write_private(path, keys::write_openssh_private_key(k.key, {.comment = k.comment}), error))
      return false;
    auto pub = keys::format_public_key_line(k.key.public_part(), k.comment) + "\n";
    if (!write_public(path.string() + ".pub", pub, error)) return false;
    s.created = true;
  } else if (auto ec = keys::read_private_key_file(path, {}, k)) {
    error = path.string() + ": " + ec.message();
    return false;
  }
  s.fingerprints.push_back(keys::fingerprint_line(k.key.public_part(), k.comment));
  s.host_keys.push_back(std::make_shared<const ferry::crypto::private_key>(std::move(k.key)));
  return true;
}

}  // namespace detail

// Loads the state in dir, making what is missing. On failure returns false with a message.
inline bool load_or_create_state(const stdfs::path& dir, std::string_view tls_name, state& s,
                                 std::string& error) {
  std::error_code ec;
  if (!stdfs::exists(dir)) {
    stdfs::create_directories(dir, ec);
    if (ec) {
      error = "cannot create " + dir.string() + ": " + ec.message();
      return false;
    }
    ::chmod(dir.c_str(), 0700);
    s.created = true;
  }
  if (!detail::host_key(dir, "ssh_host_ed25519_key", ferry::crypto::key_type::ed25519, s, error) ||
      !detail::host_key(dir, "ssh_host_rsa_key", ferry::crypto::key_type::rsa, s, error))
    return false;
  s.certificate_file = (dir / "tls_cert.pem").string();
  s.key_file = (dir / "tls_key.pem").string();
  if (!stdfs::exists(s.certificate_file) || !stdfs::exists(s.key_file)) {
    ferry::crypto::x509::certificate_and_key ck;
    if (auto e = ferry::crypto::x509::make_self_signed(tls_name, std::chrono::hours{24 * 365 * 5}, ck)) {
      error = "TLS certificate: " + e.message();
      return false;
    }
    std::string key_pem{reinterpret_cast<const char*>(ck.private_key_pem.data()),
                        ck.private_key_pem.size()};
    bool ok = detail::write_private(s.key_file, key_pem, error) &&
              detail::write_public(s.certificate_file, ck.certificate_pem, error);
    ferry::secure_wipe(key_pem.data(), key_pem.size());
    if (!ok) return false;
    s.created = true;
  }
  return true;
}

}  // namespace ferry_server
