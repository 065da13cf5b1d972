// Buffers for secrets (keys, passwords, shared secrets): wiped before their memory is released.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ferry {

// Overwrites n bytes in a way the compiler may not remove (explicit_bzero where available).
void secure_wipe(void* p, std::size_t n) noexcept;

template <class T>
struct wiping_allocator {
  using value_type = T;
  wiping_allocator() noexcept = default;
  template <class U>
  wiping_allocator(const wiping_allocator<U>&) noexcept {}
  T* allocate(std::size_t n) { return std::allocator<T>{}.allocate(n); }
  void deallocate(T* p, std::size_t n) noexcept {
    secure_wipe(p, n * sizeof(T));
    std::allocator<T>{}.deallocate(p, n);
  }
  template <class U>
  bool operator==(const wiping_allocator<U>&) const noexcept { return true; }
};

// A vector (never a std::string: short strings live inside the object, where no allocator wipes them).
// Reserve up front where a secret may grow: a reallocation wipes the old block, the copy lives on.
using secure_bytes = std::vector<std::uint8_t, wiping_allocator<std::uint8_t>>;

}  // namespace ferry
