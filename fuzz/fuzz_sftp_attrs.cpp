// Arbitrary bytes as an SFTP ATTRS block (draft-ietf-secsh-filexfer-02 §5) and as NAME entries:
// unknown flags and oversize counts must be refused, what decodes must re-encode to the same
// bytes, and the longname formatter must take whatever values decode.
#include <ferry/sftp/proto/attrs.hpp>
#include <ferry/sftp/proto/longname.hpp>
#include <ferry/sftp/proto/replies.hpp>

#include <cstdlib>
#include <cstring>

namespace {

struct attrs_only {
  ferry::sftp::proto::attrs a;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.a);
  }
};

struct entries_only {
  ferry::sftp::proto::name_entries n;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.n);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ferry::sftp::proto;
  ferry::byte_view in{data, size};
  attrs_only m;
  if (!ferry::wire::decode(in, m)) {
    auto again = ferry::wire::encode(m);
    if (again.size() != size || std::memcmp(again.data(), data, size)) std::abort();
    if (m.a.flags() & ~attr_flags::known) std::abort();
    if (m.a.extended && m.a.extended->size() > ferry::limits::sftp_max_extensions) std::abort();
    longname_fields f;
    f.name = "f";
    f.mode = m.a.permissions.value_or(0);
    f.size = m.a.size.value_or(0);
    f.owner = "owner";
    f.group = "group";
    f.mtime = m.a.times ? m.a.times->mtime : 0;
    auto line = format_longname(f, 1700000000);
    if (line.size() < 10) std::abort();
  }
  entries_only e;
  if (!ferry::wire::decode(in, e)) {
    auto again = ferry::wire::encode(e);
    if (again.size() != size || std::memcmp(again.data(), data, size)) std::abort();
    if (e.n.entries.size() > ferry::limits::sftp_max_names) std::abort();
  }
  return 0;
}
