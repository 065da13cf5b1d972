// Anonymous FTP logins: only the names "anonymous" and "ftp", only for the FTP service, jailed in
// their directory, and never allowed to rename or remove.
#include <ferry/auth/anonymous.hpp>
#include <ferry/auth/composite.hpp>
#include <ferry/auth/static_users.hpp>
#include <ferry/crypto/random.hpp>

#include "test_constants.hpp"

#include <gtest/gtest.h>

namespace ferry::auth {
namespace {

static_assert(authenticator<anonymous> && has_password<anonymous> && !has_publickey<anonymous>);

TEST(anonymous, ftp_logins_for_both_names_with_any_password_read_only_by_default) {
  anonymous a{{.root = "/pub"}};
  for (std::string_view name : {"anonymous", "ftp"}) {
    request r{.user = name, .service = "ftp"};
    EXPECT_EQ(a.methods(r), method_set{method::password});
    for (std::string_view pw : {"", "guest@example.org", "anything at all"}) {
      auto g = a.check_password(r, as_bytes(pw));
      ASSERT_TRUE(g) << name << " / " << pw;
      EXPECT_EQ(g->user, "anonymous");
      EXPECT_EQ(g->view.root, "/pub");
      EXPECT_EQ(g->view.home, "/");
      EXPECT_TRUE(g->view.read_only);
      EXPECT_TRUE(g->perms.allows(operation::read));
      EXPECT_TRUE(g->perms.allows(operation::list));
      for (auto op : {operation::write, operation::create, operation::remove, operation::rename,
                      operation::mkdir, operation::rmdir, operation::symlink})
        EXPECT_FALSE(g->perms.allows(op)) << static_cast<unsigned>(op);
    }
  }
}

TEST(anonymous, other_names_and_other_services_are_not_anonymous) {
  anonymous a;
  for (std::string_view name : {"alice", "Anonymous", "FTP", "anonymous ", ""}) {
    request r{.user = name, .service = "ftp"};
    EXPECT_TRUE(a.methods(r).empty()) << name;
    EXPECT_FALSE(a.check_password(r, as_bytes("x"))) << name;
  }
  for (std::string_view service : {"ssh-connection", "", "ftps"}) {
    request r{.user = "anonymous", .service = service};
    EXPECT_TRUE(a.methods(r).empty()) << service;
    EXPECT_FALSE(a.check_password(r, as_bytes("x"))) << service;
  }
}

TEST(anonymous, uploads_store_and_make_directories_but_never_rename_or_remove) {
  anonymous a{{.root = "/incoming", .uploads = true}};
  auto g = a.check_password({.user = "ftp", .service = "ftp"}, as_bytes("x"));
  ASSERT_TRUE(g);
  EXPECT_FALSE(g->view.read_only);
  for (auto op : {operation::read, operation::list, operation::write, operation::create, operation::mkdir})
    EXPECT_TRUE(g->perms.allows(op)) << static_cast<unsigned>(op);
  for (auto op : {operation::remove, operation::rename, operation::rmdir, operation::symlink})
    EXPECT_FALSE(g->perms.allows(op)) << static_cast<unsigned>(op);
}

TEST(anonymous, a_real_user_keeps_its_password_check_in_front_of_anonymous) {
  using fixtures::fast;
  static_users users{fast};
  user_entry e;
  e.name = "alice";
  e.password_hash = crypto::hash_password(as_bytes("secret"), crypto::system_random(), fast);
  ASSERT_FALSE(users.add(std::move(e)));
  composite<static_users, anonymous> both{std::move(users), anonymous{}};
  request alice{.user = "alice", .service = "ftp"};
  EXPECT_FALSE(both.check_password(alice, as_bytes("wrong")));
  auto g = both.check_password(alice, as_bytes("secret"));
  ASSERT_TRUE(g);
  EXPECT_EQ(g->user, "alice");
  EXPECT_FALSE(g->view.read_only);
  auto anon = both.check_password({.user = "anonymous", .service = "ftp"}, as_bytes("x"));
  ASSERT_TRUE(anon);
  EXPECT_TRUE(anon->view.read_only);
}

}  // namespace
}  // namespace ferry::auth
