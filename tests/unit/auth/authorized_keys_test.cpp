// authorized_keys parsing (sshd(8) AUTHORIZED_KEYS FILE FORMAT), from= and expiry-time=
// enforcement, and the authenticator built on it.
#include <ferry/auth/authorized_keys.hpp>
#include <ferry/core/limits.hpp>
#include <ferry/core/wire.hpp>

#include "test_constants.hpp"

#include <gtest/gtest.h>

namespace ferry::auth {
namespace {

using namespace std::chrono_literals;

// Public keys made with ssh-keygen for these tests (ed_line is shared).
using fixtures::ed_line;
const std::string ec_b64 =
    "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBLRn8Y9FMPNxZPC/XEfW1S9FOsMb012narlPAD1+"
    "yyAEmoTVgzcb+akOIvTH1P51c7HRwrZGjcGwt+ywh7dRFpk=";

authorized_key parse_ok(std::string_view line) {
  authorized_key k;
  auto ec = parse_authorized_key(line, k);
  EXPECT_FALSE(ec) << line << ": " << ec.message();
  return k;
}

error_code parse_err(std::string_view line) {
  authorized_key k;
  return parse_authorized_key(line, k);
}

TEST(authorized_keys_parse, a_plain_line_gives_type_blob_and_comment) {
  auto k = parse_ok(ed_line);
  EXPECT_EQ(k.type, "ssh-ed25519");
  EXPECT_EQ(k.comment, "alice@laptop");
  ASSERT_EQ(k.blob.size(), 4u + 11u + 4u + 32u);  // string "ssh-ed25519", string key[32]
  wire::reader r{k.blob};
  EXPECT_EQ(r.string_view(), "ssh-ed25519");
  EXPECT_EQ(r.string().size(), 32u);
  EXPECT_FALSE(r.finish());
  auto e = parse_ok("ecdsa-sha2-nistp256 " + ec_b64);
  EXPECT_EQ(e.type, "ecdsa-sha2-nistp256");
  EXPECT_EQ(e.comment, "");
}

TEST(authorized_keys_parse, blank_and_comment_lines_are_skipped) {
  EXPECT_EQ(parse_ok("").type, "");
  EXPECT_EQ(parse_ok("   # ssh-ed25519 AAAA").type, "");
  std::vector<std::pair<std::size_t, error_code>> errors;
  auto keys = parse_authorized_keys("# header\n\n" + ed_line + "\nbogus line\r\necdsa-sha2-nistp256 " +
                                        ec_b64 + " bob\r\n",
                                    &errors);
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[1].comment, "bob");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].first, 4u);
}

TEST(authorized_keys_parse, every_documented_option_is_read) {
  auto k = parse_ok(
      R"(from="*.example.com,!bad.example.com,192.0.2.0/24",command="echo \"hi\"",)"
      R"(environment="LANG=C",expiry-time="20300101Z",permitopen="db:5432",restrict,pty,)"
      R"(no-agent-forwarding,NO-X11-FORWARDING,principals="a,b",tunnel="1" )" + ed_line);
  EXPECT_EQ(k.type, "ssh-ed25519");
  auto& o = k.options;
  EXPECT_EQ(o.from, (std::vector<std::string>{"*.example.com", "!bad.example.com",
                                              "192.0.2.0/24"}));
  EXPECT_EQ(o.command, "echo \"hi\"");
  EXPECT_EQ(o.environment, std::vector<std::string>{"LANG=C"});
  ASSERT_TRUE(o.expiry);
  EXPECT_EQ(std::chrono::system_clock::to_time_t(*o.expiry), 1893456000);  // 2030-01-01 UTC
  EXPECT_EQ(o.permit_open, std::vector<std::string>{"db:5432"});
  EXPECT_TRUE(o.restrict);
  EXPECT_EQ(o.pty, true);
  EXPECT_EQ(o.agent_forwarding, false);
  EXPECT_EQ(o.x11_forwarding, false);
  EXPECT_EQ(o.principals, "a,b");
  EXPECT_EQ(o.tunnel, "1");
}

TEST(authorized_keys_parse, quoted_values_may_hold_blanks_and_commas) {
  auto k = parse_ok(R"(command="ls -l /a, /b" )" + ed_line);
  EXPECT_EQ(k.options.command, "ls -l /a, /b");
  EXPECT_EQ(k.comment, "alice@laptop");
}

TEST(authorized_keys_parse, bad_lines_report_why) {
  EXPECT_EQ(parse_err("frobnicate " + ed_line), errc::unknown_option);
  EXPECT_EQ(parse_err(R"(command="unterminated )" + ed_line), errc::bad_option_value);
  EXPECT_EQ(parse_err("command=noquotes " + ed_line), errc::bad_option_value);
  EXPECT_EQ(parse_err(R"(no-pty="x" )" + ed_line), errc::bad_option_value);
  EXPECT_EQ(parse_err("command " + ed_line), errc::bad_option_value);
  EXPECT_EQ(parse_err(R"(environment="=x" )" + ed_line), errc::bad_option_value);
  EXPECT_EQ(parse_err(R"(expiry-time="2030" )" + ed_line), errc::bad_option_value);
  EXPECT_EQ(parse_err(R"(from="10.0.0.1/8" )" + ed_line), errc::bad_pattern);  // host bits set
  EXPECT_EQ(parse_err(R"(from="10.0.0.0/33" )" + ed_line), errc::bad_pattern);
  EXPECT_EQ(parse_err("ssh-ed25519 not*base64"), errc::bad_base64);
  EXPECT_EQ(parse_err("ssh-ed25519"), errc::malformed_line);
  EXPECT_EQ(parse_err("ssh-rsa " + ed_line.substr(12)), errc::key_type_mismatch);
  EXPECT_EQ(parse_err("ssh-ed25519 " + ec_b64), errc::key_type_mismatch);
  EXPECT_EQ(parse_err(std::string(limits::auth_max_line + 1, 'a')), errc::line_too_long);
  EXPECT_EQ(make_error_code(errc::bad_pattern).category().name(), std::string{"ferry.auth"});
}

TEST(authorized_keys_from, globs_match_hosts_and_addresses_case_insensitively) {
  std::vector<std::string> p{"*.Example.com", "198.51.100.?"};
  EXPECT_TRUE(match_from(p, "203.0.113.5", "ws1.example.COM"));
  EXPECT_TRUE(match_from(p, "198.51.100.7", ""));
  EXPECT_FALSE(match_from(p, "198.51.100.70", ""));
  EXPECT_FALSE(match_from(p, "203.0.113.5", "example.com.evil.org"));
  EXPECT_TRUE(match_glob("a*b*c", "aXXbYYc"));
  EXPECT_FALSE(match_glob("a*b*c", "aXXbYY"));
  EXPECT_TRUE(match_glob("*", ""));
}

TEST(authorized_keys_from, cidr_blocks_match_v4_v6_and_v4_mapped_addresses) {
  std::vector<std::string> p{"192.0.2.0/24", "2001:db8::/32"};
  EXPECT_TRUE(match_from(p, "192.0.2.200", ""));
  EXPECT_TRUE(match_from(p, "::ffff:192.0.2.1", ""));
  EXPECT_FALSE(match_from(p, "192.0.3.1", ""));
  EXPECT_TRUE(match_from(p, "2001:db8:1::5", ""));
  EXPECT_FALSE(match_from(p, "2001:db9::5", ""));
  EXPECT_FALSE(match_from(p, "", "host"));
  // A CIDR pattern is never matched against a host name.
  EXPECT_FALSE(match_from({"192.0.2.0/24"}, "203.0.113.1", "192.0.2.1"));
  EXPECT_TRUE(valid_cidr("0.0.0.0/0"));
  EXPECT_FALSE(valid_cidr("192.0.2.0"));
}

TEST(authorized_keys_from, a_negated_match_denies_even_when_another_pattern_allows) {
  std::vector<std::string> p{"10.0.0.0/8", "!10.6.6.6"};
  EXPECT_TRUE(match_from(p, "10.1.2.3", ""));
  EXPECT_FALSE(match_from(p, "10.6.6.6", ""));
  EXPECT_FALSE(match_from({"!10.6.6.6"}, "10.1.2.3", ""));  // nothing positive matched
  EXPECT_FALSE(match_from({"*", "!*.evil.org"}, "10.1.2.3", "x.evil.org"));
}

TEST(authorized_keys_expiry, the_formats_sshd_accepts) {
  using std::chrono::system_clock;
  EXPECT_EQ(system_clock::to_time_t(*parse_expiry_time("20300101Z")), 1893456000);
  EXPECT_EQ(system_clock::to_time_t(*parse_expiry_time("203001010130Z")), 1893456000 + 5400);
  EXPECT_EQ(system_clock::to_time_t(*parse_expiry_time("20300101013005Z")), 1893456000 + 5405);
  EXPECT_TRUE(parse_expiry_time("20300101"));  // local time
  EXPECT_FALSE(parse_expiry_time("2030010"));
  EXPECT_FALSE(parse_expiry_time("20301301Z"));
  EXPECT_FALSE(parse_expiry_time("2030010a"));
}

grant account(std::string root) {
  grant g;
  g.view.root = std::move(root);
  return g;
}

TEST(authorized_keys_authenticator, the_listed_key_is_accepted_and_authorised) {
  authorized_keys_authenticator a;
  a.add_user("alice", account("/alice"), ed_line + "\n");
  auto key = parse_ok(ed_line);
  request r{.user = "alice", .service = "ssh-connection", .remote_address = "192.0.2.1"};
  EXPECT_TRUE(a.accept_public_key(r, "ssh-ed25519", key.blob));
  auto g = a.authorize_public_key(r, "ssh-ed25519", key.blob);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->user, "alice");
  EXPECT_EQ(g->view.root, "/alice");
  EXPECT_TRUE(g->perms.pty);
  EXPECT_FALSE(g->perms.forced_command);
}

TEST(authorized_keys_authenticator, other_keys_users_and_algorithms_are_denied) {
  authorized_keys_authenticator a;
  a.add_user("alice", account("/"), ed_line);
  auto key = parse_ok(ed_line);
  auto other = parse_ok("ecdsa-sha2-nistp256 " + ec_b64);
  auto tampered = key.blob;
  tampered.back() ^= 1;
  request r{.user = "alice"};
  EXPECT_FALSE(a.accept_public_key(r, "ecdsa-sha2-nistp256", other.blob));
  EXPECT_FALSE(a.accept_public_key(r, "ssh-ed25519", tampered));
  EXPECT_FALSE(a.accept_public_key(r, "ssh-rsa", key.blob));
  EXPECT_FALSE(a.authorize_public_key(r, "ssh-ed25519", tampered));
  request bob{.user = "bob"};
  EXPECT_FALSE(a.accept_public_key(bob, "ssh-ed25519", key.blob));
  EXPECT_FALSE(a.authorize_public_key(bob, "ssh-ed25519", key.blob));
  // Offered to everyone, so the method list does not reveal who exists.
  EXPECT_EQ(a.methods(bob), a.methods(r));
}

TEST(authorized_keys_authenticator, rsa_sha2_signatures_use_ssh_rsa_keys) {
  bytes blob;
  wire::writer w{blob};
  w.string(std::string_view{"ssh-rsa"});
  w.mpint_unsigned(bytes{0x01, 0x00, 0x01});
  w.mpint_unsigned(bytes(256, 0xc5));
  std::string b64;
  {
    static constexpr char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::uint32_t acc = 0;
    int bits = 0;
    for (auto b : blob) {
      acc = (acc << 8) | b;
      bits += 8;
      while (bits >= 6) {
        bits -= 6;
        b64 += al[(acc >> bits) & 63];
      }
    }
    if (bits) b64 += al[(acc << (6 - bits)) & 63];
    while (b64.size() % 4) b64 += '=';
  }
  authorized_keys_authenticator a;
  a.add_user("carol", account("/"), "ssh-rsa " + b64 + " carol");
  request r{.user = "carol"};
  EXPECT_TRUE(a.accept_public_key(r, "rsa-sha2-256", blob));
  EXPECT_TRUE(a.accept_public_key(r, "rsa-sha2-512", blob));
  EXPECT_TRUE(a.accept_public_key(r, "ssh-rsa", blob));
  EXPECT_FALSE(a.accept_public_key(r, "ssh-ed25519", blob));
}

TEST(authorized_keys_authenticator, from_and_expiry_time_are_enforced) {
  authorized_keys_authenticator a;
  a.add_user("alice", account("/"),
             R"(from="192.0.2.0/24,!192.0.2.66",expiry-time="20300101Z" )" + ed_line);
  auto key = parse_ok(ed_line);
  auto before = std::chrono::system_clock::from_time_t(1893456000) - 1h;
  auto after = std::chrono::system_clock::from_time_t(1893456000) + 1s;
  request ok{.user = "alice", .remote_address = "192.0.2.10", .now = before};
  EXPECT_TRUE(a.accept_public_key(ok, "ssh-ed25519", key.blob));
  EXPECT_TRUE(a.authorize_public_key(ok, "ssh-ed25519", key.blob));
  request elsewhere = ok;
  elsewhere.remote_address = "203.0.113.10";
  EXPECT_FALSE(a.accept_public_key(elsewhere, "ssh-ed25519", key.blob));
  request negated = ok;
  negated.remote_address = "192.0.2.66";
  EXPECT_FALSE(a.authorize_public_key(negated, "ssh-ed25519", key.blob));
  request unknown = ok;
  unknown.remote_address = "";
  EXPECT_FALSE(a.accept_public_key(unknown, "ssh-ed25519", key.blob));
  request expired = ok;
  expired.now = after;
  EXPECT_FALSE(a.accept_public_key(expired, "ssh-ed25519", key.blob));
  EXPECT_FALSE(a.authorize_public_key(expired, "ssh-ed25519", key.blob));
}

TEST(authorized_keys_authenticator, session_options_reach_the_grant) {
  authorized_keys_authenticator a;
  a.add_user("alice", account("/"),
             R"(restrict,pty,command="/usr/bin/backup",permitopen="db:5432",environment="A=1" )" +
                 ed_line);
  auto key = parse_ok(ed_line);
  auto g = a.authorize_public_key(request{.user = "alice"}, "ssh-ed25519", key.blob);
  ASSERT_TRUE(g);
  EXPECT_TRUE(g->perms.pty);  // re-enabled after restrict
  EXPECT_FALSE(g->perms.port_forwarding);
  EXPECT_FALSE(g->perms.agent_forwarding);
  EXPECT_FALSE(g->perms.x11_forwarding);
  EXPECT_FALSE(g->perms.user_rc);
  EXPECT_EQ(g->perms.forced_command, "/usr/bin/backup");
  EXPECT_EQ(g->perms.permit_open, std::vector<std::string>{"db:5432"});
  EXPECT_EQ(g->perms.environment, std::vector<std::string>{"A=1"});
}

TEST(authorized_keys_authenticator, cert_authority_lines_never_log_the_ca_key_in) {
  authorized_keys_authenticator a;
  a.add_user("alice", account("/"), "cert-authority " + ed_line);
  auto key = parse_ok(ed_line);
  EXPECT_FALSE(a.accept_public_key(request{.user = "alice"}, "ssh-ed25519", key.blob));
  EXPECT_FALSE(a.authorize_public_key(request{.user = "alice"}, "ssh-ed25519", key.blob));
}

}  // namespace
}  // namespace ferry::auth
