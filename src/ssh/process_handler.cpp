#include <ferry/ssh/process_handler.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <cerrno>
#include <fcntl.h>
#include <mutex>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

extern char** environ;

namespace ferry::ssh {

namespace {

namespace asio = boost::asio;
constexpr auto tok = asio::as_tuple(asio::use_awaitable);

// RFC 4254 §6.10
constexpr std::pair<const char*, int> signals[] = {
    {"ABRT", SIGABRT}, {"ALRM", SIGALRM}, {"FPE", SIGFPE},   {"HUP", SIGHUP},   {"ILL", SIGILL},
    {"INT", SIGINT},   {"KILL", SIGKILL}, {"PIPE", SIGPIPE}, {"QUIT", SIGQUIT}, {"SEGV", SIGSEGV},
    {"TERM", SIGTERM}, {"USR1", SIGUSR1}, {"USR2", SIGUSR2},
};

struct child_process {
  pid_t pid = -1;
  int in = -1, out = -1, err = -1;
  int master = -1;
};

error_code spawn(const process_options& o, const std::string& command, const session& s,
                 child_process& c) {
  // Everything the child needs is built before fork: only async-signal-safe calls after it.
  std::vector<std::string> args;
  auto base = o.shell.substr(o.shell.rfind('/') + 1);
  if (command.empty())
    args = {"-" + base};  // a login shell, by the argv[0] convention
  else
    args = {base, "-c", command};
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) env.emplace_back(*e);
  const auto& g = s.grant();
  if (!g.user.empty()) {
    env.push_back("USER=" + g.user);
    env.push_back("LOGNAME=" + g.user);
  }
  if (s.pty()) env.push_back("TERM=" + s.pty()->term);
  for (const auto& [k, v] : s.env()) env.push_back(k + "=" + v);
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  const char* shell = o.shell.c_str();
  const char* dir = o.directory.empty() ? nullptr : o.directory.c_str();

  if (s.pty()) {
    int master = -1, slave = -1;
    winsize ws{};
    ws.ws_row = static_cast<unsigned short>(s.pty()->rows);
    ws.ws_col = static_cast<unsigned short>(s.pty()->columns);
    ws.ws_xpixel = static_cast<unsigned short>(s.pty()->width_pixels);
    ws.ws_ypixel = static_cast<unsigned short>(s.pty()->height_pixels);
    if (::openpty(&master, &slave, nullptr, nullptr, &ws) != 0)
      return {errno, boost::system::system_category()};
    ::fcntl(master, F_SETFD, FD_CLOEXEC);
    c.pid = ::fork();
    if (c.pid < 0) {
      ::close(master);
      ::close(slave);
      return {errno, boost::system::system_category()};
    }
    if (c.pid == 0) {
      ::setsid();
      ::ioctl(slave, TIOCSCTTY, 0);
      ::dup2(slave, 0);
      ::dup2(slave, 1);
      ::dup2(slave, 2);
      if (slave > 2) ::close(slave);
      ::signal(SIGPIPE, SIG_DFL);
      if (dir && ::chdir(dir) != 0) ::_exit(126);
      ::execve(shell, argv.data(), envp.data());
      ::_exit(127);
    }
    ::close(slave);
    c.master = master;
    c.out = master;
    c.in = ::dup(master);
    return {};
  }
  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return {errno, boost::system::system_category()};
  if (::pipe2(out, O_CLOEXEC) != 0) {
    ::close(in[0]);
    ::close(in[1]);
    return {errno, boost::system::system_category()};
  }
  if (::pipe2(err, O_CLOEXEC) != 0) {
    for (int fd : {in[0], in[1], out[0], out[1]}) ::close(fd);
    return {errno, boost::system::system_category()};
  }
  c.pid = ::fork();
  if (c.pid < 0) {
    for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]}) ::close(fd);
    return {errno, boost::system::system_category()};
  }
  if (c.pid == 0) {
    ::setsid();  // its own process group, so signals reach what it starts too
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    ::signal(SIGPIPE, SIG_DFL);
    if (dir && ::chdir(dir) != 0) ::_exit(126);
    ::execve(shell, argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  c.in = in[1];
  c.out = out[0];
  c.err = err[0];
  return {};
}

// Channel data into the process's stdin until EOF; then stdin closes. What arrives after the
// process stopped reading is consumed and dropped, so the client is never stalled.
asio::awaitable<void> stdin_pump(std::shared_ptr<detail::channel_state> ch,
                                 std::shared_ptr<asio::posix::stream_descriptor> in) {
  std::vector<char> buf(64 * 1024);
  bool writing = true;
  for (;;) {
    auto [ec, n] = co_await detail::channel_read(ch, asio::buffer(buf), false, tok);
    if (n && writing && in->is_open()) {
      auto [wec, w] = co_await asio::async_write(*in, asio::buffer(buf.data(), n), tok);
      if (wec) writing = false;
    }
    if (ec) break;
  }
  error_code ignored;
  in->close(ignored);
}

template <class Out>
asio::awaitable<void> output_pump(asio::posix::stream_descriptor& from, Out& to) {
  std::vector<char> buf(64 * 1024);
  for (;;) {
    auto [ec, n] = co_await from.async_read_some(asio::buffer(buf), tok);
    if (n) {
      auto [wec, w] = co_await asio::async_write(to, asio::buffer(buf.data(), n), tok);
      if (wec) break;
    }
    if (ec) break;  // EOF, or EIO from a pty whose last holder exited
  }
}

asio::awaitable<void> nothing() { co_return; }

asio::awaitable<session_exit> serve(session& s, std::string command, process_options o) {
  static std::once_flag sigpipe;
  std::call_once(sigpipe, [] { ::signal(SIGPIPE, SIG_IGN); });  // writes to a gone child fail
  auto ex = co_await asio::this_coro::executor;
  child_process c;
  if (auto ec = spawn(o, command, s, c)) {
    auto err = s.channel().extended();
    std::string msg = "ferry: cannot start process: " + ec.message() + "\n";
    co_await asio::async_write(err, asio::buffer(msg), tok);
    co_return session_exit{127, "", false, ""};
  }
  const pid_t pid = c.pid;
  s.on_signal = [pid](std::string_view name) {
    if (int n = signal_number(name)) ::kill(pid, n);
  };
  s.on_break = [pid, pty = c.master >= 0](std::uint32_t) {
    if (pty) ::kill(pid, SIGINT);
    return pty;
  };
  if (c.master >= 0) {
    s.on_window_change = [m = c.master](const window_change_request& w) {
      winsize ws{};
      ws.ws_row = static_cast<unsigned short>(w.rows);
      ws.ws_col = static_cast<unsigned short>(w.columns);
      ws.ws_xpixel = static_cast<unsigned short>(w.width_pixels);
      ws.ws_ypixel = static_cast<unsigned short>(w.height_pixels);
      ::ioctl(m, TIOCSWINSZ, &ws);
    };
  }
  auto in = std::make_shared<asio::posix::stream_descriptor>(ex, c.in);
  asio::posix::stream_descriptor out{ex, c.out};
  std::optional<asio::posix::stream_descriptor> err;
  if (c.err >= 0) err.emplace(ex, c.err);
  asio::co_spawn(ex, stdin_pump(s.channel().state(), in), asio::detached);
  {
    using namespace asio::experimental::awaitable_operators;
    auto ext = s.channel().extended();
    auto out_task = output_pump(out, s.channel());
    auto err_task = err ? output_pump(*err, ext) : nothing();
    auto outputs = std::move(out_task) && std::move(err_task);
    co_await std::move(outputs);
  }
  s.on_window_change = nullptr;
  // Wait for the exit; a client that went away gets its process hung up on, then killed.
  asio::steady_timer t{ex};
  int status = 0;
  auto gone_since = std::chrono::steady_clock::time_point{};
  for (;;) {
    auto r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno != EINTR)) break;
    if (!s.channel().is_open()) {
      auto now = std::chrono::steady_clock::now();
      if (gone_since == std::chrono::steady_clock::time_point{}) {
        gone_since = now;
        ::kill(pid, SIGHUP);
      } else if (now - gone_since > std::chrono::seconds{2}) {
        ::kill(pid, SIGKILL);
      }
    }
    t.expires_after(std::chrono::milliseconds{5});
    co_await t.async_wait(tok);
  }
  s.on_signal = nullptr;
  s.on_break = nullptr;
  error_code ignored;
  in->close(ignored);
  session_exit e;
  if (WIFEXITED(status)) {
    e.status = static_cast<std::uint32_t>(WEXITSTATUS(status));
  } else if (WIFSIGNALED(status)) {
    e.signal = signal_name(WTERMSIG(status));
    if (e.signal.empty()) e.status = 128 + static_cast<std::uint32_t>(WTERMSIG(status));
    e.core_dumped = WCOREDUMP(status);
  }
  co_return e;
}

}  // namespace

int signal_number(std::string_view name) {
  for (auto [n, v] : signals)
    if (name == n) return v;
  return 0;
}

std::string signal_name(int number) {
  for (auto [n, v] : signals)
    if (number == v) return n;
  return {};
}

session_task run_process(std::string command, process_options options) {
  return [command = std::move(command), options = std::move(options)](session& s) {
    return serve(s, command, options);
  };
}

}  // namespace ferry::ssh
