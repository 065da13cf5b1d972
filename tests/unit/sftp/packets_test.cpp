// Golden bytes for every SFTP v3 packet family, written out by hand from
// draft-ietf-secsh-filexfer-02 §3-§8 and OpenSSH PROTOCOL §4, plus round trips and truncation.
#include "hex.hpp"

#include <ferry/sftp/proto/decode.hpp>
#include <ferry/sftp/proto/frame.hpp>

#include <gtest/gtest.h>

#include <set>

using namespace ferry;
using namespace ferry::sftp::proto;
using ferry::test_sftp::hex;

namespace {

// The packet encodes to exactly `golden` (length prefix included), decodes back to an equal
// struct, and every strict prefix of its body fails to decode, except at the cut points listed
// (where a trailing optional field or list legitimately ends).
template <class M>
void expect_golden(const M& m, std::string_view golden_hex, std::set<std::size_t> valid_cuts = {}) {
  auto golden = hex(golden_hex);
  EXPECT_EQ(encode_packet(m), golden);
  ASSERT_GE(golden.size(), 5u);
  byte_view body = byte_view{golden}.subspan(4);
  M back;
  ASSERT_FALSE(wire::decode(body, back));
  EXPECT_EQ(back, m);
  for (std::size_t cut = 0; cut < body.size(); ++cut) {
    M part;
    auto ec = wire::decode(body.first(cut), part);
    if (valid_cuts.count(cut)) {
      EXPECT_FALSE(ec) << "cut at " << cut;
    } else {
      EXPECT_TRUE(ec) << "cut at " << cut;
    }
  }
  // One byte too many is refused too.
  bytes longer(body.begin(), body.end());
  longer.push_back(0);
  M extra;
  if (!valid_cuts.count(body.size())) {
    EXPECT_TRUE(wire::decode(longer, extra));
  }
}

}  // namespace

TEST(sftp_packets, init_and_version_carry_the_version_then_extension_pairs) {
  expect_golden(init_request{3, {}}, "00000005 01 00000003");
  version_reply v{3, {{{"posix-rename@openssh.com", "1"}}}};
  expect_golden(v,
                "00000026 02 00000003"
                " 00000018 'posix-rename@openssh.com' 00000001 '1'",
                {5});  // the pairs run to the end of the packet: none is a valid VERSION
  EXPECT_EQ(v.extension("posix-rename@openssh.com"), "1");
  EXPECT_FALSE(v.extension("statvfs@openssh.com"));
}

TEST(sftp_packets, file_requests_match_the_draft_layout) {
  open_request o{1, "/a", open_flags::read | open_flags::write | open_flags::creat, {}};
  o.attrs.permissions = 0644;
  expect_golden(o, "00000017 03 00000001 00000002 '/a' 0000000b 00000004 000001a4");
  expect_golden(close_request{7, {"h001"}}, "0000000d 04 00000007 00000004 'h001'");
  expect_golden(read_request{2, {"h"}, 0x1000, 0x8000},
                "00000016 05 00000002 00000001 'h' 0000000000001000 00008000");
  expect_golden(write_request{3, {"h"}, 16, to_bytes("abc")},
                "00000019 06 00000003 00000001 'h' 0000000000000010 00000003 'abc'");
  expect_golden(fstat_request{4, {"h"}}, "0000000a 08 00000004 00000001 'h'");
  fsetstat_request fs{5, {"h"}, {}};
  fs.attrs.size = 0;
  expect_golden(fs, "00000016 0a 00000005 00000001 'h' 00000001 0000000000000000");
  expect_golden(opendir_request{6, "/d"}, "0000000b 0b 00000006 00000002 '/d'");
  expect_golden(readdir_request{8, {"d"}}, "0000000a 0c 00000008 00000001 'd'");
}

TEST(sftp_packets, path_requests_match_the_draft_layout) {
  expect_golden(lstat_request{1, "x"}, "0000000a 07 00000001 00000001 'x'");
  expect_golden(setstat_request{1, "x", {}}, "0000000e 09 00000001 00000001 'x' 00000000");
  expect_golden(remove_request{1, "x"}, "0000000a 0d 00000001 00000001 'x'");
  mkdir_request mk{2, "dir", {}};
  mk.attrs.permissions = 0755;
  expect_golden(mk, "00000014 0e 00000002 00000003 'dir' 00000004 000001ed");
  expect_golden(rmdir_request{1, "x"}, "0000000a 0f 00000001 00000001 'x'");
  expect_golden(realpath_request{1, "."}, "0000000a 10 00000001 00000001 '.'");
  expect_golden(stat_request{1, "x"}, "0000000a 11 00000001 00000001 'x'");
  expect_golden(rename_request{1, "a", "b"}, "0000000f 12 00000001 00000001 'a' 00000001 'b'");
  expect_golden(readlink_request{1, "l"}, "0000000a 13 00000001 00000001 'l'");
}

TEST(sftp_packets, symlink_is_sent_target_first_as_openssh_does) {
  // PROTOCOL §4.1: "string targetpath, string linkpath", the reverse of the draft's §6.10.
  symlink_request s{9, "target", "link"};
  expect_golden(s, "00000017 14 00000009 00000006 'target' 00000004 'link'");
}

TEST(sftp_packets, replies_match_the_draft_layout) {
  expect_golden(make_status(1, sftp::status::no_such_file),
                "0000001d 65 00000001 00000002 0000000c 'no such file' 00000000",
                {9, 25});  // message and language tag are optional trailing fields
  expect_golden(handle_reply{1, {"h1"}}, "0000000b 66 00000001 00000002 'h1'");
  expect_golden(data_reply{1, to_bytes("xyz")}, "0000000c 67 00000001 00000003 'xyz'");
  name_reply n{1, {{{"a", "l a", {}}}}};
  n.names.entries[0].attrs.size = 5;
  expect_golden(n,
                "00000021 68 00000001 00000001"
                " 00000001 'a' 00000003 'l a' 00000001 0000000000000005");
  attrs_reply a{1, {}};
  a.attrs.size = 1024;
  a.attrs.ids = owner_ids{1000, 1000};
  a.attrs.permissions = 0100644;
  a.attrs.times = file_times{0x5f5e1000, 0x5f5e1001};
  expect_golden(a,
                "00000025 69 00000001 0000000f 0000000000000400 000003e8 000003e8 000081a4"
                " 5f5e1000 5f5e1001");
  expect_golden(extended_reply{1, {to_bytes("zz")}}, "00000007 c9 00000001 'zz'",
                {5, 6, 7});  // the body is the rest of the packet, whatever its length
}

TEST(sftp_packets, status_reply_without_message_decodes_as_old_servers_send_it) {
  status_reply s;
  ASSERT_FALSE(wire::decode(hex("65 00000004 00000001"), s));
  EXPECT_EQ(s.request_id, 4u);
  EXPECT_EQ(s.error(), sftp::status::eof);
  EXPECT_FALSE(s.message);
  EXPECT_FALSE(s.language_tag);
}

TEST(sftp_packets, name_reply_refuses_counts_beyond_the_limit_or_the_bytes_left) {
  name_reply n;
  EXPECT_EQ(wire::decode(hex("68 00000001 00001001"), n), errc::length_limit);  // 4097
  EXPECT_EQ(wire::decode(hex("68 00000001 00000002 00000000 00000000 00000000"), n),
            errc::truncated);
}

TEST(sftp_packets, handles_longer_than_256_bytes_are_refused) {
  close_request c{1, {std::string(256, 'h')}};
  auto enc = wire::encode(c);
  close_request back;
  EXPECT_FALSE(wire::decode(enc, back));
  c.handle.value.push_back('h');
  EXPECT_EQ(wire::decode(wire::encode(c), back), errc::length_limit);
}

TEST(sftp_packets, openssh_extension_requests_match_protocol_section_4) {
  expect_golden(posix_rename_request{5, {}, "/a", "/b"},
                "0000002d c8 00000005 00000018 'posix-rename@openssh.com'"
                " 00000002 '/a' 00000002 '/b'");
  expect_golden(statvfs_request{1, {}, "/"},
                "00000021 c8 00000001 00000013 'statvfs@openssh.com' 00000001 '/'");
  expect_golden(fstatvfs_request{1, {}, {"h"}},
                "00000022 c8 00000001 00000014 'fstatvfs@openssh.com' 00000001 'h'");
  expect_golden(hardlink_request{1, {}, "a", "b"},
                "00000027 c8 00000001 00000014 'hardlink@openssh.com' 00000001 'a' 00000001 'b'");
  expect_golden(fsync_request{1, {}, {"h"}},
                "0000001f c8 00000001 00000011 'fsync@openssh.com' 00000001 'h'");
  lsetstat_request ls{1, {}, "l", {}};
  ls.attrs.times = file_times{1, 2};
  expect_golden(ls,
                "0000002e c8 00000001 00000014 'lsetstat@openssh.com' 00000001 'l'"
                " 00000008 00000001 00000002");
  expect_golden(limits_request{1, {}}, "0000001b c8 00000001 00000012 'limits@openssh.com'");
  expect_golden(expand_path_request{1, {}, "~"},
                "00000025 c8 00000001 00000017 'expand-path@openssh.com' 00000001 '~'");
  expect_golden(copy_data_request{1, {}, {"r"}, 0, 0, {"w"}, 100},
                "00000034 c8 00000001 00000009 'copy-data' 00000001 'r' 0000000000000000"
                " 0000000000000000 00000001 'w' 0000000000000064");
  expect_golden(home_directory_request{1, {}, ""},
                "0000001b c8 00000001 0000000e 'home-directory' 00000000");
  expect_golden(users_groups_by_id_request{1, {}, {{1000, 0}}, {{100}}},
                "0000003b c8 00000001 0000001e 'users-groups-by-id@openssh.com'"
                " 00000008 000003e8 00000000 00000004 00000064");
}

TEST(sftp_packets, openssh_extension_replies_match_protocol_section_4) {
  statvfs_reply sv{7, 4096, 4096, 1000, 500, 400, 100, 50, 40, 0x1234, statvfs_flags::read_only,
                   255};
  expect_golden(sv,
                "0000005d c9 00000007 0000000000001000 0000000000001000 00000000000003e8"
                " 00000000000001f4 0000000000000190 0000000000000064 0000000000000032"
                " 0000000000000028 0000000000001234 0000000000000001 00000000000000ff");
  expect_golden(limits_reply{1, 262144, 261120, 261120, 0},
                "00000025 c9 00000001 0000000000040000 000000000003fc00 000000000003fc00"
                " 0000000000000000");
  expect_golden(users_groups_by_id_reply{1, {{"alice", ""}}, {{"staff"}}},
                "00000023 c9 00000001 0000000d 00000005 'alice' 00000000"
                " 00000009 00000005 'staff'");
}

TEST(sftp_packets, extended_replies_decode_into_the_body_the_client_expects) {
  limits_reply l{3, 1, 2, 3, 4};
  reply r;
  ASSERT_FALSE(decode_reply(byte_view{encode_packet(l)}.subspan(4), r));
  auto* generic = std::get_if<extended_reply>(&r);
  ASSERT_NE(generic, nullptr);
  EXPECT_EQ(request_id_of(r), 3u);
  limits_reply back;
  ASSERT_FALSE(decode_extended_reply(*generic, back));
  EXPECT_EQ(back, l);
  statvfs_reply wrong;
  EXPECT_TRUE(decode_extended_reply(*generic, wrong));  // too short for statvfs
}

TEST(sftp_packets, id_and_name_lists_are_capped_and_well_formed) {
  users_groups_by_id_request u;
  // A uids string whose length is not a multiple of 4.
  EXPECT_EQ(wire::decode(hex("c8 00000001 0000001e 'users-groups-by-id@openssh.com'"
                             " 00000003 000001 00000000"),
                         u),
            errc::bad_value);
  // 4097 ids.
  EXPECT_EQ(wire::decode(hex("c8 00000001 0000001e 'users-groups-by-id@openssh.com'"
                             " 00004004"),
                         u),
            errc::length_limit);
  users_groups_by_id_reply r;
  // A name inside "usernames" that runs past the end of it.
  EXPECT_TRUE(wire::decode(hex("c9 00000001 00000006 00000005 'ab' 00000000"), r));
}

TEST(sftp_packets, a_known_extension_struct_refuses_another_name) {
  posix_rename_request p;
  EXPECT_EQ(wire::decode(hex("c8 00000001 00000014 'hardlink@openssh.com' 00000001 'a'"
                             " 00000001 'b'"),
                         p),
            errc::unexpected_message);
}

TEST(sftp_packets, string_lengths_beyond_the_limit_or_the_packet_are_refused) {
  stat_request s;
  EXPECT_EQ(wire::decode(hex("11 00000001 ffffffff"), s), errc::length_limit);
  EXPECT_EQ(wire::decode(hex("11 00000001 00001000 'abc'"), s), errc::truncated);
  write_request w;
  EXPECT_EQ(wire::decode(hex("06 00000001 00000001 'h' 0000000000000000 00040001"), w),
            errc::length_limit);  // data above the 256 KiB message limit
  version_reply v;
  bytes many = hex("02 00000003");
  for (int i = 0; i < 65; ++i) {
    auto pair = hex("00000001 'n' 00000001 '1'");
    many.insert(many.end(), pair.begin(), pair.end());
  }
  EXPECT_EQ(wire::decode(many, v), errc::length_limit);  // 65 extension pairs
}
