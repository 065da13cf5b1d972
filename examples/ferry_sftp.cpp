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
// no "Fetching" lines. Errors: one line on stderr and a non-zero exit status (255 when the SSH
// connection or authentication failed); usage errors exit 2. The SSH side (ssh_config, known_hosts,
// the agent, keys, passwords from FERRY_PASSWORD / SSH_ASKPASS / the TTY, ProxyJump) is the
// shared examples/cli/ssh_session.hpp.
#include "cli/sftp_shell.hpp"
#include "cli/ssh_session.hpp"

#include <ferry/io/pipe_stream.hpp>
#include <ferry/sftp/client.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
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
  cli::ssh_options ssh;     // -P -i -o -F -J -q -v (examples/cli/ssh_session.hpp)
  std::string destination;  // [user@]host[:path] (or, with -D, a path)
};

int usage() {
  std::fputs(
      "usage: ferry-sftp [-aqpr] [-b batchfile] [-B buffer_size] [-R num_requests]\n"
      "                  [-P port] [-i identity_file] [-o ssh_option] [-F ssh_config]\n"
      "                  [-J destination] [-v]\n"
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

int run_ssh(const options& o) {
  cli::remote_path where;
  try {
    if (auto rp = cli::parse_remote_path(o.destination)) where = *rp;
    else where.dest = cli::parse_destination(o.destination);
  } catch (const cli::failure& f) {
    fail_line(f.what());
    return 2;
  }
  asio::io_context ioc{1};
  int status = 1;
  cli::ssh_session session{ioc.get_executor(), "ferry-sftp"};
  std::optional<sftp::client<ssh::channel>> c;
  auto body = [&]() -> asio::awaitable<int> {
    co_await session.connect(o.ssh, where.dest);
    auto ch = co_await session.open_subsystem("sftp");
    c.emplace(std::move(ch));
    std::optional<std::string> start;
    if (!where.path.empty()) start = where.path;
    int s = co_await run_session(*c, o, start);
    c->close();
    co_await session.disconnect();
    co_return s;
  };
  asio::co_spawn(ioc, body(), [&](std::exception_ptr e, int s) {
    status = s;
    if (!e) return;
    status = 1;
    try {
      std::rethrow_exception(e);
    } catch (const cli::failure& f) {
      if (f.connection) status = 255;
      fail_line(f.what());
    } catch (const std::exception& x) {
      fail_line(x.what());
    }
    if (c) c->close();
    asio::co_spawn(ioc, session.disconnect(), asio::detached);
  });
  ioc.run();
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  options o;
  int i = 1;
  try {
    for (; i < argc; ++i) {
      std::string a = argv[i];
      if (a.size() < 2 || a[0] != '-') break;
      if (a == "--") {
        ++i;
        break;
      }
      // sftp's own options; bundled letters ("-qpr") and values as "-b file" or "-bfile"
      if (std::string_view{"aprCbBRDlsh"}.find(a[1]) != std::string_view::npos ||
          (a.size() > 2 && a[1] == 'q')) {
        for (std::size_t k = 1; k < a.size(); ++k) {
          char f = a[k];
          std::string value;
          if (std::string_view{"bBRDls"}.find(f) != std::string_view::npos) {
            if (k + 1 < a.size()) value = a.substr(k + 1);
            else if (i + 1 < argc) value = argv[++i];
            else return usage();
            k = a.size();
          }
          switch (f) {
            case 'a': o.shell.resume = true; break;
            case 'q': o.ssh.quiet = true; break;
            case 'p': o.shell.preserve = true; break;
            case 'r': o.shell.recursive = true; break;
            case 'C': break;  // compression: accepted, not used
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
            case 'D': o.direct = value; break;
            case 'l': case 's': break;  // bandwidth limit, subsystem name: not supported, ignored
            case 'h': usage(); return 0;
            default: return usage();
          }
        }
        continue;
      }
      int used = cli::parse_common_option(o.ssh, a, i + 1 < argc ? argv[i + 1] : nullptr, 'P');
      if (used == 0) return usage();
      i += used - 1;
    }
  } catch (const cli::failure& f) {
    fail_line(f.what());
    return 2;
  }
  o.shell.quiet = o.ssh.quiet;
  if (!o.batch_file.empty()) o.shell.batch = true;
  std::vector<std::string> rest(argv + i, argv + argc);
  if (!o.direct.empty()) {
    if (rest.size() > 1) return usage();
    if (!rest.empty()) o.destination = rest[0];
    return run_direct(o);
  }
  if (rest.size() != 1) return usage();
  o.destination = rest[0];
  return run_ssh(o);
}
