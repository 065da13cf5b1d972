// The local backend: a directory on this machine that becomes the user's "/" and that nothing can
// leave. Every path goes through fs::path: normalised lexically, then resolved below a descriptor
// of the root as a chroot would (openat2 RESOLVE_IN_ROOT, or the O_NOFOLLOW walk), so "..",
// absolute paths, absolute or relative symlink targets and symlinks swapped in mid-operation all
// stay inside. Operations on a last component that must not be followed (lstat, remove, rename,
// readlink, ...) act on the name through a descriptor of its parent.
//
// Blocking system calls run on a thread pool (or an executor the caller supplies), never on the
// threads that serve network traffic; results come back on the caller's executor. A thread pool
// was chosen over io_uring: it serves every call (stat, openat2, rename, readdir, which io_uring
// on older kernels lacks), needs no extra library, and bench/bench_fs.cpp shows its per-call cost
// is small next to a network round trip.
#pragma once

#include <ferry/fs/path.hpp>
#include <ferry/fs/sync_adapter.hpp>

#include <boost/asio/thread_pool.hpp>

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace ferry::fs {

struct local_options {
  bool read_only = false;            // every change fails with EROFS
  std::uint32_t umask = 022;         // removed from the permissions of created files and dirs
                                     // (the process umask, if stricter, applies as well)
  path::resolver resolver = path::resolver::automatic;
  std::string home = "/";            // where relative paths start, within the root
};

class local_core {
 public:
  // host_root must be an existing directory.
  static std::shared_ptr<local_core> open(const std::string& host_root, local_options opts,
                                          error_code& ec);
  std::shared_ptr<local_core> for_user(const user_view& v, error_code& ec) const;

  error_code stat(std::string_view p, attributes& out);
  error_code lstat(std::string_view p, attributes& out);
  error_code open(std::string_view p, const open_mode& m, handle& out);
  error_code fstat(handle h, attributes& out);
  // The descriptor of an open file, for zero-copy sends (sendfile) by servers; -1 for an unknown
  // handle or a directory. It stays valid until the handle is closed; do not close it.
  int native_descriptor(handle h) const;
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

  std::size_t open_handles() const;

  struct entry;
  local_core(path::unique_fd root, local_options opts);
  ~local_core();

 private:
  error_code canonical(std::string_view p, std::string& out) const;
  error_code writable() const;
  // The directory holding p (opened beneath the root) and the last component's name; an empty
  // name means p is the root itself.
  error_code parent_of(std::string_view p, path::unique_fd& dir, std::string& name) const;
  std::shared_ptr<entry> find(handle h) const;
  handle insert(std::shared_ptr<entry> e);
  error_code two_parents(std::string_view from, std::string_view to, path::unique_fd& pf,
                         std::string& nf, path::unique_fd& pt, std::string& nt);

  path::unique_fd root_;
  local_options opts_;
  mutable std::mutex m_;
  std::unordered_map<std::uint64_t, std::shared_ptr<entry>> handles_;
  std::uint64_t next_ = 1;
};

using local_filesystem = sync_adapter<local_core>;

// A local filesystem rooted at host_root whose blocking calls run on a pool of `threads` threads
// that it owns (shared with its user views, joined when the last copy goes). On an error (the root
// cannot be opened) the result is not valid() and every operation fails with EBADF.
inline local_filesystem make_local_filesystem(boost::asio::any_io_executor io,
                                              const std::string& host_root, local_options opts,
                                              error_code& ec, std::size_t threads = 4) {
  auto core = local_core::open(host_root, std::move(opts), ec);
  std::shared_ptr<boost::asio::thread_pool> pool{new boost::asio::thread_pool(threads),
                                                 [](boost::asio::thread_pool* p) {
                                                   p->join();
                                                   delete p;
                                                 }};
  boost::asio::any_io_executor blocking = pool->get_executor();
  return local_filesystem{std::move(io), std::move(core), std::move(blocking), std::move(pool)};
}

// The same, with blocking calls on an executor the caller owns (it must outlive the filesystem).
inline local_filesystem make_local_filesystem(boost::asio::any_io_executor io,
                                              const std::string& host_root, local_options opts,
                                              boost::asio::any_io_executor blocking,
                                              error_code& ec) {
  auto core = local_core::open(host_root, std::move(opts), ec);
  return local_filesystem{std::move(io), std::move(core), std::move(blocking)};
}

}  // namespace ferry::fs
