// Uploads to the local backend: binary STOR/APPE/STOU over plain TCP go socket -> pipe -> file
// with splice(2) (data_channel::receive_file). The bytes on disk must be exactly those of the
// read/write path (TLS and ASCII still take it): REST offsets, APPE, STOU, atomic uploads; ABOR
// mid-upload gives 426 then 226; a file that cannot grow gives 451 and the session goes on; a file
// that takes no splice falls back without losing the bytes already taken from the socket.
#include "integration/ftp_server_harness.hpp"
#include "support/process.hpp"
#include "support/run_coroutine.hpp"

#include <ferry/ftp/client.hpp>
#include <ferry/ftp/server/data_channel.hpp>
#include <ferry/test/random.hpp>

#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <thread>

using namespace ferry;
using namespace ferry::test::ftpd;
using asio::use_awaitable;
using ferry_test_support::read_file;
using ferry_test_support::run_coroutine;
using ferry_test_support::temp_dir;
using ferry_test_support::write_file;

namespace {

std::function<fs::local_filesystem(asio::any_io_executor)> local_backend(std::string root) {
  return [root](asio::any_io_executor ex) {
    error_code ec;
    return fs::make_local_filesystem(ex, root, {}, ec);
  };
}

}  // namespace

TEST(ftp_server_upload, local_uploads_are_exact_with_rest_appe_stou_and_atomic_plain_and_tls) {
  for (bool atomic : {false, true}) {
    temp_dir dir{"ferry-ftp-splice"};
    auto root = dir.path() / "root";
    std::filesystem::create_directories(root);
    auto o = fast_options();
    o.atomic_upload = atomic;
    running_server<fs::local_filesystem> srv{local_backend(root.string()), o, true};
    asio::ssl::context tls{asio::ssl::context::tls_client};
    tls.set_verify_mode(asio::ssl::verify_none);
    auto big = payload(9 * 1024 * 1024 + 123, 21);  // several pipe loads, not a multiple of any
    auto tail = payload(3 * 1024 * 1024 + 5, 22);
    for (bool encrypted : {false, true}) {
      SCOPED_TRACE(std::string{encrypted ? "explicit TLS" : "plain"} + (atomic ? ", atomic" : ""));
      std::string stou_reply;
      run_coroutine([&](asio::io_context& ioc) -> asio::awaitable<void> {
        ftp::client_options co;
        co.tls_context = &tls;
        co.tls = encrypted ? ftp::tls_mode::explicit_tls : ftp::tls_mode::none;
        ftp::client c{ioc.get_executor(), co};
        co_await c.async_connect(tcp::endpoint{asio::ip::make_address("127.0.0.1"), srv.port()}, use_awaitable);
        co_await c.async_login("user", "secret", use_awaitable);
        auto n = co_await c.async_store("big.bin", from_string(big), {}, use_awaitable);
        EXPECT_EQ(n, big.size());
        // REST then STOR: the bytes from the offset on are replaced, those before it stay.
        ftp::transfer_options at;
        at.offset = 4 * 1024 * 1024 + 17;
        co_await c.async_store("resumed.bin", from_string(big), {}, use_awaitable);
        auto rest_part = big.substr(at.offset);
        std::reverse(rest_part.begin(), rest_part.end());
        co_await c.async_store("resumed.bin", from_string(rest_part), at, use_awaitable);
        // APPE: after what is there.
        co_await c.async_store("appended.bin", from_string(big), {}, use_awaitable);
        co_await c.async_append("appended.bin", from_string(tail), {}, use_awaitable);
        // An empty upload makes an empty file.
        std::string none;
        co_await c.async_store("empty.bin", from_string(none), {}, use_awaitable);
        // ASCII takes the read/write path (the server turns the wire's CR LF into LF).
        std::string text = "a\nb\n";  // CR LF on the wire, LF again on disk
        ftp::transfer_options as_text;
        as_text.ascii = true;
        co_await c.async_store("text.txt", from_string(text), as_text, use_awaitable);
        co_await c.async_quit(use_awaitable);
      });
      EXPECT_TRUE(read_file(root / "big.bin") == big);
      auto expect_resumed = big.substr(0, 4 * 1024 * 1024 + 17);
      auto rev = big.substr(4 * 1024 * 1024 + 17);
      std::reverse(rev.begin(), rev.end());
      EXPECT_TRUE(read_file(root / "resumed.bin") == expect_resumed + rev);
      EXPECT_TRUE(read_file(root / "appended.bin") == big + tail);
      EXPECT_TRUE(std::filesystem::exists(root / "empty.bin"));
      EXPECT_EQ(std::filesystem::file_size(root / "empty.bin"), 0u);
      EXPECT_EQ(read_file(root / "text.txt"), "a\nb\n");
      for (auto& e : std::filesystem::directory_iterator(root))
        EXPECT_EQ(e.path().filename().string().rfind(".ferry-upload-", 0), std::string::npos);
      for (auto name : {"big.bin", "resumed.bin", "appended.bin", "empty.bin", "text.txt"})
        std::filesystem::remove(root / name);
    }
  }
}

TEST(ftp_server_upload, stou_over_plain_tcp_writes_the_whole_file_under_the_reported_name) {
  temp_dir dir{"ferry-ftp-splice"};
  auto root = dir.path() / "root";
  std::filesystem::create_directories(root);
  running_server<fs::local_filesystem> srv{local_backend(root.string()), fast_options()};
  auto data = payload(2 * 1024 * 1024 + 9, 23);
  raw_control c{srv.port()};
  c.login();
  EXPECT_EQ(c.command("TYPE I"), 200);
  auto port = c.pasv();
  tcp::socket up{c.context()};
  up.connect({asio::ip::make_address("127.0.0.1"), port});
  auto r = c.command_text("STOU up");
  ASSERT_EQ(r.substr(0, 3), "150") << r;
  auto at = r.find("FILE: ");
  ASSERT_NE(at, std::string::npos) << r;
  auto name = r.substr(at + 6);
  name = name.substr(0, name.find_first_of("\r\n"));
  asio::write(up, asio::buffer(data));
  up.shutdown(tcp::socket::shutdown_send);
  EXPECT_EQ(c.code(), 226);
  EXPECT_TRUE(read_file(root / name) == data);
}

TEST(ftp_server_upload, abor_during_a_local_upload_answers_426_then_226_and_keeps_a_prefix) {
  temp_dir dir{"ferry-ftp-splice"};
  auto root = dir.path() / "root";
  std::filesystem::create_directories(root);
  running_server<fs::local_filesystem> srv{local_backend(root.string()), fast_options()};
  auto data = payload(1024 * 1024, 24);
  raw_control c{srv.port()};
  c.login();
  EXPECT_EQ(c.command("TYPE I"), 200);
  auto port = c.pasv();
  tcp::socket up{c.context()};
  up.connect({asio::ip::make_address("127.0.0.1"), port});
  EXPECT_EQ(c.command("STOR partial.bin"), 150);
  asio::write(up, asio::buffer(data));  // then the client stops sending, the connection stays
  // RFC 959 §4.1.3: Telnet IP and Synch, then ABOR.
  c.send("\xff\xf4\xff\xf2" "ABOR\r\n");
  EXPECT_EQ(c.code(), 426);
  EXPECT_EQ(c.code(), 226);
  EXPECT_EQ(c.command("NOOP"), 200);  // the session goes on
  auto got = read_file(root / "partial.bin");
  EXPECT_LE(got.size(), data.size());
  EXPECT_TRUE(got == data.substr(0, got.size()));
  // And the next upload on the same session works.
  auto port2 = c.pasv();
  tcp::socket up2{c.context()};
  up2.connect({asio::ip::make_address("127.0.0.1"), port2});
  EXPECT_EQ(c.command("STOR whole.bin"), 150);
  asio::write(up2, asio::buffer(data));
  up2.shutdown(tcp::socket::shutdown_send);
  EXPECT_EQ(c.code(), 226);
  EXPECT_TRUE(read_file(root / "whole.bin") == data);
}

TEST(ftp_server_upload, a_local_upload_the_file_cannot_take_answers_451_and_the_session_goes_on) {
  temp_dir dir{"ferry-ftp-splice"};
  auto root = dir.path() / "root";
  std::filesystem::create_directories(root);
  running_server<fs::local_filesystem> srv{local_backend(root.string()), fast_options()};
  // A file size limit makes writes past 1 MiB fail with EFBIG, as a full disk fails them with
  // ENOSPC; the limit is the process's, so it is lifted again right after the upload.
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit old_limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  rlimit small = old_limit;
  small.rlim_cur = 1024 * 1024;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  auto data = payload(3 * 1024 * 1024, 25);
  raw_control c{srv.port()};
  c.login();
  EXPECT_EQ(c.command("TYPE I"), 200);
  auto port = c.pasv();
  tcp::socket up{c.context()};
  up.connect({asio::ip::make_address("127.0.0.1"), port});
  EXPECT_EQ(c.command("STOR toolarge.bin"), 150);
  error_code wec;
  asio::write(up, asio::buffer(data), wec);  // may fail once the server closed its end
  up.shutdown(tcp::socket::shutdown_send, wec);
  auto r = c.reply();
  ::setrlimit(RLIMIT_FSIZE, &old_limit);
  std::signal(SIGXFSZ, old_handler);
  EXPECT_EQ(r.substr(0, 3), "451") << r;
  EXPECT_NE(r.find("Transfer aborted"), std::string::npos) << r;
  EXPECT_EQ(c.command("NOOP"), 200);
  EXPECT_LE(std::filesystem::file_size(root / "toolarge.bin"), 1024u * 1024u);
}

// data_channel::receive_file on a file that refuses splice(2) (O_APPEND: EINVAL) writes what it
// took from the socket with pwrite and says not_supported; reads go on from there, nothing lost.
TEST(ftp_data_channel, receive_file_falls_back_without_losing_bytes_when_the_file_takes_no_splice) {
  temp_dir dir{"ferry-ftp-splice"};
  auto file = dir.path() / "append.bin";
  write_file(file, "");
  int fd = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  auto data = payload(5 * 1024 * 1024 + 1, 26);
  run_coroutine([&](asio::io_context& ioc) -> asio::awaitable<void> {
    auto dc = std::make_shared<ftp::data_channel>(ioc.get_executor(), std::chrono::seconds(10));
    std::uint16_t port = 0;
    EXPECT_FALSE(dc->listen(asio::ip::make_address("127.0.0.1"), 0, 0, port));
    std::thread sender([&] {
      asio::io_context sioc;
      tcp::socket s{sioc};
      s.connect({asio::ip::make_address("127.0.0.1"), port});
      asio::write(s, asio::buffer(data));
      s.shutdown(tcp::socket::shutdown_send);
    });
    auto ec = co_await dc->establish(asio::ip::make_address("127.0.0.1"), false, {});
    EXPECT_FALSE(ec);
    auto r = co_await dc->receive_file(fd, 0);
    EXPECT_EQ(r.ec, boost::system::errc::not_supported);
    EXPECT_FALSE(r.write_failed);
    EXPECT_GT(r.written, 0u);
    std::string rest;
    std::vector<char> buf(256 * 1024);
    for (;;) {
      auto [rec, n] = co_await dc->read(asio::buffer(buf));
      rest.append(buf.data(), n);
      if (rec) break;
    }
    sender.join();
    auto got = read_file(file);
    EXPECT_EQ(got.size(), r.written);
    EXPECT_TRUE(got + rest == data);
    dc->close();
  });
  ::close(fd);
}
