// The bodies of sftp::client's single-request operations: one request, its reply checked and
// turned into a value (draft-ietf-secsh-filexfer-02 §6, OpenSSH PROTOCOL §4).
#pragma once

#include <ferry/sftp/client/pipeline.hpp>
#include <ferry/sftp/client/session.hpp>

#include <string>
#include <vector>

namespace ferry::sftp {

using attributes = proto::attrs;
using directory_entry = proto::name_entry;
using filesystem_stats = proto::statvfs_reply;

// File type tests on attributes (st_mode type bits, when the server sent permissions).
inline bool is_directory(const attributes& a) noexcept {
  return a.permissions && (*a.permissions & 0170000) == 0040000;
}
inline bool is_regular(const attributes& a) noexcept {
  return a.permissions && (*a.permissions & 0170000) == 0100000;
}
inline bool is_symlink(const attributes& a) noexcept {
  return a.permissions && (*a.permissions & 0170000) == 0120000;
}

// users-groups-by-id@openssh.com: names in the order of the ids asked ("" when unknown).
struct user_group_names {
  std::vector<std::string> users;
  std::vector<std::string> groups;
};

namespace detail {

inline error_code unexpected() { return make_error_code(errc::unexpected_message); }

template <class S, class Request>
awaitable<error_code> call_status(S& s, Request req) {
  auto [ec, r] = co_await s.call(std::move(req));
  if (ec) co_return ec;
  if (!std::holds_alternative<proto::status_reply>(r)) co_return unexpected();
  co_return error_code{};
}

template <class S, class Request>
awaitable<result<proto::handle>> call_handle(S& s, Request req) {
  auto [ec, r] = co_await s.call(std::move(req));
  if (ec) co_return result<proto::handle>{ec, {}};
  auto* h = std::get_if<proto::handle_reply>(&r);
  if (!h) co_return result<proto::handle>{unexpected(), {}};
  co_return result<proto::handle>{error_code{}, std::move(h->handle)};
}

template <class S, class Request>
awaitable<result<attributes>> call_attrs(S& s, Request req) {
  auto [ec, r] = co_await s.call(std::move(req));
  if (ec) co_return result<attributes>{ec, {}};
  auto* a = std::get_if<proto::attrs_reply>(&r);
  if (!a) co_return result<attributes>{unexpected(), {}};
  co_return result<attributes>{error_code{}, std::move(a->attrs)};
}

template <class S, class Request>
awaitable<result<std::vector<directory_entry>>> call_names(S& s, Request req) {
  using R = result<std::vector<directory_entry>>;
  auto [ec, r] = co_await s.call(std::move(req));
  if (ec) co_return R{ec, {}};
  auto* n = std::get_if<proto::name_reply>(&r);
  if (!n) co_return R{unexpected(), {}};
  co_return R{error_code{}, std::move(n->names.entries)};
}

// REALPATH, READLINK, expand-path, home-directory: a NAME with exactly one entry (§6.10, §6.11).
template <class S, class Request>
awaitable<result<std::string>> call_one_name(S& s, Request req) {
  auto [ec, names] = co_await call_names(s, std::move(req));
  if (ec) co_return result<std::string>{ec, {}};
  if (names.size() != 1) co_return result<std::string>{make_error_code(errc::bad_value), {}};
  co_return result<std::string>{error_code{}, std::move(names.front().filename)};
}

template <class Reply, class S, class Request>
awaitable<result<Reply>> call_extended(S& s, Request req) {
  auto [ec, r] = co_await s.call(std::move(req));
  if (ec) co_return result<Reply>{ec, {}};
  auto* e = std::get_if<proto::extended_reply>(&r);
  if (!e) co_return result<Reply>{unexpected(), {}};
  Reply out;
  if (auto dec = proto::decode_extended_reply(*e, out)) co_return result<Reply>{dec, {}};
  co_return result<Reply>{error_code{}, std::move(out)};
}

// An extension the server did not announce is refused here, without a round trip.
template <class Request, class S>
error_code check_extension(const S& s) {
  if (!s.ready()) return s.failure();
  if (!s.supports(proto::extension_of<Request>)) return make_error_code(status::op_unsupported);
  return {};
}

// --- file data -----------------------------------------------------------------------------------

struct buffer_sink final : data_sink {
  buffer_sink(std::uint64_t at, mutable_byte_view b) : base(at), buf(b) {}
  error_code write(std::uint64_t offset, byte_view data) override {
    auto at = offset - base;
    if (at > buf.size() || data.size() > buf.size() - at) return make_error_code(errc::bad_value);
    std::copy(data.begin(), data.end(), buf.begin() + static_cast<std::ptrdiff_t>(at));
    return {};
  }
  std::uint64_t base;
  mutable_byte_view buf;
};

struct buffer_source final : data_source {
  buffer_source(std::uint64_t at, byte_view b) : base(at), buf(b) {}
  error_code read(std::uint64_t offset, mutable_byte_view out, std::size_t& n) override {
    auto at = offset - base;
    n = at >= buf.size() ? 0 : std::min(out.size(), buf.size() - static_cast<std::size_t>(at));
    std::copy_n(buf.begin() + static_cast<std::ptrdiff_t>(at), n, out.begin());
    return {};
  }
  std::uint64_t base;
  byte_view buf;
};

// READs covering buf, all in flight at once; completes with the bytes read into the front of buf
// (fewer at end of file), or status::eof when there was nothing at offset.
template <class S>
awaitable<result<std::size_t>> read_at(S& s, proto::handle h, std::uint64_t offset,
                                       mutable_byte_view buf) {
  using R = result<std::size_t>;
  if (!s.ready()) co_return R{s.failure(), 0};
  if (buf.empty()) co_return R{error_code{}, 0};
  buffer_sink sink{offset, buf};
  pipeline_options o;
  o.block = s.max_read();
  o.max_in_flight = (buf.size() + o.block - 1) / o.block;
  o.slow_start = false;
  read_pipeline<S> p{s, h, offset, offset + buf.size(), sink, std::move(o)};
  auto ec = co_await p.run();
  auto n = static_cast<std::size_t>(p.contiguous() - offset);
  if (ec && n == 0) co_return R{ec, 0};
  if (n == 0) co_return R{make_error_code(status::eof), 0};
  co_return R{error_code{}, n};
}

// WRITEs covering data, all in flight at once; completes with data.size() or the first error.
template <class S>
awaitable<result<std::size_t>> write_at(S& s, proto::handle h, std::uint64_t offset,
                                        byte_view data) {
  using R = result<std::size_t>;
  if (!s.ready()) co_return R{s.failure(), 0};
  if (data.empty()) co_return R{error_code{}, 0};
  buffer_source source{offset, data};
  pipeline_options o;
  o.block = s.max_write(h.value.size());
  o.max_in_flight = (data.size() + o.block - 1) / o.block;
  o.slow_start = false;
  write_pipeline<S> p{s, h, offset, offset + data.size(), source, std::move(o)};
  auto ec = co_await p.run();
  if (ec) co_return R{ec, static_cast<std::size_t>(p.contiguous() - offset)};
  co_return R{error_code{}, data.size()};
}

// Every entry of a directory: OPENDIR, READDIR until eof, CLOSE. "." and ".." are left out.
template <class S>
awaitable<result<std::vector<directory_entry>>> list(S& s, std::string path) {
  using R = result<std::vector<directory_entry>>;
  proto::opendir_request open{0, std::move(path)};
  auto [ec, h] = co_await call_handle(s, std::move(open));
  if (ec) co_return R{ec, {}};
  std::vector<directory_entry> all;
  error_code failed;
  while (true) {
    proto::readdir_request rd{0, h};
    auto [rec, batch] = co_await call_names(s, std::move(rd));
    if (rec == status::eof) break;
    if (rec) {
      failed = rec;
      break;
    }
    if (batch.empty()) break;  // a server that never says eof would loop forever
    for (auto& e : batch) {
      if (e.filename == "." || e.filename == "..") continue;
      if (all.size() == limits::sftp_client_max_listing) {
        failed = make_error_code(errc::length_limit);
        break;
      }
      all.push_back(std::move(e));
    }
    if (failed) break;
  }
  proto::close_request close{0, h};
  auto cec = co_await call_status(s, std::move(close));
  if (failed) co_return R{failed, {}};
  if (cec) co_return R{cec, {}};
  co_return R{error_code{}, std::move(all)};
}

}  // namespace detail
}  // namespace ferry::sftp
