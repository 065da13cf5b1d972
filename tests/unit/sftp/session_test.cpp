// The version handshake and the request -> reply rules a client enforces.
#include <ferry/sftp/proto/session.hpp>

#include <gtest/gtest.h>

using namespace ferry;
using namespace ferry::sftp::proto;

TEST(sftp_session, the_server_answers_init_with_version_3_and_its_extensions) {
  auto v = server_hello(init_request{6, {}});
  EXPECT_EQ(v.version, 3u);
  EXPECT_EQ(v.extension("limits@openssh.com"), "1");
  EXPECT_FALSE(check_server_version(v));
  v.version = 2;
  EXPECT_EQ(check_server_version(v), errc::unsupported);
}

TEST(sftp_session, each_request_allows_status_and_its_own_success_reply) {
  namespace k = reply_kind;
  EXPECT_EQ(allowed_replies(open_request{}), k::status | k::handle);
  EXPECT_EQ(allowed_replies(read_request{}), k::status | k::data);
  EXPECT_EQ(allowed_replies(readdir_request{}), k::status | k::name);
  EXPECT_EQ(allowed_replies(realpath_request{}), k::status | k::name);
  EXPECT_EQ(allowed_replies(lstat_request{}), k::status | k::attrs);
  EXPECT_EQ(allowed_replies(remove_request{}), k::status);
  EXPECT_EQ(allowed_replies(symlink_request{}), k::status);
  EXPECT_EQ(allowed_replies(posix_rename_request{}), k::status);
  EXPECT_EQ(allowed_replies(limits_request{}), k::status | k::extended);
  EXPECT_EQ(allowed_replies(expand_path_request{}), k::status | k::name);
  EXPECT_EQ(allowed_replies(init_request{}), 0u);
}

TEST(sftp_session, the_tracker_accepts_each_owed_reply_once) {
  request_tracker t;
  stat_request s{0, "/x"};
  auto id = t.add(s);
  EXPECT_EQ(s.request_id, id);
  remove_request rm{0, "/y"};
  auto id2 = t.add(rm);
  EXPECT_NE(id, id2);
  EXPECT_EQ(t.outstanding(), 2u);
  EXPECT_FALSE(t.complete(attrs_reply{id, {}}));
  EXPECT_EQ(t.complete(attrs_reply{id, {}}), errc::unexpected_message);  // answered already
  EXPECT_FALSE(t.complete(make_status(id2, sftp::status::ok)));
  EXPECT_EQ(t.outstanding(), 0u);
}

TEST(sftp_session, the_tracker_refuses_unknown_ids_wrong_types_and_late_versions) {
  request_tracker t;
  remove_request rm{0, "/y"};
  auto id = t.add(rm);
  EXPECT_EQ(t.complete(make_status(id + 7, sftp::status::ok)), errc::unexpected_message);
  EXPECT_EQ(t.complete(handle_reply{id, {"h"}}), errc::unexpected_message);  // HANDLE for REMOVE
  EXPECT_EQ(t.outstanding(), 0u);  // the id is retired either way
  EXPECT_EQ(t.complete(version_reply{}), errc::unexpected_message);
}
