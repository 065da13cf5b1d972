// ferry-scp: OpenSSH scp's command line on scp::sftp_mode_client (the default, as OpenSSH's scp
// since 9.0) and scp::client (-O, the legacy protocol over "scp -t"/"scp -f").
//
//   ferry-scp [-rpOqd] [-P PORT] [-i KEY] [-l USER] [-F FILE] [-J JUMP] [-o Opt=val]... SRC... DST
//
// An operand "[user@]host:path" (or scp://[user@]host[:port]/path) is remote, anything else is a
// local path. Local sources to a remote target upload; remote sources to a local target
// download (sources on several hosts are fetched one host after another). Copies between two
// remote hosts or two local paths are not supported. On a TTY each file shows a progress line
// on stderr (-q: none). Every failed entry prints scp's one-line message; the exit status is 1
// when anything failed, 0 otherwise.
#include "cli/ssh_session.hpp"

#include <ferry/cli/progress.hpp>
#include <ferry/fs/local.hpp>
#include <ferry/scp/client.hpp>
#include <ferry/scp/sftp_mode.hpp>
#include <ferry/sftp/client.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

namespace asio = boost::asio;
using namespace ferry;

namespace {

constexpr auto tok = asio::as_tuple(asio::use_awaitable);

int usage() {
  std::fputs(
      "usage: ferry-scp [-dOpqrv] [-F ssh_config] [-i identity_file] [-J destination]\n"
      "                 [-l login_name] [-o ssh_option] [-P port] source ... target\n",
      stderr);
  return 1;
}

struct flags {
  bool recursive = false;
  bool preserve = false;
  bool legacy = false;
  bool target_directory = false;
};

std::size_t terminal_width() {
  winsize ws{};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

// Progress lines and warnings from scp events.
class reporter {
 public:
  explicit reporter(bool progress) : progress_(progress), width_(progress ? terminal_width() : 80) {}

  void operator()(const scp::event& e) {
    using k = scp::event::kind;
    switch (e.type) {
      case k::file_begin: {
        auto name = std::string{e.path};
        if (auto slash = name.rfind('/'); slash != std::string::npos) name = name.substr(slash + 1);
        meter_.emplace(name, e.size, 0, cli::progress_meter::clock::now());
        draw(0);
        break;
      }
      case k::progress: draw(e.bytes); break;
      case k::file_end:
        if (meter_ && progress_) {
          auto line = meter_->finish(e.bytes, cli::progress_meter::clock::now(), width_ - 1);
          std::fprintf(stderr, "\r%s\n", line.c_str());
        }
        meter_.reset();
        break;
      case k::directory: break;
      case k::warning:
        abandon();
        std::fprintf(stderr, "%.*s\n", int(e.message.size()), e.message.data());
        ++printed_;
        break;
    }
  }

  // Messages of a summary the events did not show (a legacy peer's fatal error).
  void rest(const scp::transfer_summary& s) {
    abandon();
    for (std::size_t i = printed_; i < s.messages.size(); ++i)
      std::fprintf(stderr, "%s\n", s.messages[i].c_str());
    printed_ = 0;
  }

  void abandon() {
    if (meter_ && progress_) std::fputc('\n', stderr);
    meter_.reset();
  }

 private:
  void draw(std::uint64_t done) {
    if (!meter_ || !progress_) return;
    if (auto line = meter_->update(done, cli::progress_meter::clock::now(), width_ - 1))
      std::fprintf(stderr, "\r%s", line->c_str());
  }

  bool progress_;
  std::size_t width_;
  std::optional<cli::progress_meter> meter_;
  std::size_t printed_ = 0;
};

class program {
 public:
  program(asio::io_context& ioc, cli::ssh_options o, flags f)
      : ioc_(ioc), opts_(std::move(o)), flags_(f), report_(!opts_.quiet && ::isatty(STDERR_FILENO)) {
    char cwd[4096];
    std::string home = ::getcwd(cwd, sizeof cwd) ? cwd : "/";
    mode_t mask = ::umask(022);
    ::umask(mask);
    fs::local_options lo;
    lo.umask = mask;
    lo.home = home;
    error_code ec;
    local_.emplace(fs::make_local_filesystem(ioc.get_executor(), "/", lo, ec, 2));
    if (ec) throw cli::failure("local filesystem: " + ec.message());
  }

  asio::awaitable<int> run(std::vector<std::string> operands) {
    std::string target_arg = operands.back();
    operands.pop_back();
    auto target = cli::parse_remote_path(target_arg);
    std::vector<std::optional<cli::remote_path>> sources;
    for (const auto& s : operands) sources.push_back(cli::parse_remote_path(s));
    bool any_remote_source = false, any_local_source = false;
    for (const auto& s : sources) (s ? any_remote_source : any_local_source) = true;

    if (target) {
      if (any_remote_source) throw cli::failure("copies between two remote hosts are not supported");
      co_await upload(operands, *target);
    } else {
      if (any_local_source) throw cli::failure("local to local copies are not supported (use cp)");
      // One connection per host, in the order the hosts first appear.
      std::size_t i = 0;
      while (i < sources.size()) {
        auto key = host_key(*sources[i]);
        std::vector<std::string> paths;
        std::size_t j = i;
        for (; j < sources.size() && host_key(*sources[j]) == key; ++j) paths.push_back(sources[j]->path);
        co_await download(sources[i]->dest, std::move(paths), target_arg, sources.size() > 1);
        i = j;
      }
    }
    co_return failed_ ? 1 : 0;
  }

 private:
  static std::string host_key(const cli::remote_path& r) {
    return r.dest.user + "@" + r.dest.host + ":" + (r.dest.port ? std::to_string(*r.dest.port) : "");
  }

  scp::client_options scp_options(bool several) {
    scp::client_options o;
    o.recursive = flags_.recursive;
    o.preserve = flags_.preserve;
    o.target_should_be_directory = flags_.target_directory || several;
    o.on_event = [this](const scp::event& e) { report_(e); };
    return o;
  }

  void outcome(error_code ec, const scp::transfer_summary& sum) {
    report_.rest(sum);
    if (!ec) return;
    failed_ = true;
    if (ec == scp::errc::partial) return;  // each failure was printed
    if (ec == scp::errc::target_not_directory) {
      cli::report("ferry-scp", "target is not a directory");
      return;
    }
    if (ec == scp::errc::peer_error && !sum.messages.empty()) return;
    cli::report("ferry-scp", ec.message());
  }

  asio::awaitable<void> upload(const std::vector<std::string>& locals, const cli::remote_path& r) {
    cli::ssh_session s{ioc_.get_executor(), "ferry-scp"};
    co_await s.connect(opts_, r.dest);
    auto o = scp_options(locals.size() > 1);
    if (flags_.legacy) {
      auto target = r.path.empty() ? std::string{"."} : r.path;
      auto cmd = scp::remote_command(scp::direction::to_remote, o, {target});
      ssh::channel ch = co_await s.open_exec(cmd);
      ch.discard_stderr();
      scp::client<ssh::channel> c{ch, o};
      auto [ec, sum] = co_await c.async_upload(*local_, locals, tok);
      ch.send_eof();
      auto [wec] = co_await ch.async_wait_closed(tok);
      (void)wec;
      outcome(ec, sum);
      if (!ec && ch.exit_status().value_or(1) != 0) failed_ = true;
    } else {
      ssh::channel ch = co_await s.open_subsystem("sftp");
      sftp::client<ssh::channel> sc{std::move(ch)};
      auto [iec] = co_await sc.async_init(tok);
      if (iec) throw cli::failure("Connection closed: " + iec.message());
      scp::sftp_mode_client<ssh::channel> c{sc, o};
      auto [ec, sum] = co_await c.async_upload(*local_, locals, r.path, tok);
      outcome(ec, sum);
    }
    co_await s.disconnect();
  }

  asio::awaitable<void> download(const cli::destination& d, std::vector<std::string> remotes,
                                 const std::string& local_target, bool several) {
    cli::ssh_session s{ioc_.get_executor(), "ferry-scp"};
    co_await s.connect(opts_, d);
    auto o = scp_options(several || remotes.size() > 1);
    if (flags_.legacy) {
      for (auto& p : remotes)
        if (p.empty()) p = ".";
      auto cmd = scp::remote_command(scp::direction::from_remote, o, remotes);
      ssh::channel ch = co_await s.open_exec(cmd);
      auto err = ch.extended();
      scp::client<ssh::channel> c{ch, o};
      auto [ec, sum] = co_await c.async_download(remotes, *local_, local_target, tok);
      // The remote scp's own complaints (on stderr) are what the user should see.
      std::array<char, 4096> buf;
      if (ec && ec != scp::errc::partial) {
        ch.send_eof();
        for (;;) {
          auto [rec, n] = co_await err.async_read_some(asio::buffer(buf), tok);
          if (n) (void)!::write(STDERR_FILENO, buf.data(), n);
          if (rec) break;
        }
      }
      outcome(ec, sum);
      ch.close();
    } else {
      ssh::channel ch = co_await s.open_subsystem("sftp");
      sftp::client<ssh::channel> sc{std::move(ch)};
      auto [iec] = co_await sc.async_init(tok);
      if (iec) throw cli::failure("Connection closed: " + iec.message());
      scp::sftp_mode_client<ssh::channel> c{sc, o};
      auto [ec, sum] = co_await c.async_download(remotes, *local_, local_target, tok);
      outcome(ec, sum);
    }
    co_await s.disconnect();
  }

  asio::io_context& ioc_;
  cli::ssh_options opts_;
  flags flags_;
  reporter report_;
  std::optional<fs::local_filesystem> local_;
  bool failed_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  cli::ssh_options o;
  flags f;
  std::vector<std::string> operands;
  try {
    int i = 1;
    for (; i < argc; ++i) {
      std::string_view a = argv[i];
      if (a == "--") {
        ++i;
        break;
      }
      if (a.size() < 2 || a[0] != '-') break;
      int used = cli::parse_common_option(o, a, i + 1 < argc ? argv[i + 1] : nullptr, 'P');
      if (used > 0) {
        i += used - 1;
        continue;
      }
      for (char c : a.substr(1)) {
        if (c == 'r') f.recursive = true;
        else if (c == 'p') f.preserve = true;
        else if (c == 'O') f.legacy = true;
        else if (c == 's') f.legacy = false;
        else if (c == 'q') o.quiet = true;
        else if (c == 'd') f.target_directory = true;
        else if (c == 'v') ++o.verbose;
        else if (c == '4' || c == '6' || c == 'C' || c == 'T') continue;
        else return usage();
      }
    }
    for (; i < argc; ++i) operands.emplace_back(argv[i]);
    if (operands.size() < 2) return usage();
  } catch (const cli::failure& x) {
    cli::report("ferry-scp", x.what());
    return 1;
  }

  asio::io_context ioc{1};
  int status = 1;
  try {
    program prog{ioc, o, f};
    asio::co_spawn(ioc, prog.run(operands), [&](std::exception_ptr e, int s) {
      // A failure leaves connections running: stop here rather than wait for them to end.
      ioc.stop();
      if (!e) {
        status = s;
        return;
      }
      cli::report_failure("ferry-scp", e);
    });
    ioc.run();
  } catch (const cli::failure& x) {
    cli::report("ferry-scp", x.what());
  }
  return status;
}
