// The local side of sftp::client transfers: a file descriptor read and written at offsets
// (pread/pwrite, so out-of-order replies land in place and nothing seeks), and the few directory
// operations a recursive transfer needs. Errors are errno values in the system category.
// Defined in src/sftp/client_local.cpp.
#pragma once

#include <ferry/core/bytes.hpp>
#include <ferry/core/error.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace ferry::sftp::local {

struct file_status {
  bool is_directory = false;
  bool is_regular = false;
  bool is_symlink = false;
  std::uint64_t size = 0;
  std::uint32_t mode = 0;  // st_mode: type and permission bits
  std::int64_t atime = 0;
  std::int64_t mtime = 0;
};

class file {
 public:
  file() = default;
  ~file();
  file(file&& o) noexcept;
  file& operator=(file&& o) noexcept;
  file(const file&) = delete;
  file& operator=(const file&) = delete;

  static error_code open_read(const std::string& path, file& out);
  // O_WRONLY | O_CREAT, with O_TRUNC when truncate; created with mode (before the umask).
  static error_code open_write(const std::string& path, bool truncate, std::uint32_t mode,
                               file& out);

  bool is_open() const noexcept { return fd_ >= 0; }
  int native_handle() const noexcept { return fd_; }

  error_code status(file_status& out) const;
  // Reads up to buf.size() bytes at offset; fewer only at end of file.
  error_code read_at(std::uint64_t offset, mutable_byte_view buf, std::size_t& n) const;
  // Writes all of data at offset.
  error_code write_at(std::uint64_t offset, byte_view data) const;
  error_code truncate(std::uint64_t size) const;
  error_code set_times(std::int64_t atime, std::int64_t mtime) const;
  error_code set_mode(std::uint32_t mode) const;
  error_code close();

 private:
  int fd_ = -1;
};

// lstat(2) (follow = false) or stat(2).
error_code status(const std::string& path, bool follow, file_status& out);
// mkdir(2); an existing directory is success.
error_code make_directory(const std::string& path, std::uint32_t mode);
error_code set_times(const std::string& path, std::int64_t atime, std::int64_t mtime);
error_code set_mode(const std::string& path, std::uint32_t mode);
// Names in a directory, without "." and "..", sorted.
error_code list_directory(const std::string& path, std::vector<std::string>& names);

}  // namespace ferry::sftp::local
