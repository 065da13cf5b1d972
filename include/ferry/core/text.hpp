// Small text helpers shared by the line-oriented formats (key lines, authorized_keys, known_hosts,
// users files, ssh_config): RFC 4648 base64, field splitting and trimming.
#pragma once

#include <ferry/core/bytes.hpp>

#include <string>
#include <string_view>

namespace ferry::text {

inline bool is_blank(char c) noexcept { return c == ' ' || c == '\t'; }

// Drops blanks and line ends (CR, LF) at both ends.
std::string_view trim(std::string_view s) noexcept;

// Returns the next blank-separated field of s and removes it (and the blanks before it) from s.
std::string_view next_field(std::string_view& s) noexcept;

// ASCII case-insensitive equality.
bool iequals(std::string_view a, std::string_view b) noexcept;

// RFC 4648 §4 base64; pad=false leaves out the '=' padding (as SHA256 fingerprints do).
std::string base64_encode(byte_view data, bool pad = true);

// Strict RFC 4648 §4 decoding: the standard alphabet only, '=' only at the end and only as much as
// the length needs (missing padding is accepted), and unused trailing bits must be zero, so every
// accepted text is the one canonical encoding of its bytes. Returns false on anything else.
bool base64_decode(std::string_view text, bytes& out);

}  // namespace ferry::text
