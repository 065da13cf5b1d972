// Real OpenSSH peers for interop tests: a private sshd on 127.0.0.1 (config, host keys and logs in
// a temp dir) and an ssh client run with its debug log captured. Every process started here is
// stopped by its pid when its guard goes out of scope, even when an assertion failed. Reused by the
// auth, connection, SFTP and SCP interop suites.
#pragma once

#include "support/process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
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


namespace ferry::interop {

namespace fs = std::filesystem;

using ferry_test_support::process;
using ferry_test_support::read_file;
using ferry_test_support::temp_dir;
using ferry_test_support::write_file;

// Runs a program to completion (ssh-keygen and the like); returns its exit status.
inline int run(const std::vector<std::string>& argv, const fs::path& log,
               std::chrono::milliseconds timeout = std::chrono::seconds{30}) {
  process p{argv, log};
  return p.wait(timeout);
}

using ferry_test_support::free_port;
using ferry_test_support::port_open;

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
