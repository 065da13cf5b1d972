// Test-only: ferry's SCP server on stdin/stdout, the way sshd would run `scp -t`/`scp -f`, with the
// command line given as an argument and the files rooted at ROOT. Interop tests put it behind
// OpenSSH's `scp -O -S WRAPPER` (the wrapper drops the ssh options and the host).
//
//   ferry_scp_stdio ROOT 'scp -t -- dir'      exit status: the server's (0 or 1), 2 for usage
#include <ferry/fs/local.hpp>
#include <ferry/io/pipe_stream.hpp>
#include <ferry/scp/server.hpp>

#include <boost/asio/io_context.hpp>

#include <unistd.h>

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  using namespace ferry;
  if (argc != 3) {
    std::fprintf(stderr, "usage: ferry_scp_stdio ROOT COMMAND\n");
    return 2;
  }
  boost::asio::io_context ioc;
  error_code ec;
  auto files = fs::make_local_filesystem(ioc.get_executor(), argv[1], {}, ec, 2);
  if (ec) {
    std::fprintf(stderr, "ferry_scp_stdio: %s: %s\n", argv[1], ec.message().c_str());
    return 1;
  }
  scp::server<fs::local_filesystem> server{files};
  io::pipe_stream stdio{ioc.get_executor(), ::dup(STDIN_FILENO), ::dup(STDOUT_FILENO)};
  int status = 1;
  server.async_run(stdio, argv[2], [&](error_code e, int s) {
    status = s;
    if (e) std::fprintf(stderr, "ferry_scp_stdio: %s\n", e.message().c_str());
    stdio.close();
  });
  ioc.run();
  return status;
}
