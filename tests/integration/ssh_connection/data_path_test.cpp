// The connection's batched data path (issue #11): the writer seals every queued message in place and
// writes them in one go, the reader hands payloads over where they were decrypted, reads lend their
// buffer. These tests pin what must not change: order across key re-exchanges (both directions,
// with and without compression), many small messages coalescing into few writes, and gather writes
// arriving byte for byte.
#include "harness.hpp"

#include <ferry/ssh/proto/connection_messages.hpp>

#include <vector>

using namespace ssh_connection_test;

namespace {

// A connection pair whose transports take the given options (rekey limits, compression).
struct custom_pair {
  std::unique_ptr<conn_t> client, server;
  std::optional<error_code> client_run, server_run;

  custom_pair(asio::io_context& ioc, transport_options ct, transport_options st,
              test::fail_count* fc = nullptr) {
    auto [a, b] = test::make_stream_pair(ioc.get_executor(), fc);
    client = std::make_unique<conn_t>(role::client, std::move(ct), connection_options{}, std::move(a));
    server = std::make_unique<conn_t>(role::server, std::move(st), connection_options{}, std::move(b));
    server->set_channel_filter([](std::string_view t) { return t == "session"; });
  }

  asio::awaitable<void> start() {
    using namespace asio::experimental::awaitable_operators;
    auto hs = client->transport().async_handshake(asio::use_awaitable) &&
              server->transport().async_handshake(asio::use_awaitable);
    co_await std::move(hs);
    server->async_run([this](error_code ec) { server_run = ec; });
    co_await client->transport().async_request_service("ssh-userauth", asio::use_awaitable);
    client->async_run([this](error_code ec) { client_run = ec; });
  }

  asio::awaitable<void> finish() {
    co_await client->async_disconnect(tok);
    for (int i = 0; i < 5000 && (!client_run || !server_run); ++i)
      co_await sleep_for(std::chrono::milliseconds{1});
    EXPECT_TRUE(client_run && server_run);
    EXPECT_FALSE(client_run.value_or(error_code{})) << client_run.value_or(error_code{}).message();
  }
};

// Byte i of a stream tagged `tag`: order and origin both show in the data.
std::uint8_t pattern(std::uint8_t tag, std::size_t i) {
  return std::uint8_t((i * 131 + (i >> 9) * 7 + tag) & 0xff);
}

// Writes `total` bytes of pattern(tag) in writes of varying sizes, each a gather of three buffers.
template <class Stream>
asio::awaitable<error_code> write_pattern(Stream& s, std::uint8_t tag, std::size_t total) {
  std::vector<std::uint8_t> data(total);
  for (std::size_t i = 0; i < total; ++i) data[i] = pattern(tag, i);
  std::size_t at = 0, step = 0;
  while (at < total) {
    std::size_t n = std::min<std::size_t>(total - at, 1 + (step++ * 7919) % 70000);
    std::size_t a = n / 3, b = n / 3;
    std::array<asio::const_buffer, 3> bufs{asio::buffer(data.data() + at, a),
                                           asio::buffer(data.data() + at + a, b),
                                           asio::buffer(data.data() + at + a + b, n - a - b)};
    auto [ec, wn] = co_await asio::async_write(s, bufs, tok);
    if (ec) co_return ec;
    at += wn;
  }
  co_return error_code{};
}

// Reads to EOF and checks every byte against pattern(tag); returns the byte count (or the error).
template <class Stream>
asio::awaitable<std::pair<error_code, std::size_t>> read_pattern(Stream& s, std::uint8_t tag) {
  std::vector<std::uint8_t> buf(100000);
  std::size_t got = 0, step = 0;
  for (;;) {
    // Varying read sizes: some reads lend a small buffer, some a large one.
    std::size_t want = 1 + (step++ * 104729) % buf.size();
    auto [ec, n] = co_await s.async_read_some(asio::buffer(buf.data(), want), tok);
    for (std::size_t i = 0; i < n; ++i)
      if (buf[i] != pattern(tag, got + i))
        co_return std::pair{make_error_code(errc::bad_value), got + i};
    got += n;
    if (ec == asio::error::eof) co_return std::pair{error_code{}, got};
    if (ec) co_return std::pair{ec, got};
  }
}

// Both directions at once on one channel while the transports re-key every rekey_bytes.
void full_duplex_through_rekeys(transport_options ct, transport_options st, std::size_t total,
                                std::uint64_t rekey_bytes, std::size_t min_exchanges) {
  ct.rekey_bytes = rekey_bytes;
  run_coroutine([&](asio::io_context& ioc) -> asio::awaitable<void> {
    custom_pair p{ioc, ct, st};
    co_await p.start();
    std::optional<std::pair<error_code, std::size_t>> server_read, client_read;
    std::optional<error_code> server_write, client_write;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
          auto accepted = co_await p.server->async_accept(tok);
          auto& ec = std::get<0>(accepted);  // not structured bindings: clang 14 cannot capture those
          auto& ch = std::get<1>(accepted);
          if (ec) co_return;
          ch.accept();
          asio::co_spawn(
              ioc, [&]() -> asio::awaitable<void> { server_read = co_await read_pattern(ch, 2); },
              asio::detached);
          server_write = co_await write_pattern(ch, 1, total);
          ch.send_eof();
          while (!server_read) co_await sleep_for(std::chrono::milliseconds{1});
          ch.close();
          co_await ch.async_wait_closed(tok);
        },
        asio::detached);
    auto opened = co_await p.client->async_open_session(tok);
    auto& ec = std::get<0>(opened);
    auto& ch = std::get<1>(opened);
    EXPECT_FALSE(ec) << ec.message();
    if (ec) co_return;
    asio::co_spawn(
        ioc, [&]() -> asio::awaitable<void> { client_read = co_await read_pattern(ch, 1); },
        asio::detached);
    client_write = co_await write_pattern(ch, 2, total);
    ch.send_eof();
    while (!client_read || !server_read) co_await sleep_for(std::chrono::milliseconds{1});
    EXPECT_FALSE(*client_write) << client_write->message();
    EXPECT_FALSE(client_read->first) << client_read->first.message() << " at " << client_read->second;
    EXPECT_EQ(client_read->second, total);
    EXPECT_FALSE(server_read->first) << server_read->first.message() << " at " << server_read->second;
    EXPECT_EQ(server_read->second, total);
    while (!server_write) co_await sleep_for(std::chrono::milliseconds{1});
    EXPECT_FALSE(*server_write) << server_write->message();
    // Many exchanges, interleaved with batches.
    EXPECT_GT(p.client->transport().machine().kex_count(), min_exchanges);
    EXPECT_EQ(p.client->transport().machine().kex_count(), p.server->transport().machine().kex_count());
    co_await ch.async_wait_closed(tok);
    co_await p.finish();
  });
}

}  // namespace

TEST(ssh_data_path, batched_messages_keep_their_order_across_rekeys_both_ways) {
  // 4 MiB each way under a 64 KiB limit.
  full_duplex_through_rekeys(client_transport(), server_transport(), 4 * 1024 * 1024, 64 * 1024, 20);
}

TEST(ssh_data_path, batched_messages_keep_their_order_across_rekeys_with_compression) {
  auto ct = client_transport();
  auto st = server_transport();
  ct.algorithms.compression = {"zlib"};
  st.algorithms.compression = {"zlib"};
  // The pattern compresses well: a small limit still re-keys often.
  full_duplex_through_rekeys(ct, st, 2 * 1024 * 1024, 1024, 3);
}

TEST(ssh_data_path, batched_messages_keep_their_order_with_each_cipher) {
  for (const char* cipher : {"chacha20-poly1305@openssh.com", "aes256-ctr"}) {
    SCOPED_TRACE(cipher);
    auto ct = client_transport();
    auto st = server_transport();
    ct.algorithms.cipher = {cipher};
    st.algorithms.cipher = {cipher};
    full_duplex_through_rekeys(ct, st, 1024 * 1024, 64 * 1024, 5);
  }
}

// A thousand small messages queued at once leave in a handful of writes, in order.
TEST(ssh_data_path, many_small_messages_coalesce_into_few_writes) {
  constexpr int count = 1000;
  test::fail_count ops{std::numeric_limits<std::size_t>::max()};
  run_coroutine([&](asio::io_context& ioc) -> asio::awaitable<void> {
    custom_pair p{ioc, client_transport(), server_transport(), &ops};
    co_await p.start();
    std::vector<std::string> seen;
    std::optional<channel> server_ch;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
          auto accepted = co_await p.server->async_accept(tok);
          auto& ec = std::get<0>(accepted);  // not structured bindings: clang 14 cannot capture those
          auto& ch = std::get<1>(accepted);
          if (ec) co_return;
          ch.set_request_handler([&](const detail::channel_request_view& r) {
            proto::env_request e;
            if (r.type == "env" && !wire::decode(r.data, e)) seen.push_back(e.value);
            return true;
          });
          ch.accept();
          server_ch.emplace(std::move(ch));
        },
        asio::detached);
    auto opened = co_await p.client->async_open_session(tok);
    auto& ec = std::get<0>(opened);
    auto& ch = std::get<1>(opened);
    EXPECT_FALSE(ec) << ec.message();
    if (ec) co_return;
    while (!server_ch) co_await sleep_for(std::chrono::milliseconds{1});
    auto before = ops.operations();
    for (int i = 0; i < count; ++i)
      EXPECT_FALSE(ch.send_request("env", wire::encode(proto::env_request{"N", std::to_string(i)})));
    for (int i = 0; i < 5000 && seen.size() < count; ++i)
      co_await sleep_for(std::chrono::milliseconds{1});
    auto used = ops.operations() - before;
    EXPECT_EQ(seen.size(), std::size_t{count});
    for (std::size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], std::to_string(i));
    // One write per message (and a read each on the other end) would be 2000 operations.
    EXPECT_LT(used, std::size_t{count} / 20) << used << " stream operations";
    ch.close();
    co_await ch.async_wait_closed(tok);
    co_await p.finish();
  });
}
