// auth::shared forwards exactly the capabilities of what it holds, and copies share one instance.
#include <ferry/auth/authorized_keys.hpp>
#include <ferry/auth/composite.hpp>
#include <ferry/auth/shared.hpp>
#include <ferry/auth/static_users.hpp>
#include <ferry/test/random.hpp>

#include "test_constants.hpp"

#include <gtest/gtest.h>

namespace ferry::auth {
namespace {

using fixtures::fast;

static_assert(authenticator<shared<static_users>> && has_password<shared<static_users>> &&
              has_keyboard_interactive<shared<static_users>> && !has_publickey<shared<static_users>>);
static_assert(has_publickey<shared<authorized_keys_authenticator>> &&
              !has_password<shared<authorized_keys_authenticator>>);
static_assert(!has_password<shared<deny_all>> && !has_publickey<shared<deny_all>>);
using both = composite<static_users, authorized_keys_authenticator>;
static_assert(has_password<shared<both>> && has_publickey<shared<both>> &&
              has_keyboard_interactive<shared<both>>);

TEST(shared_authenticator, copies_answer_as_the_original_and_share_it) {
  static_users u{fast};
  test::fixed_random rng;
  ASSERT_FALSE(u.add(user_entry{.name = "alice",
                                .password_hash = crypto::hash_password(as_bytes("pw"), rng, fast)}));
  auto a = make_shared_authenticator(std::move(u));
  auto b = a;
  EXPECT_EQ(&a.get(), &b.get());
  request r{.user = "alice"};
  auto g = check_password(b, r, as_bytes("pw"));
  ASSERT_TRUE(g);
  EXPECT_EQ(g->user, "alice");
  EXPECT_FALSE(check_password(b, r, as_bytes("wrong")));
  EXPECT_FALSE(check_password(a, request{.user = "mallory"}, as_bytes("pw")));
  EXPECT_TRUE(offered_methods(a, r).contains(method::password));
  EXPECT_FALSE(offered_methods(a, r).contains(method::publickey));
}

}  // namespace
}  // namespace ferry::auth
