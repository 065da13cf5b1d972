// The Authenticator concept: who may log in, how, and with what rights. One authenticator serves
// the SSH server (RFC 4252 methods) and the FTP server (USER/PASS).
//
// Required: methods(request) -> method_set, the methods worth offering this user. Optional,
// detected with the concepts below and called through the helpers at the end of this file, which
// deny when the authenticator lacks the capability (defaults deny):
//   check_password(request, password) -> result
//   accept_public_key(request, algorithm, key_blob) -> bool        RFC 4252 §7 query: "would this
//                                                                  key do?" (no signature yet)
//   authorize_public_key(request, algorithm, key_blob) -> result   the signature has been verified
//                                                                  by the SSH layer: authorise
//   start_keyboard_interactive(request) -> std::optional<challenge>           RFC 4256
//   continue_keyboard_interactive(request, round, responses) -> ki_step
// A result is empty for "denied"; a grant carries the identity, the user's filesystem view and
// permissions. Keys cross this interface as (algorithm name, public key blob in RFC 4253 §6.6
// encoding); authenticators compare blobs and never parse signatures.
//
// Calls are synchronous and may be slow on purpose (password hashing); a server runs them off its
// network threads (auth::async_call in auth/async.hpp does that). Implementations must be safe to
// call from several threads at once.
#pragma once

#include <ferry/core/bytes.hpp>
#include <ferry/core/secure.hpp>
#include <ferry/fs/attributes.hpp>

#include <chrono>
#include <concepts>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::auth {

enum class method : std::uint8_t { password = 1, publickey = 2, keyboard_interactive = 4 };

class method_set {
 public:
  constexpr method_set() noexcept = default;
  constexpr method_set(std::initializer_list<method> ms) noexcept {
    for (auto m : ms) bits_ |= static_cast<std::uint8_t>(m);
  }
  constexpr bool contains(method m) const noexcept { return bits_ & static_cast<std::uint8_t>(m); }
  constexpr bool empty() const noexcept { return bits_ == 0; }
  constexpr method_set& operator|=(method_set o) noexcept {
    bits_ |= o.bits_;
    return *this;
  }
  constexpr method_set operator&(method_set o) const noexcept {
    method_set r;
    r.bits_ = bits_ & o.bits_;
    return r;
  }
  constexpr bool operator==(const method_set&) const = default;
  // RFC 4252 §5.2 names, for the "authentications that can continue" list.
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    if (contains(method::publickey)) out.emplace_back("publickey");
    if (contains(method::password)) out.emplace_back("password");
    if (contains(method::keyboard_interactive)) out.emplace_back("keyboard-interactive");
    return out;
  }

 private:
  std::uint8_t bits_ = 0;
};

// request::service of an FTP login (ftp::server); SSH logins carry the service the client asked for
// (RFC 4252 §5), normally "ssh-connection".
inline constexpr std::string_view ftp_service = "ftp";

// Who is asking. Views are valid for the duration of the call.
struct request {
  std::string_view user{};
  std::string_view service{};         // "ssh-connection", "ftp", ...
  std::string_view remote_address{};  // numeric IPv4/IPv6 address; empty if unknown
  std::string_view remote_host{};     // reverse-resolved name, if the server looked it up
  std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
};

// Filesystem operations a user may perform (a server checks before calling the Filesystem).
enum class operation : std::uint32_t {
  read = 1u << 0,     // open for reading, stat, readlink, realpath
  list = 1u << 1,     // opendir/readdir
  write = 1u << 2,    // open for writing existing files, setstat
  create = 1u << 3,   // create files
  remove = 1u << 4,   // remove files
  rename = 1u << 5,   // rename, posix_rename
  mkdir = 1u << 6,
  rmdir = 1u << 7,
  symlink = 1u << 8,  // symlink, hardlink
};
inline constexpr std::uint32_t all_operations = (1u << 9) - 1;
inline constexpr std::uint32_t read_operations =
    static_cast<std::uint32_t>(operation::read) | static_cast<std::uint32_t>(operation::list);

struct permissions {
  bool read_only = false;
  std::uint32_t allowed = all_operations;

  bool allows(operation op) const noexcept {
    auto bit = static_cast<std::uint32_t>(op);
    if (read_only && !(bit & read_operations)) return false;
    return (allowed & bit) != 0;
  }

  // SSH session restrictions, from authorized_keys options (sshd(8) AUTHORIZED_KEYS FILE FORMAT).
  std::optional<std::string> forced_command;
  bool pty = true;
  bool port_forwarding = true;
  bool agent_forwarding = true;
  bool x11_forwarding = true;
  bool user_rc = true;
  std::vector<std::string> permit_open;  // host:port; empty = any (when port_forwarding)
  std::vector<std::string> environment;  // NAME=value
};

struct grant {
  std::string user{};
  fs::user_view view{};  // root and home within the server's filesystem; view.read_only mirrors
  permissions perms{};   // perms.read_only
};

using result = std::optional<grant>;

struct prompt {
  std::string text;
  bool echo = false;
};

// RFC 4256 §3.2 SSH_MSG_USERAUTH_INFO_REQUEST contents.
struct challenge {
  std::string name;
  std::string instruction;
  std::vector<prompt> prompts;
};

struct ki_step {
  enum class kind { failure, success, challenge };
  kind what = kind::failure;
  challenge next;           // when what == challenge
  std::optional<grant> granted;  // when what == success
};

// --- the concept and its capabilities ---------------------------------------------------------

template <class A>
concept authenticator = requires(const A& a, const request& r) {
  { a.methods(r) } -> std::same_as<method_set>;
};

template <class A>
concept has_password = requires(const A& a, const request& r, byte_view pw) {
  { a.check_password(r, pw) } -> std::same_as<result>;
};

template <class A>
concept has_publickey = requires(const A& a, const request& r, std::string_view alg, byte_view b) {
  { a.accept_public_key(r, alg, b) } -> std::same_as<bool>;
  { a.authorize_public_key(r, alg, b) } -> std::same_as<result>;
};

template <class A>
concept has_keyboard_interactive =
    requires(const A& a, const request& r, std::size_t round,
             std::span<const secure_bytes> responses) {
      { a.start_keyboard_interactive(r) } -> std::same_as<std::optional<challenge>>;
      { a.continue_keyboard_interactive(r, round, responses) } -> std::same_as<ki_step>;
    };

// --- helpers: call a capability if present, deny otherwise --------------------------------------

// The methods to offer: what the authenticator says, less what it cannot actually check.
template <authenticator A>
method_set offered_methods(const A& a, const request& r) {
  method_set able;
  if constexpr (has_password<A>) able |= method_set{method::password};
  if constexpr (has_publickey<A>) able |= method_set{method::publickey};
  if constexpr (has_keyboard_interactive<A>) able |= method_set{method::keyboard_interactive};
  return a.methods(r) & able;
}

template <authenticator A>
result check_password(const A& a, const request& r, byte_view password) {
  if constexpr (has_password<A>) {
    if (!a.methods(r).contains(method::password)) return std::nullopt;
    return a.check_password(r, password);
  } else {
    return std::nullopt;
  }
}

template <authenticator A>
bool accept_public_key(const A& a, const request& r, std::string_view alg, byte_view blob) {
  if constexpr (has_publickey<A>) {
    return a.methods(r).contains(method::publickey) && a.accept_public_key(r, alg, blob);
  } else {
    return false;
  }
}

template <authenticator A>
result authorize_public_key(const A& a, const request& r, std::string_view alg, byte_view blob) {
  if constexpr (has_publickey<A>) {
    if (!a.methods(r).contains(method::publickey)) return std::nullopt;
    return a.authorize_public_key(r, alg, blob);
  } else {
    return std::nullopt;
  }
}

template <authenticator A>
std::optional<challenge> start_keyboard_interactive(const A& a, const request& r) {
  if constexpr (has_keyboard_interactive<A>) {
    if (!a.methods(r).contains(method::keyboard_interactive)) return std::nullopt;
    return a.start_keyboard_interactive(r);
  } else {
    return std::nullopt;
  }
}

template <authenticator A>
ki_step continue_keyboard_interactive(const A& a, const request& r, std::size_t round,
                                      std::span<const secure_bytes> responses) {
  if constexpr (has_keyboard_interactive<A>) {
    if (!a.methods(r).contains(method::keyboard_interactive)) return {};
    return a.continue_keyboard_interactive(r, round, responses);
  } else {
    return {};
  }
}

// Denies everyone: the default.
struct deny_all {
  method_set methods(const request&) const { return {}; }
};

}  // namespace ferry::auth
