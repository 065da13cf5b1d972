// The one place where client paths are checked, normalised and mapped onto a backend.
//
// A client path is '/'-separated; an absolute path is read against the user's root, a relative one
// against the user's home. normalize() turns it into a canonical virtual path ("/" or "/a/b"): it
// refuses NUL, empty input is the home, "." and empty components vanish and ".." stops at the root
// (as in a chroot, where "/.." is "/"). It is lexical only; symlinks are resolved by the backend
// against the same root, with the same rules: an absolute target is read against the root and ".."
// never climbs above it.
//
// For the local backend this header also declares the Linux resolution primitives: openat2(2) with
// RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS where the kernel has it (5.6+), otherwise a walk that
// opens one component at a time with O_NOFOLLOW below a pinned directory descriptor and expands
// symlinks itself. Either way a symlink swapped in during the operation can only lead to something
// inside the root, never outside.
#pragma once

#include <ferry/core/error.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ferry::fs::path {

// The canonical virtual path of client_path seen from home (itself canonical). Errors: EINVAL for
// NUL, ENAMETOOLONG for a path or component over limits::fs_max_path / fs_max_name.
error_code normalize(std::string_view client_path, std::string_view home, std::string& out);

// "/a/b" -> {"a", "b"}; "/" -> {}.
std::vector<std::string_view> components(std::string_view canonical);

// "/a/b" -> "/a" and "b"; "/a" -> "/" and "a"; "/" -> "/" and "".
std::pair<std::string_view, std::string_view> split_last(std::string_view canonical);

// Joins a canonical directory and a component.
std::string join(std::string_view canonical_dir, std::string_view name);

// A single, ordinary name: not empty, not "." or "..", no '/' and no NUL.
bool is_plain_name(std::string_view name) noexcept;

// --- local resolution (Linux) ------------------------------------------------------------------

enum class resolver {
  automatic,  // openat2 if the kernel has it, else the walk
  openat2,    // openat2 only (ENOSYS if the kernel lacks it)
  walk,       // the per-component O_NOFOLLOW walk (the fallback, forced for tests)
};

// Whether this kernel answers openat2 (probed once).
bool openat2_available() noexcept;

// An owned file descriptor.
class unique_fd {
 public:
  unique_fd() noexcept = default;
  explicit unique_fd(int fd) noexcept : fd_(fd) {}
  unique_fd(unique_fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  unique_fd& operator=(unique_fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  ~unique_fd() { reset(); }
  int get() const noexcept { return fd_; }
  int release() noexcept { return std::exchange(fd_, -1); }
  explicit operator bool() const noexcept { return fd_ >= 0; }
  void reset() noexcept;

 private:
  int fd_ = -1;
};

// Opens the canonical virtual path below root_fd as if root_fd were "/", following symlinks
// (within the root) in every component. flags are open(2) flags (O_NOFOLLOW is ignored: callers
// that must not follow the last component use open_parent). O_CLOEXEC is always added.
unique_fd open_beneath(int root_fd, std::string_view canonical, int flags, unsigned create_mode,
                       resolver r, error_code& ec);

// Opens the directory that holds the last component (O_PATH) and returns that component's name;
// the *at() call that follows acts on the name without following it, so nothing can swap the
// parent in between. For "/" the name is empty and the descriptor is the root's.
unique_fd open_parent(int root_fd, std::string_view canonical, resolver r, std::string& name,
                      error_code& ec);

// The canonical path of the object canonical names, all symlinks expanded (within the root). The
// object must exist.
error_code real_path(int root_fd, std::string_view canonical, std::string& out);

}  // namespace ferry::fs::path
