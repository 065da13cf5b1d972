// scp::server: the remote side of an SCP transfer (`scp -t` and `scp -f`), run inside ferry over a
// Filesystem: no shell and no scp program. An SSH server hands it the exec request's command line
// and the channel (any AsyncReadStream + AsyncWriteStream):
//
//   scp::server<fs::local_filesystem> scp_server{user_files, {.on_event = log}};
//   auto [ec, status] = co_await scp_server.async_run(channel, "scp -t -r -p -d -- 'dir name'",
//                                                     asio::as_tuple(asio::use_awaitable));
//   send exit-status `status` (0 or 1, as scp exits), then close the channel.
//
// The command line is read as a shell would split it (proto/command.hpp) and refused when it uses
// anything a shell would interpret; unquoted wildcards in a source path are matched in their
// directory, as the remote shell would have expanded them. Paths are the user's paths on the
// Filesystem, which keeps them inside the user's root. Options: -t (receive into the target), -f
// (send the sources), -r, -p (times and modes), -d (the target must be a directory), -v (ignored).
//
// A refused command line is answered with a fatal "\2scp: ..." line (what the client prints) and
// exit status 1. One server may run any number of requests at once (it holds no per-run state).
// The completion's error_code is a stream error or the protocol error that ended
// the transfer (an scp::errc); per-entry failures are warnings that only make the status 1.
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

#include <fnmatch.h>

#include <algorithm>
#include <string>
#include <vector>

namespace ferry::scp {

struct server_options {
  event_handler on_event;                         // progress and warnings, for logging
  std::size_t buffer_size = limits::scp_io_buffer;  // per buffer; two per transfer
};

template <fs::filesystem Filesystem>
class server {
 public:
  explicit server(Filesystem files, server_options opts = {})
      : fs_(std::move(files)), opts_(std::move(opts)) {}

  // Runs one exec request to the end. Signature: void(error_code, int exit_status). The stream
  // must stay valid until completion; the caller closes it (and sends the status) afterwards.
  template <class Stream, class Token>
  auto async_run(Stream& stream, std::string command_line, Token&& token) {
    return boost::asio::async_initiate<Token, void(error_code, int)>(
        [this, &stream](auto handler, std::string line) {
          auto ex = boost::asio::get_associated_executor(handler, stream.get_executor());
          boost::asio::co_spawn(
              stream.get_executor(), run(stream, std::move(line)),
              boost::asio::bind_executor(
                  ex, [h = std::move(handler)](std::exception_ptr e,
                                               std::tuple<error_code, int> r) mutable {
                    if (e) std::rethrow_exception(e);
                    std::move(h)(std::get<0>(r), std::get<1>(r));
                  }));
        },
        token, std::move(command_line));
  }

  Filesystem& filesystem() noexcept { return fs_; }

 private:
  // A path word as the Filesystem sees it: "~" and "~/x" are the home, i.e. relative.
  static std::string fs_path(const proto::shell_word& w) {
    if (!w.home) return w.text;
    std::string_view t = w.text;
    while (!t.empty() && t.front() == '/') t.remove_prefix(1);
    return t.empty() ? std::string{"."} : std::string{t};
  }

  // Expands an unquoted wildcard in the last component, as the remote shell would have: sorted
  // matches, or the word itself when nothing matches. Wildcards in directory components are taken
  // literally (sent as-is, they fail to stat).
  detail::awaitable<void> expand(const proto::shell_word& w, std::vector<std::string>& out) {
    auto path = fs_path(w);
    if (!w.glob) {
      out.push_back(std::move(path));
      co_return;
    }
    auto slash_t = path.rfind('/');
    std::string pattern = w.pattern;
    if (w.home) {
      // fs_path() removed "~/" and leading slashes from text; the pattern only lacks "~/".
      while (!pattern.empty() && pattern.front() == '/') pattern.erase(0, 1);
    }
    auto slash_p = pattern.rfind('/');
    std::string dir = slash_t == std::string::npos ? "." : path.substr(0, slash_t + 1);
    std::string last = slash_p == std::string::npos ? pattern : pattern.substr(slash_p + 1);
    std::string prefix = slash_t == std::string::npos ? "" : path.substr(0, slash_t + 1);
    std::vector<std::string> found;
    auto [ec, h] = co_await fs_.async_opendir(dir, detail::nothrow);
    if (!ec) {
      for (;;) {
        auto [rec, batch] = co_await fs_.async_readdir(h, detail::nothrow);
        if (rec || batch.empty()) break;
        for (auto& e : batch)
          if (::fnmatch(last.c_str(), e.name.c_str(), FNM_PERIOD) == 0 &&
              found.size() < limits::scp_max_paths)
            found.push_back(prefix + e.name);
      }
      auto [cec] = co_await fs_.async_close(h, detail::nothrow);
      (void)cec;
    }
    if (found.empty()) {
      out.push_back(std::move(path));
      co_return;
    }
    std::sort(found.begin(), found.end());
    for (auto& f : found) out.push_back(std::move(f));
  }

  template <class Stream>
  detail::awaitable<std::tuple<error_code, int>> run(Stream& stream, std::string line) {
    proto::command cmd;
    if (auto ec = proto::parse_command(line, cmd)) {
      std::string reply;
      proto::format_error_ack(true, "scp: " + ec.message(), reply);
      (void)co_await detail::write_all(stream, as_bytes(reply));
      co_return std::tuple{ec, 1};
    }
    transfer_summary sum;
    error_code ec;
    if (cmd.dir == proto::direction::to_remote) {
      proto::sink_options o;
      o.recursive = cmd.recursive;
      o.preserve = cmd.preserve;
      o.target_should_be_directory = cmd.target_should_be_directory;
      auto target = fs_path(cmd.paths[0]);
      o.target_name = cmd.paths[0].text;
      detail::sink_driver<Stream, Filesystem> d{stream,          fs_,  std::move(target),
                                                std::move(o),    opts_.on_event,
                                                sum,             opts_.buffer_size};
      ec = co_await d.run();
    } else {
      std::vector<std::string> sources;
      for (const auto& w : cmd.paths) co_await expand(w, sources);
      detail::source_driver<Stream, Filesystem> d{stream,     fs_,           std::move(sources),
                                                  cmd.recursive, cmd.preserve, opts_.on_event,
                                                  sum,        opts_.buffer_size};
      ec = co_await d.run();
    }
    co_return std::tuple{ec, (ec || sum.errors != 0) ? 1 : 0};
  }

  Filesystem fs_;
  server_options opts_;
};

}  // namespace ferry::scp
