// A real OpenSSH sftp <-> sftp-server session (openssh_session.hpp) through the frame splitter and
// both decoders: every packet decodes, re-encodes to the bytes OpenSSH sent, and the details that
// differ from the draft (SYMLINK order, extensions, longname format) are as this library models.
#include "hex.hpp"
#include "openssh_session.hpp"

#include <ferry/sftp/proto/decode.hpp>
#include <ferry/sftp/proto/frame.hpp>
#include <ferry/sftp/proto/longname.hpp>

#include <gtest/gtest.h>

using namespace ferry;
using namespace ferry::sftp::proto;
using ferry::test_sftp::hex;

namespace {

std::vector<bytes> packets_of(std::string_view hex_stream, std::size_t chunk) {
  auto stream = hex(hex_stream);
  frame_splitter fs;
  std::vector<bytes> out;
  byte_view all{stream};
  while (!all.empty()) {
    byte_view in = all.first(std::min(chunk, all.size()));
    all = all.subspan(in.size());
    byte_view packet;
    error_code ec;
    frame_splitter::result r;
    while ((r = fs.next(in, packet, ec)) == frame_splitter::result::packet)
      out.emplace_back(packet.begin(), packet.end());
    EXPECT_EQ(r, frame_splitter::result::need_more) << ec.message();
  }
  EXPECT_EQ(fs.buffered(), 0u);
  return out;
}

}  // namespace

TEST(sftp_openssh, every_client_request_decodes_and_re_encodes_identically) {
  auto packets = packets_of(test_sftp::openssh_client_to_server, 13);
  ASSERT_EQ(packets.size(), 41u);
  std::vector<request> requests;
  for (const auto& p : packets) {
    request r;
    auto res = decode_request(p, r);
    ASSERT_FALSE(res) << int(p[0]) << ": " << res.ec.message();
    EXPECT_EQ(std::visit([](const auto& m) { return wire::encode(m); }, r), p);
    EXPECT_FALSE(std::holds_alternative<extended_request>(r)) << "an extension we do not model";
    requests.push_back(std::move(r));
  }
  EXPECT_TRUE(std::holds_alternative<init_request>(requests[0]));
  EXPECT_TRUE(std::holds_alternative<limits_request>(requests[1]));
  // `symlink sub/moved.txt link`: OpenSSH sends the target first (PROTOCOL §4.1).
  bool saw_symlink = false, saw_fsync = false, saw_rename = false;
  for (const auto& r : requests) {
    if (auto* s = std::get_if<symlink_request>(&r)) {
      saw_symlink = true;
      EXPECT_EQ(s->target_path, "sub/moved.txt");
      EXPECT_EQ(s->link_path, "/tmp/x/link");
    }
    saw_fsync |= std::holds_alternative<fsync_request>(r);
    saw_rename |= std::holds_alternative<posix_rename_request>(r);
  }
  EXPECT_TRUE(saw_symlink && saw_fsync && saw_rename);
}

TEST(sftp_openssh, every_server_reply_decodes_and_re_encodes_identically) {
  auto packets = packets_of(test_sftp::openssh_server_to_client, 1);
  ASSERT_EQ(packets.size(), 41u);
  std::vector<reply> replies;
  for (const auto& p : packets) {
    reply r;
    ASSERT_FALSE(decode_reply(p, r)) << int(p[0]);
    EXPECT_EQ(std::visit([](const auto& m) { return wire::encode(m); }, r), p);
    replies.push_back(std::move(r));
  }
  auto& v = std::get<version_reply>(replies[0]);
  EXPECT_EQ(v.version, 3u);
  EXPECT_EQ(v.extension("posix-rename@openssh.com"), "1");
  EXPECT_EQ(v.extension("statvfs@openssh.com"), "2");
  EXPECT_EQ(v.extension("limits@openssh.com"), "1");
  EXPECT_EQ(v.extension("users-groups-by-id@openssh.com"), "1");

  limits_reply l;
  ASSERT_FALSE(decode_extended_reply(std::get<extended_reply>(replies[1]), l));
  EXPECT_EQ(l.max_packet_length, 256u * 1024);
  EXPECT_EQ(l.max_read_length, 261120u);

  // The last request removed a missing file.
  auto& last = std::get<status_reply>(replies.back());
  EXPECT_EQ(last.error(), sftp::status::no_such_file);
  EXPECT_EQ(last.message, "No such file");
}

TEST(sftp_openssh, users_groups_by_id_and_statvfs_replies_decode) {
  auto packets = packets_of(test_sftp::openssh_server_to_client, 4096);
  int users = 0, statvfs = 0;
  for (const auto& p : packets) {
    reply r;
    ASSERT_FALSE(decode_reply(p, r));
    auto* e = std::get_if<extended_reply>(&r);
    if (!e) continue;
    users_groups_by_id_reply u;
    if (!decode_extended_reply(*e, u) && !u.usernames.names.empty()) {
      ++users;
      EXPECT_EQ(u.usernames.names, std::vector<std::string>{"root"});
      EXPECT_EQ(u.groupnames.names, std::vector<std::string>{"root"});
    }
    statvfs_reply s;
    if (!decode_extended_reply(*e, s)) {
      ++statvfs;
      EXPECT_EQ(s.namemax, 255u);
    }
  }
  EXPECT_EQ(users, 1);
  EXPECT_EQ(statvfs, 1);
}

TEST(sftp_openssh, our_longname_matches_openssh_sftp_server_for_the_same_file) {
  auto packets = packets_of(test_sftp::openssh_server_to_client, 4096);
  int compared = 0;
  for (const auto& p : packets) {
    reply r;
    ASSERT_FALSE(decode_reply(p, r));
    auto* n = std::get_if<name_reply>(&r);
    if (!n || n->names.entries.size() < 2) continue;  // REALPATH replies carry no longname
    for (const auto& e : n->names.entries) {
      if (e.filename != "local.txt" && e.filename != "moved.txt") continue;
      // OpenSSH shows its local time; the recording was made in UTC, within six months.
      longname_fields f;
      f.name = e.filename;
      f.mode = *e.attrs.permissions;
      f.link_count = e.filename == "moved.txt" ? 2 : 1;  // moved.txt had a hard link then
      f.owner = "root";
      f.group = "root";
      f.size = *e.attrs.size;
      f.mtime = e.attrs.times->mtime;
      EXPECT_EQ(format_longname(f, f.mtime + 60), e.longname);
      ++compared;
    }
  }
  EXPECT_EQ(compared, 2);
}
