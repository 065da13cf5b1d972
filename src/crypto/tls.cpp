#include <ferry/crypto/tls.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <new>

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

// ---- connection ----------------------------------------------------------------------------

struct connection::state {
  SSL* ssl = nullptr;
  int fd = -1;
  // Bytes received and not yet taken by OpenSSL: in[in_pos, in_end). One recv() fills it; OpenSSL
  // then takes record headers and bodies from it. (OpenSSL's own read-ahead would recv() into its
  // record buffer directly, but 3.0 moves the unread rest of that buffer to its start before every
  // record, which costs more than this copy once the buffer holds more than one record.)
  std::unique_ptr<std::uint8_t[]> in = std::make_unique_for_overwrite<std::uint8_t[]>(connection::input_buffer);
  std::size_t in_pos = 0, in_end = 0;
  // Records not yet sent: out[0, out_len).
  std::unique_ptr<std::uint8_t[]> out = std::make_unique_for_overwrite<std::uint8_t[]>(connection::output_limit);
  std::size_t out_len = 0;
  bool eof = false;               // recv() returned 0
  int sys_error = 0;              // recv()'s errno when it failed
  result deferred;                // an error met by read() after it had bytes to return
  bool shutdown_sent = false;

  ~state() {
    if (ssl) SSL_free(ssl);
  }
};

namespace {

using state = connection::state;

state* state_of(BIO* b) { return static_cast<state*>(BIO_get_data(b)); }

// Hands OpenSSL received bytes, receiving up to input_buffer bytes at once when none are left.
int bio_read(BIO* b, char* into, std::size_t len, std::size_t* got) {
  BIO_clear_retry_flags(b);
  *got = 0;
  auto* s = state_of(b);
  while (s->in_pos == s->in_end) {
    ssize_t n = ::recv(s->fd, s->in.get(), connection::input_buffer, MSG_DONTWAIT);
    if (n > 0) {
      s->in_pos = 0;
      s->in_end = static_cast<std::size_t>(n);
      break;
    }
    if (n == 0) {
      s->eof = true;
      return 0;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      BIO_set_retry_read(b);
      return 0;
    }
    s->sys_error = errno;
    return 0;
  }
  std::size_t n = std::min(len, s->in_end - s->in_pos);
  std::memcpy(into, s->in.get() + s->in_pos, n);
  s->in_pos += n;
  *got = n;
  return 1;
}

// Collects records in the output buffer; asks for a retry once it holds output_limit bytes.
int bio_write(BIO* b, const char* from, std::size_t len, std::size_t* put) {
  BIO_clear_retry_flags(b);
  *put = 0;
  auto* s = state_of(b);
  std::size_t room = connection::output_limit - s->out_len;
  if (room == 0) {
    BIO_set_retry_write(b);
    return 0;
  }
  std::size_t n = std::min(room, len);
  std::memcpy(s->out.get() + s->out_len, from, n);
  s->out_len += n;
  *put = n;
  return 1;
}

long bio_ctrl(BIO* b, int cmd, long, void*) {
  switch (cmd) {
    case BIO_CTRL_FLUSH:  // the caller sends output() when a call returns
      return 1;
    case BIO_CTRL_EOF:
      return state_of(b)->eof ? 1 : 0;
    case BIO_CTRL_PENDING:
      return static_cast<long>(state_of(b)->in_end - state_of(b)->in_pos);
    case BIO_CTRL_WPENDING:
      return static_cast<long>(state_of(b)->out_len);
    default:
      return 0;
  }
}

int bio_create(BIO* b) {
  BIO_set_init(b, 1);
  return 1;
}

BIO_METHOD* socket_method() {
  static BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "ferry tls socket");
    if (!m || BIO_meth_set_read_ex(m, bio_read) != 1 || BIO_meth_set_write_ex(m, bio_write) != 1 ||
        BIO_meth_set_ctrl(m, bio_ctrl) != 1 || BIO_meth_set_create(m, bio_create) != 1)
      throw std::bad_alloc{};
    return m;
  }();
  return method;
}

}  // namespace

connection::connection(ssl_ctx_st* ctx, int fd, role r) : s_(std::make_unique<state>()) {
  s_->fd = fd;
  s_->ssl = SSL_new(ctx);
  BIO* bio = s_->ssl ? BIO_new(socket_method()) : nullptr;
  if (!bio) throw std::bad_alloc{};
  BIO_set_data(bio, s_.get());
  SSL_set_bio(s_->ssl, bio, bio);  // the SSL owns the BIO from here
  // Partial writes: SSL_write returns after each whole record, so a full output buffer never
  // leaves half a record to a caller that moves on.
  SSL_set_mode(s_->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (r == role::client)
    SSL_set_connect_state(s_->ssl);
  else
    SSL_set_accept_state(s_->ssl);
}

connection::~connection() = default;

ssl_st* connection::native_handle() const noexcept { return s_->ssl; }

byte_view connection::output() const noexcept { return {s_->out.get(), s_->out_len}; }

void connection::output_sent() noexcept { s_->out_len = 0; }

connection::result connection::finish(int rc, std::size_t bytes) {
  result r;
  r.bytes = bytes;
  if (rc == 1) return r;
  int code = SSL_get_error(s_->ssl, rc);
  unsigned long err = ERR_get_error();
  ERR_clear_error();
  switch (code) {
    case SSL_ERROR_WANT_READ:
      r.next = need::input;
      break;
    case SSL_ERROR_WANT_WRITE:
      r.next = need::output;
      break;
    case SSL_ERROR_ZERO_RETURN:
      r.ec = boost::asio::error::eof;
      break;
    case SSL_ERROR_SYSCALL:
      if (s_->sys_error != 0)
        r.ec = error_code(s_->sys_error, boost::system::system_category());
      else
        r.ec = boost::asio::ssl::error::stream_truncated;
      break;
    default:
      if (ERR_GET_LIB(err) == ERR_LIB_SSL && ERR_GET_REASON(err) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
        r.ec = boost::asio::ssl::error::stream_truncated;
      else if (err != 0)
        r.ec = error_code(static_cast<int>(err), boost::asio::error::get_ssl_category());
      else
        r.ec = make_error_code(boost::system::errc::protocol_error);
      break;
  }
  return r;
}

connection::result connection::handshake() {
  ERR_clear_error();
  return finish(SSL_do_handshake(s_->ssl), 0);
}

connection::result connection::read(mutable_byte_view into) {
  if (s_->deferred.ec) return s_->deferred;
  std::size_t total = 0;
  while (total < into.size()) {
    ERR_clear_error();
    std::size_t n = 0;
    int rc = SSL_read_ex(s_->ssl, into.data() + total, into.size() - total, &n);
    if (rc == 1) {
      total += n;
      continue;
    }
    auto r = finish(rc, total);
    if (total == 0) return r;
    if (r.ec) s_->deferred = result{r.ec, 0, need::nothing};  // hand out what was read first
    return result{{}, total, need::nothing};
  }
  return result{{}, total, need::nothing};
}

connection::result connection::write(byte_view from) {
  std::size_t total = 0;
  while (total < from.size()) {
    ERR_clear_error();
    std::size_t n = 0;
    int rc = SSL_write_ex(s_->ssl, from.data() + total, from.size() - total, &n);
    if (rc != 1) return finish(rc, total);
    total += n;
  }
  return result{{}, total, need::nothing};
}

connection::result connection::shutdown() {
  if (!s_->shutdown_sent) {
    ERR_clear_error();
    int rc = SSL_shutdown(s_->ssl);
    if (rc == 1) return {};  // the peer's close_notify had arrived already
    if (rc < 0) return finish(rc, 0);
    s_->shutdown_sent = true;
  }
  // Wait for the peer's close_notify, dropping any application data still on its way.
  std::uint8_t sink[4096];
  for (;;) {
    ERR_clear_error();
    std::size_t n = 0;
    int rc = SSL_read_ex(s_->ssl, sink, sizeof sink, &n);
    if (rc == 1) continue;
    auto r = finish(rc, 0);
    if (r.ec == boost::asio::error::eof) return {};
    return r;
  }
}

}  // namespace ferry::crypto::tls
