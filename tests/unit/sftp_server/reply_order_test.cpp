// Replies leave in the order their requests arrived, even when the filesystem finishes them in
// another order: OpenSSH's clients rely on it (scp's SFTP mode truncated downloads at the first
// reordered READ reply from a server that answered in completion order).
#include "delayed_filesystem.hpp"
#include "harness.hpp"

#include <boost/asio/steady_timer.hpp>

#include <memory>

using namespace ferry;
using namespace ferry::sftp_server_test;
namespace asio = boost::asio;

namespace {

// Each read held back longer the earlier its offset: left alone, the reads of a pipelined
// download complete last-first.
std::chrono::milliseconds reversed(std::uint64_t offset) {
  return std::chrono::milliseconds{offset < 64 * 1024 ? 40 - std::int64_t(offset / 2048) : 0};
}

TEST(sftp_server, replies_keep_request_order_when_reads_finish_out_of_order) {
  asio::io_context ioc;
  auto memory = fs::make_memory_filesystem(ioc.get_executor(), {});
  delayed_filesystem files{memory, reversed, {}};
  std::string content(32 * 2048, '\0');
  for (std::size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>(i / 2048 + 'A');
  std::vector<std::tuple<std::string, std::uint64_t, std::uint64_t, bool>> transfers;
  sftp::server_options o;
  o.on_transfer = [&](const sftp::transfer_record& t) {
    transfers.emplace_back(std::string{t.path}, t.bytes_read, t.bytes_written, t.completed);
  };
  auto result = serve_one(ioc, files, o, [&](client& c) -> asio::awaitable<void> {
    auto h = co_await c.open("/f", open_flags::write | open_flags::creat);
    c.send(write_request{c.next_id(), h, 0, as_bytes_of(content)});
    co_await c.status_of();
    c.send(close_request{c.next_id(), h});
    co_await c.status_of();
    h = co_await c.open("/f", open_flags::read);
    std::vector<std::uint32_t> ids;
    for (std::uint64_t off = 0; off < content.size(); off += 2048) {
      read_request rd{c.next_id(), h, off, 2048};
      ids.push_back(rd.request_id);
      c.send(rd);
    }
    for (std::size_t i = 0; i < ids.size(); ++i) {
      auto r = co_await c.recv();
      CO_ASSERT(r.has_value());
      EXPECT_EQ(*request_id_of(*r), ids[i]) << "reply " << i << " out of order";
      auto* d = std::get_if<data_reply>(&*r);
      CO_ASSERT(d != nullptr);
      CO_ASSERT(d->data.size() == 2048u);
      EXPECT_EQ(d->data[0], static_cast<std::uint8_t>('A' + i));
    }
    c.send(close_request{c.next_id(), h});
    co_await c.status_of();
  });
  ASSERT_TRUE(result.has_value());
  EXPECT_FALSE(*result);
  // One transfer record per handle that moved data: the upload, then the download.
  ASSERT_EQ(transfers.size(), 2u);
  EXPECT_EQ(transfers[0], std::make_tuple(std::string{"/f"}, std::uint64_t{0}, std::uint64_t{content.size()}, true));
  EXPECT_EQ(transfers[1], std::make_tuple(std::string{"/f"}, std::uint64_t{content.size()}, std::uint64_t{0}, true));
}

}  // namespace
