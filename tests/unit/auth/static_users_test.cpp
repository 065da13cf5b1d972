// static_users: the users file, password and keyboard-interactive checks, and equal cost for
// unknown users.
#include <ferry/auth/static_users.hpp>
#include <ferry/crypto/password.hpp>
#include <ferry/test/random.hpp>

#include "test_constants.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace ferry::auth {
namespace {

using fixtures::fast;

std::string hash(std::string_view pw) {
  static test::fixed_random rng{42};
  return crypto::hash_password(as_bytes(pw), rng, fast);
}

secure_bytes secret(std::string_view s) { return secure_bytes(s.begin(), s.end()); }

TEST(static_users, a_users_file_grants_the_right_password_with_its_view_and_rights) {
  static_users u{fast};
  auto text = "# users\n"
              "alice:" + hash("wonderland") + ":/srv/alice:/in:read-only\n"
              "\n"
              "bob:" + hash("builder") + ":/srv/bob::ops=read+list+create\n"
              "carol:" + hash("x") + "\n";
  std::vector<std::pair<std::size_t, error_code>> errors;
  EXPECT_FALSE(u.load(text, &errors));
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(u.size(), 3u);

  auto a = u.check_password(request{.user = "alice"}, as_bytes("wonderland"));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->user, "alice");
  EXPECT_EQ(a->view.root, "/srv/alice");
  EXPECT_EQ(a->view.home, "/in");
  EXPECT_TRUE(a->view.read_only);
  EXPECT_TRUE(a->perms.allows(operation::read));
  EXPECT_FALSE(a->perms.allows(operation::write));

  auto b = u.check_password(request{.user = "bob"}, as_bytes("builder"));
  ASSERT_TRUE(b);
  EXPECT_EQ(b->view.home, "/");
  EXPECT_TRUE(b->perms.allows(operation::create));
  EXPECT_FALSE(b->perms.allows(operation::remove));

  auto c = u.check_password(request{.user = "carol"}, as_bytes("x"));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->view.root, "/");
  EXPECT_TRUE(c->perms.allows(operation::rmdir));
}

TEST(static_users, wrong_passwords_unknown_users_and_disabled_hashes_are_denied) {
  static_users u{fast};
  ASSERT_FALSE(u.load("alice:" + hash("pw") + "\nlocked:!" + hash("pw") + "\nnone:\n"));
  EXPECT_FALSE(u.check_password(request{.user = "alice"}, as_bytes("PW")));
  EXPECT_FALSE(u.check_password(request{.user = "alice"}, as_bytes("")));
  EXPECT_FALSE(u.check_password(request{.user = "mallory"}, as_bytes("pw")));
  EXPECT_FALSE(u.check_password(request{.user = "locked"}, as_bytes("pw")));
  EXPECT_FALSE(u.check_password(request{.user = "none"}, as_bytes("")));
  EXPECT_FALSE(u.check_password(request{.user = "ALICE"}, as_bytes("pw")));
}

TEST(static_users, bad_lines_are_reported_with_their_numbers_and_skipped) {
  static_users u{fast};
  std::vector<std::pair<std::size_t, error_code>> errors;
  auto first = u.load("ok:" + hash("a") + "\n"
                      "nohash\n"
                      "weird:$unknown$xyz\n"
                      "opts:" + hash("a") + ":/:/:frobnicate\n"
                      "ok:" + hash("b") + "\n"
                      "rel:" + hash("a") + ":relative\n"
                      "m:" + hash("a") + ":/:/:methods=password+telepathy\n",
                      &errors);
  EXPECT_EQ(first, errc::malformed_line);
  ASSERT_EQ(errors.size(), 6u);
  EXPECT_EQ(errors[0], (std::pair<std::size_t, error_code>{2, errc::malformed_line}));
  EXPECT_EQ(errors[1], (std::pair<std::size_t, error_code>{3, errc::bad_password_hash}));
  EXPECT_EQ(errors[2], (std::pair<std::size_t, error_code>{4, errc::unknown_option}));
  EXPECT_EQ(errors[3], (std::pair<std::size_t, error_code>{5, errc::duplicate_user}));
  EXPECT_EQ(errors[4], (std::pair<std::size_t, error_code>{6, errc::malformed_line}));
  EXPECT_EQ(errors[5], (std::pair<std::size_t, error_code>{7, errc::bad_option_value}));
  EXPECT_EQ(u.size(), 1u);
  EXPECT_TRUE(u.check_password(request{.user = "ok"}, as_bytes("a")));  // the first one stays
}

TEST(static_users, unknown_users_are_offered_the_same_methods_as_known_ones) {
  static_users u{fast};
  ASSERT_FALSE(u.load("alice:" + hash("pw") + "\nkeys:*:/:/:methods=publickey\n"));
  EXPECT_EQ(u.methods(request{.user = "nobody"}), u.methods(request{.user = "alice"}));
  EXPECT_EQ(u.methods(request{.user = "keys"}), method_set{method::publickey});
  EXPECT_FALSE(check_password(u, request{.user = "keys"}, as_bytes("")));
  // Only the program asks whether a name is configured (ferry-server, before anonymous FTP).
  EXPECT_TRUE(u.contains("alice"));
  EXPECT_TRUE(u.contains("keys"));
  EXPECT_FALSE(u.contains("nobody"));
  EXPECT_FALSE(u.contains("Alice"));
}

TEST(static_users, an_unknown_user_costs_as_much_time_as_a_known_one) {
  constexpr crypto::scrypt_params slow{.ln = 12, .r = 8, .p = 1};
  static_users u{slow};
  test::fixed_random rng{7};
  ASSERT_FALSE(u.add(user_entry{.name = "alice",
                                .password_hash = crypto::hash_password(as_bytes("pw"), rng, slow)}));
  auto time = [&](std::string_view user) {
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 8; ++i) {
      EXPECT_FALSE(u.check_password(request{.user = user}, as_bytes("wrong")));
    }
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  time("alice");  // warm up
  double known = time("alice");
  double unknown = time("nobody");
  RecordProperty("known_seconds", std::to_string(known));
  RecordProperty("unknown_seconds", std::to_string(unknown));
  EXPECT_GT(unknown, known * 0.5);
  EXPECT_LT(unknown, known * 2.0);
}

TEST(static_users, keyboard_interactive_asks_one_hidden_password_prompt) {
  static_users u{fast};
  ASSERT_FALSE(u.load("alice:" + hash("pw") + ":/home/alice\n"));
  request r{.user = "alice"};
  auto c = start_keyboard_interactive(u, r);
  ASSERT_TRUE(c);
  ASSERT_EQ(c->prompts.size(), 1u);
  EXPECT_FALSE(c->prompts[0].echo);
  std::vector<secure_bytes> right{secret("pw")};
  auto ok = continue_keyboard_interactive(u, r, 0, right);
  EXPECT_EQ(ok.what, ki_step::kind::success);
  ASSERT_TRUE(ok.granted);
  EXPECT_EQ(ok.granted->view.root, "/home/alice");
  std::vector<secure_bytes> wrong{secret("nope")};
  EXPECT_EQ(continue_keyboard_interactive(u, r, 0, wrong).what, ki_step::kind::failure);
  EXPECT_EQ(continue_keyboard_interactive(u, r, 1, right).what, ki_step::kind::failure);
  std::vector<secure_bytes> two{secret("pw"), secret("pw")};
  EXPECT_EQ(continue_keyboard_interactive(u, r, 0, two).what, ki_step::kind::failure);
  // An unknown user gets the same prompt and a failure.
  request m{.user = "mallory"};
  ASSERT_TRUE(start_keyboard_interactive(u, m));
  EXPECT_EQ(continue_keyboard_interactive(u, m, 0, right).what, ki_step::kind::failure);
}

TEST(static_users, crypt3_hashes_from_shadow_files_work_when_libcrypt_is_linked) {
  static_users u{fast};
  const std::string line =
      "sam:$6$saltsalt$hRM5XZ86KXEw9UOmjigeVqFgULtFB2sgpC9lXQDfMib3Zgw7mEiUvBJI2EplzfAqxL5Vvwp2scFtv/"
      "uamSo5z0";
  auto ec = u.load(line);
  if (crypto::crypt_supported()) {
    EXPECT_FALSE(ec);
    EXPECT_TRUE(u.check_password(request{.user = "sam"}, as_bytes("correct horse")));
    EXPECT_FALSE(u.check_password(request{.user = "sam"}, as_bytes("correct horses")));
  } else {
    EXPECT_EQ(ec, errc::bad_password_hash);
  }
}

}  // namespace
}  // namespace ferry::auth
