// One SFTP transfer by ferry's client against a stdio SFTP server spawned with pipes (by default
// OpenSSH's /usr/lib/openssh/sftp-server), for bench/sftp_client_bench.sh to time against OpenSSH's
// own `sftp -D`. Prints the seconds the transfer took (process start and INIT excluded) and MB/s.
//
//   ferry_bench_sftp_client_bench get|put SOURCE DEST [--in-flight N] [--block BYTES]
//                                  [--server PROGRAM] [--pipe-size BYTES]
#include <ferry/io/pipe_stream.hpp>
#include <ferry/sftp/client.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace asio = boost::asio;

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s get|put SOURCE DEST [--in-flight N] [--block BYTES] [--server PROGRAM]\n",
                 argv[0]);
    return 2;
  }
  std::string mode = argv[1], from = argv[2], to = argv[3];
  std::string server = "/usr/lib/openssh/sftp-server";
  int pipe_size = 0;
  ferry::sftp::transfer_options t;
  for (int i = 4; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--in-flight") t.max_in_flight = std::strtoul(argv[i + 1], nullptr, 10);
    else if (k == "--block") t.block_size = std::strtoul(argv[i + 1], nullptr, 10);
    else if (k == "--server") server = argv[i + 1];
    else if (k == "--pipe-size") pipe_size = std::atoi(argv[i + 1]);
  }
  ::signal(SIGPIPE, SIG_IGN);
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) return 1;
  // Larger pipes mean fewer wake-ups per byte (the default is 64 KiB; Linux allows up to
  // /proc/sys/fs/pipe-max-size). Off by default so both clients see the same pipes.
  if (pipe_size > 0) {
    ::fcntl(in[1], F_SETPIPE_SZ, pipe_size);
    ::fcntl(out[0], F_SETPIPE_SZ, pipe_size);
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::execl(server.c_str(), server.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);

  asio::io_context ioc;
  ferry::sftp::client<ferry::io::pipe_stream> c{ioc.get_executor(), out[0], in[1]};
  double seconds = 0;
  std::uint64_t moved = 0;
  ferry::error_code result;
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        co_await c.async_init(asio::use_awaitable);
        auto start = std::chrono::steady_clock::now();
        if (mode == "get") moved = co_await c.async_download(from, to, t, asio::use_awaitable);
        else moved = co_await c.async_upload(from, to, t, asio::use_awaitable);
        seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        c.close();
      },
      [&](std::exception_ptr e) {
        if (!e) return;
        try {
          std::rethrow_exception(e);
        } catch (const boost::system::system_error& se) {
          result = se.code();
        }
      });
  ioc.run();
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (result) {
    std::fprintf(stderr, "failed: %s\n", result.message().c_str());
    return 1;
  }
  std::printf("%.3f s  %.1f MB/s  (%llu bytes)\n", seconds, moved / seconds / 1e6,
              static_cast<unsigned long long>(moved));
  return 0;
}
