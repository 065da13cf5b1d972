// ferry-scp end to end: uploads and downloads of files and -r trees with -p, in SFTP mode (the
// default) and legacy mode (-O), to a private OpenSSH sshd and to ferry-server, compared byte
// for byte with modes and times; passwords, a jump through sshd, and the errors a user meets
// (missing file, bad host, wrong password) as one line and a non-zero status.
#include "interop/sshd_fixture.hpp"
#include "support/ferry_server.hpp"
#include "support/process.hpp"
#include "support/programs.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <random>
#include <string>

namespace {

using namespace ferry_test_support;
namespace fs = std::filesystem;

std::string make_data(std::size_t size, unsigned seed) {
  std::mt19937 rng{seed};
  std::string s(size, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

std::size_t lines(const std::string& s) {
  std::size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

// Runs ferry-scp in dir with HOME=dir/home; output is stdout and stderr together.
shell_result ferry_scp(const fs::path& dir, const std::string& args, const std::string& env = {}) {
  fs::create_directories(dir / "home");
  return run_shell(dir, "env -u SSH_AUTH_SOCK -u SSH_ASKPASS -u DISPLAY HOME=" +
                            shell_quote((dir / "home").string()) + " " + env + " " +
                            shell_quote(built_program("ferry-scp")) + " " + args + " 2>&1");
}

// A tree with awkward sizes, an empty file, an empty directory, odd names and set modes/times.
void make_tree(const fs::path& t) {
  fs::create_directories(t / "a" / "b");
  fs::create_directories(t / "empty");
  write_file(t / "top.bin", make_data(300000, 7));
  write_file(t / "a" / "b" / "deep.bin", make_data(70000, 8));
  write_file(t / "a" / "zero", "");
  write_file(t / "a" / "name with spaces;$(x)", "odd\n");
  ::chmod((t / "top.bin").c_str(), 0640);
  ::chmod((t / "a" / "zero").c_str(), 0600);
  struct timespec times[2] = {{1600000000, 0}, {1600000000, 0}};
  ::utimensat(AT_FDCWD, (t / "top.bin").c_str(), times, 0);
  ::utimensat(AT_FDCWD, (t / "a" / "b" / "deep.bin").c_str(), times, 0);
}

// Same files with the same bytes (and, with preserve, the same modes and modification times).
void expect_same_tree(const fs::path& a, const fs::path& b, bool preserve) {
  std::size_t files = 0;
  for (auto& e : fs::recursive_directory_iterator(a)) {
    auto rel = fs::relative(e.path(), a);
    auto other = b / rel;
    ASSERT_TRUE(fs::exists(other)) << other;
    if (e.is_regular_file()) {
      ++files;
      EXPECT_TRUE(read_file(e.path()) == read_file(other)) << rel;
      if (preserve) {
        struct stat sa {}, sb {};
        ::stat(e.path().c_str(), &sa);
        ::stat(other.c_str(), &sb);
        EXPECT_EQ(sa.st_mode & 07777, sb.st_mode & 07777) << rel;
        EXPECT_EQ(sa.st_mtime, sb.st_mtime) << rel;
      }
    } else {
      EXPECT_TRUE(fs::is_directory(other)) << rel;
    }
  }
  EXPECT_GT(files, 0u);
}

struct peer {
  std::string options;  // -P, -i, -o ...
  std::string user_host;
  fs::path remote_dir;  // where "dir" on the remote lands on this machine
  std::string remote_prefix;
};

void round_trip(const fs::path& dir, const peer& p, const std::string& mode) {
  SCOPED_TRACE("mode '" + mode + "' to " + p.user_host);
  auto local = dir / ("local" + mode);
  fs::create_directories(local);
  make_tree(local / "tree");
  write_file(local / "one.bin", make_data((1u << 20) + 17, 11));
  write_file(local / "two.txt", "two\n");
  std::string tag = mode.empty() ? "sftp" : "legacy";
  fs::create_directories(p.remote_dir / tag);
  auto remote = p.user_host + ":" + p.remote_prefix + tag;
  // One file, then several files into a directory, then a tree with -p.
  auto up1 = ferry_scp(dir, mode + " " + p.options + " local" + mode + "/one.bin " + remote + "/renamed.bin");
  ASSERT_EQ(up1.status, 0) << up1.output;
  EXPECT_EQ(up1.output, "");  // not a TTY: no progress line
  EXPECT_TRUE(read_file(p.remote_dir / tag / "renamed.bin") == read_file(local / "one.bin"));
  auto up2 = ferry_scp(dir, mode + " " + p.options + " local" + mode + "/one.bin local" + mode +
                                "/two.txt " + remote);
  ASSERT_EQ(up2.status, 0) << up2.output;
  EXPECT_EQ(read_file(p.remote_dir / tag / "two.txt"), "two\n");
  auto up3 = ferry_scp(dir, mode + " -r -p " + p.options + " local" + mode + "/tree " + remote);
  ASSERT_EQ(up3.status, 0) << up3.output;
  expect_same_tree(local / "tree", p.remote_dir / tag / "tree", true);

  auto back = dir / ("back" + mode);
  fs::create_directories(back);
  auto down1 = ferry_scp(dir, mode + " " + p.options + " " + remote + "/renamed.bin back" + mode + "/got.bin");
  ASSERT_EQ(down1.status, 0) << down1.output;
  EXPECT_TRUE(read_file(back / "got.bin") == read_file(local / "one.bin"));
  auto down2 = ferry_scp(dir, mode + " -rp " + p.options + " " + remote + "/tree back" + mode);
  ASSERT_EQ(down2.status, 0) << down2.output;
  expect_same_tree(local / "tree", back / "tree", true);

  // A missing remote file: scp's one line, status 1, the other file still copied.
  auto missing = ferry_scp(dir, mode + " " + p.options + " " + remote + "/nope " + remote +
                                    "/two.txt back" + mode);
  EXPECT_EQ(missing.status, 1) << missing.output;
  EXPECT_NE(missing.output.find("nope"), std::string::npos) << missing.output;
  EXPECT_EQ(lines(missing.output), 1u) << missing.output;
  EXPECT_EQ(read_file(back / "two.txt"), "two\n");
  // A missing local file.
  auto missing_local = ferry_scp(dir, mode + " " + p.options + " local" + mode + "/nope " + remote);
  EXPECT_EQ(missing_local.status, 1) << missing_local.output;
  EXPECT_EQ(lines(missing_local.output), 1u) << missing_local.output;
}

TEST(FerryScp, BothModesToOpenSshSshdFilesAndTreesWithPreserve) {
  ferry::interop::sshd daemon;
  temp_dir dir{"ferry-scp-test-"};
  auto remote_root = dir / "remote";
  fs::create_directories(remote_root);
  peer p{"-F /dev/null -P " + std::to_string(daemon.port()) + " -i " +
             shell_quote(daemon.user_key().string()) +
             " -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null",
         "root@127.0.0.1", remote_root, remote_root.string() + "/"};
  for (std::string mode : {"", "-O"}) round_trip(dir.path(), p, mode);
}

TEST(FerryScp, BothModesToFerryServerFilesAndTreesWithPreserve) {
  server_fixture server;
  temp_dir dir{"ferry-scp-test-"};
  peer p{"-F /dev/null -P " + std::to_string(server.ssh_port()) + " -i " + shell_quote(server.key_path()) +
             " -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null",
         "alice@127.0.0.1", server.root(), ""};
  for (std::string mode : {"", "-O"}) round_trip(dir.path(), p, mode);
}

TEST(FerryScp, PasswordsFromFerryPasswordAndAskpassWrongPasswordFails) {
  server_fixture server;
  temp_dir dir{"ferry-scp-test-"};
  write_file(dir / "f.txt", "payload\n");
  auto opts = "-F /dev/null -P " + std::to_string(server.ssh_port()) +
              " -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"
              " -o PubkeyAuthentication=no ";
  auto env_pw = ferry_scp(dir.path(), opts + "f.txt alice@127.0.0.1:a.txt", "FERRY_PASSWORD=pw-alice");
  EXPECT_EQ(env_pw.status, 0) << env_pw.output;
  EXPECT_EQ(read_file(server.root() / "a.txt"), "payload\n");

  write_file(dir / "askpass.sh", "#!/bin/sh\necho pw-alice\n");
  ::chmod((dir / "askpass.sh").c_str(), 0755);
  auto ask = ferry_scp(dir.path(), opts + "-O f.txt alice@127.0.0.1:b.txt",
                       "SSH_ASKPASS=" + (dir / "askpass.sh").string() + " SSH_ASKPASS_REQUIRE=force");
  EXPECT_EQ(ask.status, 0) << ask.output;
  EXPECT_EQ(read_file(server.root() / "b.txt"), "payload\n");

  auto wrong = ferry_scp(dir.path(), opts + "f.txt alice@127.0.0.1:c.txt", "FERRY_PASSWORD=wrong");
  EXPECT_NE(wrong.status, 0);
  EXPECT_NE(wrong.output.find("Permission denied"), std::string::npos) << wrong.output;
  EXPECT_EQ(lines(wrong.output), 1u) << wrong.output;
  EXPECT_FALSE(fs::exists(server.root() / "c.txt"));

  auto bad_host = ferry_scp(dir.path(), "-F /dev/null f.txt no-such-host.invalid:x");
  EXPECT_NE(bad_host.status, 0);
  EXPECT_EQ(lines(bad_host.output), 1u) << bad_host.output;
}

TEST(FerryScp, ProxyJumpThroughSshdToFerryServer) {
  ferry::interop::sshd daemon;
  server_fixture server;
  temp_dir dir{"ferry-scp-test-"};
  fs::create_directories(dir / "home" / ".ssh");
  fs::copy_file(daemon.user_key(), dir / "home" / ".ssh" / "id_ed25519");
  write_file(dir / "big.bin", make_data(3u << 20, 5));
  auto r = ferry_scp(dir.path(), "-F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"
                                 " -J root@127.0.0.1:" + std::to_string(daemon.port()) + " -i " +
                                     shell_quote(server.key_path()) + " -P " +
                                     std::to_string(server.ssh_port()) + " big.bin alice@127.0.0.1:");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(read_file(server.root() / "big.bin") == read_file(dir / "big.bin"));
  EXPECT_NE(daemon.log().find("direct-tcpip"), std::string::npos);
}

}  // namespace
