#include <ferry/ftp/detail/coroutine_sanitize.hpp>

FERRY_COROUTINE_NO_SANITIZE_FUNCTION_BEGIN

#include <ferry/crypto/random.hpp>
#include <ferry/crypto/tls.hpp>
#include <ferry/ftp/server/control.hpp>
#include <ferry/ftp/server/data_channel.hpp>
#include <ferry/ftp/server/passive_ports.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/sendfile.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <limits>
#include <vector>

namespace ferry::ftp {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;

namespace {
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);
}

// --- control --------------------------------------------------------------------------------

tcp_control::tcp_control(asio::ip::tcp::socket s) : socket_(std::move(s)) {
  error_code ec;
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  socket_.set_option(asio::socket_base::out_of_band_inline(true), ec);
  auto r = socket_.remote_endpoint(ec);
  if (!ec) remote_ = r.address();
  auto l = socket_.local_endpoint(ec);
  if (!ec) local_ = l.address();
}

tcp_control::~tcp_control() { close(); }

ssl_st* tcp_control::tls_handle() noexcept { return tls_ ? tls_->native_handle() : nullptr; }

control_channel::awaitable<std::pair<error_code, std::size_t>> tcp_control::read_some(
    asio::mutable_buffer b) {
  error_code ec;
  std::size_t n = 0;
  if (tls_)
    std::tie(ec, n) = co_await tls_->async_read_some(b, nothrow);
  else
    std::tie(ec, n) = co_await socket_.async_read_some(b, nothrow);
  co_return std::pair{ec, n};
}

control_channel::awaitable<error_code> tcp_control::write(asio::const_buffer b) {
  error_code ec;
  if (tls_)
    std::tie(ec, std::ignore) = co_await asio::async_write(*tls_, b, nothrow);
  else
    std::tie(ec, std::ignore) = co_await asio::async_write(socket_, b, nothrow);
  co_return ec;
}

control_channel::awaitable<error_code> tcp_control::start_tls(ssl::context& ctx,
                                                              std::chrono::milliseconds timeout) {
  if (tls_) co_return make_error_code(boost::system::errc::operation_not_permitted);
  tls_.emplace(socket_, ctx);
  asio::steady_timer t{co_await asio::this_coro::executor};
  t.expires_after(timeout);
  t.async_wait([this](error_code ec) {
    if (!ec) {
      error_code ignored;
      socket_.close(ignored);
    }
  });
  auto [ec] = co_await tls_->async_handshake(ssl::stream_base::server, nothrow);
  t.cancel();
  co_return ec;
}

void tcp_control::close() noexcept {
  error_code ignored;
  socket_.close(ignored);
}

// --- data -----------------------------------------------------------------------------------

data_channel::data_channel(asio::any_io_executor ex, std::chrono::milliseconds timeout)
    : ex_(ex), timeout_(timeout), socket_(ex), watchdog_(ex) {}

data_channel::~data_channel() { close(); }

error_code data_channel::listen(const asio::ip::address& local, std::uint16_t min,
                                std::uint16_t max, std::uint16_t& port) {
  error_code ec;
  acceptor_.emplace(ex_);
  tcp::endpoint ep{local, 0};
  acceptor_->open(ep.protocol(), ec);
  if (ec) return ec;
  if (min == 0 || max < min) {
    acceptor_->bind(ep, ec);
  } else {
    // A random walk over the range (server/passive_ports.hpp says why).
    std::uint64_t r = 0;
    crypto::system_random().fill({reinterpret_cast<std::uint8_t*>(&r), sizeof r});
    passive_port_order order{min, max, r};
    ec = make_error_code(boost::system::errc::address_in_use);
    for (std::uint32_t i = 0; i < order.size() && ec; ++i) {
      ep.port(order[i]);
      ec = {};
      acceptor_->bind(ep, ec);
    }
  }
  if (!ec) acceptor_->listen(4, ec);
  if (!ec) port = acceptor_->local_endpoint(ec).port();
  if (ec) acceptor_.reset();
  return ec;
}

void data_channel::set_active(tcp::endpoint target, asio::ip::address local) {
  active_target_ = target;
  active_local_ = local;
}

void data_channel::arm_watchdog() {
  watchdog_.expires_after(timeout_);
  watchdog_.async_wait([w = weak_from_this()](error_code ec) {
    if (ec) return;
    auto self = w.lock();
    if (!self || self->closed_) return;
    if (self->progress_ == self->seen_) {
      self->timed_out_ = true;
      self->close();
      return;
    }
    self->seen_ = self->progress_;
    self->arm_watchdog();
  });
}

namespace {
asio::ip::address plain(const asio::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped())
    return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
  return a;
}
}  // namespace

data_channel::awaitable<error_code> data_channel::establish(
    const asio::ip::address& expected_peer, bool allow_foreign,
    std::function<void(const tcp::endpoint&)> on_refused) {
  if (closed_) co_return make_error_code(asio::error::operation_aborted);
  arm_watchdog();
  if (acceptor_) {
    for (;;) {
      tcp::endpoint from;
      auto [ec] = co_await acceptor_->async_accept(socket_, from, nothrow);
      if (ec) co_return timed_out_ ? make_error_code(asio::error::timed_out) : ec;
      if (allow_foreign || plain(from.address()) == plain(expected_peer)) break;
      // Port theft: someone else raced the client to the passive port. Refuse and keep waiting.
      if (on_refused) on_refused(from);
      error_code ignored;
      socket_.close(ignored);
    }
    error_code ignored;
    acceptor_->close(ignored);
    ++progress_;
    co_return error_code{};
  }
  if (!active_target_) co_return make_error_code(boost::system::errc::not_connected);
  error_code ec;
  socket_.open(active_target_->protocol(), ec);
  if (!ec) socket_.bind(tcp::endpoint{active_local_, 0}, ec);
  if (ec) co_return ec;
  std::tie(ec) = co_await socket_.async_connect(*active_target_, nothrow);
  if (ec) co_return timed_out_ ? make_error_code(asio::error::timed_out) : ec;
  ++progress_;
  co_return error_code{};
}

data_channel::awaitable<error_code> data_channel::handshake(ssl::context& ctx) {
  tls_.emplace(socket_, ctx, io::tls_stream::role::server);
  // No TLS 1.3 tickets on data connections: clients resume the control connection's session, and a
  // client that only uploads never reads tickets, so closing with them unread sends RST, which can
  // destroy its close_notify before we read it (curl and lftp uploads then fail with 426).
  crypto::tls::set_ticket_count(tls_->native_handle(), 0);
  auto [ec] = co_await tls_->async_handshake(nothrow);
  ++progress_;
  if (ec && timed_out_) ec = make_error_code(asio::error::timed_out);
  co_return ec;
}

bool data_channel::reused() const noexcept {
  return tls_ && crypto::tls::session_reused(tls_->native_handle());
}

data_channel::awaitable<std::pair<error_code, std::size_t>> data_channel::read(
    asio::mutable_buffer b) {
  std::size_t total = 0;
  error_code ec;
  while (total < b.size()) {
    std::size_t n = 0;
    if (tls_)
      std::tie(ec, n) = co_await tls_->async_read_some(b + total, nothrow);
    else
      std::tie(ec, n) = co_await socket_.async_read_some(b + total, nothrow);
    total += n;
    bytes_ += n;
    ++progress_;
    if (ec) break;
  }
  if (ec && timed_out_) ec = make_error_code(asio::error::timed_out);
  co_return std::pair{ec, total};
}

data_channel::awaitable<error_code> data_channel::write(asio::const_buffer b) {
  error_code ec;
  // Write in slices so that the watchdog sees progress on a slow but live client.
  constexpr std::size_t slice = 256 * 1024;
  while (b.size() > 0 && !ec) {
    auto part = asio::buffer(b.data(), std::min(b.size(), slice));
    std::size_t n = 0;
    if (tls_)
      std::tie(ec, n) = co_await asio::async_write(*tls_, part, nothrow);
    else
      std::tie(ec, n) = co_await asio::async_write(socket_, part, nothrow);
    b += n;
    bytes_ += n;
    ++progress_;
  }
  if (ec && timed_out_) ec = make_error_code(asio::error::timed_out);
  co_return ec;
}

data_channel::awaitable<error_code> data_channel::yield_now_and_then(std::uint64_t& since,
                                                                    std::uint64_t moved) {
  constexpr std::uint64_t yield_every = 32 * 1024 * 1024;
  since += moved;
  if (since < yield_every) co_return error_code{};
  since = 0;
  auto ex = co_await asio::this_coro::executor;
  co_await asio::post(ex, asio::use_awaitable);
  if (!closed_) co_return error_code{};
  co_return timed_out_ ? make_error_code(asio::error::timed_out)
                       : make_error_code(asio::error::operation_aborted);
}

data_channel::awaitable<data_channel::send_file_result> data_channel::send_file(
    int fd, std::uint64_t offset, std::optional<std::uint64_t> count) {
  send_file_result r;
  if (tls_) {
    r.ec = make_error_code(boost::system::errc::not_supported);
    co_return r;
  }
  socket_.native_non_blocking(true, r.ec);
  if (r.ec) co_return r;
  // Slices keep the watchdog fed and let other sessions on this thread run between them: on
  // loopback the socket rarely says EAGAIN, so without a yield one transfer would hold the
  // thread until the file ends.
  constexpr std::uint64_t slice = 4 * 1024 * 1024;
  std::uint64_t since_yield = 0;
  off_t off = off_t(offset);
  for (;;) {
    std::uint64_t want = slice;
    if (count) want = std::min(want, *count - r.sent);
    if (want == 0) break;
    auto n = ::sendfile(socket_.native_handle(), fd, &off, std::size_t(want));
    if (n > 0) {
      r.sent += std::uint64_t(n);
      bytes_ += std::uint64_t(n);
      ++progress_;
      if (auto yec = co_await yield_now_and_then(since_yield, std::uint64_t(n))) {
        r.ec = yec;
        co_return r;
      }
      continue;
    }
    if (n == 0) break;  // end of file
    int err = errno;
    if (err == EINTR) continue;
    if (err == EAGAIN || err == EWOULDBLOCK) {
      auto [wec] = co_await socket_.async_wait(tcp::socket::wait_write, nothrow);
      if (wec) {
        r.ec = timed_out_ ? make_error_code(asio::error::timed_out) : wec;
        co_return r;
      }
      continue;
    }
    if ((err == EINVAL || err == ENOSYS || err == EOPNOTSUPP) && r.sent == 0) {
      r.ec = make_error_code(boost::system::errc::not_supported);
      co_return r;
    }
    r.ec = error_code{err, boost::system::system_category()};
    // The socket's errors say the peer went; anything else came from reading the file.
    r.read_failed = !(err == EPIPE || err == ECONNRESET || err == ENOTCONN || err == EBADF ||
                      err == ETIMEDOUT);
    if (timed_out_) {
      r.ec = make_error_code(asio::error::timed_out);
      r.read_failed = false;
    }
    co_return r;
  }
  co_return r;
}

namespace {
// Both ends of a pipe, closed when it goes.
struct pipe_ends {
  int r = -1;
  int w = -1;
  pipe_ends() = default;
  pipe_ends(const pipe_ends&) = delete;
  pipe_ends& operator=(const pipe_ends&) = delete;
  ~pipe_ends() {
    if (r >= 0) ::close(r);
    if (w >= 0) ::close(w);
  }
};

// Writes the `left` bytes waiting in the pipe to fd at *off through a buffer: the file cannot
// take splice(2) (no splice_write), and those bytes already left the socket.
error_code copy_pipe_to_file(int pr, int fd, off_t& off, std::size_t left, std::uint64_t& written) {
  std::vector<char> buf(left);
  std::size_t got = 0;
  while (got < left) {
    auto n = ::read(pr, buf.data() + got, left - got);
    if (n > 0) {
      got += std::size_t(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return error_code{n < 0 ? errno : EIO, boost::system::system_category()};
  }
  std::size_t done = 0;
  while (done < left) {
    auto n = ::pwrite(fd, buf.data() + done, left - done, off);
    if (n > 0) {
      done += std::size_t(n);
      off += n;
      written += std::uint64_t(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return error_code{n < 0 ? errno : EIO, boost::system::system_category()};
  }
  return {};
}
}  // namespace

data_channel::awaitable<data_channel::receive_file_result> data_channel::receive_file(
    int fd, std::uint64_t offset) {
  receive_file_result r;
  const auto not_supported = make_error_code(boost::system::errc::not_supported);
  if (tls_ || offset > std::uint64_t(std::numeric_limits<off_t>::max())) {
    r.ec = not_supported;
    co_return r;
  }
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC | O_NONBLOCK) != 0) {
    r.ec = not_supported;
    co_return r;
  }
  pipe_ends pipe;
  pipe.r = ends[0];
  pipe.w = ends[1];
  // 1 MiB of pipe (256 pages instead of 16) moves more per call; the default works too.
  constexpr int pipe_size = 1024 * 1024;
  (void)::fcntl(pipe.w, F_SETPIPE_SZ, pipe_size);
  socket_.native_non_blocking(true, r.ec);
  if (r.ec) co_return r;
  // As in send_file: yield now and then so that other sessions on this thread run (on loopback
  // the socket rarely runs dry) and ABOR or the watchdog can stop the loop.
  std::uint64_t since_yield = 0;
  std::uint64_t taken = 0;  // bytes taken from the socket
  off_t off = off_t(offset);
  for (;;) {
    auto n = ::splice(socket_.native_handle(), nullptr, pipe.w, nullptr, std::size_t(pipe_size),
                      SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n > 0) {
      taken += std::uint64_t(n);
      bytes_ += std::uint64_t(n);
      ++progress_;
      // Empty the pipe into the file (it then holds nothing when the socket is read again, so
      // EAGAIN from that read always means "no data yet").
      auto left = std::size_t(n);
      while (left > 0) {
        auto m = ::splice(pipe.r, nullptr, fd, &off, left, SPLICE_F_MOVE);
        if (m > 0) {
          left -= std::size_t(m);
          r.written += std::uint64_t(m);
          continue;
        }
        int err = m < 0 ? errno : EIO;
        if (err == EINTR) continue;
        if (err == EINVAL && r.written == 0) {
          // This file takes no splice: write what the pipe holds, the caller does the rest.
          r.ec = copy_pipe_to_file(pipe.r, fd, off, left, r.written);
          r.write_failed = bool(r.ec);
          if (!r.ec) r.ec = not_supported;
          co_return r;
        }
        r.ec = error_code{err, boost::system::system_category()};
        r.write_failed = true;
        co_return r;
      }
      if (auto yec = co_await yield_now_and_then(since_yield, std::uint64_t(n))) {
        r.ec = yec;
        co_return r;
      }
      continue;
    }
    if (n == 0) break;  // the client's FIN: the end of the file
    int err = errno;
    if (err == EINTR) continue;
    if (err == EAGAIN || err == EWOULDBLOCK) {
      auto [wec] = co_await socket_.async_wait(tcp::socket::wait_read, nothrow);
      if (wec) {
        r.ec = timed_out_ ? make_error_code(asio::error::timed_out) : wec;
        co_return r;
      }
      continue;
    }
    if ((err == EINVAL || err == ENOSYS || err == EOPNOTSUPP) && taken == 0) {
      r.ec = not_supported;
      co_return r;
    }
    r.ec = timed_out_ ? make_error_code(asio::error::timed_out)
                      : error_code{err, boost::system::system_category()};
    co_return r;
  }
  co_return r;
}

data_channel::awaitable<void> data_channel::finish() {
  if (closed_) co_return;
  if (tls_) {
    // Sends close_notify and waits (bounded by the watchdog) for the client's; a client that
    // just closes is fine, the data has been sent.
    co_await tls_->async_shutdown(nothrow);
  } else {
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
  }
  close();
}

void data_channel::close() noexcept {
  closed_ = true;
  error_code ignored;
  watchdog_.cancel();
  if (acceptor_) acceptor_->close(ignored);
  socket_.close(ignored);
}

}  // namespace ferry::ftp

FERRY_COROUTINE_NO_SANITIZE_FUNCTION_END
