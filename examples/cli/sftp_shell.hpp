// The ferry-sftp command interpreter: runs sftp(1)'s commands (sftp_commands.hpp parses them)
// against an sftp::client<Stream> — over an SSH channel or the pipes to a local sftp-server.
//
//   cli::sftp_shell<Stream> sh{client, opts};
//   co_await sh.start();                              // the remote working directory
//   int status = co_await sh.run_batch(std::cin);     // or run_interactive(editor)
//
// Batch mode echoes each line as "sftp> line" and stops at the first failing command unless the
// line starts with '-'; each error is one line on stderr. Transfers show a progress line on a TTY
// (the `progress` command toggles it; off in batch mode and with -q, as sftp does).
#pragma once

#include "line_editor.hpp"
#include "sftp_commands.hpp"

#include <ferry/cli/progress.hpp>
#include <ferry/sftp/client.hpp>
#include <ferry/sftp/proto/longname.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <istream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace ferry::cli {

struct sftp_shell_options {
  bool batch = false;      // -b: echo commands, stop at the first failure
  bool quiet = false;      // -q: no progress, no "Fetching ..." lines
  bool resume = false;     // -a: every get/put resumes
  bool preserve = false;   // -p: every get/put preserves times and modes
  bool recursive = false;  // -r: every get/put is recursive
  std::size_t requests = 64;  // -R: requests in flight
  std::size_t block = 0;      // -B: bytes per request (0: the server's largest)
};

// A failed command: the one line the user sees.
struct sftp_command_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

template <class Stream>
class sftp_shell {
 public:
  using client_type = sftp::client<Stream>;

  sftp_shell(client_type& c, sftp_shell_options o) : c_(c), opts_(o) {
    progress_ = !opts_.batch && !opts_.quiet && ::isatty(STDOUT_FILENO);
  }

  // The remote working directory starts at the login directory (REALPATH ".").
  boost::asio::awaitable<void> start() {
    auto [ec, p] = co_await c_.async_realpath(".", nothrow_token);
    if (ec) throw sftp_command_error("Need cwd: " + describe(ec));
    cwd_ = p;
  }

  const std::string& cwd() const noexcept { return cwd_; }
  bool quit_requested() const noexcept { return quit_; }

  // host:path on the command line: a directory becomes the working directory ("Changing to:"),
  // anything else is downloaded (then the program ends, as sftp does). Returns true when it was a
  // download.
  boost::asio::awaitable<bool> initial_path(const std::string& path) {
    auto abs = sftp_cli::make_absolute(cwd_, path);
    auto [ec, a] = co_await c_.async_stat(abs, nothrow_token);
    if (!ec && sftp::is_directory(a)) {
      std::printf("Changing to: %s\n", abs.c_str());
      std::fflush(stdout);
      co_await cd(abs);
      co_return false;
    }
    sftp_cli::parsed_line p;
    p.cmd = sftp_cli::find_command("get");
    sftp_cli::word w;
    w.text = abs;
    w.pattern = abs;  // as sftp does: the path given may glob
    w.has_glob = sftp_cli::pattern_has_glob(abs);
    p.args.push_back(std::move(w));
    co_await get(p, false);
    co_return true;
  }

  // Runs one command line; false when it failed (the error line is already printed).
  boost::asio::awaitable<bool> run_line(const std::string& line, bool* ignore = nullptr) {
    auto p = sftp_cli::parse_line(line);
    if (ignore) *ignore = p.ignore_errors;
    if (p.empty) co_return true;
    if (!p.error.empty()) {
      error_line(p.error);
      co_return false;
    }
    bool ok = true;
    try {
      co_await dispatch(p);
    } catch (const sftp_command_error& e) {
      end_progress();
      error_line(e.what());
      ok = false;
    }
    std::fflush(stdout);
    co_return ok;
  }

  // Batch: every line echoed, the first failure without '-' ends it with status 1.
  // (stdin that is not a TTY without -b: the same echo, but failures do not stop it.)
  boost::asio::awaitable<int> run_batch(std::istream& in, bool stop_on_error = true) {
    std::string line;
    while (!quit_ && std::getline(in, line)) {
      std::printf("sftp> %s\n", line.c_str());
      std::fflush(stdout);
      bool ignore = false;
      bool ok = co_await run_line(line, &ignore);
      if (!ok && !ignore && stop_on_error) co_return 1;
      if (c_.session_error()) co_return 1;
    }
    co_return 0;
  }

  boost::asio::awaitable<int> run_interactive(line_editor& ed) {
    while (!quit_) {
      ed.begin("sftp> ");
      auto k = ed.next();
      for (; k == line_editor::key::complete; k = ed.next()) {
        auto w = word_before_cursor(ed.state().text(), ed.state().cursor());
        auto candidates = co_await completions(w);
        ed.offer(w, std::move(candidates));
      }
      if (k == line_editor::key::eof) break;
      co_await run_line(ed.take_line());
      if (c_.session_error()) {
        error_line("Connection closed");
        co_return 1;
      }
    }
    co_return 0;
  }

 private:
  static constexpr auto nothrow_token = boost::asio::as_tuple(boost::asio::use_awaitable);

  // --- Tab completion ----------------------------------------------------------------------
  // The first word completes to a command; later words to remote paths, or local ones where the
  // command takes a local path (lcd, lls, lmkdir, put's source, get's target), as sftp does.
  boost::asio::awaitable<std::vector<std::string>> completions(const completion_word& w) {
    std::vector<std::string> out;
    if (w.index == 0) {
      for (const auto& c : sftp_cli::command_table)
        if (c.name.starts_with(w.text) && c.name != "!" && c.name != "?") out.emplace_back(c.name);
      co_return out;
    }
    const auto* cmd = sftp_cli::find_command(w.before[0]);
    if (!cmd) co_return out;
    std::size_t operand = 0;  // which operand w is, flags not counted
    for (std::size_t i = 1; i < w.before.size(); ++i)
      if (!w.before[i].starts_with('-')) ++operand;
    using K = sftp_cli::command_kind;
    bool local = cmd->kind == K::lcd || cmd->kind == K::lls || cmd->kind == K::lmkdir ||
                 ((cmd->kind == K::put || cmd->kind == K::reput) && operand == 0) ||
                 ((cmd->kind == K::get || cmd->kind == K::reget) && operand == 1);
    auto slash = w.text.rfind('/');
    std::string dir = slash == std::string::npos ? "" : w.text.substr(0, slash + 1);
    std::string base = slash == std::string::npos ? w.text : w.text.substr(slash + 1);
    auto wanted = [&](const std::string& name) {
      return name != "." && name != ".." && name.starts_with(base) &&
             (base.starts_with('.') || !name.starts_with('.'));
    };
    if (local) {
      std::error_code ec;
      for (const auto& e : std::filesystem::directory_iterator(dir.empty() ? "." : dir, ec)) {
        auto name = e.path().filename().string();
        std::error_code dec;
        if (wanted(name)) out.push_back(dir + name + (e.is_directory(dec) ? "/" : ""));
      }
      co_return out;
    }
    std::string where = remote(dir.empty() ? std::string{"."} : dir);  // not inside co_await (g++ 12)
    auto [ec, entries] = co_await c_.async_list(where, nothrow_token);
    if (ec) co_return out;
    for (const auto& e : entries)
      if (wanted(e.filename)) out.push_back(dir + e.filename + (sftp::is_directory(e.attrs) ? "/" : ""));
    co_return out;
  }

  void error_line(const std::string& s) {
    std::fflush(stdout);
    std::fprintf(stderr, "%s\n", s.c_str());
    std::fflush(stderr);
  }

  // The server's own words for an SFTP status when it gave any, else the code's message.
  std::string describe(const error_code& ec) const {
    if (ec.category() == sftp::sftp_category()) {
      const auto& st = c_.last_status();
      if (st.code == std::uint32_t(ec.value()) && st.message && !st.message->empty()) return *st.message;
    }
    auto m = ec.message();
    if (!m.empty()) m[0] = char(std::toupper(static_cast<unsigned char>(m[0])));
    return m;
  }

  void check(const error_code& ec, const std::string& what) {
    if (ec) throw sftp_command_error(what + ": " + describe(ec));
  }

  std::string remote(const std::string& p) const { return sftp_cli::make_absolute(cwd_, p); }

  // --- dispatch ----------------------------------------------------------------------------
  boost::asio::awaitable<void> dispatch(const sftp_cli::parsed_line& p) {
    using K = sftp_cli::command_kind;
    const auto& a = p.args;
    switch (p.cmd->kind) {
      case K::bye: quit_ = true; break;
      case K::cd: {
        std::string to = home();
        if (!a.empty()) to = remote(a[0].text);
        co_await cd(to);
        break;
      }
      case K::pwd: std::printf("Remote working directory: %s\n", cwd_.c_str()); break;
      case K::lpwd: std::printf("Local working directory: %s\n", local_cwd().c_str()); break;
      case K::lcd: lcd(a.empty() ? home_local() : a[0].text); break;
      case K::lmkdir:
        if (::mkdir(a[0].text.c_str(), 0777) != 0)
          throw sftp_command_error("Couldn't create local directory \"" + a[0].text + "\": " +
                                   std::strerror(errno));
        break;
      case K::lumask: {
        auto m = sftp_cli::parse_octal_mode(a[0].text);
        if (!m || *m > 0777) throw sftp_command_error("Invalid umask \"" + a[0].text + "\"");
        ::umask(mode_t(*m));
        std::printf("Local umask: %03o\n", unsigned(*m));
        break;
      }
      case K::lls: lls(p); break;
      case K::ls: co_await ls(p); break;
      case K::get: co_await get(p, false); break;
      case K::reget: co_await get(p, true); break;
      case K::put: co_await put(p, false); break;
      case K::reput: co_await put(p, true); break;
      case K::rename: {
        auto from = remote(a[0].text), to = remote(a[1].text);
        bool posix = !p.flags.has('l') && c_.supports("posix-rename@openssh.com");
        if (posix) {
          auto [ec] = co_await c_.async_posix_rename(from, to, nothrow_token);
          check(ec, "Couldn't rename file \"" + from + "\" to \"" + to + "\"");
        } else {
          auto [ec] = co_await c_.async_rename(from, to, nothrow_token);
          check(ec, "Couldn't rename file \"" + from + "\" to \"" + to + "\"");
        }
        break;
      }
      case K::rm: {
        auto paths = co_await remote_glob(a[0]);
        for (auto& m : paths) {
          if (!opts_.quiet && a[0].has_glob) std::printf("Removing %s\n", m.path.c_str());
          auto [ec] = co_await c_.async_remove(m.path, nothrow_token);
          check(ec, "Couldn't delete file \"" + m.path + "\"");
        }
        break;
      }
      case K::mkdir: {
        auto path = remote(a[0].text);
        sftp::attributes at;
        at.permissions = 0777;
        auto [ec] = co_await c_.async_mkdir(path, at, nothrow_token);
        check(ec, "Couldn't create directory \"" + path + "\"");
        break;
      }
      case K::rmdir: {
        auto path = remote(a[0].text);
        auto [ec] = co_await c_.async_rmdir(path, nothrow_token);
        check(ec, "Couldn't remove directory \"" + path + "\"");
        break;
      }
      case K::ln:
      case K::symlink: {
        bool sym = p.cmd->kind == K::symlink || p.flags.has('s');
        auto to = remote(a[1].text);
        if (sym) {
          // The target is stored as typed (a relative link stays relative).
          auto [ec] = co_await c_.async_symlink(a[0].text, to, nothrow_token);
          check(ec, "Couldn't symlink file \"" + a[0].text + "\" to \"" + to + "\"");
        } else {
          auto from = remote(a[0].text);
          auto [ec] = co_await c_.async_hardlink(from, to, nothrow_token);
          check(ec, "Couldn't link file \"" + from + "\" to \"" + to + "\"");
        }
        break;
      }
      case K::chmod: co_await change(p, 0); break;
      case K::chown: co_await change(p, 1); break;
      case K::chgrp: co_await change(p, 2); break;
      case K::df: co_await df(p); break;
      case K::progress:
        progress_ = !progress_;
        std::printf("Progress meter %s\n", progress_ ? "enabled" : "disabled");
        break;
      case K::help: std::fputs(sftp_cli::help_text().c_str(), stdout); break;
      case K::version:
        std::printf("SFTP protocol version %u\n", unsigned(c_.server_version().version));
        break;
      case K::shell: local_shell(p.shell_command); break;
    }
    co_return;
  }

  // --- directories --------------------------------------------------------------------------
  std::string home() const { return home_.empty() ? cwd_ : home_; }

  boost::asio::awaitable<void> cd(std::string path) {
    if (home_.empty()) home_ = cwd_;
    auto [ec, real] = co_await c_.async_realpath(path, nothrow_token);
    check(ec, "Couldn't canonicalize: " + path);
    auto [sec, a] = co_await c_.async_stat(real, nothrow_token);
    check(sec, "Can't change directory: " + real);
    if (a.permissions && !sftp::is_directory(a))
      throw sftp_command_error("Can't change directory: \"" + real + "\" is not a directory");
    cwd_ = real;
  }

  static std::string local_cwd() {
    std::error_code ec;
    auto p = std::filesystem::current_path(ec);
    return ec ? std::string{"?"} : p.string();
  }
  static std::string home_local() {
    const char* h = std::getenv("HOME");
    return h ? h : "/";
  }
  void lcd(const std::string& path) {
    if (::chdir(path.c_str()) != 0)
      throw sftp_command_error("Couldn't change local directory to \"" + path + "\": " +
                               std::strerror(errno));
  }

  // Runs ls(1) locally with the options and path given (no shell in between).
  void lls(const sftp_cli::parsed_line& p) {
    std::vector<std::string> argv{"ls"};
    if (!p.flags.letters.empty()) argv.push_back("-" + p.flags.letters);
    for (auto& w : p.args) argv.push_back(w.text);
    std::fflush(stdout);
    run_local(argv);
  }

  void local_shell(const std::string& cmd) {
    std::fflush(stdout);
    const char* sh = std::getenv("SHELL");
    std::string shell = sh && *sh ? sh : "/bin/sh";
    if (cmd.find_first_not_of(" \t") == std::string::npos) run_local({shell});
    else run_local({shell, "-c", cmd});
  }

  void run_local(const std::vector<std::string>& argv) {
    pid_t pid = ::fork();
    if (pid < 0) throw sftp_command_error(std::string{"fork: "} + std::strerror(errno));
    if (pid == 0) {
      std::vector<char*> args;
      for (auto& s : argv) args.push_back(const_cast<char*>(s.c_str()));
      args.push_back(nullptr);
      ::execvp(args[0], args.data());
      std::fprintf(stderr, "%s: %s\n", args[0], std::strerror(errno));
      ::_exit(127);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      throw sftp_command_error(argv[0] + " exited with status " +
                               std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status)));
  }

  // --- globbing ----------------------------------------------------------------------------
  struct match {
    std::string path;   // absolute
    std::string shown;  // as the user typed it (relative stays relative)
    sftp::attributes attrs;
    std::string longname;
    bool have_attrs = false;
  };

  // Expands a remote word: without glob characters the path itself; else every match, in
  // order, of each globbing component (no match is an error, as sftp says).
  boost::asio::awaitable<std::vector<match>> remote_glob(const sftp_cli::word& w) {
    std::vector<match> out;
    if (!w.has_glob) {
      out.push_back(match{remote(w.text), w.text, {}, {}, false});
      co_return out;
    }
    bool relative = w.pattern.empty() || w.pattern[0] != '/';
    auto comps = sftp_cli::split_pattern(w.pattern);
    // (absolute path, shown path)
    std::vector<match> cur;
    std::size_t first = 0;
    if (!relative) {
      cur.push_back(match{"/", "/", {}, {}, false});
      first = 1;
    } else {
      cur.push_back(match{cwd_, "", {}, {}, false});
    }
    for (std::size_t i = first; i < comps.size(); ++i) {
      const auto& comp = comps[i];
      if (comp.empty()) continue;  // "a//b" or a trailing '/'
      std::vector<match> next;
      if (!sftp_cli::pattern_has_glob(comp)) {
        auto lit = sftp_cli::unescape_pattern(comp);
        for (auto& m : cur)
          next.push_back(match{sftp_cli::path_join(m.path, lit), sftp_cli::path_join(m.shown, lit), {}, {}, false});
      } else {
        for (auto& m : cur) {
          auto [ec, entries] = co_await c_.async_list(m.path, nothrow_token);
          if (ec) continue;
          std::sort(entries.begin(), entries.end(),
                    [](const auto& x, const auto& y) { return x.filename < y.filename; });
          for (auto& e : entries) {
            if (!sftp_cli::glob_match(comp, e.filename)) continue;
            next.push_back(match{sftp_cli::path_join(m.path, e.filename),
                                 sftp_cli::path_join(m.shown, e.filename), e.attrs, e.longname,
                                 true});
          }
        }
      }
      cur = std::move(next);
    }
    if (cur.empty()) throw sftp_command_error("File \"" + w.text + "\" not found.");
    co_return cur;
  }

  // The same over the local file system.
  std::vector<std::string> local_glob(const sftp_cli::word& w) {
    if (!w.has_glob) return {w.text};
    namespace stdfs = std::filesystem;
    auto comps = sftp_cli::split_pattern(w.pattern);
    std::vector<std::string> cur;
    std::size_t first = 0;
    if (!w.pattern.empty() && w.pattern[0] == '/') {
      cur.push_back("/");
      first = 1;
    } else {
      cur.push_back("");
    }
    for (std::size_t i = first; i < comps.size(); ++i) {
      const auto& comp = comps[i];
      if (comp.empty()) continue;
      std::vector<std::string> next;
      if (!sftp_cli::pattern_has_glob(comp)) {
        auto lit = sftp_cli::unescape_pattern(comp);
        for (auto& d : cur) next.push_back(sftp_cli::path_join(d, lit));
      } else {
        for (auto& d : cur) {
          std::vector<std::string> names;
          std::error_code ec;
          for (auto it = stdfs::directory_iterator(d.empty() ? "." : d, ec);
               !ec && it != stdfs::directory_iterator(); it.increment(ec))
            names.push_back(it->path().filename().string());
          std::sort(names.begin(), names.end());
          for (auto& n : names)
            if (sftp_cli::glob_match(comp, n)) next.push_back(sftp_cli::path_join(d, n));
        }
      }
      cur = std::move(next);
    }
    if (cur.empty()) throw sftp_command_error("File \"" + w.text + "\" not found.");
    return cur;
  }

  // --- ls ----------------------------------------------------------------------------------
  boost::asio::awaitable<void> ls(const sftp_cli::parsed_line& p) {
    const auto& f = p.flags;
    bool long_view = f.has('l') || f.has('n');
    std::vector<match> items;
    if (!p.args.empty() && p.args[0].has_glob) {
      items = co_await remote_glob(p.args[0]);
      for (auto& m : items)
        if (!m.have_attrs) {
          auto [ec, a] = co_await c_.async_lstat(m.path, nothrow_token);
          check(ec, "Couldn't stat remote file \"" + m.path + "\"");
          m.attrs = a;
          m.have_attrs = true;
        }
      // a single directory matched: list its contents, as sftp does
      if (items.size() == 1 && sftp::is_directory(items[0].attrs)) {
        auto d = items[0];
        items = co_await list_dir(d.path, d.shown, f.has('a'));
      } else if (!long_view) {
        for (auto& m : items)  // sftp globs with GLOB_MARK: directories end in '/'
          if (sftp::is_directory(m.attrs)) m.shown += '/';
      }
    } else {
      std::string given = p.args.empty() ? std::string{} : p.args[0].text;
      auto path = remote(given);
      auto [ec, a] = co_await c_.async_stat(path, nothrow_token);
      check(ec, "Can't ls: \"" + path + "\" not found");
      if (sftp::is_directory(a)) {
        items = co_await list_dir(path, given, f.has('a'));
      } else {
        items.push_back(match{path, given, a, {}, true});
      }
    }
    sort_entries(items, f);
    if (long_view) {
      auto now = std::int64_t(std::time(nullptr));
      for (auto& m : items) {
        if (!m.longname.empty() && !f.has('n') && !f.has('h')) {
          std::printf("%s\n", m.longname.c_str());
          continue;
        }
        auto name = m.shown.empty() ? sftp_cli::base_name(m.path) : m.shown;
        std::string uid = m.attrs.ids ? std::to_string(m.attrs.ids->uid) : "0";
        std::string gid = m.attrs.ids ? std::to_string(m.attrs.ids->gid) : "0";
        sftp::proto::longname_fields lf;
        lf.name = name;
        lf.mode = m.attrs.permissions.value_or(0);
        lf.owner = uid;
        lf.group = gid;
        lf.size = m.attrs.size.value_or(0);
        lf.mtime = m.attrs.times ? m.attrs.times->mtime : 0;
        auto line = sftp::proto::format_longname(lf, now);
        if (f.has('h')) {
          // -h: the size column in K/M/G (the rest as -l shows it)
          auto scaled = sftp_cli::format_scaled(lf.size);
          auto digits = std::to_string(lf.size);
          auto at = line.find(" " + digits + " ");
          if (at != std::string::npos) {
            std::string field(digits.size() + 1 > scaled.size() ? digits.size() + 1 - scaled.size() : 0, ' ');
            line.replace(at, digits.size() + 1, field + scaled);
          }
        }
        std::printf("%s\n", line.c_str());
      }
    } else {
      std::vector<std::string> names;
      for (auto& m : items) names.push_back(m.shown.empty() ? sftp_cli::base_name(m.path) : m.shown);
      if (f.has('1')) {
        for (auto& n : names) std::printf("%s\n", n.c_str());
      } else {
        std::fputs(sftp_cli::format_columns(names, terminal_width()).c_str(), stdout);
      }
    }
  }

  boost::asio::awaitable<std::vector<match>> list_dir(const std::string& path,
                                                      const std::string& shown, bool all) {
    auto [ec, entries] = co_await c_.async_list(path, nothrow_token);
    check(ec, "Couldn't read directory \"" + path + "\"");
    std::vector<match> out;
    for (auto& e : entries) {
      if (!all && !e.filename.empty() && e.filename[0] == '.') continue;
      out.push_back(match{sftp_cli::path_join(path, e.filename),
                          shown.empty() ? e.filename : sftp_cli::path_join(shown, e.filename),
                          e.attrs, e.longname, true});
    }
    co_return out;
  }

  static void sort_entries(std::vector<match>& v, const sftp_cli::flag_set& f) {
    if (f.has('f')) return;
    auto by_name = [](const match& a, const match& b) { return a.shown < b.shown || (a.shown == b.shown && a.path < b.path); };
    if (f.has('S'))
      std::stable_sort(v.begin(), v.end(), [&](const match& a, const match& b) {
        auto x = a.attrs.size.value_or(0), y = b.attrs.size.value_or(0);
        return x != y ? x > y : by_name(a, b);
      });
    else if (f.has('t'))
      std::stable_sort(v.begin(), v.end(), [&](const match& a, const match& b) {
        std::uint32_t x = a.attrs.times ? a.attrs.times->mtime : 0;
        std::uint32_t y = b.attrs.times ? b.attrs.times->mtime : 0;
        return x != y ? x > y : by_name(a, b);
      });
    else
      std::stable_sort(v.begin(), v.end(), by_name);
    if (f.has('r')) std::reverse(v.begin(), v.end());
  }

  static std::size_t terminal_width() {
    winsize ws{};
    if (::isatty(STDOUT_FILENO) && ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
      return ws.ws_col;
    return 80;
  }

  // --- chmod / chown / chgrp -------------------------------------------------------------------
  boost::asio::awaitable<void> change(const sftp_cli::parsed_line& p, int what) {
    const auto& a = p.args;
    std::optional<std::uint32_t> mode;
    std::optional<std::uint64_t> id;
    if (what == 0) {
      mode = sftp_cli::parse_octal_mode(a[0].text);
      if (!mode) throw sftp_command_error("You must supply a numeric mode (octal): \"" + a[0].text + "\"");
    } else {
      id = sftp_cli::parse_unsigned(a[0].text, 0xffffffffu);
      if (!id)
        throw sftp_command_error(std::string{"You must specify a numeric "} +
                                 (what == 1 ? "UID" : "GID") + ": \"" + a[0].text + "\"");
    }
    bool no_follow = p.flags.has('h');
    auto paths = co_await remote_glob(a[1]);
    for (auto& m : paths) {
      sftp::attributes set;
      if (mode) {
        if (!opts_.quiet) std::printf("Changing mode on %s\n", m.path.c_str());
        set.permissions = *mode;
      } else {
        error_code ec;
        sftp::attributes cur;
        if (no_follow) std::tie(ec, cur) = co_await c_.async_lstat(m.path, nothrow_token);
        else std::tie(ec, cur) = co_await c_.async_stat(m.path, nothrow_token);
        check(ec, "Can't get current ownership of remote file \"" + m.path + "\"");
        if (!cur.ids) throw sftp_command_error("Can't get current ownership of remote file \"" + m.path + "\"");
        auto ids = *cur.ids;
        if (what == 1) ids.uid = std::uint32_t(*id);
        else ids.gid = std::uint32_t(*id);
        if (!opts_.quiet)
          std::printf("Changing %s on %s\n", what == 1 ? "owner" : "group", m.path.c_str());
        set.ids = ids;
      }
      error_code ec;
      if (no_follow) std::tie(ec) = co_await c_.async_lsetstat(m.path, set, nothrow_token);
      else std::tie(ec) = co_await c_.async_setstat(m.path, set, nothrow_token);
      check(ec, "Couldn't setstat on \"" + m.path + "\"");
    }
  }

  // --- df --------------------------------------------------------------------------------------
  boost::asio::awaitable<void> df(const sftp_cli::parsed_line& p) {
    auto path = p.args.empty() ? cwd_ : remote(p.args[0].text);
    if (!c_.supports("statvfs@openssh.com"))
      throw sftp_command_error("Server does not support statvfs@openssh.com extension");
    auto [ec, st] = co_await c_.async_statvfs(path, nothrow_token);
    check(ec, "Couldn't statvfs: \"" + path + "\"");
    auto pct = [](std::uint64_t used, std::uint64_t total) -> unsigned long long {
      return total ? (100 * used) / total : 0;
    };
    if (p.flags.has('i')) {
      std::printf("     Inodes        Used       Avail      (root)    %%Capacity\n");
      std::printf("%11llu %11llu %11llu %11llu         %3llu%%\n", (unsigned long long)st.files,
                  (unsigned long long)(st.files - st.ffree), (unsigned long long)st.favail,
                  (unsigned long long)st.ffree, pct(st.files - st.ffree, st.files));
    } else if (p.flags.has('h')) {
      auto total = st.frsize * st.blocks, freeb = st.frsize * st.bfree, avail = st.frsize * st.bavail;
      std::printf("    Size     Used    Avail   (root)    %%Capacity\n");
      std::printf("%7s %7s %7s %7s         %3llu%%\n", sftp_cli::format_scaled(total).c_str(),
                  sftp_cli::format_scaled(total - freeb).c_str(), sftp_cli::format_scaled(avail).c_str(),
                  sftp_cli::format_scaled(freeb).c_str(), pct(st.blocks - st.bfree, st.blocks));
    } else {
      std::printf("        Size         Used        Avail       (root)    %%Capacity\n");
      std::printf("%12llu %12llu %12llu %12llu         %3llu%%\n",
                  (unsigned long long)(st.frsize * st.blocks / 1024),
                  (unsigned long long)(st.frsize * (st.blocks - st.bfree) / 1024),
                  (unsigned long long)(st.frsize * st.bavail / 1024),
                  (unsigned long long)(st.frsize * st.bfree / 1024), pct(st.blocks - st.bfree, st.blocks));
    }
  }

  // --- transfers -------------------------------------------------------------------------------
  sftp::transfer_options transfer_opts(const sftp_cli::parsed_line& p, bool resume, bool download) {
    sftp::transfer_options t;
    t.resume = resume || p.flags.has('a') || opts_.resume;
    t.preserve = p.flags.has('p') || p.flags.has('P') || opts_.preserve;
    t.recursive = p.flags.has('r') || opts_.recursive;
    t.max_in_flight = opts_.requests;
    t.block_size = opts_.block;
    if (progress_) {
      t.on_progress = [this, download](const sftp::transfer_progress& tp) {
        auto name = std::string{download ? tp.remote_path : tp.local_path};
        if (!meter_ || meter_name_ != name) {
          end_progress();
          meter_name_ = name;
          meter_.emplace(name, tp.file_size, 0, progress_meter::clock::now());
          meter_width_ = terminal_width();
        }
        meter_done_ = tp.file_bytes;
        if (auto line = meter_->update(tp.file_bytes, progress_meter::clock::now(), meter_width_ - 1))
          std::fprintf(stdout, "\r%s", line->c_str()), std::fflush(stdout);
      };
    }
    return t;
  }

  void end_progress() {
    if (!meter_) return;
    auto line = meter_->finish(meter_done_, progress_meter::clock::now(), meter_width_ - 1);
    std::fprintf(stdout, "\r%s\n", line.c_str());
    std::fflush(stdout);
    meter_.reset();
  }

  static bool local_is_dir(const std::string& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  }

  boost::asio::awaitable<void> get(const sftp_cli::parsed_line& p, bool resume) {
    auto sources = co_await remote_glob(p.args[0]);
    std::string dest = p.args.size() > 1 ? p.args[1].text : std::string{};
    bool dest_dir = dest.empty() || local_is_dir(dest);
    if (sources.size() > 1 && !dest_dir)
      throw sftp_command_error("Multiple source paths, but destination \"" + dest +
                               "\" is not a directory");
    auto opts = transfer_opts(p, resume, true);
    for (auto& m : sources) {
      std::string local = dest_dir ? sftp_cli::path_join(dest, sftp_cli::base_name(m.path)) : dest;
      if (sources.size() > 1 && !opts.recursive) {
        // a glob skips what is not a regular file, as sftp does
        if (!m.have_attrs) {
          auto [ec, a] = co_await c_.async_stat(m.path, nothrow_token);
          if (!ec) m.attrs = a;
        }
        if (m.attrs.permissions && !sftp::is_regular(m.attrs)) {
          if (!opts_.quiet) std::printf("Skipping non-regular file %s\n", m.path.c_str());
          continue;
        }
      }
      if (!opts_.quiet) {
        std::printf("Fetching %s to %s\n", m.path.c_str(), local.c_str());
        std::fflush(stdout);
      }
      auto [ec, n] = co_await c_.async_download(m.path, local, opts, nothrow_token);
      (void)n;
      if (ec == boost::system::errc::is_a_directory)
        throw sftp_command_error("Cannot download non-regular file: " + m.path + " (use -r)");
      if (ec == boost::system::errc::file_too_large)
        throw sftp_command_error("Unable to resume download of \"" + m.path +
                                 "\": local file is larger than remote");
      if (ec && ec.category() != sftp::sftp_category())
        throw sftp_command_error("Couldn't write to \"" + local + "\": " + describe(ec));
      check(ec, "Couldn't download \"" + m.path + "\"");
      end_progress();
    }
  }

  boost::asio::awaitable<void> put(const sftp_cli::parsed_line& p, bool resume) {
    auto sources = local_glob(p.args[0]);
    std::string dest = p.args.size() > 1 ? remote(p.args[1].text) : cwd_;
    bool dest_dir = p.args.size() < 2;
    if (!dest_dir) {
      auto [ec, a] = co_await c_.async_stat(dest, nothrow_token);
      dest_dir = !ec && sftp::is_directory(a);
    }
    if (sources.size() > 1 && !dest_dir)
      throw sftp_command_error("Multiple paths match, but destination \"" + dest +
                               "\" is not a directory");
    auto opts = transfer_opts(p, resume, false);
    for (auto& l : sources) {
      std::string target = dest_dir ? sftp_cli::path_join(dest, sftp_cli::base_name(l)) : dest;
      if (sources.size() > 1 && !opts.recursive) {
        struct stat st {};
        if (::stat(l.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
          if (!opts_.quiet) std::printf("Skipping non-regular file %s\n", l.c_str());
          continue;
        }
      }
      if (!opts_.quiet) {
        std::printf("Uploading %s to %s\n", l.c_str(), target.c_str());
        std::fflush(stdout);
      }
      auto [ec, n] = co_await c_.async_upload(l, target, opts, nothrow_token);
      (void)n;
      if (ec == boost::system::errc::is_a_directory)
        throw sftp_command_error("Cannot upload non-regular file: " + l + " (use -r)");
      if (ec == boost::system::errc::file_too_large)
        throw sftp_command_error("Unable to resume upload of \"" + l +
                                 "\": destination file is larger than source");
      if (ec && ec.category() != sftp::sftp_category())
        throw sftp_command_error("Couldn't read from \"" + l + "\": " + describe(ec));
      check(ec, "Couldn't upload \"" + l + "\" to \"" + target + "\"");
      end_progress();
    }
  }

  client_type& c_;
  sftp_shell_options opts_;
  std::string cwd_;
  std::string home_;
  bool quit_ = false;
  bool progress_ = false;
  std::optional<progress_meter> meter_;
  std::string meter_name_;
  std::uint64_t meter_done_ = 0;
  std::size_t meter_width_ = 80;
};

}  // namespace ferry::cli
