// The SFTP frame splitter: packets out of a byte stream however it is cut, and the size limit
// enforced from the length field alone.
#include "hex.hpp"

#include <ferry/sftp/proto/decode.hpp>
#include <ferry/sftp/proto/frame.hpp>

#include <gtest/gtest.h>

using namespace ferry;
using namespace ferry::sftp::proto;
using ferry::test_sftp::hex;

namespace {

bytes three_packets() {
  bytes s;
  encode_packet(s, init_request{3, {}});
  encode_packet(s, write_request{1, {"h"}, 0, bytes(1000, 'x')});
  encode_packet(s, stat_request{2, "/etc"});
  return s;
}

// Splits `stream` feeding it `chunk` bytes at a time; returns the packets as copies.
std::vector<bytes> split(byte_view stream, std::size_t chunk, error_code& ec) {
  frame_splitter fs;
  std::vector<bytes> out;
  while (!stream.empty()) {
    auto n = std::min(chunk, stream.size());
    byte_view in = stream.first(n);
    stream = stream.subspan(n);
    while (true) {
      byte_view packet;
      auto r = fs.next(in, packet, ec);
      if (r == frame_splitter::result::failed) return out;
      if (r == frame_splitter::result::need_more) {
        EXPECT_TRUE(in.empty());
        break;
      }
      out.emplace_back(packet.begin(), packet.end());
    }
  }
  EXPECT_EQ(fs.buffered(), 0u);
  return out;
}

}  // namespace

TEST(sftp_frame, yields_the_same_packets_fed_byte_by_byte_or_in_big_chunks) {
  auto stream = three_packets();
  for (std::size_t chunk : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{7},
                            std::size_t{100}, std::size_t{1013}, stream.size()}) {
    error_code ec;
    auto packets = split(stream, chunk, ec);
    ASSERT_FALSE(ec) << chunk;
    ASSERT_EQ(packets.size(), 3u) << chunk;
    EXPECT_EQ(packets[0], hex("01 00000003"));
    request r;
    ASSERT_FALSE(decode_request(packets[1], r));
    EXPECT_EQ(std::get<write_request>(r).data, bytes(1000, 'x'));
    ASSERT_FALSE(decode_request(packets[2], r));
    EXPECT_EQ(std::get<stat_request>(r).path, "/etc");
  }
}

TEST(sftp_frame, a_packet_split_across_calls_waits_for_its_last_byte) {
  auto stream = hex("00000005 01 00000003");
  frame_splitter fs;
  error_code ec;
  byte_view packet;
  byte_view first = byte_view{stream}.first(8);
  EXPECT_EQ(fs.next(first, packet, ec), frame_splitter::result::need_more);
  EXPECT_EQ(fs.buffered(), 8u);
  byte_view rest = byte_view{stream}.subspan(8);
  ASSERT_EQ(fs.next(rest, packet, ec), frame_splitter::result::packet);
  EXPECT_EQ(bytes(packet.begin(), packet.end()), hex("01 00000003"));
  EXPECT_TRUE(rest.empty());
}

TEST(sftp_frame, the_bytes_after_a_packet_stay_in_the_input) {
  auto stream = hex("00000005 01 00000003 0000");
  frame_splitter fs;
  error_code ec;
  byte_view in{stream};
  byte_view packet;
  ASSERT_EQ(fs.next(in, packet, ec), frame_splitter::result::packet);
  EXPECT_EQ(in.size(), 2u);
}

TEST(sftp_frame, a_length_above_the_limit_fails_before_any_body_byte_arrives) {
  frame_splitter fs;
  error_code ec;
  byte_view packet;
  auto header = hex("00040001");  // 256 KiB + 1
  byte_view in{header};
  EXPECT_EQ(fs.next(in, packet, ec), frame_splitter::result::failed);
  EXPECT_EQ(ec, errc::length_limit);
  EXPECT_LE(fs.buffered(), 4u);  // at most the length field itself
  // It stays failed.
  auto more = hex("00000005 01 00000003");
  byte_view in2{more};
  EXPECT_EQ(fs.next(in2, packet, ec), frame_splitter::result::failed);
}

TEST(sftp_frame, a_length_at_the_limit_is_accepted) {
  frame_splitter fs;
  error_code ec;
  byte_view packet;
  bytes stream = hex("00040000");
  stream.resize(4 + 256 * 1024, 0x65);
  for (std::size_t at = 0; at < stream.size(); at += 4096) {
    byte_view in = byte_view{stream}.subspan(at, std::min<std::size_t>(4096, stream.size() - at));
    auto r = fs.next(in, packet, ec);
    if (at + 4096 < stream.size()) {
      EXPECT_EQ(r, frame_splitter::result::need_more);
    } else {
      EXPECT_EQ(r, frame_splitter::result::packet);
    }
  }
  EXPECT_EQ(packet.size(), 256u * 1024);
}

TEST(sftp_frame, a_zero_length_is_refused) {
  frame_splitter fs;
  error_code ec;
  byte_view packet;
  auto stream = hex("00000000");
  byte_view in{stream};
  EXPECT_EQ(fs.next(in, packet, ec), frame_splitter::result::failed);
  EXPECT_EQ(ec, errc::bad_value);
}
