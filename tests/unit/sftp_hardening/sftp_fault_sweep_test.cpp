// Fault sweep of a whole SFTP session (issue #12): sftp::client <-> sftp::server over test::stream
// (memory filesystem): init, mkdir, a written file, stat, read back, rename, list, remove, rmdir.
// The n-th I/O operation of one side (and every later one) fails, for every n until the session
// completes without reaching the counter, for each side. Every run must end on both sides within
// a bound; a client that reports success read back exactly what it wrote; the server closes every
// file handle it opened, however the session ended (nothing leaks; ASan runs the unit label).
#include <ferry/fs/memory.hpp>
#include <ferry/sftp/client.hpp>
#include <ferry/sftp/server.hpp>
#include <ferry/test/stream.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <string>

namespace {

namespace asio = boost::asio;
using namespace ferry;
using stream = test::stream;
constexpr auto tok = asio::as_tuple(asio::use_awaitable);

std::pair<stream, stream> make_pair(asio::any_io_executor ex, test::fail_count* client_fc,
                                    test::fail_count* server_fc) {
  auto to_server = std::make_shared<test::detail::pipe>();
  auto to_client = std::make_shared<test::detail::pipe>();
  return {stream{ex, to_client, to_server, client_fc}, stream{ex, to_server, to_client, server_fc}};
}

const bytes& payload() {
  static const bytes p = [] {
    bytes b(90000);
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = std::uint8_t(i * 13 + i / 509);
    return b;
  }();
  return p;
}

struct client_outcome {
  bool done = false;
  error_code ec;
  bytes read_back;
  bool listed = false;
};

asio::awaitable<void> client_session(stream s, client_outcome& out) {
  sftp::client<stream> c{std::move(s)};
  auto step = [&](error_code ec) {
    if (ec && !out.ec) out.ec = ec;
    return !ec;
  };
  auto body = [&]() -> asio::awaitable<void> {
    auto [iec] = co_await c.async_init(tok);
    if (!step(iec)) co_return;
    auto [mec] = co_await c.async_mkdir("/d", tok);
    if (!step(mec)) co_return;
    {
      auto mode = sftp::open_mode::write | sftp::open_mode::create | sftp::open_mode::truncate;
      auto [oec, f] = co_await c.async_open("/d/f", mode, tok);
      if (!step(oec)) co_return;
      const auto& p = payload();
      for (std::size_t off = 0; off < p.size(); off += 30000) {
        const byte_view chunk(p.data() + off, 30000);
        auto [wec, written] = co_await f.async_write_at(off, chunk, tok);
        if (!wec && written != chunk.size()) step(make_error_code(errc::bad_value));
        if (!step(wec)) break;
      }
      auto [cec] = co_await f.async_close(tok);
      if (!step(cec) || out.ec) co_return;
    }
    auto [sec, attrs] = co_await c.async_stat("/d/f", tok);
    if (!step(sec)) co_return;
    if (attrs.size != payload().size()) step(make_error_code(errc::bad_value));
    {
      auto [oec, f] = co_await c.async_open("/d/f", sftp::open_mode::read, tok);
      if (!step(oec)) co_return;
      bytes buf(16384);
      for (;;) {
        auto [rec, n] = co_await f.async_read_at(out.read_back.size(), buf, tok);
        if (rec == sftp::status::eof || (!rec && n == 0)) break;
        if (!step(rec)) break;
        out.read_back.insert(out.read_back.end(), buf.begin(), buf.begin() + n);
      }
      auto [cec] = co_await f.async_close(tok);
      if (!step(cec) || out.ec) co_return;
    }
    auto [rnec] = co_await c.async_rename("/d/f", "/d/g", tok);
    if (!step(rnec)) co_return;
    auto [lec, entries] = co_await c.async_list("/d", tok);
    if (!step(lec)) co_return;
    for (auto& e : entries) out.listed = out.listed || e.filename == "g";
    auto [rmec] = co_await c.async_remove("/d/g", tok);
    if (!step(rmec)) co_return;
    auto [rdec] = co_await c.async_rmdir("/d", tok);
    step(rdec);
  };
  co_await body();
  out.done = true;
}  // the client goes: its stream end closes

struct run_result {
  client_outcome client;
  bool server_done = false;
  error_code server_ec;
  std::size_t handles_after = 0;
  bool counter_reached = false;
};

run_result run_session(bool fail_client, std::size_t n) {
  run_result r;
  test::fail_count fc{n};
  asio::io_context ioc;
  auto files = fs::make_memory_filesystem(ioc.get_executor());
  auto ends = make_pair(ioc.get_executor(), fail_client ? &fc : nullptr, fail_client ? nullptr : &fc);
  auto& a = ends.first;  // not structured bindings: clang 14 cannot capture those
  auto& b = ends.second;
  sftp::server<fs::memory_filesystem> srv{files, {}};
  srv.async_run(b, [&](error_code ec) {
    r.server_done = true;
    r.server_ec = ec;
    b.close();  // as a server closes its connection
  });
  asio::co_spawn(ioc, client_session(std::move(a), r.client), asio::detached);
  ioc.run_for(std::chrono::seconds{15});
  r.handles_after = files.core().open_handles();
  r.counter_reached = fc.operations() > n;
  return r;
}

void check(const run_result& r, const std::string& what) {
  SCOPED_TRACE(what);
  EXPECT_TRUE(r.client.done) << "the client hung";
  EXPECT_TRUE(r.server_done) << "the server hung";
  EXPECT_EQ(r.handles_after, 0u) << "the server left file handles open";
  const auto& p = payload();
  // What was read back is a prefix of what was written, never anything else.
  ASSERT_LE(r.client.read_back.size(), p.size());
  EXPECT_TRUE(std::equal(r.client.read_back.begin(), r.client.read_back.end(), p.begin()));
  if (!r.client.ec) {
    EXPECT_TRUE(r.client.read_back == p) << r.client.read_back.size();
    EXPECT_TRUE(r.client.listed);
  }
  if (!r.counter_reached) {
    EXPECT_FALSE(r.client.ec) << r.client.ec.message();
  }
}

}  // namespace

TEST(sftp_fault_sweep, a_clean_session_passes_the_checks) {
  auto r = run_session(true, std::numeric_limits<std::size_t>::max());
  EXPECT_FALSE(r.counter_reached);
  check(r, "no failure");
  EXPECT_FALSE(r.client.ec) << r.client.ec.message();
  EXPECT_EQ(r.client.read_back.size(), payload().size());
}

TEST(sftp_fault_sweep, every_io_operation_of_each_side_fails_cleanly) {
  for (bool client_side : {true, false}) {
    std::map<std::string, int> errors;
    std::size_t n = 0;
    for (; n < 3000; ++n) {
      auto r = run_session(client_side, n);
      check(r, std::string{client_side ? "client" : "server"} + " operation " + std::to_string(n));
      if (::testing::Test::HasFailure()) return;
      if (!r.counter_reached) break;
      ++errors[r.client.ec.message()];
    }
    EXPECT_GT(n, 10u);
    EXPECT_LT(n, 3000u) << "the sweep never got past the session's last I/O operation";
    std::string summary;
    for (auto& [m, k] : errors) summary += "  " + std::to_string(k) + " x " + m + "\n";
    std::cout << (client_side ? "client" : "server") << " side: " << n
              << " I/O points; the client's errors:\n"
              << summary;
  }
}
