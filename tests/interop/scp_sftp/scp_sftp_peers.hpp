// Two SCP-over-SFTP clients side by side against OpenSSH's real /usr/lib/openssh/sftp-server:
//  - ferry: scp::sftp_mode_client on an sftp::client over the pipes of a spawned sftp-server
//    (-d REMOTE), local files through fs::local_filesystem rooted at LOCAL;
//  - openssh: the real `scp -s` (SFTP mode) run in LOCAL with `-S WRAPPER`, where WRAPPER stands
//    in for `ssh ... -s -- host sftp` and execs sftp-server in REMOTE.
// Each gets its own LOCAL/REMOTE pair with the same fixtures, so the resulting trees and outcomes
// can be compared.
#pragma once

#include "support/files.hpp"
#include "support/process.hpp"
#include "support/programs.hpp"
#include "support/run_coroutine.hpp"

#include <ferry/fs/local.hpp>
#include <ferry/io/pipe_stream.hpp>
#include <ferry/scp/sftp_mode.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace ferry::interop_scp_sftp {

namespace asio = boost::asio;
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

inline const char* const sftp_server_program = "/usr/lib/openssh/sftp-server";

inline std::string big(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 7919) >> 3);
  return s;
}

// A tree with nested and empty directories, empty files, awkward names and set times. Every entry
// gets a fixed time: the ferry side's and the OpenSSH side's trees are made one after the other, and
// an entry left with its creation time could differ by a second between them, which a preserving
// copy then carries over.
inline void make_tree(const sfs::path& top) {
  make_dir(top, 0750);
  put(top / "a.txt", "alpha\n", 0600);
  put(top / "empty.txt", "", 0640);
  make_dir(top / "empty dir", 0700);
  make_dir(top / "sub", 0755);
  make_dir(top / "sub" / "deeper", 0711);
  put(top / "sub" / "deeper" / "b $(x);`y`'z\" & c.bin", big(1'300'000), 0604);
  put(top / "sub" / "deeper" / "zero", "", 0600);
  set_mtime(top / "a.txt", 1000000000);
  set_mtime(top / "empty.txt", 1010000000);
  set_mtime(top / "empty dir", 1020000000);
  set_mtime(top / "sub" / "deeper" / "b $(x);`y`'z\" & c.bin", 1030000000);
  set_mtime(top / "sub" / "deeper" / "zero", 1040000000);
  set_mtime(top / "sub" / "deeper", 1200000000);
  set_mtime(top / "sub", 1300000000);
  set_mtime(top, 1100000000);
}

// Names, contents, and (with preserve) modes and mtimes of two trees (or files).
inline void expect_same(const sfs::path& a, const sfs::path& b, bool modes, bool times) {
  ASSERT_EQ(sfs::exists(a), sfs::exists(b)) << a << " vs " << b;
  if (!sfs::exists(a)) return;
  ASSERT_EQ(sfs::is_directory(a), sfs::is_directory(b)) << a;
  std::vector<std::string> na, nb;
  if (sfs::is_directory(a)) {
    for (auto& e : sfs::recursive_directory_iterator(a)) na.push_back(sfs::relative(e.path(), a));
    for (auto& e : sfs::recursive_directory_iterator(b)) nb.push_back(sfs::relative(e.path(), b));
  }
  std::sort(na.begin(), na.end());
  std::sort(nb.begin(), nb.end());
  EXPECT_EQ(na, nb);
  na.push_back("");
  for (auto& n : na) {
    auto pa = n.empty() ? a : a / n;
    auto pb = n.empty() ? b : b / n;
    if (sfs::is_regular_file(pa)) {
      EXPECT_EQ(read_file(pa), read_file(pb)) << n;
    }
    if (modes) {
      EXPECT_EQ(mode_of(pa), mode_of(pb)) << pa << " " << pb;
    }
    if (times) {
      EXPECT_EQ(mtime_of(pa), mtime_of(pb)) << pa << " " << pb;
    }
  }
}

struct outcome {
  error_code ec;
  scp::transfer_summary summary;
};

struct scp_run {
  int status = -1;
  std::string output;
};

// One side: LOCAL and REMOTE directories under a temp dir.
struct side {
  sfs::path local;
  sfs::path remote;
};

class world {
 public:
  world() {
    ::signal(SIGPIPE, SIG_IGN);
    for (auto* s : {&ferry_, &openssh_}) {
      auto name = s == &ferry_ ? std::string{"ferry"} : std::string{"openssh"};
      s->local = dir_ / (name + "-local");
      s->remote = dir_ / (name + "-remote");
      sfs::create_directories(s->local);
      sfs::create_directories(s->remote);
    }
    wrapper_ = dir_ / "fake-ssh";
    write_file(wrapper_, "#!/bin/sh\ncd " + shell_quote(openssh_.remote.string()) + " && exec " +
                             sftp_server_program + "\n");
    sfs::permissions(wrapper_, sfs::perms::owner_all);
  }

  const side& ferry() const { return ferry_; }
  const side& openssh() const { return openssh_; }

  // The same fixture on both sides: f(local, remote).
  void both(const std::function<void(const sfs::path&, const sfs::path&)>& f) {
    f(ferry_.local, ferry_.remote);
    f(openssh_.local, openssh_.remote);
  }

  // ferry's client: upload (local sources -> remote target) or download.
  outcome ferry_run(bool upload, scp::client_options o, std::vector<std::string> sources,
                    std::string target) {
    outcome out;
    piped_process proc({sftp_server_program, "-d", ferry_.remote.string()},
                       dir_ / "sftp-server.log");
    ferry_test_support::run_coroutine([&](asio::io_context& ioc) -> asio::awaitable<void> {
      error_code fec;
      auto files = fs::make_local_filesystem(ioc.get_executor(), ferry_.local.string(), {}, fec);
      EXPECT_FALSE(fec) << fec.message();
      sftp::client<io::pipe_stream> c{ioc.get_executor(), proc.release_from_child(),
                                      proc.release_to_child()};
      co_await c.async_init(asio::use_awaitable);
      scp::sftp_mode_client<io::pipe_stream> m{c, o};
      constexpr auto tuple = asio::as_tuple(asio::use_awaitable);
      if (upload) {
        auto [ec, sum] = co_await m.async_upload(files, sources, target, tuple);
        out = outcome{ec, std::move(sum)};
      } else {
        auto [ec, sum] = co_await m.async_download(sources, files, target, tuple);
        out = outcome{ec, std::move(sum)};
      }
      c.close();
    });
    EXPECT_EQ(proc.wait(std::chrono::seconds(20)), 0) << "sftp-server exit status";
    return out;
  }

  // OpenSSH's scp in SFTP mode, in the openssh side's LOCAL; remote operands as "h:PATH".
  scp_run openssh_run(const std::vector<std::string>& flags, const std::vector<std::string>& args) {
    std::string line = "cd " + shell_quote(openssh_.local.string()) + " && exec scp -s -q -S " +
                       shell_quote(wrapper_.string());
    for (const auto& f : flags) line += " " + f;
    for (const auto& a : args) line += " " + shell_quote(a);
    auto log = dir_ / "scp.log";
    sfs::remove(log);
    process p{{"/bin/sh", "-c", line}, log};
    scp_run r;
    r.status = p.wait(std::chrono::seconds(60));
    r.output = read_file(log);
    return r;
  }

  // Both sides' results compared: LOCAL trees and REMOTE trees (names, contents, modes).
  void expect_same_sides(bool modes = true) {
    expect_same(ferry_.local, openssh_.local, modes, false);
    expect_same(ferry_.remote, openssh_.remote, modes, false);
  }
  // One path on both sides, times included (what -p preserved).
  void expect_same_preserved(const std::string& rel, bool remote) {
    auto& f = remote ? ferry_.remote : ferry_.local;
    auto& o = remote ? openssh_.remote : openssh_.local;
    expect_same(f / rel, o / rel, true, true);
  }

 private:
  temp_dir dir_{"ferry-scp-sftp-"};
  side ferry_;
  side openssh_;
  sfs::path wrapper_;
};

inline std::string joined(const scp::transfer_summary& s) {
  std::string out;
  for (const auto& m : s.messages) out += m + "\n";
  return out;
}

inline bool mentions(const scp::transfer_summary& s, std::string_view text) {
  for (const auto& m : s.messages)
    if (m.find(text) != std::string::npos) return true;
  return false;
}

}  // namespace ferry::interop_scp_sftp
