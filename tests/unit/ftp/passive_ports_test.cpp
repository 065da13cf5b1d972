#include <ferry/ftp/server/passive_ports.hpp>

#include <gtest/gtest.h>

#include <set>

using ferry::ftp::passive_port_order;

TEST(ftp_passive_ports, every_port_of_the_range_is_tried_exactly_once) {
  for (auto [lo, hi] : {std::pair{50000, 50000}, std::pair{50000, 50001}, std::pair{50000, 50002},
                        std::pair{40000, 40099}, std::pair{1024, 65535}}) {
    for (std::uint64_t r : {0ull, 1ull, 0x123456789abcdefull, ~0ull, 0x8000000000000000ull}) {
      passive_port_order o{std::uint16_t(lo), std::uint16_t(hi), r};
      ASSERT_EQ(o.size(), std::uint32_t(hi - lo + 1));
      std::set<int> seen;
      for (std::uint32_t i = 0; i < o.size(); ++i) {
        int p = o[i];
        EXPECT_GE(p, lo);
        EXPECT_LE(p, hi);
        seen.insert(p);
      }
      EXPECT_EQ(seen.size(), o.size()) << lo << "-" << hi << " r=" << r;
    }
  }
}

TEST(ftp_passive_ports, the_order_is_not_sequential_and_depends_on_the_random_bits) {
  // 100 ports: a stride coprime with 100 other than 1 and 99 moves away from the neighbours.
  passive_port_order a{40000, 40099, 0x0000002a00000007ull};
  passive_port_order b{40000, 40099, 0x0000001100000007ull};
  int adjacent = 0;
  bool differ = false;
  for (std::uint32_t i = 0; i + 1 < a.size(); ++i) {
    int d = int(a[i + 1]) - int(a[i]);
    adjacent += d == 1 || d == -1 || d == 99 || d == -99;
    differ |= a[i + 1] != b[i + 1];
  }
  EXPECT_EQ(a[0], b[0]);  // same start (low bits), different strides (high bits)
  EXPECT_TRUE(differ);
  EXPECT_EQ(adjacent, 0);
}
