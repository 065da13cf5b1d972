// The `ls -l` longname as OpenSSH's sftp-server formats it (sftp-common.c ls_file()).
#include <ferry/sftp/proto/longname.hpp>

#include <gtest/gtest.h>

using namespace ferry::sftp::proto;

namespace {
constexpr std::int64_t now = 1700000000;  // 2023-11-14 22:13:20 UTC
}

TEST(sftp_longname, mode_strings_show_type_and_permission_bits) {
  EXPECT_EQ(mode_string(0040755), "drwxr-xr-x");
  EXPECT_EQ(mode_string(0100644), "-rw-r--r--");
  EXPECT_EQ(mode_string(0120777), "lrwxrwxrwx");
  EXPECT_EQ(mode_string(0020620), "crw--w----");
  EXPECT_EQ(mode_string(0060660), "brw-rw----");
  EXPECT_EQ(mode_string(0010600), "prw-------");
  EXPECT_EQ(mode_string(0140755), "srwxr-xr-x");
  EXPECT_EQ(mode_string(0000644), "?rw-r--r--");
  EXPECT_EQ(mode_string(0104755), "-rwsr-xr-x");
  EXPECT_EQ(mode_string(0104644), "-rwSr--r--");
  EXPECT_EQ(mode_string(0102755), "-rwxr-sr-x");
  EXPECT_EQ(mode_string(0041777), "drwxrwxrwt");
  EXPECT_EQ(mode_string(0041776), "drwxrwxrwT");
}

TEST(sftp_longname, recent_files_show_the_time_of_day) {
  longname_fields f{"notes.txt", 0100644, 1, "alice", "staff", 1234, now - 3600};
  EXPECT_EQ(format_longname(f, now),
            "-rw-r--r--    1 alice    staff        1234 Nov 14 21:13 notes.txt");
}

TEST(sftp_longname, files_older_than_six_months_show_the_year) {
  longname_fields f{"old", 0040755, 12, "root", "wheel", 4096, 1577836800};  // 2020-01-01
  EXPECT_EQ(format_longname(f, now),
            "drwxr-xr-x   12 root     wheel        4096 Jan  1  2020 old");
}

TEST(sftp_longname, files_in_the_future_show_the_year) {
  longname_fields f{"f", 0100600, 1, "u", "g", 0, now + 60};
  EXPECT_EQ(format_longname(f, now), "-rw-------    1 u        g               0 Nov 14  2023 f");
}

TEST(sftp_longname, the_six_month_boundary_is_exclusive_as_in_openssh) {
  constexpr std::int64_t half_year = 365 * 24 * 3600 / 2;
  longname_fields f{"f", 0100600, 1, "u", "g", 0, now - half_year};
  EXPECT_NE(format_longname(f, now).find("  2023 f"), std::string::npos);
  f.mtime = now - half_year + 1;
  EXPECT_NE(format_longname(f, now).find(":"), std::string::npos);
}

TEST(sftp_longname, long_owner_names_and_sizes_widen_their_columns) {
  longname_fields f{"big", 0100644, 1000, "a-very-long-user", "grp", 12345678901, now};
  EXPECT_EQ(format_longname(f, now),
            "-rw-r--r--  1000 a-very-long-user grp      12345678901 Nov 14 22:13 big");
}
