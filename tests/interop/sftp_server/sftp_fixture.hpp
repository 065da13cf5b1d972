// What the ferry-sftp-server interop suites share: finding the program, running OpenSSH's sftp in
// batch mode against it (directly with -D, or through a private sshd whose `Subsystem sftp` is
// ferry-sftp-server), and making test files of given sizes with deterministic contents.
#pragma once

#include "interop/sshd_fixture.hpp"
#include "support/process.hpp"
#include "support/programs.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>
#include <stdexcept>
#include <string>
#include <vector>

namespace ferry::sftp_interop {

namespace fs = std::filesystem;
using ferry_test_support::process;
using ferry_test_support::read_file;
using ferry_test_support::temp_dir;
using ferry_test_support::write_file;

// $FERRY_SFTP_SERVER, else the program built beside this test (build/examples/ferry-sftp-server).
inline std::string server_program() {
  return ferry_test_support::built_program("ferry-sftp-server", "FERRY_SFTP_SERVER");
}

inline std::string quote(const std::string& s) { return ferry_test_support::shell_quote(s); }

using run_result = ferry_test_support::shell_result;
using ferry_test_support::run_shell;

// `sftp -b batch -D "ferry-sftp-server args"` run in dir (the server's start directory is dir too).
inline run_result sftp_direct(const fs::path& dir, const std::string& batch,
                              const std::string& server_args = "") {
  temp_dir b{"ferry-sftp-batch-"};
  write_file(b / "batch", batch);
  std::string server = server_program();
  if (!server_args.empty()) server += " " + server_args;
  return run_shell(dir, "sftp -b " + quote((b / "batch").string()) + " -D " + quote(server) +
                            " 2>&1");
}

// Deterministic, incompressible-looking contents (xorshift), so a misplaced block is caught.
inline void make_file(const fs::path& p, std::uint64_t size, std::uint64_t seed = 1) {
  std::ofstream out{p, std::ios::binary};
  std::uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  std::vector<char> buf(1 << 20);
  while (size > 0) {
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(size, buf.size()));
    for (std::size_t i = 0; i < n; i += 8) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      for (std::size_t k = 0; k < 8 && i + k < n; ++k) buf[i + k] = static_cast<char>(x >> (8 * k));
    }
    out.write(buf.data(), static_cast<std::streamsize>(n));
    size -= n;
  }
}

// Byte-for-byte comparison that does not hold two large files in memory.
inline bool same_file(const fs::path& a, const fs::path& b) {
  std::error_code ec;
  if (fs::file_size(a, ec) != fs::file_size(b, ec) || ec) return false;
  std::ifstream x{a, std::ios::binary}, y{b, std::ios::binary};
  std::vector<char> p(1 << 20), q(1 << 20);
  while (x && y) {
    x.read(p.data(), static_cast<std::streamsize>(p.size()));
    y.read(q.data(), static_cast<std::streamsize>(q.size()));
    if (x.gcount() != y.gcount()) return false;
    if (!std::equal(p.begin(), p.begin() + x.gcount(), q.begin())) return false;
  }
  return true;
}

// A directory on tmpfs when there is one (large transfers), else the system temp dir.
inline std::string big_temp_prefix() {
  std::error_code ec;
  if (fs::is_directory("/dev/shm", ec)) return "/dev/shm/ferry-sftp-big-";
  return "ferry-sftp-big-";
}

// A private sshd on 127.0.0.1 whose `Subsystem sftp` is ferry-sftp-server (with subsystem_args),
// logging in root with a fresh ed25519 key. Host key and user key come from the shared fixture's
// keygen; the process is stopped by its pid when this goes out of scope.
class sshd_with_ferry_sftp {
 public:
  explicit sshd_with_ferry_sftp(const std::string& subsystem_args = "") {
    ::mkdir("/run/sshd", 0755);
    auto host = interop::keygen(dir_, "host_ed25519", "ed25519");
    user_key_ = interop::keygen(dir_, "user_ed25519", "ed25519");
    fs::copy_file(user_key_.string() + ".pub", dir_ / "authorized_keys");
    port_ = ferry_test_support::free_port();
    std::string subsystem = server_program();
    if (!subsystem_args.empty()) subsystem += " " + subsystem_args;
    std::string conf = "ListenAddress 127.0.0.1:" + std::to_string(port_) + "\n";
    conf += "HostKey " + host.string() + "\n";
    conf += "AuthorizedKeysFile " + (dir_ / "authorized_keys").string() + "\n";
    conf += "PidFile " + (dir_ / "sshd.pid").string() + "\n";
    conf += "UsePAM no\nStrictModes no\nPermitRootLogin yes\nLogLevel ERROR\n";
    conf += "Subsystem sftp " + subsystem + "\n";
    write_file(dir_ / "sshd_config", conf);
    proc_ = std::make_unique<process>(
        std::vector<std::string>{"/usr/sbin/sshd", "-D", "-e", "-f", (dir_ / "sshd_config").string()},
        dir_ / "sshd.log");
    for (int i = 0; i < 400 && !ferry_test_support::port_open(port_); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
    if (!ferry_test_support::port_open(port_))
      throw std::runtime_error("sshd did not start: " + read_file(dir_ / "sshd.log"));
  }

  // OpenSSH's sftp in batch mode through this sshd, run in dir.
  run_result sftp(const fs::path& dir, const std::string& batch) const {
    temp_dir b{"ferry-sftp-batch-"};
    write_file(b / "batch", batch);
    return run_shell(dir, "sftp -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=no "
                          "-o UserKnownHostsFile=/dev/null -i " + quote(user_key_.string()) +
                          " -P " + std::to_string(port_) + " -b " + quote((b / "batch").string()) +
                          " root@127.0.0.1 2>&1");
  }

  std::string log() const { return read_file(dir_ / "sshd.log"); }

 private:
  temp_dir dir_{"ferry-sftp-sshd-"};
  fs::path user_key_;
  unsigned short port_ = 0;
  std::unique_ptr<process> proc_;
};

}  // namespace ferry::sftp_interop
