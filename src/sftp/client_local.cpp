#include <ferry/sftp/client/local_file.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace ferry::sftp::local {

namespace {

error_code last_error() { return {errno, boost::system::system_category()}; }

void fill(const struct stat& st, file_status& out) {
  out.is_directory = S_ISDIR(st.st_mode);
  out.is_regular = S_ISREG(st.st_mode);
  out.is_symlink = S_ISLNK(st.st_mode);
  out.size = static_cast<std::uint64_t>(st.st_size);
  out.mode = st.st_mode;
  out.atime = st.st_atim.tv_sec;
  out.mtime = st.st_mtim.tv_sec;
}

struct timespec seconds(std::int64_t t) {
  struct timespec ts {};
  ts.tv_sec = static_cast<time_t>(t);
  return ts;
}

}  // namespace

file::~file() { close(); }

file::file(file&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}

file& file::operator=(file&& o) noexcept {
  if (this != &o) {
    close();
    fd_ = std::exchange(o.fd_, -1);
  }
  return *this;
}

error_code file::open_read(const std::string& path, file& out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return last_error();
  out = file{};
  out.fd_ = fd;
  return {};
}

error_code file::open_write(const std::string& path, bool truncate, std::uint32_t mode,
                            file& out) {
  int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : 0);
  int fd = ::open(path.c_str(), flags, static_cast<mode_t>(mode & 07777));
  if (fd < 0) return last_error();
  out = file{};
  out.fd_ = fd;
  return {};
}

error_code file::status(file_status& out) const {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return last_error();
  fill(st, out);
  return {};
}

error_code file::read_at(std::uint64_t offset, mutable_byte_view buf, std::size_t& n) const {
  n = 0;
  while (n < buf.size()) {
    auto r = ::pread(fd_, buf.data() + n, buf.size() - n, static_cast<off_t>(offset + n));
    if (r < 0) {
      if (errno == EINTR) continue;
      return last_error();
    }
    if (r == 0) break;
    n += static_cast<std::size_t>(r);
  }
  return {};
}

error_code file::write_at(std::uint64_t offset, byte_view data) const {
  std::size_t done = 0;
  while (done < data.size()) {
    auto r = ::pwrite(fd_, data.data() + done, data.size() - done,
                      static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return last_error();
    }
    done += static_cast<std::size_t>(r);
  }
  return {};
}

error_code file::truncate(std::uint64_t size) const {
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) return last_error();
  return {};
}

error_code file::set_times(std::int64_t atime, std::int64_t mtime) const {
  struct timespec ts[2] = {seconds(atime), seconds(mtime)};
  if (::futimens(fd_, ts) != 0) return last_error();
  return {};
}

error_code file::set_mode(std::uint32_t mode) const {
  if (::fchmod(fd_, static_cast<mode_t>(mode & 07777)) != 0) return last_error();
  return {};
}

error_code file::close() {
  if (fd_ < 0) return {};
  int fd = std::exchange(fd_, -1);
  if (::close(fd) != 0) return last_error();
  return {};
}

error_code status(const std::string& path, bool follow, file_status& out) {
  struct stat st {};
  int r = follow ? ::stat(path.c_str(), &st) : ::lstat(path.c_str(), &st);
  if (r != 0) return last_error();
  fill(st, out);
  return {};
}

error_code make_directory(const std::string& path, std::uint32_t mode) {
  if (::mkdir(path.c_str(), static_cast<mode_t>(mode & 07777)) == 0) return {};
  auto ec = last_error();
  file_status st;
  if (errno == EEXIST && !status(path, true, st) && st.is_directory) return {};
  return ec;
}

error_code set_times(const std::string& path, std::int64_t atime, std::int64_t mtime) {
  struct timespec ts[2] = {seconds(atime), seconds(mtime)};
  if (::utimensat(AT_FDCWD, path.c_str(), ts, AT_SYMLINK_NOFOLLOW) != 0) return last_error();
  return {};
}

error_code set_mode(const std::string& path, std::uint32_t mode) {
  if (::chmod(path.c_str(), static_cast<mode_t>(mode & 07777)) != 0) return last_error();
  return {};
}

error_code list_directory(const std::string& path, std::vector<std::string>& names) {
  names.clear();
  DIR* d = ::opendir(path.c_str());
  if (!d) return last_error();
  errno = 0;
  while (auto* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(std::move(n));
    errno = 0;
  }
  auto ec = errno ? last_error() : error_code{};
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return ec;
}

}  // namespace ferry::sftp::local
