// ferry-server end to end, driven by the real clients: OpenSSH sftp (batch), scp (SFTP mode and
// -O legacy), ssh, and curl for FTP/FTPS. Every transferred file is compared byte for byte; the
// jail, read-only mode, refused exec, state persistence, the generated user and a graceful stop are
// checked from the outside, as a person running the program would see them.
#include "support/ferry_server.hpp"
#include "support/process.hpp"
#include "support/programs.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <random>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace ferry_test_support;
using namespace std::chrono_literals;

std::string make_data(std::size_t size, unsigned seed) {
  std::mt19937 rng{seed};
  std::string s(size, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

TEST(FerryServer, OpenSshSftpBatchMovesFilesOfEveryAwkwardSizeByteForByte) {
  server_fixture s;
  std::vector<std::size_t> sizes{0, 1, 32767, 32768, 32769, (1u << 20) + 1, 8u << 20};
  std::string batch;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    write_file(s.client() / ("f" + std::to_string(i)), make_data(sizes[i], unsigned(i)));
    batch += "put f" + std::to_string(i) + "\n";
  }
  batch += "mkdir sub\nrename f1 sub/moved\nls -l sub\n";
  for (std::size_t i = 0; i < sizes.size(); ++i)
    if (i != 1) batch += "get f" + std::to_string(i) + " back" + std::to_string(i) + "\n";
  batch += "get sub/moved back1\nrm f0\n";
  auto r = s.sftp_batch(batch);
  ASSERT_EQ(r.status, 0) << r.output << s.log();
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    auto original = read_file(s.client() / ("f" + std::to_string(i)));
    EXPECT_EQ(read_file(s.client() / ("back" + std::to_string(i))), original) << "size " << sizes[i];
  }
  EXPECT_TRUE(std::filesystem::exists(s.root() / "sub" / "moved"));
  EXPECT_FALSE(std::filesystem::exists(s.root() / "f0"));
  EXPECT_NE(s.log().find("ssh login user=alice"), std::string::npos) << s.log();
  // One log line per transfer, with its size.
  EXPECT_NE(s.log().find("sftp upload user=alice peer=127.0.0.1 path=/f5 bytes=1048577"), std::string::npos) << s.log();
  EXPECT_NE(s.log().find("sftp download user=alice peer=127.0.0.1 path=/f6 bytes=8388608"), std::string::npos) << s.log();
}

TEST(FerryServer, ScpLegacyAndSftpModeBothWaysWithTreesAndPreservedModes) {
  server_fixture s;
  auto tree = s.client() / "tree";
  std::filesystem::create_directories(tree / "a" / "b");
  std::filesystem::create_directories(tree / "empty");
  write_file(tree / "top.bin", make_data(300000, 7));
  write_file(tree / "a" / "b" / "deep.bin", make_data(70000, 8));
  write_file(tree / "a" / "zero", "");
  write_file(tree / "a" / "name with spaces;$(x)", "odd\n");
  ::chmod((tree / "top.bin").c_str(), 0640);
  struct timespec times[2] = {{1600000000, 0}, {1600000000, 0}};
  ::utimensat(AT_FDCWD, (tree / "top.bin").c_str(), times, 0);

  for (std::string mode : {"-O", ""}) {
    std::string remote = mode.empty() ? "sftp-tree" : "legacy-tree";
    auto up = s.scp("-r -p " + mode + " tree alice@127.0.0.1:" + remote);
    ASSERT_EQ(up.status, 0) << mode << up.output << s.log();
    EXPECT_EQ(read_file(s.root() / remote / "a" / "b" / "deep.bin"), read_file(tree / "a" / "b" / "deep.bin"));
    EXPECT_EQ(read_file(s.root() / remote / "a" / "name with spaces;$(x)"), "odd\n");
    EXPECT_TRUE(std::filesystem::is_directory(s.root() / remote / "empty"));
    struct stat st {};
    ASSERT_EQ(::stat((s.root() / remote / "top.bin").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0640u) << mode;
    EXPECT_EQ(st.st_mtime, 1600000000) << mode;

    auto down = s.scp("-r -p " + mode + " alice@127.0.0.1:" + remote + " back-" + remote);
    ASSERT_EQ(down.status, 0) << mode << down.output << s.log();
    EXPECT_EQ(read_file(s.client() / ("back-" + remote) / "top.bin"), read_file(tree / "top.bin"));
    EXPECT_EQ(read_file(s.client() / ("back-" + remote) / "a" / "zero"), "");
  }
  EXPECT_NE(s.log().find("scp upload user=alice"), std::string::npos) << s.log();
}

TEST(FerryServer, PathsOutsideTheRootAreUnreachable) {
  server_fixture s;
  write_file(s.dir() / "secret", "outside\n");
  std::filesystem::create_symlink(s.dir() / "secret", s.root() / "link-out");
  auto r = s.sftp_batch("-get ../secret a\n-get /../../secret b\n-get link-out c\ncd /\npwd\n");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_FALSE(std::filesystem::exists(s.client() / "a"));
  EXPECT_FALSE(std::filesystem::exists(s.client() / "b"));
  EXPECT_FALSE(std::filesystem::exists(s.client() / "c"));
  auto legacy = s.scp("-O alice@127.0.0.1:../secret d");
  EXPECT_NE(legacy.status, 0);
  EXPECT_FALSE(std::filesystem::exists(s.client() / "d"));
  auto up = s.scp("-O ../batch alice@127.0.0.1:../escaped");
  EXPECT_FALSE(std::filesystem::exists(s.dir() / "escaped"));
  (void)up;
}

TEST(FerryServer, ExecAndShellAreRefusedWithoutAllowExecAndTheServerKeepsServing) {
  server_fixture s;
  auto r = run_shell(s.client(), "ssh -p " + std::to_string(s.ssh_port()) + " " + s.ssh_options() +
                                     " alice@127.0.0.1 'echo pwned > /tmp/ferry-pwned-$$' 2>&1");
  EXPECT_NE(r.status, 0) << r.output;
  EXPECT_NE(s.log().find("exec refused"), std::string::npos) << s.log();
  write_file(s.client() / "x", "still serving\n");
  EXPECT_EQ(s.sftp_batch("put x\n").status, 0);
  EXPECT_EQ(read_file(s.root() / "x"), "still serving\n");
}

TEST(FerryServer, AllowExecRunsCommandsWithTheirOutputAndExitStatus) {
  server_fixture s{{"--allow-exec"}};
  auto r = run_shell(s.client(), "ssh -p " + std::to_string(s.ssh_port()) + " " + s.ssh_options() +
                                     " alice@127.0.0.1 'echo out; echo err >&2; exit 7' 2>err.txt");
  EXPECT_EQ(r.status, 7) << r.output << s.log();
  EXPECT_EQ(r.output, "out\n");
  EXPECT_EQ(read_file(s.client() / "err.txt"), "err\n");
  EXPECT_NE(s.log().find("ssh exec user=alice"), std::string::npos) << s.log();
}

TEST(FerryServer, ReadOnlyServesDownloadsAndRefusesChanges) {
  server_fixture s{{"--read-only"}};
  write_file(s.root() / "present", "here\n");
  write_file(s.client() / "new", "new\n");
  auto r = s.sftp_batch("get present\n-put new\n-mkdir d\n-rm present\n");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(read_file(s.client() / "present"), "here\n");
  EXPECT_FALSE(std::filesystem::exists(s.root() / "new"));
  EXPECT_FALSE(std::filesystem::exists(s.root() / "d"));
  EXPECT_TRUE(std::filesystem::exists(s.root() / "present"));
  EXPECT_NE(s.scp("-O new alice@127.0.0.1:new").status, 0);
  EXPECT_FALSE(std::filesystem::exists(s.root() / "new"));
}

TEST(FerryServer, CurlMovesFilesOverFtpAndExplicitFtps) {
  server_fixture s;
  auto data = make_data(3 << 20, 11);
  write_file(s.client() / "up.bin", data);
  std::string base = "ftp://127.0.0.1:" + std::to_string(s.ftp_port()) + "/";
  auto plain = run_shell(s.client(), "curl -sS -u alice:pw-alice -T up.bin " + base + "plain.bin 2>&1 && "
                                     "curl -sS -u alice:pw-alice -o plain-back.bin " + base + "plain.bin 2>&1");
  ASSERT_EQ(plain.status, 0) << plain.output << s.log();
  EXPECT_EQ(read_file(s.client() / "plain-back.bin"), data);
  auto tls = run_shell(s.client(), "curl -sS --ssl-reqd -k -u alice:pw-alice -T up.bin " + base + "tls.bin 2>&1 && "
                                   "curl -sS --ssl-reqd -k -u alice:pw-alice -o tls-back.bin " + base + "tls.bin 2>&1");
  ASSERT_EQ(tls.status, 0) << tls.output << s.log();
  EXPECT_EQ(read_file(s.client() / "tls-back.bin"), data);
  EXPECT_EQ(read_file(s.root() / "tls.bin"), data);
  EXPECT_NE(s.log().find("ftp login user=alice"), std::string::npos) << s.log();
}

TEST(FerryServer, AnonymousFtpIsJailedInItsDirectoryAndReadOnlyUnlessUploadsAreAllowed) {
  server_fixture s{{"--anonymous", "/"}};
  write_file(s.root() / "public.txt", "for everyone\n");
  write_file(s.client() / "up.bin", make_data(100000, 12));
  std::string base = "ftp://127.0.0.1:" + std::to_string(s.ftp_port()) + "/";
  // Any password; both names.
  auto get = run_shell(s.client(), "curl -sS -u anonymous:guest@example.org -o a.txt " + base + "public.txt 2>&1 && "
                                   "curl -sS -u ftp: -o b.txt " + base + "public.txt 2>&1");
  ASSERT_EQ(get.status, 0) << get.output << s.log();
  EXPECT_EQ(read_file(s.client() / "a.txt"), "for everyone\n");
  EXPECT_EQ(read_file(s.client() / "b.txt"), "for everyone\n");
  auto put = run_shell(s.client(), "curl -sS -u anonymous:x -T up.bin " + base + "up.bin 2>&1");
  EXPECT_NE(put.status, 0) << put.output;
  EXPECT_FALSE(std::filesystem::exists(s.root() / "up.bin"));
  // Not an SSH user.
  auto ssh = run_shell(s.client(), "sshpass -p x scp -q -P " + std::to_string(s.ssh_port()) +
                                       " -F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"
                                       " -o PubkeyAuthentication=no anonymous@127.0.0.1:public.txt c.txt 2>&1");
  EXPECT_NE(ssh.status, 0) << ssh.output;
  EXPECT_FALSE(std::filesystem::exists(s.client() / "c.txt"));

  std::filesystem::create_directories(s.root() / "pub");
  write_file(s.root() / "secret", "members only\n");
  s.restart({"--anonymous", "pub", "--anonymous-uploads"});
  put = run_shell(s.client(), "curl -sS -u anonymous:x -T up.bin " + base + "up.bin 2>&1 && "
                              "curl -sS -u anonymous:x -o back.bin " + base + "up.bin 2>&1");
  ASSERT_EQ(put.status, 0) << put.output << s.log();
  EXPECT_EQ(read_file(s.root() / "pub" / "up.bin"), read_file(s.client() / "up.bin"));
  EXPECT_EQ(read_file(s.client() / "back.bin"), read_file(s.client() / "up.bin"));
  // The jail: ".." from the anonymous root stays in it.
  auto escape = run_shell(s.client(), "curl -sS --path-as-is -u anonymous:x -o leak.txt " + base + "../secret 2>&1");
  EXPECT_NE(escape.status, 0) << escape.output;
  EXPECT_FALSE(std::filesystem::exists(s.client() / "leak.txt"));
  // No removal, no rename.
  auto remove = run_shell(s.client(), "curl -sS -u anonymous:x -Q 'DELE up.bin' " + base + " 2>&1");
  EXPECT_NE(remove.status, 0) << remove.output;
  auto rename = run_shell(s.client(), "curl -sS -u anonymous:x -Q 'RNFR up.bin' -Q 'RNTO moved.bin' " + base + " 2>&1");
  EXPECT_NE(rename.status, 0) << rename.output;
  EXPECT_TRUE(std::filesystem::exists(s.root() / "pub" / "up.bin"));
  EXPECT_FALSE(std::filesystem::exists(s.root() / "pub" / "moved.bin"));
  // Real users still log in with their own rights.
  auto alice = run_shell(s.client(), "curl -sS -u alice:pw-alice -o s.txt " + base + "secret 2>&1");
  ASSERT_EQ(alice.status, 0) << alice.output;
  EXPECT_EQ(read_file(s.client() / "s.txt"), "members only\n");
  EXPECT_NE(s.log().find("ftp login user=anonymous"), std::string::npos) << s.log();
}

TEST(FerryServer, AnonymousNeedsAnExistingDirectoryAndNoUserOfThatName) {
  server_fixture s;
  auto missing = run_shell(s.dir(), built_program("ferry-server", "FERRY_SERVER") +
                                        " --root root --state-dir state --ssh-port 0 --ftp-port 0"
                                        " --anonymous no-such-dir 2>&1");
  EXPECT_NE(missing.status, 0);
  EXPECT_NE(missing.output.find("not a directory"), std::string::npos) << missing.output;
  auto clash = run_shell(s.dir(), built_program("ferry-server", "FERRY_SERVER") +
                                      " --root root --state-dir state --ssh-port 0 --ftp-port 0"
                                      " --user ftp:pw --anonymous / 2>&1");
  EXPECT_NE(clash.status, 0);
  EXPECT_NE(clash.output.find("would be anonymous"), std::string::npos) << clash.output;
  // The same for a user named anonymous in a users file.
  write_file(s.dir() / "users", "anonymous:!\n");
  auto from_file = run_shell(s.dir(), built_program("ferry-server", "FERRY_SERVER") +
                                          " --root root --state-dir state --ssh-port 0 --ftp-port 0"
                                          " --users-file users --anonymous / 2>&1");
  EXPECT_NE(from_file.status, 0);
  EXPECT_NE(from_file.output.find("user anonymous would be anonymous"), std::string::npos) << from_file.output;
}

TEST(FerryServer, HostKeysPersistAcrossRestartsAndTheGeneratedUserCanLogIn) {
  server_fixture s{{}, false};
  auto first = s.log();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(first, m, std::regex{"user ferry, password ([A-Za-z0-9]+)"})) << first;
  const std::string password = m[1];
  auto ed25519 = read_file(s.dir() / "state" / "ssh_host_ed25519_key.pub");
  auto rsa = read_file(s.dir() / "state" / "ssh_host_rsa_key.pub");
  ASSERT_FALSE(ed25519.empty());
  ASSERT_FALSE(rsa.empty());
  struct stat st {};
  ASSERT_EQ(::stat((s.dir() / "state" / "ssh_host_ed25519_key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0077, 0u) << "private host key readable by others";

  // The password works (scp does not force batch mode, so sshpass can answer the prompt).
  write_file(s.client() / "p", "by password\n");
  auto r = run_shell(s.client(), "sshpass -p " + shell_quote(password) + " scp -q -P " +
                                     std::to_string(s.ssh_port()) +
                                     " -F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"
                                     " -o PubkeyAuthentication=no p ferry@127.0.0.1:p 2>&1");
  EXPECT_EQ(r.status, 0) << r.output << s.log();
  EXPECT_EQ(read_file(s.root() / "p"), "by password\n");

  s.restart({}, false);
  EXPECT_EQ(read_file(s.dir() / "state" / "ssh_host_ed25519_key.pub"), ed25519);
  EXPECT_EQ(read_file(s.dir() / "state" / "ssh_host_rsa_key.pub"), rsa);
  // The fingerprint printed at start matches the key in the state dir.
  auto fp = run_shell(s.dir(), "ssh-keygen -lf state/ssh_host_ed25519_key.pub");
  ASSERT_EQ(fp.status, 0);
  auto fingerprint = fp.output.substr(fp.output.find("SHA256:"), 50);
  fingerprint = fingerprint.substr(0, fingerprint.find(' '));
  EXPECT_NE(s.log().find(fingerprint), std::string::npos) << s.log();
}

TEST(FerryServer, SigtermStopsAcceptingAndExitsCleanly) {
  server_fixture s;
  ASSERT_TRUE(s.proc().running());
  ::kill(s.proc().pid(), SIGTERM);
  EXPECT_EQ(s.proc().wait(20s), 0) << s.log();
  EXPECT_FALSE(port_open(s.ssh_port()));
  EXPECT_NE(s.log().find("stopping"), std::string::npos) << s.log();
}

}  // namespace
