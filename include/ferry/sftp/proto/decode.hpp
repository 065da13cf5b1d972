// Packet -> message dispatch for both ends (draft-ietf-secsh-filexfer-02 §3): the server turns a
// request packet into one of the request structs, the client turns a reply packet into one of the
// reply structs. Input is one packet as frame_splitter yields it (type byte + body).
#pragma once

#include <ferry/core/codec.hpp>
#include <ferry/core/error.hpp>
#include <ferry/sftp/proto/extensions.hpp>
#include <ferry/sftp/proto/file_requests.hpp>
#include <ferry/sftp/proto/path_requests.hpp>
#include <ferry/sftp/proto/replies.hpp>
#include <ferry/sftp/proto/status.hpp>
#include <ferry/sftp/proto/version.hpp>

#include <cstdint>
#include <optional>
#include <variant>

namespace ferry::sftp::proto {

using request =
    std::variant<init_request, open_request, close_request, read_request, write_request,
                 lstat_request, fstat_request, setstat_request, fsetstat_request, opendir_request,
                 readdir_request, remove_request, mkdir_request, rmdir_request, realpath_request,
                 stat_request, rename_request, readlink_request, symlink_request,
                 posix_rename_request, statvfs_request, fstatvfs_request, hardlink_request,
                 fsync_request, lsetstat_request, limits_request, expand_path_request,
                 copy_data_request, home_directory_request, users_groups_by_id_request,
                 extended_request>;

using reply = std::variant<version_reply, status_reply, handle_reply, data_reply, name_reply,
                           attrs_reply, extended_reply>;

// The outcome of decode_request(). On failure, request_id holds the id when the packet was long
// enough to carry one, and answer() is the status the server replies with for that id:
// SSH_FX_OP_UNSUPPORTED for an unknown packet type, SSH_FX_BAD_MESSAGE for a malformed request.
struct request_result {
  error_code ec;
  std::optional<std::uint32_t> request_id;

  explicit operator bool() const noexcept { return static_cast<bool>(ec); }
  status answer() const noexcept {
    if (!ec) return status::ok;
    return ec == errc::unsupported ? status::op_unsupported : status::bad_message;
  }
};

namespace detail {

template <class M, class Variant>
error_code decode_into(byte_view packet, Variant& out) {
  M m;
  auto ec = wire::decode(packet, m);
  if (!ec) out = std::move(m);
  return ec;
}

// The known extensions, tried by name; anything else stays a generic extended_request.
template <class... Known>
struct extension_table {
  static bool decode(std::string_view name, byte_view packet, request& out, error_code& ec) {
    return ((name == extension_of<Known> ? (ec = decode_into<Known>(packet, out), true) : false) ||
            ...);
  }
};

using known_extensions =
    extension_table<posix_rename_request, statvfs_request, fstatvfs_request, hardlink_request,
                    fsync_request, lsetstat_request, limits_request, expand_path_request,
                    copy_data_request, home_directory_request, users_groups_by_id_request>;

}  // namespace detail

// Server side. An unknown type gives errc::unsupported; a known type that does not parse gives the
// codec's error (truncated, length_limit, bad_value, trailing_data).
inline request_result decode_request(byte_view packet, request& out) {
  request_result res;
  wire::reader head{packet};
  auto type = head.u8();
  if (type != packet_type::init) {
    auto id = head.u32();
    if (head.ok()) res.request_id = id;
  }
  if (packet.empty()) {
    res.ec = make_error_code(errc::truncated);
    return res;
  }
  using namespace detail;
  switch (type) {
    case packet_type::init: res.ec = decode_into<init_request>(packet, out); break;
    case packet_type::open: res.ec = decode_into<open_request>(packet, out); break;
    case packet_type::close: res.ec = decode_into<close_request>(packet, out); break;
    case packet_type::read: res.ec = decode_into<read_request>(packet, out); break;
    case packet_type::write: res.ec = decode_into<write_request>(packet, out); break;
    case packet_type::lstat: res.ec = decode_into<lstat_request>(packet, out); break;
    case packet_type::fstat: res.ec = decode_into<fstat_request>(packet, out); break;
    case packet_type::setstat: res.ec = decode_into<setstat_request>(packet, out); break;
    case packet_type::fsetstat: res.ec = decode_into<fsetstat_request>(packet, out); break;
    case packet_type::opendir: res.ec = decode_into<opendir_request>(packet, out); break;
    case packet_type::readdir: res.ec = decode_into<readdir_request>(packet, out); break;
    case packet_type::remove: res.ec = decode_into<remove_request>(packet, out); break;
    case packet_type::mkdir: res.ec = decode_into<mkdir_request>(packet, out); break;
    case packet_type::rmdir: res.ec = decode_into<rmdir_request>(packet, out); break;
    case packet_type::realpath: res.ec = decode_into<realpath_request>(packet, out); break;
    case packet_type::stat: res.ec = decode_into<stat_request>(packet, out); break;
    case packet_type::rename: res.ec = decode_into<rename_request>(packet, out); break;
    case packet_type::readlink: res.ec = decode_into<readlink_request>(packet, out); break;
    case packet_type::symlink: res.ec = decode_into<symlink_request>(packet, out); break;
    case packet_type::extended: {
      extended_request generic;
      res.ec = wire::decode(packet, generic);
      if (res.ec) break;
      if (!known_extensions::decode(generic.name, packet, out, res.ec)) out = std::move(generic);
      break;
    }
    default: res.ec = make_error_code(errc::unsupported); break;
  }
  return res;
}

// Client side. A type that is not a v3 reply gives errc::unexpected_message.
inline error_code decode_reply(byte_view packet, reply& out) {
  if (packet.empty()) return make_error_code(errc::truncated);
  using namespace detail;
  switch (packet[0]) {
    case packet_type::version: return decode_into<version_reply>(packet, out);
    case packet_type::status: return decode_into<status_reply>(packet, out);
    case packet_type::handle: return decode_into<handle_reply>(packet, out);
    case packet_type::data: return decode_into<data_reply>(packet, out);
    case packet_type::name: return decode_into<name_reply>(packet, out);
    case packet_type::attrs: return decode_into<attrs_reply>(packet, out);
    case packet_type::extended_reply: return decode_into<extended_reply>(packet, out);
    default: return make_error_code(errc::unexpected_message);
  }
}

// The request id a reply answers (none for VERSION).
inline std::optional<std::uint32_t> request_id_of(const reply& r) {
  return std::visit(
      [](const auto& m) -> std::optional<std::uint32_t> {
        if constexpr (std::is_same_v<std::decay_t<decltype(m)>, version_reply>) return std::nullopt;
        else return m.request_id;
      },
      r);
}

// The extension pairs a server announces in VERSION for everything decode_request() knows
// (PROTOCOL §4.2: name and version number as ASCII).
inline extension_list known_extension_announcements() {
  extension_list l;
  auto add = [&](std::string_view n, std::string_view v) {
    l.pairs.push_back({std::string{n}, std::string{v}});
  };
  add(extension_of<posix_rename_request>, posix_rename_request::ext_version);
  add(extension_of<statvfs_request>, statvfs_request::ext_version);
  add(extension_of<fstatvfs_request>, fstatvfs_request::ext_version);
  add(extension_of<hardlink_request>, hardlink_request::ext_version);
  add(extension_of<fsync_request>, fsync_request::ext_version);
  add(extension_of<lsetstat_request>, lsetstat_request::ext_version);
  add(extension_of<limits_request>, limits_request::ext_version);
  add(extension_of<expand_path_request>, expand_path_request::ext_version);
  add(extension_of<copy_data_request>, copy_data_request::ext_version);
  add(extension_of<home_directory_request>, home_directory_request::ext_version);
  add(extension_of<users_groups_by_id_request>, users_groups_by_id_request::ext_version);
  return l;
}

}  // namespace ferry::sftp::proto
