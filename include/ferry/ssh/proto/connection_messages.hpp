// SSH connection-protocol messages (RFC 4254, RFC 4335, OpenSSH PROTOCOL §2): one plain struct per
// message with its fields in wire order, for the core codec, and the typed payloads of channel
// opens, channel requests and global requests (decoded from the `data` remainder by a second
// decode of the matching struct).
#pragma once

#include <ferry/core/codec.hpp>
#include <ferry/core/limits.hpp>
#include <ferry/ssh/proto/messages.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>

namespace ferry::ssh::proto {

// RFC 4254 §9 message numbers.
namespace msg {
inline constexpr std::uint8_t global_request = 80;
inline constexpr std::uint8_t request_success = 81;
inline constexpr std::uint8_t request_failure = 82;
inline constexpr std::uint8_t channel_open = 90;
inline constexpr std::uint8_t channel_open_confirmation = 91;
inline constexpr std::uint8_t channel_open_failure = 92;
inline constexpr std::uint8_t channel_window_adjust = 93;
inline constexpr std::uint8_t channel_data = 94;
inline constexpr std::uint8_t channel_extended_data = 95;
inline constexpr std::uint8_t channel_eof = 96;
inline constexpr std::uint8_t channel_close = 97;
inline constexpr std::uint8_t channel_request = 98;
inline constexpr std::uint8_t channel_success = 99;
inline constexpr std::uint8_t channel_failure = 100;
}  // namespace msg

// RFC 4254 §5.1 reason codes of CHANNEL_OPEN_FAILURE.
enum class open_failure_reason : std::uint32_t {
  administratively_prohibited = 1,
  connect_failed = 2,
  unknown_channel_type = 3,
  resource_shortage = 4,
};

// RFC 4254 §5.2: SSH_EXTENDED_DATA_STDERR.
inline constexpr std::uint32_t extended_data_stderr = 1;

// Channel data as a view into the packet being decoded (no copy per DATA message); encodes as an
// SSH string. Valid only as long as the payload it was decoded from.
struct data_view {
  byte_view data;
};

inline void wire_encode(wire::writer& w, const data_view& d) { w.string(d.data); }
inline void wire_decode(wire::reader& r, data_view& d) { d.data = r.string(limits::max_packet); }

// --- RFC 4254 §4 global requests ------------------------------------------------------------

struct global_request {
  static constexpr std::uint8_t id = msg::global_request;
  std::string name;
  bool want_reply = false;
  wire::remainder data;
  template <class S>
  static auto fields(S& s) { return std::tie(s.name, s.want_reply, s.data); }
};

struct request_success {
  static constexpr std::uint8_t id = msg::request_success;
  wire::remainder data;
  template <class S>
  static auto fields(S& s) { return std::tie(s.data); }
};

struct request_failure {
  static constexpr std::uint8_t id = msg::request_failure;
  template <class S>
  static auto fields(S&) { return std::tie(); }
};

// --- RFC 4254 §5 channels -------------------------------------------------------------------

struct channel_open {
  static constexpr std::uint8_t id = msg::channel_open;
  std::string type;
  std::uint32_t sender_channel = 0;
  std::uint32_t initial_window = 0;
  std::uint32_t max_packet = 0;
  wire::remainder data;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.type, s.sender_channel, s.initial_window, s.max_packet, s.data);
  }
};

struct channel_open_confirmation {
  static constexpr std::uint8_t id = msg::channel_open_confirmation;
  std::uint32_t recipient_channel = 0;
  std::uint32_t sender_channel = 0;
  std::uint32_t initial_window = 0;
  std::uint32_t max_packet = 0;
  wire::remainder data;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.recipient_channel, s.sender_channel, s.initial_window, s.max_packet, s.data);
  }
};

struct channel_open_failure {
  static constexpr std::uint8_t id = msg::channel_open_failure;
  std::uint32_t recipient_channel = 0;
  std::uint32_t reason_code = 0;
  std::string description;
  std::optional<std::string> language_tag;  // some implementations leave it out
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.recipient_channel, s.reason_code, s.description, s.language_tag);
  }
};

struct channel_window_adjust {
  static constexpr std::uint8_t id = msg::channel_window_adjust;
  std::uint32_t recipient_channel = 0;
  std::uint32_t bytes_to_add = 0;
  template <class S>
  static auto fields(S& s) { return std::tie(s.recipient_channel, s.bytes_to_add); }
};

struct channel_data {
  static constexpr std::uint8_t id = msg::channel_data;
  std::uint32_t recipient_channel = 0;
  data_view data;
  template <class S>
  static auto fields(S& s) { return std::tie(s.recipient_channel, s.data); }
};

struct channel_extended_data {
  static constexpr std::uint8_t id = msg::channel_extended_data;
  std::uint32_t recipient_channel = 0;
  std::uint32_t data_type_code = extended_data_stderr;
  data_view data;
  template <class S>
  static auto fields(S& s) { return std::tie(s.recipient_channel, s.data_type_code, s.data); }
};

struct channel_eof {
  static constexpr std::uint8_t id = msg::channel_eof;
  std::uint32_t recipient_channel = 0;
  template <class S>
  static auto fields(S& s) { return std::tie(s.recipient_channel); }
};

struct channel_close {
  static constexpr std::uint8_t id = msg::channel_close;
  std::uint32_t recipient_channel = 0;
  template <class S>
  static auto fields(S& s) { return std::tie(s.recipient_channel); }
};

struct channel_request {
  static constexpr std::uint8_t id = msg::channel_request;
  std::uint32_t recipient_channel = 0;
  std::string type;
  bool want_reply = false;
  wire::remainder data;
  template <class S>
  static auto fields(S& s) { return std::tie(s.recipient_channel, s.type, s.want_reply, s.data); }
};

struct channel_success {
  static constexpr std::uint8_t id = msg::channel_success;
  std::uint32_t recipient_channel = 0;
  template <class S>
  static auto fields(S& s) { return std::tie(s.recipient_channel); }
};

struct channel_failure {
  static constexpr std::uint8_t id = msg::channel_failure;
  std::uint32_t recipient_channel = 0;
  template <class S>
  static auto fields(S& s) { return std::tie(s.recipient_channel); }
};

// --- channel-open payloads (the data after max_packet) ---------------------------------------

// RFC 4254 §7.2 "direct-tcpip"
struct direct_tcpip_open {
  std::string host_to_connect;
  std::uint32_t port_to_connect = 0;
  std::string originator_address;
  std::uint32_t originator_port = 0;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.host_to_connect, s.port_to_connect, s.originator_address, s.originator_port);
  }
};

// RFC 4254 §7.2 "forwarded-tcpip"
struct forwarded_tcpip_open {
  std::string connected_address;
  std::uint32_t connected_port = 0;
  std::string originator_address;
  std::uint32_t originator_port = 0;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.connected_address, s.connected_port, s.originator_address, s.originator_port);
  }
};

// OpenSSH PROTOCOL §2.4 "direct-streamlocal@openssh.com"
struct direct_streamlocal_open {
  std::string socket_path;
  std::string reserved;
  std::uint32_t reserved2 = 0;
  template <class S>
  static auto fields(S& s) { return std::tie(s.socket_path, s.reserved, s.reserved2); }
};

// OpenSSH PROTOCOL §2.4 "forwarded-streamlocal@openssh.com"
struct forwarded_streamlocal_open {
  std::string socket_path;
  std::string reserved;
  template <class S>
  static auto fields(S& s) { return std::tie(s.socket_path, s.reserved); }
};

// --- channel-request payloads (the data after want_reply) ------------------------------------

// RFC 4254 §6.2 "pty-req"
struct pty_request {
  std::string term;
  std::uint32_t columns = 80;
  std::uint32_t rows = 24;
  std::uint32_t width_pixels = 0;
  std::uint32_t height_pixels = 0;
  bytes modes;  // RFC 4254 §8 encoded terminal modes
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.term, s.columns, s.rows, s.width_pixels, s.height_pixels, s.modes);
  }
};

// RFC 4254 §6.4 "env"
struct env_request {
  std::string name;
  std::string value;
  template <class S>
  static auto fields(S& s) { return std::tie(s.name, s.value); }
};

// RFC 4254 §6.5 "exec"
struct exec_request {
  std::string command;
  template <class S>
  static auto fields(S& s) { return std::tie(s.command); }
};

// RFC 4254 §6.5 "subsystem"
struct subsystem_request {
  std::string name;
  template <class S>
  static auto fields(S& s) { return std::tie(s.name); }
};

// RFC 4254 §6.7 "window-change"
struct window_change_request {
  std::uint32_t columns = 0;
  std::uint32_t rows = 0;
  std::uint32_t width_pixels = 0;
  std::uint32_t height_pixels = 0;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.columns, s.rows, s.width_pixels, s.height_pixels);
  }
};

// RFC 4254 §6.8 "xon-xoff"
struct xon_xoff_request {
  bool client_can_do = false;
  template <class S>
  static auto fields(S& s) { return std::tie(s.client_can_do); }
};

// RFC 4254 §6.9 "signal" (signal name without the "SIG" prefix)
struct signal_request {
  std::string name;
  template <class S>
  static auto fields(S& s) { return std::tie(s.name); }
};

// RFC 4254 §6.10 "exit-status"
struct exit_status_request {
  std::uint32_t status = 0;
  template <class S>
  static auto fields(S& s) { return std::tie(s.status); }
};

// RFC 4254 §6.10 "exit-signal"
struct exit_signal_request {
  std::string signal;
  bool core_dumped = false;
  std::string message;
  std::string language_tag;
  template <class S>
  static auto fields(S& s) { return std::tie(s.signal, s.core_dumped, s.message, s.language_tag); }
};

// RFC 4335 §3 "break"
struct break_request {
  std::uint32_t length_ms = 0;
  template <class S>
  static auto fields(S& s) { return std::tie(s.length_ms); }
};

// --- global-request payloads -------------------------------------------------------------------

// RFC 4254 §7.1 "tcpip-forward" and "cancel-tcpip-forward"
struct tcpip_forward_request {
  std::string address;
  std::uint32_t port = 0;
  template <class S>
  static auto fields(S& s) { return std::tie(s.address, s.port); }
};

// RFC 4254 §7.1: the port the server bound, when the request asked for port 0.
struct tcpip_forward_reply {
  std::uint32_t port = 0;
  template <class S>
  static auto fields(S& s) { return std::tie(s.port); }
};

// OpenSSH PROTOCOL §2.4 "streamlocal-forward@openssh.com" / "cancel-streamlocal-forward@openssh.com"
struct streamlocal_forward_request {
  std::string socket_path;
  template <class S>
  static auto fields(S& s) { return std::tie(s.socket_path); }
};

// Names of the requests and channel types ferry knows.
namespace names {
inline constexpr std::string_view session = "session";
inline constexpr std::string_view direct_tcpip = "direct-tcpip";
inline constexpr std::string_view forwarded_tcpip = "forwarded-tcpip";
inline constexpr std::string_view direct_streamlocal = "direct-streamlocal@openssh.com";
inline constexpr std::string_view forwarded_streamlocal = "forwarded-streamlocal@openssh.com";
inline constexpr std::string_view pty_req = "pty-req";
inline constexpr std::string_view env = "env";
inline constexpr std::string_view shell = "shell";
inline constexpr std::string_view exec = "exec";
inline constexpr std::string_view subsystem = "subsystem";
inline constexpr std::string_view window_change = "window-change";
inline constexpr std::string_view xon_xoff = "xon-xoff";
inline constexpr std::string_view signal = "signal";
inline constexpr std::string_view exit_status = "exit-status";
inline constexpr std::string_view exit_signal = "exit-signal";
inline constexpr std::string_view break_ = "break";
inline constexpr std::string_view eow = "eow@openssh.com";
inline constexpr std::string_view keepalive = "keepalive@openssh.com";
inline constexpr std::string_view tcpip_forward = "tcpip-forward";
inline constexpr std::string_view cancel_tcpip_forward = "cancel-tcpip-forward";
inline constexpr std::string_view streamlocal_forward = "streamlocal-forward@openssh.com";
inline constexpr std::string_view cancel_streamlocal_forward =
    "cancel-streamlocal-forward@openssh.com";
inline constexpr std::string_view no_more_sessions = "no-more-sessions@openssh.com";
}  // namespace names

}  // namespace ferry::ssh::proto
