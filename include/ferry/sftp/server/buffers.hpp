// Reply and request buffers of an SFTP server session: byte vectors that do not zero what they
// grow into (a READ's 255 KiB is filled by the filesystem, never cleared first) and a free list so
// that a transfer of thousands of blocks reuses the same few buffers instead of allocating each.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <utility>
#include <vector>

namespace ferry::sftp::detail {

template <class T>
struct default_init_allocator : std::allocator<T> {
  using std::allocator<T>::allocator;
  template <class U>
  struct rebind {
    using other = default_init_allocator<U>;
  };
  template <class U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

using buffer = std::vector<std::uint8_t, default_init_allocator<std::uint8_t>>;

class buffer_pool {
 public:
  // keep: buffers held for reuse; largest: a buffer larger than this is freed, not kept.
  explicit buffer_pool(std::size_t keep = 64, std::size_t largest = 512 * 1024)
      : keep_(keep), largest_(largest) {}

  buffer get() {
    if (free_.empty()) return {};
    buffer b = std::move(free_.back());
    free_.pop_back();
    b.clear();
    return b;
  }

  void put(buffer&& b) {
    if (b.capacity() == 0 || b.capacity() > largest_ || free_.size() >= keep_) {
      buffer{}.swap(b);
      return;
    }
    free_.push_back(std::move(b));
  }

  std::size_t held() const noexcept { return free_.size(); }

 private:
  std::size_t keep_;
  std::size_t largest_;
  std::vector<buffer> free_;
};

}  // namespace ferry::sftp::detail
