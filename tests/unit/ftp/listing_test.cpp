#include <ferry/ftp/proto/listing.hpp>
#include <ferry/ftp/proto/values.hpp>

#include <gtest/gtest.h>

using namespace ferry;
using namespace std::chrono;
using ftp::entry;
using ftp::entry_type;

namespace {

constexpr sys_days today = sys_days{year{2026} / November / 21};

sys_seconds at(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0) {
  return sys_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi} + seconds{s};
}

entry list_line(std::string_view line) {
  std::optional<entry> e;
  auto ec = ftp::parse_list_line(line, today, e);
  EXPECT_FALSE(ec) << line << ": " << ec.message();
  EXPECT_TRUE(e.has_value()) << line;
  return e.value_or(entry{});
}

}  // namespace

TEST(ftp_list_unix, vsftpd_lines_with_numeric_owner_and_recent_time) {
  auto e = list_line("-rw-r--r--    1 0        0               5 Nov 21 14:00 hello.txt");
  EXPECT_EQ(e.name, "hello.txt");
  EXPECT_EQ(e.type, entry_type::file);
  EXPECT_EQ(e.size, 5u);
  EXPECT_EQ(e.mode, 0644u);
  EXPECT_EQ(e.owner, "0");
  EXPECT_EQ(e.group, "0");
  EXPECT_EQ(e.modified, at(2026, 11, 21, 14, 0));

  auto d = list_line("drwxr-xr-x    2 0        0            4096 Jan 01  2020 pub");
  EXPECT_EQ(d.type, entry_type::directory);
  EXPECT_EQ(d.name, "pub");
  EXPECT_EQ(d.modified, at(2020, 1, 1));
}

TEST(ftp_list_unix, time_without_year_in_the_future_means_last_year) {
  auto e = list_line("-rw-r--r--    1 ftp      ftp            12 Dec 24 18:30 gift");
  EXPECT_EQ(e.modified, at(2025, 12, 24, 18, 30));
}

TEST(ftp_list_unix, proftpd_names_with_spaces_and_symlinks) {
  auto e = list_line("-rw-r--r--   1 ftp      ftp           570 Feb 23 10:05  two  spaces .txt");
  EXPECT_EQ(e.name, " two  spaces .txt");
  EXPECT_EQ(e.size, 570u);
  auto l = list_line("lrwxrwxrwx   1 ftp      ftp            11 Feb 23 10:05 link -> welcome.msg");
  EXPECT_EQ(l.type, entry_type::symlink);
  EXPECT_EQ(l.name, "link");
  EXPECT_EQ(l.link_target, "welcome.msg");
  EXPECT_EQ(l.mode, 0777u);
}

TEST(ftp_list_unix, pure_ftpd_single_digit_day_and_missing_group) {
  auto e = list_line("-rw-r--r--    1 1000       1000              12 Mar  5 12:34 a.txt");
  EXPECT_EQ(e.modified, at(2026, 3, 5, 12, 34));
  auto n = list_line("-rw-r--r-- 1 owner 123 Jan 01 2020 nogroup");
  EXPECT_EQ(n.name, "nogroup");
  EXPECT_EQ(n.size, 123u);
  EXPECT_EQ(n.owner, "owner");
  EXPECT_EQ(n.group, "");
}

TEST(ftp_list_unix, special_mode_bits_and_acl_marker) {
  auto e = list_line("drwxrwsr-t+   3 a b 4096 Jul 04  2019 shared");
  EXPECT_EQ(e.mode, 03775u);
  auto s = list_line("-rwSr--r-- 1 a b 0 Jul 04  2019 suid");
  EXPECT_EQ(s.mode, 04644u);
}

TEST(ftp_list, total_and_blank_lines_carry_no_entry) {
  std::optional<entry> e;
  EXPECT_FALSE(ftp::parse_list_line("total 12", today, e));
  EXPECT_FALSE(e);
  EXPECT_FALSE(ftp::parse_list_line("", today, e));
  EXPECT_FALSE(e);
}

TEST(ftp_list_dos, iis_directories_and_files) {
  auto d = list_line("02-23-21  10:05AM       <DIR>          aspnet_client");
  EXPECT_EQ(d.type, entry_type::directory);
  EXPECT_EQ(d.name, "aspnet_client");
  EXPECT_EQ(d.modified, at(2021, 2, 23, 10, 5));
  auto f = list_line("11-04-20  03:19PM                 1024 iis start.htm");
  EXPECT_EQ(f.type, entry_type::file);
  EXPECT_EQ(f.size, 1024u);
  EXPECT_EQ(f.name, "iis start.htm");
  EXPECT_EQ(f.modified, at(2020, 11, 4, 15, 19));
  auto m = list_line("01-01-1999  12:00AM  7 midnight");
  EXPECT_EQ(m.modified, at(1999, 1, 1, 0, 0));
  auto h = list_line("06-30-2022  23:59                 7 late");
  EXPECT_EQ(h.modified, at(2022, 6, 30, 23, 59));
}

TEST(ftp_list, refuses_garbage) {
  std::optional<entry> e;
  for (auto bad : {"hello", "-rw-r--r-- 1 a b x Jan 01 2020 f", "-rw-r--r-- 1 a b 1 Foo 01 2020 f",
                   "-rw-r--r-- 1 a b 1 Jan 01 2020", "xrw-r--r-- 1 a b 1 Jan 01 2020 f",
                   "-rw-r--r-- 1 a b 1 Feb 30 2020 f", "13-01-20  10:00AM 1 f",
                   "01-01-20  13:00PM 1 f", "01-01-20  10:00AM <DIR>", "01-01-20 10:61 1 f",
                   "-rw-r--r-- 1 a b 1 Jan 01 25:00 f"}) {
    EXPECT_EQ(ftp::parse_list_line(bad, today, e), ftp::errc::bad_listing) << bad;
    EXPECT_FALSE(e);
  }
  EXPECT_EQ(ftp::parse_list_line(std::string(limits::ftp_max_line + 1, 'a'), today, e),
            ftp::errc::line_too_long);
}

TEST(ftp_list_format, vsftpd_style_lines_golden_and_parse_back) {
  entry f;
  f.name = "hello world.txt";
  f.size = 5;
  f.mode = 0644;
  f.modified = at(2026, 11, 21, 14, 0);
  auto now = at(2026, 11, 21, 15, 0);
  auto line = ftp::format_list_line(f, now);
  EXPECT_EQ(line, "-rw-r--r--    1 ftp      ftp                 5 Nov 21 14:00 hello world.txt");
  entry d;
  d.name = "old";
  d.type = entry_type::directory;
  d.modified = at(2019, 7, 4, 9, 30);
  EXPECT_EQ(ftp::format_list_line(d, now),
            "drwxr-xr-x    1 ftp      ftp                 0 Jul 04  2019 old");
  std::optional<entry> back;
  ASSERT_FALSE(ftp::parse_list_line(line, today, back));
  EXPECT_EQ(back->name, f.name);
  EXPECT_EQ(back->size, f.size);
  EXPECT_EQ(back->mode, f.mode);
  EXPECT_EQ(back->modified, f.modified);
}

TEST(ftp_mlsx, rfc3659_examples) {
  entry e;
  ASSERT_FALSE(ftp::parse_mlsx_line("type=cdir;unique=AQkAAAAAAAABCAAA; /", e));
  EXPECT_EQ(e.type, entry_type::current_dir);
  EXPECT_EQ(e.name, "/");
  ASSERT_NE(e.fact("unique"), nullptr);
  EXPECT_EQ(*e.fact("unique"), "AQkAAAAAAAABCAAA");
  ASSERT_FALSE(ftp::parse_mlsx_line("type=file;size=990;modify=19980312171542;perm=r; README", e));
  EXPECT_EQ(e.type, entry_type::file);
  EXPECT_EQ(e.size, 990u);
  EXPECT_EQ(e.modified, at(1998, 3, 12, 17, 15, 42));
  EXPECT_EQ(*e.fact("perm"), "r");
  ASSERT_FALSE(ftp::parse_mlsx_line("Type=pdir;Modify=20000101000000.123; ..", e));
  EXPECT_EQ(e.type, entry_type::parent_dir);
  EXPECT_EQ(e.modified, at(2000, 1, 1));
}

TEST(ftp_mlsx, pyftpdlib_line_with_unix_facts_and_spaces_in_name) {
  entry e;
  ASSERT_FALSE(ftp::parse_mlsx_line(
      "type=file;size=5;modify=20261121144212;perm=radfwMT;unix.mode=0644;unix.uid=0;"
      "unix.gid=0;unique=801g1234; a  b.txt",
      e));
  EXPECT_EQ(e.name, "a  b.txt");
  EXPECT_EQ(e.size, 5u);
  EXPECT_EQ(e.mode, 0644u);
  EXPECT_EQ(e.facts.size(), 8u);
  ASSERT_FALSE(ftp::parse_mlsx_line("type=OS.unix=slink:/etc/x;size=3; link", e));
  EXPECT_EQ(e.type, entry_type::symlink);
  EXPECT_EQ(e.link_target, "/etc/x");
  // MLST (RFC 3659 §7.2.1) indents the entry by one space.
  ASSERT_FALSE(ftp::parse_mlsx_line(" type=dir;modify=20200101000000; /pub", e));
  EXPECT_EQ(e.type, entry_type::directory);
  EXPECT_EQ(e.name, "/pub");
  // No facts at all.
  ASSERT_FALSE(ftp::parse_mlsx_line(" bare", e));
  EXPECT_EQ(e.name, "bare");
  EXPECT_TRUE(e.facts.empty());
}

TEST(ftp_mlsx, refuses_malformed_facts) {
  entry e;
  for (auto bad : {"type=file;size=x; f", "type=file;size=1 f", "type=file;=1; f", "type=file;",
                   "typefile; f", "modify=2020; f", "modify=20201301000000; f",
                   "unix.mode=0999; f", "nospace", "type=file; "}) {
    EXPECT_EQ(ftp::parse_mlsx_line(bad, e), ftp::errc::bad_listing) << bad;
  }
  std::string many;
  for (std::size_t i = 0; i <= limits::ftp_max_facts; ++i) many += "x=1;";
  EXPECT_EQ(ftp::parse_mlsx_line(many + " f", e), ftp::errc::bad_listing);
}

TEST(ftp_mlsx_format, golden_and_parse_back) {
  entry f;
  f.name = "data.bin";
  f.size = 1234;
  f.modified = at(2024, 2, 29, 23, 59, 58);
  f.mode = 0640;
  auto s = ftp::format_mlsx_line(f);
  EXPECT_EQ(s, "type=file;size=1234;modify=20240229235958;UNIX.mode=0640; data.bin");
  entry back;
  ASSERT_FALSE(ftp::parse_mlsx_line(s, back));
  EXPECT_EQ(back.name, f.name);
  EXPECT_EQ(back.size, f.size);
  EXPECT_EQ(back.modified, f.modified);
  EXPECT_EQ(back.mode, f.mode);
  entry d;
  d.name = "sub dir";
  d.type = entry_type::directory;
  EXPECT_EQ(ftp::format_mlsx_line(d), "type=dir; sub dir");
}

TEST(ftp_values, pathname_reply_doubles_quotes) {
  std::string p;
  ASSERT_FALSE(ftp::parse_pathname_reply(R"("/usr/dm/""quoted"" dir" created)", p));
  EXPECT_EQ(p, R"(/usr/dm/"quoted" dir)");
  EXPECT_EQ(ftp::format_pathname_reply_text(R"(/a"b)", "is current"), R"("/a""b" is current)");
  EXPECT_EQ(ftp::parse_pathname_reply("no quotes", p), ftp::errc::bad_reply);
  EXPECT_EQ(ftp::parse_pathname_reply("\"unterminated", p), ftp::errc::bad_reply);
}

TEST(ftp_values, size_and_mdtm_replies) {
  std::uint64_t n = 0;
  ASSERT_FALSE(ftp::parse_size_reply("1048576", n));
  EXPECT_EQ(n, 1048576u);
  EXPECT_EQ(ftp::parse_size_reply("12x", n), ftp::errc::bad_reply);
  EXPECT_EQ(ftp::parse_size_reply("99999999999999999999", n), ftp::errc::bad_reply);
  sys_seconds t;
  ASSERT_FALSE(ftp::parse_mdtm_reply("20261121140000", t));
  EXPECT_EQ(t, at(2026, 11, 21, 14));
  EXPECT_EQ(ftp::format_mlsx_time(t), "20261121140000");
  EXPECT_EQ(ftp::parse_mdtm_reply("2026112114000", t), ftp::errc::bad_reply);
}
