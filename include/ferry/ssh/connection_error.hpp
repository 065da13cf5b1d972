// Errors of the SSH connection layer: a refused channel open carries the peer's RFC 4254 §5.1
// reason code in ssh::open_failure_category(); everything else is a channel_errc.
#pragma once

#include <ferry/core/error.hpp>
#include <ferry/ssh/proto/connection_messages.hpp>

#include <string>

namespace ferry::ssh {

using proto::open_failure_reason;

class open_failure_category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "ssh.channel_open"; }
  std::string message(int ev) const override {
    switch (static_cast<open_failure_reason>(ev)) {
      case open_failure_reason::administratively_prohibited: return "administratively prohibited";
      case open_failure_reason::connect_failed: return "connect failed";
      case open_failure_reason::unknown_channel_type: return "unknown channel type";
      case open_failure_reason::resource_shortage: return "resource shortage";
    }
    return "channel open failed";
  }
};

inline const boost::system::error_category& open_failure_category() noexcept {
  static const open_failure_category_impl cat;
  return cat;
}


}  // namespace ferry::ssh

namespace ferry::ssh::proto {
// Found by ADL for open_failure_reason (declared in proto).
inline error_code make_error_code(open_failure_reason r) noexcept {
  return {static_cast<int>(r), ssh::open_failure_category()};
}
}  // namespace ferry::ssh::proto

namespace ferry::ssh {

using proto::make_error_code;

enum class channel_errc {
  request_failed = 1,   // the peer answered a channel or global request with FAILURE
  channel_closed,       // the channel is closed (by either side) or its connection ended
  too_many_channels,    // the local channel table is full
  connection_closed,    // the connection ended before the operation could complete
  keepalive_timeout,    // the peer did not answer keepalives
  output_limit,         // a command's output went past the configured maximum
};

class channel_category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "ssh.channel"; }
  std::string message(int ev) const override {
    switch (static_cast<channel_errc>(ev)) {
      case channel_errc::request_failed: return "request refused by peer";
      case channel_errc::channel_closed: return "channel closed";
      case channel_errc::too_many_channels: return "too many channels";
      case channel_errc::connection_closed: return "connection closed";
      case channel_errc::keepalive_timeout: return "peer did not answer keepalives";
      case channel_errc::output_limit: return "command output above its limit";
    }
    return "unknown channel error";
  }
};

inline const boost::system::error_category& channel_category() noexcept {
  static const channel_category_impl cat;
  return cat;
}

inline error_code make_error_code(channel_errc e) noexcept {
  return {static_cast<int>(e), channel_category()};
}

}  // namespace ferry::ssh

template <>
struct boost::system::is_error_code_enum<ferry::ssh::channel_errc> : std::true_type {};
template <>
struct boost::system::is_error_code_enum<ferry::ssh::proto::open_failure_reason> : std::true_type {};
