// Arbitrary bytes as the acknowledgements a sink sends back to the SCP source. Whatever the acks
// say, every record the source sends must parse, file data is only requested for a file whose C
// record was just acknowledged, and nothing inside a refused directory is sent.
#include <ferry/scp/proto/record.hpp>
#include <ferry/scp/proto/source.hpp>

#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ferry::scp::proto;
  if (size < 1) return 0;
  source src{source_options{(data[0] & 1) != 0}};
  std::size_t chunk = (data[0] >> 1) + 1;
  src.add(source_entry::file("a", 0644, 3, times_record{1, 0, 2, 0}));
  src.add(source_entry::directory("d", 0755, times_record{3, 0, 4, 0}));
  src.add(source_entry::file("inside", 0600, 1));
  src.add(source_entry::directory("deeper", 0700));
  src.add(source_entry::file("deepest", 0600, 0));
  src.add(source_entry::end_directory());
  src.add(source_entry::end_directory());
  src.add(source_entry::file("z", 0644, 2));
  src.close();

  ferry::byte_view acks{data + 1, size - 1};
  ferry::byte_view in;
  std::string last_file;
  bool d_refused = false;
  for (std::size_t steps = 0; steps < 100000; ++steps) {
    auto a = src.next(in);
    using k = source_action::kind;
    switch (a.type) {
      case k::need_more:
        if (acks.empty()) return 0;
        in = acks.first(std::min(chunk, acks.size()));
        acks = acks.subspan(in.size());
        break;
      case k::need_entries: std::abort();  // closed from the start
      case k::send: {
        auto text = ferry::as_chars(a.data);
        if (text.empty()) std::abort();
        if (text[0] == 'C' || text[0] == 'D' || text[0] == 'E' || text[0] == 'T') {
          if (text.back() != '\n') std::abort();
          record r;
          if (parse_record(text.substr(0, text.size() - 1), r)) std::abort();
          if (auto* f = std::get_if<file_record>(&r)) last_file = f->name;
          else last_file.clear();
          std::string_view name;
          if (auto* f = std::get_if<file_record>(&r)) name = f->name;
          if (auto* d = std::get_if<directory_record>(&r)) name = d->name;
          if (d_refused && (name == "inside" || name == "deeper" || name == "deepest"))
            std::abort();
        } else if (text[0] != '\0' && text[0] != '\1') {
          std::abort();
        }
        break;
      }
      case k::send_file:
        if (a.name != last_file) std::abort();
        src.file_sent();
        break;
      case k::warning:
        if (a.ec != ferry::scp::errc::peer_warning) std::abort();
        if (a.name == "d") {
          if (!a.skip_directory) std::abort();
          d_refused = true;
        }
        break;
      case k::done:
      case k::failed: return 0;
    }
  }
  std::abort();
}
