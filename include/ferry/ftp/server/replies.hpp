// Reply codes and texts the server sends for filesystem errors and fixed queries (RFC 959 §4.2,
// §5.4), kept in one place so that every error gets the same, right reply.
#pragma once

#include <ferry/core/error.hpp>
#include <ferry/ftp/proto/server_arguments.hpp>

#include <string>
#include <string_view>

namespace ferry::ftp {

struct reply_text {
  int code;
  std::string_view text;
};

// A filesystem error as a reply: 550 for what does not exist or may not be touched, 553 for names
// the filesystem refuses, 452 for a full disk, 502 for what the backend cannot do, 451 otherwise.
reply_text fs_error_reply(const error_code& ec) noexcept;

// The 214 HELP text (the commands the server implements).
std::string help_text();

// The 211 FEAT reply (RFC 2389 §3.2) for a server with or without TLS.
std::string feat_reply(bool tls, const mlst_facts& facts, hash_name hash);

}  // namespace ferry::ftp
