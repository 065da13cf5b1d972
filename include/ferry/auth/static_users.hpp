// An Authenticator over a fixed list of users with salted password hashes, read from a users file.
//
// Users file format: one user per line, fields separated by ':' as in /etc/passwd (no field can
// contain ':'; crypt(3) and ferry's scrypt strings never do). Blank lines and '#' comments are
// skipped.
//
//   name:password-hash[:root[:home[:options]]]
//
//   name           the login name (no blanks)
//   password-hash  "$scrypt$ln=15,r=8,p=1$<salt>$<hash>" (crypto::hash_password), or a crypt(3)
//                  string such as "$6$..." or "$y$..." when built with libcrypt; empty, "!" or "*"
//                  (or anything starting with '!') disables password login for the user
//   root           the user's "/" within the server's filesystem (default "/")
//   home           where relative paths start, within root (default "/")
//   options        comma-separated:
//                    read-only                     no changes at all
//                    methods=password+keyboard-interactive+publickey   methods offered (default
//                                                  password+keyboard-interactive)
//                    ops=read+list+write+create+remove+rename+mkdir+rmdir+symlink   the operations
//                                                  allowed (default all)
//
//   alice:$scrypt$ln=15,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$...:/srv/alice:/:read-only
//
// An unknown user, or one without a usable hash, is checked against a dummy hash of the same cost,
// so a failed login takes as long whether or not the name exists.
#pragma once

#include <ferry/auth/authenticator.hpp>
#include <ferry/auth/error.hpp>
#include <ferry/crypto/password.hpp>

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ferry::auth {

struct user_entry {
  std::string name{};
  std::string password_hash{};
  fs::user_view view{};
  permissions perms{};
  method_set methods{method::password, method::keyboard_interactive};
};

class static_users {
 public:
  // dummy_params: the cost of the dummy hash unknown users are checked against; use the cost of
  // the hashes in the users file.
  explicit static_users(crypto::scrypt_params dummy_params = {});

  // Adds the valid lines of a users file; reports the invalid ones (1-based line, error). Returns
  // the first error, if any.
  error_code load(std::string_view text,
                  std::vector<std::pair<std::size_t, error_code>>* errors = nullptr);
  error_code add(user_entry e);
  std::size_t size() const noexcept { return users_.size(); }
  // Whether a user of this name is configured. For a program's own checks: what a client is told
  // never depends on it.
  bool contains(std::string_view name) const { return users_.find(name) != users_.end(); }

  method_set methods(const request& r) const;
  result check_password(const request& r, byte_view password) const;
  std::optional<challenge> start_keyboard_interactive(const request& r) const;
  ki_step continue_keyboard_interactive(const request& r, std::size_t round,
                                        std::span<const secure_bytes> responses) const;

  // One users-file line (exposed for tests and tools).
  static error_code parse_line(std::string_view line, user_entry& out, bool& empty);

 private:
  std::map<std::string, user_entry, std::less<>> users_;
  std::string dummy_;
};

}  // namespace ferry::auth
