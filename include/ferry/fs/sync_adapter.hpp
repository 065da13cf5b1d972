// Turns a synchronous backend ("core") into a Filesystem. Both of ferry's backends are written this
// way, and so can a user's (examples/custom_backend.cpp): the core implements plain calls that
// return an error_code; the adapter wraps each one into an initiating function. A call runs on the
// blocking executor when one is given (the local backend: disk calls never stall the threads that
// serve the network) or right away otherwise (the memory backend), and completes through a post to
// the handler's executor.
//
// Core members, all optional but the required set of fs::filesystem (p: client path):
//   error_code stat(std::string_view p, attributes&);          lstat, same
//   error_code open(std::string_view p, const open_mode&, handle&);
//   error_code read_at(handle, std::uint64_t, mutable_byte_view, std::size_t&);
//   error_code write_at(handle, std::uint64_t, byte_view, std::size_t&);
//   error_code close(handle);   fsync(handle);   fstat(handle, attributes&)
//   error_code opendir(std::string_view p, handle&);   readdir(handle, std::vector<dir_entry>&)
//   error_code mkdir(p, std::uint32_t perms);   rmdir(p);   remove(p)
//   error_code rename(from, to);   posix_rename(from, to);   hardlink(existing, new_path)
//   error_code symlink(target, link_path);   readlink(p, std::string&);   realpath(p, std::string&)
//   error_code setstat(p, const set_attributes&);   fsetstat(handle, const set_attributes&)
//   error_code statvfs(p, fs_stats&)
//   std::shared_ptr<Core> for_user(const user_view&, error_code&) const
// A core must be safe to call from several threads at once.
#pragma once

#include <ferry/fs/error.hpp>
#include <ferry/fs/filesystem.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <cerrno>

#include <memory>
#include <optional>
#include <string_view>

namespace ferry::fs {

template <class Core>
class sync_adapter {
 public:
  using executor_type = boost::asio::any_io_executor;
  using core_type = Core;

  // keep_alive holds whatever the blocking executor needs (a thread pool) for as long as any copy
  // of this filesystem exists.
  sync_adapter(executor_type io, std::shared_ptr<Core> core,
               std::optional<boost::asio::any_io_executor> blocking = {},
               std::shared_ptr<void> keep_alive = {})
      : io_(std::move(io)),
        core_(std::move(core)),
        blocking_(std::move(blocking)),
        keep_alive_(std::move(keep_alive)) {}

  executor_type get_executor() const noexcept { return io_; }
  Core& core() const noexcept { return *core_; }

  // The same storage seen by one user (fs::has_user_views). On an error the result has no
  // storage at all: every operation on it fails with EBADF (never the parent's wider view).
  sync_adapter for_user(const user_view& v, error_code& ec) const
    requires requires(const Core& c) {
      { c.for_user(v, ec) } -> std::same_as<std::shared_ptr<Core>>;
    }
  {
    std::shared_ptr<Core> c = core_ ? core_->for_user(v, ec) : nullptr;
    if (!core_) ec = from_errno(EBADF);
    if (ec) c = nullptr;
    return sync_adapter{io_, std::move(c), blocking_, keep_alive_};
  }

  // False for a filesystem whose creation failed.
  bool valid() const noexcept { return core_ != nullptr; }

  // --- required ------------------------------------------------------------------------------------

  template <class Token>
  auto async_stat(std::string p, Token&& token) {
    return value<attributes>(std::forward<Token>(token),
                             [p = std::move(p)](Core& c, attributes& a) { return c.stat(p, a); });
  }

  template <class Token>
  auto async_open(std::string p, open_mode m, Token&& token) {
    return value<handle>(std::forward<Token>(token), [p = std::move(p), m](Core& c, handle& h) {
      return c.open(p, m, h);
    });
  }

  // buffer must stay valid until the completion (as with asio::async_read_some).
  template <class Token>
  auto async_read_at(handle h, std::uint64_t offset, mutable_byte_view buffer, Token&& token) {
    return value<std::size_t>(std::forward<Token>(token), [=](Core& c, std::size_t& n) {
      return c.read_at(h, offset, buffer, n);
    });
  }

  template <class Token>
  auto async_write_at(handle h, std::uint64_t offset, byte_view data, Token&& token) {
    return value<std::size_t>(std::forward<Token>(token), [=](Core& c, std::size_t& n) {
      return c.write_at(h, offset, data, n);
    });
  }

  template <class Token>
  auto async_close(handle h, Token&& token) {
    return done(std::forward<Token>(token), [h](Core& c) { return c.close(h); });
  }

  template <class Token>
  auto async_opendir(std::string p, Token&& token) {
    return value<handle>(std::forward<Token>(token),
                         [p = std::move(p)](Core& c, handle& h) { return c.opendir(p, h); });
  }

  template <class Token>
  auto async_readdir(handle h, Token&& token) {
    return value<std::vector<dir_entry>>(
        std::forward<Token>(token),
        [h](Core& c, std::vector<dir_entry>& out) { return c.readdir(h, out); });
  }

  template <class Token>
  auto async_mkdir(std::string p, std::uint32_t perms, Token&& token) {
    return done(std::forward<Token>(token),
                [p = std::move(p), perms](Core& c) { return c.mkdir(p, perms); });
  }

  template <class Token>
  auto async_rmdir(std::string p, Token&& token) {
    return done(std::forward<Token>(token), [p = std::move(p)](Core& c) { return c.rmdir(p); });
  }

  template <class Token>
  auto async_remove(std::string p, Token&& token) {
    return done(std::forward<Token>(token), [p = std::move(p)](Core& c) { return c.remove(p); });
  }

  template <class Token>
  auto async_rename(std::string from, std::string to, Token&& token) {
    return done(std::forward<Token>(token), [f = std::move(from), t = std::move(to)](Core& c) {
      return c.rename(f, t);
    });
  }

  template <class Token>
  auto async_realpath(std::string p, Token&& token) {
    return value<std::string>(std::forward<Token>(token), [p = std::move(p)](Core& c,
                                                                            std::string& out) {
      return c.realpath(p, out);
    });
  }

  // --- optional: present only when the core has them ----------------------------------------------

  template <class Token>
  auto async_lstat(std::string p, Token&& token)
    requires requires(Core& c, attributes& a) { c.lstat(p, a); }
  {
    return value<attributes>(std::forward<Token>(token),
                             [p = std::move(p)](Core& c, attributes& a) { return c.lstat(p, a); });
  }

  template <class Token>
  auto async_fstat(handle h, Token&& token)
    requires requires(Core& c, attributes& a) { c.fstat(h, a); }
  {
    return value<attributes>(std::forward<Token>(token),
                             [h](Core& c, attributes& a) { return c.fstat(h, a); });
  }

  template <class Token>
  auto async_setstat(std::string p, set_attributes a, Token&& token)
    requires requires(Core& c) { c.setstat(p, a); }
  {
    return done(std::forward<Token>(token),
                [p = std::move(p), a](Core& c) { return c.setstat(p, a); });
  }

  template <class Token>
  auto async_fsetstat(handle h, set_attributes a, Token&& token)
    requires requires(Core& c) { c.fsetstat(h, a); }
  {
    return done(std::forward<Token>(token), [h, a](Core& c) { return c.fsetstat(h, a); });
  }

  template <class Token>
  auto async_fsync(handle h, Token&& token)
    requires requires(Core& c) { c.fsync(h); }
  {
    return done(std::forward<Token>(token), [h](Core& c) { return c.fsync(h); });
  }

  template <class Token>
  auto async_posix_rename(std::string from, std::string to, Token&& token)
    requires requires(Core& c) { c.posix_rename(from, to); }
  {
    return done(std::forward<Token>(token), [f = std::move(from), t = std::move(to)](Core& c) {
      return c.posix_rename(f, t);
    });
  }

  template <class Token>
  auto async_symlink(std::string target, std::string link_path, Token&& token)
    requires requires(Core& c) { c.symlink(target, link_path); }
  {
    return done(std::forward<Token>(token),
                [t = std::move(target), l = std::move(link_path)](Core& c) {
                  return c.symlink(t, l);
                });
  }

  template <class Token>
  auto async_readlink(std::string p, Token&& token)
    requires requires(Core& c, std::string& out) { c.readlink(p, out); }
  {
    return value<std::string>(std::forward<Token>(token), [p = std::move(p)](Core& c,
                                                                            std::string& out) {
      return c.readlink(p, out);
    });
  }

  template <class Token>
  auto async_hardlink(std::string existing, std::string new_path, Token&& token)
    requires requires(Core& c) { c.hardlink(existing, new_path); }
  {
    return done(std::forward<Token>(token),
                [e = std::move(existing), n = std::move(new_path)](Core& c) {
                  return c.hardlink(e, n);
                });
  }

  template <class Token>
  auto async_statvfs(std::string p, Token&& token)
    requires requires(Core& c, fs_stats& s) { c.statvfs(p, s); }
  {
    return value<fs_stats>(std::forward<Token>(token),
                           [p = std::move(p)](Core& c, fs_stats& s) { return c.statvfs(p, s); });
  }

 private:
  template <class T, class Token, class F>
  auto value(Token&& token, F f) {
    return detail::async_run<void(error_code, T)>(
        io_, blocking_, std::forward<Token>(token), [c = core_, f = std::move(f)]() mutable {
          T out{};
          error_code ec = c ? f(*c, out) : from_errno(EBADF);
          if (ec) out = T{};
          return std::tuple<error_code, T>{ec, std::move(out)};
        });
  }

  template <class Token, class F>
  auto done(Token&& token, F f) {
    return detail::async_run<void(error_code)>(
        io_, blocking_, std::forward<Token>(token),
        [c = core_, f = std::move(f)]() mutable {
          return std::tuple<error_code>{c ? f(*c) : from_errno(EBADF)};
        });
  }

  executor_type io_;
  std::shared_ptr<Core> core_;
  std::optional<boost::asio::any_io_executor> blocking_;
  std::shared_ptr<void> keep_alive_;
};

}  // namespace ferry::fs
