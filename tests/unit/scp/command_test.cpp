// The exec command line: words split as sh splits them, shell syntax refused, options as scp's
// getopt reads them, and client quoting that reads back byte for byte.
#include <ferry/scp/proto/command.hpp>

#include <gtest/gtest.h>

using namespace ferry;
using namespace ferry::scp::proto;
using E = ferry::scp::errc;

namespace {

std::vector<std::string> texts(std::string_view line) {
  std::vector<shell_word> w;
  auto ec = split_words(line, w);
  EXPECT_FALSE(ec) << line;
  std::vector<std::string> out;
  for (auto& x : w) out.push_back(x.text);
  return out;
}

}  // namespace

TEST(scp_command, splits_words_as_sh_does) {
  using v = std::vector<std::string>;
  EXPECT_EQ(texts("scp -t  dir"), (v{"scp", "-t", "dir"}));
  EXPECT_EQ(texts("scp -t 'a b'"), (v{"scp", "-t", "a b"}));
  EXPECT_EQ(texts("scp -t 'it'\\''s'"), (v{"scp", "-t", "it's"}));
  EXPECT_EQ(texts("scp -t \"a \\\"b\\\" \\$ \\\\ \\x\""), (v{"scp", "-t", "a \"b\" $ \\ \\x"}));
  EXPECT_EQ(texts("scp -t a\\ b\\;c"), (v{"scp", "-t", "a b;c"}));
  EXPECT_EQ(texts("scp -t ''"), (v{"scp", "-t", ""}));
  EXPECT_EQ(texts("scp\t-t\tx"), (v{"scp", "-t", "x"}));
}

TEST(scp_command, refuses_what_a_shell_would_interpret) {
  for (std::string_view bad :
       {"scp -t x;id", "scp -t x && id", "scp -t x|id", "scp -t $HOME", "scp -t `id`",
        "scp -t \"$(id)\"", "scp -t \"`id`\"", "scp -t x > y", "scp -t <y", "scp -t (x)",
        "scp -t x\nid", "scp -t 'open", "scp -t \"open", "scp -t x\\", "# scp -t x",
        "scp -t x &"}) {
    std::vector<shell_word> w;
    EXPECT_EQ(split_words(bad, w), E::bad_command) << bad;
  }
  std::vector<shell_word> w;
  EXPECT_EQ(split_words(std::string(limits::scp_max_command + 1, 'a'), w), E::bad_command);
}

TEST(scp_command, keeps_unquoted_wildcards_as_a_pattern_and_quoted_ones_as_text) {
  std::vector<shell_word> w;
  ASSERT_FALSE(split_words("scp -f d/*.txt 'lit*' \"q?\"x[1]", w));
  ASSERT_EQ(w.size(), 5u);
  EXPECT_TRUE(w[2].glob);
  EXPECT_EQ(w[2].pattern, "d/*.txt");
  EXPECT_FALSE(w[3].glob);
  EXPECT_EQ(w[3].pattern, "lit\\*");
  EXPECT_TRUE(w[4].glob);
  EXPECT_EQ(w[4].text, "q?x[1]");
  EXPECT_EQ(w[4].pattern, "q\\?x[1]");
}

TEST(scp_command, a_leading_tilde_is_the_home_directory) {
  std::vector<shell_word> w;
  ASSERT_FALSE(split_words("scp -f ~ ~/a\\ b '~/lit' ~user", w));
  ASSERT_EQ(w.size(), 6u);
  EXPECT_TRUE(w[2].home);
  EXPECT_EQ(w[2].text, "");
  EXPECT_TRUE(w[3].home);
  EXPECT_EQ(w[3].text, "a b");
  EXPECT_FALSE(w[4].home);
  EXPECT_EQ(w[4].text, "~/lit");
  EXPECT_FALSE(w[5].home);  // ~user is taken literally: no other user's home here
}

TEST(scp_command, parses_openssh_command_lines) {
  command c;
  ASSERT_FALSE(parse_command("scp -v -r -p -d -t -- 'dir name'", c));
  EXPECT_EQ(c.dir, direction::to_remote);
  EXPECT_TRUE(c.recursive && c.preserve && c.target_should_be_directory && c.verbose);
  ASSERT_EQ(c.paths.size(), 1u);
  EXPECT_EQ(c.paths[0].text, "dir name");

  ASSERT_FALSE(parse_command("/usr/bin/scp -rpf a -b", c));  // getopt stops at the first path
  EXPECT_EQ(c.dir, direction::from_remote);
  ASSERT_EQ(c.paths.size(), 2u);
  EXPECT_EQ(c.paths[1].text, "-b");

  ASSERT_FALSE(parse_command("scp -f -- -x", c));
  EXPECT_EQ(c.paths[0].text, "-x");
}

TEST(scp_command, refuses_other_programs_options_and_target_counts) {
  command c;
  for (std::string_view bad :
       {"", "ls -t x", "scpx -t x", "scp x", "scp -t", "scp -f", "scp -t -f x", "scp -t a b",
        "scp -tz x", "scp -S prog -t x", "'scp'x -t x", "sftp-server"}) {
    EXPECT_EQ(parse_command(bad, c), E::bad_command) << bad;
  }
}

TEST(scp_command, quoting_reads_back_as_the_same_bytes) {
  std::vector<std::string> names{"plain", "a b", "it's", "$(id)", "`id`;rm -rf ~", "\"q\"",
                                 "back\\slash", "*?[x]", "new\nline", "-dash", "~user", "'"};
  for (const auto& n : names) {
    std::string cmd;
    ASSERT_FALSE(format_command(direction::from_remote, true, true, false, {n}, cmd)) << n;
    command c;
    ASSERT_FALSE(parse_command(cmd, c)) << cmd;
    ASSERT_EQ(c.paths.size(), 1u);
    EXPECT_EQ(c.paths[0].text, n) << cmd;
    EXPECT_FALSE(c.paths[0].glob) << cmd;
    EXPECT_FALSE(c.paths[0].home) << cmd;
    EXPECT_TRUE(c.recursive && c.preserve);
  }
  std::string cmd;
  ASSERT_FALSE(format_command(direction::to_remote, false, false, true, {"x y"}, cmd));
  EXPECT_EQ(cmd, "scp -d -t -- 'x y'");
  EXPECT_EQ(format_command(direction::to_remote, false, false, false, {"a", "b"}, cmd),
            E::bad_command);
  EXPECT_EQ(format_command(direction::from_remote, false, false, false,
                           {std::string("a\0b", 3)}, cmd),
            E::bad_name);
}

TEST(scp_command, home_paths_stay_expandable_and_empty_is_the_home) {
  std::string cmd;
  ASSERT_FALSE(format_command(direction::from_remote, false, false, false, {"~/a b", "~", ""}, cmd));
  EXPECT_EQ(cmd, "scp -f -- ~/'a b' ~ '.'");
  command c;
  ASSERT_FALSE(parse_command(cmd, c));
  EXPECT_TRUE(c.paths[0].home);
  EXPECT_EQ(c.paths[0].text, "a b");
  EXPECT_TRUE(c.paths[1].home);
  EXPECT_EQ(c.paths[2].text, ".");
}
