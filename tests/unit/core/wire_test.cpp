#include <ferry/core/codec.hpp>
#include <ferry/core/wire.hpp>

#include <gtest/gtest.h>

using namespace ferry;

TEST(wire_reader, reads_rfc4251_examples) {
  // RFC 4251 §5 mpint examples: 0, 9a378f9b2e332a7, 80, -1234 (refused: negative), -deadbeef.
  bytes in = {0, 0, 0, 0,                                         // 0
              0, 0, 0, 8, 0x09, 0xa3, 0x78, 0xf9, 0xb2, 0xe3, 0x32, 0xa7,
              0, 0, 0, 2, 0x00, 0x80};
  wire::reader r{in};
  EXPECT_TRUE(r.mpint_unsigned().empty());
  auto big = r.mpint_unsigned();
  EXPECT_EQ(bytes(big.begin(), big.end()), (bytes{0x09, 0xa3, 0x78, 0xf9, 0xb2, 0xe3, 0x32, 0xa7}));
  auto x80 = r.mpint_unsigned();
  EXPECT_EQ(bytes(x80.begin(), x80.end()), (bytes{0x80}));
  EXPECT_FALSE(r.finish());
}
