// sftp::server: an SFTP v3 server (draft-ietf-secsh-filexfer-02, with OpenSSH's extensions) over
// any Filesystem and any Asio stream: an SSH channel of the "sftp" subsystem, a program's
// stdin/stdout (io::pipe_stream, as examples/ferry_sftp_server.cpp), or test::stream.
//
//   auto files = fs::make_local_filesystem(ioc.get_executor(), "/srv/sftp", {}, ec);
//   sftp::server_options o;
//   o.read_only = false;
//   o.max_handles = 256;
//   o.umask = 022;
//   sftp::server<fs::local_filesystem> srv{files, o};
//   auto ec = co_await srv.async_run(stream, asio::as_tuple(asio::use_awaitable));
//
// async_run serves one session until the client closes the stream (completing with no error) or
// the stream fails; each call is an independent session, so one server object serves many
// streams at once. A session runs on a strand of the stream's executor; the stream must stay
// alive until the completion. Behaviour per request (status codes, limits, ordering, the jail)
// is described in sftp/server/session.hpp.
#pragma once

#include <ferry/ftp/detail/coroutine_sanitize.hpp>

FERRY_COROUTINE_NO_SANITIZE_FUNCTION_BEGIN

#include <ferry/core/error.hpp>
#include <ferry/fs/filesystem.hpp>
#include <ferry/sftp/server/options.hpp>
#include <ferry/sftp/server/session.hpp>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/strand.hpp>

#include <exception>
#include <memory>
#include <utility>

namespace ferry::sftp {

template <fs::filesystem Filesystem>
class server {
 public:
  explicit server(Filesystem files, server_options opts = {})
      : fs_(std::move(files)), opts_(std::make_shared<const server_options>(std::move(opts))) {}

  const server_options& options() const noexcept { return *opts_; }
  Filesystem& filesystem() noexcept { return fs_; }

  // Serves one session on stream. Signature: void(error_code).
  template <class Stream, class Token>
  auto async_run(Stream& stream, Token&& token) {
    return boost::asio::async_initiate<Token, void(error_code)>(
        [this](auto handler, Stream* s) {
          using session_type = detail::server_session<Filesystem, Stream>;
          boost::asio::any_io_executor strand = boost::asio::make_strand(s->get_executor());
          auto sess = std::make_shared<session_type>(fs_, opts_, *s, strand);
          auto ex = boost::asio::get_associated_executor(handler, s->get_executor());
          boost::asio::co_spawn(
              strand, sess->run(sess),
              boost::asio::bind_executor(
                  ex, [h = std::move(handler)](std::exception_ptr e, error_code ec) mutable {
                    if (e) ec = make_error_code(boost::system::errc::io_error);
                    std::move(h)(ec);
                  }));
        },
        token, &stream);
  }

 private:
  Filesystem fs_;
  std::shared_ptr<const server_options> opts_;
};

}  // namespace ferry::sftp

FERRY_COROUTINE_NO_SANITIZE_FUNCTION_END
