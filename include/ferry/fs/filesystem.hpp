// The Filesystem concept: what the SFTP, SCP and FTP servers need from storage.
//
// Every operation is an Asio initiating function taking any completion token, with the signature
// void(error_code) or void(error_code, T); a backend may be remote (object storage, another
// server), so nothing is synchronous. From a coroutine:
//
//   auto [ec, attrs] = co_await fs.async_stat("/pub/file", asio::as_tuple(asio::use_awaitable));
//
// Paths are the client's view: '/'-separated, relative to the user's home or absolute within the
// user's root; fs::path::normalize is where a backend checks and maps them. Errors are errno values
// in the generic category (compare with std::errc), asio::error::eof at the end of a file or
// directory listing, and ferry::errc::unsupported for what the backend cannot do (fs/error.hpp).
//
// read_at and write_at may move fewer bytes than asked (as pread/pwrite); fs::async_write_all_at
// (operations.hpp) loops. readdir returns a batch of entries per call and eof once exhausted.
// async_close closes file and directory handles alike.
//
// The required set is small. Optional capabilities are detected with the concepts below; call them
// through the helpers in fs/operations.hpp, which complete with errc::unsupported when a backend
// lacks the operation instead of pretending it succeeded.
#pragma once

#include <ferry/core/bytes.hpp>
#include <ferry/core/error.hpp>
#include <ferry/fs/attributes.hpp>
#include <ferry/fs/detail/async.hpp>

#include <concepts>
#include <cstdint>
#include <string>
#include <vector>

namespace ferry::fs {

namespace detail {
template <class Sig>
using probe = probe_handler<Sig>;
using done_sig = void(error_code);
}  // namespace detail

template <class F>
concept filesystem = requires(F& f, std::string p, handle h, open_mode m, std::uint64_t offset,
                              mutable_byte_view out, byte_view in, std::uint32_t perms) {
  f.get_executor();
  f.async_stat(p, detail::probe<void(error_code, attributes)>{});
  f.async_open(p, m, detail::probe<void(error_code, handle)>{});
  f.async_read_at(h, offset, out, detail::probe<void(error_code, std::size_t)>{});
  f.async_write_at(h, offset, in, detail::probe<void(error_code, std::size_t)>{});
  f.async_close(h, detail::probe<detail::done_sig>{});
  f.async_opendir(p, detail::probe<void(error_code, handle)>{});
  f.async_readdir(h, detail::probe<void(error_code, std::vector<dir_entry>)>{});
  f.async_mkdir(p, perms, detail::probe<detail::done_sig>{});
  f.async_rmdir(p, detail::probe<detail::done_sig>{});
  f.async_remove(p, detail::probe<detail::done_sig>{});
  f.async_rename(p, p, detail::probe<detail::done_sig>{});  // fails with EEXIST if the target exists
  f.async_realpath(p, detail::probe<void(error_code, std::string)>{});
};

// --- optional capabilities -------------------------------------------------------------------------

template <class F>
concept has_lstat = requires(F& f, std::string p) {
  f.async_lstat(p, detail::probe<void(error_code, attributes)>{});
};

template <class F>
concept has_fstat = requires(F& f, handle h) {
  f.async_fstat(h, detail::probe<void(error_code, attributes)>{});
};

template <class F>
concept has_setstat = requires(F& f, std::string p, set_attributes a) {
  f.async_setstat(p, a, detail::probe<detail::done_sig>{});
};

template <class F>
concept has_fsetstat = requires(F& f, handle h, set_attributes a) {
  f.async_fsetstat(h, a, detail::probe<detail::done_sig>{});
};

template <class F>
concept has_fsync = requires(F& f, handle h) { f.async_fsync(h, detail::probe<detail::done_sig>{}); };

// Atomically replaces the target if it exists (rename(2); posix-rename@openssh.com).
template <class F>
concept has_posix_rename = requires(F& f, std::string p) {
  f.async_posix_rename(p, p, detail::probe<detail::done_sig>{});
};

template <class F>
concept has_symlink = requires(F& f, std::string p) {
  f.async_symlink(p, p, detail::probe<detail::done_sig>{});  // (target, link path)
  f.async_readlink(p, detail::probe<void(error_code, std::string)>{});
};

template <class F>
concept has_hardlink = requires(F& f, std::string p) {
  f.async_hardlink(p, p, detail::probe<detail::done_sig>{});  // (existing, new path)
};

template <class F>
concept has_statvfs = requires(F& f, std::string p) {
  f.async_statvfs(p, detail::probe<void(error_code, fs_stats)>{});
};

// A backend that can hand out the view of one user (a sub-root and a home); the result shares the
// storage and is itself a filesystem.
template <class F>
concept has_user_views = requires(const F& f, const user_view& v, error_code& ec) {
  { f.for_user(v, ec) } -> std::same_as<F>;
};

}  // namespace ferry::fs
