// SSH transport errors: the RFC 4253 §11.1 disconnect reason codes as a Boost.System category.
// A connection that ends because of a DISCONNECT (sent or received) completes with the reason's
// code in this category; a local failure maps to the reason ferry sends to the peer.
#pragma once

#include <ferry/core/error.hpp>

#include <cstdint>
#include <string>

namespace ferry::ssh {

// RFC 4253 §11.1
enum class disconnect_reason : std::uint32_t {
  host_not_allowed_to_connect = 1,
  protocol_error = 2,
  key_exchange_failed = 3,
  reserved = 4,
  mac_error = 5,
  compression_error = 6,
  service_not_available = 7,
  protocol_version_not_supported = 8,
  host_key_not_verifiable = 9,
  connection_lost = 10,
  by_application = 11,
  too_many_connections = 12,
  auth_cancelled_by_user = 13,
  no_more_auth_methods_available = 14,
  illegal_user_name = 15,
};

class disconnect_category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "ssh.disconnect"; }
  std::string message(int ev) const override {
    switch (static_cast<disconnect_reason>(ev)) {
      case disconnect_reason::host_not_allowed_to_connect: return "host not allowed to connect";
      case disconnect_reason::protocol_error: return "protocol error";
      case disconnect_reason::key_exchange_failed: return "key exchange failed";
      case disconnect_reason::reserved: return "reserved";
      case disconnect_reason::mac_error: return "MAC error";
      case disconnect_reason::compression_error: return "compression error";
      case disconnect_reason::service_not_available: return "service not available";
      case disconnect_reason::protocol_version_not_supported:
        return "protocol version not supported";
      case disconnect_reason::host_key_not_verifiable: return "host key not verifiable";
      case disconnect_reason::connection_lost: return "connection lost";
      case disconnect_reason::by_application: return "disconnected by application";
      case disconnect_reason::too_many_connections: return "too many connections";
      case disconnect_reason::auth_cancelled_by_user: return "authentication cancelled by user";
      case disconnect_reason::no_more_auth_methods_available:
        return "no more authentication methods available";
      case disconnect_reason::illegal_user_name: return "illegal user name";
    }
    return "unknown disconnect reason";
  }
};

inline const boost::system::error_category& disconnect_category() noexcept {
  static const disconnect_category_impl cat;
  return cat;
}

inline error_code make_error_code(disconnect_reason r) noexcept {
  return {static_cast<int>(r), disconnect_category()};
}

// The reason sent to a peer for a local failure (RFC 4253 §11.1). Codes that already are
// disconnect reasons pass through; MAC/AEAD failures are mac_error; key agreement and signature
// failures are key_exchange_failed; everything else a peer can cause is a protocol error.
inline disconnect_reason reason_for(const error_code& ec) noexcept {
  if (ec.category() == disconnect_category()) return static_cast<disconnect_reason>(ec.value());
  if (ec == errc::auth_tag_mismatch) return disconnect_reason::mac_error;
  if (ec == errc::invalid_public_value || ec == errc::bad_signature || ec == errc::crypto_failure)
    return disconnect_reason::key_exchange_failed;
  return disconnect_reason::protocol_error;
}

}  // namespace ferry::ssh

template <>
struct boost::system::is_error_code_enum<ferry::ssh::disconnect_reason> : std::true_type {};
