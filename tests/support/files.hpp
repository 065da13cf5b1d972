// Small file helpers the transfer suites share: making files and directories with a mode, and
// reading back modes and modification times (what `-p` preserves).
#pragma once

#include "support/process.hpp"

#include <sys/stat.h>
#include <sys/time.h>

#include <filesystem>
#include <string>

namespace ferry_test_support {

// The permission bits (07777), or 0xffffffff when the path cannot be stat'ed.
inline unsigned mode_of(const fs::path& p) {
  struct stat st{};
  if (::stat(p.c_str(), &st) != 0) return 0xffffffff;
  return st.st_mode & 07777;
}

// The modification time in seconds, or -1.
inline long mtime_of(const fs::path& p) {
  struct stat st{};
  if (::stat(p.c_str(), &st) != 0) return -1;
  return static_cast<long>(st.st_mtime);
}

// Sets the modification time to t (and the access time to t + 1, so the two are told apart).
inline void set_mtime(const fs::path& p, long t) {
  struct timeval tv[2] = {{t + 1, 0}, {t, 0}};  // atime, mtime
  ::utimes(p.c_str(), tv);
}

// A file with these contents and mode, its parent directories made as needed.
inline void put(const fs::path& p, const std::string& data, unsigned mode = 0644) {
  fs::create_directories(p.parent_path());
  write_file(p, data);
  ::chmod(p.c_str(), mode);
}

inline void make_dir(const fs::path& p, unsigned mode = 0755) {
  fs::create_directories(p);
  ::chmod(p.c_str(), mode);
}

}  // namespace ferry_test_support
