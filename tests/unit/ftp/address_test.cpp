#include <ferry/ftp/proto/address.hpp>

#include <gtest/gtest.h>

using namespace ferry;
using ftp::ipv4_endpoint;
using ftp::net_endpoint;

TEST(ftp_pasv, parses_the_usual_227_forms) {
  ipv4_endpoint e;
  ASSERT_FALSE(ftp::parse_pasv_reply("Entering Passive Mode (127,0,0,1,195,80).", e));
  EXPECT_EQ(e, (ipv4_endpoint{{127, 0, 0, 1}, 195 * 256 + 80}));
  // RFC 1123 §4.1.2.6: no parentheses, other wording.
  ASSERT_FALSE(ftp::parse_pasv_reply("=10,1,2,3,4,1", e));
  EXPECT_EQ(e, (ipv4_endpoint{{10, 1, 2, 3}, 1025}));
  ASSERT_FALSE(ftp::parse_pasv_reply("Entering Passive Mode 192,168,0,9,0,21", e));
  EXPECT_EQ(e.port, 21);
  // The closing parenthesis is not required either.
  ASSERT_FALSE(ftp::parse_pasv_reply("(1,2,3,4,5,6", e));
  EXPECT_EQ(e.port, 5 * 256 + 6);
}

TEST(ftp_pasv, refuses_hostile_numbers) {
  ipv4_endpoint e;
  for (auto bad : {"Entering Passive Mode (256,0,0,1,4,1)", "(1,2,3,4,256,1)",
                   "(1,2,3,4,1,999)", "(1,2,3,4,0,0)", "(1,2,3,4,5)", "(1,2,3,4,5,6,7)",
                   "(0001,2,3,4,5,6)", "no numbers", "(-1,2,3,4,5,6)",
                   "(1,2,3,4,5,65536)", "(1,,3,4,5,6)", "(4294967297,0,0,1,4,1)"}) {
    EXPECT_EQ(ftp::parse_pasv_reply(bad, e), ftp::errc::bad_address) << bad;
  }
}

TEST(ftp_pasv, format_is_parseable_golden) {
  ipv4_endpoint e{{127, 0, 0, 1}, 50000};
  auto s = ftp::format_pasv_reply_text(e);
  EXPECT_EQ(s, "Entering Passive Mode (127,0,0,1,195,80).");
  ipv4_endpoint back;
  ASSERT_FALSE(ftp::parse_pasv_reply(s, back));
  EXPECT_EQ(back, e);
}

TEST(ftp_epsv, parses_229_with_any_delimiter) {
  std::uint16_t port = 0;
  ASSERT_FALSE(ftp::parse_epsv_reply("Entering Extended Passive Mode (|||6446|)", port));
  EXPECT_EQ(port, 6446);
  ASSERT_FALSE(ftp::parse_epsv_reply("Extended (!!!65535!)", port));
  EXPECT_EQ(port, 65535);
  EXPECT_EQ(ftp::format_epsv_reply_text(6446), "Entering Extended Passive Mode (|||6446|)");
}

TEST(ftp_epsv, refuses_hostile_229) {
  std::uint16_t port = 0;
  for (auto bad : {"(|||65536|)", "(|||0|)", "(|||123456|)", "(||1|6446|)", "(|||6446!)",
                   "(|||6446|", "(|||-1|)", "(1116446|)", "()", "(", "no paren", "(|||)",
                   "( ||| 6446|)"}) {
    EXPECT_EQ(ftp::parse_epsv_reply(bad, port), ftp::errc::bad_address) << bad;
  }
}

TEST(ftp_port, round_trips_and_refuses_garbage) {
  ipv4_endpoint e;
  ASSERT_FALSE(ftp::parse_port_argument("132,235,1,2,24,131", e));
  EXPECT_EQ(e, (ipv4_endpoint{{132, 235, 1, 2}, 24 * 256 + 131}));
  EXPECT_EQ(ftp::format_port_argument(e), "132,235,1,2,24,131");
  for (auto bad : {"132,235,1,2,24,131 ", " 132,235,1,2,24,131", "132,235,1,2,24", "300,1,1,1,1,1",
                   "1,1,1,1,1,256", "1,1,1,1,0,0", ""}) {
    EXPECT_EQ(ftp::parse_port_argument(bad, e), ftp::errc::bad_address) << bad;
  }
}

TEST(ftp_eprt, parses_rfc2428_examples_ipv4_and_ipv6) {
  net_endpoint e;
  ASSERT_FALSE(ftp::parse_eprt_argument("|1|132.235.1.2|6275|", e));
  EXPECT_EQ(e.family, 1);
  EXPECT_EQ(e.port, 6275);
  EXPECT_EQ(e.address[0], 132);
  EXPECT_EQ(e.address[3], 2);
  EXPECT_EQ(ftp::format_eprt_argument(e), "|1|132.235.1.2|6275|");

  ASSERT_FALSE(ftp::parse_eprt_argument("|2|1080::8:800:200C:417A|5282|", e));
  EXPECT_EQ(e.family, 2);
  EXPECT_EQ(e.port, 5282);
  EXPECT_EQ(e.address[0], 0x10);
  EXPECT_EQ(e.address[1], 0x80);
  EXPECT_EQ(e.address[15], 0x7a);
  EXPECT_EQ(ftp::format_eprt_argument(e), "|2|1080::8:800:200c:417a|5282|");

  ASSERT_FALSE(ftp::parse_eprt_argument("!2!::1!21!", e));
  EXPECT_EQ(e.port, 21);
  EXPECT_EQ(e.address[15], 1);
}

TEST(ftp_eprt, refuses_malformed_arguments) {
  net_endpoint e;
  for (auto bad : {"|3|1.2.3.4|21|", "|1|1.2.3.4|0|", "|1|1.2.3.4|65536|", "|1|::1|21|",
                   "|2|1.2.3.4|21|", "|1|256.1.1.1|21|", "|1|1.2.3.4|21", "|1||21|", "|1|1.2.3.4|21|x",
                   "1|1|1.2.3.4|21|1", "|1|1.2.3.4|2|1|", "", "|", "|1|1.2.3.4| 21|"}) {
    EXPECT_EQ(ftp::parse_eprt_argument(bad, e), ftp::errc::bad_address) << bad;
  }
}
