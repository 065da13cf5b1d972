// io::tls_stream: TLS over a TCP socket for bulk data (FTPS data connections), an
// AsyncReadStream and AsyncWriteStream like asio::ssl::stream but cheaper: the socket is read up
// to 256 KiB per recv(), and the records written leave in sends of up to 256 KiB
// (crypto::tls::connection), where asio::ssl::stream makes one recv() or send() and two extra
// copies per 16 KiB record. Measured on FTPS downloads: a third less CPU in the receiver.
//
//   io::tls_stream tls{std::move(socket), ssl_context, io::tls_stream::role::client};
//   io::basic_tls_stream<tcp::socket&> over{socket, ...};   // the socket stays the caller's
//   co_await tls.async_handshake(use_awaitable);
//   auto n = co_await asio::async_read(tls, asio::buffer(buf), use_awaitable);
//
// Errors are those of asio::ssl::stream: eof after the peer's close_notify, ssl::error::
// stream_truncated when the connection ended without it. One operation at a time: a read and a
// write may not overlap (errc::operation_in_progress), unlike asio::ssl::stream. Cancelling the
// socket (next_layer().cancel() or close()) ends a pending operation with operation_aborted.
#pragma once

#include <ferry/core/error.hpp>
#include <ferry/crypto/tls.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/write.hpp>

#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>

namespace ferry::io {

// Socket: tcp::socket (owned) or tcp::socket& (borrowed, like asio::ssl::stream<tcp::socket&>).
template <class Socket>
class basic_tls_stream {
 public:
  using tcp = boost::asio::ip::tcp;
  using socket_type = std::remove_reference_t<Socket>;
  using executor_type = typename socket_type::executor_type;
  using role = crypto::tls::connection::role;

  // Takes (or refers to) the connected socket; ctx must outlive the stream.
  template <class Arg>
  basic_tls_stream(Arg&& socket, boost::asio::ssl::context& ctx, role r)
      : socket_(std::forward<Arg>(socket)),
        tls_(std::make_unique<crypto::tls::connection>(ctx.native_handle(), socket_.native_handle(), r)) {}

  executor_type get_executor() noexcept { return socket_.get_executor(); }
  socket_type& next_layer() noexcept { return socket_; }
  socket_type& lowest_layer() noexcept { return socket_; }
  // The SSL handle, for crypto::tls's session helpers (offer_session before the handshake).
  ssl_st* native_handle() const noexcept { return tls_->native_handle(); }

  // void(error_code)
  template <class Token>
  auto async_handshake(Token&& token) {
    return start<false>([](crypto::tls::connection& c, std::size_t) { return c.handshake(); },
                        std::forward<Token>(token));
  }

  // void(error_code, std::size_t): at least one byte, and as many as have arrived and fit.
  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    auto b = first_nonempty<boost::asio::mutable_buffer>(buffers);
    return start<true>(
        [b](crypto::tls::connection& c, std::size_t) {
          return c.read({static_cast<std::uint8_t*>(b.data()), b.size()});
        },
        std::forward<Token>(token), b.size() == 0);
  }

  // void(error_code, std::size_t): all of the first non-empty buffer, unless an error comes first.
  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    auto b = first_nonempty<boost::asio::const_buffer>(buffers);
    return start<true>(
        [b](crypto::tls::connection& c, std::size_t done) {
          return c.write({static_cast<const std::uint8_t*>(b.data()) + done, b.size() - done});
        },
        std::forward<Token>(token), b.size() == 0);
  }

  // void(error_code): close_notify sent, and the peer's received.
  template <class Token>
  auto async_shutdown(Token&& token) {
    return start<false>([](crypto::tls::connection& c, std::size_t) { return c.shutdown(); },
                        std::forward<Token>(token));
  }

 private:
  template <class Buffer, class Buffers>
  static Buffer first_nonempty(const Buffers& buffers) {
    auto end = boost::asio::buffer_sequence_end(buffers);
    for (auto it = boost::asio::buffer_sequence_begin(buffers); it != end; ++it)
      if (Buffer b{*it}; b.size() != 0) return b;
    return Buffer{};
  }

  template <bool Sized, class Token, class Step>
  auto start(Step step, Token&& token, bool empty_buffer = false) {
    using signature = std::conditional_t<Sized, void(error_code, std::size_t), void(error_code)>;
    return boost::asio::async_compose<Token, signature>(op<Sized, Step>{this, std::move(step), empty_buffer},
                                                        token, socket_);
  }

  // One operation: calls step(connection, bytes so far) until it has done its part, sending
  // the connection's output and waiting for input in between. Output always leaves before the
  // operation waits for input (a handshake flight) or completes (a write's records).
  template <bool Sized, class Step>
  struct op {
    using need = crypto::tls::connection::need;

    basic_tls_stream* stream;
    Step step;
    bool empty_buffer;
    enum class phase { start, sending, waiting, posted } at = phase::start;
    bool went_async = false;  // completing before that needs a post
    bool settled = false;     // step has nothing more to do, or failed
    crypto::tls::connection::result r{};

    template <class Self>
    void operator()(Self& self, error_code ec = {}, std::size_t = 0) {
      auto& tls = *stream->tls_;
      bool call_step = true;
      switch (at) {
        case phase::start:
          if (stream->busy_) {
            r.ec = make_error_code(boost::system::errc::operation_in_progress);
            return finish(self, false);
          }
          stream->busy_ = true;
          if (empty_buffer) return finish(self, true);
          break;
        case phase::sending:
          if (ec) {
            r.ec = ec;
            return finish(self, true);
          }
          tls.output_sent();
          if (settled) return finish(self, true);
          call_step = r.next == need::output;  // else the flight is out: wait for the answer
          break;
        case phase::waiting:
          // Readable, or the peer's FIN: the step finds out what arrived.
          if (ec && ec != boost::asio::error::eof) {
            r.ec = ec;
            return finish(self, true);
          }
          break;
        case phase::posted:
          return complete(self);
      }
      if (call_step) {
        // The connection reads the socket's descriptor itself: never once it is closed (the
        // number may belong to another socket by now). Closing happens on this strand, so the
        // descriptor cannot go away during the step.
        if (!stream->socket_.is_open()) {
          r.ec = boost::asio::error::bad_descriptor;
          return finish(self, true);
        }
        auto s = step(tls, r.bytes);
        r.ec = s.ec;
        r.bytes += s.bytes;
        r.next = s.next;
        // Bytes in hand complete a read (or a write of whole records) instead of waiting.
        if (r.bytes > 0 && r.next == need::input) r.next = need::nothing;
        settled = r.ec || r.next == need::nothing;
      }
      if (auto out = tls.output(); !out.empty()) {
        at = phase::sending;
        went_async = true;
        return boost::asio::async_write(stream->socket_, boost::asio::buffer(out.data(), out.size()),
                                        std::move(self));
      }
      if (settled) return finish(self, true);
      if (r.next == need::input) {
        at = phase::waiting;
        went_async = true;
        // A peek, not a wait: Asio tries it at once, so input that came meanwhile is not missed.
        return stream->socket_.async_receive(boost::asio::buffer(&stream->peek_, 1),
                                             socket_type::message_peek, std::move(self));
      }
      r.ec = make_error_code(boost::system::errc::protocol_error);  // need::output, nothing to send
      finish(self, true);
    }

    template <class Self>
    void finish(Self& self, bool release) {
      if (release) stream->busy_ = false;
      if (went_async) return complete(self);
      at = phase::posted;
      boost::asio::post(stream->socket_.get_executor(), std::move(self));
    }

    template <class Self>
    void complete(Self& self) {
      if constexpr (Sized)
        self.complete(r.ec, r.bytes);
      else
        self.complete(r.ec);
    }
  };

  Socket socket_;
  std::unique_ptr<crypto::tls::connection> tls_;
  bool busy_ = false;
  std::uint8_t peek_ = 0;  // where a readiness peek puts its byte (never read)
};

using tls_stream = basic_tls_stream<boost::asio::ip::tcp::socket>;

}  // namespace ferry::io
