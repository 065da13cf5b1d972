// RFC 4253 §4.2 version exchange.
#include <ferry/ssh/proto/identification.hpp>

#include <gtest/gtest.h>

using namespace ferry;
using namespace ferry::ssh;
using namespace ferry::ssh::proto;

namespace {

identification_parser::status feed_all(identification_parser& p, std::string_view s,
                                       std::size_t* consumed = nullptr) {
  std::size_t used = 0;
  auto st = p.feed(as_bytes(s), used);
  if (consumed) *consumed = used;
  return st;
}

}  // namespace

TEST(ssh_identification, make_identification_ends_with_crlf) {
  EXPECT_EQ(make_identification("ferry_0.1"), "SSH-2.0-ferry_0.1\r\n");
  EXPECT_EQ(make_identification("ferry_0.1", "hi"), "SSH-2.0-ferry_0.1 hi\r\n");
}

TEST(ssh_identification, stops_at_end_of_line_and_leaves_packet_bytes) {
  identification_parser p{role::client};
  std::size_t used = 0;
  std::string in = std::string{"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"} + std::string{"\0\0\1\x0c", 4};
  EXPECT_EQ(feed_all(p, in, &used), identification_parser::status::done);
  EXPECT_EQ(used, in.size() - 4);
  EXPECT_EQ(p.identification(), "SSH-2.0-OpenSSH_9.2p1 Debian-2");
}

TEST(ssh_identification, accepts_bare_lf_and_byte_at_a_time) {
  identification_parser p{role::server};
  std::string in = "SSH-2.0-x\n";
  for (std::size_t i = 0; i + 1 < in.size(); ++i)
    EXPECT_EQ(feed_all(p, in.substr(i, 1)), identification_parser::status::need_more);
  EXPECT_EQ(feed_all(p, "\n"), identification_parser::status::done);
  EXPECT_EQ(p.identification(), "SSH-2.0-x");
}

TEST(ssh_identification, client_tolerates_pre_banner_lines) {
  identification_parser p{role::client};
  EXPECT_EQ(feed_all(p, "hello\r\nworld\r\nSSH-1.99-old\r\n"), identification_parser::status::done);
  EXPECT_EQ(p.identification(), "SSH-1.99-old");
}

TEST(ssh_identification, client_limits_pre_banner_lines) {
  identification_parser p{role::client};
  std::string many;
  for (std::size_t i = 0; i <= limits::max_pre_banner_lines; ++i) many += "x\r\n";
  EXPECT_EQ(feed_all(p, many), identification_parser::status::failed);
  EXPECT_EQ(p.error(), disconnect_reason::protocol_error);
}

TEST(ssh_identification, server_refuses_lines_before_the_identification) {
  identification_parser p{role::server};
  EXPECT_EQ(feed_all(p, "GET / HTTP/1.1\r\n"), identification_parser::status::failed);
  identification_parser q{role::server};
  EXPECT_EQ(feed_all(q, "\r\nSSH-2.0-x\r\n"), identification_parser::status::failed);
}

TEST(ssh_identification, refuses_lines_over_255_bytes) {
  identification_parser p{role::server};
  std::string line = "SSH-2.0-" + std::string(245, 'a') + "\r\n";  // 255 with CR LF: fits
  EXPECT_EQ(line.size(), 255u);
  EXPECT_EQ(feed_all(p, line), identification_parser::status::done);
  identification_parser q{role::server};
  std::string longer = "SSH-2.0-" + std::string(246, 'a') + "\r\n";
  EXPECT_EQ(feed_all(q, longer), identification_parser::status::failed);
  identification_parser c{role::client};
  EXPECT_EQ(feed_all(c, std::string(300, 'b')), identification_parser::status::failed);
}

TEST(ssh_identification, refuses_nul) {
  identification_parser p{role::server};
  EXPECT_EQ(feed_all(p, std::string_view{"SSH-2.0-a\0b\r\n", 13}), identification_parser::status::failed);
  identification_parser c{role::client};
  EXPECT_EQ(feed_all(c, std::string_view{"SSH-2.0-\0\r\n", 11}), identification_parser::status::failed);
}

TEST(ssh_identification, refuses_protocol_1) {
  identification_parser p{role::client};
  EXPECT_EQ(feed_all(p, "SSH-1.5-old\r\n"), identification_parser::status::failed);
  EXPECT_EQ(p.error(), disconnect_reason::protocol_version_not_supported);
}
