#include <ferry/ftp/proto/ascii.hpp>
#include <ferry/ftp/proto/feat.hpp>

#include <gtest/gtest.h>

using namespace ferry;

namespace {

ftp::reply parse_one(std::string_view in) {
  ftp::reply_parser p;
  error_code ec;
  p.feed(in, ec);
  EXPECT_FALSE(ec);
  EXPECT_TRUE(p.has_reply());
  return p.take();
}

}  // namespace

TEST(ftp_feat, parses_vsftpd_feat_reply) {
  auto r = parse_one(
      "211-Features:\r\n EPRT\r\n EPSV\r\n MDTM\r\n PASV\r\n REST STREAM\r\n SIZE\r\n TVFS\r\n"
      " AUTH TLS\r\n PBSZ\r\n PROT\r\n UTF8\r\n mlst type*;size*;modify*;\r\n211 End\r\n");
  auto f = ftp::parse_feat(r);
  EXPECT_TRUE(f.has("EPSV"));
  EXPECT_TRUE(f.has("AUTH"));
  EXPECT_EQ(f.params("AUTH"), "TLS");
  EXPECT_EQ(f.params("REST"), "STREAM");
  EXPECT_EQ(f.params("MLST"), "type*;size*;modify*;");
  EXPECT_FALSE(f.has("Features:"));
  EXPECT_FALSE(f.has("MLSD"));
  EXPECT_EQ(f.items.size(), 12u);
}

TEST(ftp_feat, negative_or_single_line_reply_means_no_features) {
  EXPECT_TRUE(ftp::parse_feat(parse_one("502 not implemented\r\n")).items.empty());
  EXPECT_TRUE(ftp::parse_feat(parse_one("211 no features\r\n")).items.empty());
}

TEST(ftp_feat, format_golden_and_parse_back) {
  ftp::features f;
  f.items["MDTM"] = "";
  f.items["REST"] = "STREAM";
  f.items["MLST"] = "type*;size*;modify*;";
  auto s = ftp::format_feat(f);
  EXPECT_EQ(s, "211-Features:\r\n MDTM\r\n MLST type*;size*;modify*;\r\n REST STREAM\r\n211 End\r\n");
  EXPECT_EQ(ftp::parse_feat(parse_one(s)), f);
  EXPECT_EQ(ftp::format_feat({}), "211 No features\r\n");
}

namespace {

std::string to_local(std::string_view in, std::size_t chunk) {
  ftp::ascii_to_local c;
  bytes out;
  while (!in.empty()) {
    auto piece = in.substr(0, chunk);
    c.convert(as_bytes(piece), out);
    in.remove_prefix(piece.size());
  }
  c.finish(out);
  return std::string(as_chars(out));
}

std::string to_network(std::string_view in, std::size_t chunk) {
  ftp::ascii_to_network c;
  bytes out;
  while (!in.empty()) {
    auto piece = in.substr(0, chunk);
    c.convert(as_bytes(piece), out);
    in.remove_prefix(piece.size());
  }
  return std::string(as_chars(out));
}

}  // namespace

TEST(ftp_ascii, crlf_becomes_lf_even_when_split_across_buffers) {
  std::string net = "line 1\r\nline 2\r\n\r\nbare\rcr\r";
  for (std::size_t chunk : {1, 2, 3, 7, 100}) {
    EXPECT_EQ(to_local(net, chunk), "line 1\nline 2\n\nbare\rcr\r") << chunk;
  }
}

TEST(ftp_ascii, cr_held_back_until_next_buffer) {
  ftp::ascii_to_local c;
  bytes out;
  c.convert(as_bytes("ab\r"), out);
  EXPECT_EQ(std::string(as_chars(out)), "ab");
  EXPECT_TRUE(c.holding_cr());
  c.convert(as_bytes("\ncd"), out);
  EXPECT_EQ(std::string(as_chars(out)), "ab\ncd");
}

TEST(ftp_ascii, lf_becomes_crlf_and_round_trip_is_identity) {
  EXPECT_EQ(to_network("a\nb\n", 1), "a\r\nb\r\n");
  std::string tricky = "x\r\ny\r\r\n\n\rz\r";
  for (std::size_t chunk : {1, 2, 5, 64}) {
    EXPECT_EQ(to_local(to_network(tricky, chunk), chunk), tricky) << chunk;
  }
}
