// OpenSSH authorized_keys files (sshd(8), AUTHORIZED_KEYS FILE FORMAT) and an Authenticator that
// accepts the keys listed per user.
//
// A line is "[options] keytype base64-blob [comment]"; blank lines and lines starting with '#' are
// skipped. Options are comma-separated, values in double quotes (\" escapes a quote). Parsed:
// from=, command=, environment=, expiry-time=, permitopen=, restrict, no-pty, pty,
// no-port-forwarding, port-forwarding, no-agent-forwarding, agent-forwarding, no-X11-forwarding,
// X11-forwarding, no-user-rc, user-rc, cert-authority, principals=, permitlisten=, tunnel=,
// no-touch-required, verify-required. An unknown option makes the line invalid (sshd refuses such
// a key too). Enforced by the authenticator: from= and expiry-time=; the rest is carried into the
// grant's permissions for the SSH server. cert-authority lines are skipped: ferry does not accept
// certificates, and such a line must not let the CA key itself log in.
#pragma once

#include <ferry/auth/authenticator.hpp>
#include <ferry/auth/error.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::auth {

struct key_options {
  std::vector<std::string> from;          // patterns: host or address globs (* ?), CIDR, !negation
  std::optional<std::string> command;
  std::vector<std::string> environment;   // NAME=value
  std::optional<std::chrono::system_clock::time_point> expiry;
  std::vector<std::string> permit_open;   // host:port
  std::vector<std::string> permit_listen;
  std::optional<std::string> principals;
  std::optional<std::string> tunnel;
  bool restrict = false;
  bool cert_authority = false;
  // Explicit settings; empty = default (allowed, unless restrict).
  std::optional<bool> pty, port_forwarding, agent_forwarding, x11_forwarding, user_rc;
  bool no_touch_required = false;
  bool verify_required = false;
};

struct authorized_key {
  std::string type;  // "ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", ...
  bytes blob;        // RFC 4253 §6.6 public key blob
  key_options options;
  std::string comment;
};

// One line. A blank or comment line gives success with *out left empty (out->type empty).
error_code parse_authorized_key(std::string_view line, authorized_key& out);

// A whole file: the valid entries; the 1-based numbers and errors of invalid lines in errors.
std::vector<authorized_key> parse_authorized_keys(
    std::string_view text, std::vector<std::pair<std::size_t, error_code>>* errors = nullptr);

// sshd's from= rule: false if any negated pattern matches the address or host; otherwise true if
// some pattern matches. Patterns with '/' are CIDR blocks matched against the address only.
bool match_from(const std::vector<std::string>& patterns, std::string_view remote_address,
                std::string_view remote_host);

// Whether an address pattern list entry is a valid CIDR block ("192.0.2.0/24", "2001:db8::/32").
bool valid_cidr(std::string_view pattern);

// '*' and '?' glob, ASCII case-insensitive (host names).
bool match_glob(std::string_view pattern, std::string_view text);

// sshd's expiry-time format: YYYYMMDD[HHMM[SS]], local time, or UTC with a trailing 'Z'.
std::optional<std::chrono::system_clock::time_point> parse_expiry_time(std::string_view s);

// The key type a signature algorithm uses (rsa-sha2-256/512 sign with ssh-rsa keys, RFC 8332).
std::string_view key_type_of_algorithm(std::string_view algorithm);

// Whether the key's options let this request in (from=, expiry-time=).
bool options_allow(const key_options& o, const request& r);

// Applies the session restrictions of o to perms.
void apply_options(const key_options& o, permissions& perms);

class authorized_keys_authenticator {
 public:
  // The user's account (identity, view, base permissions) and the keys that may log in as them.
  void add_user(std::string name, grant account, std::vector<authorized_key> keys);
  // The same, reading an authorized_keys text; invalid lines are skipped and reported.
  void add_user(std::string name, grant account, std::string_view authorized_keys_text,
                std::vector<std::pair<std::size_t, error_code>>* errors = nullptr);

  method_set methods(const request& r) const;
  bool accept_public_key(const request& r, std::string_view algorithm, byte_view blob) const;
  result authorize_public_key(const request& r, std::string_view algorithm, byte_view blob) const;

 private:
  struct user_keys {
    grant base;
    std::vector<authorized_key> keys;
  };
  const authorized_key* find(const request& r, std::string_view algorithm, byte_view blob,
                             const user_keys*& acct) const;
  std::map<std::string, user_keys, std::less<>> users_;
};

}  // namespace ferry::auth
