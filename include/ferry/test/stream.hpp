// An in-memory duplex Asio stream pair for tests: whatever one end writes, the other reads.
//
//   asio::io_context ioc;
//   test::fail_count fc{3};                       // the 4th I/O operation (0-based 3) fails
//   auto [client, server] = test::make_stream_pair(ioc.get_executor(), &fc);
//
// Both ends are AsyncReadStream + AsyncWriteStream. Completions are never invoked inline. A
// pending operation can be cancelled through its cancellation slot (operation_aborted). Each end
// can cap the bytes moved per operation (short reads/writes) and the bytes its peer may buffer
// towards it (a full buffer stalls the writer: back-pressure). shutdown_send() gives the peer EOF;
// close() also fails the peer's writes with broken_pipe. Use each end from one strand.
#pragma once

#include <ferry/core/bytes.hpp>
#include <ferry/core/error.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <limits>
#include <memory>
#include <mutex>
#include <utility>

namespace ferry::test {

// Counts I/O operations and makes the Nth one (0-based) and every later one fail with ec.
class fail_count {
 public:
  explicit fail_count(std::size_t n, error_code ec = make_error_code(errc::injected_failure))
      : n_(n), ec_(ec) {}

  bool fail(error_code& ec) noexcept {
    if (i_.fetch_add(1) < n_) return false;
    ec = ec_;
    return true;
  }

  std::size_t operations() const noexcept { return i_.load(); }

 private:
  std::size_t n_;
  std::atomic<std::size_t> i_{0};
  error_code ec_;
};

namespace detail {

// One direction of the pair: written by one end, read by the other.
struct pipe {
  std::mutex m;
  bytes data;
  std::size_t read_pos = 0;
  std::size_t capacity = std::numeric_limits<std::size_t>::max();
  bool write_closed = false;  // the writer shut down sending: the reader gets EOF once drained
  bool read_closed = false;   // the reader closed: writes fail with broken_pipe
  boost::asio::steady_timer* reader = nullptr;  // the reading end's wait timer, while it lives
  boost::asio::steady_timer* writer = nullptr;  // the writing end's wait timer, while it lives

  std::size_t buffered() const noexcept { return data.size() - read_pos; }
};

// Wakes whatever waits on *slot, on that timer's own executor, if the timer still exists then.
inline void wake(const std::shared_ptr<pipe>& p, boost::asio::steady_timer* pipe::*slot) {
  boost::asio::steady_timer* t = (*p).*slot;
  if (!t) return;
  boost::asio::post(t->get_executor(), [p, slot] {
    std::lock_guard lock{p->m};
    if (auto* timer = (*p).*slot) timer->cancel();
  });
}

}  // namespace detail

class stream {
 public:
  using executor_type = boost::asio::any_io_executor;

  stream(executor_type ex, std::shared_ptr<detail::pipe> in, std::shared_ptr<detail::pipe> out,
         fail_count* fc)
      : end_(std::make_shared<end>(ex, std::move(in), std::move(out), fc)) {
    {
      std::lock_guard lock{end_->in->m};
      end_->in->reader = &end_->read_timer;
    }
    std::lock_guard lock{end_->out->m};
    end_->out->writer = &end_->write_timer;
  }

  stream(stream&&) noexcept = default;
  stream& operator=(stream&&) = delete;

  ~stream() {
    if (!end_) return;
    close();
    {
      std::lock_guard lock{end_->in->m};
      end_->in->reader = nullptr;
    }
    std::lock_guard lock{end_->out->m};
    end_->out->writer = nullptr;
  }

  executor_type get_executor() const noexcept { return end_->read_timer.get_executor(); }

  // Caps the bytes one read or write moves (1 gives byte-at-a-time short reads).
  void set_max_read(std::size_t n) noexcept { end_->max_read = n; }
  void set_max_write(std::size_t n) noexcept { end_->max_write = n; }
  // Caps what the peer may have buffered towards this end before its writes wait.
  void set_receive_capacity(std::size_t n) {
    std::lock_guard lock{end_->in->m};
    end_->in->capacity = n;
  }
  // Bytes written by the peer and not read yet by this end.
  std::size_t available() const {
    std::lock_guard lock{end_->in->m};
    return end_->in->buffered();
  }

  // Half close: the peer reads EOF once it has drained what was sent.
  void shutdown_send() {
    std::lock_guard lock{end_->out->m};
    end_->out->write_closed = true;
    detail::wake(end_->out, &detail::pipe::reader);
  }

  // Full close: the peer reads EOF, the peer's writes fail, this end's pending operations abort.
  void close() {
    shutdown_send();
    {
      std::lock_guard lock{end_->in->m};
      end_->in->read_closed = true;
      detail::wake(end_->in, &detail::pipe::writer);
    }
    end_->closed = true;
    end_->read_timer.cancel();
    end_->write_timer.cancel();
  }

  bool is_open() const noexcept { return !end_->closed; }

  template <class MutableBufferSequence, class Token>
  auto async_read_some(const MutableBufferSequence& buffers, Token&& token) {
    return boost::asio::async_compose<Token, void(error_code, std::size_t)>(
        read_op<MutableBufferSequence>{end_, buffers}, token, end_->read_timer);
  }

  template <class ConstBufferSequence, class Token>
  auto async_write_some(const ConstBufferSequence& buffers, Token&& token) {
    return boost::asio::async_compose<Token, void(error_code, std::size_t)>(
        write_op<ConstBufferSequence>{end_, buffers}, token, end_->write_timer);
  }

 private:
  struct end {
    end(executor_type ex, std::shared_ptr<detail::pipe> i, std::shared_ptr<detail::pipe> o,
        fail_count* f)
        : read_timer(ex), write_timer(ex), in(std::move(i)), out(std::move(o)), fc(f) {}
    boost::asio::steady_timer read_timer;
    boost::asio::steady_timer write_timer;
    std::shared_ptr<detail::pipe> in;
    std::shared_ptr<detail::pipe> out;
    fail_count* fc;
    std::size_t max_read = std::numeric_limits<std::size_t>::max();
    std::size_t max_write = std::numeric_limits<std::size_t>::max();
    bool closed = false;
  };

  // Shared shape of both operations: the first step only posts (no inline completion); each later
  // step tries the transfer and otherwise waits on the end's timer, which the peer cancels to wake.
  template <class Derived>
  struct op_base {
    std::shared_ptr<end> e;  // kept alive until the operation completes
    bool started = false;

    template <class Self>
    void operator()(Self& self, error_code ec = {}) {
      if (!started) {
        started = true;
        boost::asio::post(std::move(self));
        return;
      }
      if (ec == boost::asio::error::operation_aborted &&
          self.cancelled() != boost::asio::cancellation_type::none) {
        return self.complete(boost::asio::error::operation_aborted, 0);
      }
      if (e->closed) return self.complete(boost::asio::error::operation_aborted, 0);
      error_code fec;
      if (e->fc && e->fc->fail(fec)) return self.complete(fec, 0);
      std::size_t n = 0;
      if (static_cast<Derived*>(this)->attempt(fec, n)) return self.complete(fec, n);
      auto& timer = static_cast<Derived*>(this)->timer();
      timer.expires_at(boost::asio::steady_timer::time_point::max());
      timer.async_wait(std::move(self));
    }
  };

  template <class Buffers>
  struct read_op : op_base<read_op<Buffers>> {
    Buffers buffers;
    read_op(std::shared_ptr<end> owner, const Buffers& b) : op_base<read_op<Buffers>>{std::move(owner)}, buffers(b) {}
    boost::asio::steady_timer& timer() { return this->e->read_timer; }

    // True when the operation is done (data, EOF or an empty buffer); false to wait.
    bool attempt(error_code& ec, std::size_t& n) {
      auto& p = *this->e->in;
      std::lock_guard lock{p.m};
      if (boost::asio::buffer_size(buffers) == 0) return true;
      if (p.buffered() > 0) {
        auto avail = std::min(p.buffered(), this->e->max_read);
        n = boost::asio::buffer_copy(buffers, boost::asio::buffer(p.data.data() + p.read_pos, avail));
        p.read_pos += n;
        if (p.read_pos == p.data.size()) {
          p.data.clear();
          p.read_pos = 0;
        }
        detail::wake(this->e->in, &detail::pipe::writer);
        return true;
      }
      if (p.write_closed) {
        ec = boost::asio::error::eof;
        return true;
      }
      return false;
    }
  };

  template <class Buffers>
  struct write_op : op_base<write_op<Buffers>> {
    Buffers buffers;
    write_op(std::shared_ptr<end> owner, const Buffers& b) : op_base<write_op<Buffers>>{std::move(owner)}, buffers(b) {}
    boost::asio::steady_timer& timer() { return this->e->write_timer; }

    bool attempt(error_code& ec, std::size_t& n) {
      auto& p = *this->e->out;
      std::lock_guard lock{p.m};
      if (p.read_closed || p.write_closed) {
        ec = boost::asio::error::broken_pipe;
        return true;
      }
      auto size = boost::asio::buffer_size(buffers);
      if (size == 0) return true;
      if (p.buffered() >= p.capacity) return false;
      auto take = std::min({size, p.capacity - p.buffered(), this->e->max_write});
      auto at = p.data.size();
      p.data.resize(at + take);
      n = boost::asio::buffer_copy(boost::asio::buffer(p.data.data() + at, take), buffers);
      detail::wake(this->e->out, &detail::pipe::reader);
      return true;
    }
  };

  std::shared_ptr<end> end_;  // shared with pending operations, which may outlive the stream
};

// Two connected ends on one executor; fc (optional) counts the operations of both ends.
inline std::pair<stream, stream> make_stream_pair(stream::executor_type ex,
                                                  fail_count* fc = nullptr) {
  auto a_to_b = std::make_shared<detail::pipe>();
  auto b_to_a = std::make_shared<detail::pipe>();
  return {stream{ex, b_to_a, a_to_b, fc}, stream{ex, a_to_b, b_to_a, fc}};
}

}  // namespace ferry::test
