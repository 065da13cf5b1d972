// A whole sftp::server session over the memory backend, driven by the fuzzer's bytes as the
// client's side of the stream (after an INIT the harness sends, so requests are reached at once).
// The first byte sets how many bytes the server reads at a time (1..256), which moves packet
// boundaries across reads. The server serves a user view rooted at /jail of a larger tree; after
// each input the jail is checked: nothing outside /jail was created, removed or changed, the
// session completed, and every handle it opened is closed.
#include <ferry/fs/memory.hpp>
#include <ferry/sftp/proto/frame.hpp>
#include <ferry/sftp/proto/version.hpp>
#include <ferry/sftp/server.hpp>
#include <ferry/test/stream.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

namespace asio = boost::asio;
using namespace ferry;

namespace {

void put(fs::memory_core& core, const char* path, std::string_view data) {
  fs::handle h;
  if (core.open(path, fs::open_mode::write_new(), h)) std::abort();
  std::size_t n = 0;
  core.write_at(h, 0, as_bytes(data), n);
  core.close(h);
}

std::vector<std::string> names_in(fs::memory_core& core, const char* dir) {
  std::vector<std::string> out;
  fs::handle h;
  if (core.opendir(dir, h)) std::abort();
  for (;;) {
    std::vector<fs::dir_entry> batch;
    if (core.readdir(h, batch) || batch.empty()) break;
    for (auto& e : batch) out.push_back(e.name);
  }
  core.close(h);
  std::sort(out.begin(), out.end());
  return out;
}

std::string contents(fs::memory_core& core, const char* path) {
  fs::handle h;
  if (core.open(path, fs::open_mode::read_only(), h)) return "<missing>";
  std::string out(64, '\0');
  std::size_t n = 0;
  core.read_at(h, 0, mutable_byte_view{reinterpret_cast<std::uint8_t*>(out.data()), out.size()}, n);
  core.close(h);
  out.resize(n);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  asio::io_context ioc;
  fs::memory_options mo;
  mo.capacity = 16 * 1024 * 1024;
  auto parent = fs::make_memory_filesystem(ioc.get_executor(), mo);
  auto& core = parent.core();
  core.mkdir("/jail", 0755);
  core.mkdir("/jail/pub", 0755);
  core.mkdir("/outside", 0755);
  put(core, "/outside/secret", "secret");
  put(core, "/jail/pub/file", std::string(3000, 'f'));
  core.symlink("/outside/secret", "/jail/pub/abs");
  core.symlink("../../outside", "/jail/pub/rel");
  error_code ec;
  auto files = parent.for_user(fs::user_view{"/jail", "/pub", false}, ec);
  if (ec) std::abort();

  sftp::server_options o;
  o.max_handles = 8;
  o.max_in_flight = 8;
  bool completed = false;
  {
    sftp::server<fs::memory_filesystem> srv{files, o};
    auto pair = test::make_stream_pair(ioc.get_executor());
    auto& client = pair.first;
    auto& server_end = pair.second;
    server_end.set_max_read(std::size_t{data[0]} + 1);
    srv.async_run(server_end, [&](error_code) {
      completed = true;
      server_end.shutdown_send();
    });
    bytes input = sftp::proto::encode_packet(sftp::proto::init_request{3, {}});
    input.insert(input.end(), data + 1, data + size);
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
          auto nothrow = asio::as_tuple(asio::use_awaitable);
          auto [wec, n] = co_await asio::async_write(client, asio::buffer(input), nothrow);
          (void)wec;
          (void)n;
          client.shutdown_send();
          std::uint8_t sink[65536];
          for (;;) {
            auto [rec, got] = co_await client.async_read_some(asio::buffer(sink), nothrow);
            (void)got;
            if (rec) break;
          }
        },
        asio::detached);
    ioc.run();
  }
  if (!completed) std::abort();
  // The jail: the tree outside /jail is exactly as it was.
  if (names_in(core, "/") != std::vector<std::string>{"jail", "outside"}) std::abort();
  if (names_in(core, "/outside") != std::vector<std::string>{"secret"}) std::abort();
  if (contents(core, "/outside/secret") != "secret") std::abort();
  if (core.open_handles() != 0) std::abort();
  return 0;
}
