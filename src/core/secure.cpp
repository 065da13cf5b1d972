#include <ferry/core/secure.hpp>

#include <cstring>

namespace ferry {

void secure_wipe(void* p, std::size_t n) noexcept {
  if (p == nullptr || n == 0) return;
#if defined(__GLIBC__) || defined(__OpenBSD__) || defined(__FreeBSD__)
  ::explicit_bzero(p, n);
#else
  auto* v = static_cast<volatile unsigned char*>(p);
  while (n--) *v++ = 0;
#endif
}

}  // namespace ferry
