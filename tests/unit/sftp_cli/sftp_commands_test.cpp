// ferry-sftp's command language (examples/cli/sftp_commands.hpp): sftp(1)'s word splitting,
// quoting and glob rules, option bundling, argument counts, the host:path target.
#include "../../../examples/cli/sftp_commands.hpp"

#include <gtest/gtest.h>

namespace {

using namespace ferry::cli::sftp_cli;

std::vector<std::string> texts(std::string_view line) {
  std::vector<std::string> out;
  for (auto& w : tokenize(line).words) out.push_back(w.text);
  return out;
}

TEST(SftpCliTokenize, SplitsAtUnquotedBlanksOnly) {
  EXPECT_EQ(texts("  get  a\tb  "), (std::vector<std::string>{"get", "a", "b"}));
  EXPECT_EQ(texts("put 'my file' \"other file\""), (std::vector<std::string>{"put", "my file", "other file"}));
  EXPECT_EQ(texts("ls a\\ b"), (std::vector<std::string>{"ls", "a b"}));
  EXPECT_EQ(texts("ls 'it\\'s'"), (std::vector<std::string>{"ls", "it's"}));
  EXPECT_EQ(texts("ls \"a\\\\b\""), (std::vector<std::string>{"ls", "a\\b"}));
  EXPECT_EQ(texts("ls 'a\\nb'"), (std::vector<std::string>{"ls", "a\\nb"}));  // only quote/backslash escape
  EXPECT_EQ(texts("ls pre'mid dle'post"), (std::vector<std::string>{"ls", "premid dlepost"}));
  EXPECT_EQ(texts("ls ''"), (std::vector<std::string>{"ls", ""}));
  EXPECT_TRUE(texts("").empty());
}

TEST(SftpCliTokenize, RejectsUnterminatedQuotesAndTrailingBackslash) {
  EXPECT_EQ(tokenize("get 'abc").error, "unterminated quote");
  EXPECT_EQ(tokenize("get \"abc").error, "unterminated quote");
  EXPECT_EQ(tokenize("get abc\\").error, "trailing backslash");
}

TEST(SftpCliTokenize, QuotedOrEscapedGlobCharactersAreLiteral) {
  auto t = tokenize("get *.txt \"a*b\" c\\?d 'e[1]'");
  ASSERT_EQ(t.words.size(), 5u);
  EXPECT_TRUE(t.words[1].has_glob);
  EXPECT_EQ(t.words[1].pattern, "*.txt");
  EXPECT_FALSE(t.words[2].has_glob);
  EXPECT_EQ(t.words[2].text, "a*b");
  EXPECT_EQ(t.words[2].pattern, "a\\*b");
  EXPECT_FALSE(t.words[3].has_glob);
  EXPECT_EQ(t.words[3].text, "c?d");
  EXPECT_FALSE(t.words[4].has_glob);
  EXPECT_EQ(t.words[4].pattern, "e\\[1\\]");
  EXPECT_TRUE(glob_match(t.words[2].pattern, "a*b"));
  EXPECT_FALSE(glob_match(t.words[2].pattern, "axxb"));
}

TEST(SftpCliGlob, MatchesLikeFnmatchWithPeriod) {
  EXPECT_TRUE(glob_match("*.txt", "a.txt"));
  EXPECT_FALSE(glob_match("*.txt", "a.txt.gz"));
  EXPECT_FALSE(glob_match("*", ".hidden"));
  EXPECT_TRUE(glob_match(".*", ".hidden"));
  EXPECT_FALSE(glob_match("?hidden", ".hidden"));
  EXPECT_TRUE(glob_match("f?o", "foo"));
  EXPECT_TRUE(glob_match("f[a-c]o", "fbo"));
  EXPECT_FALSE(glob_match("f[a-c]o", "fdo"));
  EXPECT_TRUE(glob_match("f[!a-c]o", "fdo"));
  EXPECT_TRUE(glob_match("f[]]o", "f]o"));
  EXPECT_TRUE(glob_match("a*b*c", "aXXbYYc"));
  EXPECT_FALSE(glob_match("a*b*c", "aXXbYY"));
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("[", "["));
  EXPECT_TRUE(glob_match("\\*", "*"));
  EXPECT_FALSE(glob_match("\\*", "x"));
}

TEST(SftpCliGlob, PatternHelpers) {
  EXPECT_TRUE(pattern_has_glob("a/*.c"));
  EXPECT_FALSE(pattern_has_glob("a/\\*.c"));
  EXPECT_EQ(unescape_pattern("a\\*b\\\\"), "a*b\\");
  EXPECT_EQ(split_pattern("/a/b*/c"), (std::vector<std::string>{"", "a", "b*", "c"}));
  EXPECT_EQ(split_pattern("x\\/y/z"), (std::vector<std::string>{"x\\/y", "z"}));
}

TEST(SftpCliPaths, MakeAbsoluteJoinAndBase) {
  EXPECT_EQ(make_absolute("/home/u", "f"), "/home/u/f");
  EXPECT_EQ(make_absolute("/", "f"), "/f");
  EXPECT_EQ(make_absolute("/home/u", "/etc"), "/etc");
  EXPECT_EQ(make_absolute("/home/u", ""), "/home/u");
  EXPECT_EQ(make_absolute("/home/u", "."), "/home/u");
  EXPECT_EQ(path_join("", "a"), "a");
  EXPECT_EQ(path_join("d/", "a"), "d/a");
  EXPECT_EQ(base_name("/a/b/c"), "c");
  EXPECT_EQ(base_name("a/b/"), "b");
  EXPECT_EQ(base_name("/"), "/");
  EXPECT_EQ(base_name("plain"), "plain");
}

TEST(SftpCliTarget, UserHostAndPath) {
  EXPECT_EQ(parse_target("host"), (target{"", "host", std::nullopt}));
  EXPECT_EQ(parse_target("alice@host"), (target{"alice", "host", std::nullopt}));
  EXPECT_EQ(parse_target("alice@host:dir/f"), (target{"alice", "host", "dir/f"}));
  EXPECT_EQ(parse_target("host:"), (target{"", "host", ""}));
  EXPECT_EQ(parse_target("a@b@host:p@q"), (target{"a@b", "host", "p@q"}));
  EXPECT_EQ(parse_target("[::1]:x"), (target{"", "::1", "x"}));
  EXPECT_EQ(parse_target("u@[fe80::1]"), (target{"u", "fe80::1", std::nullopt}));
  EXPECT_FALSE(parse_target("").has_value());
  EXPECT_FALSE(parse_target("@host").has_value());
  EXPECT_FALSE(parse_target(":path").has_value());
  EXPECT_FALSE(parse_target("[::1").has_value());
  EXPECT_FALSE(parse_target("[::1]x").has_value());
}

TEST(SftpCliNumbers, OctalModesAndIds) {
  EXPECT_EQ(parse_octal_mode("644"), 0644u);
  EXPECT_EQ(parse_octal_mode("4755"), 04755u);
  EXPECT_FALSE(parse_octal_mode("8").has_value());
  EXPECT_FALSE(parse_octal_mode("").has_value());
  EXPECT_FALSE(parse_octal_mode("17777").has_value());
  EXPECT_EQ(parse_unsigned("4294967295", 0xffffffffu), 4294967295u);
  EXPECT_FALSE(parse_unsigned("4294967296", 0xffffffffu).has_value());
  EXPECT_FALSE(parse_unsigned("-1", 100).has_value());
  EXPECT_FALSE(parse_unsigned("99999999999999999999999", ~0ull).has_value());
}

TEST(SftpCliParse, CommandsOptionsAndPrefixes) {
  auto p = parse_line("get -pr remote local");
  ASSERT_TRUE(p.error.empty()) << p.error;
  EXPECT_EQ(p.cmd->kind, command_kind::get);
  EXPECT_TRUE(p.flags.has('p'));
  EXPECT_TRUE(p.flags.has('r'));
  EXPECT_FALSE(p.flags.has('a'));
  ASSERT_EQ(p.args.size(), 2u);
  EXPECT_EQ(p.args[1].text, "local");

  auto ig = parse_line("-rm x");
  EXPECT_TRUE(ig.ignore_errors);
  EXPECT_EQ(ig.cmd->kind, command_kind::rm);

  auto ls = parse_line("ls -1 -a");
  EXPECT_TRUE(ls.flags.has('1'));
  EXPECT_TRUE(ls.flags.has('a'));
  EXPECT_TRUE(ls.args.empty());

  auto dd = parse_line("rm -- -odd-name");
  ASSERT_EQ(dd.args.size(), 1u);
  EXPECT_EQ(dd.args[0].text, "-odd-name");

  auto bang = parse_line("!echo 'hi there'");
  EXPECT_EQ(bang.cmd->kind, command_kind::shell);
  EXPECT_EQ(bang.shell_command, "echo 'hi there'");

  for (auto q : {"bye", "quit", "exit"}) EXPECT_EQ(parse_line(q).cmd->kind, command_kind::bye);
  EXPECT_EQ(parse_line("?").cmd->kind, command_kind::help);
  EXPECT_TRUE(parse_line("   ").empty);
  EXPECT_TRUE(parse_line("# a comment").empty);
  EXPECT_TRUE(parse_line("chmod 644 f\r\n").error.empty());
}

TEST(SftpCliParse, ErrorsAreOneLine) {
  EXPECT_EQ(parse_line("frobnicate").error, "Invalid command.");
  EXPECT_EQ(parse_line("get -z f").error, "get: Invalid flag -z");
  EXPECT_EQ(parse_line("get").error, "get: missing argument");
  EXPECT_EQ(parse_line("rename a").error, "rename: missing argument");
  EXPECT_EQ(parse_line("chmod").error, "chmod: missing arguments");
  EXPECT_EQ(parse_line("pwd x").error, "pwd: too many arguments");
  EXPECT_EQ(parse_line("get a b c").error, "get: too many arguments");
  EXPECT_EQ(parse_line("get 'a").error, "unterminated quote");
}

TEST(SftpCliHelp, ListsEveryCommand) {
  auto h = help_text();
  for (const auto& c : command_table) EXPECT_NE(h.find(std::string{c.name}), std::string::npos) << c.name;
}

TEST(SftpCliFormat, ColumnsAndScaledSizes) {
  EXPECT_EQ(format_columns({"a", "bb", "ccc"}, 80), "a    bb   ccc\n");
  EXPECT_EQ(format_columns({"aaaa", "bb", "c"}, 12), "aaaa  bb\nc\n");
  EXPECT_EQ(format_columns({}, 80), "");
  EXPECT_EQ(format_scaled(0), "0B");
  EXPECT_EQ(format_scaled(1536), "1.5K");
  EXPECT_EQ(format_scaled(100u << 20), "100M");
}

}  // namespace
