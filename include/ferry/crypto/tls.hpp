// The few direct OpenSSL calls FTPS needs beyond boost::asio::ssl: taking the TLS session of the
// control connection and offering it on a data connection (RFC 4217 §10.2: servers such as vsftpd
// with require_ssl_reuse refuse data connections that do not resume the control session), and
// checking that it was resumed; and a TLS connection for bulk data that does its own socket I/O.
// The SSL handle is passed as the opaque pointer Asio exposes (ssl::stream::native_handle());
// no OpenSSL header is included here.
#pragma once

#include <ferry/core/bytes.hpp>
#include <ferry/core/error.hpp>

#include <cstddef>
#include <memory>

struct ssl_st;
struct ssl_ctx_st;
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

// ---- connection: TLS that reads its socket itself ------------------------------------------
//
// asio::ssl::stream moves every TLS record through a memory BIO pair and a 17 KiB buffer: one
// recv() or send() and two extra copies per 16 KiB record. A connection receives the socket
// itself, up to 256 KiB (many records) per recv(), and collects the records it produces in an
// output buffer that the caller sends in one write: one copy less each way, and a sixteenth of
// the system calls. It is sans-I/O towards the caller: each call does what it can without
// blocking and says what it waits for. io::tls_stream puts the Asio waits around it.
class connection {
 public:
  enum class role { client, server };
  // What the call waits for before it can go on: input (the socket must become readable) or
  // output (send output(), call output_sent(), then call again).
  enum class need { nothing, input, output };
  struct result {
    // asio::error::eof after the peer's close_notify; asio::ssl::error::stream_truncated when
    // the socket ended without one; OpenSSL's errors in asio's ssl category; socket errors.
    error_code ec;
    std::size_t bytes = 0;  // moved by this call
    need next = need::nothing;
  };
  // One recv() takes at most this much.
  static constexpr std::size_t input_buffer = 256 * 1024;
  // Output collects up to this much before a call asks for it to be sent.
  static constexpr std::size_t output_limit = 256 * 1024;

  // ctx: the SSL_CTX (asio::ssl::context::native_handle()); fd: a connected stream socket, not
  // owned, that this connection reads without blocking (recv with MSG_DONTWAIT).
  connection(ssl_ctx_st* ctx, int fd, role r);
  ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  ssl_st* native_handle() const noexcept;

  result handshake();
  // Decrypts as many records as have arrived, up to into.size() bytes. An error met after some
  // bytes is returned by the next call.
  result read(mutable_byte_view into);
  // Encrypts from into records in output(); need::output when output() is full.
  result write(byte_view from);
  // Sends close_notify, then waits for the peer's (application data still arriving is dropped).
  result shutdown();

  // Records produced and not yet sent, and telling that they were.
  byte_view output() const noexcept;
  void output_sent() noexcept;

  struct state;

 private:
  result finish(int rc, std::size_t bytes);
  std::unique_ptr<state> s_;
};

}  // namespace ferry::crypto::tls
