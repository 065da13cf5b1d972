// The per-session rules around the packets (draft-ietf-secsh-filexfer-02 §4, §7): the version
// handshake, and which replies may answer which request. A client tracks its outstanding request
// ids here so that a reply with an unknown id, a repeated id or a type its request cannot have
// (HANDLE for a STAT, DATA for a REMOVE) is refused before it reaches the caller.
#pragma once

#include <ferry/core/error.hpp>
#include <ferry/sftp/proto/decode.hpp>

#include <cstdint>
#include <unordered_map>

namespace ferry::sftp::proto {

// The server's answer to INIT (§4): version 3 whatever the client offered (a v3 server cannot
// speak a later version, and OpenSSH's sftp-server also answers 3 to older clients), with the
// extensions decode_request() understands.
inline version_reply server_hello(const init_request&) {
  return {protocol_version, known_extension_announcements()};
}

// A client refuses a server below version 3; a later version cannot be answered with 3.
inline error_code check_server_version(const version_reply& v) noexcept {
  return v.version == protocol_version ? error_code{} : make_error_code(errc::unsupported);
}

// Bits for the reply types a request may get.
namespace reply_kind {
inline constexpr unsigned status = 1;
inline constexpr unsigned handle = 2;
inline constexpr unsigned data = 4;
inline constexpr unsigned name = 8;
inline constexpr unsigned attrs = 16;
inline constexpr unsigned extended = 32;

inline unsigned of(const reply& r) noexcept {
  return std::visit(
      [](const auto& m) -> unsigned {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, status_reply>) return status;
        else if constexpr (std::is_same_v<T, handle_reply>) return handle;
        else if constexpr (std::is_same_v<T, data_reply>) return data;
        else if constexpr (std::is_same_v<T, name_reply>) return name;
        else if constexpr (std::is_same_v<T, attrs_reply>) return attrs;
        else if constexpr (std::is_same_v<T, extended_reply>) return extended;
        else return 0;  // VERSION answers no request
      },
      r);
}
}  // namespace reply_kind

// §6-§8 and PROTOCOL §4: every request may fail with STATUS; on success OPEN/OPENDIR give HANDLE,
// READ gives DATA, READDIR/REALPATH (and expand-path, home-directory) give NAME, the stats give
// ATTRS, statvfs/fstatvfs/limits/users-groups-by-id give EXTENDED_REPLY. An unknown extension may
// answer with anything the extension defines.
inline unsigned allowed_replies(const request& r) noexcept {
  namespace k = reply_kind;
  return std::visit(
      [](const auto& m) -> unsigned {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, init_request>) return 0;
        else if constexpr (std::is_same_v<T, open_request> || std::is_same_v<T, opendir_request>)
          return k::status | k::handle;
        else if constexpr (std::is_same_v<T, read_request>) return k::status | k::data;
        else if constexpr (std::is_same_v<T, readdir_request> ||
                           std::is_same_v<T, realpath_request> ||
                           std::is_same_v<T, readlink_request> ||
                           std::is_same_v<T, expand_path_request> ||
                           std::is_same_v<T, home_directory_request>)
          return k::status | k::name;
        else if constexpr (std::is_same_v<T, stat_request> || std::is_same_v<T, lstat_request> ||
                           std::is_same_v<T, fstat_request>)
          return k::status | k::attrs;
        else if constexpr (std::is_same_v<T, statvfs_request> ||
                           std::is_same_v<T, fstatvfs_request> ||
                           std::is_same_v<T, limits_request> ||
                           std::is_same_v<T, users_groups_by_id_request>)
          return k::status | k::extended;
        else if constexpr (std::is_same_v<T, extended_request>)
          return k::status | k::handle | k::data | k::name | k::attrs | k::extended;
        else return k::status;
      },
      r);
}

// Client side: ids for new requests and the replies still owed.
class request_tracker {
 public:
  // Registers a request about to be sent and returns the id to put in it.
  std::uint32_t add(unsigned allowed) {
    auto id = next_++;
    pending_[id] = allowed;
    return id;
  }

  template <class Request>
  std::uint32_t add(Request& r) {
    r.request_id = add(allowed_replies(request{r}));
    return r.request_id;
  }

  // Checks a reply against its request and retires the id. errc::unexpected_message for a
  // VERSION after the handshake, an id with no request outstanding, or a type the request
  // cannot be answered with.
  error_code complete(const reply& r) {
    auto id = request_id_of(r);
    if (!id) return make_error_code(errc::unexpected_message);
    auto it = pending_.find(*id);
    if (it == pending_.end()) return make_error_code(errc::unexpected_message);
    bool fits = (it->second & reply_kind::of(r)) != 0;
    pending_.erase(it);
    return fits ? error_code{} : make_error_code(errc::unexpected_message);
  }

  // The same check from a reply's id and reply_kind bit (reply_kind::of_type of its type byte),
  // for a client that has not decoded the body yet. errc::unexpected_message as above.
  error_code complete(std::uint32_t id, unsigned kind) {
    auto it = pending_.find(id);
    if (it == pending_.end() || kind == 0) return make_error_code(errc::unexpected_message);
    bool fits = (it->second & kind) != 0;
    pending_.erase(it);
    return fits ? error_code{} : make_error_code(errc::unexpected_message);
  }

  // Whether a reply for id is still owed.
  bool is_outstanding(std::uint32_t id) const noexcept { return pending_.count(id) != 0; }

  std::size_t outstanding() const noexcept { return pending_.size(); }

 private:
  std::uint32_t next_ = 1;
  std::unordered_map<std::uint32_t, unsigned> pending_;
};

}  // namespace ferry::sftp::proto
