// A deterministic random_source for tests and fuzzing (splitmix64). Never use it for real keys.
#pragma once

#include <ferry/core/random.hpp>

#include <cstdint>

namespace ferry::test {

class fixed_random final : public random_source {
 public:
  explicit fixed_random(std::uint64_t seed = 0x6665727279u) noexcept : state_(seed) {}

  void fill(mutable_byte_view out) override {
    std::size_t i = 0;
    while (i < out.size()) {
      auto v = next();
      for (int k = 0; k < 8 && i < out.size(); ++k, ++i) out[i] = std::uint8_t(v >> (8 * k));
    }
  }

  std::uint64_t next() noexcept {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }

 private:
  std::uint64_t state_;
};

}  // namespace ferry::test
