// sftp::server configuration: the policy knobs of OpenSSH's sftp-server (read-only, request allow
// and deny lists, umask) plus ferry's own (handle limit, read length, in-flight requests), the log
// hook and levels, and the name lookups used for `ls -l` owners and users-groups-by-id.
// Wire lengths are in core/limits.hpp; these are policy.
#pragma once

#include <ferry/core/limits.hpp>
#include <ferry/sftp/proto/decode.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::sftp {

// OpenSSH's log levels (sftp-server -l), in increasing verbosity.
enum class log_level { quiet, fatal, error, info, verbose, debug1, debug2, debug3 };

// "QUIET", "FATAL", "ERROR", "INFO", "VERBOSE", "DEBUG" (= DEBUG1), "DEBUG1".."DEBUG3", any case.
std::optional<log_level> parse_log_level(std::string_view name);
std::string_view to_string(log_level l) noexcept;

// The request names OpenSSH's sftp-server uses for -p/-P and prints for `-Q requests`, in its
// order: the v3 requests, then the extensions without their "@openssh.com".
std::span<const std::string_view> request_names() noexcept;

// The name of a decoded request ("" for INIT and for an unknown extension).
std::string_view request_name(const proto::request& r) noexcept;

// Whether a request (by name) changes the filesystem; refused in read-only mode. OPEN is not
// one of them: it is refused only when it asks to write, create or truncate.
bool request_writes(std::string_view name) noexcept;

// Splits "open,read,stat" into names (all of them kept, as OpenSSH does); false, with `bad` the
// first one, when a name is not in request_names() (it can never match).
bool parse_request_list(std::string_view list, std::vector<std::string>& out, std::string& bad);

// One file handle's traffic, reported when it is closed (or the session ends with it open).
struct transfer_record {
  std::string_view path;        // as the client opened it
  std::uint64_t bytes_read = 0;     // sent to the client (downloads)
  std::uint64_t bytes_written = 0;  // received from the client (uploads)
  double seconds = 0;               // from OPEN to CLOSE
  bool completed = true;            // closed by the client, and the close succeeded
};

struct server_options {
  // Every request that would change the filesystem is answered SSH_FX_PERMISSION_DENIED.
  bool read_only = false;
  // Open file and directory handles per session; OPEN/OPENDIR past it get SSH_FX_FAILURE.
  std::size_t max_handles = limits::sftp_server_default_handles;
  // Removed from the permissions of created files and directories (before the backend's own).
  std::uint32_t umask = 022;
  // Requests by name (request_names()): when allowed is not empty only those are served; denied
  // ones never are. Refused requests get SSH_FX_PERMISSION_DENIED.
  std::vector<std::string> allowed_requests;
  std::vector<std::string> denied_requests;
  // The longest READ answered (clamped to limits::sftp_server_max_read); advertised in
  // limits@openssh.com.
  std::size_t max_read_length = limits::sftp_server_max_read;
  // Requests served at once before the server stops reading (clamped to
  // limits::sftp_server_max_in_flight).
  std::size_t max_in_flight = 64;
  // WRITEs of one handle with disjoint ranges run at once (false: one at a time, in arrival
  // order, as OpenSSH's sftp-server does). Off by default: a server killed mid-upload with
  // WRITEs running at once can leave a later range written before an earlier one, a hole that a
  // size-based resume (reput) would keep. Without it, a killed upload is always a prefix.
  bool concurrent_writes = false;
  // The user this session serves: "~user" in expand-path and home-directory answer for this
  // name only.
  std::string user;
  // Names for uids and gids (`ls -l` owners when the backend gives none, users-groups-by-id);
  // empty: numbers in listings, and users-groups-by-id answers empty names.
  std::function<std::optional<std::string>(std::uint32_t)> user_name;
  std::function<std::optional<std::string>(std::uint32_t)> group_name;
  // Log messages at or below `level` go to `log` (none when it is empty).
  log_level level = log_level::error;
  std::function<void(log_level, std::string_view)> log;
  // Called for every file handle that moved data, when it ends (for a per-transfer log line).
  std::function<void(const transfer_record&)> on_transfer;
};

}  // namespace ferry::sftp
