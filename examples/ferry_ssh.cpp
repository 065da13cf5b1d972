// ferry-ssh: an OpenSSH-style ssh client on ssh::client.
//
//   ferry-ssh [-46nqtTv] [-p PORT] [-i KEY] [-l USER] [-F FILE] [-J JUMP] [-o Opt=val]...
//             [user@]host [command [arg...]]
//
// With a command it runs it with stdin, stdout and stderr streamed (binary-safe; stdin is read
// only as fast as the channel takes it) and exits with the command's status; without one it asks
// for a shell, with a pty when stdin is a TTY (raw mode, window changes). Connection and
// authentication errors are one line on stderr and exit status 255, as ssh. Options, the config
// file, known_hosts, the agent and password prompts are those of examples/cli/ssh_session.hpp.
#include "cli/ssh_session.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_future.hpp>

#include <signal.h>
#include <sys/ioctl.h>

#include <array>
#include <future>
#include <thread>

namespace asio = boost::asio;
using namespace ferry;

namespace {

constexpr auto tok = asio::as_tuple(asio::use_awaitable);

int usage() {
  std::fputs(
      "usage: ferry-ssh [-nqtTv] [-p port] [-i identity_file] [-l login_name] [-F configfile]\n"
      "                 [-J destination] [-o option] destination [command [argument ...]]\n",
      stderr);
  return 255;
}

// Writes all of data to fd (blocking: a slow reader of our output slows the channel, which is the
// back-pressure we want).
bool write_all(int fd, const char* data, std::size_t n) {
  while (n > 0) {
    auto w = ::write(fd, data, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    data += w;
    n -= std::size_t(w);
  }
  return true;
}

// Channel data (or stderr) to a descriptor until EOF.
template <class Stream>
asio::awaitable<void> pump_out(Stream s, int fd) {
  std::array<char, 32768> buf;
  bool writable = true;
  for (;;) {
    auto [ec, n] = co_await s.async_read_some(asio::buffer(buf), tok);
    if (n > 0 && writable) writable = write_all(fd, buf.data(), n);
    if (ec) co_return;
  }
}

// The terminal in raw mode while a shell runs; restored on destruction.
class raw_terminal {
 public:
  raw_terminal() {
    if (::tcgetattr(STDIN_FILENO, &saved_) != 0) return;
    termios t = saved_;
    ::cfmakeraw(&t);
    active_ = ::tcsetattr(STDIN_FILENO, TCSADRAIN, &t) == 0;
  }
  ~raw_terminal() {
    if (active_) ::tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_);
  }
  raw_terminal(const raw_terminal&) = delete;
  raw_terminal& operator=(const raw_terminal&) = delete;

 private:
  termios saved_{};
  bool active_ = false;
};

class program {
 public:
  program(asio::io_context& ioc, cli::ssh_options o, cli::destination d, std::string command,
          bool no_stdin, int tty_mode)
      : ioc_(ioc),
        opts_(std::move(o)),
        dest_(std::move(d)),
        command_(std::move(command)),
        no_stdin_(no_stdin),
        tty_mode_(tty_mode),
        session_(ioc.get_executor(), "ferry-ssh") {}

  asio::awaitable<int> run() {
    co_await session_.connect(opts_, dest_);
    bool want_pty = tty_mode_ > 0 || (tty_mode_ == 0 && command_.empty() && ::isatty(STDIN_FILENO));
    ssh::channel ch = co_await session_.open_session();
    std::optional<raw_terminal> raw;
    if (want_pty) {
      ssh::pty_request pty;
      const char* term = std::getenv("TERM");
      pty.term = term ? term : "vt100";
      winsize ws{};
      if (::ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0) {
        pty.columns = ws.ws_col;
        pty.rows = ws.ws_row;
        pty.width_pixels = ws.ws_xpixel;
        pty.height_pixels = ws.ws_ypixel;
      }
      auto [pec] = co_await ch.async_pty(pty, tok);
      if (pec && !session_.target().quiet())
        std::fputs("PTY allocation request failed on channel 0\r\n", stderr);
      if (::isatty(STDIN_FILENO)) raw.emplace();
      watch_window(ch);
    }
    if (command_.empty()) {
      auto [sec] = co_await ch.async_shell(tok);
      if (sec) throw cli::failure("shell request failed on channel 0: " + sec.message());
    } else {
      auto [eec] = co_await ch.async_exec(command_, tok);
      if (eec) throw cli::failure("exec request failed on channel 0: " + eec.message());
    }
    if (no_stdin_)
      ch.send_eof();
    else
      start_stdin(ch);

    using namespace asio::experimental::awaitable_operators;
    auto both = pump_out(channel_ref{ch}, STDOUT_FILENO) &&
                pump_out(ch.extended(), STDERR_FILENO);
    co_await std::move(both);
    auto [wec] = co_await ch.async_wait_closed(tok);
    raw.reset();
    int status = 255;
    if (auto s = ch.exit_status()) status = int(*s & 0xff);
    else if (wec) throw cli::failure("connection to " + session_.target().hostname + " closed: " + wec.message(), true);
    signals_.reset();
    co_await session_.disconnect();
    co_return status;
  }

 private:
  // A reference to the channel that reads like a stream (pump_out takes its stream by value).
  struct channel_ref {
    ssh::channel& ch;
    template <class B, class T>
    auto async_read_some(const B& b, T&& t) {
      return ch.async_read_some(b, std::forward<T>(t));
    }
  };

  void watch_window(ssh::channel& ch) {
    signals_.emplace(ioc_, SIGWINCH);
    wait_window(ch);
  }
  void wait_window(ssh::channel& ch) {
    signals_->async_wait([this, &ch](error_code ec, int) {
      if (ec) return;
      winsize ws{};
      if (::ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
        ch.send_window_change({ws.ws_col, ws.ws_row, ws.ws_xpixel, ws.ws_ypixel});
      wait_window(ch);
    });
  }

  // stdin is read by a thread (a regular file or a TTY cannot be awaited on epoll); each chunk is
  // written to the channel before the next read, so a large input waits for the window.
  void start_stdin(ssh::channel& ch) {
    auto ex = ioc_.get_executor();
    std::thread([ex, &ch]() {
      std::vector<char> buf(65536);
      for (;;) {
        auto n = ::read(STDIN_FILENO, buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        auto data = std::make_shared<std::string>(buf.data(), std::size_t(n));
        auto done = asio::co_spawn(
            ex,
            [&ch, data]() -> asio::awaitable<bool> {
              if (!ch.is_open()) co_return false;
              auto [ec, w] = co_await asio::async_write(ch, asio::buffer(*data), tok);
              (void)w;
              co_return !ec;
            },
            asio::use_future);
        if (done.wait_for(std::chrono::hours(24 * 365)) != std::future_status::ready || !done.get())
          return;
      }
      asio::post(ex, [&ch]() {
        if (ch.is_open()) ch.send_eof();
      });
    }).detach();
  }

  asio::io_context& ioc_;
  cli::ssh_options opts_;
  cli::destination dest_;
  std::string command_;
  bool no_stdin_;
  int tty_mode_;  // -1: -T, 0: automatic, 1: -t
  cli::ssh_session session_;
  std::optional<asio::signal_set> signals_;
};

}  // namespace

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  cli::ssh_options o;
  std::optional<cli::destination> dest;
  std::string command;
  bool no_stdin = false;
  int tty_mode = 0;
  try {
    // Options may also follow the destination (as ssh's getopt restarts after it); the first
    // operand after the destination starts the command.
    int i = 1;
    for (; i < argc; ++i) {
      std::string_view a = argv[i];
      if (a == "--") {
        ++i;
        if (!dest && i < argc) dest = cli::parse_destination(argv[i++]);
        break;
      }
      if (a.size() < 2 || a[0] != '-') {
        if (dest) break;
        dest = cli::parse_destination(a);
        continue;
      }
      int used = cli::parse_common_option(o, a, i + 1 < argc ? argv[i + 1] : nullptr, 'p');
      if (used > 0) {
        i += used - 1;
        continue;
      }
      // Flags that can be grouped: -n, -t, -T, -4, -6 (-4/-6 accepted and ignored).
      for (char c : a.substr(1)) {
        if (c == 'n') no_stdin = true;
        else if (c == 't') tty_mode = 1;
        else if (c == 'T') tty_mode = -1;
        else if (c == 'q') o.quiet = true;
        else if (c == 'v') ++o.verbose;
        else if (c == '4' || c == '6') continue;
        else if (c == 'h') return usage(), 0;
        else return usage();
      }
    }
    if (!dest) return usage();
    for (; i < argc; ++i) {
      if (!command.empty()) command += ' ';
      command += argv[i];
    }
  } catch (const cli::failure& f) {
    cli::report("ferry-ssh", f.what());
    return 255;
  }

  asio::io_context ioc{1};
  program prog{ioc, o, *dest, command, no_stdin, tty_mode};
  int status = 255;
  asio::co_spawn(ioc, prog.run(), [&](std::exception_ptr e, int s) {
    // A failure leaves connections running: stop here rather than wait for them to end.
    ioc.stop();
    if (!e) {
      status = s;
      return;
    }
    cli::report_failure("ferry-ssh", e);
  });
  ioc.run();
  std::fflush(stdout);
  std::fflush(stderr);
  // The stdin thread may still be blocked in read(2): leave without waiting for it.
  ::_exit(status);
}
