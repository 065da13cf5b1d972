// What a streaming SFTP server needs beyond the message structs (draft-ietf-secsh-filexfer-02 §3,
// §6.4): the frame length and the type and id at the head of a packet (read before the rest has
// arrived, so an oversized request can still be answered for its id), a WRITE decoded as a view
// (its data is handed to the filesystem without another copy), and the DATA reply header written
// in front of bytes read straight into the reply buffer.
#pragma once

#include <ferry/core/bytes.hpp>
#include <ferry/core/codec.hpp>
#include <ferry/core/error.hpp>
#include <ferry/core/limits.hpp>
#include <ferry/sftp/proto/types.hpp>

#include <cstdint>
#include <optional>
#include <string_view>

namespace ferry::sftp::proto {

// The uint32 length that starts every packet (§3), once its 4 bytes are there.
inline std::optional<std::uint32_t> frame_length(byte_view in) noexcept {
  if (in.size() < 4) return std::nullopt;
  return (std::uint32_t{in[0]} << 24) | (std::uint32_t{in[1]} << 16) |
         (std::uint32_t{in[2]} << 8) | std::uint32_t{in[3]};
}

// The type byte and, for every packet but INIT/VERSION, the request id that follow the length;
// `packet` starts at the type byte and may be only the first bytes of the packet.
struct packet_head {
  std::uint8_t type = 0;
  std::optional<std::uint32_t> request_id;
};

inline std::optional<packet_head> peek_head(byte_view packet) noexcept {
  if (packet.empty()) return std::nullopt;
  packet_head h;
  h.type = packet[0];
  if (h.type != packet_type::init && h.type != packet_type::version && packet.size() >= 5)
    h.request_id = (std::uint32_t{packet[1]} << 24) | (std::uint32_t{packet[2]} << 16) |
                   (std::uint32_t{packet[3]} << 8) | std::uint32_t{packet[4]};
  return h;
}

// §6.4 WRITE with its handle and data as views into the packet.
struct write_view {
  std::uint32_t request_id = 0;
  std::string_view handle;
  std::uint64_t offset = 0;
  byte_view data;
};

// Decodes one whole WRITE packet (type byte first); the same checks as write_request's decode.
inline error_code decode_write_view(byte_view packet, write_view& out) {
  wire::reader r{packet};
  if (r.u8() != packet_type::write && r.ok()) r.fail(errc::unexpected_message);
  out.request_id = r.u32();
  out.handle = r.string_view(limits::sftp_max_handle);
  out.offset = r.u64();
  out.data = r.string(limits::sftp_max_message);
  return r.finish();
}

// The 13 bytes in front of a DATA reply's bytes: length, type, request id, data length.
inline constexpr std::size_t data_reply_header_size = 13;

inline void encode_data_header(std::uint8_t* out, std::uint32_t request_id,
                               std::uint32_t data_length) noexcept {
  auto put = [](std::uint8_t* p, std::uint32_t v) {
    p[0] = std::uint8_t(v >> 24);
    p[1] = std::uint8_t(v >> 16);
    p[2] = std::uint8_t(v >> 8);
    p[3] = std::uint8_t(v);
  };
  put(out, data_length + 9);
  out[4] = packet_type::data;
  put(out + 5, request_id);
  put(out + 9, data_length);
}

}  // namespace ferry::sftp::proto
