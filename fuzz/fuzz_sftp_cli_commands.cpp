// ferry-sftp's command parser (examples/cli/sftp_commands.hpp): any line parses or gives one error
// line; a word's glob pattern always matches the word's own text when it holds no unquoted glob
// character; the glob matcher and the target parser take any bytes.
#include "../examples/cli/sftp_commands.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ferry::cli::sftp_cli;
  std::string_view in{reinterpret_cast<const char*>(data), size};
  auto p = parse_line(in);
  if (!p.empty && p.error.empty() && !p.cmd) std::abort();
  auto t = tokenize(in);
  if (t.error.empty())
    for (const auto& w : t.words) {
      if (!w.has_glob && w.text.find('/') == std::string::npos && !glob_match(w.pattern, w.text)) std::abort();
      if (unescape_pattern(w.pattern) != w.text) std::abort();
    }
  auto nul = in.find('\0');
  if (nul != std::string_view::npos) (void)glob_match(in.substr(0, nul), in.substr(nul + 1));
  (void)parse_target(in);
  (void)split_pattern(in);
  return 0;
}
