// OpenSSH client configuration files (ssh_config(5)): parsed without I/O, then resolved for one
// host.
//
//   ssh::proto::ssh_config_file f;
//   std::size_t bad_line = 0;
//   if (auto ec = ssh::proto::parse_ssh_config(text, f, &bad_line)) ...;   // strict, line numbers
//   ssh::proto::ssh_config_options o;
//   ssh::proto::resolve_ssh_config(f, "web1", o, loader);   // loader reads Include files
//   o.value("hostname"), o.all("identityfile")
//
// Syntax (ssh_config(5), readconf.c): one "keyword arguments" per line; the keyword is
// case-insensitive and separated from its arguments by whitespace or one '=' (with optional
// whitespace around it); arguments are split on whitespace, double quotes group one argument
// ("a b"), an unquoted argument starting with '#' ends the line, and '#' lines and blank lines are
// comments. A "Host pattern..." line starts a section that applies when the host name given on the
// command line matches a pattern ('*', '?', case-insensitive) and no "!"-negated pattern; lines
// before the first Host apply to every host. "Match all" / "Match host PATTERNS" are accepted as
// sections too; other Match criteria are refused (errc::unsupported) rather than guessed at.
//
// Resolution: for each keyword the first value obtained wins, in file order, except the
// cumulative keywords (IdentityFile, CertificateFile, LocalForward, RemoteForward,
// DynamicForward, SendEnv, SetEnv), whose values accumulate. "Include FILE..." in an active
// section asks the loader for the files (glob and "~" left to it), which are resolved in place,
// at most limits::ssh_config_max_include_depth deep.
#pragma once

#include <ferry/core/error.hpp>
#include <ferry/core/limits.hpp>

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::ssh::proto {

struct ssh_config_entry {
  std::string keyword;             // lower case
  std::vector<std::string> args;   // quotes removed
  std::size_t line = 0;            // 1-based
};

struct ssh_config_section {
  // Host patterns ("!" kept); empty with all = true for the top of the file and "Match all".
  std::vector<std::string> patterns;
  bool all = false;
  std::vector<ssh_config_entry> entries;
  std::size_t line = 0;
};

struct ssh_config_file {
  std::vector<ssh_config_section> sections;  // the first one is the implicit top section
};

// Splits one line into words as readconf.c does (quotes, '=' after the keyword, '#'). A blank or
// comment line gives an empty vector. Errors: bad_value (unterminated quote, empty keyword),
// length_limit (line or argument count above its limit).
error_code split_ssh_config_line(std::string_view line, std::vector<std::string>& words);

// Parses a whole file. On error, *error_line (when given) is the 1-based line at fault.
error_code parse_ssh_config(std::string_view text, ssh_config_file& out,
                            std::size_t* error_line = nullptr);

// One glob ('*', '?'), case-insensitive as OpenSSH's match_pattern on host names.
bool ssh_config_glob(std::string_view pattern, std::string_view text);

// A pattern list as a Host line holds it: some positive pattern matches and no negated one does.
bool ssh_config_host_matches(const std::vector<std::string>& patterns, std::string_view host);

// Whether a keyword's values accumulate instead of the first one winning.
bool ssh_config_cumulative(std::string_view keyword);

// The options that apply to one host.
class ssh_config_options {
 public:
  // Records an entry unless its keyword already has a value (cumulative keywords append).
  void apply(const ssh_config_entry& e);
  // Sets a value as given on the command line (-o), before any file is read: it wins.
  void set(std::string keyword, std::vector<std::string> args);

  bool has(std::string_view keyword) const;
  // The first argument of the keyword's (first) value.
  std::optional<std::string> value(std::string_view keyword) const;
  // Every argument of the first value.
  const std::vector<std::string>* args(std::string_view keyword) const;
  // Cumulative keywords: every value's arguments in order.
  std::vector<std::string> all(std::string_view keyword) const;
  const std::map<std::string, std::vector<std::vector<std::string>>, std::less<>>& values() const {
    return values_;
  }

 private:
  std::map<std::string, std::vector<std::vector<std::string>>, std::less<>> values_;
};

// Reads the files an Include argument names (after "~" and glob expansion, the loader's job),
// parsed; an argument that names no file gives success with no files, as ssh does.
using ssh_config_loader =
    std::function<error_code(std::string_view argument, std::vector<ssh_config_file>& files)>;

// Applies the sections of f that match host to out. Include without a loader is ignored.
error_code resolve_ssh_config(const ssh_config_file& f, std::string_view host,
                              ssh_config_options& out, const ssh_config_loader& loader = {},
                              unsigned depth = 0);

}  // namespace ferry::ssh::proto
