// The memory filesystem with reads and writes held back by a delay chosen from their offset, so
// that a test can make the filesystem finish requests in another order than they arrived. An
// unset delay function leaves that kind of operation as it is. The server keeps a copy of the
// filesystem: what the writes did is counted in a shared write_stats.
#pragma once

#include <ferry/fs/filesystem.hpp>
#include <ferry/fs/memory.hpp>

#include <boost/asio/async_result.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

namespace ferry::sftp_server_test {

// How many delayed writes were in progress at once at most, and the order they completed in.
struct write_stats {
  int active = 0;
  int most_active = 0;
  std::vector<std::uint64_t> completed;
};

class delayed_filesystem {
 public:
  using delay_fn = std::function<std::chrono::milliseconds(std::uint64_t offset)>;
  delayed_filesystem(fs::memory_filesystem inner, delay_fn read_delay, delay_fn write_delay)
      : inner_(std::move(inner)), read_delay_(std::move(read_delay)), write_delay_(std::move(write_delay)) {}
  auto get_executor() { return inner_.get_executor(); }

  template <class Token>
  auto async_read_at(fs::handle h, std::uint64_t offset, mutable_byte_view out, Token&& token) {
    return boost::asio::async_initiate<Token, void(error_code, std::size_t)>(
        [this, h, offset, out](auto handler) {
          if (!read_delay_) return inner_.async_read_at(h, offset, out, std::move(handler));
          after(read_delay_(offset), [this, h, offset, out, handler = std::move(handler)]() mutable {
            inner_.async_read_at(h, offset, out, std::move(handler));
          });
        },
        token);
  }

  template <class Token>
  auto async_write_at(fs::handle h, std::uint64_t offset, byte_view data, Token&& token) {
    return boost::asio::async_initiate<Token, void(error_code, std::size_t)>(
        [this, h, offset, data](auto handler) {
          if (!write_delay_) return inner_.async_write_at(h, offset, data, std::move(handler));
          auto st = stats;
          ++st->active;
          st->most_active = std::max(st->most_active, st->active);
          after(write_delay_(offset), [this, st, h, offset, data, handler = std::move(handler)]() mutable {
            inner_.async_write_at(h, offset, data,
                                  [st, offset, handler = std::move(handler)](error_code ec, std::size_t n) mutable {
                                    --st->active;
                                    st->completed.push_back(offset);
                                    std::move(handler)(ec, n);
                                  });
          });
        },
        token);
  }

#define FERRY_FORWARD(name)                    \
  template <class... A>                        \
  auto name(A&&... a) {                        \
    return inner_.name(std::forward<A>(a)...); \
  }
  FERRY_FORWARD(async_stat)
  FERRY_FORWARD(async_open)
  FERRY_FORWARD(async_close)
  FERRY_FORWARD(async_opendir)
  FERRY_FORWARD(async_readdir)
  FERRY_FORWARD(async_mkdir)
  FERRY_FORWARD(async_rmdir)
  FERRY_FORWARD(async_remove)
  FERRY_FORWARD(async_rename)
  FERRY_FORWARD(async_realpath)
#undef FERRY_FORWARD

  std::shared_ptr<write_stats> stats = std::make_shared<write_stats>();

 private:
  template <class F>
  void after(std::chrono::milliseconds delay, F f) {
    auto timer = std::make_shared<boost::asio::steady_timer>(inner_.get_executor(), delay);
    timer->async_wait([timer, f = std::move(f)](error_code) mutable { f(); });
  }

  fs::memory_filesystem inner_;
  delay_fn read_delay_;
  delay_fn write_delay_;
};
static_assert(fs::filesystem<delayed_filesystem>);

}  // namespace ferry::sftp_server_test
