// A whole ftp::server session over the memory backend, driven by the fuzzer's bytes as the
// control connection (an in-memory stream). Inputs whose first byte is even are preceded by a
// login, so that the logged-in command set is reached. Data connections use real loopback
// sockets with a 1 ms data timeout, so PASV/PORT followed by a transfer ends quickly. The
// session must answer and end without crashing, leaking or hanging.
#include <ferry/fs/memory.hpp>
#include <ferry/ftp/server.hpp>
#include <ferry/test/stream.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>

#include <cstdlib>

namespace asio = boost::asio;
using namespace ferry;

namespace {

struct fuzz_users {
  auth::method_set methods(const auth::request&) const { return {auth::method::password}; }
  auth::result check_password(const auth::request& r, byte_view pw) const {
    if (r.user != "user" || as_chars(pw) != "secret") return std::nullopt;
    return auth::grant{};
  }
};

void put(fs::memory_core& core, const char* path, std::string_view data) {
  fs::handle h;
  if (core.open(path, fs::open_mode::write_new(), h)) return;
  std::size_t n = 0;
  core.write_at(h, 0, as_bytes(data), n);
  core.close(h);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string input;
  if (size > 0 && (data[0] & 1) == 0) input = "USER user\r\nPASS secret\r\n";
  if (size > 0) input.append(reinterpret_cast<const char*>(data) + 1, size - 1);

  asio::io_context ioc;
  auto core = fs::memory_core::create();
  core->mkdir("/dir", 0755);
  put(*core, "/file", "hello\nworld\n");
  put(*core, "/dir/inner", std::string(5000, 'x'));
  ftp::server_options o;
  o.login_failure_delay = std::chrono::milliseconds(0);
  o.data_timeout = std::chrono::milliseconds(1);
  o.transfer_buffer_size = 4096;
  {
    ftp::server<fs::memory_filesystem, fuzz_users> srv{ioc.get_executor(),
                                                       fs::memory_filesystem{ioc.get_executor(), core},
                                                       fuzz_users{}, o, 1};
    auto pair = test::make_stream_pair(ioc.get_executor());
    auto& client = pair.first;
    srv.serve(std::make_unique<ftp::stream_control<test::stream>>(
        std::move(pair.second), asio::ip::make_address("127.0.0.1"),
        asio::ip::make_address("127.0.0.1")));
    asio::async_write(client, asio::buffer(input), [&](error_code, std::size_t) {
      client.shutdown_send();
    });
    std::string out;
    auto buf = asio::dynamic_buffer(out);
    asio::async_read(client, buf, [](error_code, std::size_t) {});
    ioc.run_for(std::chrono::seconds(5));
    if (!ioc.stopped()) std::abort();  // the session must end once the input does
    // Every reply line the server wrote is well formed: "ddd" then ' ' or '-', or a text line.
    std::string_view all = out;
    if (all.substr(0, 4) != "220 ") std::abort();
  }
  return 0;
}
