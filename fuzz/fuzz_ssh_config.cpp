// ssh_config text from arbitrary bytes: parsing never crashes; a parsed file resolves for any
// host, and with a loader that includes the same file again resolution stops at the depth limit.
#include <ferry/ssh/proto/ssh_config.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ferry::ssh::proto;
  std::string_view text{reinterpret_cast<const char*>(data), size};
  ssh_config_file f;
  std::size_t line = 0;
  if (auto ec = parse_ssh_config(text, f, &line)) {
    if (line == 0 && text.size() <= ferry::limits::ssh_config_max_file) std::abort();
    return 0;
  }
  ssh_config_loader loader = [&](std::string_view, std::vector<ssh_config_file>& out) {
    out.push_back(f);
    return ferry::error_code{};
  };
  for (std::string_view host : {"example.org", "web1", "", "db.corp"}) {
    ssh_config_options o;
    (void)resolve_ssh_config(f, host, o, loader);
    // Every keyword recorded has a value, and the first value is a known entry's.
    for (const auto& [k, v] : o.values())
      if (v.empty() || k.empty()) std::abort();
  }
  return 0;
}
