// ssh_config(5) parsing and resolution: the syntax readconf.c accepts, strict errors with line
// numbers, Host patterns with negation, first value wins, cumulative keywords and Include.
#include <ferry/ssh/proto/ssh_config.hpp>

#include <gtest/gtest.h>

#include <map>

namespace {

using namespace ferry;
using namespace ferry::ssh::proto;

ssh_config_options resolve(std::string_view text, std::string_view host,
                           const ssh_config_loader& loader = {}) {
  ssh_config_file f;
  std::size_t line = 0;
  auto ec = parse_ssh_config(text, f, &line);
  EXPECT_FALSE(ec) << ec.message() << " at line " << line;
  ssh_config_options o;
  EXPECT_FALSE(resolve_ssh_config(f, host, o, loader));
  return o;
}

std::vector<std::string> split(std::string_view line) {
  std::vector<std::string> w;
  EXPECT_FALSE(split_ssh_config_line(line, w)) << line;
  return w;
}

TEST(SshConfig, LinesSplitOnWhitespaceOrOneEqualsWithQuotesAndComments) {
  using v = std::vector<std::string>;
  EXPECT_EQ(split("Port 2222"), (v{"Port", "2222"}));
  EXPECT_EQ(split("Port=2222"), (v{"Port", "2222"}));
  EXPECT_EQ(split("  Port = 2222  "), (v{"Port", "2222"}));
  EXPECT_EQ(split("\tUser\t alice"), (v{"User", "alice"}));
  EXPECT_EQ(split("IdentityFile \"/a b/key\""), (v{"IdentityFile", "/a b/key"}));
  EXPECT_EQ(split("SendEnv A\"B C\"D E"), (v{"SendEnv", "AB CD", "E"}));
  EXPECT_EQ(split("Ciphers \"\""), (v{"Ciphers", ""}));
  EXPECT_EQ(split("User bob # the admin"), (v{"User", "bob"}));
  EXPECT_EQ(split("User bob#x"), (v{"User", "bob#x"}));
  EXPECT_TRUE(split("# a comment").empty());
  EXPECT_TRUE(split("   ").empty());
  EXPECT_TRUE(split("").empty());
  EXPECT_EQ(split("Host a\r"), (v{"Host", "a"}));
}

TEST(SshConfig, MalformedLinesAreErrorsWithTheirLineNumber) {
  struct bad {
    std::string text;
    std::size_t line;
    errc e;
  };
  std::string long_line = "User " + std::string(limits::ssh_config_max_line, 'a');
  std::string many_args = "SendEnv";
  for (std::size_t i = 0; i <= limits::ssh_config_max_args; ++i) many_args += " x";
  for (const auto& b : std::vector<bad>{
           {"Port 22\nUser \"alice\n", 2, errc::bad_value},
           {"Host\n", 1, errc::bad_value},
           {"\n\nPort\n", 3, errc::bad_value},
           {"=22\n", 1, errc::bad_value},
           {"Host a\nHost !\n", 2, errc::bad_value},
           {"Match exec true\n", 1, errc::unsupported},
           {"Match host\n", 1, errc::unsupported},
           {"User a\n" + long_line + "\n", 2, errc::length_limit},
           {many_args, 1, errc::length_limit},
           {std::string("User a\0b\n", 9), 1, errc::bad_value},
       }) {
    ssh_config_file f;
    std::size_t line = 0;
    auto ec = parse_ssh_config(b.text, f, &line);
    EXPECT_EQ(ec, make_error_code(b.e)) << b.text;
    EXPECT_EQ(line, b.line) << b.text;
  }
}

TEST(SshConfig, FirstObtainedValueWinsInFileOrder) {
  auto o = resolve(
      "Host web*\n  HostName 10.0.0.5\n  Port 2200\n"
      "Host web1\n  Port 9999\n  User web\n"
      "Host *\n  User nobody\n  Port 22\n",
      "web1");
  EXPECT_EQ(o.value("HostName"), "10.0.0.5");
  EXPECT_EQ(o.value("port"), "2200");
  EXPECT_EQ(o.value("user"), "web");
  EXPECT_FALSE(o.has("proxyjump"));
}

TEST(SshConfig, CommandLineValuesSetFirstWin) {
  ssh_config_file f;
  ASSERT_FALSE(parse_ssh_config("Port 1\nIdentityFile a\n", f));
  ssh_config_options o;
  o.set("Port", {"2"});
  o.set("IdentityFile", {"cmdline"});
  ASSERT_FALSE(resolve_ssh_config(f, "h", o));
  EXPECT_EQ(o.value("port"), "2");
  EXPECT_EQ(o.all("identityfile"), (std::vector<std::string>{"cmdline", "a"}));
}

TEST(SshConfig, IdentityFilesAccumulateAcrossSections) {
  auto o = resolve("IdentityFile ~/.ssh/top\nHost a\n IdentityFile one\nHost *\n IdentityFile two\n",
                   "a");
  EXPECT_EQ(o.all("identityfile"), (std::vector<std::string>{"~/.ssh/top", "one", "two"}));
}

TEST(SshConfig, HostPatternsGlobCaseInsensitivelyWithNegation) {
  EXPECT_TRUE(ssh_config_glob("*.example.org", "a.EXAMPLE.org"));
  EXPECT_TRUE(ssh_config_glob("web?", "web1"));
  EXPECT_FALSE(ssh_config_glob("web?", "web12"));
  EXPECT_TRUE(ssh_config_glob("*", ""));
  EXPECT_TRUE(ssh_config_glob("a*b*c", "aXXbYYbc"));
  EXPECT_FALSE(ssh_config_glob("a*b*c", "aXXbYYb"));
  EXPECT_TRUE(ssh_config_host_matches({"*.corp", "!db.corp"}, "web.corp"));
  EXPECT_FALSE(ssh_config_host_matches({"*.corp", "!db.corp"}, "db.corp"));
  EXPECT_FALSE(ssh_config_host_matches({"!db.corp"}, "web.corp"));  // negation alone matches nothing
  EXPECT_FALSE(ssh_config_host_matches({"*.corp"}, "corp"));
  auto o = resolve("Host * !bastion\n ProxyJump bastion\nHost bastion\n HostName 1.2.3.4\n",
                   "bastion");
  EXPECT_FALSE(o.has("proxyjump"));
  EXPECT_EQ(o.value("hostname"), "1.2.3.4");
}

TEST(SshConfig, MatchAllAndMatchHostAreSections) {
  auto o = resolve("Match host a,b\n User ab\nMatch all\n User any\n Port 7\n", "b");
  EXPECT_EQ(o.value("user"), "ab");
  EXPECT_EQ(o.value("port"), "7");
  auto p = resolve("Match host a,!c*\n User ab\n", "c1");
  EXPECT_FALSE(p.has("user"));
}

TEST(SshConfig, IncludeIsResolvedInPlaceOnlyInActiveSections) {
  std::map<std::string, std::string> files{
      {"inc1", "User included\nHost other\n Port 1\n"},
      {"inc2", "Port 2\n"},
  };
  std::vector<std::string> asked;
  ssh_config_loader loader = [&](std::string_view name, std::vector<ssh_config_file>& out) {
    asked.emplace_back(name);
    auto it = files.find(std::string{name});
    if (it == files.end()) return error_code{};  // no file: nothing, as ssh
    ssh_config_file f;
    if (auto ec = parse_ssh_config(it->second, f)) return ec;
    out.push_back(std::move(f));
    return error_code{};
  };
  auto o = resolve("Host nomatch\n Include inc2\nHost h\n Include inc1 missing\n Port 3\n", "h",
                   loader);
  EXPECT_EQ(o.value("user"), "included");
  EXPECT_EQ(o.value("port"), "3");  // "Host other" in inc1 did not match
  EXPECT_EQ(asked, (std::vector<std::string>{"inc1", "missing"}));
}

TEST(SshConfig, IncludeLoopsStopAtTheDepthLimit) {
  ssh_config_loader loader = [](std::string_view, std::vector<ssh_config_file>& out) {
    ssh_config_file f;
    auto ec = parse_ssh_config("Include self\n", f);
    out.push_back(std::move(f));
    return ec;
  };
  ssh_config_file f;
  ASSERT_FALSE(parse_ssh_config("Include self\n", f));
  ssh_config_options o;
  EXPECT_EQ(resolve_ssh_config(f, "h", o, loader), make_error_code(errc::length_limit));
}

}  // namespace
