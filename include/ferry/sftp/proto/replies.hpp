// SFTP v3 server replies (draft-ietf-secsh-filexfer-02 §7): STATUS, HANDLE, DATA, NAME, ATTRS, and
// the generic SSH_FXP_EXTENDED_REPLY (§8) whose body depends on the request it answers.
#pragma once

#include <ferry/core/codec.hpp>
#include <ferry/core/limits.hpp>
#include <ferry/sftp/proto/attrs.hpp>
#include <ferry/sftp/proto/status.hpp>
#include <ferry/sftp/proto/types.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ferry::sftp::proto {

// §7. The error message and language tag are in the v3 draft, but some old servers end the packet
// after the code, so both are optional trailing fields (present when bytes remain).
struct status_reply {
  static constexpr std::uint8_t id = packet_type::status;
  std::uint32_t request_id = 0;
  std::uint32_t code = 0;
  std::optional<std::string> message;
  std::optional<std::string> language_tag;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.request_id, s.code, s.message, s.language_tag);
  }
  bool operator==(const status_reply&) const = default;

  // The code as an error_code in the sftp category (ok gives no error).
  error_code error() const noexcept { return status_code(code); }
};

// A STATUS reply as a server sends it: code, message (the code's text when none is given) and
// an empty language tag.
inline status_reply make_status(std::uint32_t request_id, status s, std::string message = {}) {
  if (message.empty()) message = make_error_code(s).message();
  return {request_id, static_cast<std::uint32_t>(s), std::move(message), std::string{}};
}

struct handle_reply {
  static constexpr std::uint8_t id = packet_type::handle;
  std::uint32_t request_id = 0;
  proto::handle handle;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.request_id, s.handle);
  }
  bool operator==(const handle_reply&) const = default;
};

struct data_reply {
  static constexpr std::uint8_t id = packet_type::data;
  std::uint32_t request_id = 0;
  bytes data;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.request_id, s.data);
  }
  bool operator==(const data_reply&) const = default;
};

// One entry of a NAME reply: the longname is the `ls -l` line a v3 client shows (see longname.hpp).
struct name_entry {
  std::string filename;
  std::string longname;
  proto::attrs attrs;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.filename, s.longname, s.attrs);
  }
  bool operator==(const name_entry&) const = default;
};

// "uint32 count" followed by count entries; the count is checked against limits::sftp_max_names
// and against the bytes left (an entry takes at least 12) before anything is reserved.
struct name_entries {
  std::vector<name_entry> entries;
  bool operator==(const name_entries&) const = default;
};

inline void wire_encode(wire::writer& w, const name_entries& n) {
  w.u32(static_cast<std::uint32_t>(n.entries.size()));
  for (const auto& e : n.entries) wire::encode_fields(w, e);
}
inline void wire_decode(wire::reader& r, name_entries& n) {
  n.entries.clear();
  auto count = r.u32();
  if (!r.ok()) return;
  if (count > limits::sftp_max_names) return r.fail(errc::length_limit);
  if (count > r.remaining() / 12) return r.fail(errc::truncated);
  n.entries.reserve(count);
  for (std::uint32_t i = 0; i < count && r.ok(); ++i) {
    name_entry e;
    wire::decode_fields(r, e);
    n.entries.push_back(std::move(e));
  }
}

struct name_reply {
  static constexpr std::uint8_t id = packet_type::name;
  std::uint32_t request_id = 0;
  name_entries names;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.request_id, s.names);
  }
  bool operator==(const name_reply&) const = default;
};

struct attrs_reply {
  static constexpr std::uint8_t id = packet_type::attrs;
  std::uint32_t request_id = 0;
  proto::attrs attrs;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.request_id, s.attrs);
  }
  bool operator==(const attrs_reply&) const = default;
};

// §8: the body is request-specific; extensions.hpp has the known ones, and
// decode_extended_reply() reads one of them out of this.
struct extended_reply {
  static constexpr std::uint8_t id = packet_type::extended_reply;
  std::uint32_t request_id = 0;
  wire::remainder data;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.request_id, s.data);
  }
  bool operator==(const extended_reply&) const = default;
};

}  // namespace ferry::sftp::proto
