#include <ferry/core/limits.hpp>
#include <ferry/fs/error.hpp>
#include <ferry/fs/path.hpp>

#include <atomic>
#include <cerrno>
#include <deque>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#define FERRY_HAVE_OPENAT2_HEADER 1
#endif

namespace ferry::fs::path {

namespace {

// Splits on '/', skipping empty components.
template <class F>
void for_each_component(std::string_view p, F&& f) {
  std::size_t i = 0;
  while (i < p.size()) {
    auto slash = p.find('/', i);
    if (slash == std::string_view::npos) slash = p.size();
    if (slash > i) f(p.substr(i, slash - i));
    i = slash + 1;
  }
}

}  // namespace

error_code normalize(std::string_view client_path, std::string_view home, std::string& out) {
  out.clear();
  if (client_path.size() > limits::fs_max_path || home.size() > limits::fs_max_path) {
    return make_error(boost::system::errc::filename_too_long);
  }
  if (client_path.find('\0') != std::string_view::npos ||
      home.find('\0') != std::string_view::npos) {
    return make_error(boost::system::errc::invalid_argument);
  }
  std::vector<std::string_view> stack;
  error_code ec;
  auto push = [&](std::string_view c) {
    if (c == ".") return;
    if (c == "..") {
      if (!stack.empty()) stack.pop_back();  // "/.." is "/", as in a chroot
      return;
    }
    if (c.size() > limits::fs_max_name) ec = make_error(boost::system::errc::filename_too_long);
    stack.push_back(c);
  };
  if (client_path.empty() || client_path.front() != '/') for_each_component(home, push);
  for_each_component(client_path, push);
  if (ec) return ec;
  if (stack.empty()) {
    out = "/";
    return {};
  }
  for (auto c : stack) {
    out += '/';
    out += c;
  }
  if (out.size() > limits::fs_max_path) {
    out.clear();
    return make_error(boost::system::errc::filename_too_long);
  }
  return {};
}

std::vector<std::string_view> components(std::string_view canonical) {
  std::vector<std::string_view> out;
  for_each_component(canonical, [&](std::string_view c) { out.push_back(c); });
  return out;
}

std::pair<std::string_view, std::string_view> split_last(std::string_view canonical) {
  while (canonical.size() > 1 && canonical.back() == '/') canonical.remove_suffix(1);
  auto slash = canonical.rfind('/');
  if (slash == std::string_view::npos) return {"/", canonical};
  auto name = canonical.substr(slash + 1);
  auto dir = slash == 0 ? std::string_view{"/"} : canonical.substr(0, slash);
  return {dir, name};
}

std::string join(std::string_view canonical_dir, std::string_view name) {
  std::string out{canonical_dir};
  if (out.empty() || out.back() != '/') out += '/';
  out += name;
  return out;
}

bool is_plain_name(std::string_view name) noexcept {
  return !name.empty() && name != "." && name != ".." && name.size() <= limits::fs_max_name &&
         name.find('/') == std::string_view::npos && name.find('\0') == std::string_view::npos;
}

void unique_fd::reset() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

// --- openat2 -------------------------------------------------------------------------------------

namespace {

std::string relative(std::string_view canonical) {
  while (!canonical.empty() && canonical.front() == '/') canonical.remove_prefix(1);
  return canonical.empty() ? std::string{"."} : std::string{canonical};
}

#ifdef FERRY_HAVE_OPENAT2_HEADER
// openat(2) with the resolution scoped to dirfd (openat2(2), Linux 5.6). RESOLVE_IN_ROOT makes ".."
// and absolute symlink targets stop at dirfd; RESOLVE_NO_MAGICLINKS refuses /proc/<pid>/fd-style
// links, which would jump anywhere.
int sys_openat2(int dirfd, const char* p, int flags, unsigned mode) {
  open_how how{};
  how.flags = static_cast<std::uint64_t>(flags);
  how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  for (int attempt = 0;; ++attempt) {
    long fd = ::syscall(SYS_openat2, dirfd, p, &how, sizeof how);
    // EAGAIN: a concurrent rename raced the ".." check; the kernel asks for a retry.
    if (fd < 0 && errno == EAGAIN && attempt < 64) continue;
    return static_cast<int>(fd);
  }
}
#endif

std::atomic<int> openat2_state{0};  // 0 unknown, 1 available, -1 unavailable

}  // namespace

bool openat2_available() noexcept {
#ifdef FERRY_HAVE_OPENAT2_HEADER
  int s = openat2_state.load(std::memory_order_relaxed);
  if (s == 0) {
    int fd = sys_openat2(AT_FDCWD, "/", O_PATH | O_CLOEXEC, 0);
    // ENOSYS: an old kernel; EPERM: a seccomp filter that does not know the call.
    s = fd >= 0 ? 1 : -1;
    if (fd >= 0) ::close(fd);
    openat2_state.store(s, std::memory_order_relaxed);
  }
  return s == 1;
#else
  return false;
#endif
}

// --- the walk ------------------------------------------------------------------------------------

namespace {

// State of a chroot-style resolution: the stack of directories entered below the root (each pinned
// by a descriptor, so ".." pops back to what was really traversed instead of asking the filesystem
// for a parent that a rename may have moved outside), and the names that led there.
class walker {
 public:
  explicit walker(int root_fd) : root_(root_fd) {}

  int current() const noexcept { return dirs_.empty() ? root_ : dirs_.back().get(); }
  const std::vector<std::string>& names() const noexcept { return names_; }

  // Resolves path; when follow_last is false stops before the last component and leaves its name
  // in last_name (the caller opens it). Otherwise opens the last component with flags.
  unique_fd run(std::string_view canonical, bool follow_last, int flags, unsigned mode,
                std::string& last_name, error_code& ec) {
    std::deque<std::string> todo;
    for (auto c : components(canonical)) todo.emplace_back(c);
    std::size_t links = 0;
    while (!todo.empty()) {
      std::string comp = std::move(todo.front());
      todo.pop_front();
      if (comp.empty() || comp == ".") continue;
      if (comp == "..") {
        up();
        continue;
      }
      bool last = todo.empty();
      if (last && !follow_last) {
        last_name = std::move(comp);
        return reopen_current(ec);
      }
      // Look at what the name is without following it. O_PATH | O_NOFOLLOW on a symlink yields a
      // descriptor of the link itself, so the target read below is that very link's.
      unique_fd fd{::openat(current(), comp.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC)};
      if (!fd) {
        if (errno == ENOENT && last && (flags & O_CREAT)) {
          unique_fd created{::openat(current(), comp.c_str(), flags | O_NOFOLLOW | O_CLOEXEC, mode)};
          if (!created) ec = from_errno(errno);
          else names_.push_back(std::move(comp));
          return created;
        }
        ec = from_errno(errno);
        return {};
      }
      struct stat st {};
      if (::fstat(fd.get(), &st) != 0) {
        ec = from_errno(errno);
        return {};
      }
      if (S_ISLNK(st.st_mode)) {
        if (last && (flags & O_CREAT) && (flags & O_EXCL)) {
          ec = from_errno(EEXIST);  // open(2): O_CREAT|O_EXCL fails on any existing name
          return {};
        }
        if (++links > limits::fs_max_symlinks) {
          ec = from_errno(ELOOP);
          return {};
        }
        std::string target;
        if (auto e = read_link(fd.get(), target)) {
          ec = e;
          return {};
        }
        if (!target.empty() && target.front() == '/') {
          // An absolute target is read against the root, as a chroot would.
          dirs_.clear();
          names_.clear();
        }
        std::deque<std::string> expanded;
        for (auto c : components(target)) expanded.emplace_back(c);
        todo.insert(todo.begin(), expanded.begin(), expanded.end());
        continue;
      }
      if (last) {
        // Reopen with the caller's flags; O_NOFOLLOW makes a symlink swapped in meanwhile fail
        // (ELOOP) instead of being followed out of the root.
        unique_fd out{::openat(current(), comp.c_str(), flags | O_NOFOLLOW | O_CLOEXEC, mode)};
        if (!out) {
          ec = from_errno(errno);
          return {};
        }
        names_.push_back(std::move(comp));
        return out;
      }
      if (!S_ISDIR(st.st_mode)) {
        ec = from_errno(ENOTDIR);
        return {};
      }
      dirs_.push_back(std::move(fd));
      names_.push_back(std::move(comp));
    }
    // Every component consumed (the path was "/" or ended in ".."): the current directory itself.
    if (!follow_last) {
      last_name.clear();
      return reopen_current(ec);
    }
    unique_fd out{::openat(current(), ".", flags | O_CLOEXEC, mode)};
    if (!out) ec = from_errno(errno);
    return out;
  }

 private:
  void up() {
    if (!dirs_.empty()) {
      dirs_.pop_back();
      names_.pop_back();
    }
  }

  unique_fd reopen_current(error_code& ec) {
    unique_fd out{::openat(current(), ".", O_PATH | O_DIRECTORY | O_CLOEXEC)};
    if (!out) ec = from_errno(errno);
    return out;
  }

  static error_code read_link(int link_fd, std::string& target) {
    char buf[limits::fs_max_path + 1];
    auto n = ::readlinkat(link_fd, "", buf, sizeof buf);
    if (n < 0) return from_errno(errno);
    if (static_cast<std::size_t>(n) > limits::fs_max_path) return from_errno(ENAMETOOLONG);
    target.assign(buf, static_cast<std::size_t>(n));
    return {};
  }

  int root_;
  std::vector<unique_fd> dirs_;
  std::vector<std::string> names_;
};

}  // namespace

unique_fd open_beneath(int root_fd, std::string_view canonical, int flags, unsigned create_mode,
                       resolver r, error_code& ec) {
  ec.clear();
  flags &= ~O_NOFOLLOW;
  if (r == resolver::automatic) r = openat2_available() ? resolver::openat2 : resolver::walk;
  if (r == resolver::openat2) {
#ifdef FERRY_HAVE_OPENAT2_HEADER
    auto rel = relative(canonical);
    unique_fd fd{sys_openat2(root_fd, rel.c_str(), flags | O_CLOEXEC, create_mode)};
    if (!fd) ec = from_errno(errno);
    return fd;
#else
    ec = from_errno(ENOSYS);
    return {};
#endif
  }
  walker w{root_fd};
  std::string unused;
  return w.run(canonical, true, flags, create_mode, unused, ec);
}

unique_fd open_parent(int root_fd, std::string_view canonical, resolver r, std::string& name,
                      error_code& ec) {
  ec.clear();
  auto [dir, last] = split_last(canonical);
  name = std::string{last};
  if (r == resolver::walk || (r == resolver::automatic && !openat2_available())) {
    walker w{root_fd};
    std::string n;
    auto fd = w.run(canonical, false, 0, 0, n, ec);
    name = std::move(n);
    return fd;
  }
  return open_beneath(root_fd, dir, O_PATH | O_DIRECTORY, 0, r, ec);
}

error_code real_path(int root_fd, std::string_view canonical, std::string& out) {
  walker w{root_fd};
  std::string unused;
  error_code ec;
  auto fd = w.run(canonical, true, O_PATH, 0, unused, ec);
  if (ec) return ec;
  out.clear();
  for (const auto& n : w.names()) {
    out += '/';
    out += n;
  }
  if (out.empty()) out = "/";
  return {};
}

}  // namespace ferry::fs::path
