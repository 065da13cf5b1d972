// The server's end of an FTP control connection (RFC 959 §2.3): a byte stream that may turn into
// TLS on AUTH TLS (RFC 4217 §4) or start as TLS (implicit FTPS). The session reads and writes
// through this interface only, so it runs over TCP (tcp_control) and, for tests and the fuzzer,
// over any in-memory stream (stream_control).
#pragma once

#include <ferry/ftp/detail/coroutine_sanitize.hpp>

FERRY_COROUTINE_NO_SANITIZE_FUNCTION_BEGIN

#include <ferry/core/error.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <utility>

namespace ferry::ftp {

class control_channel {
 public:
  template <class T>
  using awaitable = boost::asio::awaitable<T>;

  virtual ~control_channel() = default;
  virtual awaitable<std::pair<error_code, std::size_t>> read_some(boost::asio::mutable_buffer b) = 0;
  virtual awaitable<error_code> write(boost::asio::const_buffer b) = 0;
  // Server-side TLS handshake on the connection (AUTH TLS, or first thing for implicit FTPS).
  virtual awaitable<error_code> start_tls(boost::asio::ssl::context& ctx,
                                          std::chrono::milliseconds timeout) = 0;
  virtual bool encrypted() const noexcept = 0;
  // The control connection's SSL handle (opaque), null before TLS.
  virtual ssl_st* tls_handle() noexcept = 0;
  virtual boost::asio::ip::address remote_address() const = 0;
  virtual boost::asio::ip::address local_address() const = 0;
  virtual void close() noexcept = 0;
};

// A TCP control connection; TCP_NODELAY (replies are small and strictly alternate with commands)
// and SO_OOBINLINE (the urgent Telnet DM before ABOR stays in the stream, RFC 959 §4.1.3).
class tcp_control final : public control_channel {
 public:
  explicit tcp_control(boost::asio::ip::tcp::socket s);
  ~tcp_control() override;

  awaitable<std::pair<error_code, std::size_t>> read_some(boost::asio::mutable_buffer b) override;
  awaitable<error_code> write(boost::asio::const_buffer b) override;
  awaitable<error_code> start_tls(boost::asio::ssl::context& ctx,
                                  std::chrono::milliseconds timeout) override;
  bool encrypted() const noexcept override { return tls_.has_value(); }
  ssl_st* tls_handle() noexcept override;
  boost::asio::ip::address remote_address() const override { return remote_; }
  boost::asio::ip::address local_address() const override { return local_; }
  void close() noexcept override;

 private:
  boost::asio::ip::tcp::socket socket_;
  std::optional<boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>> tls_;
  boost::asio::ip::address remote_;
  boost::asio::ip::address local_;
};

// Any Asio stream (test::stream), with fixed addresses; no TLS.
template <class Stream>
class stream_control final : public control_channel {
 public:
  stream_control(Stream s, boost::asio::ip::address remote, boost::asio::ip::address local)
      : s_(std::move(s)), remote_(remote), local_(local) {}

  awaitable<std::pair<error_code, std::size_t>> read_some(boost::asio::mutable_buffer b) override {
    auto [ec, n] = co_await s_.async_read_some(b, boost::asio::as_tuple(boost::asio::use_awaitable));
    co_return std::pair{ec, n};
  }
  awaitable<error_code> write(boost::asio::const_buffer b) override {
    auto [ec, n] =
        co_await boost::asio::async_write(s_, b, boost::asio::as_tuple(boost::asio::use_awaitable));
    (void)n;
    co_return ec;
  }
  awaitable<error_code> start_tls(boost::asio::ssl::context&, std::chrono::milliseconds) override {
    co_return make_error_code(ferry::errc::unsupported);
  }
  bool encrypted() const noexcept override { return false; }
  ssl_st* tls_handle() noexcept override { return nullptr; }
  boost::asio::ip::address remote_address() const override { return remote_; }
  boost::asio::ip::address local_address() const override { return local_; }
  void close() noexcept override { s_.close(); }

 private:
  Stream s_;
  boost::asio::ip::address remote_;
  boost::asio::ip::address local_;
};

}  // namespace ferry::ftp

FERRY_COROUTINE_NO_SANITIZE_FUNCTION_END
