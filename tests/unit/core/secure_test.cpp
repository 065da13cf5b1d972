#include <ferry/core/secure.hpp>

#include <gtest/gtest.h>

#include <cstring>

TEST(secure_wipe, zeroes_the_given_bytes_only) {
  unsigned char buf[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  ferry::secure_wipe(buf + 2, 4);
  const unsigned char expected[8] = {1, 2, 0, 0, 0, 0, 7, 8};
  EXPECT_EQ(0, std::memcmp(buf, expected, 8));
}

TEST(secure_bytes, is_a_byte_vector_with_the_wiping_allocator) {
  ferry::secure_bytes s{1, 2, 3};
  s.push_back(4);
  EXPECT_EQ(s.size(), 4u);
  EXPECT_EQ(s[3], 4);
}
