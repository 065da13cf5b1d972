// sftp::status: messages, the status -> errno conditions, and the errno -> status mapping.
#include <ferry/sftp/proto/status.hpp>

#include <boost/asio/error.hpp>
#include <boost/system/errc.hpp>
#include <gtest/gtest.h>

#include <cerrno>
#include <set>
#include <system_error>

using namespace ferry;
namespace errc_ns = boost::system::errc;

TEST(sftp_status, ok_is_not_an_error_and_others_are) {
  EXPECT_FALSE(make_error_code(sftp::status::ok));
  EXPECT_TRUE(make_error_code(sftp::status::eof));
  EXPECT_TRUE(make_error_code(sftp::status::op_unsupported));
}

TEST(sftp_status, every_v3_code_has_its_own_message) {
  std::set<std::string> seen;
  for (std::uint32_t c = 0; c <= 8; ++c) {
    auto m = sftp::status_code(c).message();
    EXPECT_EQ(m.find("SFTP status"), std::string::npos) << c;
    EXPECT_TRUE(seen.insert(m).second) << m;
  }
  EXPECT_EQ(sftp::status_code(31).message(), "SFTP status 31");
  EXPECT_STREQ(sftp::status_code(2).category().name(), "ferry.sftp");
}

TEST(sftp_status, codes_compare_equal_to_their_errno_conditions) {
  using sftp::status;
  EXPECT_EQ(make_error_code(status::no_such_file), errc_ns::no_such_file_or_directory);
  EXPECT_EQ(make_error_code(status::permission_denied), errc_ns::permission_denied);
  EXPECT_EQ(make_error_code(status::op_unsupported), errc_ns::operation_not_supported);
  EXPECT_EQ(make_error_code(status::failure), errc_ns::io_error);
  EXPECT_EQ(make_error_code(status::bad_message), errc_ns::bad_message);
  EXPECT_EQ(make_error_code(status::connection_lost), errc_ns::connection_aborted);
  EXPECT_NE(make_error_code(status::eof), errc_ns::no_such_file_or_directory);
  // And through the standard library's error_code, as Asio users may hold it.
  std::error_code std_ec = make_error_code(status::no_such_file);
  EXPECT_EQ(std_ec, std::errc::no_such_file_or_directory);
}

TEST(sftp_status, errno_maps_to_status_as_openssh_sftp_server_does) {
  using sftp::status;
  auto st = [](int e) { return sftp::to_status({e, boost::system::generic_category()}); };
  EXPECT_EQ(st(ENOENT), status::no_such_file);
  EXPECT_EQ(st(ENOTDIR), status::no_such_file);
  EXPECT_EQ(st(EBADF), status::no_such_file);
  EXPECT_EQ(st(ELOOP), status::no_such_file);
  EXPECT_EQ(st(EPERM), status::permission_denied);
  EXPECT_EQ(st(EACCES), status::permission_denied);
  EXPECT_EQ(st(EFAULT), status::permission_denied);
  EXPECT_EQ(st(ENAMETOOLONG), status::bad_message);
  EXPECT_EQ(st(EINVAL), status::bad_message);
  EXPECT_EQ(st(ENOSYS), status::op_unsupported);
  EXPECT_EQ(st(EEXIST), status::failure);
  EXPECT_EQ(st(ENOSPC), status::failure);
  EXPECT_EQ(sftp::to_status({}), status::ok);
  EXPECT_EQ(sftp::to_status({ENOENT, boost::system::system_category()}), status::no_such_file);
  EXPECT_EQ(sftp::to_status(make_error_code(errc::unsupported)), status::op_unsupported);
  EXPECT_EQ(sftp::to_status(make_error_code(errc::truncated)), status::bad_message);
  EXPECT_EQ(sftp::to_status(make_error_code(status::eof)), status::eof);
  EXPECT_EQ(sftp::to_status(sftp::status_code(17)), status::failure);
}

TEST(sftp_status, mapping_round_trips_for_every_code_with_an_errno) {
  using sftp::status;
  for (auto s : {status::no_such_file, status::permission_denied, status::op_unsupported,
                 status::bad_message}) {
    auto cond = make_error_code(s).default_error_condition();
    error_code as_errno{cond.value(), boost::system::generic_category()};
    EXPECT_EQ(sftp::to_status(as_errno), s) << make_error_code(s).message();
  }
}

TEST(sftp_status, asio_end_of_file_is_sftp_eof) {
  // The proto layer matches Asio's category by name; this checks the name against the real one.
  EXPECT_EQ(sftp::to_status(boost::asio::error::eof), sftp::status::eof);
  EXPECT_EQ(sftp::to_status(boost::asio::error::not_found), sftp::status::failure);
}
