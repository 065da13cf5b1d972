// Arbitrary bytes as one SFTP reply packet, as a client reads it from a server: the reply decoder,
// then every known EXTENDED_REPLY body. What decodes must re-encode to the same bytes, and the
// request tracker must accept it only for an outstanding id of a request that allows its type.
#include <ferry/sftp/proto/decode.hpp>
#include <ferry/sftp/proto/frame.hpp>
#include <ferry/sftp/proto/session.hpp>

#include <cstdlib>
#include <cstring>

namespace {

void same_or_abort(const ferry::bytes& a, ferry::byte_view b) {
  if (a.size() != b.size() || std::memcmp(a.data(), b.data(), a.size())) std::abort();
}

template <class Reply>
void try_extended(const ferry::sftp::proto::extended_reply& generic, ferry::byte_view packet) {
  Reply r;
  if (!ferry::sftp::proto::decode_extended_reply(generic, r))
    same_or_abort(ferry::wire::encode(r), packet);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ferry::sftp::proto;
  ferry::byte_view packet{data, size};
  reply r;
  if (decode_reply(packet, r)) return 0;
  same_or_abort(std::visit([](const auto& m) { return ferry::wire::encode(m); }, r), packet);
  if (auto* v = std::get_if<version_reply>(&r)) {
    if (request_id_of(r)) std::abort();
    (void)v->extension("limits@openssh.com");
  } else if (!request_id_of(r)) {
    std::abort();
  }
  if (auto* s = std::get_if<status_reply>(&r)) (void)s->error().message();
  // The client's bookkeeping: a reply retires at most one outstanding request.
  request_tracker t;
  stat_request s{0, "a"};
  read_request rd{};
  limits_request l{};
  t.add(s);
  t.add(rd);
  t.add(l);
  auto ec = t.complete(r);
  if (t.outstanding() < 2 || (!ec && t.outstanding() != 2)) std::abort();
  if (auto* e = std::get_if<extended_reply>(&r)) {
    try_extended<statvfs_reply>(*e, packet);
    try_extended<limits_reply>(*e, packet);
    try_extended<users_groups_by_id_reply>(*e, packet);
  }
  return 0;
}
