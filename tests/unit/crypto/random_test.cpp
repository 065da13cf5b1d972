#include <ferry/crypto/random.hpp>

#include <gtest/gtest.h>

#include <array>
#include <thread>
#include <vector>

namespace ferry::crypto {
namespace {

TEST(random, system_random_fills_distinct_buffers) {
  std::array<std::uint8_t, 32> a{}, b{};
  system_random().fill(a);
  system_random().fill(b);
  // 2^-256 chance of a false failure.
  EXPECT_NE(a, b);
  EXPECT_NE(a, (std::array<std::uint8_t, 32>{}));
}

TEST(random, system_random_is_usable_from_many_threads) {
  std::vector<std::array<std::uint8_t, 16>> out(4);
  std::vector<std::thread> threads;
  for (auto& o : out) threads.emplace_back([&o] {
      for (int i = 0; i < 1000; ++i) system_random().fill(o);
    });
  for (auto& t : threads) t.join();
  for (std::size_t i = 1; i < out.size(); ++i) EXPECT_NE(out[0], out[i]);
}

TEST(random, constant_time_equal_compares_content_and_size) {
  const bytes a{1, 2, 3}, b{1, 2, 3}, c{1, 2, 4}, d{1, 2};
  EXPECT_TRUE(constant_time_equal(a, b));
  EXPECT_FALSE(constant_time_equal(a, c));
  EXPECT_FALSE(constant_time_equal(a, d));
  EXPECT_FALSE(constant_time_equal(d, a));
  EXPECT_TRUE(constant_time_equal(byte_view{}, byte_view{}));
  EXPECT_FALSE(constant_time_equal(byte_view{}, a));
}

}  // namespace
}  // namespace ferry::crypto
