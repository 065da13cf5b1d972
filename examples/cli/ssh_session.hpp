// The part the SSH client programs (ferry-ssh, ferry-scp, ferry-sftp) share: OpenSSH's command
// line options and ~/.ssh/config turned into ssh::client_options, and a connection through any
// ProxyJump hops.
//
//   cli::ssh_options o;                         // what -F, -i, -p/-P, -o, -J, -q, -v said
//   for (...) {
//     int used = cli::parse_common_option(o, argv[i], i + 1 < argc ? argv[i + 1] : nullptr, 'p');
//     if (used == 0) ... the program's own option or an operand ...;  else i += used - 1;
//   }                                           // throws cli::failure on a bad option
//   auto dest = cli::parse_destination("alice@web1");   // or cli::parse_remote_path("web1:dir")
//   cli::ssh_session s{ioc.get_executor(), "ferry-sftp"};
//   co_await s.connect(o, dest);                // config, known_hosts, agent, keys, prompts, jumps
//   ssh::channel ch = co_await s.open_subsystem("sftp");   // or open_exec(cmd), open_session()
//   co_await s.disconnect();
//
// Everything fails with cli::failure carrying the one line the user sees (without the program
// name; cli::report prints "program: line"); failure::connection tells a connection or
// authentication failure (ssh exits 255 for those) from others.
//
// Settings (ssh_config(5) names; -o, then the config file, first value wins): Host, HostName,
// Port, User, IdentityFile, IdentitiesOnly, ProxyJump, Ciphers, MACs, KexAlgorithms,
// HostKeyAlgorithms (lists with OpenSSH's "+" append, "-" remove, "^" prepend), Compression,
// StrictHostKeyChecking (yes, accept-new, no/off, ask), UserKnownHostsFile,
// GlobalKnownHostsFile, BatchMode, ConnectTimeout, ServerAliveInterval, ServerAliveCountMax,
// RekeyLimit, PreferredAuthentications, PubkeyAuthentication, PasswordAuthentication,
// KbdInteractiveAuthentication, IdentityAgent, LogLevel. Other keywords in a config file are
// ignored; on the command line they are an error.
//
// Passwords and keyboard-interactive answers come from FERRY_PASSWORD (scripts), else SSH_ASKPASS
// (as ssh: with SSH_ASKPASS_REQUIRE=force or prefer, or when there is no TTY and DISPLAY is set;
// never with SSH_ASKPASS_REQUIRE=never), else /dev/tty without echo. BatchMode=yes asks nobody.
#pragma once

#include <ferry/auth/known_hosts.hpp>
#include <ferry/core/text.hpp>
#include <ferry/crypto/hash.hpp>
#include <ferry/ssh/client.hpp>
#include <ferry/ssh/keys/private_key.hpp>
#include <ferry/ssh/proto/ssh_config.hpp>
#include <ferry/ssh/proto/transport_machine.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/system/system_error.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fcntl.h>
#include <pwd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace ferry::cli {

namespace asio = boost::asio;

// The one line the user sees. connection: the connection or authentication failed (ssh: 255).
struct failure : std::runtime_error {
  explicit failure(const std::string& what, bool connection_failed = false)
      : std::runtime_error(what), connection(connection_failed) {}
  bool connection;
};

// Prints "program: line" on stderr.
inline void report(std::string_view program, std::string_view line) {
  std::fprintf(stderr, "%.*s: %.*s\n", int(program.size()), program.data(), int(line.size()),
               line.data());
}

// Reports what ended a program's coroutine with an exception as its one error line.
inline void report_failure(std::string_view program, std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const failure& f) {
    report(program, f.what());
  } catch (const boost::system::system_error& se) {
    report(program, se.code().message());
  } catch (const std::exception& x) {
    report(program, x.what());
  }
}

// What the common options said.
struct ssh_options {
  std::string config_file;                  // -F FILE ("" : ~/.ssh/config; "none", /dev/null: none)
  std::optional<std::uint16_t> port;        // -p (ssh, sftp -P, scp -P)
  std::vector<std::string> identity_files;  // -i, in order
  std::vector<std::pair<std::string, std::vector<std::string>>> settings;  // -o Keyword=value
  std::string jump;                         // -J
  std::string login;                        // -l
  bool quiet = false;                       // -q
  int verbose = 0;                          // -v
};

// A host to connect to as the user wrote it.
struct destination {
  std::string user;                   // empty: from the config, else the local user
  std::string host;                   // an alias, a name or an address (no brackets)
  std::optional<std::uint16_t> port;  // ssh://host:port only
};

// "[user@]host:path" (scp, sftp): the host part and the path (empty: the remote home).
struct remote_path {
  destination dest;
  std::string path;
};

// --- command line ------------------------------------------------------------------------------

namespace detail {

inline const char* const known_settings[] = {
    "port", "user", "hostname", "identityfile", "identitiesonly", "proxyjump", "ciphers", "macs",
    "kexalgorithms", "hostkeyalgorithms", "compression", "stricthostkeychecking",
    "userknownhostsfile", "globalknownhostsfile", "batchmode", "connecttimeout",
    "serveraliveinterval", "serveralivecountmax", "rekeylimit", "preferredauthentications",
    "pubkeyauthentication", "passwordauthentication", "kbdinteractiveauthentication",
    "identityagent", "loglevel", "hostkeyalias", "numberofpasswordprompts"};

inline std::string lower(std::string_view s) {
  std::string out{s};
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

inline std::uint16_t parse_port(std::string_view s) {
  unsigned v = 0;
  if (s.empty() || s.size() > 5) throw failure("Bad port '" + std::string{s} + "'");
  for (char c : s) {
    if (c < '0' || c > '9') throw failure("Bad port '" + std::string{s} + "'");
    v = v * 10 + unsigned(c - '0');
  }
  if (v == 0 || v > 65535) throw failure("Bad port '" + std::string{s} + "'");
  return static_cast<std::uint16_t>(v);
}

}  // namespace detail

// "-o Keyword=value" (or "Keyword value"), checked as a config line is.
inline void parse_setting(ssh_options& o, std::string_view text) {
  std::vector<std::string> words;
  if (ssh::proto::split_ssh_config_line(text, words) || words.size() < 2)
    throw failure("command-line line 0: bad option \"" + std::string{text} + "\"");
  auto key = detail::lower(words[0]);
  bool known = false;
  for (const char* k : detail::known_settings) known = known || key == k;
  if (!known) throw failure("command-line line 0: Bad configuration option: " + key);
  o.settings.emplace_back(key, std::vector<std::string>(words.begin() + 1, words.end()));
}

// One command-line argument: returns how many arguments it used (0: not a common option; 2:
// it took `next` as its value). port_flag is 'p' (ssh) or 'P' (scp, sftp). Throws failure.
inline int parse_common_option(ssh_options& o, std::string_view arg, const char* next,
                               char port_flag = 'p') {
  if (arg.size() < 2 || arg[0] != '-' || arg[1] == '-') return 0;
  char f = arg[1];
  auto value = [&](int& used) -> std::string {
    if (arg.size() > 2) {
      used = 1;
      return std::string{arg.substr(2)};
    }
    if (!next) throw failure(std::string{"option requires an argument -- '"} + f + "'");
    used = 2;
    return next;
  };
  int used = 0;
  if (f == port_flag) {
    o.port = detail::parse_port(value(used));
  } else if (f == 'i') {
    o.identity_files.push_back(value(used));
  } else if (f == 'F') {
    o.config_file = value(used);
  } else if (f == 'o') {
    parse_setting(o, value(used));
  } else if (f == 'J') {
    o.jump = value(used);
  } else if (f == 'l') {
    o.login = value(used);
  } else if (arg == "-q") {
    o.quiet = true;
    used = 1;
  } else if (arg.find_first_not_of('v', 1) == std::string_view::npos) {
    o.verbose += int(arg.size() - 1);
    used = 1;
  }
  return used;
}

// "[user@]host", "[user@][v6addr]" or "ssh://[user@]host[:port]".
inline destination parse_destination(std::string_view s) {
  destination d;
  if (s.substr(0, 6) == "ssh://") {
    s.remove_prefix(6);
    if (!s.empty() && s.back() == '/') s.remove_suffix(1);
    auto at = s.rfind('@');
    if (at != std::string_view::npos) {
      d.user = s.substr(0, at);
      s.remove_prefix(at + 1);
    }
    if (!s.empty() && s.front() == '[') {
      auto close = s.find(']');
      if (close == std::string_view::npos) throw failure("invalid destination");
      d.host = s.substr(1, close - 1);
      s.remove_prefix(close + 1);
      if (!s.empty()) {
        if (s.front() != ':') throw failure("invalid destination");
        d.port = detail::parse_port(s.substr(1));
      }
    } else {
      auto colon = s.find(':');
      d.host = s.substr(0, colon);
      if (colon != std::string_view::npos) d.port = detail::parse_port(s.substr(colon + 1));
    }
  } else {
    auto at = s.rfind('@');
    if (at != std::string_view::npos) {
      d.user = s.substr(0, at);
      s.remove_prefix(at + 1);
    }
    if (s.size() >= 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
    d.host = s;
  }
  if (d.host.empty() || d.host.find_first_of(" \t\r\n'\"\\") != std::string::npos)
    throw failure("invalid destination '" + std::string{s} + "'");
  return d;
}

// scp/sftp operands: "[user@]host:path" or "[user@][v6]:path" is remote; a local path is one
// with no ':' before its first '/', or that starts with '/' (scp.c colon()). nullopt: local.
inline std::optional<remote_path> parse_remote_path(std::string_view s) {
  if (s.empty() || s.front() == ':' || s.front() == '/') return std::nullopt;
  if (s.substr(0, 6) == "scp://" || s.substr(0, 7) == "sftp://") {
    auto rest = s.substr(s.find("://") + 3);
    auto slash = rest.find('/');
    remote_path r;
    r.dest = parse_destination("ssh://" + std::string{rest.substr(0, slash)});
    if (slash != std::string_view::npos) r.path = rest.substr(slash + 1);
    return r;
  }
  std::size_t i = 0;
  auto at = s.find('@');
  std::size_t host_start = 0;
  if (at != std::string_view::npos && s.substr(0, at).find_first_of("/:") == std::string_view::npos)
    host_start = at + 1;
  i = host_start;
  if (i < s.size() && s[i] == '[') {
    auto close = s.find(']', i);
    if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':')
      return std::nullopt;
    i = close + 1;
  } else {
    while (i < s.size() && s[i] != ':' && s[i] != '/') ++i;
    if (i == s.size() || s[i] != ':') return std::nullopt;
  }
  remote_path r;
  r.dest = parse_destination(s.substr(0, i));
  r.path = s.substr(i + 1);
  return r;
}

// --- resolved settings -------------------------------------------------------------------------

// What one host's connection uses, after the command line and the config file.
struct host_settings {
  std::string alias;      // the name given (Host patterns match it)
  std::string hostname;   // where to connect
  std::uint16_t port = 22;
  std::string user;
  std::vector<std::string> identity_files;  // expanded
  bool identity_files_given = false;        // from -i or IdentityFile (else the defaults)
  bool identities_only = false;
  std::string proxy_jump;                   // "" : none
  ssh::proto::algorithm_preferences algorithms = ssh::proto::default_preferences();
  std::string strict_host_key_checking = "ask";
  std::vector<std::string> known_hosts_files;         // user files: the first gets new keys
  std::vector<std::string> global_known_hosts_files;  // read only
  std::string host_key_alias;
  bool batch = false;
  std::chrono::seconds connect_timeout{0};
  std::chrono::seconds server_alive_interval{0};
  unsigned server_alive_count_max = 3;
  std::uint64_t rekey_bytes = 0;
  std::optional<std::chrono::seconds> rekey_time;
  std::vector<std::string> methods{"publickey", "keyboard-interactive", "password"};
  std::string identity_agent;  // "" : $SSH_AUTH_SOCK; "none": no agent
  std::string log_level = "INFO";
  int verbose = 0;  // debug levels to print: -v, -vv, -vvv or LogLevel DEBUG1..3
  unsigned password_prompts = 3;

  bool quiet() const { return log_level == "QUIET" || log_level == "FATAL" || log_level == "ERROR"; }
};

namespace detail {

inline std::string home_dir() {
  if (const char* h = std::getenv("HOME"); h && *h) return h;
  if (auto* pw = ::getpwuid(::getuid()); pw && pw->pw_dir) return pw->pw_dir;
  return "/";
}

inline std::string local_user() {
  if (auto* pw = ::getpwuid(::getuid()); pw && pw->pw_name) return pw->pw_name;
  if (const char* u = std::getenv("USER")) return u;
  return "root";
}

// "~/" and ssh_config's percent tokens (%d %h %n %p %r %u %%).
inline std::string expand_path(std::string_view s, const host_settings* h = nullptr) {
  std::string out;
  if (s == "~" || s.substr(0, 2) == "~/") {
    out = home_dir();
    s.remove_prefix(1);
  }
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%' || i + 1 == s.size()) {
      out += s[i];
      continue;
    }
    char t = s[++i];
    if (t == '%') out += '%';
    else if (t == 'd') out += home_dir();
    else if (t == 'u') out += local_user();
    else if (h && t == 'h') out += h->hostname;
    else if (h && t == 'n') out += h->alias;
    else if (h && t == 'p') out += std::to_string(h->port);
    else if (h && t == 'r') out += h->user;
    else throw failure(std::string{"unknown token %"} + t + " in \"" + std::string{s} + "\"");
  }
  return out;
}

inline std::string read_text(const std::string& path, std::size_t limit) {
  std::ifstream in{path, std::ios::binary};
  if (!in) throw failure("Can't open user config file " + path + ": " + std::strerror(errno));
  std::string text;
  char buf[8192];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, std::size_t(in.gcount()));
    if (text.size() > limit) throw failure(path + ": file too large");
  }
  return text;
}

inline ssh::proto::ssh_config_file parse_config_file(const std::string& path) {
  auto text = read_text(path, limits::ssh_config_max_file);
  ssh::proto::ssh_config_file f;
  std::size_t line = 0;
  if (auto ec = ssh::proto::parse_ssh_config(text, f, &line))
    throw failure(path + " line " + std::to_string(line) + ": " +
                  (ec == make_error_code(errc::unsupported) ? "unsupported Match criteria"
                                                            : "bad configuration line"));
  return f;
}

// Include: a relative path is under ~/.ssh; globs expanded by glob(3) would need more code than a
// tool needs, so '*' is matched in one directory level.
inline error_code load_include(std::string_view arg, std::vector<ssh::proto::ssh_config_file>& out) {
  std::string path = expand_path(arg);
  if (path.empty() || path.front() != '/') path = home_dir() + "/.ssh/" + path;
  std::filesystem::path p{path};
  auto name = p.filename().string();
  std::error_code ec;
  std::vector<std::string> files;
  if (name.find_first_of("*?") != std::string::npos) {
    for (auto it = std::filesystem::directory_iterator(p.parent_path(), ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
      if (ssh::proto::ssh_config_glob(name, it->path().filename().string()) &&
          it->is_regular_file(ec))
        files.push_back(it->path().string());
    std::sort(files.begin(), files.end());
  } else if (std::filesystem::exists(p, ec)) {
    files.push_back(path);
  }
  for (auto& f : files) out.push_back(parse_config_file(f));
  return {};
}

inline bool yes_no(const std::string& key, const std::string& v) {
  auto l = lower(v);
  if (l == "yes" || l == "true") return true;
  if (l == "no" || l == "false") return false;
  throw failure("unsupported " + key + " value \"" + v + "\"");
}

inline std::chrono::seconds parse_time(const std::string& key, const std::string& v) {
  // sshd_config TIME FORMATS: a number of seconds, or with s/m/h/d/w suffixes ("1h30m").
  if (v == "none" || v == "0") return std::chrono::seconds{0};
  long long total = 0, n = 0;
  bool digits = false;
  for (char c : v) {
    if (c >= '0' && c <= '9') {
      n = n * 10 + (c - '0');
      digits = true;
      if (n > 100000000) throw failure("bad " + key + " value \"" + v + "\"");
      continue;
    }
    if (!digits) throw failure("bad " + key + " value \"" + v + "\"");
    long long m = 1;
    switch (std::tolower(static_cast<unsigned char>(c))) {
      case 's': m = 1; break;
      case 'm': m = 60; break;
      case 'h': m = 3600; break;
      case 'd': m = 86400; break;
      case 'w': m = 604800; break;
      default: throw failure("bad " + key + " value \"" + v + "\"");
    }
    total += n * m;
    n = 0;
    digits = false;
  }
  total += n;
  return std::chrono::seconds{total};
}

inline std::uint64_t parse_size(const std::string& v) {
  std::uint64_t n = 0;
  std::size_t i = 0;
  for (; i < v.size() && v[i] >= '0' && v[i] <= '9'; ++i) {
    n = n * 10 + std::uint64_t(v[i] - '0');
    if (n > (std::uint64_t{1} << 40)) throw failure("bad RekeyLimit \"" + v + "\"");
  }
  if (i == 0) throw failure("bad RekeyLimit \"" + v + "\"");
  if (i + 1 == v.size()) {
    switch (std::toupper(static_cast<unsigned char>(v[i]))) {
      case 'K': return n << 10;
      case 'M': return n << 20;
      case 'G': return n << 30;
      default: break;
    }
  } else if (i == v.size()) {
    return n;
  }
  throw failure("bad RekeyLimit \"" + v + "\"");
}

inline std::vector<std::string> split_commas(std::string_view s) {
  std::vector<std::string> out;
  while (true) {
    auto c = s.find(',');
    auto part = s.substr(0, c);
    if (!part.empty()) out.emplace_back(part);
    if (c == std::string_view::npos) break;
    s.remove_prefix(c + 1);
  }
  return out;
}

}  // namespace detail

// An algorithm list setting applied to the default list (ssh_config(5) Ciphers): "a,b" replaces
// it, "+a,b" appends, "-pat,pat" removes (patterns with '*', '?'), "^a,b" puts first.
inline std::vector<std::string> apply_algorithm_list(const std::vector<std::string>& defaults,
                                                     std::string_view spec) {
  if (spec.empty()) return defaults;
  char mod = spec.front();
  if (mod != '+' && mod != '-' && mod != '^') return detail::split_commas(spec);
  auto names = detail::split_commas(spec.substr(1));
  std::vector<std::string> out;
  auto listed = [&](const std::string& n) {
    return std::find(names.begin(), names.end(), n) != names.end();
  };
  if (mod == '^') {
    out = names;
    for (const auto& d : defaults)
      if (!listed(d)) out.push_back(d);
  } else if (mod == '+') {
    out = defaults;
    for (const auto& n : names)
      if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
  } else {
    for (const auto& d : defaults) {
      bool drop = false;
      for (const auto& n : names) drop = drop || ssh::proto::ssh_config_glob(n, d);
      if (!drop) out.push_back(d);
    }
  }
  return out;
}

// The settings for one host: the command line first, then the config file (-F, or
// ~/.ssh/config when it exists), first value wins.
inline host_settings resolve_host(const ssh_options& o, const destination& d) {
  ssh::proto::ssh_config_options c;
  if (d.port) c.set("port", {std::to_string(*d.port)});
  if (o.port) c.set("port", {std::to_string(*o.port)});
  if (!d.user.empty()) c.set("user", {d.user});
  if (!o.login.empty()) c.set("user", {o.login});
  for (const auto& f : o.identity_files) c.set("identityfile", {f});
  if (!o.jump.empty()) c.set("proxyjump", {o.jump});
  for (const auto& [k, v] : o.settings) c.set(k, v);
  std::string file = o.config_file;
  if (file.empty()) {
    file = detail::home_dir() + "/.ssh/config";
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) file = "none";
  }
  if (file != "none" && file != "/dev/null") {
    if (o.verbose > 0 && !o.quiet)
      std::fprintf(stderr, "debug1: Reading configuration data %s\n", file.c_str());
    auto f = detail::parse_config_file(detail::expand_path(file));
    if (ssh::proto::resolve_ssh_config(f, d.host, c, detail::load_include))
      throw failure(file + ": Include nested too deep");
  }

  host_settings h;
  h.alias = d.host;
  auto get = [&](std::string_view k) { return c.value(k); };
  h.hostname = d.host;
  if (auto v = get("port")) h.port = detail::parse_port(*v);
  h.user = get("user").value_or(detail::local_user());
  if (auto v = get("hostname")) h.hostname = detail::expand_path(*v, &h);
  for (const auto& f : c.all("identityfile")) {
    if (detail::lower(f) == "none") continue;
    h.identity_files.push_back(detail::expand_path(f, &h));
    h.identity_files_given = true;
  }
  if (!h.identity_files_given)
    for (const char* n : {"id_ed25519", "id_ecdsa", "id_rsa"})
      h.identity_files.push_back(detail::home_dir() + "/.ssh/" + n);
  if (auto v = get("identitiesonly")) h.identities_only = detail::yes_no("IdentitiesOnly", *v);
  if (auto v = get("proxyjump"); v && detail::lower(*v) != "none") h.proxy_jump = *v;
  if (auto v = get("ciphers")) h.algorithms.cipher = apply_algorithm_list(h.algorithms.cipher, *v);
  if (auto v = get("macs")) h.algorithms.mac = apply_algorithm_list(h.algorithms.mac, *v);
  if (auto v = get("kexalgorithms")) h.algorithms.kex = apply_algorithm_list(h.algorithms.kex, *v);
  if (auto v = get("hostkeyalgorithms"))
    h.algorithms.host_key = apply_algorithm_list(h.algorithms.host_key, *v);
  // ssh's Compression=no (its default) offers only "none"; yes prefers zlib@openssh.com.
  h.algorithms.compression = {"none"};
  if (auto v = get("compression"); v && detail::yes_no("Compression", *v))
    h.algorithms.compression = {"zlib@openssh.com", "zlib", "none"};
  if (auto v = get("stricthostkeychecking")) {
    auto l = detail::lower(*v);
    if (l == "true") l = "yes";
    if (l == "false") l = "no";
    if (l != "yes" && l != "no" && l != "off" && l != "accept-new" && l != "ask")
      throw failure("unsupported StrictHostKeyChecking value \"" + *v + "\"");
    h.strict_host_key_checking = l;
  }
  if (auto* a = c.args("userknownhostsfile")) {
    for (const auto& f : *a) h.known_hosts_files.push_back(detail::expand_path(f, &h));
  } else {
    h.known_hosts_files = {detail::home_dir() + "/.ssh/known_hosts",
                           detail::home_dir() + "/.ssh/known_hosts2"};
  }
  if (auto* a = c.args("globalknownhostsfile")) {
    for (const auto& f : *a) h.global_known_hosts_files.push_back(detail::expand_path(f, &h));
  } else {
    h.global_known_hosts_files = {"/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"};
  }
  if (auto v = get("hostkeyalias")) h.host_key_alias = *v;
  if (auto v = get("batchmode")) h.batch = detail::yes_no("BatchMode", *v);
  if (auto v = get("connecttimeout")) h.connect_timeout = detail::parse_time("ConnectTimeout", *v);
  if (auto v = get("serveraliveinterval"))
    h.server_alive_interval = detail::parse_time("ServerAliveInterval", *v);
  if (auto v = get("serveralivecountmax")) {
    auto n = detail::parse_time("ServerAliveCountMax", *v).count();
    h.server_alive_count_max = unsigned(std::max<long long>(1, std::min<long long>(n, 1000)));
  }
  if (auto* a = c.args("rekeylimit")) {
    if ((*a)[0] != "default" && (*a)[0] != "none") h.rekey_bytes = detail::parse_size((*a)[0]);
    if (a->size() > 1 && (*a)[1] != "default")
      h.rekey_time = (*a)[1] == "none" ? std::chrono::seconds{0}
                                       : detail::parse_time("RekeyLimit", (*a)[1]);
  }
  if (auto v = get("preferredauthentications")) {
    h.methods.clear();
    for (auto& m : detail::split_commas(*v))
      if (m == "publickey" || m == "password" || m == "keyboard-interactive")
        h.methods.push_back(m);
  }
  auto drop = [&](std::string_view key, std::string_view method) {
    if (auto v = get(key); v && !detail::yes_no(std::string{key}, *v))
      std::erase(h.methods, std::string{method});
  };
  drop("pubkeyauthentication", "publickey");
  drop("passwordauthentication", "password");
  drop("kbdinteractiveauthentication", "keyboard-interactive");
  if (auto v = get("identityagent")) h.identity_agent = detail::expand_path(*v, &h);
  if (auto v = get("loglevel")) {
    std::string l;
    for (char ch : *v) l += char(std::toupper(static_cast<unsigned char>(ch)));
    h.log_level = l;
  }
  if (h.log_level == "DEBUG" || h.log_level == "DEBUG1") h.verbose = 1;
  if (h.log_level == "DEBUG2") h.verbose = 2;
  if (h.log_level == "DEBUG3") h.verbose = 3;
  h.verbose = std::max(h.verbose, o.verbose);
  if (o.quiet) {
    h.log_level = "QUIET";
    h.verbose = 0;
  }
  if (auto v = get("numberofpasswordprompts"))
    h.password_prompts = unsigned(std::clamp<long long>(detail::parse_time("NumberOfPasswordPrompts", *v).count(), 0, 10));
  // Unknown algorithm names fail here with one line rather than in the key exchange.
  ssh::proto::transport_config check;
  check.algorithms = h.algorithms;
  if (ssh::proto::validate(check))
    throw failure("Bad algorithm list for " + h.alias + " (unknown or empty Ciphers, MACs, "
                  "KexAlgorithms or HostKeyAlgorithms)");
  return h;
}

// --- prompts -----------------------------------------------------------------------------------

namespace detail {

inline bool have_tty() {
  int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

// Reads one line from /dev/tty with echo off (unless echo).
inline std::optional<secure_bytes> tty_prompt(const std::string& prompt, bool echo) {
  int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return std::nullopt;
  termios saved{};
  bool restore = false;
  if (!echo && ::tcgetattr(fd, &saved) == 0) {
    termios t = saved;
    t.c_lflag &= ~tcflag_t(ECHO | ECHONL);
    t.c_lflag |= ICANON;
    restore = ::tcsetattr(fd, TCSAFLUSH, &t) == 0;
  }
  (void)!::write(fd, prompt.data(), prompt.size());
  secure_bytes line;
  bool ok = false;
  for (;;) {
    char c;
    auto n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (c == '\n' || c == '\r') {
      ok = true;
      break;
    }
    if (line.size() < 4096) line.push_back(static_cast<std::uint8_t>(c));
  }
  if (restore) {
    ::tcsetattr(fd, TCSAFLUSH, &saved);
    (void)!::write(fd, "\n", 1);
  }
  ::close(fd);
  if (!ok && line.empty()) return std::nullopt;
  return line;
}

// Runs $SSH_ASKPASS with the prompt as its argument; its first output line is the answer.
inline std::optional<secure_bytes> askpass(const std::string& program, const std::string& prompt) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return std::nullopt;
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(p[0]);
    ::close(p[1]);
    return std::nullopt;
  }
  if (pid == 0) {
    ::dup2(p[1], STDOUT_FILENO);
    ::execlp(program.c_str(), program.c_str(), prompt.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(p[1]);
  secure_bytes out;
  char buf[512];
  for (;;) {
    auto n = ::read(p[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (out.size() + std::size_t(n) <= 8192) out.insert(out.end(), buf, buf + n);
  }
  ::close(p[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
  auto nl = std::find(out.begin(), out.end(), std::uint8_t('\n'));
  out.erase(nl, out.end());
  if (!out.empty() && out.back() == '\r') out.pop_back();
  return out;
}

}  // namespace detail

// Where answers come from (see the top of this file).
class prompter {
 public:
  explicit prompter(bool batch) : batch_(batch) {}

  // A secret: FERRY_PASSWORD (when use_env), SSH_ASKPASS, or the TTY.
  std::optional<secure_bytes> secret(const std::string& prompt, bool use_env = true,
                                     bool echo = false) const {
    if (use_env)
      if (const char* p = std::getenv("FERRY_PASSWORD"))
        return secure_bytes(p, p + std::strlen(p));
    if (batch_) return std::nullopt;
    const char* ap = std::getenv("SSH_ASKPASS");
    std::string require = std::getenv("SSH_ASKPASS_REQUIRE") ? std::getenv("SSH_ASKPASS_REQUIRE") : "";
    bool tty = detail::have_tty();
    bool use_askpass = ap && *ap && require != "never" &&
                       (require == "force" || require == "prefer" ||
                        (!tty && std::getenv("DISPLAY") != nullptr));
    if (use_askpass) return detail::askpass(ap, prompt);
    if (tty) return detail::tty_prompt(prompt, echo);
    return std::nullopt;
  }

  // A yes/no question on the TTY (host keys): nullopt when nobody can answer.
  std::optional<bool> confirm(std::string question) const {
    if (batch_) return std::nullopt;
    for (int i = 0; i < 3; ++i) {
      auto a = detail::tty_prompt(question, true);
      if (!a) {
        const char* ap = std::getenv("SSH_ASKPASS");
        if (!ap || !*ap) return std::nullopt;
        a = detail::askpass(ap, question);
        if (!a) return std::nullopt;
      }
      std::string s(a->begin(), a->end());
      if (s == "yes") return true;
      if (s == "no") return false;
      question = "Please type 'yes' or 'no': ";
    }
    return false;
  }

 private:
  bool batch_;
};

// --- host keys ---------------------------------------------------------------------------------

// "SHA256:base64" as ssh-keygen -l prints.
inline std::string fingerprint(byte_view blob) {
  auto h = crypto::sha256(blob);
  return "SHA256:" + text::base64_encode(byte_view{h.data(), h.size()}, false);
}

// A verifier with StrictHostKeyChecking's semantics over the known_hosts files. message receives
// the line to print when a key is refused.
// ssh -v's lines: "debugN: text" on stderr when the level is enabled.
inline void debug(const host_settings& h, int level, const std::string& text) {
  if (h.verbose >= level) std::fprintf(stderr, "debug%d: %s\n", level, text.c_str());
}

inline ssh::proto::host_key_verifier make_host_key_verifier(const host_settings& h,
                                                            std::shared_ptr<std::string> message) {
  return [h, message](const ssh::proto::host_key_info& info) -> error_code {
    auto refuse = make_error_code(ssh::disconnect_reason::host_key_not_verifiable);
    std::string name = h.host_key_alias.empty() ? h.hostname : h.host_key_alias;
    std::string type = info.algorithm ? std::string{info.algorithm->name} : std::string{"key"};
    bool found_mismatch = false;
    std::string mismatch_file;
    std::vector<std::string> files = h.known_hosts_files;
    files.insert(files.end(), h.global_known_hosts_files.begin(), h.global_known_hosts_files.end());
    for (const auto& f : files) {
      auth::known_hosts kh;
      if (kh.load_file(f)) continue;
      switch (kh.check(name, h.port, info.blob)) {
        case auth::known_hosts::status::match: return {};
        case auth::known_hosts::status::revoked:
          *message = "Host key " + fingerprint(info.blob) + " for " + name + " is revoked (" + f + ")";
          return refuse;
        case auth::known_hosts::status::mismatch:
          if (!found_mismatch) mismatch_file = f;
          found_mismatch = true;
          break;
        case auth::known_hosts::status::not_found: break;
      }
    }
    const auto& mode = h.strict_host_key_checking;
    if (found_mismatch) {
      *message = "REMOTE HOST IDENTIFICATION HAS CHANGED for " + name + ": the " + type +
                 " key " + fingerprint(info.blob) + " is not the one in " + mismatch_file +
                 "; host key verification failed";
      return refuse;
    }
    bool add = mode == "accept-new" || mode == "no" || mode == "off";
    if (mode == "yes") {
      *message = "No " + type + " host key is known for " + name + " and StrictHostKeyChecking is "
                 "yes; host key verification failed";
      return refuse;
    }
    if (mode == "ask") {
      prompter p{h.batch};
      auto ok = p.confirm("The authenticity of host '" + name + "' can't be established.\n" + type +
                          " key fingerprint is " + fingerprint(info.blob) +
                          ".\nAre you sure you want to continue connecting (yes/no)? ");
      if (!ok || !*ok) {
        *message = "Host key verification failed (" + name + ", " + fingerprint(info.blob) + ")";
        return refuse;
      }
      add = true;
    }
    if (add && !h.known_hosts_files.empty() && h.known_hosts_files[0] != "/dev/null") {
      const auto& f = h.known_hosts_files[0];
      std::error_code ec;
      auto parent = std::filesystem::path{f}.parent_path();
      if (!parent.empty() && !std::filesystem::exists(parent, ec)) {
        std::filesystem::create_directories(parent, ec);
        std::filesystem::permissions(parent, std::filesystem::perms::owner_all, ec);
      }
      auto line = auth::format_known_host_line(auth::known_host_name(name, h.port), info.blob);
      std::ofstream out{f, std::ios::app | std::ios::binary};
      if (out) out << line << '\n';
      if (out && !h.quiet())
        std::fprintf(stderr, "Warning: Permanently added '%s' (%s) to the list of known hosts.\n",
                     auth::known_host_name(name, h.port).c_str(), type.c_str());
    }
    return {};
  };
}

// --- client options ----------------------------------------------------------------------------

// Identities from the key files: missing default files are skipped; an encrypted key asks for
// its passphrase (three tries).
inline std::vector<ssh::client_identity> load_identities(const host_settings& h,
                                                         const prompter& p) {
  std::vector<ssh::client_identity> out;
  for (const auto& f : h.identity_files) {
    std::error_code fec;
    if (!std::filesystem::exists(f, fec)) {
      if (h.identity_files_given && !h.quiet())
        std::fprintf(stderr, "Warning: Identity file %s not accessible: No such file or directory.\n",
                     f.c_str());
      continue;
    }
    ssh::keys::key_file k;
    auto ec = ssh::keys::read_private_key_file(f, {}, k);
    for (int tries = 0; tries < 3 && (ec == ssh::keys::errc::passphrase_required ||
                                      ec == ssh::keys::errc::wrong_passphrase);
         ++tries) {
      auto pass = p.secret("Enter passphrase for key '" + f + "': ", false);
      if (!pass) break;
      ec = ssh::keys::read_private_key_file(f, byte_view{pass->data(), pass->size()}, k);
    }
    if (ec) {
      if (!h.quiet()) std::fprintf(stderr, "Load key \"%s\": %s\n", f.c_str(), ec.message().c_str());
      continue;
    }
    auto key = std::make_shared<const crypto::private_key>(std::move(k.key));
    out.push_back(ssh::identity_from_key(std::move(key), k.comment.empty() ? f : k.comment));
  }
  return out;
}

// ssh::client_options for one host. host_key_message receives the line for a refused host key.
inline ssh::client_options make_client_options(const host_settings& h,
                                               std::shared_ptr<std::string> host_key_message) {
  ssh::client_options o;
  o.transport.algorithms = h.algorithms;
  o.transport.verify_host_key = [h, check = make_host_key_verifier(h, std::move(host_key_message))](
                                    const ssh::proto::host_key_info& info) {
    debug(h, 1, "Server host key: " +
                    (info.algorithm ? std::string{info.algorithm->name} : std::string{"key"}) + " " +
                    fingerprint(info.blob));
    return check(info);
  };
  if (h.connect_timeout.count() > 0) o.transport.handshake_timeout = h.connect_timeout;
  o.transport.rekey_bytes = h.rekey_bytes;
  if (h.rekey_time) o.transport.rekey_time = *h.rekey_time;
  o.connection.keepalive_interval = h.server_alive_interval;
  o.connection.keepalive_max = h.server_alive_count_max;
  o.auth.user = h.user;
  o.auth.methods = h.methods;
  prompter p{h.batch};
  bool pubkey = std::find(h.methods.begin(), h.methods.end(), "publickey") != h.methods.end();
  if (pubkey) {
    o.auth.identities = load_identities(h, p);
    // Say which keys are tried, and which one the server accepts (it asks for a signature).
    for (auto& id : o.auth.identities) {
      debug(h, 1, "Will attempt key: " + id.comment + " " + fingerprint(id.public_blob));
      if (h.verbose > 0)
        id.sign = [h, what = id.comment + " " + fingerprint(id.public_blob), sign = std::move(id.sign)](
                      std::string_view algorithm, byte_view data, bytes& out) {
          debug(h, 1, "Server accepts key: " + what);
          return sign(algorithm, data, out);
        };
    }
    if (h.identity_agent != "none" && !h.identities_only) {
      o.use_agent = h.identity_agent.empty() ? std::getenv("SSH_AUTH_SOCK") != nullptr : true;
      o.agent_socket = h.identity_agent;
    }
  }
  std::string who = h.user + "@" + h.hostname;
  o.auth.password = [p, who]() { return p.secret(who + "'s password: "); };
  o.auth.keyboard_interactive = [p, who](const auth::challenge& c)
      -> std::optional<std::vector<secure_bytes>> {
    std::vector<secure_bytes> answers;
    for (const auto& q : c.prompts) {
      auto text = q.text.empty() ? who + "'s password: " : q.text;
      auto a = p.secret(text, !q.echo, q.echo);
      if (!a) return std::nullopt;
      answers.push_back(std::move(*a));
    }
    return answers;
  };
  if (!h.quiet())
    o.auth.banner = [](std::string_view b) {
      std::string clean;
      for (char c : b)
        if (c == '\n' || c == '\t' || (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f)) clean += c;
      std::fputs(clean.c_str(), stderr);
    };
  return o;
}

// --- the connection ----------------------------------------------------------------------------

// A connection to one destination, through its ProxyJump hops (each hop's connection carries
// the next one's transport over a direct-tcpip channel).
class ssh_session {
  using tcp_client = ssh::client<asio::ip::tcp::socket>;
  using jump_client = ssh::client<ssh::channel>;
  static constexpr auto tok = asio::as_tuple(asio::use_awaitable);

  // Calls f with the innermost client (the one that reaches the destination).
  template <class F>
  auto visit_last(F& f) {
    if (hops_.empty()) throw failure("not connected");
    if (auto* t = std::get_if<std::unique_ptr<tcp_client>>(&hops_.back())) return f(**t);
    return f(*std::get<std::unique_ptr<jump_client>>(hops_.back()));
  }

 public:
  ssh_session(asio::any_io_executor ex, std::string program)
      : ex_(std::move(ex)), program_(std::move(program)) {}
  ssh_session(const ssh_session&) = delete;
  ssh_session& operator=(const ssh_session&) = delete;

  // Connects and authenticates; throws failure (connection = true) with ssh's kind of line.
  asio::awaitable<void> connect(const ssh_options& o, const destination& d) {
    target_ = resolve_host(o, d);
    // ProxyJump hops: each "[user@]host[:port]" is resolved with the config file too (but not
    // with the target's -p, -l, -i), as ssh -J does.
    std::vector<host_settings> hops;
    if (!target_.proxy_jump.empty()) {
      ssh_options hop_opts;
      hop_opts.config_file = o.config_file;
      hop_opts.quiet = o.quiet;
      for (const auto& [k, v] : o.settings)
        if (k != "port" && k != "user" && k != "identityfile" && k != "hostname" && k != "proxyjump")
          hop_opts.settings.emplace_back(k, v);
      for (const auto& spec : detail::split_commas(target_.proxy_jump)) {
        auto hd = parse_destination(spec.find("://") == std::string::npos ? jump_to_url(spec) : spec);
        auto hs = resolve_host(hop_opts, hd);
        hs.proxy_jump.clear();
        hops.push_back(std::move(hs));
      }
    }
    hops.push_back(target_);
    for (std::size_t i = 0; i < hops.size(); ++i) co_await connect_hop(hops[i], i == 0);
  }

  const host_settings& target() const noexcept { return target_; }
  bool connected() const noexcept { return !hops_.empty(); }

  asio::awaitable<ssh::channel> open_exec(std::string command) {
    auto op = [&](auto& c) { return c.async_open_exec(command, tok); };
    auto [ec, ch] = co_await visit_last(op);
    if (ec) throw failure("exec request failed on channel: " + ec.message());
    co_return std::move(ch);
  }

  asio::awaitable<ssh::channel> open_subsystem(std::string name) {
    auto op = [&](auto& c) { return c.async_open_subsystem(name, tok); };
    auto [ec, ch] = co_await visit_last(op);
    if (ec) throw failure("subsystem request for " + name + " failed: " + ec.message());
    co_return std::move(ch);
  }

  asio::awaitable<ssh::channel> open_session() {
    auto op = [&](auto& c) { return c.async_open_session(tok); };
    auto [ec, ch] = co_await visit_last(op);
    if (ec) throw failure("channel open failed: " + ec.message());
    co_return std::move(ch);
  }

  // Ends every hop, innermost first.
  asio::awaitable<void> disconnect() {
    while (!hops_.empty()) {
      auto& last = hops_.back();
      if (auto* t = std::get_if<std::unique_ptr<tcp_client>>(&last))
        co_await (*t)->async_disconnect(tok);
      else
        co_await std::get<std::unique_ptr<jump_client>>(last)->async_disconnect(tok);
      hops_.pop_back();
    }
  }

  // The error that ended the innermost connection (after it ended).
  asio::awaitable<error_code> wait_ended() {
    auto op = [&](auto& c) { return c.async_wait_ended(tok); };
    auto [ec] = co_await visit_last(op);
    co_return ec;
  }

 private:
  static std::string jump_to_url(const std::string& spec) {
    // "[user@]host[:port]" → ssh:// form, so the port is parsed (a bare IPv6 address is not).
    if (std::count(spec.begin(), spec.end(), ':') > 1 && spec.find('[') == std::string::npos)
      return "ssh://[" + spec + "]";
    return "ssh://" + spec;
  }

  std::string describe(const error_code& ec, const host_settings& h, const std::string& hk) const {
    if (ec == ssh::disconnect_reason::host_key_not_verifiable && !hk.empty()) return hk;
    if (ec == ssh::disconnect_reason::no_more_auth_methods_available)
      return h.user + "@" + h.hostname + ": Permission denied (" + join(h.methods) + ")";
    if (ec == asio::error::timed_out || ec == asio::error::operation_aborted)
      return "connect to host " + h.hostname + " port " + std::to_string(h.port) +
             ": Connection timed out";
    return "connect to host " + h.hostname + " port " + std::to_string(h.port) + ": " + ec.message();
  }

  static std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
    return s;
  }

  asio::awaitable<void> connect_hop(const host_settings& h, bool first) {
    auto message = std::make_shared<std::string>();
    auto opts = make_client_options(h, message);
    error_code ec;
    if (first) {
      asio::ip::tcp::socket socket{ex_};
      ec = co_await tcp_connect(h, socket);
      if (ec) throw failure(describe(ec, h, *message), true);
      auto c = std::make_unique<tcp_client>(std::move(opts), std::move(socket));
      auto [hec] = co_await c->async_handshake(tok);
      ec = hec;
      if (!ec) {
        describe_connection(h, c->transport().machine());
        hops_.emplace_back(std::move(c));
      }
    } else {
      auto op = [&](auto& c) { return c.async_open_direct_tcpip(h.hostname, h.port, tok); };
      auto [oec, ch] = co_await visit_last(op);
      if (oec)
        throw failure("channel to " + h.hostname + " port " + std::to_string(h.port) +
                          " through the jump host failed: " + oec.message(),
                      true);
      auto c = std::make_unique<jump_client>(std::move(opts), std::move(ch));
      debug(h, 1, "Connecting to " + h.hostname + " port " + std::to_string(h.port) +
                      " through the jump host.");
      auto [hec] = co_await c->async_handshake(tok);
      ec = hec;
      if (!ec) {
        describe_connection(h, c->transport().machine());
        hops_.emplace_back(std::move(c));
      }
    }
    if (ec) throw failure(describe(ec, h, *message), true);
  }

  // What ssh -v says about a connection once the key exchange and authentication are done.
  static void describe_connection(const host_settings& h, const ssh::proto::transport_machine& m) {
    if (h.verbose < 1) return;
    debug(h, 1, "Remote software version " + m.peer_identification());
    const auto& a = m.algorithms();
    auto name = [](const auto* alg) { return alg ? std::string{alg->name} : std::string{"<implicit>"}; };
    debug(h, 1, "kex: algorithm: " + name(a.kex));
    debug(h, 1, "kex: host key algorithm: " + name(a.host_key));
    debug(h, 1, "kex: server->client cipher: " + name(a.cipher_s2c) + " MAC: " + name(a.mac_s2c) +
                    " compression: " + name(a.compression_s2c));
    debug(h, 1, "kex: client->server cipher: " + name(a.cipher_c2s) + " MAC: " + name(a.mac_c2s) +
                    " compression: " + name(a.compression_c2s));
    debug(h, 2, std::string{"strict kex: "} + (a.strict_kex ? "yes" : "no"));
    debug(h, 1, "Authenticated to " + h.hostname + " port " + std::to_string(h.port) + " as " + h.user + ".");
  }

  // TCP connect with ConnectTimeout (the socket is closed when the timer fires first).
  asio::awaitable<error_code> tcp_connect(const host_settings& h, asio::ip::tcp::socket& socket) {
    asio::ip::tcp::resolver resolver{ex_};
    auto [rec, results] = co_await resolver.async_resolve(h.hostname, std::to_string(h.port), tok);
    if (rec)
      throw failure("Could not resolve hostname " + h.hostname + ": " + rec.message(), true);
    asio::steady_timer timer{ex_};
    bool timed_out = false;
    if (h.connect_timeout.count() > 0) {
      timer.expires_after(h.connect_timeout);
      timer.async_wait([&](error_code tec) {
        if (tec) return;
        timed_out = true;
        error_code ignored;
        socket.close(ignored);
      });
    }
    debug(h, 1, "Connecting to " + h.hostname + " port " + std::to_string(h.port) + ".");
    auto [cec, ep] = co_await asio::async_connect(socket, results, tok);
    timer.cancel();
    if (timed_out) co_return make_error_code(asio::error::timed_out);
    if (!cec) {
      socket.set_option(asio::ip::tcp::no_delay{true});
      debug(h, 1, "Connection established to " + ep.address().to_string() + ".");
    }
    co_return cec;
  }

  asio::any_io_executor ex_;
  std::string program_;
  host_settings target_;
  std::vector<std::variant<std::unique_ptr<tcp_client>, std::unique_ptr<jump_client>>> hops_;
};

}  // namespace ferry::cli
