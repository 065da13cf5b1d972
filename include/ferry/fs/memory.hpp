// The memory backend: a filesystem held in memory, with fault injection. It is the test double
// for every server (beast's fail_count idea applied to storage) and a worked example of a backend
// written as a synchronous core behind fs::sync_adapter.
//
// It follows the local backend's rules (one root nothing leaves, symlinks read against the root,
// the same errno values) so one conformance suite runs against both. Files are sparse (64 KiB
// chunks), so offsets past 4 GiB work without allocating the gap. Permission bits are stored and
// reported but not enforced: the backend acts as the file owner. Faults:
//   faults().fail_nth(n, ec)   the nth counted operation from now fails with ec (every operation
//                              counts once; a failing operation changes nothing)
//   faults().set_max_io(n)     reads and writes move at most n bytes (short reads and writes)
//   options.capacity           the bytes all files may hold; a write that would exceed it fails
//                              with ENOSPC and writes nothing
#pragma once

#include <ferry/fs/sync_adapter.hpp>

#include <atomic>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace ferry::fs {

struct memory_options {
  bool read_only = false;
  std::uint32_t umask = 022;
  std::string home = "/";
  std::uint64_t capacity = std::numeric_limits<std::uint64_t>::max();
  std::uint32_t uid = 0;  // owner of what is created
  std::uint32_t gid = 0;
};

class fault_injection {
 public:
  // The nth operation counted from now (0-based) fails with ec; with sticky, every later one too.
  void fail_nth(std::size_t n, error_code ec = make_error_code(ferry::errc::injected_failure),
                bool sticky = false);
  void clear();
  void set_max_io(std::size_t n) noexcept { max_io_.store(n); }
  std::size_t max_io() const noexcept { return max_io_.load(); }
  // Operations counted since the last fail_nth/clear.
  std::size_t operations() const;
  // Counts one operation; its error if it is to fail.
  error_code next();

 private:
  mutable std::mutex m_;
  std::size_t count_ = 0;
  std::size_t fail_at_ = std::numeric_limits<std::size_t>::max();
  bool sticky_ = false;
  error_code ec_;
  std::atomic<std::size_t> max_io_{std::numeric_limits<std::size_t>::max()};
};

class memory_core {
 public:
  static std::shared_ptr<memory_core> create(memory_options opts = {});
  std::shared_ptr<memory_core> for_user(const user_view& v, error_code& ec) const;

  error_code stat(std::string_view p, attributes& out);
  error_code lstat(std::string_view p, attributes& out);
  error_code open(std::string_view p, const open_mode& m, handle& out);
  error_code fstat(handle h, attributes& out);
  error_code read_at(handle h, std::uint64_t offset, mutable_byte_view buf, std::size_t& n);
  error_code write_at(handle h, std::uint64_t offset, byte_view data, std::size_t& n);
  error_code close(handle h);
  error_code fsync(handle h);
  error_code opendir(std::string_view p, handle& out);
  error_code readdir(handle h, std::vector<dir_entry>& out);
  error_code mkdir(std::string_view p, std::uint32_t perms);
  error_code rmdir(std::string_view p);
  error_code remove(std::string_view p);
  error_code rename(std::string_view from, std::string_view to);
  error_code posix_rename(std::string_view from, std::string_view to);
  error_code symlink(std::string_view target, std::string_view link_path);
  error_code readlink(std::string_view p, std::string& out);
  error_code hardlink(std::string_view existing, std::string_view new_path);
  error_code realpath(std::string_view p, std::string& out);
  error_code setstat(std::string_view p, const set_attributes& a);
  error_code fsetstat(handle h, const set_attributes& a);
  error_code statvfs(std::string_view p, fs_stats& out);

  fault_injection& faults() const noexcept;
  std::uint64_t used_bytes() const;
  std::size_t open_handles() const;

  struct store;
  struct node;
  struct open_entry;
  memory_core(std::shared_ptr<store> s, std::shared_ptr<node> root, std::string home,
              bool read_only);
  ~memory_core();

 private:
  struct resolved;
  error_code prepare(std::string_view p, std::string& canonical, bool mutating);
  error_code walk(std::string_view canonical, bool follow_last, resolved& out) const;
  error_code rename_impl(std::string_view from, std::string_view to, bool replace);

  std::shared_ptr<store> store_;
  std::shared_ptr<node> root_;
  std::string home_;
  bool read_only_;
};

using memory_filesystem = sync_adapter<memory_core>;

inline memory_filesystem make_memory_filesystem(boost::asio::any_io_executor io,
                                                memory_options opts = {}) {
  return memory_filesystem{std::move(io), memory_core::create(std::move(opts))};
}

}  // namespace ferry::fs
