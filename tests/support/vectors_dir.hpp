// Where the test vectors live (tests/vectors in the source tree), found at run time so that no
// absolute path is compiled into the tests (which also lets ccache share objects between checkouts).
// FERRY_VECTORS_DIR in the environment wins; otherwise the build tree's CMakeCache.txt, two levels
// above the test executable (<build>/tests/<exe>), names the source directory.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace ferry_test_support {

inline std::string vectors_dir() {
  if (const char* env = std::getenv("FERRY_VECTORS_DIR")) return env;
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    std::ifstream cache{exe.parent_path().parent_path() / "CMakeCache.txt"};
    const std::string key = "ferry_SOURCE_DIR:STATIC=";
    for (std::string line; std::getline(cache, line);) {
      if (line.rfind(key, 0) == 0) return line.substr(key.size()) + "/tests/vectors";
    }
  }
  return "tests/vectors";
}

}  // namespace ferry_test_support

#define FERRY_VECTORS_DIR (::ferry_test_support::vectors_dir())
