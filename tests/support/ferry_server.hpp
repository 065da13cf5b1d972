// A ferry-server (examples/ferry_server.cpp) for end-to-end tests of programs: started on free
// loopback ports over a fresh root and state dir, stopped by its pid when the fixture goes. Shared
// by the ferry-server suite and the ferry-ssh / ferry-scp / ferry-sftp program suites.
#pragma once

#include "support/process.hpp"
#include "support/programs.hpp"

#include <chrono>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace ferry_test_support {

// A ferry-server on free loopback ports over a fresh root and state dir, with user alice
// (password "pw-alice" and the key in dir/userkey), stopped by pid at the end.
class server_fixture {
 public:
  explicit server_fixture(std::vector<std::string> extra = {}, bool with_users = true)
      : ssh_port_(free_port()), ftp_port_(free_port()) {
    std::filesystem::create_directories(dir_ / "root");
    std::filesystem::create_directories(dir_ / "client");
    if (!std::filesystem::exists(key_path()))
      run_shell(dir_.path(), "ssh-keygen -q -t ed25519 -N '' -f userkey");
    start(std::move(extra), with_users);
  }

  void start(std::vector<std::string> extra, bool with_users) {
    std::vector<std::string> argv{built_program("ferry-server", "FERRY_SERVER"),
                                  "--root", (dir_ / "root").string(),
                                  "--state-dir", (dir_ / "state").string(),
                                  "--ssh-port", std::to_string(ssh_port_),
                                  "--ftp-port", std::to_string(ftp_port_),
                                  "--threads", "2", "--grace", "5"};
    if (with_users) {
      for (const char* a : {"--user", "alice:pw-alice", "--authorized-keys"}) argv.push_back(a);
      argv.push_back(key_path() + ".pub");
    }
    argv.insert(argv.end(), extra.begin(), extra.end());
    server_ = std::make_unique<process>(argv, log_path());
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds{60};  // first run makes an RSA-3072 host key
    while (std::chrono::steady_clock::now() < until) {
      if (read_file(log_path()).find("\nready\n") != std::string::npos && port_open(ssh_port_)) return;
      if (!server_->running()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds{20});
    }
    throw std::runtime_error("ferry-server did not start:\n" + read_file(log_path()));
  }

  void restart(std::vector<std::string> extra = {}, bool with_users = true) {
    server_.reset();
    start(std::move(extra), with_users);
  }

  const std::filesystem::path& dir() const { return dir_.path(); }
  std::filesystem::path root() const { return dir_ / "root"; }
  std::filesystem::path client() const { return dir_ / "client"; }
  std::string key_path() const { return (dir_ / "userkey").string(); }
  std::filesystem::path log_path() const { return dir_ / "server.log"; }
  std::string log() const { return read_file(log_path()); }
  process& proc() { return *server_; }
  std::uint16_t ssh_port() const { return ssh_port_; }
  std::uint16_t ftp_port() const { return ftp_port_; }

  // Options every OpenSSH client gets: no config, no known_hosts, the test key.
  std::string ssh_options() const {
    return "-F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -i " +
           shell_quote(key_path());
  }

  shell_result sftp_batch(const std::string& batch) {
    write_file(dir_ / "batch", batch);
    return run_shell(client(), "sftp -b ../batch -P " + std::to_string(ssh_port_) + " " + ssh_options() +
                                   " alice@127.0.0.1 2>&1");
  }

  shell_result scp(const std::string& args) {
    return run_shell(client(), "scp -q -P " + std::to_string(ssh_port_) + " " + ssh_options() + " " + args + " 2>&1");
  }

 private:
  temp_dir dir_{"ferry-server-test-"};
  std::uint16_t ssh_port_, ftp_port_;
  std::unique_ptr<process> server_;
};

}  // namespace ferry_test_support
