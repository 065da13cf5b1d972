// One FTP data connection on the server side (RFC 959 §3.2-3.3): passive (PASV/EPSV: listen, then
// accept the client) or active (PORT/EPRT: connect to the client), optionally TLS (RFC 4217 §7-9).
// Safety rules live here: a passive connection from any address but the client's is refused and
// closed (port theft); a watchdog closes the connection when nothing moves for the data timeout.
#pragma once

#include <ferry/ftp/detail/coroutine_sanitize.hpp>

FERRY_COROUTINE_NO_SANITIZE_FUNCTION_BEGIN

#include <ferry/core/error.hpp>
#include <ferry/io/tls_stream.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

namespace ferry::ftp {

class data_channel : public std::enable_shared_from_this<data_channel> {
 public:
  using tcp = boost::asio::ip::tcp;
  template <class T>
  using awaitable = boost::asio::awaitable<T>;

  // ex: the session's strand; timeout: the data timeout (no progress for this long closes it).
  data_channel(boost::asio::any_io_executor ex, std::chrono::milliseconds timeout);
  ~data_channel();
  data_channel(const data_channel&) = delete;
  data_channel& operator=(const data_channel&) = delete;

  // Passive: listen on `local` at a port in [min, max] (0/0: any), tried in a random order.
  error_code listen(const boost::asio::ip::address& local, std::uint16_t min, std::uint16_t max,
                    std::uint16_t& port);
  // Active: connect to target later, from the control connection's local address.
  void set_active(tcp::endpoint target, boost::asio::ip::address local);
  bool passive() const noexcept { return acceptor_.has_value(); }

  // Accepts (passive) or connects (active). A passive connection whose address is not
  // expected_peer is closed and reported through on_refused (unless allow_foreign), and the wait
  // goes on for the real client.
  awaitable<error_code> establish(const boost::asio::ip::address& expected_peer, bool allow_foreign,
                                  std::function<void(const tcp::endpoint&)> on_refused);
  // Server-side TLS handshake; reused() tells whether the client resumed a session.
  awaitable<error_code> handshake(boost::asio::ssl::context& ctx);
  bool encrypted() const noexcept { return tls_.has_value(); }
  bool reused() const noexcept;

  // Reads until b is full or the stream ends (eof: clean end; with TLS, eof only after the
  // peer's close_notify, ssl::error::stream_truncated without it).
  awaitable<std::pair<error_code, std::size_t>> read(boost::asio::mutable_buffer b);
  awaitable<error_code> write(boost::asio::const_buffer b);
  // Sends count bytes (all up to the end of the file when empty) of the file open as fd from
  // offset with sendfile(2): no copy through user space. Plain TCP only (encrypted() false).
  // Returns what was sent; errc::not_supported when the kernel cannot sendfile from this file
  // and nothing was sent yet (the caller falls back to reads and writes).
  struct send_file_result {
    error_code ec;
    std::uint64_t sent = 0;
    bool read_failed = false;  // the error came from the file, not the network
  };
  awaitable<send_file_result> send_file(int fd, std::uint64_t offset,
                                        std::optional<std::uint64_t> count);
  // Receives until the peer's FIN into the file open as fd, from offset on, with splice(2)
  // socket -> pipe -> file: one copy in the kernel instead of recv() into a buffer and write()
  // from it. Plain TCP only. Returns what reached the file; errc::not_supported when the kernel
  // cannot splice here, after every byte taken from the socket has been written (the caller goes
  // on with reads and writes at offset + written).
  struct receive_file_result {
    error_code ec;
    std::uint64_t written = 0;
    bool write_failed = false;  // the error came from the file, not the network
  };
  awaitable<receive_file_result> receive_file(int fd, std::uint64_t offset);
  // Ends the connection properly: close_notify with TLS (RFC 4217 §12.6 needs it to mark the
  // true end of a file), FIN otherwise; then closes. Bounded by the data timeout.
  awaitable<void> finish();
  // Closes at once (ABOR, errors); pending operations fail.
  void close() noexcept;
  bool timed_out() const noexcept { return timed_out_; }
  std::uint64_t bytes() const noexcept { return bytes_; }

 private:
  void arm_watchdog();
  // Kernel-copy loops (sendfile, splice) rarely block on loopback: every 32 MiB moved they let
  // the other sessions of this thread run, then end (timed_out or operation_aborted) if the
  // watchdog or ABOR closed the channel meanwhile.
  awaitable<error_code> yield_now_and_then(std::uint64_t& since, std::uint64_t moved);
  tcp::socket& lowest() noexcept { return socket_; }

  boost::asio::any_io_executor ex_;
  std::chrono::milliseconds timeout_;
  std::optional<tcp::acceptor> acceptor_;
  std::optional<tcp::endpoint> active_target_;
  boost::asio::ip::address active_local_;
  tcp::socket socket_;
  // TLS that reads the socket directly, many records per recv() (io::tls_stream).
  std::optional<io::basic_tls_stream<tcp::socket&>> tls_;
  boost::asio::steady_timer watchdog_;
  std::uint64_t progress_ = 0;
  std::uint64_t seen_ = 0;
  std::uint64_t bytes_ = 0;
  bool timed_out_ = false;
  bool closed_ = false;
};

}  // namespace ferry::ftp

FERRY_COROUTINE_NO_SANITIZE_FUNCTION_END
