// Real OpenSSH peers for interop tests: a private sshd on 127.0.0.1 (config, host keys and logs in
// a temp dir) and an ssh client run with its debug log captured. Every process started here is
// stopped by its pid when its guard goes out of scope, even when an assertion failed. Reused by the
// auth, connection, SFTP and SCP interop suites.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace ferry::interop {

namespace fs = std::filesystem;

// A directory under the system temp dir, removed with everything in it.
class temp_dir {
 public:
  explicit temp_dir(std::string prefix = "ferry-interop-") {
    std::string tmpl = (fs::temp_directory_path() / (prefix + "XXXXXX")).string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const fs::path& path() const noexcept { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

inline std::string read_file(const fs::path& p) {
  std::ifstream in{p, std::ios::binary};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void write_file(const fs::path& p, const std::string& text) {
  std::ofstream out{p, std::ios::binary};
  out << text;
}

// A child process; the destructor terminates it (SIGTERM, then SIGKILL) and reaps it, by pid.
class process {
 public:
  // Starts argv[0] (an absolute path, or found on PATH) with stdin from /dev/null and stdout and
  // stderr appended to log.
  process(const std::vector<std::string>& argv, const fs::path& log) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    int rc = ::posix_spawnp(&pid_, args[0], &fa, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) throw std::runtime_error("cannot start " + argv[0]);
  }
  ~process() { stop(); }
  process(const process&) = delete;
  process& operator=(const process&) = delete;

  pid_t pid() const noexcept { return pid_; }

  // Waits up to timeout for the exit; returns the exit status, or -1 if it had to be killed.
  int wait(std::chrono::milliseconds timeout) {
    auto until = std::chrono::steady_clock::now() + timeout;
    while (pid_ > 0) {
      int status = 0;
      pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      if (std::chrono::steady_clock::now() > until) {
        stop();
        return -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds{5});
    }
    return -1;
  }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 200; ++i) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds{5});
    }
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

// Runs a program to completion (ssh-keygen and the like); returns its exit status.
inline int run(const std::vector<std::string>& argv, const fs::path& log,
               std::chrono::milliseconds timeout = std::chrono::seconds{30}) {
  process p{argv, log};
  return p.wait(timeout);
}

// A free TCP port on 127.0.0.1 (bound once, then released for the caller).
inline unsigned short free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

inline bool port_open(unsigned short port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// Generates an OpenSSH key pair (type: ed25519, ecdsa, rsa; bits for ecdsa/rsa, 0 for default).
inline fs::path keygen(const temp_dir& dir, const std::string& name, const std::string& type,
                       int bits = 0) {
  auto path = dir / name;
  std::vector<std::string> argv{"ssh-keygen", "-q", "-t", type, "-N", "", "-f", path.string()};
  if (bits) {
    argv.push_back("-b");
    argv.push_back(std::to_string(bits));
  }
  if (run(argv, dir / "keygen.log") != 0) throw std::runtime_error("ssh-keygen failed");
  return path;
}

// A private sshd on 127.0.0.1 with ed25519, ecdsa P-256/384/521 and RSA host keys.
class sshd {
 public:
  // extra: sshd_config lines appended (KexAlgorithms, Ciphers, RekeyLimit, ...).
  explicit sshd(const std::vector<std::string>& extra = {}) {
    ::mkdir("/run/sshd", 0755);  // privilege separation directory sshd insists on
    host_keys_ = {keygen(dir_, "host_ed25519", "ed25519"), keygen(dir_, "host_ecdsa256", "ecdsa", 256),
                  keygen(dir_, "host_ecdsa384", "ecdsa", 384), keygen(dir_, "host_ecdsa521", "ecdsa", 521),
                  keygen(dir_, "host_rsa", "rsa", 2048)};
    user_key_ = keygen(dir_, "user_ed25519", "ed25519");
    fs::copy_file(user_key_.string() + ".pub", dir_ / "authorized_keys");
    port_ = free_port();
    std::string conf = "ListenAddress 127.0.0.1:" + std::to_string(port_) + "\n";
    for (const auto& k : host_keys_) conf += "HostKey " + k.string() + "\n";
    conf += "AuthorizedKeysFile " + (dir_ / "authorized_keys").string() + "\n";
    conf += "PidFile " + (dir_ / "sshd.pid").string() + "\n";
    conf +=
        "UsePAM no\nStrictModes no\nPermitRootLogin yes\nLogLevel DEBUG3\n"
        "Subsystem sftp /usr/lib/openssh/sftp-server\n";
    for (const auto& l : extra) conf += l + "\n";
    write_file(dir_ / "sshd_config", conf);
    proc_ = std::make_unique<process>(
        std::vector<std::string>{"/usr/sbin/sshd", "-D", "-e", "-f", (dir_ / "sshd_config").string()},
        dir_ / "sshd.log");
    for (int i = 0; i < 400 && !port_open(port_); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
    if (!port_open(port_)) throw std::runtime_error("sshd did not start: " + log());
  }

  unsigned short port() const noexcept { return port_; }
  const temp_dir& dir() const noexcept { return dir_; }
  const fs::path& user_key() const noexcept { return user_key_; }
  std::string log() const { return read_file(dir_ / "sshd.log"); }
  void stop() { proc_->stop(); }

 private:
  temp_dir dir_;
  std::vector<fs::path> host_keys_;
  fs::path user_key_;
  unsigned short port_ = 0;
  std::unique_ptr<process> proc_;
};

struct ssh_result {
  int status;
  std::string log;
};

// Runs OpenSSH's ssh against 127.0.0.1:port with a debug log (-vvv) and test-friendly options;
// extra goes before the destination (e.g. {"-o", "KexAlgorithms=curve25519-sha256"}).
inline ssh_result run_ssh(unsigned short port, const std::vector<std::string>& extra,
                          const std::vector<std::string>& command = {"true"},
                          std::chrono::milliseconds timeout = std::chrono::seconds{20}) {
  temp_dir dir{"ferry-ssh-"};
  std::vector<std::string> argv{"ssh", "-vvv", "-F", "/dev/null", "-o", "BatchMode=yes",
                                "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                                "-o", "ConnectTimeout=10", "-p", std::to_string(port)};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back("root@127.0.0.1");
  argv.insert(argv.end(), command.begin(), command.end());
  int status = run(argv, dir / "ssh.log", timeout);
  return {status, read_file(dir / "ssh.log")};
}

}  // namespace ferry::interop
