// The server's argument parsers and reply texts (proto/server_arguments.hpp, server/replies.hpp).
#include <ferry/fs/error.hpp>
#include <ferry/ftp/proto/feat.hpp>
#include <ferry/ftp/proto/reply.hpp>
#include <ferry/ftp/proto/server_arguments.hpp>
#include <ferry/ftp/server/replies.hpp>

#include <gtest/gtest.h>

using namespace ferry;
using namespace ferry::ftp;

TEST(ftp_server_arguments, type_accepts_ascii_and_image_and_refuses_the_rest) {
  bool ascii = false;
  EXPECT_EQ(parse_type_argument("A", ascii), argument_status::ok);
  EXPECT_TRUE(ascii);
  EXPECT_EQ(parse_type_argument("i", ascii), argument_status::ok);
  EXPECT_FALSE(ascii);
  EXPECT_EQ(parse_type_argument("A N", ascii), argument_status::ok);
  EXPECT_EQ(parse_type_argument("L 8", ascii), argument_status::ok);
  EXPECT_EQ(parse_type_argument("E", ascii), argument_status::unsupported);
  EXPECT_EQ(parse_type_argument("A T", ascii), argument_status::unsupported);
  EXPECT_EQ(parse_type_argument("L 7", ascii), argument_status::unsupported);
  EXPECT_EQ(parse_type_argument("", ascii), argument_status::syntax);
  EXPECT_EQ(parse_type_argument("X", ascii), argument_status::syntax);
}

TEST(ftp_server_arguments, offsets_are_plain_decimal_numbers) {
  std::uint64_t v = 0;
  EXPECT_TRUE(parse_offset_argument("0", v));
  EXPECT_TRUE(parse_offset_argument("18446744073709551", v));
  EXPECT_EQ(v, 18446744073709551u);
  EXPECT_FALSE(parse_offset_argument("", v));
  EXPECT_FALSE(parse_offset_argument("-1", v));
  EXPECT_FALSE(parse_offset_argument("1 ", v));
  EXPECT_FALSE(parse_offset_argument("99999999999999999999", v));
  std::uint64_t s = 0, e = 0;
  EXPECT_TRUE(parse_rang_argument("10 20", s, e));
  EXPECT_EQ(s, 10u);
  EXPECT_EQ(e, 20u);
  EXPECT_FALSE(parse_rang_argument("10", s, e));
  EXPECT_FALSE(parse_rang_argument("a b", s, e));
}

TEST(ftp_server_arguments, mfmt_and_chmod_split_value_and_path) {
  std::chrono::sys_seconds t;
  std::string path;
  ASSERT_TRUE(parse_mfmt_argument("20200102030405 dir/a file", t, path));
  EXPECT_EQ(path, "dir/a file");
  EXPECT_EQ(format_mlsx_time(t), "20200102030405");
  EXPECT_FALSE(parse_mfmt_argument("2020 x", t, path));
  EXPECT_FALSE(parse_mfmt_argument("20200102030405", t, path));
  std::uint32_t mode = 0;
  ASSERT_TRUE(parse_chmod_argument("0755 a b", mode, path));
  EXPECT_EQ(mode, 0755u);
  EXPECT_EQ(path, "a b");
  EXPECT_FALSE(parse_chmod_argument("789 a", mode, path));
  EXPECT_FALSE(parse_chmod_argument("77777 a", mode, path));
  EXPECT_FALSE(parse_chmod_argument("755", mode, path));
}

TEST(ftp_server_arguments, list_options_are_dropped_and_the_path_kept) {
  EXPECT_EQ(list_path_argument("-la"), "");
  EXPECT_EQ(list_path_argument("-a /pub"), "/pub");
  EXPECT_EQ(list_path_argument("-l -a  dir name"), "dir name");
  EXPECT_EQ(list_path_argument("plain"), "plain");
}

TEST(ftp_server_arguments, telnet_interrupt_and_synch_are_stripped) {
  EXPECT_EQ(strip_telnet("\xff\xf4\xff\xf2" "ABOR\r\n"), "ABOR\r\n");
  EXPECT_EQ(strip_telnet("a\xff\xff" "b"), "a\xff" "b");
  EXPECT_EQ(strip_telnet("\xff\xfb\x01x"), "x");  // IAC WILL option
  EXPECT_EQ(strip_telnet("plain"), "plain");
}

TEST(ftp_server_arguments, names_with_line_breaks_do_not_fit_a_line) {
  EXPECT_TRUE(name_fits_line("ordinary name"));
  EXPECT_FALSE(name_fits_line("a\nb"));
  EXPECT_FALSE(name_fits_line("a\rb"));
  EXPECT_FALSE(name_fits_line(std::string_view{"a\0b", 3}));
}

TEST(ftp_server_arguments, hash_names_and_reply_text_follow_the_draft) {
  EXPECT_EQ(parse_hash_name("sha-256"), hash_name::sha256);
  EXPECT_EQ(parse_hash_name("SHA-1"), hash_name::sha1);
  EXPECT_EQ(parse_hash_name("SHA-512"), hash_name::sha512);
  EXPECT_EQ(parse_hash_name("md5"), hash_name::md5);
  EXPECT_EQ(hash_name_text(hash_name::md5), "MD5");
  EXPECT_FALSE(parse_hash_name("MD4"));
  EXPECT_FALSE(parse_hash_name("SHA-384"));
  EXPECT_EQ(format_hash_reply_text(hash_name::sha256, 0, 9, "abcd", "f"), "SHA-256 0-9 abcd f");
}

TEST(ftp_server_arguments, hash_reply_parses_and_round_trips) {
  hash_reply r;
  ASSERT_TRUE(parse_hash_reply("MD5 0-2 900150983CD24FB0D6963F7D28E17F72 dir/a b.txt", r));
  EXPECT_EQ(r.algorithm, hash_name::md5);
  EXPECT_EQ(r.start, 0u);
  EXPECT_EQ(r.end, 2u);
  EXPECT_EQ(r.hex, "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(r.path, "dir/a b.txt");
  hash_reply back;
  ASSERT_TRUE(parse_hash_reply(format_hash_reply_text(r.algorithm, r.start, r.end, r.hex, r.path), back));
  EXPECT_EQ(back, r);
  std::string sha1(40, 'a');
  for (auto bad : {std::string{"MD4 0-1 00 f"}, "SHA-1 0-1 " + sha1.substr(1) + " f",
                   "SHA-1 5-1 " + sha1 + " f", "SHA-1 0+1 " + sha1 + " f",
                   "SHA-1 0-99999999999999999999 " + sha1 + " f", "SHA-1 0-1 " + std::string(39, 'a') + "g f",
                   std::string{"SHA-1"}, std::string{""}}) {
    EXPECT_FALSE(parse_hash_reply(bad, r)) << bad;
  }
}

TEST(ftp_server_arguments, mlst_fact_selection_round_trips) {
  auto f = parse_mlst_facts("Type;SIZE;unknown;");
  EXPECT_TRUE(f.type);
  EXPECT_TRUE(f.size);
  EXPECT_FALSE(f.modify);
  EXPECT_FALSE(f.perm);
  EXPECT_EQ(format_mlst_facts(f, false), "type;size;");
  EXPECT_EQ(format_mlst_facts(f, true), "type*;size*;modify;perm;UNIX.mode;");
}

TEST(ftp_server_replies, filesystem_errors_map_to_the_right_reply_class) {
  EXPECT_EQ(fs_error_reply(fs::from_errno(ENOENT)).code, 550);
  EXPECT_EQ(fs_error_reply(fs::from_errno(EACCES)).code, 550);
  EXPECT_EQ(fs_error_reply(fs::from_errno(ENOSPC)).code, 452);
  EXPECT_EQ(fs_error_reply(fs::from_errno(ENAMETOOLONG)).code, 553);
  EXPECT_EQ(fs_error_reply(fs::unsupported()).code, 502);
  EXPECT_EQ(fs_error_reply(fs::from_errno(EIO)).code, 451);
}

TEST(ftp_server_replies, feat_lists_tls_only_when_configured) {
  error_code ec;
  reply_parser p;
  auto with = feat_reply(true, {}, hash_name::sha256);
  p.feed(with, ec);
  ASSERT_TRUE(p.has_reply());
  auto f = parse_feat(p.take());
  EXPECT_EQ(f.params("AUTH"), "TLS");
  EXPECT_TRUE(f.has("PBSZ"));
  EXPECT_TRUE(f.has("EPSV"));
  EXPECT_EQ(f.params("REST"), "STREAM");
  EXPECT_EQ(f.params("HASH"), "SHA-1;SHA-256*;SHA-512;MD5");
  reply_parser q;
  q.feed(feat_reply(false, {}, hash_name::sha1), ec);
  ASSERT_TRUE(q.has_reply());
  auto g = parse_feat(q.take());
  EXPECT_FALSE(g.has("AUTH"));
  EXPECT_TRUE(g.has("MLST"));
}
