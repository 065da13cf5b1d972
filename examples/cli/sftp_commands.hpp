// The command language of ferry-sftp, as OpenSSH's sftp(1) reads it: sans-I/O (no Asio, no
// terminal, no file system), so every rule is unit tested (tests/unit/sftp_cli/).
//
//   auto p = sftp_cli::parse_line("-get -p 'my file' \"dir/*.txt\" local/");
//   // p.cmd->kind == command_kind::get, p.ignore_errors, p.flags.has('p'), p.args[0].text
//
// Words are split at unquoted blanks; '...' and "..." quote, a backslash escapes the next
// character (inside quotes only a quote or a backslash). A word remembers whether it holds an
// unquoted glob character (* ? [) and keeps a pattern form in which quoted or escaped glob
// characters are backslash-escaped, so `get "a*b"` names the file a*b while `get a*b` globs.
// A leading '-' on a command means "keep going if it fails" (batch mode), a leading '!' runs the
// rest in a local shell.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::cli::sftp_cli {

// --- words -------------------------------------------------------------------------------------

struct word {
  std::string text;     // with quotes and escapes removed: the literal name
  std::string pattern;  // for globbing: quoted or escaped * ? [ ] \ are preceded by '\'
  bool has_glob = false;
  bool operator==(const word&) const = default;
};

inline bool is_glob_char(char c) noexcept { return c == '*' || c == '?' || c == '['; }

struct tokenize_result {
  std::vector<word> words;
  std::string error;  // empty when the line is well formed
};

// Splits a command line (sftp.c makeargv's rules). Errors: an unterminated quote, a trailing
// backslash.
inline tokenize_result tokenize(std::string_view line) {
  tokenize_result r;
  std::size_t i = 0, n = line.size();
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (true) {
    while (i < n && blank(line[i])) ++i;
    if (i >= n) break;
    word w;
    char quote = 0;
    auto literal = [&](char c) {
      w.text += c;
      if (is_glob_char(c) || c == ']' || c == '\\') w.pattern += '\\';
      w.pattern += c;
    };
    for (; i < n; ++i) {
      char c = line[i];
      if (quote) {
        if (c == quote) {
          quote = 0;
        } else if (c == '\\' && i + 1 < n && (line[i + 1] == quote || line[i + 1] == '\\')) {
          literal(line[++i]);
        } else {
          literal(c);
        }
        continue;
      }
      if (blank(c)) break;
      if (c == '\'' || c == '"') {
        quote = c;
      } else if (c == '\\') {
        if (i + 1 >= n) {
          r.error = "trailing backslash";
          return r;
        }
        literal(line[++i]);
      } else {
        w.text += c;
        w.pattern += c;
        if (is_glob_char(c)) w.has_glob = true;
      }
    }
    if (quote) {
      r.error = "unterminated quote";
      return r;
    }
    r.words.push_back(std::move(w));
  }
  return r;
}

// --- glob matching -----------------------------------------------------------------------------

// fnmatch(3) with FNM_PERIOD semantics on one path component: * ? [set] [!set] [a-z], a
// backslash makes the next character literal, and a leading '.' must be matched literally.
inline bool glob_match(std::string_view pattern, std::string_view name, bool leading = true) {
  std::size_t p = 0, s = 0;
  std::size_t star_p = std::string_view::npos, star_s = 0;
  while (s < name.size()) {
    bool at_start = leading && s == 0;
    if (p < pattern.size()) {
      char pc = pattern[p];
      if (pc == '*' && !(at_start && name[s] == '.')) {
        star_p = ++p;
        star_s = s;
        continue;
      }
      if (pc == '?' && !(at_start && name[s] == '.')) {
        ++p;
        ++s;
        continue;
      }
      if (pc == '[' && !(at_start && name[s] == '.')) {
        std::size_t q = p + 1;
        bool negate = q < pattern.size() && (pattern[q] == '!' || pattern[q] == '^');
        if (negate) ++q;
        bool matched = false, closed = false;
        std::size_t first = q;
        while (q < pattern.size()) {
          char lo = pattern[q];
          if (lo == ']' && q > first) {
            closed = true;
            break;
          }
          if (lo == '\\' && q + 1 < pattern.size()) lo = pattern[++q];
          char hi = lo;
          if (q + 2 < pattern.size() && pattern[q + 1] == '-' && pattern[q + 2] != ']') {
            hi = pattern[q + 2];
            if (hi == '\\' && q + 3 < pattern.size()) hi = pattern[++q + 2];
            q += 2;
          }
          if (static_cast<unsigned char>(name[s]) >= static_cast<unsigned char>(lo) &&
              static_cast<unsigned char>(name[s]) <= static_cast<unsigned char>(hi))
            matched = true;
          ++q;
        }
        if (closed) {
          if (matched != negate) {
            p = q + 1;
            ++s;
            continue;
          }
        } else if (name[s] == '[') {  // no closing ']': a literal '['
          ++p;
          ++s;
          continue;
        }
      } else {
        char lit = pc;
        std::size_t adv = 1;
        if (pc == '\\' && p + 1 < pattern.size()) {
          lit = pattern[p + 1];
          adv = 2;
        }
        if (lit == name[s] && !(pc == '*' || pc == '?' || pc == '[')) {
          p += adv;
          ++s;
          continue;
        }
      }
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p;
    s = ++star_s;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

// The literal text of a pattern (backslash escapes removed).
inline std::string unescape_pattern(std::string_view pattern) {
  std::string out;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '\\' && i + 1 < pattern.size()) ++i;
    out += pattern[i];
  }
  return out;
}

// Whether a pattern has an unescaped glob character.
inline bool pattern_has_glob(std::string_view pattern) {
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '\\') {
      ++i;
      continue;
    }
    if (is_glob_char(pattern[i])) return true;
  }
  return false;
}

// Splits a pattern into its '/'-separated components (a leading '/' gives an empty first one).
inline std::vector<std::string> split_pattern(std::string_view pattern) {
  std::vector<std::string> out;
  std::string cur;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '\\' && i + 1 < pattern.size()) {
      cur += pattern[i];
      cur += pattern[++i];
    } else if (pattern[i] == '/') {
      out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += pattern[i];
    }
  }
  out.push_back(std::move(cur));
  return out;
}

// --- paths -------------------------------------------------------------------------------------

// path read against cwd (sftp.c make_absolute): absolute paths stay, others are cwd + "/" + path.
inline std::string make_absolute(std::string_view cwd, std::string_view path) {
  if (!path.empty() && path[0] == '/') return std::string{path};
  if (path.empty() || path == ".") return std::string{cwd};
  std::string out{cwd};
  if (out.empty() || out.back() != '/') out += '/';
  out += path;
  return out;
}

inline std::string path_join(std::string_view dir, std::string_view name) {
  if (dir.empty()) return std::string{name};
  std::string out{dir};
  if (out.back() != '/') out += '/';
  out += name;
  return out;
}

// The last component ("a/b/" -> "b", "/" -> "/").
inline std::string base_name(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  auto slash = path.rfind('/');
  if (slash == std::string_view::npos || path.size() == 1) return std::string{path};
  return std::string{path.substr(slash + 1)};
}

// --- the command line target: [user@]host[:path] ----------------------------------------------

struct target {
  std::string user;  // empty: not given
  std::string host;
  std::optional<std::string> path;
  bool operator==(const target&) const = default;
};

// "user@host:path", "host", "[::1]:dir", "user@[fe80::1]". The user is what precedes the last '@'
// before the host; a path follows the first ':' after the host (an IPv6 literal is bracketed).
inline std::optional<target> parse_target(std::string_view s) {
  target t;
  auto at = s.rfind('@', s.find('[') == std::string_view::npos ? s.find(':') : s.find('['));
  if (at != std::string_view::npos) {
    t.user = std::string{s.substr(0, at)};
    if (t.user.empty()) return std::nullopt;
    s.remove_prefix(at + 1);
  }
  if (!s.empty() && s[0] == '[') {
    auto close = s.find(']');
    if (close == std::string_view::npos || close == 1) return std::nullopt;
    t.host = std::string{s.substr(1, close - 1)};
    s.remove_prefix(close + 1);
    if (!s.empty()) {
      if (s[0] != ':') return std::nullopt;
      t.path = std::string{s.substr(1)};
    }
  } else {
    auto colon = s.find(':');
    t.host = std::string{s.substr(0, colon)};
    if (colon != std::string_view::npos) t.path = std::string{s.substr(colon + 1)};
  }
  if (t.host.empty()) return std::nullopt;
  return t;
}

// --- numbers -----------------------------------------------------------------------------------

inline std::optional<std::uint32_t> parse_octal_mode(std::string_view s) {
  if (s.empty() || s.size() > 5) return std::nullopt;
  std::uint32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '7') return std::nullopt;
    v = v * 8 + std::uint32_t(c - '0');
  }
  if (v > 07777) return std::nullopt;
  return v;
}

inline std::optional<std::uint64_t> parse_unsigned(std::string_view s, std::uint64_t max) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    auto d = std::uint64_t(c - '0');
    if (v > (max - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

// --- commands ----------------------------------------------------------------------------------

enum class command_kind {
  bye, cd, chgrp, chmod, chown, df, get, help, lcd, lls, lmkdir, ln, lpwd, ls, lumask, mkdir,
  progress, put, pwd, reget, reput, rename, rm, rmdir, symlink, version, shell,
};

struct command_spec {
  std::string_view name;
  command_kind kind;
  std::string_view flags;  // the single-letter options it takes
  std::size_t min_args;
  std::size_t max_args;
  std::string_view usage;
};

// The table sftp(1) documents (its "help" text), in the order help prints it.
inline constexpr command_spec command_table[] = {
    {"bye", command_kind::bye, "", 0, 0, "bye                                Quit sftp"},
    {"cd", command_kind::cd, "", 0, 1, "cd [path]                          Change remote directory to 'path'"},
    {"chgrp", command_kind::chgrp, "h", 2, 2, "chgrp [-h] grp path                Change group of file 'path' to 'grp'"},
    {"chmod", command_kind::chmod, "h", 2, 2, "chmod [-h] mode path               Change permissions of file 'path' to 'mode'"},
    {"chown", command_kind::chown, "h", 2, 2, "chown [-h] own path                Change owner of file 'path' to 'own'"},
    {"df", command_kind::df, "hi", 0, 1, "df [-hi] [path]                    Display statistics for current directory or\n"
                                          "                                   filesystem containing 'path'"},
    {"exit", command_kind::bye, "", 0, 0, "exit                               Quit sftp"},
    {"get", command_kind::get, "afpPr", 1, 2, "get [-afpPr] remote [local]        Download file"},
    {"help", command_kind::help, "", 0, 0, "help                               Display this help text"},
    {"lcd", command_kind::lcd, "", 0, 1, "lcd path                           Change local directory to 'path'"},
    {"lls", command_kind::lls, "1aflnrSt", 0, 64, "lls [ls-options [path]]            Display local directory listing"},
    {"lmkdir", command_kind::lmkdir, "", 1, 1, "lmkdir path                        Create local directory"},
    {"ln", command_kind::ln, "s", 2, 2, "ln [-s] oldpath newpath            Link remote file (-s for symlink)"},
    {"lpwd", command_kind::lpwd, "", 0, 0, "lpwd                               Print local working directory"},
    {"ls", command_kind::ls, "1afhlnrSt", 0, 1, "ls [-1afhlnrSt] [path]             Display remote directory listing"},
    {"lumask", command_kind::lumask, "", 1, 1, "lumask umask                       Set local umask to 'umask'"},
    {"mkdir", command_kind::mkdir, "", 1, 1, "mkdir path                         Create remote directory"},
    {"progress", command_kind::progress, "", 0, 0, "progress                           Toggle display of progress meter"},
    {"put", command_kind::put, "afpPr", 1, 2, "put [-afpPr] local [remote]        Upload file"},
    {"pwd", command_kind::pwd, "", 0, 0, "pwd                                Display remote working directory"},
    {"quit", command_kind::bye, "", 0, 0, "quit                               Quit sftp"},
    {"reget", command_kind::reget, "fpPr", 1, 2, "reget [-fpPr] remote [local]       Resume download file"},
    {"rename", command_kind::rename, "l", 2, 2, "rename oldpath newpath             Rename remote file"},
    {"reput", command_kind::reput, "fpPr", 1, 2, "reput [-fpPr] local [remote]       Resume upload file"},
    {"rm", command_kind::rm, "f", 1, 1, "rm path                            Delete remote file"},
    {"rmdir", command_kind::rmdir, "", 1, 1, "rmdir path                         Remove remote directory"},
    {"symlink", command_kind::symlink, "", 2, 2, "symlink oldpath newpath            Symlink remote file"},
    {"version", command_kind::version, "", 0, 0, "version                            Show SFTP version"},
    {"!", command_kind::shell, "", 0, 0, "!command                           Execute 'command' in local shell\n"
                                         "!                                  Escape to local shell"},
    {"?", command_kind::help, "", 0, 0, "?                                  Synonym for help"},
};

inline const command_spec* find_command(std::string_view name) {
  for (const auto& c : command_table)
    if (c.name == name) return &c;
  return nullptr;
}

// The help text: one usage line per command (aliases and "?" included), as sftp prints it.
inline std::string help_text() {
  std::string out = "Available commands:\n";
  for (const auto& c : command_table) {
    out += c.usage;
    out += '\n';
  }
  return out;
}

struct flag_set {
  std::string letters;
  bool has(char c) const noexcept { return letters.find(c) != std::string::npos; }
};

struct parsed_line {
  bool empty = false;          // blank line or a comment
  bool ignore_errors = false;  // "-cmd": a failure does not stop a batch
  const command_spec* cmd = nullptr;
  flag_set flags;
  std::vector<word> args;
  std::string shell_command;  // for "!command"
  std::string error;          // empty when parsed; else the one line to show
};

// Parses one command line: the optional '-' prefix, the command, its options (letters after a
// '-', several may be bundled: "ls -la"; "--" ends them), the argument count.
inline parsed_line parse_line(std::string_view line) {
  parsed_line p;
  std::size_t i = 0;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  line.remove_prefix(i);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r' || line.back() == ' ' ||
                           line.back() == '\t'))
    line.remove_suffix(1);
  if (line.empty() || line[0] == '#') {
    p.empty = true;
    return p;
  }
  if (line[0] == '-') {
    p.ignore_errors = true;
    line.remove_prefix(1);
  }
  if (!line.empty() && line[0] == '!') {
    p.cmd = find_command("!");
    p.shell_command = std::string{line.substr(1)};
    return p;
  }
  auto t = tokenize(line);
  if (!t.error.empty()) {
    p.error = t.error;
    return p;
  }
  if (t.words.empty()) {
    p.empty = true;
    return p;
  }
  const auto& name = t.words[0].text;
  p.cmd = find_command(name);
  if (!p.cmd) {
    p.error = "Invalid command.";
    return p;
  }
  std::size_t w = 1;
  for (; w < t.words.size(); ++w) {
    const auto& a = t.words[w].text;
    if (a.size() < 2 || a[0] != '-') break;
    if (a == "--") {
      ++w;
      break;
    }
    // chmod's mode, chown's id and the like never start with '-'; "-1" is ls's option.
    for (std::size_t k = 1; k < a.size(); ++k) {
      if (p.cmd->flags.find(a[k]) == std::string_view::npos) {
        p.error = std::string{name} + ": Invalid flag -" + a[k];
        return p;
      }
      if (!p.flags.has(a[k])) p.flags.letters += a[k];
    }
  }
  p.args.assign(t.words.begin() + std::ptrdiff_t(w), t.words.end());
  if (p.args.size() < p.cmd->min_args) {
    p.error = std::string{name} + ": missing argument" + (p.cmd->min_args - p.args.size() > 1 ? "s" : "");
    return p;
  }
  if (p.args.size() > p.cmd->max_args) {
    p.error = std::string{name} + ": too many arguments";
    return p;
  }
  return p;
}

// --- ls ordering -------------------------------------------------------------------------------

// Columns of a short listing (sftp.c ls_dir): each column is the longest name + 2 wide; as many
// columns as fit in width; names run across the rows.
inline std::string format_columns(const std::vector<std::string>& names, std::size_t width) {
  std::size_t longest = 0;
  for (const auto& n : names) longest = std::max(longest, n.size());
  std::size_t colspace = longest + 2;
  std::size_t columns = std::max<std::size_t>(1, width / std::max<std::size_t>(colspace, 1));
  std::string out;
  std::size_t c = 0;
  for (const auto& n : names) {
    out += n;
    if (++c >= columns) {
      out += '\n';
      c = 0;
    } else {
      out.append(colspace - n.size(), ' ');
    }
  }
  if (c != 0) {
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out += '\n';
  }
  return out;
}

// df -h sizes (fmt_scaled(3) style): "1.5G", "512K", "100M", "0B".
inline std::string format_scaled(std::uint64_t bytes) {
  static constexpr const char* units[] = {"B", "K", "M", "G", "T", "P", "E"};
  double v = double(bytes);
  std::size_t u = 0;
  while (v >= 1024 && u + 1 < std::size(units)) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0 || v >= 10)
    std::snprintf(buf, sizeof buf, "%.0f%s", v, units[u]);
  else
    std::snprintf(buf, sizeof buf, "%.1f%s", v, units[u]);
  return buf;
}

}  // namespace ferry::cli::sftp_cli
