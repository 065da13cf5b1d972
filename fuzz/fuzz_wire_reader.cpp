// Feeds arbitrary bytes to the RFC 4251 reader and the generic codec. The reader must never read
// past the end, never allocate beyond its limits, and must agree with a re-encode of what it read.
#include <ferry/core/codec.hpp>
#include <ferry/core/wire.hpp>

#include <cstdlib>

namespace {

struct every_type {
  bool flag = false;
  std::uint8_t byte = 0;
  std::uint32_t u32 = 0;
  std::uint64_t u64 = 0;
  std::string text;
  ferry::bytes blob;
  ferry::wire::name_list names;
  ferry::wire::mpint number;
  std::array<std::uint8_t, 3> fixed{};
  std::optional<std::uint32_t> trailing;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.flag, s.byte, s.u32, s.u64, s.text, s.blob, s.names, s.number, s.fixed,
                    s.trailing);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ferry::byte_view in{data, size};

  // Reads driven by the input itself: the first byte picks each next read.
  ferry::wire::reader r{in};
  while (r.ok() && !r.empty()) {
    switch (r.u8() % 8) {
      case 0: r.u32(); break;
      case 1: r.u64(); break;
      case 2: r.string(); break;
      case 3: r.mpint_unsigned(); break;
      case 4: r.name_list(); break;
      case 5: r.boolean(); break;
      case 6: r.raw(r.u8()); break;
      default: r.string(16); break;
    }
  }

  // A whole-message decode; whatever decodes must re-encode to the same bytes, except that a
  // boolean is canonicalised to 0/1.
  every_type m;
  if (!ferry::wire::decode(in, m)) {
    auto again = ferry::wire::encode(m);
    if (again.size() != size) std::abort();
    for (std::size_t i = 0; i < size; ++i) {
      if (i == 0) continue;  // the boolean
      if (again[i] != data[i]) std::abort();
    }
  }
  return 0;
}
