// Allocation-free views of the two packets a bulk transfer moves by the thousand
// (draft-ietf-secsh-filexfer-02 §6.4, §7): a client reads DATA replies straight out of its receive
// buffer, and writes WRITE requests straight into its send buffer. The owning structs
// (data_reply, write_request) remain the general form; these produce and accept the same bytes.
#pragma once

#include <ferry/core/codec.hpp>
#include <ferry/core/error.hpp>
#include <ferry/core/limits.hpp>
#include <ferry/sftp/proto/session.hpp>
#include <ferry/sftp/proto/types.hpp>

#include <cstdint>

namespace ferry::sftp::proto {

// A byte string that is borrowed, not owned: encodes as an SSH string, decodes as a view into the
// input (valid as long as the input is). Bounded by the message limit.
struct string_view_field {
  byte_view value;
};

inline void wire_encode(wire::writer& w, const string_view_field& s) { w.string(s.value); }
inline void wire_decode(wire::reader& r, string_view_field& s) {
  s.value = r.string(limits::sftp_max_message);
}

// SSH_FXP_DATA with its data viewed in place.
struct data_reply_view {
  static constexpr std::uint8_t id = packet_type::data;
  std::uint32_t request_id = 0;
  string_view_field data;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.request_id, s.data);
  }
};

// SSH_FXP_WRITE whose data is borrowed from the caller.
struct write_request_view {
  static constexpr std::uint8_t id = packet_type::write;
  std::uint32_t request_id = 0;
  proto::handle handle;
  std::uint64_t offset = 0;
  string_view_field data;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.request_id, s.handle, s.offset, s.data);
  }
};

// SSH_FXP_WRITE up to its data: what precedes data_length bytes of data that the caller places
// right after it (a client reads a file straight into its send buffer there).
struct write_request_head {
  static constexpr std::uint8_t id = packet_type::write;
  std::uint32_t request_id = 0;
  proto::handle handle;
  std::uint64_t offset = 0;
  std::uint32_t data_length = 0;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.request_id, s.handle, s.offset, s.data_length);
  }
};

// Bytes the framed head of a WRITE takes (packet length included) for a handle of handle_size.
inline constexpr std::size_t write_packet_head_size(std::size_t handle_size) noexcept {
  return 4 + 1 + 4 + 4 + handle_size + 8 + 4;
}

// Encodes the framed head of a WRITE whose h.data_length data bytes follow it: the packet length
// counts them. out gets exactly write_packet_head_size(handle size) bytes.
inline void encode_write_head(bytes& out, const write_request_head& h) {
  wire::writer w{out};
  w.u32(static_cast<std::uint32_t>(write_packet_head_size(h.handle.value.size()) - 4 +
                                   h.data_length));
  wire::encode(out, h);
}

// Type byte and request id at the front of a reply packet, read before the body is decoded so the
// client can find the request it answers. errc::unexpected_message for VERSION (it answers no
// request) and for types that are not replies, errc::truncated when the id is cut short.
struct reply_header {
  std::uint8_t type = 0;
  std::uint32_t request_id = 0;
};

inline error_code peek_reply_header(byte_view packet, reply_header& h) {
  wire::reader r{packet};
  h.type = r.u8();
  h.request_id = r.u32();
  if (!r.ok()) return r.error();
  switch (h.type) {
    case packet_type::status:
    case packet_type::handle:
    case packet_type::data:
    case packet_type::name:
    case packet_type::attrs:
    case packet_type::extended_reply: return {};
    default: return make_error_code(errc::unexpected_message);
  }
}

namespace reply_kind {
// The reply_kind bit of a reply packet type (0 for anything that is not a reply to a request).
inline unsigned of_type(std::uint8_t type) noexcept {
  switch (type) {
    case packet_type::status: return status;
    case packet_type::handle: return handle;
    case packet_type::data: return data;
    case packet_type::name: return name;
    case packet_type::attrs: return attrs;
    case packet_type::extended_reply: return extended;
    default: return 0;
  }
}
}  // namespace reply_kind

// Bytes a DATA reply adds around its data (type, id, string length), and a WRITE request around
// its data plus its handle (type, id, handle length, offset, data length): what a client takes off
// the server's packet limits to size its blocks.
inline constexpr std::size_t data_reply_overhead = 1 + 4 + 4;
inline constexpr std::size_t write_request_overhead = 1 + 4 + 4 + 8 + 4;

}  // namespace ferry::sftp::proto
