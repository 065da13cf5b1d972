// ferry-sftp (examples/ferry_sftp.cpp) run as a person runs it, in batch mode, against real
// servers: OpenSSH's sftp-server and ferry-sftp-server over pipes (-D), ferry-server over SSH with a
// key, and a private OpenSSH sshd. Every transferred file is compared byte for byte; trees with -p
// keep modes and times; reget/reput continue truncated files; a failing command ends a batch with
// one line on stderr and status 1 unless it is prefixed with '-'; pwd and ls -1 print what
// OpenSSH's sftp prints for the same batch.
#include "interop/sshd_fixture.hpp"
#include "support/process.hpp"
#include "support/programs.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace ferry_test_support;
using namespace std::chrono_literals;
namespace stdfs = std::filesystem;

const std::string openssh_sftp_server = "/usr/lib/openssh/sftp-server";

std::string make_data(std::size_t size, unsigned seed) {
  std::mt19937 rng{seed};
  std::string s(size, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

struct run_result {
  int status = -1;
  std::string out;
  std::string err;
};

// Runs a program (its path the first word) with a batch file in dir; stdout and stderr apart.
run_result run_batch(const stdfs::path& dir, const std::string& program_and_args,
                     const std::string& batch, std::chrono::seconds timeout = 300s) {
  write_file(dir / ".batch", batch);
  // -b goes right after the program: options end at the destination
  auto sp = program_and_args.find(' ');
  auto command = program_and_args.substr(0, sp) + " -b .batch" +
                 (sp == std::string::npos ? std::string{} : program_and_args.substr(sp));
  auto r = run_shell(dir, command + " >.out 2>.err", timeout);
  return {r.status, read_file(dir / ".out"), read_file(dir / ".err")};
}

std::string ferry_sftp() { return shell_quote(built_program("ferry-sftp", "FERRY_SFTP")); }

std::size_t lines(const std::string& s) {
  std::size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

const std::vector<std::size_t> sizes{0, 1, 32768, (1u << 20) + 1, 64u << 20};

// put every size, get each back under another name, compare; remote_dir is where the server
// puts them (a local directory, since every server here runs on this machine).
void round_trip_sizes(const std::string& command, const stdfs::path& local, const stdfs::path& remote_dir,
                      const std::string& remote_prefix, const std::vector<std::size_t>& which = sizes) {
  std::string batch = "cd " + remote_prefix + "\n";
  for (std::size_t i = 0; i < which.size(); ++i) {
    write_file(local / ("f" + std::to_string(i)), make_data(which[i], unsigned(i + 1)));
    batch += "put f" + std::to_string(i) + "\n";
  }
  for (std::size_t i = 0; i < which.size(); ++i)
    batch += "get f" + std::to_string(i) + " back" + std::to_string(i) + "\n";
  auto r = run_batch(local, command, batch);
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(r.err, "");
  for (std::size_t i = 0; i < which.size(); ++i) {
    auto original = read_file(local / ("f" + std::to_string(i)));
    ASSERT_EQ(original.size(), which[i]);
    EXPECT_TRUE(read_file(remote_dir / ("f" + std::to_string(i))) == original) << "put size " << which[i];
    EXPECT_TRUE(read_file(local / ("back" + std::to_string(i))) == original) << "get size " << which[i];
  }
}

// A tree with files, an empty directory and odd modes, for get -r / put -r with -p.
void make_tree(const stdfs::path& top) {
  stdfs::create_directories(top / "sub" / "deeper");
  stdfs::create_directories(top / "empty");
  write_file(top / "a.txt", "alpha\n");
  write_file(top / "sub" / "b.bin", make_data(100000, 7));
  write_file(top / "sub" / "deeper" / "c", "");
  ::chmod((top / "a.txt").c_str(), 0640);
  ::chmod((top / "sub" / "b.bin").c_str(), 0600);
  ::chmod((top / "sub").c_str(), 0750);
  // times in the past, so "preserved" cannot happen by accident
  for (auto p : {top / "a.txt", top / "sub" / "b.bin", top / "sub" / "deeper" / "c", top / "sub"}) {
    struct timespec ts[2] = {{1000000000, 0}, {1100000000, 0}};
    ::utimensat(AT_FDCWD, p.c_str(), ts, AT_SYMLINK_NOFOLLOW);
  }
}

void expect_same_tree(const stdfs::path& a, const stdfs::path& b, bool times_and_modes) {
  for (auto rel : {"a.txt", "sub/b.bin", "sub/deeper/c"}) {
    EXPECT_TRUE(read_file(a / rel) == read_file(b / rel)) << rel;
    if (!times_and_modes) continue;
    struct stat sa {}, sb {};
    ASSERT_EQ(::stat((a / rel).c_str(), &sa), 0);
    ASSERT_EQ(::stat((b / rel).c_str(), &sb), 0) << (b / rel);
    EXPECT_EQ(sa.st_mode & 07777, sb.st_mode & 07777) << rel;
    EXPECT_EQ(sa.st_mtime, sb.st_mtime) << rel;
  }
  EXPECT_TRUE(stdfs::is_directory(b / "empty"));
  if (times_and_modes) {
    struct stat sa {}, sb {};
    ::stat((a / "sub").c_str(), &sa);
    ::stat((b / "sub").c_str(), &sb);
    EXPECT_EQ(sa.st_mode & 07777, sb.st_mode & 07777);
    EXPECT_EQ(sa.st_mtime, sb.st_mtime);
  }
}

// --- -D /usr/lib/openssh/sftp-server ------------------------------------------------------------

class DirectOpenSsh : public ::testing::Test {
 protected:
  void SetUp() override {
    stdfs::create_directories(local());
    stdfs::create_directories(remote());
  }
  stdfs::path local() const { return dir_ / "local"; }
  stdfs::path remote() const { return dir_ / "remote"; }
  std::string command() const { return ferry_sftp() + " -D " + openssh_sftp_server; }
  temp_dir dir_{"ferry-sftp-test-"};
};

TEST_F(DirectOpenSsh, FilesOfEveryAwkwardSizeGoBothWaysByteForByte) {
  round_trip_sizes(command(), local(), remote(), remote().string());
}

TEST_F(DirectOpenSsh, SmallRequestsAndFewInFlightStillMoveEveryByte) {
  round_trip_sizes(ferry_sftp() + " -R 2 -B 1000 -D " + openssh_sftp_server, local(), remote(),
                   remote().string(), {0, 1, 32768, (1u << 20) + 1});
}

TEST_F(DirectOpenSsh, TheWholeCommandSet) {
  write_file(local() / "one.txt", "one\n");
  write_file(local() / "two.txt", "two\n");
  write_file(local() / "skip.dat", "x");
  std::string r = remote().string();
  std::string batch =
      "cd " + r + "\n"
      "pwd\n"
      "lpwd\n"
      "put *.txt\n"
      "ls -1\n"
      "mkdir d\n"
      "rename one.txt d/uno.txt\n"
      "ln -s two.txt link\n"
      "ln two.txt hard\n"
      "symlink d/uno.txt link2\n"
      "chmod 600 two.txt\n"
      "chown " + std::to_string(::getuid()) + " two.txt\n"
      "chgrp " + std::to_string(::getgid()) + " two.txt\n"
      "ls -l two.txt\n"
      "ls -1 d\n"
      "ls -1a\n"
      "ls -1 *.txt\n"
      "df\n"
      "df -h\n"
      "df -i\n"
      "lmkdir got\n"
      "lcd got\n"
      "get d/*.txt\n"
      "lcd ..\n"
      "rm hard\n"
      "rm d/uno.txt\n"
      "rmdir d\n"
      "lumask 022\n"
      "version\n"
      "progress\n"
      "help\n"
      "!true\n"
      "lls\n"
      "bye\n"
      "pwd\n";
  auto res = run_batch(local(), command(), batch);
  ASSERT_EQ(res.status, 0) << res.out << res.err;
  EXPECT_EQ(res.err, "");
  const auto& o = res.out;
  EXPECT_NE(o.find("sftp> pwd\nRemote working directory: " + r + "\n"), std::string::npos) << o;
  EXPECT_NE(o.find("Local working directory: " + local().string() + "\n"), std::string::npos);
  EXPECT_NE(o.find("sftp> ls -1\none.txt\ntwo.txt\nsftp>"), std::string::npos) << o;
  EXPECT_NE(o.find("sftp> ls -1 d\nd/uno.txt\n"), std::string::npos) << o;
  EXPECT_NE(o.find("sftp> ls -1 *.txt\ntwo.txt\n"), std::string::npos) << o;
  EXPECT_NE(o.find("-rw-------"), std::string::npos) << o;
  EXPECT_NE(o.find("%Capacity"), std::string::npos);
  EXPECT_NE(o.find("SFTP protocol version 3"), std::string::npos);
  EXPECT_NE(o.find("Progress meter enabled"), std::string::npos);
  EXPECT_NE(o.find("Available commands:"), std::string::npos);
  EXPECT_NE(o.find("skip.dat"), std::string::npos);  // lls
  EXPECT_EQ(o.find("sftp> bye\nsftp> pwd"), std::string::npos) << "commands after bye ran";
  // what the server's file system says
  EXPECT_FALSE(stdfs::exists(remote() / "one.txt"));
  EXPECT_FALSE(stdfs::exists(remote() / "d"));
  EXPECT_FALSE(stdfs::exists(remote() / "hard"));
  EXPECT_FALSE(stdfs::exists(remote() / "skip.dat"));
  EXPECT_EQ(stdfs::read_symlink(remote() / "link"), "two.txt");
  EXPECT_EQ(stdfs::read_symlink(remote() / "link2"), "d/uno.txt");
  EXPECT_EQ(stdfs::status(remote() / "two.txt").permissions(),
            stdfs::perms::owner_read | stdfs::perms::owner_write);
  EXPECT_EQ(read_file(local() / "got" / "uno.txt"), "one\n");
}

TEST_F(DirectOpenSsh, TreesWithPreserveBothWays) {
  make_tree(local() / "tree");
  std::string r = remote().string();
  auto res = run_batch(local(), command(),
                       "cd " + r + "\nput -r -p tree\nmkdir copies\nput -rp tree copies\nlcd ..\n"
                       "get -r -p " + r + "/tree back\n");
  ASSERT_EQ(res.status, 0) << res.out << res.err;
  expect_same_tree(local() / "tree", remote() / "tree", true);
  expect_same_tree(local() / "tree", remote() / "copies" / "tree", true);
  expect_same_tree(local() / "tree", dir_ / "back", true);
  // without -r a directory is refused with one line
  auto bad = run_batch(local(), command(), "cd " + r + "\nget tree\n");
  EXPECT_EQ(bad.status, 1);
  EXPECT_EQ(lines(bad.err), 1u) << bad.err;
  EXPECT_NE(bad.err.find("-r"), std::string::npos) << bad.err;
}

TEST_F(DirectOpenSsh, RegetAndReputContinueTruncatedFiles) {
  auto data = make_data((3u << 20) + 123, 42);
  write_file(remote() / "down.bin", data);
  write_file(local() / "down.bin", data.substr(0, 1000000));
  write_file(local() / "down2.bin", data.substr(0, 77));
  write_file(local() / "up.bin", data);
  write_file(remote() / "up.bin", data.substr(0, 2000001));
  write_file(remote() / "up2.bin", data.substr(0, 5));
  write_file(local() / "up2.bin", data);
  std::string r = remote().string();
  auto res = run_batch(local(), command(),
                       "cd " + r + "\nreget down.bin\nget -a down.bin down2.bin\nreput up.bin\nput -a up2.bin\n");
  ASSERT_EQ(res.status, 0) << res.out << res.err;
  EXPECT_TRUE(read_file(local() / "down.bin") == data);
  EXPECT_TRUE(read_file(local() / "down2.bin") == data);
  EXPECT_TRUE(read_file(remote() / "up.bin") == data);
  EXPECT_TRUE(read_file(remote() / "up2.bin") == data);
  // a local file longer than the remote one cannot be resumed: an error, the file untouched
  write_file(local() / "long.bin", data + "extra");
  write_file(remote() / "long.bin", data);
  auto bad = run_batch(local(), command(), "cd " + r + "\nreget long.bin\n");
  EXPECT_EQ(bad.status, 1);
  EXPECT_EQ(lines(bad.err), 1u) << bad.err;
  EXPECT_TRUE(read_file(local() / "long.bin") == data + "extra");
}

TEST_F(DirectOpenSsh, AFailingCommandEndsTheBatchWithOneLineUnlessPrefixed) {
  std::string r = remote().string();
  auto res = run_batch(local(), command(), "cd " + r + "\nget nothere\npwd\n");
  EXPECT_EQ(res.status, 1);
  EXPECT_EQ(lines(res.err), 1u) << res.err;
  EXPECT_NE(res.err.find("nothere"), std::string::npos) << res.err;
  EXPECT_EQ(res.out.find("Remote working directory"), std::string::npos) << res.out;
  EXPECT_FALSE(stdfs::exists(local() / "nothere"));

  auto kept = run_batch(local(), command(), "cd " + r + "\n-get nothere\n-rm nothere\n-frobnicate\npwd\n");
  EXPECT_EQ(kept.status, 0) << kept.err;
  EXPECT_EQ(lines(kept.err), 3u) << kept.err;
  EXPECT_NE(kept.out.find("Remote working directory: " + r), std::string::npos) << kept.out;

  for (const std::string& bad : std::vector<std::string>{"cd /no/such/dir\n", "frobnicate\n", "get 'unterminated\n", "chmod 9x f\n",
                          "mkdir " + r + "/a/b/c\n", "rmdir " + r + "/none\n", "put missing.txt\n",
                          "ls /no/such\n", "rename " + r + "/x " + r + "/y\n"}) {
    auto e = run_batch(local(), command(), bad);
    EXPECT_EQ(e.status, 1) << bad;
    EXPECT_EQ(lines(e.err), 1u) << bad << e.err;
  }
}

TEST_F(DirectOpenSsh, PwdAndLsMatchOpenSshSftp) {
  write_file(remote() / "b file", "b");
  write_file(remote() / "a", "a");
  write_file(remote() / ".hidden", "h");
  stdfs::create_directories(remote() / "zdir");
  write_file(remote() / "zdir" / "inner", "i");
  std::string r = remote().string();
  std::string batch = "cd " + r + "\npwd\nls -1\nls -1 zdir\nls -1 *\ncd zdir\npwd\ncd ..\nls -1 -a\n";
  auto ours = run_batch(local(), command(), batch);
  auto theirs = run_batch(local(), "sftp -D " + openssh_sftp_server, batch);
  ASSERT_EQ(theirs.status, 0) << theirs.err;
  ASSERT_EQ(ours.status, 0) << ours.err;
  // OpenSSH's ls -a also shows . and .. (ferry's client leaves them out of listings)
  auto drop_dots = [](std::string s) {
    for (auto d : {"\n.\n", "\n..\n"}) {
      auto at = s.find(d);
      if (at != std::string::npos) s.erase(at, std::string{d}.size() - 1);
    }
    return s;
  };
  EXPECT_EQ(drop_dots(ours.out), drop_dots(theirs.out));
}

TEST_F(DirectOpenSsh, AStartingPathChangesDirectoryOrDownloads) {
  stdfs::create_directories(remote() / "start");
  write_file(remote() / "file.txt", "payload");
  write_file(dir_ / "cmds", "pwd\n");
  auto cd = run_shell(local(), ferry_sftp() + " -b ../cmds -D " + openssh_sftp_server + " " +
                                   shell_quote((remote() / "start").string()) + " 2>&1");
  EXPECT_EQ(cd.status, 0) << cd.output;
  EXPECT_NE(cd.output.find("Remote working directory: " + (remote() / "start").string()), std::string::npos)
      << cd.output;
  auto get = run_shell(local(), ferry_sftp() + " -q -D " + openssh_sftp_server + " " +
                                    shell_quote((remote() / "file.txt").string()) + " 2>&1");
  EXPECT_EQ(get.status, 0) << get.output;
  EXPECT_EQ(read_file(local() / "file.txt"), "payload");
}

TEST_F(DirectOpenSsh, BatchFromStdinAndQuietMode) {
  write_file(local() / "x", "x");
  write_file(dir_ / "cmds", "cd " + remote().string() + "\nput x\n");
  auto r = run_shell(local(), ferry_sftp() + " -q -b - -D " + openssh_sftp_server + " < ../cmds 2>&1");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output.find("Uploading"), std::string::npos) << r.output;
  EXPECT_EQ(read_file(remote() / "x"), "x");
}

TEST_F(DirectOpenSsh, UsageErrorsExitWithTwo) {
  EXPECT_EQ(run_shell(local(), ferry_sftp() + " -Z host 2>/dev/null").status, 2);
  EXPECT_EQ(run_shell(local(), ferry_sftp() + " 2>/dev/null").status, 2);
  EXPECT_EQ(run_shell(local(), ferry_sftp() + " -R 0 -D x 2>/dev/null").status, 2);
}

// --- -D ferry-sftp-server -----------------------------------------------------------------------

TEST(DirectFerry, SizesAndTreesAgainstFerrySftpServer) {
  temp_dir dir{"ferry-sftp-test-"};
  stdfs::create_directories(dir / "local");
  stdfs::create_directories(dir / "remote");
  auto server = built_program("ferry-sftp-server", "FERRY_SFTP_SERVER");
  // ferry-sftp-server serves the file system as sftp-server does; -d is where it starts.
  auto remote = (dir / "remote").string();
  auto cmd = ferry_sftp() + " -D '" + server + " -d " + remote + "'";
  round_trip_sizes(cmd, dir / "local", dir / "remote", remote, {0, 1, 32768, (1u << 20) + 1});
  make_tree(dir / "local" / "tree");
  auto r = run_batch(dir / "local", cmd, "put -r -p tree\nlcd ..\nget -rp tree back\nls -l tree\n");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  expect_same_tree(dir / "local" / "tree", dir / "remote" / "tree", true);
  expect_same_tree(dir / "local" / "tree", dir / "back", true);
  EXPECT_NE(r.out.find("a.txt"), std::string::npos);
}

// --- over SSH -----------------------------------------------------------------------------------

std::string ssh_args(const std::string& key, std::uint16_t port, const std::string& user) {
  return " -F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -i " +
         shell_quote(key) + " -P " + std::to_string(port) + " " + user + "@127.0.0.1";
}

// ferry-server on free loopback ports over a fresh root, user alice with a key; stopped by pid.
class FerryServerSsh : public ::testing::Test {
 protected:
  void SetUp() override {
    stdfs::create_directories(dir_ / "root");
    stdfs::create_directories(local());
    ASSERT_EQ(run_shell(dir_.path(), "ssh-keygen -q -t ed25519 -N '' -f userkey").status, 0);
    std::vector<std::string> argv{built_program("ferry-server", "FERRY_SERVER"), "--root", (dir_ / "root").string(),
                                  "--state-dir", (dir_ / "state").string(), "--ssh-port", std::to_string(port_),
                                  "--ftp-port", std::to_string(free_port()), "--threads", "2",
                                  "--user", "alice:pw-alice", "--authorized-keys", (dir_ / "userkey.pub").string()};
    server_ = std::make_unique<process>(argv, dir_ / "server.log");
    auto until = std::chrono::steady_clock::now() + 60s;
    while (std::chrono::steady_clock::now() < until) {
      if (read_file(dir_ / "server.log").find("\nready\n") != std::string::npos && port_open(port_)) return;
      if (!server_->running()) break;
      std::this_thread::sleep_for(20ms);
    }
    FAIL() << "ferry-server did not start:\n" << read_file(dir_ / "server.log");
  }
  stdfs::path local() const { return dir_ / "local"; }
  stdfs::path root() const { return dir_ / "root"; }
  std::string command() const { return ferry_sftp() + ssh_args((dir_ / "userkey").string(), port_, "alice"); }

  temp_dir dir_{"ferry-sftp-ssh-"};
  std::uint16_t port_ = free_port();
  std::unique_ptr<process> server_;
};

TEST_F(FerryServerSsh, FilesOfEveryAwkwardSizeGoBothWaysByteForByte) {
  round_trip_sizes(command(), local(), root(), "/");
}

TEST_F(FerryServerSsh, TreesResumeAndErrors) {
  make_tree(local() / "tree");
  auto data = make_data((2u << 20) + 5, 9);
  write_file(local() / "up.bin", data);
  write_file(root() / "up.bin", data.substr(0, 100000));
  write_file(root() / "down.bin", data);
  write_file(local() / "down.bin", data.substr(0, 3));
  auto r = run_batch(local(), command(),
                     "pwd\nput -r -p tree\nreput up.bin\nreget down.bin\nlcd ..\nget -r -p tree back\nls -1\n");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Remote working directory: /\n"), std::string::npos) << r.out;
  expect_same_tree(local() / "tree", root() / "tree", true);
  expect_same_tree(local() / "tree", dir_ / "back", true);
  EXPECT_TRUE(read_file(root() / "up.bin") == data);
  EXPECT_TRUE(read_file(local() / "down.bin") == data);
  EXPECT_NE(r.out.find("sftp> ls -1\ndown.bin\ntree\nup.bin\n"), std::string::npos) << r.out;

  auto bad = run_batch(local(), command(), "get /nothere\npwd\n");
  EXPECT_EQ(bad.status, 1);
  EXPECT_EQ(lines(bad.err), 1u) << bad.err;
  // the jail: nothing outside the root
  auto out = run_batch(local(), command(), "cd /..\npwd\n");
  EXPECT_NE(out.out.find("Remote working directory: /\n"), std::string::npos) << out.out << out.err;
}

TEST_F(FerryServerSsh, AFailedLoginIsOneLineAndStatus255) {
  ASSERT_EQ(run_shell(dir_.path(), "ssh-keygen -q -t ed25519 -N '' -f otherkey").status, 0);
  auto r = run_batch(local(), ferry_sftp() + ssh_args((dir_ / "otherkey").string(), port_, "alice"), "pwd\n");
  EXPECT_EQ(r.status, 255);
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("Permission denied"), std::string::npos) << r.err;
}

TEST(OpenSshSshd, SizesTreesAndListingsMatchOpenSshSftp) {
  ferry::interop::sshd d;
  temp_dir dir{"ferry-sftp-sshd-"};
  stdfs::create_directories(dir / "local");
  stdfs::create_directories(dir / "remote");
  auto args = ssh_args(d.user_key().string(), d.port(), "root");
  auto command = ferry_sftp() + args;
  auto remote = (dir / "remote").string();
  round_trip_sizes(command, dir / "local", dir / "remote", remote);
  make_tree(dir / "local" / "tree");
  auto r = run_batch(dir / "local", command, "cd " + remote + "\nput -rp tree\nlcd ..\nget -pr tree back\n");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  expect_same_tree(dir / "local" / "tree", dir / "remote" / "tree", true);
  expect_same_tree(dir / "local" / "tree", dir / "back", true);

  std::string batch = "cd " + remote + "\npwd\nls -1\nls -1 tree\nls -1 tree/*\n";
  auto ours = run_batch(dir / "local", command, batch);
  auto theirs = run_batch(dir / "local", "sftp" + args, batch);
  ASSERT_EQ(ours.status, 0) << ours.err;
  ASSERT_EQ(theirs.status, 0) << theirs.err;
  EXPECT_EQ(ours.out, theirs.out);
}

}  // namespace
