#include <ferry/ftp/proto/url.hpp>

#include <gtest/gtest.h>

using namespace ferry;

namespace {
ftp::url parse_ok(std::string_view text) {
  ftp::url u;
  auto ec = ftp::parse_url(text, u);
  EXPECT_FALSE(ec) << text << ": " << ec.message();
  return u;
}
}  // namespace

TEST(ftp_url, plain_host_and_path_with_default_port) {
  auto u = parse_ok("ftp://example.org/pub/file.bin");
  EXPECT_EQ(u.scheme, ftp::url_scheme::ftp);
  EXPECT_FALSE(u.user);
  EXPECT_FALSE(u.password);
  EXPECT_EQ(u.host, "example.org");
  EXPECT_EQ(u.port, 21);
  EXPECT_FALSE(u.port_given);
  EXPECT_EQ(u.path, "pub/file.bin");  // relative to the login directory (RFC 1738 §3.2.2)
  EXPECT_EQ(u.file_name(), "file.bin");
  EXPECT_FALSE(u.names_directory());
}

TEST(ftp_url, ftps_defaults_to_990_and_scheme_is_case_insensitive) {
  auto u = parse_ok("FTPS://h");
  EXPECT_EQ(u.scheme, ftp::url_scheme::ftps);
  EXPECT_EQ(u.port, 990);
  EXPECT_EQ(u.path, "");
  EXPECT_TRUE(u.names_directory());
}

TEST(ftp_url, user_password_port_and_percent_decoding) {
  auto u = parse_ok("ftp://j%40doe:p%3Ass%20w@127.0.0.1:2121/a%20dir/na%C3%AFve.txt");
  ASSERT_TRUE(u.user);
  EXPECT_EQ(*u.user, "j@doe");
  ASSERT_TRUE(u.password);
  EXPECT_EQ(*u.password, "p:ss w");
  EXPECT_EQ(u.host, "127.0.0.1");
  EXPECT_EQ(u.port, 2121);
  EXPECT_TRUE(u.port_given);
  EXPECT_EQ(u.path, "a dir/na\xC3\xAFve.txt");
}

TEST(ftp_url, user_without_password_and_empty_password) {
  auto u = parse_ok("ftp://anonymous@h/");
  EXPECT_EQ(*u.user, "anonymous");
  EXPECT_FALSE(u.password);
  EXPECT_EQ(u.path, "");
  u = parse_ok("ftp://bob:@h/x");
  EXPECT_EQ(*u.password, "");
  // An unescaped '@' in the password: the last '@' ends the user info.
  u = parse_ok("ftp://bob:a@b@h/x");
  EXPECT_EQ(*u.password, "a@b");
  EXPECT_EQ(u.host, "h");
}

TEST(ftp_url, ipv6_literals_in_brackets) {
  auto u = parse_ok("ftp://[::1]:2121/x");
  EXPECT_TRUE(u.ipv6_literal);
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, 2121);
  u = parse_ok("ftps://u@[2001:db8::7]/d/");
  EXPECT_EQ(u.host, "2001:db8::7");
  EXPECT_EQ(u.port, 990);
  EXPECT_TRUE(u.names_directory());
  ftp::url bad;
  for (auto t : {"ftp://[::1/x", "ftp://[]/x", "ftp://[zz::1]/", "ftp://[::1]x/", "ftp://[::1]:/",
                 "ftp://[fe80::1%25eth0]/", "ftp://::1/"}) {
    EXPECT_EQ(ftp::parse_url(t, bad), ftp::errc::bad_url) << t;
  }
}

TEST(ftp_url, absolute_paths_and_type_code) {
  EXPECT_EQ(parse_ok("ftp://h/%2Fetc/motd").path, "/etc/motd");
  EXPECT_EQ(parse_ok("ftp://h//etc/motd").path, "/etc/motd");
  auto u = parse_ok("ftp://h/readme.txt;type=A");
  EXPECT_EQ(u.type, 'a');
  EXPECT_EQ(u.path, "readme.txt");
  ftp::url bad;
  EXPECT_EQ(ftp::parse_url("ftp://h/x;type=q", bad), ftp::errc::bad_url);
}

TEST(ftp_url, refuses_cr_lf_nul_raw_and_encoded) {
  ftp::url u;
  // A command smuggled through a URL must never reach the control connection.
  EXPECT_EQ(ftp::parse_url("ftp://h/x%0D%0ADELE%20y", u), ftp::errc::forbidden_character);
  EXPECT_EQ(ftp::parse_url("ftp://h/x%0ay", u), ftp::errc::forbidden_character);
  EXPECT_EQ(ftp::parse_url("ftp://h/x%00", u), ftp::errc::forbidden_character);
  EXPECT_EQ(ftp::parse_url("ftp://u%0d:p@h/", u), ftp::errc::forbidden_character);
  EXPECT_EQ(ftp::parse_url("ftp://u:p%0a@h/", u), ftp::errc::forbidden_character);
  EXPECT_EQ(ftp::parse_url(std::string_view{"ftp://h/x\ny"}, u), ftp::errc::forbidden_character);
  EXPECT_EQ(ftp::parse_url(std::string_view{"ftp://h/x\0y", 10}, u), ftp::errc::forbidden_character);
}

TEST(ftp_url, refuses_malformed_urls) {
  ftp::url u;
  for (auto t : {"", "ftp:/h/x", "http://h/x", "ftp://", "ftp:///x", "ftp://h:0/", "ftp://h:65536/",
                 "ftp://h:21x/", "ftp://h:/", "ftp://h:123456/", "ftp://@h/", "ftp://:pw@h/",
                 "ftp://h/a b", "ftp://h/a?b", "ftp://h/a#b", "ftp://h/%", "ftp://h/%4",
                 "ftp://h/%zz", "ftp://h%41/", "ftp://h\t/", "ftp://ho st/"}) {
    EXPECT_TRUE(ftp::parse_url(t, u)) << t;
  }
  std::string huge = "ftp://h/" + std::string(limits::ftp_max_url, 'a');
  EXPECT_TRUE(ftp::parse_url(huge, u));
}

TEST(ftp_url, failure_leaves_the_output_untouched) {
  ftp::url u = parse_ok("ftp://keep/me");
  EXPECT_TRUE(ftp::parse_url("ftp://h/%0d", u));
  EXPECT_EQ(u.host, "keep");
}

TEST(ftp_url, format_round_trips) {
  for (auto t : {"ftp://h", "ftp://h/a/b/", "ftps://u:p%3Aw@[::1]:99/%2Fetc/x;type=i",
                 "ftp://j%40d@h/sp%20ace", "ftp://h:2121/%2F"}) {
    auto u = parse_ok(t);
    ftp::url back;
    ASSERT_FALSE(ftp::parse_url(ftp::format_url(u), back)) << t << " -> " << ftp::format_url(u);
    EXPECT_EQ(back, u) << t;
  }
  auto u = parse_ok("ftp://bob:secret@h/x");
  EXPECT_EQ(ftp::format_url(u, false), "ftp://bob@h/x");
}
