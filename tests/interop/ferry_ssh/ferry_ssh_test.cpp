// ferry-ssh end to end, run as a person would run it: against a private OpenSSH sshd (exec with
// exit codes, stdout/stderr/stdin streamed, -F config, -o Ciphers, known_hosts with accept-new
// and a changed key) and against ferry-server (passwords from FERRY_PASSWORD and SSH_ASKPASS, a
// jump through sshd). Each run gets its own HOME, so no real ~/.ssh is read.
#include "interop/sshd_fixture.hpp"
#include "support/ferry_server.hpp"
#include "support/process.hpp"
#include "support/programs.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <random>
#include <string>
#include <thread>

namespace {

using namespace ferry_test_support;
namespace fs = std::filesystem;

struct result {
  int status = -1;
  std::string out, err;
};

std::string make_data(std::size_t size, unsigned seed) {
  std::mt19937 rng{seed};
  std::string s(size, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

// Runs "env... ferry-ssh ARGS" in dir with HOME=dir/home, stdout and stderr captured apart.
result ferry_ssh(const fs::path& dir, const std::string& args, const std::string& env = {},
                 const std::string& stdin_file = "/dev/null") {
  fs::create_directories(dir / "home");
  auto cmd = "env -u SSH_AUTH_SOCK -u SSH_ASKPASS -u DISPLAY HOME=" + shell_quote((dir / "home").string()) +
             " " + env + " " + shell_quote(built_program("ferry-ssh")) + " " + args + " <" +
             shell_quote(stdin_file) + " >out.txt 2>err.txt";
  auto r = run_shell(dir, cmd);
  return {r.status, read_file(dir / "out.txt"), read_file(dir / "err.txt")};
}

std::size_t lines(const std::string& s) {
  std::size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

class FerrySsh : public ::testing::Test {
 protected:
  // Options that reach the fixture's sshd as root with its key and no known_hosts.
  std::string to_sshd() const {
    return "-F /dev/null -p " + std::to_string(daemon.port()) + " -i " +
           shell_quote(daemon.user_key().string()) +
           " -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null root@127.0.0.1";
  }
  ferry::interop::sshd daemon;
  temp_dir dir{"ferry-ssh-test-"};
};

TEST_F(FerrySsh, ExecPassesExitStatusAndKeepsStdoutAndStderrApart) {
  auto r = ferry_ssh(dir.path(), to_sshd() + " 'echo out; echo err >&2; exit 7'");
  EXPECT_EQ(r.status, 7) << r.err;
  EXPECT_EQ(r.out, "out\n");
  // (sshd at LogLevel DEBUG3 also sends its session's debug lines to the client's stderr.)
  EXPECT_TRUE(r.err.size() >= 4 && r.err.substr(r.err.size() - 4) == "err\n") << r.err;
  EXPECT_EQ(r.err.find("out"), std::string::npos) << r.err;
  auto ok = ferry_ssh(dir.path(), to_sshd() + " true");
  EXPECT_EQ(ok.status, 0) << ok.err;
  EXPECT_EQ(ok.err.find("ferry-ssh"), std::string::npos) << ok.err;
}

TEST_F(FerrySsh, StdinIsStreamedByteForByteBothWays) {
  auto data = make_data(24u << 20, 3);
  write_file(dir / "in.bin", data);
  auto r = ferry_ssh(dir.path(), to_sshd() + " cat", {}, (dir / "in.bin").string());
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(r.out == data) << "got " << r.out.size() << " bytes of " << data.size();
  auto wc = ferry_ssh(dir.path(), to_sshd() + " 'wc -c'", {}, (dir / "in.bin").string());
  EXPECT_EQ(std::stoull(wc.out), data.size()) << wc.err;
}

TEST_F(FerrySsh, ConfigFileGivesHostNamePortUserAndIdentityFile) {
  write_file(dir / "config",
             "Host other\n  Port 1\nHost my-alias\n  HostName 127.0.0.1\n  Port " +
                 std::to_string(daemon.port()) + "\n  User root\n  IdentityFile " +
                 daemon.user_key().string() +
                 "\nHost *\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  Port 2\n");
  auto r = ferry_ssh(dir.path(), "-F config my-alias 'echo $USER'");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "root\n");
  // A config error is one line with the file and line number.
  write_file(dir / "bad", "Host x\n  User \"unterminated\n");
  auto b = ferry_ssh(dir.path(), "-F bad x true");
  EXPECT_EQ(b.status, 255);
  EXPECT_NE(b.err.find("bad line 2"), std::string::npos) << b.err;
  EXPECT_EQ(lines(b.err), 1u) << b.err;
}

TEST_F(FerrySsh, CiphersOptionForcesEachCipher) {
  for (std::string cipher : {"aes128-gcm@openssh.com", "chacha20-poly1305@openssh.com", "aes128-ctr"}) {
    auto r = ferry_ssh(dir.path(), "-o Ciphers=" + cipher + " " + to_sshd() + " 'echo ok'");
    EXPECT_EQ(r.status, 0) << cipher << ": " << r.err;
    EXPECT_EQ(r.out, "ok\n") << cipher;
    EXPECT_NE(daemon.log().find("client->server cipher: " + cipher), std::string::npos) << cipher;
  }
  auto m = ferry_ssh(dir.path(), "-o MACs=hmac-sha2-512 -o Ciphers=aes256-ctr " + to_sshd() + " true");
  EXPECT_EQ(m.status, 0) << m.err;
  EXPECT_NE(daemon.log().find("client->server cipher: aes256-ctr MAC: hmac-sha2-512"),
            std::string::npos);
  auto bad = ferry_ssh(dir.path(), "-o Ciphers=no-such-cipher " + to_sshd() + " true");
  EXPECT_EQ(bad.status, 255);
  EXPECT_EQ(lines(bad.err), 1u) << bad.err;
}

// -v prints ssh's debug1 lines: the server's host key, the key it accepted, what was negotiated;
// without -v none of them (stderr still carries what the DEBUG3 sshd sends from the session).
TEST_F(FerrySsh, VerboseShowsHostKeyAcceptedKeyAndNegotiatedAlgorithms) {
  auto r = ferry_ssh(dir.path(), "-v -o Ciphers=aes128-ctr -o MACs=hmac-sha2-256-etm@openssh.com " +
                                     to_sshd() + " 'echo ok'");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "ok\n");
  for (const char* line :
       {"debug1: Connecting to 127.0.0.1 port ", "debug1: Server host key: ssh-ed25519 SHA256:",
        "debug1: Server accepts key: ", "debug1: Remote software version SSH-2.0-OpenSSH_",
        "debug1: kex: client->server cipher: aes128-ctr MAC: hmac-sha2-256-etm@openssh.com compression: none",
        "debug1: Authenticated to 127.0.0.1 port "})
    EXPECT_NE(r.err.find(line), std::string::npos) << line << "\n" << r.err;
  EXPECT_EQ(r.err.find("debug2:"), std::string::npos) << r.err;
  auto vv = ferry_ssh(dir.path(), "-vv " + to_sshd() + " true");
  EXPECT_NE(vv.err.find("debug2: strict kex: yes"), std::string::npos) << vv.err;
  auto quiet = ferry_ssh(dir.path(), to_sshd() + " true");
  EXPECT_EQ(quiet.err.find("debug1: Connecting"), std::string::npos) << quiet.err;
  EXPECT_EQ(quiet.err.find("debug1: kex:"), std::string::npos) << quiet.err;
}

TEST_F(FerrySsh, AcceptNewRecordsTheKeyAndAChangedKeyIsRefused) {
  auto kh = dir / "kh";
  auto base = "-F /dev/null -p " + std::to_string(daemon.port()) + " -i " +
              shell_quote(daemon.user_key().string()) + " -o UserKnownHostsFile=" + kh.string();
  // Unknown host with StrictHostKeyChecking=yes: refused, nothing written.
  auto strict = ferry_ssh(dir.path(), base + " -o StrictHostKeyChecking=yes root@127.0.0.1 true");
  EXPECT_EQ(strict.status, 255);
  EXPECT_FALSE(fs::exists(kh));
  auto first = ferry_ssh(dir.path(), base + " -o StrictHostKeyChecking=accept-new root@127.0.0.1 'echo 1'");
  ASSERT_EQ(first.status, 0) << first.err;
  auto recorded = read_file(kh);
  EXPECT_EQ(recorded.rfind("[127.0.0.1]:" + std::to_string(daemon.port()) + " ", 0), 0u) << recorded;
  EXPECT_EQ(lines(recorded), 1u);
  auto again = ferry_ssh(dir.path(), base + " -o StrictHostKeyChecking=yes root@127.0.0.1 'echo 2'");
  EXPECT_EQ(again.status, 0) << again.err;
  EXPECT_EQ(again.out, "2\n");
  // Replace the recorded key by another one of each type the server has: a changed host key.
  auto other = ferry::interop::keygen(dir, "other", "ed25519");
  auto pub = read_file(other.string() + ".pub");
  std::string line = recorded.substr(0, recorded.find(' ')) + " " + pub.substr(0, pub.rfind(' ')) + "\n";
  write_file(kh, line);
  auto changed = ferry_ssh(dir.path(), base + " -o StrictHostKeyChecking=accept-new root@127.0.0.1 true");
  EXPECT_EQ(changed.status, 255);
  EXPECT_NE(changed.err.find("CHANGED"), std::string::npos) << changed.err;
  EXPECT_EQ(lines(changed.err), 1u) << changed.err;
  EXPECT_EQ(read_file(kh), line);  // not rewritten
}

TEST_F(FerrySsh, ErrorsAreOneLineAndStatus255) {
  auto host = ferry_ssh(dir.path(), "-F /dev/null no-such-host.invalid true");
  EXPECT_EQ(host.status, 255);
  EXPECT_EQ(lines(host.err), 1u) << host.err;
  EXPECT_NE(host.err.find("no-such-host.invalid"), std::string::npos) << host.err;
  auto refused = ferry_ssh(dir.path(), "-F /dev/null -p " + std::to_string(free_port()) + " 127.0.0.1 true");
  EXPECT_EQ(refused.status, 255);
  EXPECT_EQ(lines(refused.err), 1u) << refused.err;
  // No key the server knows, BatchMode: no prompt, permission denied.
  auto denied = ferry_ssh(dir.path(), "-F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=no "
                                      "-o UserKnownHostsFile=/dev/null -p " +
                                          std::to_string(daemon.port()) + " root@127.0.0.1 true");
  EXPECT_EQ(denied.status, 255);
  EXPECT_NE(denied.err.find("Permission denied"), std::string::npos) << denied.err;
  EXPECT_EQ(lines(denied.err), 1u) << denied.err;
}

TEST_F(FerrySsh, DefaultIdentityAndKnownHostsComeFromHome) {
  fs::create_directories(dir / "home" / ".ssh");
  fs::copy_file(daemon.user_key(), dir / "home" / ".ssh" / "id_ed25519");
  ::chmod((dir / "home" / ".ssh" / "id_ed25519").c_str(), 0600);
  write_file(dir / "home" / ".ssh" / "config",
             "Host box\n HostName 127.0.0.1\n Port " + std::to_string(daemon.port()) +
                 "\n User root\n StrictHostKeyChecking accept-new\n");
  auto r = ferry_ssh(dir.path(), "box 'echo home'");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "home\n");
  EXPECT_NE(read_file(dir / "home" / ".ssh" / "known_hosts").find("ssh-ed25519"), std::string::npos);
}

// OpenSSH's order: the agent's keys before the key files. The agent holds the listed key and -i
// names one sshd does not know: the agent's key logs in first, so sshd never sees the other one.
TEST_F(FerrySsh, AgentKeysAreOfferedBeforeKeyFiles) {
  auto sock = (dir / "agent.sock").string();
  process agent{{"ssh-agent", "-D", "-a", sock}, dir / "agent.log"};
  for (int i = 0; i < 400 && !fs::exists(sock); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  ASSERT_TRUE(fs::exists(sock)) << read_file(dir / "agent.log");
  ASSERT_EQ(ferry::interop::run({"env", "SSH_AUTH_SOCK=" + sock, "ssh-add", daemon.user_key().string()},
                                dir.path() / "add.log"),
            0)
      << read_file(dir / "add.log");
  auto stranger = ferry::interop::keygen(dir, "stranger", "ed25519");
  ASSERT_EQ(run_shell(dir.path(), "ssh-keygen -lf " + shell_quote(stranger.string() + ".pub") +
                               " | cut -d' ' -f2 > stranger.fp")
                .status,
            0);
  auto fp = read_file(dir / "stranger.fp");
  ASSERT_EQ(fp.rfind("SHA256:", 0), 0u) << fp;
  fp.pop_back();  // newline
  auto r = ferry_ssh(dir.path(),
                     "-F /dev/null -p " + std::to_string(daemon.port()) + " -i " +
                         shell_quote(stranger.string()) +
                         " -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null root@127.0.0.1 "
                         "'echo agent'",
                     "SSH_AUTH_SOCK=" + shell_quote(sock));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "agent\n");
  EXPECT_NE(daemon.log().find("Accepted publickey for root"), std::string::npos);
  EXPECT_EQ(daemon.log().find(fp), std::string::npos) << "the key file was offered before the agent's key";
  agent.stop();
}

// ferry-server serves SFTP and SCP only: exec is refused after a successful login, which tells
// a good password (the command is refused) from a bad one (permission denied).
class FerrySshToFerryServer : public ::testing::Test {
 protected:
  std::string to_server(const std::string& extra = {}) const {
    return "-F /dev/null -p " + std::to_string(server.ssh_port()) +
           " -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o "
           "PreferredAuthentications=password,keyboard-interactive " +
           extra + " alice@127.0.0.1 true";
  }
  server_fixture server;
  temp_dir dir{"ferry-ssh-test-"};
};

TEST_F(FerrySshToFerryServer, PasswordFromFerryPasswordAndAskpass) {
  auto good = ferry_ssh(dir.path(), to_server(), "FERRY_PASSWORD=pw-alice");
  EXPECT_NE(good.status, 0);
  EXPECT_EQ(good.err.find("Permission denied"), std::string::npos) << good.err;
  EXPECT_NE(good.err.find("exec"), std::string::npos) << good.err;
  EXPECT_NE(server.log().find("ssh login user=alice"), std::string::npos) << server.log();

  auto bad = ferry_ssh(dir.path(), to_server(), "FERRY_PASSWORD=wrong");
  EXPECT_EQ(bad.status, 255);
  EXPECT_NE(bad.err.find("Permission denied"), std::string::npos) << bad.err;
  EXPECT_EQ(lines(bad.err), 1u) << bad.err;

  write_file(dir / "askpass.sh", "#!/bin/sh\necho \"$1\" >> \"$(dirname \"$0\")/asked\"\necho pw-alice\n");
  ::chmod((dir / "askpass.sh").c_str(), 0755);
  auto ask = ferry_ssh(dir.path(), to_server(),
                       "SSH_ASKPASS=" + (dir / "askpass.sh").string() + " SSH_ASKPASS_REQUIRE=force");
  EXPECT_EQ(ask.err.find("Permission denied"), std::string::npos) << ask.err;
  EXPECT_NE(read_file(dir / "asked").find("password"), std::string::npos);

  // SSH_ASKPASS_REQUIRE=never, no TTY, no FERRY_PASSWORD: nobody to ask.
  auto never = ferry_ssh(dir.path(), to_server(),
                         "SSH_ASKPASS=" + (dir / "askpass.sh").string() + " SSH_ASKPASS_REQUIRE=never");
  EXPECT_EQ(never.status, 255);
  EXPECT_NE(never.err.find("Permission denied"), std::string::npos) << never.err;
}

TEST(FerrySshJump, ProxyJumpThroughSshdToFerryServer) {
  ferry::interop::sshd daemon;
  server_fixture server;
  temp_dir dir{"ferry-ssh-test-"};
  fs::create_directories(dir / "home" / ".ssh");
  // The jump host's key is the default identity; the target takes -i.
  fs::copy_file(daemon.user_key(), dir / "home" / ".ssh" / "id_ed25519");
  write_file(dir / "config", "Host jumpbox\n HostName 127.0.0.1\n User root\n Port " +
                                 std::to_string(daemon.port()) +
                                 "\nHost *\n StrictHostKeyChecking no\n UserKnownHostsFile /dev/null\n");
  auto r = ferry_ssh(dir.path(), "-F config -J jumpbox -i " + shell_quote(server.key_path()) +
                                     " -p " + std::to_string(server.ssh_port()) + " alice@127.0.0.1 true");
  // ferry-server refuses exec, after a login that went through sshd's direct-tcpip channel.
  EXPECT_EQ(r.err.find("Permission denied"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("exec"), std::string::npos) << r.err;
  EXPECT_NE(server.log().find("ssh login user=alice"), std::string::npos) << server.log();
  EXPECT_NE(daemon.log().find("direct-tcpip"), std::string::npos);
}

}  // namespace
