// The few direct OpenSSL calls FTPS needs beyond boost::asio::ssl: taking the TLS session of the
// control connection and offering it on a data connection (RFC 4217 §10.2: servers such as vsftpd
// with require_ssl_reuse refuse data connections that do not resume the control session), and
// checking that it was resumed. The SSL handle is passed as the opaque pointer Asio exposes
// (ssl::stream::native_handle()); no OpenSSL header is included here.
#pragma once

#include <cstddef>

struct ssl_st;
struct ssl_session_st;

namespace ferry::crypto::tls {

// An owned reference to a TLS session (SSL_SESSION); empty when there is none.
class session {
 public:
  session() = default;
  explicit session(ssl_session_st* adopted) noexcept : s_(adopted) {}
  ~session();
  session(const session& o) noexcept;
  session& operator=(const session& o) noexcept;
  session(session&& o) noexcept : s_(o.s_) { o.s_ = nullptr; }
  session& operator=(session&& o) noexcept;

  explicit operator bool() const noexcept { return s_ != nullptr; }
  ssl_session_st* native() const noexcept { return s_; }
  // Whether the session may be offered for resumption (OpenSSL's SSL_SESSION_is_resumable).
  bool resumable() const noexcept;

 private:
  ssl_session_st* s_ = nullptr;
};

// The current session of an established connection (SSL_get1_session); empty if none.
session current_session(ssl_st* ssl) noexcept;
// Offers s for resumption in the next handshake on ssl (SSL_set_session); false on failure.
bool offer_session(ssl_st* ssl, const session& s) noexcept;
// Server side: how many TLS 1.3 session tickets to send after the handshake (SSL_set_num_tickets).
bool set_ticket_count(ssl_st* ssl, std::size_t n) noexcept;
// After a handshake: whether the offered session was resumed (SSL_session_reused).
bool session_reused(ssl_st* ssl) noexcept;
// Sets the SNI host name sent in the ClientHello (SSL_set_tlsext_host_name); false on failure.
bool set_server_name(ssl_st* ssl, const char* host) noexcept;
// Makes the handshake fail unless the peer's certificate is for host: an IP address literal is
// matched against the certificate's IP SANs, anything else as a DNS name (RFC 6125). Takes effect
// when the context verifies the peer (ssl::verify_peer). False if host cannot be set.
bool expect_peer_name(ssl_st* ssl, const char* host) noexcept;

}  // namespace ferry::crypto::tls
