// ferry-sftp-server: an SFTP server on stdin/stdout, a drop-in replacement for OpenSSH's
// sftp-server (sshd_config `Subsystem sftp /path/to/ferry-sftp-server`, or `sftp -D` locally),
// with the same options:
//
//   ferry-sftp-server [-ehR] [-d start_directory] [-f log_facility] [-l log_level]
//                     [-P denied_requests] [-p allowed_requests] [-u umask]
//   ferry-sftp-server -Q protocol_feature
//
//   -d dir   the directory relative paths start from (default: the current directory, which sshd
//            sets to the user's home); "%d" is the home directory, "%u" the user name
//   -e       log to stderr instead of syslog          -f facility  syslog facility (default AUTH)
//   -l level QUIET FATAL ERROR INFO VERBOSE DEBUG DEBUG1..3 (default ERROR)
//   -R       read-only: every change is refused        -h  usage
//   -p list  only these requests (comma-separated)     -P list  never these requests
//   -Q requests   print the supported requests and exit
//   -u umask      the umask for created files and directories (octal)
//
// It serves the local filesystem as the user running it, as OpenSSH's sftp-server does: the
// filesystem's root is "/" and the kernel checks every access against the calling user.
#include <ferry/fs/local.hpp>
#include <ferry/io/pipe_stream.hpp>
#include <ferry/sftp/server.hpp>

#include <boost/asio/io_context.hpp>

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace asio = boost::asio;
using namespace ferry;

namespace {

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: ferry-sftp-server [-ehR] [-d start_directory] [-f log_facility] "
               "[-l log_level]\n"
               "\t[-P denied_requests] [-p allowed_requests] [-u umask]\n"
               "       ferry-sftp-server -Q protocol_feature\n");
  std::exit(1);
}

[[noreturn]] void fatal(const std::string& msg) {
  std::fprintf(stderr, "ferry-sftp-server: %s\n", msg.c_str());
  std::exit(1);
}

std::optional<int> parse_facility(std::string_view n) {
  struct entry {
    std::string_view name;
    int value;
  };
  static constexpr entry table[] = {
      {"DAEMON", LOG_DAEMON}, {"USER", LOG_USER},     {"AUTH", LOG_AUTH},
      {"AUTHPRIV", LOG_AUTHPRIV}, {"LOCAL0", LOG_LOCAL0}, {"LOCAL1", LOG_LOCAL1},
      {"LOCAL2", LOG_LOCAL2}, {"LOCAL3", LOG_LOCAL3}, {"LOCAL4", LOG_LOCAL4},
      {"LOCAL5", LOG_LOCAL5}, {"LOCAL6", LOG_LOCAL6}, {"LOCAL7", LOG_LOCAL7}};
  for (const auto& e : table) {
    if (e.name.size() != n.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < n.size(); ++i)
      same = same && std::toupper(static_cast<unsigned char>(n[i])) == e.name[i];
    if (same) return e.value;
  }
  return std::nullopt;
}

int syslog_priority(sftp::log_level l) {
  switch (l) {
    case sftp::log_level::fatal: return LOG_CRIT;
    case sftp::log_level::error: return LOG_ERR;
    case sftp::log_level::info:
    case sftp::log_level::verbose: return LOG_INFO;
    default: return LOG_DEBUG;
  }
}

std::optional<std::string> user_name(std::uint32_t uid) {
  passwd pw{}, *res = nullptr;
  std::vector<char> buf(16384);
  if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &res) != 0 || !res) return std::nullopt;
  return std::string{pw.pw_name};
}

std::optional<std::string> group_name(std::uint32_t gid) {
  group gr{}, *res = nullptr;
  std::vector<char> buf(16384);
  if (::getgrgid_r(gid, &gr, buf.data(), buf.size(), &res) != 0 || !res) return std::nullopt;
  return std::string{gr.gr_name};
}

// OpenSSH's percent_expand for -d: %d home, %u user, %% a percent sign.
std::string expand_start_dir(std::string_view in, const std::string& home, const std::string& user) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (++i == in.size()) fatal("invalid start directory: trailing %");
    switch (in[i]) {
      case 'd': out += home; break;
      case 'u': out += user; break;
      case '%': out += '%'; break;
      default: fatal(std::string{"invalid start directory: unknown escape %"} + in[i]);
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<std::string> start_dir;
  bool log_stderr = false;
  int facility = LOG_AUTH;
  sftp::server_options opts;
  opts.level = sftp::log_level::error;
  std::optional<std::uint32_t> umask_value;

  int ch;
  while ((ch = ::getopt(argc, argv, "d:f:l:P:p:Q:u:cehR")) != -1) {
    switch (ch) {
      case 'Q':
        if (std::string_view{optarg} != "requests") {
          std::fprintf(stderr, "invalid query type\n");
          return 1;
        }
        for (auto n : sftp::request_names()) std::printf("%.*s\n", int(n.size()), n.data());
        return 0;
      case 'R': opts.read_only = true; break;
      case 'c': break;  // accepted and ignored, as OpenSSH's sftp-server does
      case 'e': log_stderr = true; break;
      case 'l': {
        auto l = sftp::parse_log_level(optarg);
        if (!l) fatal(std::string{"invalid log level \""} + optarg + "\"");
        opts.level = *l;
        break;
      }
      case 'f': {
        auto f = parse_facility(optarg);
        if (!f) fatal(std::string{"invalid log facility \""} + optarg + "\"");
        facility = *f;
        break;
      }
      case 'd': start_dir = optarg; break;
      case 'p':
      case 'P': {
        std::vector<std::string> names;
        std::string bad;
        sftp::parse_request_list(optarg, names, bad);
        if (!bad.empty())
          std::fprintf(stderr, "ferry-sftp-server: unknown request \"%s\" in -%c list\n",
                       bad.c_str(), ch);
        (ch == 'p' ? opts.allowed_requests : opts.denied_requests) = std::move(names);
        break;
      }
      case 'u': {
        char* end = nullptr;
        errno = 0;
        long v = std::strtol(optarg, &end, 8);
        if (errno != 0 || end == optarg || *end != '\0' || v < 0 || v > 0777)
          fatal(std::string{"invalid umask \""} + optarg + "\"");
        umask_value = static_cast<std::uint32_t>(v);
        break;
      }
      case 'h':
      default: usage();
    }
  }
  if (optind != argc) usage();

  ::signal(SIGPIPE, SIG_IGN);
  if (!log_stderr) ::openlog("ferry-sftp-server", LOG_PID, facility);
  opts.log = [log_stderr](sftp::log_level l, std::string_view msg) {
    if (log_stderr)
      std::fprintf(stderr, "%.*s\n", int(msg.size()), msg.data());
    else
      ::syslog(syslog_priority(l), "%.*s", int(msg.size()), msg.data());
  };

  // The calling user, as sshd runs the subsystem.
  passwd pw{}, *me = nullptr;
  std::vector<char> pwbuf(16384);
  if (::getpwuid_r(::getuid(), &pw, pwbuf.data(), pwbuf.size(), &me) != 0 || !me)
    fatal("no user for uid " + std::to_string(::getuid()));
  opts.user = pw.pw_name;
  std::string home_dir = pw.pw_dir ? pw.pw_dir : "/";
  opts.user_name = user_name;
  opts.group_name = group_name;

  // The umask is the process's (as OpenSSH: -u sets it for the process); the kernel applies it.
  if (umask_value) ::umask(static_cast<mode_t>(*umask_value));
  opts.umask = 0;

  std::string start;
  if (start_dir) {
    start = expand_start_dir(*start_dir, home_dir, opts.user);
    if (::chdir(start.c_str()) != 0)
      fatal("chdir to \"" + start + "\" failed: " + std::strerror(errno));
  }
  char cwd[PATH_MAX];
  if (!::getcwd(cwd, sizeof cwd)) fatal(std::string{"getcwd failed: "} + std::strerror(errno));
  start = cwd;

  asio::io_context ioc{1};
  fs::local_options lo;
  lo.read_only = opts.read_only;
  lo.umask = 0;
  lo.home = start;
  error_code ec;
  auto files = fs::make_local_filesystem(ioc.get_executor(), "/", lo, ec, 2);
  if (ec) fatal("cannot open the filesystem: " + ec.message());

  // Larger pipe buffers (when stdio are pipes, as with `sftp -D`; sshd uses sockets): a 255 KiB
  // READ reply then crosses in one write instead of four 64 KiB round trips through the scheduler.
  for (int fd : {STDIN_FILENO, STDOUT_FILENO}) (void)::fcntl(fd, F_SETPIPE_SZ, 1024 * 1024);

  io::pipe_stream stdio{ioc.get_executor(), STDIN_FILENO, STDOUT_FILENO};
  sftp::server<fs::local_filesystem> srv{files, opts};
  error_code result;
  srv.async_run(stdio, [&](error_code e) { result = e; });
  ioc.run();
  if (result) {
    if (opts.log && opts.level >= sftp::log_level::error)
      opts.log(sftp::log_level::error, "session ended: " + result.message());
    return 1;
  }
  return 0;
}
