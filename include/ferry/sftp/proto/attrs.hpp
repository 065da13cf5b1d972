// SFTP v3 file attributes (draft-ietf-secsh-filexfer-02 §5): a flags word says which of the
// optional fields follow. Encoded through the codec's ADL hooks; unknown flag bits are refused,
// since a v3 peer cannot know the layout of what follows them.
//
//   uint32 flags
//   uint64 size            if flags & SIZE
//   uint32 uid, gid        if flags & UIDGID
//   uint32 permissions     if flags & PERMISSIONS
//   uint32 atime, mtime    if flags & ACMODTIME
//   uint32 extended_count, then count x (string type, string data)   if flags & EXTENDED
#pragma once

#include <ferry/core/codec.hpp>
#include <ferry/core/limits.hpp>
#include <ferry/sftp/proto/types.hpp>

#include <cstdint>
#include <optional>
#include <vector>

namespace ferry::sftp::proto {

namespace attr_flags {
inline constexpr std::uint32_t size = 0x00000001;
inline constexpr std::uint32_t uidgid = 0x00000002;
inline constexpr std::uint32_t permissions = 0x00000004;
inline constexpr std::uint32_t acmodtime = 0x00000008;
inline constexpr std::uint32_t extended = 0x80000000;
inline constexpr std::uint32_t known = size | uidgid | permissions | acmodtime | extended;
}  // namespace attr_flags

struct owner_ids {
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  bool operator==(const owner_ids&) const = default;
};

// Seconds since the epoch; v3 carries them as uint32.
struct file_times {
  std::uint32_t atime = 0;
  std::uint32_t mtime = 0;
  bool operator==(const file_times&) const = default;
};

// Each optional field is present exactly when its flag is set, so a decode/encode round trip
// gives back the same bytes (an EXTENDED flag with zero pairs is an empty vector, not nullopt).
struct attrs {
  std::optional<std::uint64_t> size;
  std::optional<owner_ids> ids;
  std::optional<std::uint32_t> permissions;  // st_mode: type and permission bits
  std::optional<file_times> times;
  std::optional<std::vector<extension_pair>> extended;

  std::uint32_t flags() const noexcept {
    std::uint32_t f = 0;
    if (size) f |= attr_flags::size;
    if (ids) f |= attr_flags::uidgid;
    if (permissions) f |= attr_flags::permissions;
    if (times) f |= attr_flags::acmodtime;
    if (extended) f |= attr_flags::extended;
    return f;
  }
  bool operator==(const attrs&) const = default;
};

inline void wire_encode(wire::writer& w, const attrs& a) {
  w.u32(a.flags());
  if (a.size) w.u64(*a.size);
  if (a.ids) {
    w.u32(a.ids->uid);
    w.u32(a.ids->gid);
  }
  if (a.permissions) w.u32(*a.permissions);
  if (a.times) {
    w.u32(a.times->atime);
    w.u32(a.times->mtime);
  }
  if (a.extended) {
    w.u32(static_cast<std::uint32_t>(a.extended->size()));
    for (const auto& p : *a.extended) wire::encode_fields(w, p);
  }
}

inline void wire_decode(wire::reader& r, attrs& a) {
  a = attrs{};
  auto flags = r.u32();
  if (!r.ok()) return;
  if (flags & ~attr_flags::known) return r.fail(errc::bad_value);
  if (flags & attr_flags::size) a.size = r.u64();
  if (flags & attr_flags::uidgid) {
    owner_ids ids;
    ids.uid = r.u32();
    ids.gid = r.u32();
    a.ids = ids;
  }
  if (flags & attr_flags::permissions) a.permissions = r.u32();
  if (flags & attr_flags::acmodtime) {
    file_times t;
    t.atime = r.u32();
    t.mtime = r.u32();
    a.times = t;
  }
  if (flags & attr_flags::extended) {
    auto count = r.u32();
    if (!r.ok()) return;
    if (count > limits::sftp_max_extensions) return r.fail(errc::length_limit);
    a.extended.emplace();
    a.extended->reserve(count);
    for (std::uint32_t i = 0; i < count && r.ok(); ++i) {
      extension_pair p;
      wire::decode_fields(r, p);
      a.extended->push_back(std::move(p));
    }
  }
}

}  // namespace ferry::sftp::proto
