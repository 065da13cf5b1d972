// Feeds arbitrary bytes to the server-side command reader and parser (RFC 959 §5.3) and to the
// PORT/EPRT argument parsers. An accepted command must serialize back to a line that parses to
// the same command and never contains CR, LF or NUL in its argument.
#include <ferry/ftp/proto/address.hpp>
#include <ferry/ftp/proto/command.hpp>

#include <cstdlib>
#include <string_view>

namespace {

void check(const ferry::ftp::command& c) {
  using namespace ferry::ftp;
  if (c.verb.size() < 3 || c.verb.size() > 4) std::abort();
  if (c.argument.find_first_of(std::string_view{"\r\n\0", 3}) != std::string::npos) std::abort();
  std::string line;
  if (serialize_command(c, line)) return;  // may exceed the cap once the verb is added
  if (line.size() < 2 || line.substr(line.size() - 2) != "\r\n") std::abort();
  command back;
  if (parse_command(std::string_view{line}.substr(0, line.size() - 2), back)) std::abort();
  if (back.verb != c.verb || back.argument != c.argument) std::abort();
  ipv4_endpoint e;
  if (!parse_port_argument(c.argument, e)) {
    ipv4_endpoint b;
    if (parse_port_argument(format_port_argument(e), b) || !(b == e)) std::abort();
  }
  net_endpoint n;
  if (!parse_eprt_argument(c.argument, n)) {
    net_endpoint b;
    if (parse_eprt_argument(format_eprt_argument(n), b) || !(b == n)) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in{reinterpret_cast<const char*>(data), size};
  ferry::ftp::command c;
  if (!ferry::ftp::parse_command(in, c)) check(c);
  ferry::ftp::command_reader r;
  while (!in.empty()) {
    ferry::error_code ec;
    auto used = r.feed(in, ec);
    if (ec == ferry::ftp::errc::line_too_long) break;
    if (used == 0) std::abort();
    in.remove_prefix(used);
    if (r.has_command()) check(r.take());
  }
  return 0;
}
