// SFTP v3 requests on paths (draft-ietf-secsh-filexfer-02 §6.5-§6.11): LSTAT, STAT, SETSTAT,
// REMOVE, MKDIR, RMDIR, REALPATH, RENAME, READLINK, SYMLINK.
#pragma once

#include <ferry/sftp/proto/attrs.hpp>
#include <ferry/sftp/proto/types.hpp>

#include <cstdint>
#include <string>

namespace ferry::sftp::proto {

// §6.8: LSTAT does not follow a final symlink, STAT does.
struct lstat_request {
  static constexpr std::uint8_t id = packet_type::lstat;
  std::uint32_t request_id = 0;
  std::string path;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.request_id, s.path);
  }
  bool operator==(const lstat_request&) const = default;
};

struct stat_request {
  static constexpr std::uint8_t id = packet_type::stat;
  std::uint32_t request_id = 0;
  std::string path;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.request_id, s.path);
  }
  bool operator==(const stat_request&) const = default;
};

// §6.9
struct setstat_request {
  static constexpr std::uint8_t id = packet_type::setstat;
  std::uint32_t request_id = 0;
  std::string path;
  proto::attrs attrs;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.request_id, s.path, s.attrs);
  }
  bool operator==(const setstat_request&) const = default;
};

// §6.5
struct remove_request {
  static constexpr std::uint8_t id = packet_type::remove;
  std::uint32_t request_id = 0;
  std::string filename;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.request_id, s.filename);
  }
  bool operator==(const remove_request&) const = default;
};

// §6.6
struct mkdir_request {
  static constexpr std::uint8_t id = packet_type::mkdir;
  std::uint32_t request_id = 0;
  std::string path;
  proto::attrs attrs;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.request_id, s.path, s.attrs);
  }
  bool operator==(const mkdir_request&) const = default;
};

struct rmdir_request {
  static constexpr std::uint8_t id = packet_type::rmdir;
  std::uint32_t request_id = 0;
  std::string path;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.request_id, s.path);
  }
  bool operator==(const rmdir_request&) const = default;
};

// §6.11: answered with a NAME of one entry (longname and attrs are dummies).
struct realpath_request {
  static constexpr std::uint8_t id = packet_type::realpath;
  std::uint32_t request_id = 0;
  std::string path;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.request_id, s.path);
  }
  bool operator==(const realpath_request&) const = default;
};

// §6.5: v3 RENAME fails if newpath exists (posix-rename@openssh.com overwrites).
struct rename_request {
  static constexpr std::uint8_t id = packet_type::rename;
  std::uint32_t request_id = 0;
  std::string oldpath;
  std::string newpath;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.request_id, s.oldpath, s.newpath);
  }
  bool operator==(const rename_request&) const = default;
};

// §6.10
struct readlink_request {
  static constexpr std::uint8_t id = packet_type::readlink;
  std::uint32_t request_id = 0;
  std::string path;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.request_id, s.path);
  }
  bool operator==(const readlink_request&) const = default;
};

// §6.10 specifies "string linkpath, string targetpath", but OpenSSH's sftp-server reads them the
// other way round, and every OpenSSH-compatible client sends them that way (PROTOCOL §4.1). This
// struct is the wire order everyone actually uses: the target (what the link points to) first,
// then the path of the link to create. A server applies symlink(target_path, link_path).
struct symlink_request {
  static constexpr std::uint8_t id = packet_type::symlink;
  std::uint32_t request_id = 0;
  std::string target_path;
  std::string link_path;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.request_id, s.target_path, s.link_path);
  }
  bool operator==(const symlink_request&) const = default;
};

}  // namespace ferry::sftp::proto
