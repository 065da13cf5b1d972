// scp::client: the local side of a legacy SCP transfer (OpenSSH `scp -O`) over a stream that is
// already connected to the remote `scp -t` or `scp -f` — an SSH exec channel, or the pipes of a
// local `scp` process. The caller opens the channel with the command remote_command() builds:
//
//   scp::client_options o{.recursive = true, .preserve = true};
//   auto cmd = scp::remote_command(scp::direction::from_remote, o, {"logs/2024 (old)"});
//   ... open an exec channel running cmd ...
//   scp::client<Channel> c{channel, o};
//   auto [ec, summary] = co_await c.async_download({"logs/2024 (old)"}, local_files, "backup",
//                                                  asio::as_tuple(asio::use_awaitable));
//
//   auto cmd = scp::remote_command(scp::direction::to_remote, o, {"upload dir"});
//   auto [ec, summary] = co_await c.async_upload(local_files, {"a.txt", "tree"}, use_awaitable);
//   then close the channel's sending side (EOF ends the remote scp -t) and read its exit status.
//
// Local files go through a Filesystem (fs::local_filesystem rooted where the user may write, or any
// backend). The remote paths in the command are single-quoted for the remote shell, so a name is
// never read as shell syntax (CVE-2020-15778 class). A download takes from the server only what
// was asked: at depth 0 only the requested names, each once, in order (CVE-2019-6111); every name
// one safe component, never "", ".", ".." or containing '/' (CVE-2018-20685); D and E records only
// with recursive, T only with preserve; nothing lands outside the target, and the target's own
// mode is never changed by the server.
//
// Completion: void(error_code, transfer_summary). The error is a stream error, the protocol error
// that ended the transfer (an scp::errc: unrequested_name, bad_name, unexpected_record, ...),
// peer_error (the remote's fatal message is in summary.messages), or errc::partial when the
// transfer ran to its end but some entries failed (their messages in summary.messages).
#pragma once

#include <ferry/fs/filesystem.hpp>
#include <ferry/scp/detail/io.hpp>
#include <ferry/scp/detail/sink_driver.hpp>
#include <ferry/scp/detail/source_driver.hpp>
#include <ferry/scp/proto/command.hpp>
#include <ferry/scp/transfer.hpp>

#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>

#include <stdexcept>
#include <string>
#include <system_error>
#include <tuple>
#include <vector>

namespace ferry::scp {

using proto::direction;

struct client_options {
  bool recursive = false;                   // -r: directories and their trees
  bool preserve = false;                    // -p: modification/access times and modes
  bool target_should_be_directory = false;  // -d: the target must be a directory (several sources)
  event_handler on_event;                   // progress and warnings
  std::size_t buffer_size = limits::scp_io_buffer;
};

// The command to run on the remote side: to_remote with the one remote target, from_remote with
// the remote sources. Errors: bad_command (no path, several targets), bad_name (a NUL).
inline std::string remote_command(direction dir, const client_options& o,
                                  const std::vector<std::string>& remote_paths, error_code& ec) {
  std::string out;
  bool d = o.target_should_be_directory ||
           (dir == direction::from_remote && remote_paths.size() > 1);
  ec = proto::format_command(dir, o.recursive, o.preserve, d, remote_paths, out);
  if (ec) out.clear();
  return out;
}

inline std::string remote_command(direction dir, const client_options& o,
                                  const std::vector<std::string>& remote_paths) {
  error_code ec;
  auto out = remote_command(dir, o, remote_paths, ec);
  if (ec) throw boost::system::system_error(ec);
  return out;
}

namespace detail {

using transfer_result = std::tuple<error_code, transfer_summary>;

// Runs a transfer coroutine (body() returns an awaitable<transfer_result>) on ex and completes
// token with void(error_code, transfer_summary). Shared by the legacy and the SFTP-mode client.
template <class Executor, class Token, class Body>
auto launch_transfer(Executor ex, Token&& token, Body body) {
  return boost::asio::async_initiate<Token, void(error_code, transfer_summary)>(
      [ex](auto handler, Body b) {
        auto hex = boost::asio::get_associated_executor(handler, ex);
        boost::asio::co_spawn(
            ex, b(),
            boost::asio::bind_executor(
                hex, [h = std::move(handler)](std::exception_ptr e, transfer_result r) mutable {
                  if (e) std::rethrow_exception(e);
                  std::move(h)(std::get<0>(r), std::move(std::get<1>(r)));
                }));
      },
      token, std::move(body));
}

// A transfer that went on past errors (skipped entries) reports partial.
inline error_code transfer_outcome(error_code ec, const transfer_summary& sum) {
  if (!ec && sum.errors != 0) return make_error_code(errc::partial);
  return ec;
}

}  // namespace detail

template <class Stream>
class client {
 public:
  explicit client(Stream& stream, client_options opts = {})
      : s_(stream), opts_(std::move(opts)) {}

  Stream& stream() noexcept { return s_; }
  const client_options& options() const noexcept { return opts_; }

  // Sends local_paths (paths on `local`) to the remote `scp -t`. Each goes under its last
  // component; directories need recursive. Signature: void(error_code, transfer_summary).
  template <fs::filesystem Filesystem, class Token>
  auto async_upload(Filesystem& local, std::vector<std::string> local_paths, Token&& token) {
    return launch(std::forward<Token>(token), [this, &local, p = std::move(local_paths)]() mutable {
      return upload(local, std::move(p));
    });
  }

  // Receives from the remote `scp -f remote_paths...` into local_target (a path on `local`): into
  // it when it is a directory, as it otherwise (one source only). remote_paths must be the paths
  // the command was built with: they decide which names the server may send.
  // Signature: void(error_code, transfer_summary).
  template <fs::filesystem Filesystem, class Token>
  auto async_download(std::vector<std::string> remote_paths, Filesystem& local,
                      std::string local_target, Token&& token) {
    return launch(std::forward<Token>(token),
                  [this, &local, p = std::move(remote_paths), t = std::move(local_target)]() mutable {
                    return download(std::move(p), local, std::move(t));
                  });
  }

 private:
  using result_type = detail::transfer_result;

  template <class Token, class Body>
  auto launch(Token&& token, Body body) {
    return detail::launch_transfer(s_.get_executor(), std::forward<Token>(token), std::move(body));
  }

  template <class Filesystem>
  detail::awaitable<result_type> upload(Filesystem& local, std::vector<std::string> paths) {
    transfer_summary sum;
    if (paths.empty() || paths.size() > limits::scp_max_paths)
      co_return result_type{make_error_code(errc::bad_command), std::move(sum)};
    detail::source_driver<Stream, Filesystem> d{s_, local, std::move(paths), opts_.recursive,
                                                opts_.preserve, opts_.on_event, sum,
                                                opts_.buffer_size};
    auto ec = co_await d.run();
    co_return result_type{detail::transfer_outcome(ec, sum), std::move(sum)};
  }

  template <class Filesystem>
  detail::awaitable<result_type> download(std::vector<std::string> remote_paths, Filesystem& local,
                                          std::string target) {
    transfer_summary sum;
    proto::sink_options o;
    o.recursive = opts_.recursive;
    o.preserve = opts_.preserve;
    o.target_should_be_directory = opts_.target_should_be_directory || remote_paths.size() > 1;
    // The names the server may send at depth 0: the last component of each request. A request
    // without a usable name ("", ".", "..", "/") cannot be checked, so it is not made.
    for (const auto& p : remote_paths) {
      std::string_view rest = p;
      if (rest.substr(0, 2) == "~/") rest.remove_prefix(2);
      auto name = detail::last_component(rest);
      if (proto::check_name(name))
        co_return result_type{make_error_code(errc::bad_name), std::move(sum)};
      o.expected_names.emplace_back(name);
    }
    if (o.expected_names.empty())
      co_return result_type{make_error_code(errc::bad_command), std::move(sum)};
    detail::sink_driver<Stream, Filesystem> d{s_,           local, std::move(target), std::move(o),
                                              opts_.on_event, sum,  opts_.buffer_size};
    auto ec = co_await d.run();
    co_return result_type{detail::transfer_outcome(ec, sum), std::move(sum)};
  }

  Stream& s_;
  client_options opts_;
};

}  // namespace ferry::scp
