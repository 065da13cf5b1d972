// The server killed with SIGKILL mid-upload, then restarted on the same root (issue #12):
//  - an atomic upload (sftp::client, transfer_options::atomic: a temporary ".NAME.ferry-part",
//    renamed over the name when complete) leaves the final name holding the old file, or nothing
//    when there was none — never a partial file — and the temporary holds a prefix of the upload;
//    the resumed atomic upload then completes byte-identical and the temporary is gone;
//  - a plain upload by the ferry-sftp program (put) killed mid-way leaves a prefix, and its
//    `reput` completes the file byte-identical.
#include "support/ferry_server.hpp"

#include <ferry/sftp/client.hpp>
#include <ferry/ssh/client.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <optional>
#include <string>

#include <sys/types.h>

namespace {

namespace asio = boost::asio;
namespace stdfs = std::filesystem;
using namespace ferry;
using ferry_test_support::read_file;
using ferry_test_support::write_file;

std::string make_data(std::size_t n, unsigned seed) {
  std::string s(n, '\0');
  std::uint32_t x = 2463534242u + seed;
  for (auto& c : s) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = char(x);
  }
  return s;
}

bool is_prefix(const std::string& part, const std::string& whole) {
  return part.size() <= whole.size() && whole.compare(0, part.size(), part) == 0;
}

// Uploads local -> remote over SSH as alice; kill_at: SIGKILL `victim` once this many bytes of
// the file are done (contiguous prefix). Returns the upload's error.
error_code upload(std::uint16_t port, const std::string& local, const std::string& remote,
                  sftp::transfer_options t, std::optional<std::uint64_t> kill_at = {},
                  pid_t victim = -1) {
  asio::io_context ioc;
  error_code result = make_error_code(errc::unexpected_message);
  bool killed = false;
  if (kill_at) {
    t.on_progress = [&](const sftp::transfer_progress& p) {
      if (!killed && p.file_bytes >= *kill_at) {
        killed = true;
        ::kill(victim, SIGKILL);
      }
    };
  }
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        constexpr auto tok = asio::as_tuple(asio::use_awaitable);
        ssh::client_options o;
        o.transport.verify_host_key = [](const ssh::host_key_info&) { return error_code{}; };
        o.auth.user = "alice";
        o.auth.methods = {"password"};
        o.auth.password = [] {
          std::string_view pw = "pw-alice";
          return std::optional<secure_bytes>{secure_bytes(pw.begin(), pw.end())};
        };
        ssh::client<> c{ioc.get_executor(), std::move(o)};
        auto [cec] = co_await c.async_connect("127.0.0.1", port, tok);
        if (cec) {
          result = cec;
          co_return;
        }
        {
          auto [oec, ch] = co_await c.async_open_subsystem("sftp", tok);
          if (oec) {
            result = oec;
          } else {
            sftp::client<ssh::channel> s{std::move(ch)};
            auto [iec] = co_await s.async_init(tok);
            if (iec) {
              result = iec;
            } else {
              auto [uec, moved] = co_await s.async_upload(local, remote, t, tok);
              (void)moved;
              result = uec;
            }
          }
        }
        co_await c.async_disconnect(tok);
      },
      asio::detached);
  ioc.run_for(std::chrono::seconds{60});
  if (kill_at) {
    EXPECT_TRUE(killed) << "the upload finished before the kill point";
  }
  return result;
}

}  // namespace

TEST(sigkill_upload, atomic_upload_leaves_the_old_file_then_resumes_byte_identical) {
  ferry_test_support::server_fixture srv;
  const auto data = make_data(48u << 20, 1);
  const auto old = make_data(300000, 2);
  write_file(srv.client() / "big.bin", data);
  write_file(srv.root() / "big.bin", old);
  write_file(srv.client() / "fresh.bin", data);
  const auto local = (srv.client() / "big.bin").string();
  const auto part = srv.root() / ".big.bin.ferry-part";

  sftp::transfer_options atomic;
  atomic.atomic = true;
  auto ec = upload(srv.ssh_port(), local, "big.bin", atomic, 8u << 20, srv.proc().pid());
  EXPECT_TRUE(ec) << "the upload did not notice the server's death";
  EXPECT_FALSE(srv.proc().running());
  // The name still holds the old file, whole; the temporary holds a prefix of the new one.
  EXPECT_TRUE(read_file(srv.root() / "big.bin") == old) << "the final name changed";
  ASSERT_TRUE(stdfs::exists(part));
  auto partial = read_file(part);
  EXPECT_GT(partial.size(), 0u);
  EXPECT_LT(partial.size(), data.size());
  EXPECT_TRUE(is_prefix(partial, data)) << "the temporary is not a prefix of the upload ("
                                        << partial.size() << " bytes)";

  srv.restart();
  sftp::transfer_options resume = atomic;
  resume.resume = true;
  ec = upload(srv.ssh_port(), local, "big.bin", resume);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_TRUE(read_file(srv.root() / "big.bin") == data) << "the resumed upload differs";
  EXPECT_FALSE(stdfs::exists(part));
}

TEST(sigkill_upload, atomic_upload_of_a_new_name_leaves_nothing_under_that_name) {
  ferry_test_support::server_fixture srv;
  const auto data = make_data(48u << 20, 3);
  write_file(srv.client() / "new.bin", data);
  const auto local = (srv.client() / "new.bin").string();
  sftp::transfer_options atomic;
  atomic.atomic = true;
  auto ec = upload(srv.ssh_port(), local, "new.bin", atomic, 4u << 20, srv.proc().pid());
  EXPECT_TRUE(ec);
  EXPECT_FALSE(stdfs::exists(srv.root() / "new.bin")) << "a partial file under the final name";
  auto partial = read_file(srv.root() / ".new.bin.ferry-part");
  EXPECT_TRUE(is_prefix(partial, data)) << partial.size();

  srv.restart();
  sftp::transfer_options resume = atomic;
  resume.resume = true;
  ec = upload(srv.ssh_port(), local, "new.bin", resume);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_TRUE(read_file(srv.root() / "new.bin") == data);
  EXPECT_FALSE(stdfs::exists(srv.root() / ".new.bin.ferry-part"));
}

TEST(sigkill_upload, plain_put_by_ferry_sftp_killed_mid_way_then_reput_completes_byte_identical) {
  using namespace ferry_test_support;
  server_fixture srv;
  const auto data = make_data(64u << 20, 4);
  write_file(srv.client() / "up.bin", data);
  const auto local = (srv.client() / "up.bin").string();
  write_file(srv.dir() / "put.batch", "put " + local + " up.bin\n");
  write_file(srv.dir() / "reput.batch", "reput " + local + " up.bin\n");
  auto argv = [&](const char* batch, bool slow) {
    std::vector<std::string> a{built_program("ferry-sftp", "FERRY_SFTP"), "-q", "-b",
                               (srv.dir() / batch).string()};
    // Small requests, one at a time: slow enough to be caught mid-way.
    if (slow) a.insert(a.end(), {"-R", "1", "-B", "4096"});
    for (std::string x : {"-F", "/dev/null", "-o", "StrictHostKeyChecking=no", "-o",
                          "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-i"})
      a.push_back(x);
    a.push_back(srv.key_path());
    a.insert(a.end(), {"-P", std::to_string(srv.ssh_port()), "alice@127.0.0.1"});
    return a;
  };
  const auto target = srv.root() / "up.bin";
  {
    process put{argv("put.batch", true), srv.dir() / "put.log"};
    // Kill the server once a few MiB arrived.
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds{60};
    std::error_code fec;
    while (std::chrono::steady_clock::now() < until && put.running()) {
      auto n = stdfs::file_size(target, fec);
      if (!fec && n >= (4u << 20)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds{1});
    }
    ASSERT_TRUE(put.running()) << "put ended before the kill:\n" << read_file(srv.dir() / "put.log");
    ::kill(srv.proc().pid(), SIGKILL);
    EXPECT_NE(put.wait(std::chrono::seconds{30}), 0) << "ferry-sftp did not report the failure";
  }
  auto partial = read_file(target);
  EXPECT_GE(partial.size(), 4u << 20);
  EXPECT_LT(partial.size(), data.size());
  EXPECT_TRUE(is_prefix(partial, data)) << "not a prefix after the kill (" << partial.size() << " bytes)";

  srv.restart();
  process reput{argv("reput.batch", false), srv.dir() / "reput.log"};
  EXPECT_EQ(reput.wait(std::chrono::seconds{60}), 0) << read_file(srv.dir() / "reput.log");
  EXPECT_TRUE(read_file(target) == data) << "reput did not complete the file byte-identical";
}
