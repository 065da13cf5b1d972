// Request and reply dispatch: every type lands in its struct, unknown types and unknown
// extensions are reported so the server can answer for the right request id.
#include "hex.hpp"

#include <ferry/sftp/proto/decode.hpp>
#include <ferry/sftp/proto/frame.hpp>

#include <gtest/gtest.h>

using namespace ferry;
using namespace ferry::sftp::proto;
using ferry::test_sftp::hex;

namespace {

template <class M>
void expect_request_round_trip(const M& m) {
  auto enc = wire::encode(m);
  request r;
  auto res = decode_request(enc, r);
  ASSERT_FALSE(res) << res.ec.message();
  ASSERT_TRUE(std::holds_alternative<M>(r)) << r.index();
  EXPECT_EQ(std::get<M>(r), m);
}

template <class M>
void expect_reply_round_trip(const M& m) {
  auto enc = wire::encode(m);
  reply r;
  ASSERT_FALSE(decode_reply(enc, r));
  ASSERT_TRUE(std::holds_alternative<M>(r));
  EXPECT_EQ(std::get<M>(r), m);
}

}  // namespace

TEST(sftp_decode, every_request_type_round_trips_through_the_server_decoder) {
  attrs a;
  a.size = 1;
  a.extended = std::vector<extension_pair>{{"x@y", "z"}};
  expect_request_round_trip(init_request{3, {{{"a", "1"}}}});
  expect_request_round_trip(open_request{1, "f", open_flags::read, a});
  expect_request_round_trip(close_request{2, {"h"}});
  expect_request_round_trip(read_request{3, {"h"}, 5, 6});
  expect_request_round_trip(write_request{4, {"h"}, 7, to_bytes("data")});
  expect_request_round_trip(lstat_request{5, "p"});
  expect_request_round_trip(fstat_request{6, {"h"}});
  expect_request_round_trip(setstat_request{7, "p", a});
  expect_request_round_trip(fsetstat_request{8, {"h"}, a});
  expect_request_round_trip(opendir_request{9, "d"});
  expect_request_round_trip(readdir_request{10, {"h"}});
  expect_request_round_trip(remove_request{11, "f"});
  expect_request_round_trip(mkdir_request{12, "d", a});
  expect_request_round_trip(rmdir_request{13, "d"});
  expect_request_round_trip(realpath_request{14, "."});
  expect_request_round_trip(stat_request{15, "p"});
  expect_request_round_trip(rename_request{16, "a", "b"});
  expect_request_round_trip(readlink_request{17, "l"});
  expect_request_round_trip(symlink_request{18, "t", "l"});
  expect_request_round_trip(posix_rename_request{19, {}, "a", "b"});
  expect_request_round_trip(statvfs_request{20, {}, "/"});
  expect_request_round_trip(fstatvfs_request{21, {}, {"h"}});
  expect_request_round_trip(hardlink_request{22, {}, "a", "b"});
  expect_request_round_trip(fsync_request{23, {}, {"h"}});
  expect_request_round_trip(lsetstat_request{24, {}, "l", a});
  expect_request_round_trip(limits_request{25, {}});
  expect_request_round_trip(expand_path_request{26, {}, "~/x"});
  expect_request_round_trip(copy_data_request{27, {}, {"r"}, 1, 2, {"w"}, 3});
  expect_request_round_trip(home_directory_request{28, {}, "bob"});
  expect_request_round_trip(users_groups_by_id_request{29, {}, {{1, 2}}, {}});
}

TEST(sftp_decode, every_reply_type_round_trips_through_the_client_decoder) {
  expect_reply_round_trip(version_reply{3, known_extension_announcements()});
  expect_reply_round_trip(make_status(1, sftp::status::eof));
  expect_reply_round_trip(handle_reply{2, {"h"}});
  expect_reply_round_trip(data_reply{3, to_bytes("abc")});
  expect_reply_round_trip(name_reply{4, {{{"a", "b", {}}, {"c", "d", {}}}}});
  expect_reply_round_trip(attrs_reply{5, {}});
  expect_reply_round_trip(extended_reply{6, {to_bytes("x")}});
}

TEST(sftp_decode, an_unknown_type_is_answered_op_unsupported_for_its_id) {
  request r;
  auto res = decode_request(hex("63 0000002a 'whatever'"), r);
  EXPECT_EQ(res.ec, errc::unsupported);
  EXPECT_EQ(res.request_id, 42u);
  EXPECT_EQ(res.answer(), sftp::status::op_unsupported);
  // A reply type sent to the server is just as unknown there.
  res = decode_request(hex("65 00000007 00000000"), r);
  EXPECT_EQ(res.answer(), sftp::status::op_unsupported);
  EXPECT_EQ(res.request_id, 7u);
}

TEST(sftp_decode, an_unknown_type_too_short_for_an_id_has_no_id) {
  request r;
  auto res = decode_request(hex("63 0000"), r);
  EXPECT_TRUE(res);
  EXPECT_FALSE(res.request_id);
  res = decode_request({}, r);
  EXPECT_TRUE(res);
  EXPECT_FALSE(res.request_id);
}

TEST(sftp_decode, a_malformed_known_request_is_a_bad_message_for_its_id) {
  request r;
  auto res = decode_request(hex("03 00000009 00000001 'f' 00000001 00000100"), r);
  EXPECT_EQ(res.ec, errc::bad_value);  // attr flag 0x100 is not a v3 flag
  EXPECT_EQ(res.request_id, 9u);
  EXPECT_EQ(res.answer(), sftp::status::bad_message);
  res = decode_request(hex("11 00000003 00000005 'ab'"), r);
  EXPECT_EQ(res.ec, errc::truncated);
  EXPECT_EQ(res.request_id, 3u);
}

TEST(sftp_decode, an_unknown_extension_decodes_as_a_generic_extended_request) {
  request r;
  auto res = decode_request(hex("c8 00000004 00000008 'foo@bar!' 010203"), r);
  ASSERT_FALSE(res);
  auto* e = std::get_if<extended_request>(&r);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->request_id, 4u);
  EXPECT_EQ(e->name, "foo@bar!");
  EXPECT_EQ(e->data.data, hex("010203"));
}

TEST(sftp_decode, a_known_extension_with_a_bad_body_is_a_bad_message) {
  request r;
  auto res = decode_request(hex("c8 00000004 00000011 'fsync@openssh.com'"), r);
  EXPECT_EQ(res.ec, errc::truncated);
  EXPECT_EQ(res.request_id, 4u);
  EXPECT_EQ(res.answer(), sftp::status::bad_message);
}

TEST(sftp_decode, requests_fail_at_every_truncation) {
  attrs a;
  a.size = 1;
  a.ids = owner_ids{1, 2};
  a.permissions = 0644;
  a.times = file_times{3, 4};
  a.extended = std::vector<extension_pair>{{"k", "v"}};
  auto enc = wire::encode(open_request{1, "file", open_flags::write, a});
  for (std::size_t cut = 0; cut < enc.size(); ++cut) {
    request r;
    EXPECT_TRUE(decode_request(byte_view{enc}.first(cut), r)) << cut;
  }
}

TEST(sftp_decode, replies_of_unknown_type_are_unexpected) {
  reply r;
  EXPECT_EQ(decode_reply(hex("03 00000001"), r), errc::unexpected_message);
  EXPECT_EQ(decode_reply({}, r), errc::truncated);
}

TEST(sftp_decode, the_server_announces_every_extension_it_decodes) {
  auto l = known_extension_announcements();
  version_reply v{3, l};
  EXPECT_EQ(v.extension("posix-rename@openssh.com"), "1");
  EXPECT_EQ(v.extension("statvfs@openssh.com"), "2");
  EXPECT_EQ(v.extension("fstatvfs@openssh.com"), "2");
  EXPECT_EQ(v.extension("limits@openssh.com"), "1");
  EXPECT_EQ(v.extension("copy-data"), "1");
  EXPECT_EQ(v.extension("users-groups-by-id@openssh.com"), "1");
  EXPECT_EQ(l.pairs.size(), 11u);
}
