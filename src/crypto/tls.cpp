#include <ferry/crypto/tls.hpp>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace ferry::crypto::tls {

session::~session() {
  if (s_) SSL_SESSION_free(s_);
}

session::session(const session& o) noexcept : s_(o.s_) {
  if (s_) SSL_SESSION_up_ref(s_);
}

session& session::operator=(const session& o) noexcept {
  if (this != &o) {
    if (o.s_) SSL_SESSION_up_ref(o.s_);
    if (s_) SSL_SESSION_free(s_);
    s_ = o.s_;
  }
  return *this;
}

session& session::operator=(session&& o) noexcept {
  if (this != &o) {
    if (s_) SSL_SESSION_free(s_);
    s_ = o.s_;
    o.s_ = nullptr;
  }
  return *this;
}

bool session::resumable() const noexcept { return s_ && SSL_SESSION_is_resumable(s_) == 1; }

session current_session(ssl_st* ssl) noexcept {
  return ssl ? session{SSL_get1_session(ssl)} : session{};
}

bool offer_session(ssl_st* ssl, const session& s) noexcept {
  return ssl && s && SSL_set_session(ssl, s.native()) == 1;
}

bool set_ticket_count(ssl_st* ssl, std::size_t n) noexcept {
  return ssl && SSL_set_num_tickets(ssl, n) == 1;
}

bool session_reused(ssl_st* ssl) noexcept { return ssl && SSL_session_reused(ssl) == 1; }

bool set_server_name(ssl_st* ssl, const char* host) noexcept {
  return ssl && host && SSL_set_tlsext_host_name(ssl, host) == 1;
}

bool expect_peer_name(ssl_st* ssl, const char* host) noexcept {
  if (!ssl || !host || !*host) return false;
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  // set1_ip_asc accepts only IP literals; everything else is a host name.
  if (X509_VERIFY_PARAM_set1_ip_asc(param, host) == 1) return true;
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  return SSL_set1_host(ssl, host) == 1;
}

}  // namespace ferry::crypto::tls
