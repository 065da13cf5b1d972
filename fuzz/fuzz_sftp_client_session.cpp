// Arbitrary bytes as everything a server sends to sftp::client (VERSION and every reply), over
// test::stream: the client runs its handshake and a fixed series of operations (stat, open,
// pipelined read_at and write_at, a directory listing, realpath, an extension) and must complete
// each with a value or a typed error — no crash, no hang, no handler left behind — once the
// input ends and the stream with it.
#include <ferry/ftp/detail/coroutine_sanitize.hpp>

FERRY_COROUTINE_NO_SANITIZE_FUNCTION_BEGIN

#include <ferry/sftp/client.hpp>
#include <ferry/test/stream.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <cstdlib>

namespace {

namespace asio = boost::asio;
constexpr auto tok = asio::as_tuple(asio::use_awaitable);

asio::awaitable<void> serve(ferry::test::stream& s, ferry::byte_view input) {
  auto [ec, n] = co_await asio::async_write(s, asio::buffer(input.data(), input.size()), tok);
  (void)ec;
  (void)n;
  s.shutdown_send();
}

asio::awaitable<void> drive(ferry::sftp::client<ferry::test::stream>& c, bool& done) {
  auto [iec] = co_await c.async_init(tok);
  if (!iec) {
    auto [sec, a] = co_await c.async_stat("/a", tok);
    auto [oec, f] = co_await c.async_open("/a", ferry::sftp::open_mode::read, tok);
    if (!oec) {
      ferry::bytes buf(300'000);
      auto [rec, n] = co_await f.async_read_at(0, buf, tok);
      if (!rec && n > buf.size()) std::abort();
      ferry::bytes out(100'000, 7);
      auto [wec, m] = co_await f.async_write_at(0, out, tok);
      if (!wec && m != out.size()) std::abort();
      co_await f.async_close(tok);
    }
    auto [lec, entries] = co_await c.async_list("/", tok);
    auto [pec, path] = co_await c.async_realpath(".", tok);
    auto [vec, v] = co_await c.async_statvfs("/", tok);
    (void)sec, (void)lec, (void)pec, (void)vec;
  }
  done = true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  asio::io_context ioc;
  auto [a, b] = ferry::test::make_stream_pair(ioc.get_executor());
  bool done = false;
  {
    ferry::sftp::client<ferry::test::stream> c{std::move(a)};
    asio::co_spawn(ioc, serve(b, {data, size}), asio::detached);
    asio::co_spawn(ioc, drive(c, done), asio::detached);
    ioc.run_for(std::chrono::seconds(10));
    if (!done) std::abort();  // the input ended, so every operation must have completed
  }
  return 0;
}

FERRY_COROUTINE_NO_SANITIZE_FUNCTION_END
