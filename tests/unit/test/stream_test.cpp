// test::stream: the in-memory duplex stream every layer's tests run on.
#include <ferry/test/random.hpp>
#include <ferry/test/stream.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <gtest/gtest.h>

#include <string>

namespace asio = boost::asio;
using namespace ferry;

TEST(test_stream, bytes_written_by_one_end_are_read_by_the_other_in_both_directions) {
  asio::io_context ioc;
  auto [a, b] = test::make_stream_pair(ioc.get_executor());
  std::string got_b(5, '\0'), got_a(3, '\0');
  asio::async_write(a, asio::buffer(std::string_view{"hello"}), [](error_code ec, std::size_t) {
    EXPECT_FALSE(ec);
  });
  asio::async_write(b, asio::buffer(std::string_view{"hey"}), [](error_code ec, std::size_t) {
    EXPECT_FALSE(ec);
  });
  asio::async_read(b, asio::buffer(got_b), [](error_code ec, std::size_t n) {
    EXPECT_FALSE(ec);
    EXPECT_EQ(n, 5u);
  });
  asio::async_read(a, asio::buffer(got_a), [](error_code ec, std::size_t n) {
    EXPECT_FALSE(ec);
    EXPECT_EQ(n, 3u);
  });
  ioc.run();
  EXPECT_EQ(got_b, "hello");
  EXPECT_EQ(got_a, "hey");
}

TEST(test_stream, completion_is_never_inline) {
  asio::io_context ioc;
  auto [a, b] = test::make_stream_pair(ioc.get_executor());
  bool done = false;
  a.async_write_some(asio::buffer(std::string_view{"x"}), [&](error_code, std::size_t) {
    done = true;
  });
  EXPECT_FALSE(done);
  ioc.run();
  EXPECT_TRUE(done);
}

TEST(test_stream, a_pending_read_is_woken_by_a_later_write) {
  asio::io_context ioc;
  auto [a, b] = test::make_stream_pair(ioc.get_executor());
  char c = 0;
  std::size_t got = 0;
  b.async_read_some(asio::buffer(&c, 1), [&](error_code ec, std::size_t n) {
    EXPECT_FALSE(ec);
    got = n;
  });
  ioc.poll();
  EXPECT_EQ(got, 0u);  // nothing written yet: the read waits
  a.async_write_some(asio::buffer(std::string_view{"z"}), [](error_code, std::size_t) {});
  ioc.run();
  EXPECT_EQ(got, 1u);
  EXPECT_EQ(c, 'z');
}

TEST(test_stream, max_read_gives_short_reads) {
  asio::io_context ioc;
  auto [a, b] = test::make_stream_pair(ioc.get_executor());
  b.set_max_read(1);
  std::string data(100, 'q');
  asio::async_write(a, asio::buffer(data), [](error_code, std::size_t) {});
  ioc.run();
  ioc.restart();
  std::string buf(100, '\0');
  std::size_t first = 0;
  b.async_read_some(asio::buffer(buf), [&](error_code, std::size_t n) { first = n; });
  ioc.run();
  EXPECT_EQ(first, 1u);
}

TEST(test_stream, shutdown_send_gives_eof_after_the_data) {
  asio::io_context ioc;
  auto ends = test::make_stream_pair(ioc.get_executor());
  auto& a = ends.first;  // not structured bindings: clang 14 cannot capture those
  auto& b = ends.second;
  asio::async_write(a, asio::buffer(std::string_view{"abc"}), [&](error_code, std::size_t) {
    a.shutdown_send();
  });
  std::string all;
  error_code last;
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        char buf[2];
        for (;;) {
          auto [ec, n] = co_await b.async_read_some(asio::buffer(buf),
                                                    asio::as_tuple(asio::use_awaitable));
          if (ec) {
            last = ec;
            co_return;
          }
          all.append(buf, n);
        }
      },
      asio::detached);
  ioc.run();
  EXPECT_EQ(all, "abc");
  EXPECT_EQ(last, asio::error::eof);
}

TEST(test_stream, close_fails_the_peers_writes_with_broken_pipe) {
  asio::io_context ioc;
  auto [a, b] = test::make_stream_pair(ioc.get_executor());
  b.close();
  error_code got;
  a.async_write_some(asio::buffer(std::string_view{"x"}), [&](error_code ec, std::size_t) {
    got = ec;
  });
  ioc.run();
  EXPECT_EQ(got, asio::error::broken_pipe);
}

TEST(test_stream, fail_count_fails_the_nth_operation_and_every_later_one) {
  asio::io_context ioc;
  test::fail_count fc{2};
  auto [a, b] = test::make_stream_pair(ioc.get_executor(), &fc);
  std::vector<error_code> results;
  for (int i = 0; i < 4; ++i) {
    a.async_write_some(asio::buffer(std::string_view{"x"}), [&](error_code ec, std::size_t) {
      results.push_back(ec);
    });
    ioc.run();
    ioc.restart();
  }
  ASSERT_EQ(results.size(), 4u);
  EXPECT_FALSE(results[0]);
  EXPECT_FALSE(results[1]);
  EXPECT_EQ(results[2], errc::injected_failure);
  EXPECT_EQ(results[3], errc::injected_failure);
}

TEST(test_stream, a_full_receive_buffer_stalls_the_writer_until_the_reader_drains) {
  asio::io_context ioc;
  auto [a, b] = test::make_stream_pair(ioc.get_executor());
  b.set_receive_capacity(4);
  std::string data(10, 'w');
  std::size_t written = 0;
  bool write_done = false;
  asio::async_write(a, asio::buffer(data), [&](error_code ec, std::size_t n) {
    EXPECT_FALSE(ec);
    written = n;
    write_done = true;
  });
  ioc.poll();
  EXPECT_FALSE(write_done);
  EXPECT_EQ(b.available(), 4u);  // bounded: never more than the capacity buffered
  std::string got(10, '\0');
  asio::async_read(b, asio::buffer(got), [](error_code ec, std::size_t) { EXPECT_FALSE(ec); });
  ioc.run();
  EXPECT_TRUE(write_done);
  EXPECT_EQ(written, 10u);
  EXPECT_EQ(got, data);
}

TEST(test_stream, a_pending_read_can_be_cancelled) {
  asio::io_context ioc;
  auto [a, b] = test::make_stream_pair(ioc.get_executor());
  asio::cancellation_signal sig;
  char c;
  error_code got;
  b.async_read_some(asio::buffer(&c, 1),
                    asio::bind_cancellation_slot(sig.slot(), [&](error_code ec, std::size_t) {
                      got = ec;
                    }));
  ioc.poll();
  sig.emit(asio::cancellation_type::terminal);
  ioc.run();
  EXPECT_EQ(got, asio::error::operation_aborted);
}

TEST(fixed_random, is_deterministic_per_seed) {
  test::fixed_random r1{1}, r2{1}, r3{2};
  bytes a(33), b(33), c(33);
  r1.fill(a);
  r2.fill(b);
  r3.fill(c);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}
