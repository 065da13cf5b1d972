// ferry-sftp: an SFTP client program in the manner of OpenSSH's sftp(1), on sftp::client.
//
//   ferry-sftp [-aqpr] [-b BATCHFILE] [-B BYTES] [-R N] [-P PORT] [-i KEY] [-o Opt=val]...
//              [-F CONFIG] [user@]host[:path]
//   ferry-sftp [-aqpr] [-b BATCHFILE] [-B BYTES] [-R N] -D SFTP_SERVER_PROGRAM [path]
//
// Interactive (a prompt with line editing on a TTY) or batch (-b FILE, "-b -" for stdin: each
// command echoed as "sftp> cmd", the first failing one ends the run with status 1 unless it starts
// with '-'). The commands are sftp's: ls, cd, lcd, pwd, lpwd, lls, lmkdir, lumask, get/put/reget/
// reput (-a -p -r, globs), rename, rm, mkdir, rmdir, ln [-s], symlink, chmod, chown, chgrp, df
// [-hi], progress, help, version, !command, bye/quit/exit. A host:path that names a directory is
// the starting directory; one that names a file is downloaded and the program ends.
// -D runs a local SFTP server program (e.g. /usr/lib/openssh/sftp-server) over pipes instead of
// connecting over SSH. -R: requests in flight; -B: bytes per request; -q: no progress meter and
// no "Fetching" lines. Errors: one line on stderr and a non-zero exit status; usage errors exit 2.
#include "cli/sftp_shell.hpp"

#include <ferry/io/pipe_stream.hpp>
#include <ferry/sftp/client.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

namespace asio = boost::asio;
using namespace ferry;

namespace {

struct options {
  cli::sftp_shell_options shell;
  std::string batch_file;  // empty: interactive
  std::string direct;      // -D program
  std::string port;
  std::vector<std::string> identities;
  std::vector<std::string> ssh_options;
  std::string config_file;
  std::string destination;  // [user@]host[:path] (or, with -D, a path)
};

int usage() {
  std::fputs(
      "usage: ferry-sftp [-aqpr] [-b batchfile] [-B buffer_size] [-R num_requests]\n"
      "                  [-P port] [-i identity_file] [-o ssh_option] [-F ssh_config]\n"
      "                  [user@]host[:path]\n"
      "       ferry-sftp [-aqpr] [-b batchfile] [-B buffer_size] [-R num_requests]\n"
      "                  -D sftp_server_program [path]\n",
      stderr);
  return 2;
}

void fail_line(const std::string& s) { std::fprintf(stderr, "ferry-sftp: %s\n", s.c_str()); }

// The SFTP server program of -D, started with its stdin and stdout on two pipes.
struct local_server {
  pid_t pid = -1;
  int read_fd = -1;   // its stdout
  int write_fd = -1;  // its stdin

  static std::optional<local_server> start(const std::string& command) {
    std::vector<std::string> words;
    std::istringstream in{command};
    for (std::string w; in >> w;) words.push_back(w);
    if (words.empty()) return std::nullopt;
    int to_child[2], from_child[2];
    if (::pipe2(to_child, O_CLOEXEC) != 0) return std::nullopt;
    if (::pipe2(from_child, O_CLOEXEC) != 0) {
      ::close(to_child[0]);
      ::close(to_child[1]);
      return std::nullopt;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, to_child[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&fa, from_child[1], STDOUT_FILENO);
    std::vector<char*> argv;
    for (auto& w : words) argv.push_back(w.data());
    argv.push_back(nullptr);
    local_server s;
    int rc = ::posix_spawnp(&s.pid, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    ::close(to_child[0]);
    ::close(from_child[1]);
    if (rc != 0) {
      ::close(to_child[1]);
      ::close(from_child[0]);
      errno = rc;
      return std::nullopt;
    }
    s.read_fd = from_child[0];
    s.write_fd = to_child[1];
    return s;
  }

  // After the pipes are closed the server sees EOF and ends; wait for it.
  void reap() {
    if (pid <= 0) return;
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    pid = -1;
  }
};

// Runs the session: init, the starting directory, then batch or interactive commands.
template <class Stream>
asio::awaitable<int> run_session(sftp::client<Stream>& c, const options& o, std::optional<std::string> start_path) {
  auto [iec] = co_await c.async_init(asio::as_tuple(asio::use_awaitable));
  if (iec) {
    fail_line("SFTP session setup failed: " + iec.message());
    co_return 1;
  }
  cli::sftp_shell<Stream> sh{c, o.shell};
  try {
    co_await sh.start();
    if (start_path && !start_path->empty()) {
      bool downloaded = co_await sh.initial_path(*start_path);
      if (downloaded) co_return 0;
    }
  } catch (const cli::sftp_command_error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    co_return 1;
  }
  if (!o.batch_file.empty()) {
    if (o.batch_file == "-") co_return co_await sh.run_batch(std::cin);
    std::ifstream in{o.batch_file};
    if (!in) {
      fail_line(o.batch_file + ": " + std::strerror(errno));
      co_return 1;
    }
    co_return co_await sh.run_batch(in);
  }
  cli::line_editor ed;
  if (!ed.is_tty()) co_return co_await sh.run_batch(std::cin, false);
  co_return co_await sh.run_interactive(ed);
}

int run_direct(const options& o) {
  auto server = local_server::start(o.direct);
  if (!server) {
    fail_line("cannot run " + o.direct + ": " + std::strerror(errno));
    return 1;
  }
  asio::io_context ioc{1};
  int status = 1;
  {
    sftp::client<io::pipe_stream> c{ioc.get_executor(), server->read_fd, server->write_fd};
    std::optional<std::string> start;
    if (!o.destination.empty()) start = o.destination;
    asio::co_spawn(ioc, run_session(c, o, start), [&](std::exception_ptr e, int s) {
      c.close();  // ends the session's reader, so run() returns
      status = s;
      if (e) {
        status = 1;
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& x) {
          fail_line(x.what());
        }
      }
    });
    ioc.run();
    c.close();
  }
  server->reap();
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  options o;
  int i = 1;
  auto need = [&](std::string& out) {
    if (i + 1 >= argc) return false;
    out = argv[++i];
    return true;
  };
  for (; i < argc; ++i) {
    std::string a = argv[i];
    if (a.size() < 2 || a[0] != '-') break;
    if (a == "--") {
      ++i;
      break;
    }
    // bundled single-letter flags ("-qp"), options with a value as "-b file" or "-bfile"
    for (std::size_t k = 1; k < a.size(); ++k) {
      char f = a[k];
      std::string value;
      bool takes = std::string_view{"bBRPioFDcJls"}.find(f) != std::string_view::npos;
      if (takes) {
        if (k + 1 < a.size()) value = a.substr(k + 1);
        else if (!need(value)) return usage();
        k = a.size();
      }
      switch (f) {
        case 'a': o.shell.resume = true; break;
        case 'q': o.shell.quiet = true; break;
        case 'p': o.shell.preserve = true; break;
        case 'r': o.shell.recursive = true; break;
        case 'C': case 'v': case '4': case '6': case 'A': case 'N': break;  // accepted, no effect
        case 'b': o.batch_file = value; break;
        case 'B': {
          auto v = cli::sftp_cli::parse_unsigned(value, 1u << 24);
          if (!v || *v == 0) return fail_line("invalid buffer size \"" + value + "\""), 2;
          o.shell.block = *v;
          break;
        }
        case 'R': {
          auto v = cli::sftp_cli::parse_unsigned(value, 4096);
          if (!v || *v == 0) return fail_line("invalid number of requests \"" + value + "\""), 2;
          o.shell.requests = *v;
          break;
        }
        case 'P': o.port = value; break;
        case 'i': o.identities.push_back(value); break;
        case 'o': o.ssh_options.push_back(value); break;
        case 'F': o.config_file = value; break;
        case 'D': o.direct = value; break;
        case 'c': o.ssh_options.push_back("Ciphers=" + value); break;
        case 'J': o.ssh_options.push_back("ProxyJump=" + value); break;
        case 'l': case 's': break;  // bandwidth limit / subsystem: not supported, ignored
        case 'h': usage(); return 0;
        default: return usage();
      }
    }
  }
  if (!o.batch_file.empty()) o.shell.batch = true;
  std::vector<std::string> rest(argv + i, argv + argc);
  if (!o.direct.empty()) {
    if (rest.size() > 1) return usage();
    if (!rest.empty()) o.destination = rest[0];
    return run_direct(o);
  }
  if (rest.size() != 1) return usage();
  o.destination = rest[0];
  auto t = cli::sftp_cli::parse_target(o.destination);
  if (!t) {
    fail_line("bad destination \"" + o.destination + "\"");
    return 2;
  }
  fail_line("SSH connections are not built into this ferry-sftp yet; use -D SFTP_SERVER_PROGRAM");
  return 1;
}
