// Running real commands for an ssh::server session: fork/exec of `shell -c command` with pipes for
// stdin, stdout and stderr, or on a pseudo-terminal when the session asked for a pty (then also
// the login shell for a "shell" request). Signals and window changes from the client reach the
// process; the session ends with its exit status or the signal that killed it.
//
// Off by default: a server runs programs only when its handler returns one of these tasks, e.g.
//   auto h = std::make_unique<ssh::routing_handler>();
//   h->fallback_exec = [](ssh::session&, std::string_view cmd) { return ssh::run_process(std::string{cmd}); };
//   h->shell_task = ssh::run_process({});
// The process runs as the server's own user, with the server's environment plus the variables
// the session accepted (env requests) and USER/LOGNAME/HOME of the grant.
#pragma once

#include <ferry/ssh/session.hpp>

#include <string>
#include <vector>

namespace ferry::ssh {

struct process_options {
  std::string shell = "/bin/sh";
  // Working directory (empty: the server's).
  std::string directory;
};

// A task running command (empty: an interactive login shell, for "shell" requests).
session_task run_process(std::string command, process_options options = {});

// RFC 4254 §6.10 signal names (without "SIG") and their numbers; 0 / "" when unknown.
int signal_number(std::string_view name);
std::string signal_name(int number);

}  // namespace ferry::ssh
