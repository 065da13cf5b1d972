// Anonymous FTP (RFC 1635): the user names "anonymous" and "ftp" log in with any password (by
// custom an e-mail address, which is not checked) and are jailed in one directory of the server's
// filesystem. Like vsftpd's anonymous_enable, only FTP logins qualify (request.service is
// ftp_service): an SSH service never sees these users. Read-only by default; with uploads on,
// anonymous users may also store files and make directories (vsftpd's anon_upload_enable and
// anon_mkdir_write_enable), but never rename or remove anything.
//
//   auth::composite<auth::static_users, auth::anonymous> users{
//       std::move(passwords), auth::anonymous{{.root = "/pub"}}};
#pragma once

#include <ferry/auth/authenticator.hpp>

#include <string>
#include <string_view>

namespace ferry::auth {

class anonymous {
 public:
  struct options {
    std::string root = "/";  // the anonymous users' "/" within the server's filesystem
    bool uploads = false;    // store files and make directories (no rename, no removal)
  };

  anonymous() = default;
  explicit anonymous(options o) : o_(std::move(o)) {}

  static bool is_anonymous(std::string_view user) noexcept {
    return user == "anonymous" || user == "ftp";
  }

  method_set methods(const request& r) const {
    if (r.service == ftp_service && is_anonymous(r.user)) return {method::password};
    return {};
  }

  result check_password(const request& r, byte_view) const {
    if (r.service != ftp_service || !is_anonymous(r.user)) return std::nullopt;
    grant g;
    g.user = "anonymous";
    g.view.root = o_.root;
    g.view.home = "/";
    if (o_.uploads) {
      g.perms.allowed = read_operations | static_cast<std::uint32_t>(operation::create) |
                        static_cast<std::uint32_t>(operation::write) |
                        static_cast<std::uint32_t>(operation::mkdir);
    } else {
      g.perms.read_only = true;
      g.view.read_only = true;
    }
    return g;
  }

 private:
  options o_;
};

}  // namespace ferry::auth
