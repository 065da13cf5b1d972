#include <ferry/core/limits.hpp>
#include <ferry/fs/error.hpp>
#include <ferry/fs/local.hpp>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <string>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

namespace ferry::fs {

struct local_core::entry {
  path::unique_fd fd;
  DIR* dir = nullptr;  // owns fd's descriptor when set
  std::mutex m;        // readdir moves a shared position
  ~entry() {
    if (dir) {
      ::closedir(dir);
      fd.release();
    }
  }
  int get() const noexcept { return dir ? ::dirfd(dir) : fd.get(); }
};

namespace {

using boost::system::errc::errc_t;

error_code last_error() { return from_errno(errno); }

attributes to_attributes(const struct stat& st) {
  attributes a;
  a.size = static_cast<std::uint64_t>(st.st_size);
  a.uid = st.st_uid;
  a.gid = st.st_gid;
  a.permissions = st.st_mode;
  a.atime = st.st_atim.tv_sec;
  a.mtime = st.st_mtim.tv_sec;
  a.atime_nsec = static_cast<std::uint32_t>(st.st_atim.tv_nsec);
  a.mtime_nsec = static_cast<std::uint32_t>(st.st_mtim.tv_nsec);
  a.link_count = st.st_nlink;
  return a;
}

std::string proc_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

// Applies a set_attributes through a descriptor. A descriptor opened with O_PATH cannot be passed
// to fchmod/ftruncate/futimens, so those go through /proc/self/fd/N, which names exactly that
// inode: no path is resolved again, so nothing can be swapped in between.
error_code apply(int fd, bool is_path_fd, const set_attributes& a) {
  if (a.size) {
    if (*a.size > static_cast<std::uint64_t>(LLONG_MAX)) return from_errno(EINVAL);
    int r = is_path_fd ? ::truncate(proc_path(fd).c_str(), static_cast<off_t>(*a.size))
                       : ::ftruncate(fd, static_cast<off_t>(*a.size));
    if (r != 0) return last_error();
  }
  if (a.uid || a.gid) {
    uid_t u = a.uid ? static_cast<uid_t>(*a.uid) : static_cast<uid_t>(-1);
    gid_t g = a.gid ? static_cast<gid_t>(*a.gid) : static_cast<gid_t>(-1);
    if (::fchownat(fd, "", u, g, AT_EMPTY_PATH) != 0) return last_error();
  }
  if (a.permissions) {
    mode_t m = static_cast<mode_t>(*a.permissions & mode::permission_mask);
    int r = is_path_fd ? ::chmod(proc_path(fd).c_str(), m) : ::fchmod(fd, m);
    if (r != 0) return last_error();
  }
  if (a.atime || a.mtime) {
    struct timespec ts[2];
    ts[0] = a.atime ? timespec{static_cast<time_t>(*a.atime), 0} : timespec{0, UTIME_OMIT};
    ts[1] = a.mtime ? timespec{static_cast<time_t>(*a.mtime), 0} : timespec{0, UTIME_OMIT};
    int r = is_path_fd ? ::utimensat(AT_FDCWD, proc_path(fd).c_str(), ts, 0) : ::futimens(fd, ts);
    if (r != 0) return last_error();
  }
  return {};
}

}  // namespace

local_core::local_core(path::unique_fd root, local_options opts)
    : root_(std::move(root)), opts_(std::move(opts)) {}

local_core::~local_core() = default;

std::shared_ptr<local_core> local_core::open(const std::string& host_root, local_options opts,
                                             error_code& ec) {
  ec.clear();
  path::unique_fd fd{::open(host_root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)};
  if (!fd) {
    ec = last_error();
    return nullptr;
  }
  std::string home;
  if ((ec = path::normalize(opts.home, "/", home))) return nullptr;
  opts.home = std::move(home);
  return std::make_shared<local_core>(std::move(fd), std::move(opts));
}

std::shared_ptr<local_core> local_core::for_user(const user_view& v, error_code& ec) const {
  std::string root;
  std::string home;
  if ((ec = path::normalize(v.root, "/", root))) return nullptr;
  if ((ec = path::normalize(v.home, "/", home))) return nullptr;
  auto fd = path::open_beneath(root_.get(), root, O_PATH | O_DIRECTORY, 0, opts_.resolver, ec);
  if (ec) return nullptr;
  local_options o = opts_;
  o.home = std::move(home);
  o.read_only = opts_.read_only || v.read_only;
  return std::make_shared<local_core>(std::move(fd), std::move(o));
}

error_code local_core::canonical(std::string_view p, std::string& out) const {
  return path::normalize(p, opts_.home, out);
}

error_code local_core::parent_of(std::string_view p, path::unique_fd& dir, std::string& name) const {
  std::string c;
  if (auto ec = canonical(p, c)) return ec;
  error_code ec;
  dir = path::open_parent(root_.get(), c, opts_.resolver, name, ec);
  return ec;
}

error_code local_core::writable() const {
  return opts_.read_only ? make_error(errc_t::read_only_file_system) : error_code{};
}

std::shared_ptr<local_core::entry> local_core::find(handle h) const {
  std::lock_guard lock{m_};
  auto it = handles_.find(h.id);
  return it == handles_.end() ? nullptr : it->second;
}

handle local_core::insert(std::shared_ptr<entry> e) {
  std::lock_guard lock{m_};
  handle h{next_++};
  handles_.emplace(h.id, std::move(e));
  return h;
}

std::size_t local_core::open_handles() const {
  std::lock_guard lock{m_};
  return handles_.size();
}

error_code local_core::stat(std::string_view p, attributes& out) {
  std::string c;
  if (auto ec = canonical(p, c)) return ec;
  error_code ec;
  auto fd = path::open_beneath(root_.get(), c, O_PATH, 0, opts_.resolver, ec);
  if (ec) return ec;
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return last_error();
  out = to_attributes(st);
  return {};
}

error_code local_core::lstat(std::string_view p, attributes& out) {
  path::unique_fd dir;
  std::string name;
  if (auto ec = parent_of(p, dir, name)) return ec;
  struct stat st {};
  int r = name.empty() ? ::fstat(dir.get(), &st)
                       : ::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW);
  if (r != 0) return last_error();
  out = to_attributes(st);
  return {};
}

error_code local_core::open(std::string_view p, const open_mode& m, handle& out) {
  std::string c;
  if (auto ec = canonical(p, c)) return ec;
  bool changes = m.write || m.append || m.create || m.truncate;
  if (changes) {
    if (auto ec = writable()) return ec;
  }
  int flags = (m.read && changes) ? O_RDWR : changes ? O_WRONLY : O_RDONLY;
  if (m.append) flags |= O_APPEND;
  if (m.create) flags |= O_CREAT;
  if (m.create && m.exclusive) flags |= O_EXCL;
  if (m.truncate) flags |= O_TRUNC;
  // O_NONBLOCK: opening a FIFO must not hang a pool thread (it is refused just below anyway).
  flags |= O_NOCTTY | O_NONBLOCK;
  auto perms = static_cast<unsigned>(m.permissions & mode::permission_mask & ~opts_.umask);
  error_code ec;
  auto fd = path::open_beneath(root_.get(), c, flags, perms, opts_.resolver, ec);
  if (ec) return ec;
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return last_error();
  if (S_ISDIR(st.st_mode)) return from_errno(EISDIR);
  if (!S_ISREG(st.st_mode)) return from_errno(EINVAL);  // devices, FIFOs, sockets: not served
  ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) & ~O_NONBLOCK);
  auto e = std::make_shared<entry>();
  e->fd = std::move(fd);
  out = insert(std::move(e));
  return {};
}

int local_core::native_descriptor(handle h) const {
  auto e = find(h);
  if (!e || e->dir) return -1;
  return e->fd.get();
}

error_code local_core::fstat(handle h, attributes& out) {
  auto e = find(h);
  if (!e) return from_errno(EBADF);
  struct stat st {};
  if (::fstat(e->get(), &st) != 0) return last_error();
  out = to_attributes(st);
  return {};
}

error_code local_core::read_at(handle h, std::uint64_t offset, mutable_byte_view buf,
                               std::size_t& n) {
  n = 0;
  auto e = find(h);
  if (!e || e->dir) return from_errno(EBADF);
  if (offset > static_cast<std::uint64_t>(LLONG_MAX)) return from_errno(EINVAL);
  if (buf.empty()) return {};
  auto r = ::pread(e->get(), buf.data(), buf.size(), static_cast<off_t>(offset));
  if (r < 0) return last_error();
  if (r == 0) return boost::asio::error::eof;
  n = static_cast<std::size_t>(r);
  return {};
}

error_code local_core::write_at(handle h, std::uint64_t offset, byte_view data, std::size_t& n) {
  n = 0;
  auto e = find(h);
  if (!e || e->dir) return from_errno(EBADF);
  if (offset > static_cast<std::uint64_t>(LLONG_MAX)) return from_errno(EINVAL);
  if (data.empty()) return {};
  auto r = ::pwrite(e->get(), data.data(), data.size(), static_cast<off_t>(offset));
  if (r < 0) return last_error();
  n = static_cast<std::size_t>(r);
  return {};
}

error_code local_core::close(handle h) {
  std::shared_ptr<entry> e;
  {
    std::lock_guard lock{m_};
    auto it = handles_.find(h.id);
    if (it == handles_.end()) return from_errno(EBADF);
    e = std::move(it->second);
    handles_.erase(it);
  }
  // The descriptor closes when the last operation still using it finishes.
  return {};
}

error_code local_core::fsync(handle h) {
  auto e = find(h);
  if (!e) return from_errno(EBADF);
  if (::fsync(e->get()) != 0) return last_error();
  return {};
}

error_code local_core::opendir(std::string_view p, handle& out) {
  std::string c;
  if (auto ec = canonical(p, c)) return ec;
  error_code ec;
  auto fd = path::open_beneath(root_.get(), c, O_RDONLY | O_DIRECTORY, 0, opts_.resolver, ec);
  if (ec) return ec;
  DIR* d = ::fdopendir(fd.get());
  if (!d) return last_error();
  auto e = std::make_shared<entry>();
  e->fd = std::move(fd);
  e->dir = d;
  out = insert(std::move(e));
  return {};
}

error_code local_core::readdir(handle h, std::vector<dir_entry>& out) {
  out.clear();
  auto e = find(h);
  if (!e || !e->dir) return from_errno(EBADF);
  std::lock_guard lock{e->m};
  while (out.size() < limits::fs_readdir_batch) {
    errno = 0;
    struct dirent* d = ::readdir(e->dir);
    if (!d) {
      if (errno != 0) return last_error();
      break;
    }
    std::string_view name{d->d_name};
    if (name == "." || name == "..") continue;
    struct stat st {};
    // Gone since the listing was read: leave it out rather than fail the whole batch.
    if (::fstatat(e->get(), d->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    out.push_back({std::string{name}, to_attributes(st)});
  }
  if (out.empty()) return boost::asio::error::eof;
  return {};
}

error_code local_core::mkdir(std::string_view p, std::uint32_t perms) {
  if (auto ec = writable()) return ec;
  path::unique_fd dir;
  std::string name;
  if (auto ec = parent_of(p, dir, name)) return ec;
  if (name.empty()) return from_errno(EEXIST);
  auto m = static_cast<mode_t>(perms & mode::permission_mask & ~opts_.umask);
  if (::mkdirat(dir.get(), name.c_str(), m) != 0) return last_error();
  return {};
}

error_code local_core::rmdir(std::string_view p) {
  if (auto ec = writable()) return ec;
  path::unique_fd dir;
  std::string name;
  if (auto ec = parent_of(p, dir, name)) return ec;
  if (name.empty()) return from_errno(EBUSY);  // the root itself
  if (::unlinkat(dir.get(), name.c_str(), AT_REMOVEDIR) != 0) return last_error();
  return {};
}

error_code local_core::remove(std::string_view p) {
  if (auto ec = writable()) return ec;
  path::unique_fd dir;
  std::string name;
  if (auto ec = parent_of(p, dir, name)) return ec;
  if (name.empty()) return from_errno(EISDIR);
  if (::unlinkat(dir.get(), name.c_str(), 0) != 0) return last_error();
  return {};
}

error_code local_core::two_parents(std::string_view from, std::string_view to,
                                   path::unique_fd& pf, std::string& nf, path::unique_fd& pt,
                                   std::string& nt) {
  if (auto ec = parent_of(from, pf, nf)) return ec;
  if (auto ec = parent_of(to, pt, nt)) return ec;
  if (nf.empty() || nt.empty()) return from_errno(EBUSY);
  return {};
}

error_code local_core::rename(std::string_view from, std::string_view to) {
  if (auto ec = writable()) return ec;
  path::unique_fd pf, pt;
  std::string nf, nt;
  if (auto ec = two_parents(from, to, pf, nf, pt, nt)) return ec;
  // SFTP v3 SSH_FXP_RENAME must not overwrite (draft-ietf-secsh-filexfer-02 §6.5).
  if (::renameat2(pf.get(), nf.c_str(), pt.get(), nt.c_str(), RENAME_NOREPLACE) == 0) return {};
  if (errno != EINVAL) return last_error();
  // EINVAL: the filesystem may lack RENAME_NOREPLACE. A non-directory can still move without
  // overwriting: link(2) fails with EEXIST on an existing name, then the old name goes.
  struct stat st {};
  if (::fstatat(pf.get(), nf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return last_error();
  if (S_ISDIR(st.st_mode)) return from_errno(EINVAL);
  if (::linkat(pf.get(), nf.c_str(), pt.get(), nt.c_str(), 0) != 0) return last_error();
  if (::unlinkat(pf.get(), nf.c_str(), 0) != 0) return last_error();
  return {};
}

error_code local_core::posix_rename(std::string_view from, std::string_view to) {
  if (auto ec = writable()) return ec;
  path::unique_fd pf, pt;
  std::string nf, nt;
  if (auto ec = two_parents(from, to, pf, nf, pt, nt)) return ec;
  if (::renameat(pf.get(), nf.c_str(), pt.get(), nt.c_str()) != 0) return last_error();
  return {};
}

error_code local_core::symlink(std::string_view target, std::string_view link_path) {
  if (auto ec = writable()) return ec;
  // The target is stored as given: resolution reads it against the root later, so an absolute
  // target names a path inside the root, as it would in a chroot.
  if (target.empty()) return from_errno(ENOENT);
  if (target.size() > limits::fs_max_path) return from_errno(ENAMETOOLONG);
  if (target.find('\0') != std::string_view::npos) return from_errno(EINVAL);
  path::unique_fd dir;
  std::string name;
  if (auto ec = parent_of(link_path, dir, name)) return ec;
  if (name.empty()) return from_errno(EEXIST);
  if (::symlinkat(std::string{target}.c_str(), dir.get(), name.c_str()) != 0) return last_error();
  return {};
}

error_code local_core::readlink(std::string_view p, std::string& out) {
  path::unique_fd dir;
  std::string name;
  if (auto ec = parent_of(p, dir, name)) return ec;
  if (name.empty()) return from_errno(EINVAL);
  char buf[limits::fs_max_path + 1];
  auto n = ::readlinkat(dir.get(), name.c_str(), buf, sizeof buf);
  if (n < 0) return last_error();
  if (static_cast<std::size_t>(n) > limits::fs_max_path) return from_errno(ENAMETOOLONG);
  out.assign(buf, static_cast<std::size_t>(n));
  return {};
}

error_code local_core::hardlink(std::string_view existing, std::string_view new_path) {
  if (auto ec = writable()) return ec;
  path::unique_fd pf, pt;
  std::string nf, nt;
  if (auto ec = two_parents(existing, new_path, pf, nf, pt, nt)) return ec;
  // flags 0: a symlink is linked itself, never followed (linkat(2)).
  if (::linkat(pf.get(), nf.c_str(), pt.get(), nt.c_str(), 0) != 0) return last_error();
  return {};
}

error_code local_core::realpath(std::string_view p, std::string& out) {
  std::string c;
  if (auto ec = canonical(p, c)) return ec;
  return path::real_path(root_.get(), c, out);
}

error_code local_core::setstat(std::string_view p, const set_attributes& a) {
  if (auto ec = writable()) return ec;
  std::string c;
  if (auto ec = canonical(p, c)) return ec;
  error_code ec;
  auto fd = path::open_beneath(root_.get(), c, O_PATH, 0, opts_.resolver, ec);
  if (ec) return ec;
  return apply(fd.get(), true, a);
}

error_code local_core::fsetstat(handle h, const set_attributes& a) {
  if (auto ec = writable()) return ec;
  auto e = find(h);
  if (!e) return from_errno(EBADF);
  return apply(e->get(), false, a);
}

error_code local_core::statvfs(std::string_view p, fs_stats& out) {
  std::string c;
  if (auto ec = canonical(p, c)) return ec;
  error_code ec;
  auto fd = path::open_beneath(root_.get(), c, O_PATH, 0, opts_.resolver, ec);
  if (ec) return ec;
  struct statvfs s {};
  if (::fstatvfs(fd.get(), &s) != 0) return last_error();
  out.block_size = s.f_bsize;
  out.fragment_size = s.f_frsize;
  out.blocks = s.f_blocks;
  out.blocks_free = s.f_bfree;
  out.blocks_available = s.f_bavail;
  out.files = s.f_files;
  out.files_free = s.f_ffree;
  out.files_available = s.f_favail;
  out.fsid = s.f_fsid;
  out.flags = ((s.f_flag & ST_RDONLY) ? 1u : 0u) | ((s.f_flag & ST_NOSUID) ? 2u : 0u);
  if (opts_.read_only) out.flags |= 1u;
  out.name_max = s.f_namemax;
  return {};
}

}  // namespace ferry::fs
