// io::pipe_stream: one Asio stream made of two file descriptors, one read and one written — a
// program's stdin/stdout (ferry-sftp-server, `scp -t` run by sshd) or the pipes to a child process.
// It models AsyncReadStream and AsyncWriteStream, so every ferry layer runs over it.
//
//   io::pipe_stream s{ex, STDIN_FILENO, STDOUT_FILENO};   // takes ownership of both
//   co_await sftp_server.async_run(s, use_awaitable);
//
// shutdown_send() closes the write side only (the peer sees EOF, replies can still be read);
// close() closes both.
#pragma once

#include <ferry/core/error.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <utility>

namespace ferry::io {

template <class Executor = boost::asio::any_io_executor>
class basic_pipe_stream {
 public:
  using executor_type = Executor;
  using descriptor = boost::asio::posix::basic_stream_descriptor<Executor>;

  // Takes ownership of both descriptors (they may be the same descriptor, e.g. a socketpair end:
  // it is then duplicated so each side can be closed on its own).
  basic_pipe_stream(const Executor& ex, int read_fd, int write_fd)
      : in_(ex, read_fd), out_(ex, read_fd == write_fd ? ::dup(write_fd) : write_fd) {}

  executor_type get_executor() noexcept { return in_.get_executor(); }

  descriptor& read_side() noexcept { return in_; }
  descriptor& write_side() noexcept { return out_; }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& b, Token&& token) {
    return in_.async_read_some(b, std::forward<Token>(token));
  }

  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& b, Token&& token) {
    return out_.async_write_some(b, std::forward<Token>(token));
  }

  void shutdown_send(error_code& ec) {
    ec = {};
    if (out_.is_open()) out_.close(ec);
  }

  void close(error_code& ec) {
    error_code a, b;
    if (in_.is_open()) in_.close(a);
    if (out_.is_open()) out_.close(b);
    ec = a ? a : b;
  }
  void close() {
    error_code ignored;
    close(ignored);
  }

  bool is_open() const noexcept { return in_.is_open() || out_.is_open(); }

 private:
  descriptor in_;
  descriptor out_;
};

using pipe_stream = basic_pipe_stream<>;

}  // namespace ferry::io
