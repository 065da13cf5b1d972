// The exec command line of an SCP transfer: what a client asks the remote side to run, and what a
// server accepts in an SSH "exec" request (RFC 4254 §6.5). OpenSSH's scp (scp.c toremote/tolocal)
// sends `scp [-v] [-r] [-p] [-d] -t|-f [--] PATH...` and sshd hands it to the user's shell, so the
// paths arrive in shell syntax: ferry's client single-quotes them, OpenSSH's sends them as typed
// (the user quotes them for the remote shell, and may use wildcards or ~).
//
// A ferry server runs no shell. split_words() reads the line as a POSIX shell would split it into
// words (quotes and backslashes, sh(1) "Quoting"), and refuses every construct a shell would act on
// instead of passing through: ; & | < > ( ) $ ` unquoted, comments and newlines. Unquoted * ? [
// are kept as a pattern for the server to match in one directory (as the shell's globbing would),
// and a leading unquoted ~ or ~/ means the home directory. quote() is the inverse for a client: one
// word that any POSIX shell reads back byte for byte (CVE-2020-15778 is a remote shell reading a
// file name as commands).
#pragma once

#include <ferry/core/limits.hpp>
#include <ferry/scp/proto/error.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace ferry::scp::proto {

struct shell_word {
  std::string text;     // the word as the shell would pass it, quotes removed
  std::string pattern;  // fnmatch(3) pattern: text with the quoted * ? [ \ escaped by a backslash
  bool glob = false;    // an unquoted * ? or [ appeared: the shell would expand the pattern
  bool home = false;    // an unquoted leading ~ (alone or before '/'): text starts at the home
};

namespace detail {

inline bool is_blank(char c) noexcept { return c == ' ' || c == '\t'; }

// Characters a shell acts on when unquoted (sh(1) "Shell Grammar", "Parameter Expansion").
inline bool is_operator(char c) noexcept {
  switch (c) {
    case ';': case '&': case '|': case '<': case '>': case '(': case ')': case '$': case '`':
    case '\n': case '\r': case '\0':
      return true;
    default: return false;
  }
}

inline bool is_glob(char c) noexcept { return c == '*' || c == '?' || c == '['; }

}  // namespace detail

// Splits an exec command line into words as sh would, refusing what sh would interpret.
inline error_code split_words(std::string_view line, std::vector<shell_word>& out) {
  out.clear();
  if (line.size() > limits::scp_max_command) return make_error_code(errc::bad_command);
  auto bad = [] { return make_error_code(errc::bad_command); };
  // No command line holds a NUL (exec would end it there), quoted or not.
  if (line.find('\0') != std::string_view::npos) return bad();
  std::size_t i = 0;
  while (true) {
    while (i < line.size() && detail::is_blank(line[i])) ++i;
    if (i == line.size()) break;
    if (line[i] == '#') return bad();  // a comment: the rest would be ignored by sh
    if (out.size() > limits::scp_max_paths + 8) return bad();
    shell_word w;
    auto literal = [&w](char c) {  // a quoted (or escaped) character
      w.text += c;
      if (detail::is_glob(c) || c == '\\') w.pattern += '\\';
      w.pattern += c;
    };
    if (line[i] == '~' && (i + 1 == line.size() || line[i + 1] == '/' ||
                           detail::is_blank(line[i + 1]))) {
      w.home = true;
      ++i;
      if (i < line.size() && line[i] == '/') ++i;
    }
    bool any = w.home;
    while (i < line.size() && !detail::is_blank(line[i])) {
      char c = line[i];
      any = true;
      if (c == '\'') {
        auto end = line.find('\'', i + 1);
        if (end == std::string_view::npos) return bad();
        for (auto k = i + 1; k < end; ++k) literal(line[k]);
        i = end + 1;
      } else if (c == '"') {
        ++i;
        while (true) {
          if (i == line.size()) return bad();
          char d = line[i];
          if (d == '"') {
            ++i;
            break;
          }
          if (d == '$' || d == '`') return bad();  // expansions inside double quotes
          if (d == '\\' && i + 1 < line.size()) {
            char e = line[i + 1];
            if (e == '$' || e == '`' || e == '"' || e == '\\') {
              literal(e);
              i += 2;
              continue;
            }
            if (e == '\n') {  // line continuation
              i += 2;
              continue;
            }
          }
          literal(d);
          ++i;
        }
      } else if (c == '\\') {
        if (i + 1 == line.size()) return bad();
        if (line[i + 1] != '\n') literal(line[i + 1]);
        i += 2;
      } else if (detail::is_operator(c)) {
        return bad();
      } else {
        if (detail::is_glob(c)) w.glob = true;
        w.text += c;
        w.pattern += c;
        ++i;
      }
    }
    if (any) out.push_back(std::move(w));
  }
  return {};
}

// One word that a POSIX shell reads back as exactly `s`: single quotes around it, each ' written as
// '\''. Refuses NUL (no shell word can hold it).
inline error_code quote(std::string_view s, std::string& out) {
  if (s.find('\0') != std::string_view::npos) return make_error_code(errc::bad_name);
  out += '\'';
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  out += '\'';
  return {};
}

enum class direction {
  to_remote,    // upload: the remote side runs `scp -t TARGET` (the sink)
  from_remote,  // download: the remote side runs `scp -f SOURCE...` (the source)
};

struct command {
  direction dir = direction::to_remote;
  bool recursive = false;                   // -r
  bool preserve = false;                    // -p
  bool target_should_be_directory = false;  // -d
  bool verbose = false;                     // -v (accepted; a server logs through its own hook)
  std::vector<shell_word> paths;            // -t: exactly one; -f: at least one
};

// Parses `scp [-vrpdq] (-t|-f) [--] PATH...` (option letters may be grouped, as getopt allows).
// The program may be named by a path ending in "/scp". A sink takes one target (scp.c sink():
// "ambiguous target" otherwise).
inline error_code parse_command(std::string_view line, command& out) {
  out = command{};
  std::vector<shell_word> words;
  if (auto ec = split_words(line, words)) return ec;
  auto bad = [] { return make_error_code(errc::bad_command); };
  if (words.empty() || words[0].glob || words[0].home) return bad();
  std::string_view prog = words[0].text;
  if (prog != "scp" && !(prog.size() > 4 && prog.substr(prog.size() - 4) == "/scp")) return bad();
  bool to = false, from = false;
  std::size_t i = 1;
  for (; i < words.size(); ++i) {
    const auto& w = words[i];
    if (w.home || w.text.size() < 2 || w.text[0] != '-') break;
    if (w.text == "--") {
      ++i;
      break;
    }
    for (char c : std::string_view{w.text}.substr(1)) {
      switch (c) {
        case 't': to = true; break;
        case 'f': from = true; break;
        case 'r': out.recursive = true; break;
        case 'p': out.preserve = true; break;
        case 'd': out.target_should_be_directory = true; break;
        case 'v': out.verbose = true; break;
        case 'q': break;  // quiet: the server prints nothing anyway
        default: return bad();
      }
    }
  }
  if (to == from) return bad();
  out.dir = to ? direction::to_remote : direction::from_remote;
  out.paths.assign(words.begin() + static_cast<std::ptrdiff_t>(i), words.end());
  if (out.paths.empty() || out.paths.size() > limits::scp_max_paths) return bad();
  if (to && out.paths.size() != 1) return bad();
  return {};
}

// The command line a client sends to run the remote side: `scp [-r] [-p] [-d] -t|-f -- 'PATH'...`.
// Paths are quoted for the remote shell; a leading "~/" (or a path "~") is left unquoted so the
// shell expands it to the home directory, and an empty path means the home directory (".").
inline error_code format_command(direction dir, bool recursive, bool preserve,
                                 bool target_should_be_directory,
                                 const std::vector<std::string>& paths, std::string& out) {
  out = "scp";
  if (recursive) out += " -r";
  if (preserve) out += " -p";
  if (target_should_be_directory) out += " -d";
  out += dir == direction::to_remote ? " -t" : " -f";
  out += " --";
  if (paths.empty() || (dir == direction::to_remote && paths.size() != 1))
    return make_error_code(errc::bad_command);
  for (const auto& p : paths) {
    out += ' ';
    std::string_view rest = p;
    if (rest.empty()) rest = ".";
    if (rest == "~") {
      out += '~';
      continue;
    }
    if (rest.substr(0, 2) == "~/") {
      out += "~/";
      rest.remove_prefix(2);
      if (rest.empty()) continue;
    }
    if (auto ec = quote(rest, out)) return ec;
  }
  if (out.size() > limits::scp_max_command) return make_error_code(errc::bad_command);
  return {};
}

}  // namespace ferry::scp::proto
