// Feeds arbitrary bytes to the FTP reply parser (RFC 959 §4.2), split where the input says, and
// runs the reply-text parsers (227, 229, 257, 213 SIZE/MDTM/HASH, FEAT) on every reply. The parser must stay
// within its caps, split reads must give the same replies as one read, and every value a parser
// accepts must survive a format → parse round trip.
#include <ferry/ftp/proto/address.hpp>
#include <ferry/ftp/proto/feat.hpp>
#include <ferry/ftp/proto/reply.hpp>
#include <ferry/ftp/proto/server_arguments.hpp>
#include <ferry/ftp/proto/values.hpp>

#include <cstdlib>
#include <string_view>
#include <vector>

namespace {

std::vector<ferry::ftp::reply> parse(std::string_view in, std::size_t chunk,
                                     ferry::error_code& ec) {
  std::vector<ferry::ftp::reply> out;
  ferry::ftp::reply_parser p;
  while (!in.empty()) {
    auto used = p.feed(in.substr(0, chunk), ec);
    if (ec) break;
    in.remove_prefix(used);
    if (p.has_reply()) out.push_back(p.take());
    if (used == 0 && !p.has_reply()) std::abort();  // no progress without a reply
  }
  return out;
}

void check_texts(const ferry::ftp::reply& r) {
  using namespace ferry::ftp;
  if (r.code < 100 || r.code > 599) std::abort();
  if (r.lines.empty() || r.lines.size() > ferry::limits::ftp_max_reply_lines) std::abort();
  for (auto& l : r.lines)
    if (l.size() > ferry::limits::ftp_max_line) std::abort();
  auto text = r.text();
  ipv4_endpoint e;
  if (!parse_pasv_reply(text, e)) {
    ipv4_endpoint back;
    if (parse_pasv_reply(format_pasv_reply_text(e), back) || !(back == e)) std::abort();
  }
  std::uint16_t port = 0;
  if (!parse_epsv_reply(text, port)) {
    std::uint16_t back = 0;
    if (port == 0 || parse_epsv_reply(format_epsv_reply_text(port), back) || back != port)
      std::abort();
  }
  std::string path;
  if (!parse_pathname_reply(text, path)) {
    std::string back;
    if (parse_pathname_reply(format_pathname_reply_text(path, "x"), back) || back != path)
      std::abort();
  }
  std::uint64_t size = 0;
  parse_size_reply(text, size);
  std::chrono::sys_seconds t{};
  parse_mdtm_reply(text, t);
  hash_reply h;
  if (parse_hash_reply(text, h)) {
    hash_reply back;
    if (h.end < h.start || h.hex.size() != hash_hex_length(h.algorithm)) std::abort();
    if (!parse_hash_reply(format_hash_reply_text(h.algorithm, h.start, h.end, h.hex, h.path), back) ||
        !(back == h))
      std::abort();
  }
  auto f = parse_feat(r);
  if (!f.items.empty()) {
    ferry::ftp::reply_parser p;
    ferry::error_code ec;
    auto s = format_feat(f);
    p.feed(s, ec);
    if (ec || !p.has_reply() || !(parse_feat(p.take()) == f)) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::size_t chunk = data[0] % 16 + 1;
  std::string_view in{reinterpret_cast<const char*>(data) + 1, size - 1};
  ferry::error_code ec_whole, ec_split;
  auto whole = parse(in, in.size() + 1, ec_whole);
  auto split = parse(in, chunk, ec_split);
  if (whole != split || ec_whole != ec_split) std::abort();
  for (auto& r : whole) check_texts(r);
  return 0;
}
