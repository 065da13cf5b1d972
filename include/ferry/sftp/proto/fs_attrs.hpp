// Conversions between SFTP v3 ATTRS / open flags (draft-ietf-secsh-filexfer-02 §5, §6.3) and the
// filesystem layer's plain data (fs/attributes.hpp), for a server answering from a Filesystem and
// a client handing results to one.
#pragma once

#include <ferry/fs/attributes.hpp>
#include <ferry/sftp/proto/attrs.hpp>
#include <ferry/sftp/proto/longname.hpp>
#include <ferry/sftp/proto/types.hpp>

#include <cstdint>
#include <limits>
#include <string>

namespace ferry::sftp::proto {

// v3 carries times as uint32 seconds: earlier times become 0, later ones saturate.
inline std::uint32_t to_v3_time(std::int64_t t) noexcept {
  if (t < 0) return 0;
  if (t > std::int64_t{std::numeric_limits<std::uint32_t>::max()})
    return std::numeric_limits<std::uint32_t>::max();
  return static_cast<std::uint32_t>(t);
}

// What a server sends for a file: every v3 field (OpenSSH's stat_to_attrib sets all four flags).
inline attrs to_attrs(const fs::attributes& a) {
  attrs out;
  out.size = a.size;
  out.ids = owner_ids{a.uid, a.gid};
  out.permissions = a.permissions;
  out.times = file_times{to_v3_time(a.atime), to_v3_time(a.mtime)};
  return out;
}

// A client's SETSTAT/FSETSTAT/MKDIR/OPEN attributes as the changes a backend applies. Only the
// permission bits of `permissions` are used (the type bits cannot be changed); extended pairs are
// not understood by v3 servers and are ignored, as OpenSSH's sftp-server does.
inline fs::set_attributes to_set_attributes(const attrs& a) {
  fs::set_attributes out;
  out.size = a.size;
  if (a.ids) {
    out.uid = a.ids->uid;
    out.gid = a.ids->gid;
  }
  if (a.permissions) out.permissions = *a.permissions & fs::mode::permission_mask;
  if (a.times) {
    out.atime = a.times->atime;
    out.mtime = a.times->mtime;
  }
  return out;
}

// §6.3 pflags plus the OPEN's attrs (for the mode of a created file). Unknown bits are ignored,
// as OpenSSH's flags_from_portable() does. EXCL only means something with CREAT.
inline fs::open_mode to_open_mode(std::uint32_t pflags, const attrs& a) {
  fs::open_mode m;
  m.read = pflags & open_flags::read;
  m.write = (pflags & open_flags::write) || (pflags & open_flags::append);
  m.append = pflags & open_flags::append;
  m.create = pflags & open_flags::creat;
  m.truncate = pflags & open_flags::trunc;
  m.exclusive = (pflags & open_flags::excl) && m.create;
  if (a.permissions) m.permissions = *a.permissions & fs::mode::permission_mask;
  return m;
}

inline std::uint32_t to_pflags(const fs::open_mode& m) noexcept {
  std::uint32_t f = 0;
  if (m.read) f |= open_flags::read;
  if (m.write) f |= open_flags::write;
  if (m.append) f |= open_flags::append;
  if (m.create) f |= open_flags::creat;
  if (m.truncate) f |= open_flags::trunc;
  if (m.exclusive) f |= open_flags::excl;
  return f;
}

// The longname of a directory entry (owner and group by name when the backend knows them, else
// by number, as OpenSSH's sftp-server does).
inline std::string format_longname(std::string_view name, const fs::attributes& a,
                                   std::int64_t now) {
  std::string owner = a.owner ? *a.owner : std::to_string(a.uid);
  std::string group = a.group ? *a.group : std::to_string(a.gid);
  longname_fields f;
  f.name = name;
  f.mode = a.permissions;
  f.link_count = a.link_count;
  f.owner = owner;
  f.group = group;
  f.size = a.size;
  f.mtime = a.mtime;
  return format_longname(f, now);
}

}  // namespace ferry::sftp::proto
