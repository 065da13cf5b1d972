// Real OpenSSH scp peers for ferry's SCP client and server, without SSH for now:
//  - remote_scp runs the real `scp -t`/`scp -f` the way sshd does (`sh -c COMMAND` in the user's
//    home) with its stdin/stdout as an io::pipe_stream; ferry's client talks to it.
//  - run_openssh_scp runs the real OpenSSH client `scp -O -S WRAPPER ...`, where WRAPPER stands in
//    for ssh and runs ferry's server on stdio (tests/tools/ferry_scp_stdio) rooted at a directory.
// Swapping in an SSH transport later means replacing remote_scp::start (an exec channel) and the
// wrapper (a real ssh to ferry's SSH server); the tests stay.
#pragma once

#include "support/files.hpp"
#include "support/process.hpp"
#include "support/programs.hpp"

#include <ferry/io/pipe_stream.hpp>

#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/time.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ferry::interop_scp {

namespace sfs = std::filesystem;
using ferry_test_support::piped_process;
using ferry_test_support::process;
using ferry_test_support::read_file;
using ferry_test_support::temp_dir;
using ferry_test_support::write_file;
using ferry_test_support::shell_quote;
using ferry_test_support::mode_of;
using ferry_test_support::mtime_of;
using ferry_test_support::set_mtime;
using ferry_test_support::put;
using ferry_test_support::make_dir;

struct remote_scp {
  sfs::path home;
  sfs::path log;
  std::unique_ptr<piped_process> proc;
  std::optional<io::pipe_stream> stream;

  // Runs COMMAND as sshd would: by the shell, in the home directory.
  void start(boost::asio::io_context& ioc, const std::string& command) {
    std::string line = "cd " + shell_quote(home.string()) + " && exec " + command;
    proc = std::make_unique<piped_process>(std::vector<std::string>{"/bin/sh", "-c", line}, log);
    int to = proc->release_to_child();
    int from = proc->release_from_child();
    stream.emplace(ioc.get_executor(), from, to);
  }

  // Closes our side (EOF for scp -t) and returns the exit status.
  int finish() {
    error_code ignored;
    stream->close(ignored);
    return proc->wait(std::chrono::seconds(20));
  }
};

// The wrapper that `scp -S` runs instead of ssh: the last argument is the remote command.
inline sfs::path write_ssh_wrapper(const sfs::path& dir, const sfs::path& root) {
  auto p = dir / "fake-ssh";
  write_file(p, "#!/bin/sh\nfor last; do :; done\nexec " + shell_quote(FERRY_SCP_STDIO) + " " +
                    shell_quote(root.string()) + " \"$last\"\n");
  sfs::permissions(p, sfs::perms::owner_all);
  return p;
}

struct scp_run {
  int status = -1;
  std::string output;  // stdout and stderr
};

// Runs OpenSSH's scp in legacy mode against ferry's server (through the wrapper).
inline scp_run run_openssh_scp(const sfs::path& wrapper, const std::vector<std::string>& args,
                               const sfs::path& log) {
  std::vector<std::string> argv{"scp", "-O", "-q", "-S", wrapper.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  sfs::remove(log);
  process p{argv, log};
  scp_run r;
  r.status = p.wait(std::chrono::seconds(60));
  r.output = read_file(log);
  return r;
}

// A tree with nested and empty directories, an empty file, and awkward names.
inline void make_tree(const sfs::path& top) {
  make_dir(top, 0750);
  put(top / "a.txt", "alpha\n", 0600);
  put(top / "empty.txt", "", 0640);
  make_dir(top / "empty dir", 0700);
  make_dir(top / "sub", 0755);
  make_dir(top / "sub" / "deeper", 0711);
  put(top / "sub" / "deeper" / "b $(x);`y`'z\".txt", std::string(300000, 'b'), 0604);
  set_mtime(top / "a.txt", 1000000000);
  set_mtime(top / "sub" / "deeper", 1200000000);
  set_mtime(top / "sub", 1300000000);
  set_mtime(top, 1100000000);
}

// Compares two trees: names, contents, and (with preserve) modes and mtimes.
inline void expect_same_tree(const sfs::path& a, const sfs::path& b, bool preserve) {
  std::vector<std::string> na, nb;
  for (auto& e : sfs::recursive_directory_iterator(a)) na.push_back(sfs::relative(e.path(), a));
  for (auto& e : sfs::recursive_directory_iterator(b)) nb.push_back(sfs::relative(e.path(), b));
  std::sort(na.begin(), na.end());
  std::sort(nb.begin(), nb.end());
  EXPECT_EQ(na, nb);
  for (auto& n : na) {
    auto pa = a / n, pb = b / n;
    if (sfs::is_regular_file(pa)) {
      EXPECT_EQ(read_file(pa), read_file(pb)) << n;
    }
    if (preserve) {
      EXPECT_EQ(mode_of(pa), mode_of(pb)) << n;
      EXPECT_EQ(mtime_of(pa), mtime_of(pb)) << n;
    }
  }
  if (preserve) {
    EXPECT_EQ(mode_of(a), mode_of(b));
    EXPECT_EQ(mtime_of(a), mtime_of(b));
  }
}

}  // namespace ferry::interop_scp
