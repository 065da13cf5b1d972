// SFTP v3 building blocks shared by every packet family: packet type numbers, open flags, the
// handle string, extension name/data pairs and the fixed extension name of an SSH_FXP_EXTENDED
// request (draft-ietf-secsh-filexfer-02 §3, §4, §6.3, §8).
#pragma once

#include <ferry/core/codec.hpp>
#include <ferry/core/limits.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::sftp::proto {

// The version this implementation speaks (§4).
inline constexpr std::uint32_t protocol_version = 3;

// §3 packet types.
namespace packet_type {
inline constexpr std::uint8_t init = 1;
inline constexpr std::uint8_t version = 2;
inline constexpr std::uint8_t open = 3;
inline constexpr std::uint8_t close = 4;
inline constexpr std::uint8_t read = 5;
inline constexpr std::uint8_t write = 6;
inline constexpr std::uint8_t lstat = 7;
inline constexpr std::uint8_t fstat = 8;
inline constexpr std::uint8_t setstat = 9;
inline constexpr std::uint8_t fsetstat = 10;
inline constexpr std::uint8_t opendir = 11;
inline constexpr std::uint8_t readdir = 12;
inline constexpr std::uint8_t remove = 13;
inline constexpr std::uint8_t mkdir = 14;
inline constexpr std::uint8_t rmdir = 15;
inline constexpr std::uint8_t realpath = 16;
inline constexpr std::uint8_t stat = 17;
inline constexpr std::uint8_t rename = 18;
inline constexpr std::uint8_t readlink = 19;
inline constexpr std::uint8_t symlink = 20;
inline constexpr std::uint8_t status = 101;
inline constexpr std::uint8_t handle = 102;
inline constexpr std::uint8_t data = 103;
inline constexpr std::uint8_t name = 104;
inline constexpr std::uint8_t attrs = 105;
inline constexpr std::uint8_t extended = 200;
inline constexpr std::uint8_t extended_reply = 201;
}  // namespace packet_type

// §6.3 SSH_FXF_* pflags of SSH_FXP_OPEN.
namespace open_flags {
inline constexpr std::uint32_t read = 0x01;
inline constexpr std::uint32_t write = 0x02;
inline constexpr std::uint32_t append = 0x04;
inline constexpr std::uint32_t creat = 0x08;
inline constexpr std::uint32_t trunc = 0x10;
inline constexpr std::uint32_t excl = 0x20;
inline constexpr std::uint32_t all = 0x3f;
}  // namespace open_flags

// An opaque file or directory handle (§6.2: "string handle", at most 256 bytes). A custom wire
// type so that its own, smaller limit applies when it is read.
struct handle {
  std::string value;
  bool operator==(const handle&) const = default;
};

inline void wire_encode(wire::writer& w, const handle& h) { w.string(std::string_view{h.value}); }
inline void wire_decode(wire::reader& r, handle& h) {
  h.value = std::string{r.string_view(limits::sftp_max_handle)};
}

// A name/data pair: extensions in INIT/VERSION (§4) and extended attributes in ATTRS (§5).
struct extension_pair {
  std::string name;
  std::string data;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.name, s.data);
  }
  bool operator==(const extension_pair&) const = default;
};

// INIT/VERSION end with extension pairs that run to the end of the packet (§4); there is no
// count, so the pairs are read until the input is empty, at most limits::sftp_max_extensions.
struct extension_list {
  std::vector<extension_pair> pairs;
  bool operator==(const extension_list&) const = default;
};

inline void wire_encode(wire::writer& w, const extension_list& l) {
  for (const auto& p : l.pairs) wire::encode_fields(w, p);
}
inline void wire_decode(wire::reader& r, extension_list& l) {
  l.pairs.clear();
  while (r.ok() && !r.empty()) {
    if (l.pairs.size() == limits::sftp_max_extensions) return r.fail(errc::length_limit);
    extension_pair p;
    wire::decode_fields(r, p);
    if (r.ok()) l.pairs.push_back(std::move(p));
  }
}

// A string literal usable as a template argument (the extension names below).
template <std::size_t N>
struct fixed_string {
  char chars[N]{};
  constexpr fixed_string(const char (&s)[N]) { std::copy_n(s, N, chars); }
  constexpr std::string_view view() const { return {chars, N - 1}; }
};

// The "extended-request" string of an SSH_FXP_EXTENDED packet (§8) fixed to one name: it encodes
// as that string and refuses any other name when decoded (errc::unexpected_message).
template <fixed_string Name>
struct extension_name {
  static constexpr std::string_view value() { return Name.view(); }
  bool operator==(const extension_name&) const = default;
};

template <fixed_string Name>
void wire_encode(wire::writer& w, const extension_name<Name>&) {
  w.string(Name.view());
}
template <fixed_string Name>
void wire_decode(wire::reader& r, extension_name<Name>&) {
  auto s = r.string_view();
  if (r.ok() && s != Name.view()) r.fail(errc::unexpected_message);
}

}  // namespace ferry::sftp::proto
