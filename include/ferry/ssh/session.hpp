// What an ssh::server hands to the code that serves a session channel (RFC 4254 §6): the channel
// as an Asio stream, who logged in, the pty and environment the client asked for, and hooks for
// the requests that arrive while the session runs (window-change, signal, break).
//
// A handler (ssh::connection_handler) decides each request; exec, shell and subsystem return a
// session_task, a coroutine that serves the channel and returns how the "command" ended:
//
//   session_task echo = [](ssh::session& s) -> asio::awaitable<ssh::session_exit> {
//     char buf[4096];
//     for (;;) { auto n = co_await s.channel().async_read_some(asio::buffer(buf), ...); ... }
//     co_return ssh::session_exit{0};
//   };
//
// After the task the server sends exit-status (or exit-signal), EOF and CLOSE.
#pragma once

#include <ferry/auth/authenticator.hpp>
#include <ferry/ssh/channel.hpp>

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ferry::ssh {

// How a session ended: exit-status, or exit-signal when signal is set (RFC 4254 §6.10: signal
// names without "SIG", e.g. "TERM").
struct session_exit {
  std::uint32_t status = 0;
  std::string signal;
  bool core_dumped = false;
  std::string message;
};

class session {
 public:
  session(ssh::channel ch, const auth::grant& g, std::string remote_address)
      : channel_(std::move(ch)), grant_(&g), remote_(std::move(remote_address)) {}

  ssh::channel& channel() noexcept { return channel_; }
  const auth::grant& grant() const noexcept { return *grant_; }
  const std::string& remote_address() const noexcept { return remote_; }

  // "exec", "shell" or "subsystem" once started; command() is the command or subsystem name.
  const std::string& kind() const noexcept { return kind_; }
  const std::string& command() const noexcept { return command_; }
  const std::optional<pty_request>& pty() const noexcept { return pty_; }
  const std::vector<std::pair<std::string, std::string>>& env() const noexcept { return env_; }
  // The latest terminal size (pty-req, then window-change).
  const std::optional<window_change_request>& window() const noexcept { return window_; }

  // Set by a running task to hear about these requests (RFC 4254 §6.7, §6.9, RFC 4335).
  std::function<void(const window_change_request&)> on_window_change;
  std::function<void(std::string_view signal)> on_signal;
  std::function<bool(std::uint32_t ms)> on_break;

  // --- used by ssh::server -----------------------------------------------------------------
  void set_started(std::string kind, std::string command) {
    kind_ = std::move(kind);
    command_ = std::move(command);
  }
  void set_pty(pty_request p) {
    window_ = window_change_request{p.columns, p.rows, p.width_pixels, p.height_pixels};
    pty_ = std::move(p);
  }
  void set_window(window_change_request w) { window_ = w; }
  void add_env(std::string name, std::string value) {
    env_.emplace_back(std::move(name), std::move(value));
  }

 private:
  ssh::channel channel_;
  const auth::grant* grant_;
  std::string remote_;
  std::string kind_, command_;
  std::optional<pty_request> pty_;
  std::optional<window_change_request> window_;
  std::vector<std::pair<std::string, std::string>> env_;
};

using session_task = std::function<boost::asio::awaitable<session_exit>(session&)>;

}  // namespace ferry::ssh
