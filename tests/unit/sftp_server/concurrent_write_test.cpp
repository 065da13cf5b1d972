// WRITEs on one handle run at the same time when their ranges do not overlap (an upload's blocks
// reach the filesystem in parallel), while requests whose ranges overlap keep their order: a
// later WRITE of the same bytes lands after an earlier one, a READ sees the WRITEs before it, and
// a handle opened for appending writes one block at a time. Replies stay in request order.
#include "delayed_filesystem.hpp"
#include "harness.hpp"

#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <memory>
#include <vector>

using namespace ferry;
using namespace ferry::sftp_server_test;
namespace asio = boost::asio;

namespace {

std::string block_of(char c, std::size_t n) { return std::string(n, c); }

// `blocks` blocks of `block` bytes, each filled with its own letter from `first` on.
std::string lettered_blocks(char first, std::size_t block, std::size_t blocks) {
  std::string content;
  for (std::size_t i = 0; i < blocks; ++i) content += block_of(static_cast<char>(first + i), block);
  return content;
}

// Writes held back longer the earlier their block: base_ms plus 3 ms per block still to come.
// Run one after another they complete in offset order; run at once, later ones finish first.
delayed_filesystem earlier_blocks_slower(fs::memory_filesystem memory, std::size_t block,
                                         std::size_t blocks, std::int64_t base_ms) {
  return delayed_filesystem{memory, {}, [=](std::uint64_t off) {
                              return std::chrono::milliseconds{
                                  base_ms + 3 * std::int64_t(blocks - off / block)};
                            }};
}

TEST(sftp_server, writes_of_one_handle_run_at_once_and_replies_keep_request_order) {
  asio::io_context ioc;
  auto memory = fs::make_memory_filesystem(ioc.get_executor(), {});
  constexpr std::size_t block = 4096, blocks = 16;
  auto files = earlier_blocks_slower(memory, block, blocks, 5);
  const std::string content = lettered_blocks('a', block, blocks);
  sftp::server_options opts;
  opts.concurrent_writes = true;
  auto result = serve_one(ioc, files, opts, [&](client& c) -> asio::awaitable<void> {
    auto h = co_await c.open("/f", open_flags::write | open_flags::creat | open_flags::read);
    std::vector<std::uint32_t> ids;
    for (std::size_t i = 0; i < blocks; ++i) {
      write_request w{c.next_id(), h, i * block, as_bytes_of(std::string_view{content}.substr(i * block, block))};
      ids.push_back(w.request_id);
      c.send(w);
    }
    for (std::size_t i = 0; i < blocks; ++i) {
      auto r = co_await c.recv();
      CO_ASSERT(r.has_value());
      EXPECT_EQ(*request_id_of(*r), ids[i]) << "reply " << i << " out of order";
      auto* st = std::get_if<status_reply>(&*r);
      CO_ASSERT(st != nullptr);
      EXPECT_EQ(st->code, 0u);
    }
    read_request rd{c.next_id(), h, 0, static_cast<std::uint32_t>(content.size())};
    c.send(rd);
    auto d = co_await c.recv_as<data_reply>();
    EXPECT_EQ(std::string(d.data.begin(), d.data.end()), content);
    co_await c.close(h);
  });
  ASSERT_TRUE(result.has_value());
  EXPECT_FALSE(*result);
  EXPECT_GT(files.stats->most_active, 1) << "the writes ran one at a time";
  ASSERT_EQ(files.stats->completed.size(), blocks);
  EXPECT_FALSE(std::is_sorted(files.stats->completed.begin(), files.stats->completed.end()))
      << "the filesystem finished the writes in request order: they did not overlap";
}

TEST(sftp_server, overlapping_writes_and_reads_of_one_handle_keep_their_order) {
  asio::io_context ioc;
  auto memory = fs::make_memory_filesystem(ioc.get_executor(), {});
  // The first write is the slowest: anything that overtook it would be overwritten by it.
  delayed_filesystem files{memory, {}, [](std::uint64_t off) {
                         return std::chrono::milliseconds{off == 0 ? 60 : 1};
                       }};
  sftp::server_options opts;
  opts.concurrent_writes = true;
  auto result = serve_one(ioc, files, opts, [&](client& c) -> asio::awaitable<void> {
    auto h = co_await c.open("/f", open_flags::write | open_flags::creat | open_flags::read);
    write_request w1{c.next_id(), h, 0, as_bytes_of(block_of('A', 4096))};
    write_request w2{c.next_id(), h, 2048, as_bytes_of(block_of('B', 4096))};  // overlaps w1
    write_request w3{c.next_id(), h, 8192, as_bytes_of(block_of('C', 1024))};  // overlaps neither
    read_request rd{c.next_id(), h, 0, 9216};                                    // sees all three
    fstat_request fst{c.next_id(), h};
    c.send(w1);
    c.send(w2);
    c.send(w3);
    c.send(rd);
    c.send(fst);
    for (int i = 0; i < 3; ++i) {
      auto st = co_await c.status_of();
      EXPECT_EQ(st.code, 0u);
    }
    auto d = co_await c.recv_as<data_reply>();
    std::string want = block_of('A', 2048) + block_of('B', 4096) + block_of('C', 1024);
    std::string got(d.data.begin(), d.data.end());
    CO_ASSERT(got.size() == 9216u);
    EXPECT_EQ(got.substr(0, 6144), want.substr(0, 6144));
    EXPECT_EQ(got.substr(8192), block_of('C', 1024));
    auto a = co_await c.recv_as<attrs_reply>();
    EXPECT_EQ(a.attrs.size, std::uint64_t{9216});
    co_await c.close(h);
  });
  ASSERT_TRUE(result.has_value());
  EXPECT_FALSE(*result);
  // w2 waited for w1; w3 ran beside w1; so the filesystem finished w3 first and w2 after w1.
  ASSERT_EQ(files.stats->completed.size(), 3u);
  auto pos = [&](std::uint64_t off) {
    return std::find(files.stats->completed.begin(), files.stats->completed.end(), off) - files.stats->completed.begin();
  };
  EXPECT_LT(pos(8192), pos(0));
  EXPECT_LT(pos(0), pos(2048));
}

TEST(sftp_server, writes_to_a_handle_opened_for_appending_run_one_at_a_time) {
  asio::io_context ioc;
  auto memory = fs::make_memory_filesystem(ioc.get_executor(), {});
  delayed_filesystem files{memory, {}, [](std::uint64_t off) {
                         return std::chrono::milliseconds{off == 0 ? 30 : 1};
                       }};
  auto result = serve_one(ioc, files, {}, [&](client& c) -> asio::awaitable<void> {
    auto h = co_await c.open("/log", open_flags::write | open_flags::creat | open_flags::append);
    for (std::size_t i = 0; i < 4; ++i) {
      write_request w{c.next_id(), h, i * 100, as_bytes_of(block_of(static_cast<char>('a' + i), 100))};
      c.send(w);
    }
    for (int i = 0; i < 4; ++i) {
      auto st = co_await c.status_of();
      EXPECT_EQ(st.code, 0u);
    }
    co_await c.close(h);
  });
  ASSERT_TRUE(result.has_value());
  EXPECT_FALSE(*result);
  EXPECT_EQ(files.stats->most_active, 1);
  EXPECT_TRUE(std::is_sorted(files.stats->completed.begin(), files.stats->completed.end()));
}

// The default: WRITEs of one handle run one at a time in arrival order, as OpenSSH's sftp-server
// runs them, so a server killed mid-upload leaves a prefix of the file, never a hole.
TEST(sftp_server, by_default_writes_of_one_handle_run_one_at_a_time_in_order) {
  asio::io_context ioc;
  auto memory = fs::make_memory_filesystem(ioc.get_executor(), {});
  constexpr std::size_t block = 4096, blocks = 8;
  auto files = earlier_blocks_slower(memory, block, blocks, 2);
  const std::string content = lettered_blocks('k', block, blocks);
  auto result = serve_one(ioc, files, {}, [&](client& c) -> asio::awaitable<void> {
    auto h = co_await c.open("/f", open_flags::write | open_flags::creat | open_flags::read);
    for (std::size_t i = 0; i < blocks; ++i) {
      write_request w{c.next_id(), h, i * block, as_bytes_of(std::string_view{content}.substr(i * block, block))};
      c.send(w);
    }
    for (std::size_t i = 0; i < blocks; ++i) {
      auto st = co_await c.status_of();
      EXPECT_EQ(st.code, 0u);
    }
    read_request rd{c.next_id(), h, 0, static_cast<std::uint32_t>(content.size())};
    c.send(rd);
    auto d = co_await c.recv_as<data_reply>();
    EXPECT_EQ(std::string(d.data.begin(), d.data.end()), content);
    co_await c.close(h);
  });
  ASSERT_TRUE(result.has_value());
  EXPECT_FALSE(*result);
  EXPECT_EQ(files.stats->most_active, 1);
  ASSERT_EQ(files.stats->completed.size(), blocks);
  EXPECT_TRUE(std::is_sorted(files.stats->completed.begin(), files.stats->completed.end()));
}

}  // namespace
