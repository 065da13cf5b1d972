// Plain data exchanged with a filesystem backend: attributes (what SFTP v3 ATTRS and FTP MLSx facts
// need), the changes setstat applies, open modes, directory entries, statvfs figures, handles and a
// user's view (root and home).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace ferry::fs {

// File type and permission bits as in st_mode (POSIX values, which SFTP v3 also uses on the wire:
// draft-ietf-secsh-filexfer-02 §5 "permissions").
namespace mode {
inline constexpr std::uint32_t type_mask = 0170000;
inline constexpr std::uint32_t socket = 0140000;
inline constexpr std::uint32_t symlink = 0120000;
inline constexpr std::uint32_t regular = 0100000;
inline constexpr std::uint32_t block_device = 0060000;
inline constexpr std::uint32_t directory = 0040000;
inline constexpr std::uint32_t char_device = 0020000;
inline constexpr std::uint32_t fifo = 0010000;
inline constexpr std::uint32_t permission_mask = 07777;
}  // namespace mode

struct attributes {
  std::uint64_t size = 0;
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::optional<std::string> owner;  // names, when the backend knows them
  std::optional<std::string> group;
  std::uint32_t permissions = 0;  // the full st_mode: type bits and permission bits
  std::int64_t atime = 0;         // seconds since the epoch
  std::int64_t mtime = 0;
  std::optional<std::uint32_t> atime_nsec;
  std::optional<std::uint32_t> mtime_nsec;
  std::uint64_t link_count = 1;

  std::uint32_t type() const noexcept { return permissions & mode::type_mask; }
  bool is_regular() const noexcept { return type() == mode::regular; }
  bool is_directory() const noexcept { return type() == mode::directory; }
  bool is_symlink() const noexcept { return type() == mode::symlink; }
};

// What setstat/fsetstat change; fields left empty are left alone. uid and gid go together (as in
// SFTP v3's UIDGID flag); a backend applies size, then owner, then permissions, then times.
struct set_attributes {
  std::optional<std::uint64_t> size;
  std::optional<std::uint32_t> uid;
  std::optional<std::uint32_t> gid;
  std::optional<std::uint32_t> permissions;  // only the 07777 bits are used
  std::optional<std::int64_t> atime;
  std::optional<std::int64_t> mtime;
};

// SFTP v3 SSH_FXF_* and POSIX open(2) flags in one place.
struct open_mode {
  bool read = false;
  bool write = false;
  bool append = false;     // every write goes to the end of the file, whatever its offset
  bool create = false;     // create if missing
  bool truncate = false;   // truncate to 0 if it exists (needs write)
  bool exclusive = false;  // with create: fail with EEXIST if the name exists (even as a symlink)
  std::uint32_t permissions = 0666;  // for a created file, before the backend's umask

  static open_mode read_only() { return {.read = true}; }
  static open_mode write_new() { return {.write = true, .create = true, .truncate = true}; }
};

struct dir_entry {
  std::string name;  // one component; "." and ".." are never returned
  attributes attrs;  // as lstat: a symlink is reported as a symlink
};

// statvfs(3) figures (the statvfs@openssh.com extension carries exactly these).
struct fs_stats {
  std::uint64_t block_size = 0;
  std::uint64_t fragment_size = 0;
  std::uint64_t blocks = 0;
  std::uint64_t blocks_free = 0;
  std::uint64_t blocks_available = 0;
  std::uint64_t files = 0;
  std::uint64_t files_free = 0;
  std::uint64_t files_available = 0;
  std::uint64_t fsid = 0;
  std::uint64_t flags = 0;  // bit 0: read-only, bit 1: nosuid (as the OpenSSH extension)
  std::uint64_t name_max = 255;
};

// An open file or directory. Values are unique per filesystem object for its lifetime.
struct handle {
  std::uint64_t id = 0;
  bool operator==(const handle&) const = default;
};

// Where a user lives inside a filesystem: root is the directory that becomes the user's "/" (in the
// parent's view), home the directory relative paths start from (in the user's own view).
struct user_view {
  std::string root = "/";
  std::string home = "/";
  bool read_only = false;
};

}  // namespace ferry::fs
