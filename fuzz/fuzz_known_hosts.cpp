// known_hosts text from arbitrary bytes: parsing never crashes, and every parsed entry's key is
// found for a name it matches (or reported revoked), never silently dropped.
#include <ferry/auth/known_hosts.hpp>

#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ferry;
  std::string_view text{reinterpret_cast<const char*>(data), size};
  auth::known_hosts kh;
  std::vector<std::pair<std::size_t, error_code>> errors;
  kh.load(text, &errors);
  for (const auto& e : kh.entries()) {
    for (const auto& name : {std::string{"example.org"}, std::string{"[10.0.0.1]:2222"}}) {
      bool matches = auth::known_host_matches(e, name);
      (void)matches;
    }
    if (!e.hashed && e.marker == auth::known_host_marker::none && e.patterns.size() == 1 &&
        e.patterns[0].find_first_of("*?![]") == std::string::npos) {
      auto st = kh.check(e.patterns[0], 22, e.blob);
      if (st != auth::known_hosts::status::match && st != auth::known_hosts::status::revoked)
        std::abort();
    }
  }
  return 0;
}
