// known_hosts: lines hashed by ssh-keygen -H match their names, patterns with wildcards,
// negation and ports, @revoked wins, @cert-authority never matches a plain key, and the three
// policies over a real file.
#include <ferry/auth/known_hosts.hpp>
#include <ferry/ssh/error.hpp>
#include <ferry/ssh/keys/public_key.hpp>
#include <ferry/ssh/proto/host_key.hpp>
#include <ferry/test/random.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <unistd.h>
#include <fstream>
#include <sstream>

namespace known_hosts_test {
using namespace ferry;
using namespace ferry::auth;

namespace {

// Made with: ssh-keygen -H on "example.org KEY" and "[example.org]:2222 KEY" (OpenSSH 9.2).
constexpr std::string_view key_text =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKmcqGfX4PTXMsGkaZw5PuCAWk4XiQUOhoEEYjhSHjZh";
constexpr std::string_view hashed_22 =
    "|1|7DZIfqPKRbucJpBhukbhDmlMjAw=|AQnq7jt7NXr+bbwyYtPLk2+9IDU= ssh-ed25519 "
    "AAAAC3NzaC1lZDI1NTE5AAAAIKmcqGfX4PTXMsGkaZw5PuCAWk4XiQUOhoEEYjhSHjZh";
constexpr std::string_view hashed_2222 =
    "|1|ItuTqYnshGB8ZWHyNuzvFfiyac4=|MmA+1NlQP4K2xExbwDo6Hy2qYs4= ssh-ed25519 "
    "AAAAC3NzaC1lZDI1NTE5AAAAIKmcqGfX4PTXMsGkaZw5PuCAWk4XiQUOhoEEYjhSHjZh";

bytes key_blob() {
  ssh::keys::public_key_line l;
  EXPECT_FALSE(ssh::keys::parse_public_key_line(key_text, l));
  return l.blob;
}

bytes other_blob(std::uint64_t seed = 3) {
  test::fixed_random rng{seed};
  auto k = crypto::private_key::generate(crypto::key_type::ed25519, rng);
  return ssh::proto::encode_public_key(k.public_part());
}

std::string line_for(std::string_view patterns, const bytes& blob) {
  return std::string{patterns} + " ssh-ed25519 " + ssh::keys::base64_encode(blob);
}

struct temp_file {
  std::string path;
  temp_file() {
    char tmpl[] = "/tmp/ferry-kh-XXXXXX";
    int fd = ::mkstemp(tmpl);
    EXPECT_GE(fd, 0);
    ::close(fd);
    path = tmpl;
  }
  ~temp_file() { std::remove(path.c_str()); }
  std::string read() const {
    std::ifstream in{path};
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
};

}  // namespace

TEST(known_hosts, ssh_keygen_hashed_names_match_only_their_host_and_port) {
  known_hosts kh;
  std::vector<std::pair<std::size_t, error_code>> errors;
  kh.load(std::string{hashed_22} + "\n" + std::string{hashed_2222} + "\n", &errors);
  EXPECT_TRUE(errors.empty());
  ASSERT_EQ(kh.entries().size(), 2u);
  EXPECT_TRUE(kh.entries()[0].hashed);
  EXPECT_EQ(kh.check("example.org", 22, key_blob()), known_hosts::status::match);
  EXPECT_EQ(kh.check("example.org", 2222, key_blob()), known_hosts::status::match);
  EXPECT_EQ(kh.check("example.org", 2200, key_blob()), known_hosts::status::not_found);
  EXPECT_EQ(kh.check("example.com", 22, key_blob()), known_hosts::status::not_found);
  EXPECT_EQ(kh.check("example.org", 22, other_blob()), known_hosts::status::mismatch);
}

TEST(known_hosts, format_with_hash_produces_a_line_that_matches_back) {
  test::fixed_random rng{9};
  auto line = format_known_host_line("[10.0.0.1]:2022", key_blob(), true, &rng);
  EXPECT_EQ(line.rfind("|1|", 0), 0u);
  known_hosts kh;
  kh.load(line);
  EXPECT_EQ(kh.check("10.0.0.1", 2022, key_blob()), known_hosts::status::match);
  EXPECT_EQ(kh.check("10.0.0.1", 22, key_blob()), known_hosts::status::not_found);
}

TEST(known_hosts, wildcards_negation_and_ports) {
  known_hosts kh;
  kh.load(line_for("*.example.org,!bad.example.org", key_blob()) + "\n" +
          line_for("host?.lan", key_blob()) + "\n" + line_for("[*.ports.test]:2222", key_blob()));
  EXPECT_EQ(kh.check("www.example.org", 22, key_blob()), known_hosts::status::match);
  EXPECT_EQ(kh.check("WWW.EXAMPLE.ORG", 22, key_blob()), known_hosts::status::match);
  EXPECT_EQ(kh.check("bad.example.org", 22, key_blob()), known_hosts::status::not_found);
  EXPECT_EQ(kh.check("host1.lan", 22, key_blob()), known_hosts::status::match);
  EXPECT_EQ(kh.check("host12.lan", 22, key_blob()), known_hosts::status::not_found);
  EXPECT_EQ(kh.check("a.ports.test", 2222, key_blob()), known_hosts::status::match);
  EXPECT_EQ(kh.check("a.ports.test", 22, key_blob()), known_hosts::status::not_found);
}

TEST(known_hosts, revoked_key_is_refused_for_every_host_and_cert_authority_never_matches) {
  known_hosts kh;
  kh.load(line_for("good.test", key_blob()) + "\n@revoked " + line_for("*", key_blob()) + "\n" +
          "@cert-authority " + line_for("*.test", other_blob()));
  ASSERT_EQ(kh.entries().size(), 3u);
  EXPECT_EQ(kh.entries()[2].marker, known_host_marker::cert_authority);
  EXPECT_EQ(kh.check("good.test", 22, key_blob()), known_hosts::status::revoked);
  EXPECT_EQ(kh.check("x.test", 22, other_blob()), known_hosts::status::not_found);
}

TEST(known_hosts, malformed_lines_are_reported_and_skipped) {
  known_hosts kh;
  std::vector<std::pair<std::size_t, error_code>> errors;
  kh.load("# comment\n\n@bogus " + line_for("h", key_blob()) + "\nh ssh-ed25519 !!!\n" +
              "h ssh-rsa " + ssh::keys::base64_encode(key_blob()) + "\n|1|abc h ssh-ed25519 AAAA\n" +
              ",h " + std::string{key_text} + "\n" + line_for("ok", key_blob()),
          &errors);
  ASSERT_EQ(errors.size(), 5u);
  EXPECT_EQ(errors[0], (std::pair<std::size_t, error_code>{3, make_error_code(auth::errc::malformed_line)}));
  EXPECT_EQ(errors[1].second, auth::errc::bad_base64);
  EXPECT_EQ(errors[2].second, auth::errc::key_type_mismatch);
  EXPECT_EQ(errors[4].second, auth::errc::bad_pattern);
  ASSERT_EQ(kh.entries().size(), 1u);
  EXPECT_EQ(kh.entries()[0].line, 8u);
}

TEST(known_hosts, policies_strict_accept_new_and_off) {
  temp_file f;
  const auto refused = make_error_code(ssh::disconnect_reason::host_key_not_verifiable);
  EXPECT_EQ(verify_known_host(f.path, "new.test", 22, key_blob(), host_key_policy::strict), refused);
  EXPECT_FALSE(verify_known_host(f.path, "new.test", 22, key_blob(), host_key_policy::off));
  EXPECT_TRUE(f.read().empty());
  EXPECT_FALSE(verify_known_host(f.path, "new.test", 22, key_blob(), host_key_policy::accept_new));
  EXPECT_EQ(f.read(), line_for("new.test", key_blob()) + "\n");
  EXPECT_FALSE(verify_known_host(f.path, "new.test", 22, key_blob(), host_key_policy::strict));
  // A changed key: refused by strict and accept-new, let through by off.
  EXPECT_EQ(verify_known_host(f.path, "new.test", 22, other_blob(), host_key_policy::strict), refused);
  EXPECT_EQ(verify_known_host(f.path, "new.test", 22, other_blob(), host_key_policy::accept_new), refused);
  EXPECT_FALSE(verify_known_host(f.path, "new.test", 22, other_blob(), host_key_policy::off));
  EXPECT_EQ(f.read(), line_for("new.test", key_blob()) + "\n");
}

TEST(known_hosts, accept_new_does_not_glue_onto_a_last_line_without_newline) {
  temp_file f;
  {
    std::ofstream out{f.path};
    out << line_for("first.test", other_blob());
  }
  EXPECT_FALSE(verify_known_host(f.path, "second.test", 22, key_blob(), host_key_policy::accept_new));
  EXPECT_EQ(f.read(), line_for("first.test", other_blob()) + "\n" + line_for("second.test", key_blob()) + "\n");
  EXPECT_FALSE(verify_known_host(f.path, "first.test", 22, other_blob(), host_key_policy::strict));
}

}  // namespace known_hosts_test
