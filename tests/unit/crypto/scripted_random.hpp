// A random_source that hands out bytes given by the test, in order, then fails the test if asked
// for more. Lets a test drive generate() to a known private key.
#pragma once

#include <ferry/core/random.hpp>

#include <gtest/gtest.h>

#include <algorithm>

namespace ferry::crypto_test {

class scripted_random final : public random_source {
 public:
  explicit scripted_random(bytes script) : script_(std::move(script)) {}
  void fill(mutable_byte_view out) override {
    if (out.size() > script_.size() - pos_) {
      ADD_FAILURE() << "scripted_random ran out of bytes";
      std::fill(out.begin(), out.end(), std::uint8_t{0});
      return;
    }
    std::copy_n(script_.begin() + static_cast<std::ptrdiff_t>(pos_), out.size(), out.begin());
    pos_ += out.size();
  }
  std::size_t used() const noexcept { return pos_; }

 private:
  bytes script_;
  std::size_t pos_ = 0;
};

}  // namespace ferry::crypto_test
