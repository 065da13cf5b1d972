// The concept's defaults deny; composite joins authenticators without widening any of them.
#include <ferry/auth/authorized_keys.hpp>
#include <ferry/auth/composite.hpp>
#include <ferry/auth/static_users.hpp>
#include <ferry/test/random.hpp>

#include "test_constants.hpp"

#include <gtest/gtest.h>

namespace ferry::auth {
namespace {

using fixtures::fast;
using fixtures::ed_line;

static_assert(authenticator<deny_all>);
static_assert(!has_password<deny_all> && !has_publickey<deny_all> &&
              !has_keyboard_interactive<deny_all>);
static_assert(authenticator<static_users> && has_password<static_users> &&
              has_keyboard_interactive<static_users> && !has_publickey<static_users>);
static_assert(authenticator<authorized_keys_authenticator> &&
              has_publickey<authorized_keys_authenticator> &&
              !has_password<authorized_keys_authenticator>);
using both = composite<static_users, authorized_keys_authenticator>;
static_assert(authenticator<both> && has_password<both> && has_publickey<both> &&
              has_keyboard_interactive<both>);

// Claims every method but implements none: the helpers must still deny.
struct boastful {
  method_set methods(const request&) const {
    return {method::password, method::publickey, method::keyboard_interactive};
  }
};

TEST(authenticator_defaults, missing_capabilities_deny_and_are_not_offered) {
  boastful b;
  request r{.user = "root"};
  EXPECT_TRUE(offered_methods(b, r).empty());
  EXPECT_FALSE(check_password(b, r, as_bytes("")));
  EXPECT_FALSE(accept_public_key(b, r, "ssh-ed25519", bytes{1, 2, 3}));
  EXPECT_FALSE(authorize_public_key(b, r, "ssh-ed25519", bytes{1, 2, 3}));
  EXPECT_FALSE(start_keyboard_interactive(b, r));
  EXPECT_EQ(continue_keyboard_interactive(b, r, 0, {}).what, ki_step::kind::failure);
  deny_all d;
  EXPECT_TRUE(offered_methods(d, r).empty());
  EXPECT_FALSE(check_password(d, r, as_bytes("")));
}

TEST(authenticator_defaults, a_method_the_user_may_not_use_is_refused_even_with_the_right_secret) {
  static_users u{fast};
  test::fixed_random rng;
  ASSERT_FALSE(u.add(user_entry{.name = "kionly",
                                .password_hash = crypto::hash_password(as_bytes("pw"), rng, fast),
                                .methods = {method::keyboard_interactive}}));
  request r{.user = "kionly"};
  EXPECT_FALSE(check_password(u, r, as_bytes("pw")));
  std::vector<secure_bytes> resp{secure_bytes{'p', 'w'}};
  EXPECT_EQ(continue_keyboard_interactive(u, r, 0, resp).what, ki_step::kind::success);
}

TEST(permissions, read_only_overrides_the_allowed_operations) {
  permissions p;
  EXPECT_TRUE(p.allows(operation::remove));
  p.allowed = static_cast<std::uint32_t>(operation::read) | static_cast<std::uint32_t>(operation::write);
  EXPECT_TRUE(p.allows(operation::write));
  EXPECT_FALSE(p.allows(operation::list));
  p.read_only = true;
  EXPECT_FALSE(p.allows(operation::write));
  EXPECT_TRUE(p.allows(operation::read));
  EXPECT_EQ(method_set({method::password, method::publickey}).names(),
            (std::vector<std::string>{"publickey", "password"}));
}

TEST(composite, passwords_and_keys_come_from_their_own_parts) {
  static_users users{fast};
  test::fixed_random rng;
  ASSERT_FALSE(users.load("alice:" + crypto::hash_password(as_bytes("pw"), rng, fast) +
                          ":/alice\n"));
  authorized_keys_authenticator keys;
  grant account;
  account.view.root = "/alice-keys";
  keys.add_user("alice", account, ed_line);
  both c{std::move(users), std::move(keys)};
  authorized_key k;
  ASSERT_FALSE(parse_authorized_key(ed_line, k));

  request r{.user = "alice"};
  EXPECT_EQ(c.methods(r),
            (method_set{method::password, method::publickey, method::keyboard_interactive}));
  auto byp = c.check_password(r, as_bytes("pw"));
  ASSERT_TRUE(byp);
  EXPECT_EQ(byp->view.root, "/alice");
  EXPECT_FALSE(c.check_password(r, as_bytes("bad")));
  EXPECT_TRUE(c.accept_public_key(r, "ssh-ed25519", k.blob));
  auto byk = c.authorize_public_key(r, "ssh-ed25519", k.blob);
  ASSERT_TRUE(byk);
  EXPECT_EQ(byk->view.root, "/alice-keys");
  request bob{.user = "bob"};
  EXPECT_FALSE(c.accept_public_key(bob, "ssh-ed25519", k.blob));
  EXPECT_FALSE(c.check_password(bob, as_bytes("pw")));
  auto ch = c.start_keyboard_interactive(r);
  ASSERT_TRUE(ch);
  std::vector<secure_bytes> resp{secure_bytes{'p', 'w'}};
  EXPECT_EQ(c.continue_keyboard_interactive(r, 0, resp).what, ki_step::kind::success);
}

TEST(composite, of_deny_all_denies_everything) {
  composite<deny_all, deny_all> c{deny_all{}, deny_all{}};
  request r{.user = "root"};
  EXPECT_TRUE(c.methods(r).empty());
  EXPECT_FALSE(check_password(c, r, as_bytes("")));
  EXPECT_FALSE(c.check_password(r, as_bytes("")));
  EXPECT_FALSE(c.accept_public_key(r, "ssh-ed25519", bytes{}));
  EXPECT_FALSE(c.start_keyboard_interactive(r));
}

}  // namespace
}  // namespace ferry::auth
