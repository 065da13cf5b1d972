// SSH_FXP_EXTENDED requests (draft-ietf-secsh-filexfer-02 §8) and the OpenSSH extensions a v3
// server commonly offers (OpenSSH PROTOCOL §4.3-§4.12), with their SSH_FXP_EXTENDED_REPLY bodies.
//
// Each known request is a whole packet: type 200, request id, its fixed extension name (refused
// on decode if different), then its fields. A request whose name is not known decodes as the
// generic extended_request, so a server can answer SSH_FX_OP_UNSUPPORTED for its id.
#pragma once

#include <ferry/core/codec.hpp>
#include <ferry/core/limits.hpp>
#include <ferry/sftp/proto/attrs.hpp>
#include <ferry/sftp/proto/replies.hpp>
#include <ferry/sftp/proto/types.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::sftp::proto {

// §8: any extension, body unparsed.
struct extended_request {
  static constexpr std::uint8_t id = packet_type::extended;
  std::uint32_t request_id = 0;
  std::string name;
  wire::remainder data;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.request_id, s.name, s.data);
  }
  bool operator==(const extended_request&) const = default;
};

// PROTOCOL §4.3: rename(2) semantics (replaces an existing newpath). Answered with STATUS.
struct posix_rename_request {
  static constexpr std::uint8_t id = packet_type::extended;
  static constexpr std::string_view ext_version = "1";
  std::uint32_t request_id = 0;
  extension_name<"posix-rename@openssh.com"> name;
  std::string oldpath;
  std::string newpath;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.request_id, s.name, s.oldpath, s.newpath);
  }
  bool operator==(const posix_rename_request&) const = default;
};

// PROTOCOL §4.4: answered with statvfs_reply or STATUS.
struct statvfs_request {
  static constexpr std::uint8_t id = packet_type::extended;
  static constexpr std::string_view ext_version = "2";
  std::uint32_t request_id = 0;
  extension_name<"statvfs@openssh.com"> name;
  std::string path;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.request_id, s.name, s.path);
  }
  bool operator==(const statvfs_request&) const = default;
};

struct fstatvfs_request {
  static constexpr std::uint8_t id = packet_type::extended;
  static constexpr std::string_view ext_version = "2";
  std::uint32_t request_id = 0;
  extension_name<"fstatvfs@openssh.com"> name;
  proto::handle handle;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.request_id, s.name, s.handle);
  }
  bool operator==(const fstatvfs_request&) const = default;
};

// PROTOCOL §4.4 f_flag bits.
namespace statvfs_flags {
inline constexpr std::uint64_t read_only = 0x1;
inline constexpr std::uint64_t no_suid = 0x2;
}  // namespace statvfs_flags

struct statvfs_reply {
  static constexpr std::uint8_t id = packet_type::extended_reply;
  std::uint32_t request_id = 0;
  std::uint64_t bsize = 0;    // file system block size
  std::uint64_t frsize = 0;   // fundamental block size
  std::uint64_t blocks = 0;   // in frsize units
  std::uint64_t bfree = 0;    // free blocks
  std::uint64_t bavail = 0;   // free blocks for non-root
  std::uint64_t files = 0;    // inodes
  std::uint64_t ffree = 0;    // free inodes
  std::uint64_t favail = 0;   // free inodes for non-root
  std::uint64_t fsid = 0;
  std::uint64_t flag = 0;     // statvfs_flags
  std::uint64_t namemax = 0;  // longest file name
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.request_id, s.bsize, s.frsize, s.blocks, s.bfree, s.bavail, s.files,
                    s.ffree, s.favail, s.fsid, s.flag, s.namemax);
  }
  bool operator==(const statvfs_reply&) const = default;
};

// PROTOCOL §4.5: link(2). Answered with STATUS.
struct hardlink_request {
  static constexpr std::uint8_t id = packet_type::extended;
  static constexpr std::string_view ext_version = "1";
  std::uint32_t request_id = 0;
  extension_name<"hardlink@openssh.com"> name;
  std::string oldpath;
  std::string newpath;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.request_id, s.name, s.oldpath, s.newpath);
  }
  bool operator==(const hardlink_request&) const = default;
};

// PROTOCOL §4.6
struct fsync_request {
  static constexpr std::uint8_t id = packet_type::extended;
  static constexpr std::string_view ext_version = "1";
  std::uint32_t request_id = 0;
  extension_name<"fsync@openssh.com"> name;
  proto::handle handle;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.request_id, s.name, s.handle);
  }
  bool operator==(const fsync_request&) const = default;
};

// PROTOCOL §4.7: setstat that does not follow a final symlink.
struct lsetstat_request {
  static constexpr std::uint8_t id = packet_type::extended;
  static constexpr std::string_view ext_version = "1";
  std::uint32_t request_id = 0;
  extension_name<"lsetstat@openssh.com"> name;
  std::string path;
  proto::attrs attrs;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.request_id, s.name, s.path, s.attrs);
  }
  bool operator==(const lsetstat_request&) const = default;
};

// PROTOCOL §4.8
struct limits_request {
  static constexpr std::uint8_t id = packet_type::extended;
  static constexpr std::string_view ext_version = "1";
  std::uint32_t request_id = 0;
  extension_name<"limits@openssh.com"> name;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.request_id, s.name);
  }
  bool operator==(const limits_request&) const = default;
};

// 0 in a field means "no specific limit" (PROTOCOL §4.8).
struct limits_reply {
  static constexpr std::uint8_t id = packet_type::extended_reply;
  std::uint32_t request_id = 0;
  std::uint64_t max_packet_length = 0;
  std::uint64_t max_read_length = 0;
  std::uint64_t max_write_length = 0;
  std::uint64_t max_open_handles = 0;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.request_id, s.max_packet_length, s.max_read_length, s.max_write_length,
                    s.max_open_handles);
  }
  bool operator==(const limits_reply&) const = default;
};

// PROTOCOL §4.9: like REALPATH, with "~" and "~user" expanded; answered with NAME.
struct expand_path_request {
  static constexpr std::uint8_t id = packet_type::extended;
  static constexpr std::string_view ext_version = "1";
  std::uint32_t request_id = 0;
  extension_name<"expand-path@openssh.com"> name;
  std::string path;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.request_id, s.name, s.path);
  }
  bool operator==(const expand_path_request&) const = default;
};

// PROTOCOL §4.10 (draft-ietf-secsh-filexfer-extensions-00 §7): server-side copy between two open
// handles; length 0 copies to end of file. Answered with STATUS.
struct copy_data_request {
  static constexpr std::uint8_t id = packet_type::extended;
  static constexpr std::string_view ext_version = "1";
  std::uint32_t request_id = 0;
  extension_name<"copy-data"> name;
  proto::handle read_from_handle;
  std::uint64_t read_from_offset = 0;
  std::uint64_t read_data_length = 0;
  proto::handle write_to_handle;
  std::uint64_t write_to_offset = 0;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.request_id, s.name, s.read_from_handle, s.read_from_offset,
                    s.read_data_length, s.write_to_handle, s.write_to_offset);
  }
  bool operator==(const copy_data_request&) const = default;
};

// PROTOCOL §4.11: an empty username means the current user; answered with NAME.
struct home_directory_request {
  static constexpr std::uint8_t id = packet_type::extended;
  static constexpr std::string_view ext_version = "1";
  std::uint32_t request_id = 0;
  extension_name<"home-directory"> name;
  std::string username;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.request_id, s.name, s.username);
  }
  bool operator==(const home_directory_request&) const = default;
};

// PROTOCOL §4.12: "string uids" holds packed uint32s (so its length is a multiple of 4), and the
// reply's "string usernames" holds packed strings. Both lists are capped at limits::sftp_max_ids.
struct id_list {
  std::vector<std::uint32_t> ids;
  bool operator==(const id_list&) const = default;
};

inline void wire_encode(wire::writer& w, const id_list& l) {
  w.u32(static_cast<std::uint32_t>(l.ids.size() * 4));
  for (auto v : l.ids) w.u32(v);
}
inline void wire_decode(wire::reader& r, id_list& l) {
  l.ids.clear();
  auto s = r.string(limits::sftp_max_ids * 4);
  if (!r.ok()) return;
  if (s.size() % 4 != 0) return r.fail(errc::bad_value);
  wire::reader inner{s};
  l.ids.reserve(s.size() / 4);
  while (!inner.empty()) l.ids.push_back(inner.u32());
}

struct packed_names {
  std::vector<std::string> names;
  bool operator==(const packed_names&) const = default;
};

inline void wire_encode(wire::writer& w, const packed_names& l) {
  auto at = w.begin_string();
  for (const auto& n : l.names) w.string(std::string_view{n});
  w.end_string(at);
}
inline void wire_decode(wire::reader& r, packed_names& l) {
  l.names.clear();
  auto s = r.string();
  if (!r.ok()) return;
  wire::reader inner{s};
  while (inner.ok() && !inner.empty()) {
    if (l.names.size() == limits::sftp_max_ids) return r.fail(errc::length_limit);
    auto n = inner.string_view();
    if (inner.ok()) l.names.emplace_back(n);
  }
  if (!inner.ok()) r.fail(errc::truncated);
}

struct users_groups_by_id_request {
  static constexpr std::uint8_t id = packet_type::extended;
  static constexpr std::string_view ext_version = "1";
  std::uint32_t request_id = 0;
  extension_name<"users-groups-by-id@openssh.com"> name;
  id_list uids;
  id_list gids;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.request_id, s.name, s.uids, s.gids);
  }
  bool operator==(const users_groups_by_id_request&) const = default;
};

// Names in the order of the request's ids; "" for an id without a name.
struct users_groups_by_id_reply {
  static constexpr std::uint8_t id = packet_type::extended_reply;
  std::uint32_t request_id = 0;
  packed_names usernames;
  packed_names groupnames;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.request_id, s.usernames, s.groupnames);
  }
  bool operator==(const users_groups_by_id_reply&) const = default;
};

// The extension name of a request type, e.g. extension_of<posix_rename_request>.
template <class Request>
inline constexpr std::string_view extension_of = decltype(Request::name)::value();

// Reads a known reply body (statvfs_reply, limits_reply, users_groups_by_id_reply) out of the
// generic EXTENDED_REPLY the reply decoder produced; the client knows which one from the request.
template <class Reply>
error_code decode_extended_reply(const extended_reply& r, Reply& out) {
  return wire::decode(wire::encode(r), out);
}

}  // namespace ferry::sftp::proto
