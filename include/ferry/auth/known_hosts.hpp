// OpenSSH known_hosts files (sshd(8) SSH_KNOWN_HOSTS FILE FORMAT): the client's record of server
// host keys, and the policy that decides about a key it has not seen.
//
// A line is "[@revoked|@cert-authority] hostpatterns keytype base64 [comment]". Host patterns are
// comma-separated globs ('*', '?') with '!' negation, "[host]:port" for ports other than 22, or
// one hashed name "|1|base64(salt)|base64(HMAC-SHA1(salt, name))" (ssh-keygen -H). A host
// matches an entry when some pattern matches and no negated one does.
//
// Lookup: a key equal to a @revoked line's key is refused for every host; otherwise a matching
// entry with the same key is a match; a host that has entries but none with this key is a
// mismatch (a changed host key); a host without entries is not found. @cert-authority lines are
// parsed but never match a plain key (ferry does not accept host certificates).
#pragma once

#include <ferry/auth/error.hpp>
#include <ferry/core/bytes.hpp>
#include <ferry/core/random.hpp>
#include <ferry/ssh/proto/kex.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::auth {

enum class known_host_marker { none, revoked, cert_authority };

struct known_host_entry {
  known_host_marker marker = known_host_marker::none;
  std::vector<std::string> patterns;  // plain patterns, '!' kept (empty for a hashed entry)
  bool hashed = false;
  bytes salt, hash;                   // hashed entry: HMAC-SHA1 key and value
  std::string key_type;
  bytes blob;  // RFC 4253 §6.6
  std::string comment;
  std::size_t line = 0;  // 1-based
};

// One line; a blank or comment line gives success with empty = true.
error_code parse_known_hosts_line(std::string_view line, known_host_entry& out, bool& empty);

// The name a host is recorded under: "host" for port 22, "[host]:port" otherwise.
std::string known_host_name(std::string_view host, std::uint16_t port);

// Whether an entry names this host (the name as known_host_name gives it).
bool known_host_matches(const known_host_entry& e, std::string_view name);

// A line for name and key (no newline), hashed with a fresh salt when hash is set.
std::string format_known_host_line(std::string_view name, byte_view blob, bool hash = false,
                                   random_source* rng = nullptr);

class known_hosts {
 public:
  enum class status { match, mismatch, revoked, not_found };

  // Parses text; invalid lines are skipped and reported (1-based line, error).
  void load(std::string_view text, std::vector<std::pair<std::size_t, error_code>>* errors = nullptr);
  // Reads a file; a missing file is an empty list.
  error_code load_file(const std::filesystem::path& path,
                       std::vector<std::pair<std::size_t, error_code>>* errors = nullptr);

  status check(std::string_view host, std::uint16_t port, byte_view blob) const;
  const std::vector<known_host_entry>& entries() const noexcept { return entries_; }

 private:
  std::vector<known_host_entry> entries_;
};

enum class host_key_policy {
  strict,      // only keys already listed
  accept_new,  // also a host not listed at all: its key is appended to the file
  off,         // anything but a revoked key (no record is written)
};

// Decides about a server's key from the file at path (read on each call, so a key appended by
// one connection is known to the next). Refusals are ssh::disconnect_reason::
// host_key_not_verifiable.
error_code verify_known_host(const std::filesystem::path& path, std::string_view host,
                             std::uint16_t port, byte_view blob, host_key_policy policy,
                             bool hash_new_entries = false);

// A host_key_verifier for ssh::transport_options::verify_host_key.
ssh::proto::host_key_verifier known_hosts_verifier(std::filesystem::path path, std::string host,
                                                   std::uint16_t port, host_key_policy policy,
                                                   bool hash_new_entries = false);

}  // namespace ferry::auth
