// sftp::client against OpenSSH's own /usr/lib/openssh/sftp-server, spawned with pipes
// (piped_process + io::pipe_stream): every operation and extension, large transfers compared byte
// for byte, resume after the server was killed mid-transfer (reget/reput), atomic upload,
// recursive trees with preserved times and modes, and the progress callback.
#include <ferry/io/pipe_stream.hpp>
#include <ferry/sftp/client.hpp>

#include <support/process.hpp>
#include <support/run_coroutine.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <random>
#include <string>

namespace {

namespace asio = boost::asio;
namespace sftp = ferry::sftp;
namespace fs = std::filesystem;
using namespace ferry_test_support;
using client_t = sftp::client<ferry::io::pipe_stream>;
constexpr auto tuple = asio::as_tuple(asio::use_awaitable);

const char* const sftp_server = "/usr/lib/openssh/sftp-server";

// A running sftp-server and a client on its pipes (not initialized yet).
struct server {
  server(asio::io_context& ioc, const temp_dir& dir)
      : proc({sftp_server, "-d", dir.path().string()}, dir / "sftp-server.log"),
        client(ioc.get_executor(), proc.release_from_child(), proc.release_to_child()) {}
  piped_process proc;
  client_t client;
};

std::string random_data(std::size_t n, unsigned seed) {
  std::mt19937_64 rng{seed};
  std::string s(n, '\0');
  for (std::size_t i = 0; i + 8 <= n; i += 8) {
    auto v = rng();
    std::memcpy(s.data() + i, &v, 8);
  }
  for (std::size_t i = n - n % 8; i < n; ++i) s[i] = static_cast<char>(rng());
  return s;
}

class SftpClientOpenSSH : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ::signal(SIGPIPE, SIG_IGN); }  // a killed server's pipe
  temp_dir dir{"ferry-sftpc-"};
  std::string p(const std::string& name) const { return (dir / name).string(); }
};

TEST_F(SftpClientOpenSSH, EveryOperationAndExtension) {
  run_coroutine([&](asio::io_context& ioc) -> asio::awaitable<void> {
    server s{ioc, dir};
    auto& c = s.client;
    co_await c.async_init(asio::use_awaitable);
    for (auto ext : {"posix-rename@openssh.com", "statvfs@openssh.com", "fstatvfs@openssh.com",
                     "hardlink@openssh.com", "fsync@openssh.com", "lsetstat@openssh.com",
                     "limits@openssh.com", "expand-path@openssh.com", "copy-data",
                     "home-directory", "users-groups-by-id@openssh.com"})
      EXPECT_TRUE(c.supports(ext)) << ext;
    EXPECT_EQ(c.limits().max_read_length, 261120u);
    EXPECT_EQ(c.read_block(), 261120u);
    auto l = co_await c.async_limits(asio::use_awaitable);
    EXPECT_EQ(l.max_write_length, c.limits().max_write_length);

    // mkdir / stat / lstat / setstat
    co_await c.async_mkdir(p("d"), asio::use_awaitable);
    auto a = co_await c.async_stat(p("d"), asio::use_awaitable);
    EXPECT_TRUE(sftp::is_directory(a));
    sftp::attributes mode;
    mode.permissions = 0750;
    co_await c.async_setstat(p("d"), mode, asio::use_awaitable);
    EXPECT_EQ(fs::status(p("d")).permissions(), fs::perms(0750));

    // open / write_at / read_at / fstat / fsetstat / fsync / fstatvfs / close
    auto data = random_data(700'000, 1);
    auto f = co_await c.async_open(p("d/f"),
                                   sftp::open_mode::write | sftp::open_mode::read |
                                       sftp::open_mode::create | sftp::open_mode::truncate,
                                   asio::use_awaitable);
    auto n = co_await f.async_write_at(0, ferry::as_bytes(data), asio::use_awaitable);
    EXPECT_EQ(n, data.size());
    ferry::bytes back(data.size());
    n = co_await f.async_read_at(0, back, asio::use_awaitable);
    EXPECT_EQ(n, data.size());
    EXPECT_EQ(std::string(back.begin(), back.end()), data);
    auto fa = co_await f.async_stat(asio::use_awaitable);
    EXPECT_EQ(fa.size, data.size());
    sftp::attributes times;
    times.times = sftp::proto::file_times{1000000000, 1200000000};
    co_await f.async_setstat(times, asio::use_awaitable);
    co_await f.async_fsync(asio::use_awaitable);
    auto fv = co_await f.async_statvfs(asio::use_awaitable);
    EXPECT_GT(fv.bsize, 0u);
    co_await f.async_close(asio::use_awaitable);
    EXPECT_EQ(read_file(p("d/f")), data);
    struct stat st {};
    ::stat(p("d/f").c_str(), &st);
    EXPECT_EQ(st.st_mtime, 1200000000);

    // opendir / readdir / list
    auto dh = co_await c.async_opendir(p("d"), asio::use_awaitable);
    auto batch = co_await dh.async_read(asio::use_awaitable);
    bool found = false;
    for (auto& e : batch) found = found || e.filename == "f";
    EXPECT_TRUE(found);
    auto [eof, none] = co_await dh.async_read(tuple);
    EXPECT_EQ(eof, sftp::status::eof);
    co_await dh.async_close(asio::use_awaitable);
    auto entries = co_await c.async_list(p("d"), asio::use_awaitable);
    EXPECT_EQ(entries.size(), 1u);
    if (entries.size() == 1) {
      EXPECT_EQ(entries[0].filename, "f");
      EXPECT_EQ(entries[0].attrs.size, data.size());
    }

    // realpath / expand-path / home-directory
    auto rp = co_await c.async_realpath(".", asio::use_awaitable);
    EXPECT_EQ(fs::path(rp), fs::canonical(dir.path()));
    auto ep = co_await c.async_expand_path("~", asio::use_awaitable);
    std::string me = ::getpwuid(::getuid())->pw_name;
    auto home = co_await c.async_home_directory(me, asio::use_awaitable);
    EXPECT_EQ(home, std::string{::getpwuid(::getuid())->pw_dir});
    EXPECT_EQ(fs::path(ep), fs::canonical(dir.path()));  // with -d, "~" is the start directory

    // symlink / readlink / lstat / lsetstat
    co_await c.async_symlink("d/f", p("link"), asio::use_awaitable);
    auto target = co_await c.async_readlink(p("link"), asio::use_awaitable);
    EXPECT_EQ(target, "d/f");
    auto la = co_await c.async_lstat(p("link"), asio::use_awaitable);
    EXPECT_TRUE(sftp::is_symlink(la));
    co_await c.async_lsetstat(p("link"), times, asio::use_awaitable);
    struct stat lst {};
    ::lstat(p("link").c_str(), &lst);
    EXPECT_EQ(lst.st_mtime, 1200000000);

    // rename / posix-rename / hardlink / copy-data
    co_await c.async_rename(p("d/f"), p("d/g"), asio::use_awaitable);
    write_file(p("d/h"), "old");
    auto [rec] = co_await c.async_rename(p("d/g"), p("d/h"), tuple);
    EXPECT_TRUE(rec);  // v3 RENAME refuses an existing target
    co_await c.async_posix_rename(p("d/g"), p("d/h"), asio::use_awaitable);
    EXPECT_EQ(read_file(p("d/h")), data);
    co_await c.async_hardlink(p("d/h"), p("d/hard"), asio::use_awaitable);
    EXPECT_EQ(fs::hard_link_count(p("d/h")), 2u);
    auto src = co_await c.async_open(p("d/h"), sftp::open_mode::read, asio::use_awaitable);
    auto dst = co_await c.async_open(p("d/copy"),
                                     sftp::open_mode::write | sftp::open_mode::create,
                                     asio::use_awaitable);
    co_await c.async_copy_data(src, 0, 0, dst, 0, asio::use_awaitable);
    co_await src.async_close(asio::use_awaitable);
    co_await dst.async_close(asio::use_awaitable);
    EXPECT_EQ(read_file(p("d/copy")), data);

    // statvfs / users-groups-by-id
    auto v = co_await c.async_statvfs(p("d"), asio::use_awaitable);
    EXPECT_GT(v.blocks, 0u);
    std::vector<std::uint32_t> uids{::getuid()};
    std::vector<std::uint32_t> gids{::getgid()};
    auto names = co_await c.async_users_groups_by_id(uids, gids, asio::use_awaitable);
    EXPECT_EQ(names.users.size(), 1u);
    EXPECT_EQ(names.groups.size(), 1u);
    EXPECT_EQ(names.users.empty() ? "" : names.users[0], me);

    // remove / rmdir, and typed errors with the server's message
    co_await c.async_remove(p("d/h"), asio::use_awaitable);
    co_await c.async_remove(p("d/hard"), asio::use_awaitable);
    co_await c.async_remove(p("d/copy"), asio::use_awaitable);
    co_await c.async_remove(p("link"), asio::use_awaitable);
    co_await c.async_rmdir(p("d"), asio::use_awaitable);
    EXPECT_FALSE(fs::exists(p("d")));
    auto [sec, sa] = co_await c.async_stat(p("d"), tuple);
    EXPECT_EQ(sec, sftp::status::no_such_file);
    EXPECT_EQ(sec, boost::system::errc::no_such_file_or_directory);
    EXPECT_TRUE(c.last_status().message.has_value());
    auto [oec, of] = co_await c.async_open(p("missing"), sftp::open_mode::read, tuple);
    EXPECT_EQ(oec, sftp::status::no_such_file);
  });
}

TEST_F(SftpClientOpenSSH, LargeDownloadAndUploadAreByteIdenticalWithMonotonicProgress) {
  run_coroutine(
      [&](asio::io_context& ioc) -> asio::awaitable<void> {
        auto data = random_data(96 * 1024 * 1024 + 12345, 2);
        write_file(p("big"), data);
        server s{ioc, dir};
        co_await s.client.async_init(asio::use_awaitable);
        std::vector<std::uint64_t> files, totals;
        sftp::transfer_options t;
        t.on_progress = [&](const sftp::transfer_progress& pr) {
          files.push_back(pr.file_bytes);
          totals.push_back(pr.total_bytes);
          EXPECT_EQ(pr.file_size, data.size());
        };
        auto n = co_await s.client.async_download(p("big"), p("got"), t, asio::use_awaitable);
        EXPECT_EQ(n, data.size());
        EXPECT_TRUE(read_file(p("got")) == data);
        EXPECT_GT(files.size(), 10u);
        EXPECT_TRUE(std::is_sorted(files.begin(), files.end()));
        EXPECT_TRUE(std::is_sorted(totals.begin(), totals.end()));
        EXPECT_EQ(files.empty() ? 0 : files.back(), data.size());

        files.clear();
        n = co_await s.client.async_upload(p("got"), p("up"), t, asio::use_awaitable);
        EXPECT_EQ(n, data.size());
        EXPECT_TRUE(read_file(p("up")) == data);
        EXPECT_TRUE(std::is_sorted(files.begin(), files.end()));
        EXPECT_EQ(files.empty() ? 0 : files.back(), data.size());
      },
      std::chrono::seconds(120));
}

// The server is killed once the transfer is past kill_at: the transfer fails, the destination is
// a prefix of the source (no holes), and a resumed transfer on a new server completes it.
TEST_F(SftpClientOpenSSH, DownloadResumesAfterTheServerWasKilled) {
  run_coroutine(
      [&](asio::io_context& ioc) -> asio::awaitable<void> {
        auto data = random_data(64 * 1024 * 1024, 3);
        write_file(p("big"), data);
        {
          server s{ioc, dir};
          co_await s.client.async_init(asio::use_awaitable);
          sftp::transfer_options t;
          bool killed = false;
          t.on_progress = [&](const sftp::transfer_progress& pr) {
            if (!killed && pr.file_bytes >= 20 * 1024 * 1024) {
              killed = true;
              ::kill(s.proc.pid(), SIGKILL);
            }
          };
          auto [ec, n] = co_await s.client.async_download(p("big"), p("got"), t, tuple);
          EXPECT_TRUE(killed);
          EXPECT_EQ(ec, sftp::status::connection_lost) << ec.message();
          auto have = read_file(p("got"));
          EXPECT_GE(have.size(), 20u * 1024 * 1024);
          EXPECT_LT(have.size(), data.size());
          EXPECT_EQ(n, have.size());
          EXPECT_TRUE(have == data.substr(0, have.size()));  // a prefix: never a hole
        }
        auto partial = fs::file_size(p("got"));
        server s{ioc, dir};
        co_await s.client.async_init(asio::use_awaitable);
        sftp::transfer_options t;
        t.resume = true;
        auto n = co_await s.client.async_download(p("big"), p("got"), t, asio::use_awaitable);
        EXPECT_EQ(n, data.size() - partial);
        EXPECT_TRUE(read_file(p("got")) == data);
      },
      std::chrono::seconds(120));
}

TEST_F(SftpClientOpenSSH, UploadResumesAfterTheServerWasKilled) {
  run_coroutine(
      [&](asio::io_context& ioc) -> asio::awaitable<void> {
        auto data = random_data(64 * 1024 * 1024, 4);
        write_file(p("src"), data);
        {
          server s{ioc, dir};
          co_await s.client.async_init(asio::use_awaitable);
          sftp::transfer_options t;
          bool killed = false;
          t.on_progress = [&](const sftp::transfer_progress& pr) {
            if (!killed && pr.file_bytes >= 20 * 1024 * 1024) {
              killed = true;
              ::kill(s.proc.pid(), SIGKILL);
            }
          };
          auto [ec, n] = co_await s.client.async_upload(p("src"), p("dst"), t, tuple);
          EXPECT_TRUE(killed);
          EXPECT_TRUE(ec);
        }
        auto have = read_file(p("dst"));
        EXPECT_LT(have.size(), data.size());
        EXPECT_TRUE(have == data.substr(0, have.size()));
        server s{ioc, dir};
        co_await s.client.async_init(asio::use_awaitable);
        sftp::transfer_options t;
        t.resume = true;
        auto n = co_await s.client.async_upload(p("src"), p("dst"), t, asio::use_awaitable);
        EXPECT_EQ(n, data.size() - have.size());
        EXPECT_TRUE(read_file(p("dst")) == data);
      },
      std::chrono::seconds(120));
}

TEST_F(SftpClientOpenSSH, AtomicUploadReplacesTheTargetOnlyWhenComplete) {
  run_coroutine(
      [&](asio::io_context& ioc) -> asio::awaitable<void> {
        auto data = random_data(8 * 1024 * 1024, 5);
        write_file(p("src"), data);
        write_file(p("dst"), "old contents");
        server s{ioc, dir};
        co_await s.client.async_init(asio::use_awaitable);
        sftp::transfer_options t;
        t.atomic = true;
        bool checked = false;
        t.on_progress = [&](const sftp::transfer_progress& pr) {
          if (!checked && pr.file_bytes > 0 && pr.file_bytes < data.size()) {
            checked = true;
            EXPECT_EQ(read_file(p("dst")), "old contents");  // untouched while in progress
            EXPECT_TRUE(fs::exists(p(".dst.ferry-part")));
          }
        };
        co_await s.client.async_upload(p("src"), p("dst"), t, asio::use_awaitable);
        EXPECT_TRUE(checked);
        EXPECT_TRUE(read_file(p("dst")) == data);
        EXPECT_FALSE(fs::exists(p(".dst.ferry-part")));
      },
      std::chrono::seconds(60));
}

void make_tree(const fs::path& root) {
  fs::create_directories(root / "a" / "b");
  fs::create_directories(root / "empty");
  write_file(root / "top.txt", "top");
  write_file(root / "a" / "one.bin", random_data(1'000'000, 6));
  write_file(root / "a" / "b" / "two.bin", random_data(300'001, 7));
  write_file(root / "a" / "b" / "zero", "");
  fs::create_symlink("top.txt", root / "link");  // not a regular file: skipped
  ::chmod((root / "top.txt").c_str(), 0640);
  ::chmod((root / "a" / "one.bin").c_str(), 0600);
  ::chmod((root / "a" / "b").c_str(), 0750);
  std::int64_t t = 1300000000;
  for (auto& e : fs::recursive_directory_iterator(root)) {
    if (e.is_symlink()) continue;
    struct timespec ts[2] = {{static_cast<time_t>(t), 0}, {static_cast<time_t>(t + 7), 0}};
    ::utimensat(AT_FDCWD, e.path().c_str(), ts, 0);
    t += 100;
  }
  struct timespec ts[2] = {{1300000000, 0}, {1300000001, 0}};
  ::utimensat(AT_FDCWD, root.c_str(), ts, 0);
}

// Same files, contents, permission bits and mtimes (symlinks left out of the copy).
void expect_same_tree(const fs::path& a, const fs::path& b) {
  std::size_t count = 0;
  for (auto& e : fs::recursive_directory_iterator(a)) {
    auto rel = e.path().lexically_relative(a);
    auto other = b / rel;
    if (e.is_symlink()) {
      EXPECT_FALSE(fs::exists(fs::symlink_status(other))) << rel;
      continue;
    }
    ++count;
    struct stat sa {}, sb {};
    ASSERT_EQ(::lstat(e.path().c_str(), &sa), 0);
    ASSERT_EQ(::lstat(other.c_str(), &sb), 0) << rel;
    EXPECT_EQ(sa.st_mode, sb.st_mode) << rel;
    EXPECT_EQ(sa.st_mtime, sb.st_mtime) << rel;
    if (e.is_regular_file()) {
      EXPECT_TRUE(read_file(e.path()) == read_file(other)) << rel;
    }
  }
  EXPECT_EQ(count, 7u);
  struct stat ra {}, rb {};
  ::stat(a.c_str(), &ra);
  ::stat(b.c_str(), &rb);
  EXPECT_EQ(ra.st_mtime, rb.st_mtime);
}

TEST_F(SftpClientOpenSSH, RecursiveUploadAndDownloadPreserveTimesAndModes) {
  run_coroutine(
      [&](asio::io_context& ioc) -> asio::awaitable<void> {
        make_tree(dir / "tree");
        server s{ioc, dir};
        co_await s.client.async_init(asio::use_awaitable);
        sftp::transfer_options t;
        t.preserve = true;
        auto [uec, un] = co_await s.client.async_upload(p("tree"), p("remote"), t, tuple);
        EXPECT_TRUE(uec) << "a directory needs recursive";
        auto n = co_await s.client.async_upload(p("tree"), p("remote"), t.with_recursive(),
                                                asio::use_awaitable);
        EXPECT_EQ(n, 3u + 1'000'000 + 300'001);
        expect_same_tree(dir / "tree", dir / "remote");
        n = co_await s.client.async_download(p("remote"), p("back"), t.with_recursive(),
                                             asio::use_awaitable);
        EXPECT_EQ(n, 3u + 1'000'000 + 300'001);
        expect_same_tree(dir / "tree", dir / "back");
      },
      std::chrono::seconds(60));
}

}  // namespace
