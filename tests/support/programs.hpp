// Finding ferry's own programs from a test and running shell command lines with their output
// captured: what the suites that drive ferry-server, ferry-sftp-server, ferry-ftp and friends
// share.
#pragma once

#include "support/process.hpp"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace ferry_test_support {

// $ENV_VAR when set, else the program built beside this test (build/examples/NAME).
inline std::string built_program(const std::string& name, const char* env_var = nullptr) {
  if (env_var)
    if (const char* env = std::getenv(env_var)) return env;
  std::error_code ec;
  auto self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    auto p = self.parent_path().parent_path() / "examples" / name;
    if (fs::exists(p)) return p.string();
  }
  throw std::runtime_error(name + " not found (build it" +
                           (env_var ? std::string{", or set "} + env_var : std::string{}) + ")");
}

// One shell word: single quotes, with embedded quotes as '\''.
inline std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

struct shell_result {
  int status = -1;  // exit status, 128+signal, or -1 when it had to be stopped
  std::string output;  // stdout and stderr together
};

// Runs `sh -c "cd DIR && COMMAND"` with stdout and stderr captured.
inline shell_result run_shell(const fs::path& dir, const std::string& command,
                              std::chrono::seconds timeout = std::chrono::seconds{120}) {
  temp_dir logs{"ferry-shell-"};
  auto log = logs / "out.log";
  process p{{"/bin/sh", "-c", "cd " + shell_quote(dir.string()) + " && " + command}, log};
  int status = p.wait(timeout);
  return {status, read_file(log)};
}

}  // namespace ferry_test_support
