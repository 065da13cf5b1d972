// ATTRS and open flags <-> the filesystem layer's plain data.
#include <ferry/sftp/proto/fs_attrs.hpp>

#include <gtest/gtest.h>

using namespace ferry;
using namespace ferry::sftp::proto;

TEST(sftp_fs_attrs, a_files_attributes_fill_every_v3_field) {
  fs::attributes a;
  a.size = 42;
  a.uid = 1000;
  a.gid = 100;
  a.permissions = 0100640;
  a.atime = 1700000000;
  a.mtime = 1700000001;
  auto v3 = to_attrs(a);
  EXPECT_EQ(v3.flags(), 0x0fu);
  EXPECT_EQ(*v3.size, 42u);
  EXPECT_EQ(*v3.ids, (owner_ids{1000, 100}));
  EXPECT_EQ(*v3.permissions, 0100640u);
  EXPECT_EQ(*v3.times, (file_times{1700000000, 1700000001}));
  EXPECT_FALSE(v3.extended);
}

TEST(sftp_fs_attrs, times_outside_uint32_saturate) {
  EXPECT_EQ(to_v3_time(-5), 0u);
  EXPECT_EQ(to_v3_time(std::int64_t{1} << 40), 0xffffffffu);
  EXPECT_EQ(to_v3_time(7), 7u);
}

TEST(sftp_fs_attrs, setstat_changes_only_what_the_client_sent) {
  attrs a;
  a.permissions = 0104777;  // type bits and setuid from the wire
  auto s = to_set_attributes(a);
  EXPECT_EQ(s.permissions, 04777u);
  EXPECT_FALSE(s.size);
  EXPECT_FALSE(s.uid);
  EXPECT_FALSE(s.atime);
  a.times = file_times{1, 2};
  a.ids = owner_ids{3, 4};
  a.size = 5;
  s = to_set_attributes(a);
  EXPECT_EQ(s.atime, 1);
  EXPECT_EQ(s.mtime, 2);
  EXPECT_EQ(s.uid, 3u);
  EXPECT_EQ(s.gid, 4u);
  EXPECT_EQ(s.size, 5u);
}

TEST(sftp_fs_attrs, open_flags_map_both_ways) {
  attrs none;
  auto m = to_open_mode(open_flags::write | open_flags::creat | open_flags::trunc, none);
  EXPECT_TRUE(m.write && m.create && m.truncate);
  EXPECT_FALSE(m.read || m.append || m.exclusive);
  EXPECT_EQ(m.permissions, 0666u);
  EXPECT_EQ(to_pflags(m), open_flags::write | open_flags::creat | open_flags::trunc);

  attrs mode;
  mode.permissions = 0600;
  m = to_open_mode(open_flags::read | open_flags::append | open_flags::excl, mode);
  EXPECT_TRUE(m.read && m.append && m.write);
  EXPECT_FALSE(m.exclusive);  // EXCL without CREAT means nothing
  EXPECT_EQ(m.permissions, 0600u);
  m = to_open_mode(open_flags::write | open_flags::creat | open_flags::excl | 0x400, mode);
  EXPECT_TRUE(m.exclusive);
}

TEST(sftp_fs_attrs, longnames_use_names_when_known_and_ids_otherwise) {
  fs::attributes a;
  a.permissions = 0040755;
  a.link_count = 3;
  a.uid = 1000;
  a.gid = 100;
  a.group = "users";
  a.size = 4096;
  a.mtime = 1700000000;
  EXPECT_EQ(format_longname("d", a, 1700000000),
            "drwxr-xr-x    3 1000     users        4096 Nov 14 22:13 d");
}
