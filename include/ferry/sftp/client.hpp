// sftp::client: an SFTP v3 client (draft-ietf-secsh-filexfer-02 + the OpenSSH extensions of
// PROTOCOL §4) over any Asio stream: an SSH channel, io::pipe_stream to a local sftp-server,
// test::stream.
//
//   sftp::client<io::pipe_stream> c{ex, from_server_fd, to_server_fd};  // builds the stream
//   co_await c.async_init(use_awaitable);                 // INIT/VERSION, limits@openssh.com
//   auto f = co_await c.async_open("/remote/file", sftp::open_mode::read, use_awaitable);
//   auto n = co_await f.async_read_at(0, buffer, use_awaitable);
//   co_await f.async_close(use_awaitable);
//   sftp::transfer_options t;
//   t.resume = true; t.on_progress = [](const sftp::transfer_progress& p) { ... };
//   co_await c.async_download("/remote/file", "/local/file", t, use_awaitable);
//   co_await c.async_upload("/local/dir", "/remote/dir", t.with_recursive(), use_awaitable);
//
// Every initiating function takes any completion token. Operations may run concurrently (their
// requests share the session and are answered by id). Errors: an SFTP STATUS becomes an
// error_code in the sftp category (sftp::status; compares equal to the errno condition, e.g.
// errc::no_such_file_or_directory), with the server's message in last_status(); a malformed or
// misdirected reply gives ferry::errc (unexpected_message, length_limit, bad_value, ...) and, if
// it breaks the stream, ends the session; a lost stream gives status::connection_lost. Local file
// errors are system errors. An extension the server did not announce fails with
// status::op_unsupported without a round trip.
//
// Threading: use a client, its files and directories from the stream's executor (one strand).
// Cancelling an operation (its cancellation slot) abandons its requests; the session goes on.
#pragma once

#include <ferry/sftp/client/operations.hpp>
#include <ferry/sftp/client/session.hpp>
#include <ferry/sftp/client/transfer.hpp>

#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>

#include <exception>
#include <memory>
#include <string>
#include <vector>

namespace ferry::sftp {

// SSH_FXF_* open flags (§6.3), combinable with |.
enum class open_mode : std::uint32_t {
  read = proto::open_flags::read,
  write = proto::open_flags::write,
  append = proto::open_flags::append,
  create = proto::open_flags::creat,
  truncate = proto::open_flags::trunc,
  exclusive = proto::open_flags::excl,
};
constexpr open_mode operator|(open_mode a, open_mode b) noexcept {
  return static_cast<open_mode>(static_cast<std::uint32_t>(a) | static_cast<std::uint32_t>(b));
}

namespace detail {

// An exception out of a body (only Asio's own, e.g. an await after cancellation) as an error.
inline error_code error_of(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const boost::system::system_error& se) {
    return se.code();
  } catch (const std::bad_alloc&) {
    return boost::system::errc::make_error_code(boost::system::errc::not_enough_memory);
  }
}

// Runs body on ex and completes token with (error_code[, T]); a use_awaitable caller gets the
// error thrown. The shared session is held until the body ends.
template <class Token>
auto launch(const boost::asio::any_io_executor& ex, std::shared_ptr<void> hold,
            awaitable<error_code> body, Token&& token) {
  return boost::asio::async_initiate<Token, void(error_code)>(
      [ex](auto handler, std::shared_ptr<void> keep, awaitable<error_code> b) {
        auto slot = boost::asio::get_associated_cancellation_slot(handler);
        auto hex = boost::asio::get_associated_executor(handler, ex);
        boost::asio::co_spawn(
            ex, std::move(b),
            boost::asio::bind_cancellation_slot(
                slot, boost::asio::bind_executor(
                          hex, [h = std::move(handler), k = std::move(keep)](
                                   std::exception_ptr e, error_code ec) mutable {
                            if (e) ec = error_of(e);
                            k.reset();
                            std::move(h)(ec);
                          })));
      },
      token, std::move(hold), std::move(body));
}

template <class T, class Token>
auto launch(const boost::asio::any_io_executor& ex, std::shared_ptr<void> hold,
            awaitable<result<T>> body, Token&& token) {
  return boost::asio::async_initiate<Token, void(error_code, T)>(
      [ex](auto handler, std::shared_ptr<void> keep, awaitable<result<T>> b) {
        auto slot = boost::asio::get_associated_cancellation_slot(handler);
        auto hex = boost::asio::get_associated_executor(handler, ex);
        boost::asio::co_spawn(
            ex, std::move(b),
            boost::asio::bind_cancellation_slot(
                slot, boost::asio::bind_executor(
                          hex, [h = std::move(handler), k = std::move(keep)](
                                   std::exception_ptr e, result<T> r) mutable {
                            if (e) r.first = error_of(e);
                            k.reset();
                            std::move(h)(r.first, std::move(r.second));
                          })));
      },
      token, std::move(hold), std::move(body));
}

}  // namespace detail

// An open remote file (SSH_FXP_OPEN's handle). Close it with async_close; dropping it without
// closing leaves the handle open on the server until the session ends.
template <class Stream>
class basic_file {
 public:
  using session_type = detail::session<Stream>;

  basic_file() = default;
  basic_file(std::shared_ptr<session_type> s, proto::handle h) : s_(std::move(s)), h_(std::move(h)) {}

  const proto::handle& handle() const noexcept { return h_; }
  bool is_open() const noexcept { return s_ != nullptr; }

  // Reads up to buf.size() bytes at offset (requests in flight together); completes with the
  // count, fewer only at end of file, and status::eof when offset is at or past the end.
  template <class Token>
  auto async_read_at(std::uint64_t offset, mutable_byte_view buf, Token&& token) {
    return detail::launch<std::size_t>(ex(), s_, detail::read_at(*s_, h_, offset, buf),
                                       std::forward<Token>(token));
  }
  // Writes all of data at offset; completes with data.size() or the first error.
  template <class Token>
  auto async_write_at(std::uint64_t offset, byte_view data, Token&& token) {
    return detail::launch<std::size_t>(ex(), s_, detail::write_at(*s_, h_, offset, data),
                                       std::forward<Token>(token));
  }
  // FSTAT (§6.8)
  template <class Token>
  auto async_stat(Token&& token) {
    proto::fstat_request r{0, h_};
    return detail::launch<attributes>(ex(), s_, detail::call_attrs(*s_, std::move(r)),
                                      std::forward<Token>(token));
  }
  // FSETSTAT (§6.9)
  template <class Token>
  auto async_setstat(attributes a, Token&& token) {
    proto::fsetstat_request r{0, h_, std::move(a)};
    return detail::launch(ex(), s_, detail::call_status(*s_, std::move(r)),
                          std::forward<Token>(token));
  }
  // fsync@openssh.com (PROTOCOL §4.6)
  template <class Token>
  auto async_fsync(Token&& token) {
    proto::fsync_request r;
    r.handle = h_;
    return detail::launch(ex(), s_, ext_status<proto::fsync_request>(*s_, std::move(r)),
                          std::forward<Token>(token));
  }
  // fstatvfs@openssh.com (PROTOCOL §4.4)
  template <class Token>
  auto async_statvfs(Token&& token) {
    proto::fstatvfs_request r;
    r.handle = h_;
    return detail::launch<filesystem_stats>(ex(), s_, ext_value<filesystem_stats>(*s_, std::move(r)),
                                            std::forward<Token>(token));
  }
  // CLOSE (§6.3). The file object is closed locally at once, whatever the server answers.
  template <class Token>
  auto async_close(Token&& token) {
    auto s = std::move(s_);
    proto::close_request r{0, h_};
    return detail::launch(s->executor(), s, detail::call_status(*s, std::move(r)),
                          std::forward<Token>(token));
  }

  // Extension helpers shared with the client.
  template <class Request>
  static detail::awaitable<error_code> ext_status(session_type& s, Request r) {
    if (auto ec = detail::check_extension<Request>(s)) co_return ec;
    co_return co_await detail::call_status(s, std::move(r));
  }
  template <class Reply, class Request>
  static detail::awaitable<detail::result<Reply>> ext_value(session_type& s, Request r) {
    if (auto ec = detail::check_extension<Request>(s)) co_return detail::result<Reply>{ec, {}};
    co_return co_await detail::call_extended<Reply>(s, std::move(r));
  }

 private:
  const boost::asio::any_io_executor& ex() const { return s_->executor(); }

  std::shared_ptr<session_type> s_;
  proto::handle h_;
};

// An open remote directory (SSH_FXP_OPENDIR's handle).
template <class Stream>
class basic_directory {
 public:
  using session_type = detail::session<Stream>;

  basic_directory() = default;
  basic_directory(std::shared_ptr<session_type> s, proto::handle h)
      : s_(std::move(s)), h_(std::move(h)) {}

  const proto::handle& handle() const noexcept { return h_; }
  bool is_open() const noexcept { return s_ != nullptr; }

  // READDIR (§6.7): the next batch of entries; status::eof when the listing is done.
  template <class Token>
  auto async_read(Token&& token) {
    proto::readdir_request r{0, h_};
    return detail::launch<std::vector<directory_entry>>(s_->executor(), s_,
                                                        detail::call_names(*s_, std::move(r)),
                                                        std::forward<Token>(token));
  }
  template <class Token>
  auto async_close(Token&& token) {
    auto s = std::move(s_);
    proto::close_request r{0, h_};
    return detail::launch(s->executor(), s, detail::call_status(*s, std::move(r)),
                          std::forward<Token>(token));
  }

 private:
  std::shared_ptr<session_type> s_;
  proto::handle h_;
};

template <class Stream>
class client {
 public:
  using session_type = detail::session<Stream>;
  using file = basic_file<Stream>;
  using directory = basic_directory<Stream>;
  using executor_type = boost::asio::any_io_executor;

  // Constructs the stream from args (or takes it: client<S> c{std::move(stream)}).
  template <class... Args>
  explicit client(Args&&... args)
      : s_(std::make_shared<session_type>(std::forward<Args>(args)...)) {}
  ~client() {
    if (s_) s_->shutdown();
  }
  client(client&&) noexcept = default;
  client& operator=(client&&) = delete;
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  executor_type get_executor() const noexcept { return s_->executor(); }
  Stream& next_layer() noexcept { return s_->stream(); }

  // The VERSION reply (its extension pairs), limits@openssh.com (zeros when not offered), whether
  // an extension was announced, and the last non-ok STATUS any operation received (the
  // server's message for the error code an operation completed with).
  const proto::version_reply& server_version() const noexcept { return s_->version(); }
  const server_limits& limits() const noexcept { return s_->limits(); }
  bool supports(std::string_view extension) const { return s_->supports(extension); }
  const proto::status_reply& last_status() const noexcept { return s_->last_status(); }
  // Data bytes per READ / WRITE the client uses (from limits@openssh.com, else 32 KiB).
  std::size_t read_block() const noexcept { return s_->max_read(); }
  std::size_t write_block() const noexcept { return s_->max_write(256); }
  // Ends the session: the stream is closed, outstanding operations fail.
  void close() { s_->shutdown(); }
  // Why the session ended (empty while it runs).
  error_code session_error() const noexcept { return s_->ready() ? error_code{} : s_->failure(); }

  // INIT/VERSION (§4), then limits@openssh.com if offered.
  template <class Token>
  auto async_init(Token&& token) {
    return launch(s_->init(), std::forward<Token>(token));
  }

  // --- files and directories (§6.3-§6.7) -----------------------------------------------------
  template <class Token>
  auto async_open(std::string path, open_mode mode, Token&& token) {
    return async_open(std::move(path), mode, attributes{}, std::forward<Token>(token));
  }
  // attrs: the initial attributes of a created file (permissions, typically).
  template <class Token>
  auto async_open(std::string path, open_mode mode, attributes attrs, Token&& token) {
    proto::open_request r{0, std::move(path), static_cast<std::uint32_t>(mode), std::move(attrs)};
    return launch<file>(open_as<file>(s_, std::move(r)), std::forward<Token>(token));
  }
  template <class Token>
  auto async_opendir(std::string path, Token&& token) {
    proto::opendir_request r{0, std::move(path)};
    return launch<directory>(open_as<directory>(s_, std::move(r)), std::forward<Token>(token));
  }
  // Every entry of a directory (OPENDIR, READDIR to eof, CLOSE) without "." and "..".
  template <class Token>
  auto async_list(std::string path, Token&& token) {
    return launch<std::vector<directory_entry>>(detail::list(*s_, std::move(path)),
                                                std::forward<Token>(token));
  }

  // --- paths (§6.5-§6.11) --------------------------------------------------------------------
  template <class Token>
  auto async_stat(std::string path, Token&& token) {
    proto::stat_request r{0, std::move(path)};
    return launch<attributes>(detail::call_attrs(*s_, std::move(r)), std::forward<Token>(token));
  }
  template <class Token>
  auto async_lstat(std::string path, Token&& token) {
    proto::lstat_request r{0, std::move(path)};
    return launch<attributes>(detail::call_attrs(*s_, std::move(r)), std::forward<Token>(token));
  }
  template <class Token>
  auto async_setstat(std::string path, attributes a, Token&& token) {
    proto::setstat_request r{0, std::move(path), std::move(a)};
    return launch(detail::call_status(*s_, std::move(r)), std::forward<Token>(token));
  }
  template <class Token>
  auto async_remove(std::string path, Token&& token) {
    proto::remove_request r{0, std::move(path)};
    return launch(detail::call_status(*s_, std::move(r)), std::forward<Token>(token));
  }
  template <class Token>
  auto async_mkdir(std::string path, attributes a, Token&& token) {
    proto::mkdir_request r{0, std::move(path), std::move(a)};
    return launch(detail::call_status(*s_, std::move(r)), std::forward<Token>(token));
  }
  template <class Token>
  auto async_mkdir(std::string path, Token&& token) {
    return async_mkdir(std::move(path), attributes{}, std::forward<Token>(token));
  }
  template <class Token>
  auto async_rmdir(std::string path, Token&& token) {
    proto::rmdir_request r{0, std::move(path)};
    return launch(detail::call_status(*s_, std::move(r)), std::forward<Token>(token));
  }
  template <class Token>
  auto async_realpath(std::string path, Token&& token) {
    proto::realpath_request r{0, std::move(path)};
    return launch<std::string>(detail::call_one_name(*s_, std::move(r)),
                               std::forward<Token>(token));
  }
  // v3 RENAME: fails if to exists (§6.5); see async_posix_rename.
  template <class Token>
  auto async_rename(std::string from, std::string to, Token&& token) {
    proto::rename_request r{0, std::move(from), std::move(to)};
    return launch(detail::call_status(*s_, std::move(r)), std::forward<Token>(token));
  }
  template <class Token>
  auto async_readlink(std::string path, Token&& token) {
    proto::readlink_request r{0, std::move(path)};
    return launch<std::string>(detail::call_one_name(*s_, std::move(r)),
                               std::forward<Token>(token));
  }
  // Creates link_path pointing at target (sent in OpenSSH's order, see proto::symlink_request).
  template <class Token>
  auto async_symlink(std::string target, std::string link_path, Token&& token) {
    proto::symlink_request r{0, std::move(target), std::move(link_path)};
    return launch(detail::call_status(*s_, std::move(r)), std::forward<Token>(token));
  }

  // --- OpenSSH extensions (PROTOCOL §4.3-§4.12) ----------------------------------------------
  template <class Token>
  auto async_posix_rename(std::string from, std::string to, Token&& token) {
    proto::posix_rename_request r;
    r.oldpath = std::move(from);
    r.newpath = std::move(to);
    return launch(file::ext_status(*s_, std::move(r)), std::forward<Token>(token));
  }
  template <class Token>
  auto async_statvfs(std::string path, Token&& token) {
    proto::statvfs_request r;
    r.path = std::move(path);
    return launch<filesystem_stats>(file::template ext_value<filesystem_stats>(*s_, std::move(r)),
                                    std::forward<Token>(token));
  }
  template <class Token>
  auto async_hardlink(std::string from, std::string to, Token&& token) {
    proto::hardlink_request r;
    r.oldpath = std::move(from);
    r.newpath = std::move(to);
    return launch(file::ext_status(*s_, std::move(r)), std::forward<Token>(token));
  }
  template <class Token>
  auto async_lsetstat(std::string path, attributes a, Token&& token) {
    proto::lsetstat_request r;
    r.path = std::move(path);
    r.attrs = std::move(a);
    return launch(file::ext_status(*s_, std::move(r)), std::forward<Token>(token));
  }
  // Asks limits@openssh.com again (async_init already did; limits() has the answer).
  template <class Token>
  auto async_limits(Token&& token) {
    return launch<server_limits>(fetch_limits(s_), std::forward<Token>(token));
  }
  template <class Token>
  auto async_expand_path(std::string path, Token&& token) {
    proto::expand_path_request r;
    r.path = std::move(path);
    return launch<std::string>(ext_name(*s_, std::move(r)), std::forward<Token>(token));
  }
  // Server-side copy (PROTOCOL §4.10); length 0 copies to the end of from.
  template <class Token>
  auto async_copy_data(const file& from, std::uint64_t from_offset, std::uint64_t length,
                       const file& to, std::uint64_t to_offset, Token&& token) {
    proto::copy_data_request r;
    r.read_from_handle = from.handle();
    r.read_from_offset = from_offset;
    r.read_data_length = length;
    r.write_to_handle = to.handle();
    r.write_to_offset = to_offset;
    return launch(file::ext_status(*s_, std::move(r)), std::forward<Token>(token));
  }
  // The home directory of user (PROTOCOL §4.11; OpenSSH's sftp-server needs a user name).
  template <class Token>
  auto async_home_directory(std::string user, Token&& token) {
    proto::home_directory_request r;
    r.username = std::move(user);
    return launch<std::string>(ext_name(*s_, std::move(r)), std::forward<Token>(token));
  }
  template <class Token>
  auto async_users_groups_by_id(std::vector<std::uint32_t> uids, std::vector<std::uint32_t> gids,
                                Token&& token) {
    proto::users_groups_by_id_request r;
    r.uids.ids = std::move(uids);
    r.gids.ids = std::move(gids);
    return launch<user_group_names>(names_by_id(*s_, std::move(r)), std::forward<Token>(token));
  }

  // --- transfers -----------------------------------------------------------------------------
  // Remote file (or tree, with recursive) to a local path; completes with the bytes moved.
  template <class Token>
  auto async_download(std::string remote, std::string local, transfer_options opts,
                      Token&& token) {
    return launch<std::uint64_t>(
        run_transfer(s_, std::move(opts), true, std::move(remote), std::move(local)),
        std::forward<Token>(token));
  }
  // Local file (or tree, with recursive) to a remote path; completes with the bytes moved.
  template <class Token>
  auto async_upload(std::string local, std::string remote, transfer_options opts, Token&& token) {
    return launch<std::uint64_t>(
        run_transfer(s_, std::move(opts), false, std::move(local), std::move(remote)),
        std::forward<Token>(token));
  }

 private:
  template <class Token>
  auto launch(detail::awaitable<error_code> body, Token&& token) {
    return detail::launch(s_->executor(), s_, std::move(body), std::forward<Token>(token));
  }
  template <class T, class Token>
  auto launch(detail::awaitable<detail::result<T>> body, Token&& token) {
    return detail::launch<T>(s_->executor(), s_, std::move(body), std::forward<Token>(token));
  }

  template <class Handle, class Request>
  static detail::awaitable<detail::result<Handle>> open_as(std::shared_ptr<session_type> s,
                                                           Request r) {
    auto [ec, h] = co_await detail::call_handle(*s, std::move(r));
    if (ec) co_return detail::result<Handle>{ec, {}};
    co_return detail::result<Handle>{error_code{}, Handle{s, std::move(h)}};
  }

  static detail::awaitable<detail::result<server_limits>> fetch_limits(
      std::shared_ptr<session_type> s) {
    proto::limits_request r;
    auto [ec, l] = co_await file::template ext_value<proto::limits_reply>(*s, std::move(r));
    if (ec) co_return detail::result<server_limits>{ec, {}};
    server_limits out{l.max_packet_length, l.max_read_length, l.max_write_length,
                      l.max_open_handles};
    co_return detail::result<server_limits>{error_code{}, out};
  }

  template <class Request>
  static detail::awaitable<detail::result<std::string>> ext_name(session_type& s, Request r) {
    if (auto ec = detail::check_extension<Request>(s)) co_return detail::result<std::string>{ec, {}};
    co_return co_await detail::call_one_name(s, std::move(r));
  }

  static detail::awaitable<detail::result<user_group_names>> names_by_id(
      session_type& s, proto::users_groups_by_id_request r) {
    auto [ec, rep] =
        co_await file::template ext_value<proto::users_groups_by_id_reply>(s, std::move(r));
    if (ec) co_return detail::result<user_group_names>{ec, {}};
    user_group_names out{std::move(rep.usernames.names), std::move(rep.groupnames.names)};
    co_return detail::result<user_group_names>{error_code{}, std::move(out)};
  }

  static detail::awaitable<detail::result<std::uint64_t>> run_transfer(
      std::shared_ptr<session_type> s, transfer_options opts, bool download, std::string from,
      std::string to) {
    using R = detail::result<std::uint64_t>;
    if (!s->ready()) co_return R{s->failure(), 0};
    detail::transfer<session_type> t{*s, std::move(opts)};
    error_code ec;
    if (download) ec = co_await t.download(std::move(from), std::move(to));
    else ec = co_await t.upload(std::move(from), std::move(to));
    co_return R{ec, t.total()};
  }

  std::shared_ptr<session_type> s_;
};

}  // namespace ferry::sftp
