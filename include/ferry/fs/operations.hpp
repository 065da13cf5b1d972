// Calling a filesystem's optional operations without knowing the backend: each helper calls the
// operation if the backend has it (the capability concepts in fs/filesystem.hpp) and otherwise
// completes with ferry::errc::unsupported, through a post, never inline and never as a success.
//
//   auto [ec] = co_await fs::async_fsync(fs, h, asio::as_tuple(asio::use_awaitable));
//   if (ec == ferry::errc::unsupported) ...   // SFTP: SSH_FX_OP_UNSUPPORTED
//
// Also async_write_all_at, which repeats write_at until everything is written.
#pragma once

#include <ferry/fs/error.hpp>
#include <ferry/fs/filesystem.hpp>

#include <boost/asio/compose.hpp>

#include <tuple>
#include <utility>

namespace ferry::fs {

namespace detail {

template <class Sig, class Executor, class Token>
auto async_unsupported(const Executor& ex, Token&& token) {
  return detail::async_run<Sig>(ex, std::nullopt, std::forward<Token>(token),
                                [] { return completion_args<Sig>::failed(unsupported()); });
}

}  // namespace detail

template <filesystem F, class Token>
auto async_lstat(F& f, std::string p, Token&& token) {
  if constexpr (has_lstat<F>) return f.async_lstat(std::move(p), std::forward<Token>(token));
  else return detail::async_unsupported<void(error_code, attributes)>(f.get_executor(), std::forward<Token>(token));
}

template <filesystem F, class Token>
auto async_fstat(F& f, handle h, Token&& token) {
  if constexpr (has_fstat<F>) return f.async_fstat(h, std::forward<Token>(token));
  else return detail::async_unsupported<void(error_code, attributes)>(f.get_executor(), std::forward<Token>(token));
}

template <filesystem F, class Token>
auto async_setstat(F& f, std::string p, set_attributes a, Token&& token) {
  if constexpr (has_setstat<F>) return f.async_setstat(std::move(p), a, std::forward<Token>(token));
  else return detail::async_unsupported<void(error_code)>(f.get_executor(), std::forward<Token>(token));
}

template <filesystem F, class Token>
auto async_fsetstat(F& f, handle h, set_attributes a, Token&& token) {
  if constexpr (has_fsetstat<F>) return f.async_fsetstat(h, a, std::forward<Token>(token));
  else return detail::async_unsupported<void(error_code)>(f.get_executor(), std::forward<Token>(token));
}

template <filesystem F, class Token>
auto async_fsync(F& f, handle h, Token&& token) {
  if constexpr (has_fsync<F>) return f.async_fsync(h, std::forward<Token>(token));
  else return detail::async_unsupported<void(error_code)>(f.get_executor(), std::forward<Token>(token));
}

template <filesystem F, class Token>
auto async_posix_rename(F& f, std::string from, std::string to, Token&& token) {
  if constexpr (has_posix_rename<F>) {
    return f.async_posix_rename(std::move(from), std::move(to), std::forward<Token>(token));
  } else {
    return detail::async_unsupported<void(error_code)>(f.get_executor(), std::forward<Token>(token));
  }
}

template <filesystem F, class Token>
auto async_symlink(F& f, std::string target, std::string link_path, Token&& token) {
  if constexpr (has_symlink<F>) {
    return f.async_symlink(std::move(target), std::move(link_path), std::forward<Token>(token));
  } else {
    return detail::async_unsupported<void(error_code)>(f.get_executor(), std::forward<Token>(token));
  }
}

template <filesystem F, class Token>
auto async_readlink(F& f, std::string p, Token&& token) {
  if constexpr (has_symlink<F>) return f.async_readlink(std::move(p), std::forward<Token>(token));
  else return detail::async_unsupported<void(error_code, std::string)>(f.get_executor(), std::forward<Token>(token));
}

template <filesystem F, class Token>
auto async_hardlink(F& f, std::string existing, std::string new_path, Token&& token) {
  if constexpr (has_hardlink<F>) {
    return f.async_hardlink(std::move(existing), std::move(new_path), std::forward<Token>(token));
  } else {
    return detail::async_unsupported<void(error_code)>(f.get_executor(), std::forward<Token>(token));
  }
}

template <filesystem F, class Token>
auto async_statvfs(F& f, std::string p, Token&& token) {
  if constexpr (has_statvfs<F>) return f.async_statvfs(std::move(p), std::forward<Token>(token));
  else return detail::async_unsupported<void(error_code, fs_stats)>(f.get_executor(), std::forward<Token>(token));
}

namespace detail {

template <class F>
struct write_all_op {
  F& fs;
  handle h;
  std::uint64_t offset;
  byte_view data;
  std::size_t done = 0;
  bool started = false;

  template <class Self>
  void operator()(Self& self, error_code ec = {}, std::size_t n = 0) {
    if (started) {
      if (ec) return self.complete(ec, done);
      done += n;
      if (done == data.size()) return self.complete(error_code{}, done);
      // A backend that accepts nothing without an error would loop for ever.
      if (n == 0) return self.complete(make_error(boost::system::errc::io_error), done);
    }
    started = true;
    fs.async_write_at(h, offset + done, data.subspan(done), std::move(self));
  }
};

}  // namespace detail

// Writes all of data at offset (repeating short writes); completes with the bytes written, which
// on an error is how far it got. data must stay valid until the completion.
template <filesystem F, class Token>
auto async_write_all_at(F& f, handle h, std::uint64_t offset, byte_view data, Token&& token) {
  return boost::asio::async_compose<Token, void(error_code, std::size_t)>(
      detail::write_all_op<F>{f, h, offset, data}, token, f.get_executor());
}

}  // namespace ferry::fs
