// Feeds arbitrary bytes to the ftp:// / ftps:// URL parser (ftp/proto/url.hpp). An accepted URL
// must hold no CR, LF or NUL in any decoded part, and format_url -> parse_url must give it back.
#include <ferry/ftp/proto/url.hpp>

#include <cstdlib>
#include <string_view>

namespace {
bool clean(std::string_view s) {
  return s.find_first_of(std::string_view{"\r\n\0", 3}) == std::string_view::npos;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in{reinterpret_cast<const char*>(data), size};
  ferry::ftp::url u;
  if (ferry::ftp::parse_url(in, u)) return 0;
  if (!clean(u.path) || !clean(u.host) || (u.user && !clean(*u.user)) ||
      (u.password && !clean(*u.password)))
    std::abort();
  if (u.host.empty() || u.port == 0) std::abort();
  ferry::ftp::url back;
  auto text = ferry::ftp::format_url(u);
  if (text.size() <= ferry::limits::ftp_max_url) {
    if (ferry::ftp::parse_url(text, back) || !(back == u)) std::abort();
  }
  return 0;
}
