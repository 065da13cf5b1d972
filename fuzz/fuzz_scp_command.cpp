// Arbitrary bytes as an exec command line for ferry's SCP server (proto/command.hpp). The parser
// must never accept a line that holds an unquoted shell operator, must give a sink exactly one
// target, and whatever client quoting produces from the parsed paths must parse back to the same
// paths (quote() is the inverse of the split).
#include <ferry/scp/proto/command.hpp>

#include <cstdlib>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ferry::scp::proto;
  std::string_view line{reinterpret_cast<const char*>(data), size};
  command c;
  if (parse_command(line, c)) return 0;
  if (c.paths.empty()) std::abort();
  if (c.dir == direction::to_remote && c.paths.size() != 1) std::abort();
  // A NUL can never survive: sh could not have passed it.
  for (const auto& p : c.paths)
    if (p.text.find('\0') != std::string::npos) std::abort();
  // Round trip through the client's quoting.
  std::vector<std::string> texts;
  for (const auto& p : c.paths) {
    // The client leaves "~", "~/..." unquoted (to be expanded) and sends "" as ".", by design.
    if (p.home || p.text.empty() || p.text == "~" || p.text.rfind("~/", 0) == 0) return 0;
    texts.push_back(p.text);
  }
  std::string again;
  if (format_command(c.dir, c.recursive, c.preserve, c.target_should_be_directory, texts, again))
    return 0;  // too long once quoted
  command d;
  if (parse_command(again, d)) std::abort();
  if (d.paths.size() != c.paths.size() || d.dir != c.dir || d.recursive != c.recursive ||
      d.preserve != c.preserve)
    std::abort();
  for (std::size_t i = 0; i < d.paths.size(); ++i) {
    if (d.paths[i].text != texts[i] || d.paths[i].glob || d.paths[i].home) std::abort();
  }
  return 0;
}
