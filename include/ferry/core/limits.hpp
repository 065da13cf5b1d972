// Every length ferry accepts from a peer is checked against one of these before anything is
// allocated. Modules add their limits here so that the caps are all in one place.
#pragma once

#include <cstddef>

namespace ferry::limits {

// --- wire types (RFC 4251 §5) ---------------------------------------------------------------
// A single string field; the packet limit bounds it anyway, this also bounds nested encodings.
inline constexpr std::size_t max_string = 256 * 1024;
// A name-list as a whole, and the names in it (RFC 4251 §6: names are at most 64 characters).
inline constexpr std::size_t max_name_list = 16 * 1024;
inline constexpr std::size_t max_names = 256;
inline constexpr std::size_t max_name_length = 64;
// mpint magnitude: RSA 16384 bits (OpenSSH's SSHBUF_MAX_BIGNUM) plus a sign byte.
inline constexpr std::size_t max_mpint = 16384 / 8 + 1;

// --- SSH transport (RFC 4253) ---------------------------------------------------------------
// packet_length as read from the wire; RFC 4253 §6.1 requires at least 35000, OpenSSH uses 256 KiB.
inline constexpr std::size_t max_packet = 256 * 1024;
inline constexpr std::size_t max_identification_line = 255;  // RFC 4253 §4.2, CR LF included
inline constexpr std::size_t max_pre_banner_lines = 1024;     // as OpenSSH's client

// --- SFTP ------------------------------------------------------------------------------------
inline constexpr std::size_t sftp_max_message = 256 * 1024;

// --- FTP -------------------------------------------------------------------------------------
inline constexpr std::size_t ftp_max_line = 4096;

}  // namespace ferry::limits
