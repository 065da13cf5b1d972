#include <ferry/ftp/proto/reply.hpp>

#include <gtest/gtest.h>

#include <string>

using namespace ferry;
using ftp::reply;
using ftp::reply_parser;

namespace {

// Feeds the whole input; returns the replies parsed and the first error.
std::vector<reply> parse_all(std::string_view in, error_code& ec, std::size_t chunk = 1 << 20) {
  std::vector<reply> out;
  reply_parser p;
  while (!in.empty()) {
    auto piece = in.substr(0, chunk);
    auto used = p.feed(piece, ec);
    if (ec) return out;
    in.remove_prefix(used);
    if (p.has_reply()) out.push_back(p.take());
  }
  return out;
}

}  // namespace

TEST(ftp_reply_parser, single_line_reply_gives_code_and_text) {
  error_code ec;
  auto r = parse_all("220 (vsFTPd 3.0.3)\r\n", ec);
  ASSERT_FALSE(ec);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].code, 220);
  EXPECT_EQ(r[0].lines, std::vector<std::string>{"(vsFTPd 3.0.3)"});
  EXPECT_TRUE(r[0].completion());
}

TEST(ftp_reply_parser, multi_line_reply_ends_only_at_same_code_and_space) {
  // RFC 959 §4.2 example, plus lines that look like other replies.
  std::string in =
      "123-First line\r\n"
      "Second line\r\n"
      "  234 A line beginning with numbers\r\n"
      "123-not the end either\r\n"
      "456 another code\r\n"
      "123 The last line\r\n";
  error_code ec;
  auto r = parse_all(in, ec);
  ASSERT_FALSE(ec);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].code, 123);
  EXPECT_EQ(r[0].lines, (std::vector<std::string>{"First line", "Second line",
                                                   "  234 A line beginning with numbers",
                                                   "123-not the end either", "456 another code",
                                                   "The last line"}));
}

TEST(ftp_reply_parser, byte_at_a_time_equals_whole) {
  std::string in = "211-Features:\r\n EPRT\r\n MDTM\r\n211 End\r\n226 ok\r\n";
  error_code ec1, ec2;
  auto a = parse_all(in, ec1);
  auto b = parse_all(in, ec2, 1);
  ASSERT_FALSE(ec1);
  ASSERT_FALSE(ec2);
  EXPECT_EQ(a, b);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[1].code, 226);
}

TEST(ftp_reply_parser, stops_right_after_a_complete_reply) {
  reply_parser p;
  error_code ec;
  std::string in = "150 Opening\r\n226 Done\r\n";
  auto used = p.feed(in, ec);
  EXPECT_EQ(used, 13u);
  EXPECT_TRUE(p.has_reply());
  EXPECT_EQ(p.feed("x", ec), 0u);  // nothing more is consumed until take()
  EXPECT_EQ(p.take().code, 150);
  EXPECT_EQ(p.feed(std::string_view{in}.substr(used), ec), 10u);
  EXPECT_EQ(p.take().code, 226);
}

TEST(ftp_reply_parser, accepts_bare_lf_and_bare_code) {
  error_code ec;
  auto r = parse_all("200\n", ec);
  ASSERT_FALSE(ec);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].code, 200);
  EXPECT_EQ(r[0].lines, std::vector<std::string>{""});
}

TEST(ftp_reply_parser, refuses_malformed_first_lines) {
  std::vector<std::string> bad = {"22 short\r\n", "abc def\r\n", "620 class six\r\n",
                                  "099 zero\r\n", "220x\r\n", "\r\n", " 220 lead\r\n"};
  for (auto& b : bad) {
    error_code ec;
    parse_all(b, ec);
    EXPECT_EQ(ec, ftp::errc::bad_reply) << b;
  }
  error_code ec;
  parse_all(std::string("220 a\0b\r\n", 9), ec);
  EXPECT_EQ(ec, ftp::errc::forbidden_character);
  error_code ec2;
  parse_all("211-x\r\n bare\rcr\r\n211 end\r\n", ec2);
  EXPECT_EQ(ec2, ftp::errc::forbidden_character);
}

TEST(ftp_reply_parser, line_over_the_cap_is_refused_before_it_ends) {
  reply_parser p;
  error_code ec;
  std::string line = "220 " + std::string(limits::ftp_max_line, 'a');
  p.feed(line, ec);  // no LF yet: already over the cap
  EXPECT_EQ(ec, ftp::errc::line_too_long);
  // Sticky.
  p.feed("\r\n", ec);
  EXPECT_EQ(ec, ftp::errc::line_too_long);
}

TEST(ftp_reply_parser, line_exactly_at_the_cap_is_accepted) {
  error_code ec;
  std::string line = "220 " + std::string(limits::ftp_max_line - 4, 'a') + "\r\n";
  auto r = parse_all(line, ec);
  ASSERT_FALSE(ec);
  ASSERT_EQ(r.size(), 1u);
}

TEST(ftp_reply_parser, multi_line_reply_that_never_ends_is_bounded) {
  reply_parser p;
  error_code ec;
  p.feed("220-welcome\r\n", ec);
  ASSERT_FALSE(ec);
  std::size_t lines = 0;
  while (!ec && lines < 2 * limits::ftp_max_reply_lines) {
    p.feed("220-more and more\r\n", ec);
    ++lines;
  }
  EXPECT_EQ(ec, ftp::errc::reply_too_long);
  EXPECT_LE(lines, limits::ftp_max_reply_lines);
}

TEST(ftp_reply_parser, multi_line_reply_bytes_are_bounded) {
  reply_parser p;
  error_code ec;
  p.feed("220-welcome\r\n", ec);
  std::string big(limits::ftp_max_line - 2, 'x');
  big += "\r\n";
  std::size_t total = 0;
  while (!ec && total < 2 * limits::ftp_max_reply_bytes) {
    p.feed(big, ec);
    total += big.size();
  }
  EXPECT_EQ(ec, ftp::errc::reply_too_long);
  EXPECT_LE(total, limits::ftp_max_reply_bytes + big.size());
}

TEST(ftp_reply_parser, mid_reply_reports_partial_input) {
  reply_parser p;
  error_code ec;
  EXPECT_FALSE(p.mid_reply());
  p.feed("211-x\r\n", ec);
  EXPECT_TRUE(p.mid_reply());
  p.feed("211 end\r\n", ec);
  EXPECT_FALSE(p.mid_reply());
  EXPECT_TRUE(p.has_reply());
}

TEST(ftp_reply_format, single_line_golden) {
  error_code ec;
  EXPECT_EQ(ftp::format_reply(200, "Command okay.", ec), "200 Command okay.\r\n");
  EXPECT_FALSE(ec);
}

TEST(ftp_reply_format, multi_line_pads_lines_that_start_with_digits) {
  error_code ec;
  auto s = ftp::format_reply(211, "Status:\n220 looks like a reply\nplain\nEnd", ec);
  EXPECT_FALSE(ec);
  EXPECT_EQ(s, "211-Status:\r\n 220 looks like a reply\r\nplain\r\n211 End\r\n");
  // And it parses back to the same lines (with the pad).
  error_code pec;
  auto r = parse_all(s, pec);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].lines, (std::vector<std::string>{"Status:", " 220 looks like a reply", "plain",
                                                   "End"}));
}

TEST(ftp_reply_format, refuses_cr_nul_and_bad_codes) {
  error_code ec;
  ftp::format_reply(200, "a\rb", ec);
  EXPECT_EQ(ec, ftp::errc::forbidden_character);
  ftp::format_reply(200, std::string_view("a\0b", 3), ec);
  EXPECT_EQ(ec, ftp::errc::forbidden_character);
  ftp::format_reply(99, "x", ec);
  EXPECT_EQ(ec, ftp::errc::bad_reply);
  ftp::format_reply(600, "x", ec);
  EXPECT_EQ(ec, ftp::errc::bad_reply);
}

TEST(ftp_errors, reply_codes_carry_their_class) {
  auto e450 = ftp::make_reply_error(450);
  auto e550 = ftp::make_reply_error(550);
  EXPECT_EQ(e450.value(), 450);
  EXPECT_TRUE(ftp::is_transient(e450));
  EXPECT_FALSE(ftp::is_permanent(e450));
  EXPECT_TRUE(ftp::is_permanent(e550));
  EXPECT_EQ(e550, ftp::reply_class::permanent);
  EXPECT_NE(e550, ftp::reply_class::transient);
  EXPECT_EQ(e550.message(), "550 file unavailable");
  EXPECT_EQ(ftp::make_error_code(ftp::errc::bad_address).message(), "malformed FTP host/port");
}
