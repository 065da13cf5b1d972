// The order in which a passive listener tries the ports of its configured range. Each listener
// draws a random start and a random stride coprime with the range's size, so it visits every port
// exactly once, in an order that is neither sequential nor shared with other listeners: the next
// port cannot be guessed from the last one (a port thief would have to race for every port), and
// when one port is taken the next try lands somewhere else in the range instead of on the
// neighbour that a concurrent session probably took as well.
#pragma once

#include <cstdint>
#include <numeric>

namespace ferry::ftp {

class passive_port_order {
 public:
  // [min, max] inclusive, min <= max; random: any 64 random bits.
  passive_port_order(std::uint16_t min, std::uint16_t max, std::uint64_t random) noexcept
      : min_(min), span_(std::uint32_t(max) - min + 1) {
    start_ = std::uint32_t(random % span_);
    stride_ = 1;
    if (span_ > 2) {
      stride_ = 1 + std::uint32_t((random >> 32) % (span_ - 1));  // 1 .. span-1
      while (std::gcd(stride_, span_) != 1) stride_ = stride_ % (span_ - 1) + 1;
    }
  }

  std::uint32_t size() const noexcept { return span_; }
  // The i-th port to try, i in [0, size()).
  std::uint16_t operator[](std::uint32_t i) const noexcept {
    return std::uint16_t(min_ + (start_ + std::uint64_t(i) * stride_) % span_);
  }

 private:
  std::uint16_t min_;
  std::uint32_t span_;
  std::uint32_t start_ = 0;
  std::uint32_t stride_ = 1;
};

}  // namespace ferry::ftp
