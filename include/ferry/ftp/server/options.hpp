// ftp::server configuration: TLS policy, data-connection policy (passive ports, masquerade
// address, active-mode safety), connection limits, login policy, timeouts, uploads and the log hook.
// Defaults are the safe choice; every number here is a policy knob, not a wire length (those are
// in core/limits.hpp).
#pragma once

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace ferry::ftp {

// What the log hook is told about.
struct server_event {
  enum class kind {
    login,           // a successful login (user)
    login_failed,    // a refused USER/PASS (user, detail)
    transfer,        // a finished RETR/STOR/APPE/STOU (user, path, bytes, seconds, detail=verb or error)
    refusal,         // a policy refusal: bounce, port theft, limits, TLS reuse, ALPACA cap (detail)
    disconnect,      // the session ended (detail: why)
  };
  kind what = kind::refusal;
  std::string user;
  std::string peer;  // numeric address of the control connection's client
  std::string path;
  std::uint64_t bytes = 0;
  double seconds = 0;
  bool ok = true;
  std::string detail;
};

struct server_options {
  // --- TLS (RFC 4217) ---------------------------------------------------------------------------
  // The TLS context used for AUTH TLS and the implicit port; null: no FTPS (AUTH is refused).
  // server::make_tls_context builds one with resumption on. Must outlive the server.
  boost::asio::ssl::context* tls_context = nullptr;
  // USER/PASS only after AUTH TLS (530 otherwise), and PROT P before any data transfer (521).
  bool require_tls_login = false;
  bool require_tls_data = false;
  // RFC 4217 §10.2: a protected data connection must resume the control connection's TLS session
  // (as vsftpd require_ssl_reuse and FileZilla Server do); proves the data connection comes from
  // the client that logged in. Python's ftplib cannot do it: switch off for such clients.
  bool require_session_reuse = true;

  // --- data connections ---------------------------------------------------------------------
  // Passive ports (inclusive); 0/0: any port the kernel picks.
  std::uint16_t passive_port_min = 0;
  std::uint16_t passive_port_max = 0;
  // The address announced in 227 replies (a NAT's public address); empty: the control
  // connection's local address.
  std::optional<boost::asio::ip::address_v4> masquerade_address;
  // Active mode (PORT/EPRT) is allowed only to the client's own address (no FTP bounce,
  // RFC 2577 §3) and, unless this is set, only to ports >= 1024 (RFC 2577 §3).
  bool allow_active = true;
  bool allow_active_low_ports = false;
  // Passive connections are accepted only from the control connection's address (port theft).
  bool allow_foreign_passive = false;
  std::size_t transfer_buffer_size = 1024 * 1024;

  // --- limits and login policy ----------------------------------------------------------------
  std::size_t max_connections = 512;
  std::size_t max_connections_per_ip = 32;
  unsigned max_login_failures = 3;  // then 421 and disconnect
  std::chrono::milliseconds login_failure_delay{std::chrono::seconds(1)};
  // Unknown or malformed commands tolerated before login (a cap against cross-protocol attacks
  // such as ALPACA, where an HTTP request is sent to the FTP port).
  unsigned max_unknown_commands_before_login = 4;

  // --- timeouts -----------------------------------------------------------------------------
  std::chrono::milliseconds login_timeout{std::chrono::seconds(60)};
  std::chrono::milliseconds idle_timeout{std::chrono::minutes(5)};
  // No progress on a data connection (connect, accept, handshake, read or write) for this long.
  std::chrono::milliseconds data_timeout{std::chrono::seconds(60)};

  // --- files ----------------------------------------------------------------------------------
  // STOR writes to a temporary name in the same directory and renames it over the final name
  // (posix_rename) only when the upload completed; a failed upload leaves no partial file.
  bool atomic_upload = false;
  std::uint32_t upload_permissions = 0666;  // before the backend's umask
  std::uint32_t mkdir_permissions = 0777;

  std::string banner = "ferry FTP server ready.";
  // Called for each server_event, from the network threads (must be thread-safe).
  std::function<void(const server_event&)> log;
};

}  // namespace ferry::ftp
