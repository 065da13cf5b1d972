// Arbitrary bytes into the SCP sink state machine, as a hostile peer would send them to `scp -t`
// or to a downloading client. No name the sink yields may be empty, ".", "..", or contain '/',
// the directory depth it implies must stay balanced and bounded, and it must never hand out more
// file bytes than the open file declared.
#include <ferry/scp/proto/sink.hpp>

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ferry::scp::proto;
  if (size < 2) return 0;
  // Byte 0: options; byte 1: chunk size and which local operations fail.
  sink_options o;
  o.recursive = data[0] & 1;
  o.preserve = data[0] & 2;
  o.target_should_be_directory = data[0] & 4;
  o.target_is_directory = data[0] & 8;
  if (data[0] & 16) o.expected_names = {"want"};
  std::size_t chunk = (data[1] & 0x3f) + 1;
  bool fail_ops = data[1] & 0x40;
  ferry::byte_view stream{data + 2, size - 2};

  sink s{o};
  std::size_t depth = 0;
  std::uint64_t left_in_file = 0;
  bool file_open = false;
  std::size_t top_entries = 0;
  ferry::byte_view in;
  for (std::size_t steps = 0; steps < 1000000; ++steps) {
    auto a = s.next(in);
    using k = sink_action::kind;
    auto check_name = [&] {
      auto n = a.name;
      if (n.empty() || n == "." || n == ".." || n.find('/') != std::string_view::npos ||
          n.find('\0') != std::string_view::npos)
        std::abort();
      if (depth == 0 && !o.expected_names.empty() && (n != "want" || ++top_entries > 1))
        std::abort();
    };
    switch (a.type) {
      case k::need_more:
        if (stream.empty()) {
          (void)s.finish();
          return 0;
        }
        in = stream.first(std::min(chunk, stream.size()));
        stream = stream.subspan(in.size());
        break;
      case k::send:
        if (a.data.empty()) std::abort();
        break;
      case k::create_directory:
        check_name();
        if (!o.recursive || a.mode > 07777) std::abort();
        if (fail_ops && (a.name.size() & 1)) {
          s.report(ferry::make_error_code(ferry::errc::injected_failure));
        } else {
          ++depth;
          if (depth > ferry::limits::scp_max_depth) std::abort();
        }
        break;
      case k::open_file:
        check_name();
        if (file_open || a.mode > 07777) std::abort();
        if (fail_ops && (a.name.size() & 1)) {
          s.report(ferry::make_error_code(ferry::errc::injected_failure));
        } else {
          file_open = true;
          left_in_file = a.size;
        }
        break;
      case k::write:
        if (!file_open || a.data.size() > left_in_file || a.data.empty()) std::abort();
        left_in_file -= a.data.size();
        break;
      case k::close_file:
        if (!file_open || left_in_file != 0) std::abort();
        if (a.times && !o.preserve) std::abort();
        file_open = false;
        break;
      case k::leave_directory:
        if (depth == 0 || file_open) std::abort();
        --depth;
        break;
      case k::warning: break;
      case k::failed: return 0;
    }
  }
  std::abort();  // the sink must always make progress
}
