// ferry-sftp interactive, on a real pseudo-terminal, against OpenSSH's sftp-server (-D): keys
// typed as a person types them, Tab completion of commands and of remote and local paths (an
// escaped name with a space, a directory, the common prefix of two names), and the completed
// commands really run: the files arrive byte for byte.
#include "support/process.hpp"
#include "support/programs.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

namespace {

using namespace ferry_test_support;
using namespace std::chrono_literals;
namespace stdfs = std::filesystem;

// ferry-sftp -D sftp-server REMOTE on a pty, started in LOCAL; stopped by its pid.
class tty_session {
 public:
  tty_session(const stdfs::path& local, const stdfs::path& remote) {
    auto program = built_program("ferry-sftp", "FERRY_SFTP");
    pid_ = ::forkpty(&fd_, nullptr, nullptr, nullptr);
    if (pid_ == 0) {
      if (::chdir(local.c_str()) != 0) ::_exit(127);
      ::execl(program.c_str(), "ferry-sftp", "-D", "/usr/lib/openssh/sftp-server", remote.c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  ~tty_session() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (fd_ >= 0) ::close(fd_);
  }
  tty_session(const tty_session&) = delete;
  tty_session& operator=(const tty_session&) = delete;

  bool started() const { return pid_ > 0; }

  // Sends keys, then collects output until `until` appears after what was seen before (or 20 s).
  bool type(const std::string& keys, const std::string& until) {
    auto from = out_.size();
    if (::write(fd_, keys.data(), keys.size()) != ssize_t(keys.size())) return false;
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (out_.find(until, from) != std::string::npos) return true;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buf[4096];
      auto n = ::read(fd_, buf, sizeof buf);
      if (n <= 0) break;
      out_.append(buf, std::size_t(n));
    }
    return out_.find(until, from) != std::string::npos;
  }

  // The exit status, draining the pty meanwhile; -1 when it has not exited within 20 s. (Once
  // the child closes the pty, poll reports it at once and read fails: wait a little then.)
  int wait_exit() {
    int status = 0;
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      char buf[4096];
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) > 0 && ::read(fd_, buf, sizeof buf) > 0) continue;
      std::this_thread::sleep_for(10ms);
    }
    return -1;
  }

  const std::string& output() const { return out_; }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string out_;
};

TEST(FerrySftpTty, TabCompletesCommandsAndPathsAndTheCompletedCommandsRun) {
  temp_dir dir{"ferry-sftp-tty-"};
  auto local = dir / "local";
  auto remote = dir / "remote";
  stdfs::create_directories(remote / "docs");
  stdfs::create_directories(local / "outbox");
  write_file(remote / "docs" / "report 2024.txt", "twenty-four\n");
  write_file(remote / "docs" / "report 2025.txt", "twenty-five\n");
  write_file(local / "outbox" / "upload.bin", std::string(100000, 'u'));

  tty_session s{local, remote};
  ASSERT_TRUE(s.started());
  ASSERT_TRUE(s.type("", "sftp> ")) << s.output();
  // "ge" + Tab is "get "; "do" + Tab is the directory "docs/"; "r" + Tab grows to the common
  // prefix "report\ 202"; "4" + Tab finishes the name, and the line runs.
  ASSERT_TRUE(s.type("ge\t", "get ")) << s.output();
  ASSERT_TRUE(s.type("do\t", "docs/")) << s.output();
  ASSERT_TRUE(s.type("r\t", "docs/report\\ 202")) << s.output();
  ASSERT_TRUE(s.type("4\t", "report\\ 2024.txt ")) << s.output();
  ASSERT_TRUE(s.type("\r", "sftp> ")) << s.output();
  EXPECT_EQ(read_file(local / "report 2024.txt"), "twenty-four\n") << s.output();
  // Tab on a name that cannot grow lists both candidates.
  ASSERT_TRUE(s.type("ls docs/report\\ 202\t", "report 2025.txt")) << s.output();
  ASSERT_TRUE(s.type("\x15", "sftp> ")) << s.output();  // ctrl-u: drop the line
  // put's source completes locally ("outbox/"), its target remotely ("docs/").
  ASSERT_TRUE(s.type("put ou\t", "outbox/")) << s.output();
  ASSERT_TRUE(s.type("up\t", "outbox/upload.bin ")) << s.output();
  ASSERT_TRUE(s.type("do\t", "upload.bin docs/")) << s.output();
  ASSERT_TRUE(s.type("\r", "sftp> ")) << s.output();
  EXPECT_EQ(read_file(remote / "docs" / "upload.bin"), std::string(100000, 'u')) << s.output();
  ASSERT_TRUE(s.type("bye\r", "bye"));
  EXPECT_EQ(s.wait_exit(), 0) << s.output();
}

}  // namespace
