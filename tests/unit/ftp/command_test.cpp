#include <ferry/ftp/proto/command.hpp>

#include <gtest/gtest.h>

using namespace ferry;
using ftp::command;

TEST(ftp_command, serialize_golden) {
  std::string out;
  EXPECT_FALSE(ftp::serialize_command("RETR", "dir/a file.txt", out));
  EXPECT_FALSE(ftp::serialize_command("PWD", "", out));
  EXPECT_FALSE(ftp::serialize_command(command{"STOR", "\xc3\xa9t\xc3\xa9.txt"}, out));
  EXPECT_EQ(out, "RETR dir/a file.txt\r\nPWD\r\nSTOR \xc3\xa9t\xc3\xa9.txt\r\n");
}

TEST(ftp_command, serialize_refuses_injection_characters) {
  std::string out;
  EXPECT_EQ(ftp::serialize_command("RETR", "a\r\nDELE b", out), ftp::errc::forbidden_character);
  EXPECT_EQ(ftp::serialize_command("RETR", "a\nb", out), ftp::errc::forbidden_character);
  EXPECT_EQ(ftp::serialize_command("RETR", std::string_view("a\0b", 3), out),
            ftp::errc::forbidden_character);
  EXPECT_EQ(ftp::serialize_command("RE TR", "x", out), ftp::errc::bad_command);
  EXPECT_EQ(ftp::serialize_command("RETRX", "x", out), ftp::errc::bad_command);
  EXPECT_EQ(ftp::serialize_command("RETR", std::string(limits::ftp_max_line, 'a'), out),
            ftp::errc::line_too_long);
  EXPECT_TRUE(out.empty());
}

TEST(ftp_command, parse_upper_cases_the_verb_and_keeps_the_argument) {
  command c;
  ASSERT_FALSE(ftp::parse_command("retr  two  spaces ", c));
  EXPECT_EQ(c, (command{"RETR", " two  spaces "}));
  ASSERT_FALSE(ftp::parse_command("PWD", c));
  EXPECT_EQ(c, (command{"PWD", ""}));
  ASSERT_FALSE(ftp::parse_command("Cwd ", c));
  EXPECT_EQ(c, (command{"CWD", ""}));
}

TEST(ftp_command, parse_refuses_bad_lines) {
  command c;
  EXPECT_EQ(ftp::parse_command("", c), ftp::errc::bad_command);
  EXPECT_EQ(ftp::parse_command("AB", c), ftp::errc::bad_command);
  EXPECT_EQ(ftp::parse_command("ABCDE x", c), ftp::errc::bad_command);
  EXPECT_EQ(ftp::parse_command("R3TR x", c), ftp::errc::bad_command);
  EXPECT_EQ(ftp::parse_command(" RETR x", c), ftp::errc::bad_command);
  EXPECT_EQ(ftp::parse_command(std::string_view("RETR a\0b", 8), c),
            ftp::errc::forbidden_character);
  EXPECT_EQ(ftp::parse_command("RETR a\rb", c), ftp::errc::forbidden_character);
  EXPECT_EQ(ftp::parse_command("RETR " + std::string(limits::ftp_max_line, 'a'), c),
            ftp::errc::line_too_long);
}

TEST(ftp_command_reader, splits_lines_across_reads) {
  ftp::command_reader r;
  error_code ec;
  std::string_view in = "US";
  EXPECT_EQ(r.feed(in, ec), 2u);
  EXPECT_FALSE(r.has_command());
  EXPECT_TRUE(r.mid_line());
  std::string_view in2 = "ER anonymous\r\nPASS x\r\n";
  auto used = r.feed(in2, ec);
  EXPECT_EQ(used, 14u);
  ASSERT_TRUE(r.has_command());
  EXPECT_EQ(r.take(), (command{"USER", "anonymous"}));
  in2.remove_prefix(used);
  EXPECT_EQ(r.feed(in2, ec), 8u);
  EXPECT_EQ(r.take(), (command{"PASS", "x"}));
}

TEST(ftp_command_reader, malformed_line_is_reported_and_reading_goes_on) {
  ftp::command_reader r;
  error_code ec;
  std::string_view in = "1234\r\nNOOP\r\n";
  auto used = r.feed(in, ec);
  EXPECT_EQ(ec, ftp::errc::bad_command);
  EXPECT_FALSE(r.has_command());
  in.remove_prefix(used);
  r.feed(in, ec);
  EXPECT_FALSE(ec);
  ASSERT_TRUE(r.has_command());
  EXPECT_EQ(r.take().verb, "NOOP");
}

TEST(ftp_command_reader, overlong_line_is_fatal_before_it_is_buffered) {
  ftp::command_reader r;
  error_code ec;
  std::string big(limits::ftp_max_line + 2, 'A');
  r.feed(big, ec);
  EXPECT_EQ(ec, ftp::errc::line_too_long);
  r.feed("NOOP\r\n", ec);
  EXPECT_EQ(ec, ftp::errc::line_too_long);
}
