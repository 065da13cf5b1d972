// Feeds arbitrary lines to the LIST (Unix and DOS/IIS) and MLSx parsers (RFC 3659 §7), and the
// bytes to the TYPE A converters. Accepted MLSx entries must survive format → parse with the
// same name, type, size, time and mode; to_local(to_network(x)) must be x.
#include <ferry/ftp/proto/ascii.hpp>
#include <ferry/ftp/proto/listing.hpp>

#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ferry::ftp;
  std::string_view all{reinterpret_cast<const char*>(data), size};
  const auto today = std::chrono::sys_days{std::chrono::year{2026} / 11 / 21};
  std::string_view rest = all;
  while (!rest.empty()) {
    auto lf = rest.find('\n');
    auto line = rest.substr(0, lf);
    std::optional<entry> e;
    if (!parse_list_line(line, today, e) && e) {
      if (e->name.empty()) std::abort();
      (void)format_list_line(*e, std::chrono::sys_seconds{today});
    }
    entry m;
    if (!parse_mlsx_line(line, m)) {
      if (m.facts.size() > ferry::limits::ftp_max_facts) std::abort();
      // Names that carry CR/LF cannot be sent back in a listing; the rest must round-trip.
      if (m.name.find_first_of("\r\n") == std::string::npos &&
          m.type != entry_type::other && m.type != entry_type::symlink) {
        entry back;
        if (parse_mlsx_line(format_mlsx_line(m), back)) std::abort();
        if (back.name != m.name || back.type != m.type || back.modified != m.modified ||
            back.mode != m.mode || (m.type == entry_type::file && back.size != m.size))
          std::abort();
      }
    }
    if (lf == std::string_view::npos) break;
    rest.remove_prefix(lf + 1);
  }
  // TYPE A round trip, split in two at a point the input chooses.
  ferry::bytes net, local;
  ascii_to_network to_net;
  auto in = ferry::as_bytes(all);
  auto cut = size ? data[0] % (size + 1) : 0;
  to_net.convert(in.subspan(0, cut), net);
  to_net.convert(in.subspan(cut), net);
  ascii_to_local to_local;
  auto ncut = net.size() / 2;
  to_local.convert(ferry::byte_view{net}.subspan(0, ncut), local);
  to_local.convert(ferry::byte_view{net}.subspan(ncut), local);
  to_local.finish(local);
  if (local != ferry::bytes(in.begin(), in.end())) std::abort();
  return 0;
}
