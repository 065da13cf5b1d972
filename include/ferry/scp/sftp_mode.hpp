// scp::sftp_mode_client: SCP over SFTP, as OpenSSH's scp does by default since 9.0 (`scp -O`
// is the legacy protocol, scp::client). It drives an sftp::client that is already initialized —
// over the "sftp" subsystem of an SSH session, io::pipe_stream to a local sftp-server, or
// test::stream — with scp's rules, and reports the same events and transfer_summary as the
// legacy client, so a program treats both modes alike:
//
//   sftp::client<Channel> sftp{std::move(channel)};
//   co_await sftp.async_init(use_awaitable);
//   scp::client_options o{.recursive = true, .preserve = true, .on_event = show_progress};
//   scp::sftp_mode_client<Channel> c{sftp, o};
//   auto [ec, sum] = co_await c.async_upload(local_files, {"a.txt", "tree"}, "dest dir",
//                                            asio::as_tuple(asio::use_awaitable));
//   auto [ec, sum] = co_await c.async_download({"logs/*.gz", "notes"}, local_files, "backup",
//                                              asio::as_tuple(asio::use_awaitable));
//
// Rules (OpenSSH scp.c source_sftp / sink_sftp):
//  - a target that is a directory receives target/basename; otherwise the source becomes the
//    target. Several sources (or target_should_be_directory, -d) need a directory target: an
//    upload creates a missing one (mode of the first source | 0700) and fails with
//    errc::target_not_directory when it cannot; a download fails with target_not_directory
//    unless the local target already is a directory (scp's verifydir).
//  - directories need recursive (else "not a regular file", and the transfer goes on); preserve
//    copies modification/access times and modes. Symlinks are followed; other types skipped.
//  - remote paths are literal (no shell: no quoting, nothing is interpreted) except that a
//    download source's last component is a glob pattern (*, ?, [...], \ escapes; leading dots
//    only explicitly), matched against the directory's listing; with no match the path is taken
//    as it is (GLOB_NOCHECK). Several matches into a missing target create it as a directory.
//    "" is the remote home, "~" and "~/x" too (expand-path@openssh.com when the server has it).
//  - a download writes only under the requested names or glob matches, and below them only the
//    single-component names of the server's listings: never "", ".", "..", or a name with '/'.
//
// Local paths are paths on a Filesystem (fs::local_filesystem rooted where the user may write, or
// any backend). Completion: void(error_code, transfer_summary); the error is a fatal one
// (errc::target_not_directory, bad_command, the session's error when the SFTP stream was lost)
// or errc::partial when the transfer ran to its end but some entries failed: their messages, as
// scp prints them ("scp: open remote \"x\": No such file"), are in summary.messages and were
// reported as event::kind::warning. Events carry local paths.
//
// Use the object, the sftp::client and the Filesystem from the sftp::client's executor; a
// transfer uses the session alone (run transfers one after another).
#pragma once

#include <ferry/fs/filesystem.hpp>
#include <ferry/scp/client.hpp>
#include <ferry/scp/detail/sftp_mode_driver.hpp>
#include <ferry/scp/transfer.hpp>
#include <ferry/sftp/client.hpp>

#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>

#include <string>
#include <tuple>
#include <vector>

namespace ferry::scp {

template <class Stream>
class sftp_mode_client {
 public:
  using sftp_client_type = sftp::client<Stream>;

  explicit sftp_mode_client(sftp_client_type& sftp, client_options opts = {})
      : c_(sftp), opts_(std::move(opts)) {}

  sftp_client_type& sftp() noexcept { return c_; }
  const client_options& options() const noexcept { return opts_; }

  // Copies local_paths (paths on `local`) to remote_target. Signature:
  // void(error_code, transfer_summary).
  template <fs::filesystem Filesystem, class Token>
  auto async_upload(Filesystem& local, std::vector<std::string> local_paths,
                    std::string remote_target, Token&& token) {
    return launch(std::forward<Token>(token), [this, &local, p = std::move(local_paths),
                                               t = std::move(remote_target)]() mutable {
      return upload(local, std::move(p), std::move(t));
    });
  }

  // Copies remote_paths (globbed in their last component) to local_target on `local`.
  // Signature: void(error_code, transfer_summary).
  template <fs::filesystem Filesystem, class Token>
  auto async_download(std::vector<std::string> remote_paths, Filesystem& local,
                      std::string local_target, Token&& token) {
    return launch(std::forward<Token>(token), [this, &local, p = std::move(remote_paths),
                                               t = std::move(local_target)]() mutable {
      return download(local, std::move(p), std::move(t));
    });
  }

 private:
  using result_type = detail::transfer_result;

  template <class Token, class Body>
  auto launch(Token&& token, Body body) {
    return detail::launch_transfer(c_.get_executor(), std::forward<Token>(token), std::move(body));
  }

  template <class Filesystem>
  detail::sftp_mode_driver<Stream, Filesystem> driver(Filesystem& local, transfer_summary& sum) {
    return {c_,       local, opts_.recursive, opts_.preserve, opts_.target_should_be_directory,
            opts_.on_event, sum, opts_.buffer_size};
  }

  template <class Filesystem>
  detail::awaitable<result_type> upload(Filesystem& local, std::vector<std::string> paths,
                                        std::string target) {
    transfer_summary sum;
    if (auto sec = c_.session_error()) co_return result_type{sec, std::move(sum)};
    auto d = driver(local, sum);
    auto ec = co_await d.upload(std::move(paths), std::move(target));
    co_return result_type{detail::transfer_outcome(ec, sum), std::move(sum)};
  }

  template <class Filesystem>
  detail::awaitable<result_type> download(Filesystem& local, std::vector<std::string> paths,
                                          std::string target) {
    transfer_summary sum;
    if (auto sec = c_.session_error()) co_return result_type{sec, std::move(sum)};
    auto d = driver(local, sum);
    auto ec = co_await d.download(std::move(paths), std::move(target));
    co_return result_type{detail::transfer_outcome(ec, sum), std::move(sum)};
  }

  sftp_client_type& c_;
  client_options opts_;
};

}  // namespace ferry::scp
