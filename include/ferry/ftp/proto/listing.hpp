// Directory listings. LIST output is not standardised (RFC 959 §4.1.3 says it is for humans), so
// the parser reads the two formats real servers send: Unix "ls -l" (vsftpd, ProFTPD, pyftpdlib,
// Pure-FTPd) and DOS/IIS ("01-15-21  03:04PM  <DIR>  name"). MLSD/MLST lines are the machine
// format of RFC 3659 §7 ("fact=value;...; name"). Formatters produce what a server sends.
#pragma once

#include <ferry/core/limits.hpp>
#include <ferry/ftp/error.hpp>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ferry::ftp {

enum class entry_type {
  file,
  directory,
  symlink,
  other,        // devices, sockets, pipes; MLSx types we do not know
  current_dir,  // MLSx "cdir" (RFC 3659 §7.5.1): the listed directory itself
  parent_dir,   // MLSx "pdir"
};

struct entry {
  std::string name;
  entry_type type = entry_type::file;
  std::optional<std::uint64_t> size;
  std::optional<std::chrono::sys_seconds> modified;  // UTC for MLSx; server-local for LIST
  std::optional<std::uint32_t> mode;                 // permission bits (07777)
  std::string owner;
  std::string group;
  std::string link_target;  // LIST "name -> target"
  // MLSx facts as received, names lower-cased (RFC 3659 §7.1: fact names are case-insensitive).
  std::vector<std::pair<std::string, std::string>> facts;

  // The value of a fact, or nullptr.
  const std::string* fact(std::string_view fact_name) const noexcept {
    for (auto& [k, v] : facts)
      if (k == fact_name) return &v;
    return nullptr;
  }
};

namespace detail {

inline constexpr std::array<std::string_view, 12> month_names = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

inline char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? char(c + 32) : c; }

inline int month_index(std::string_view t) noexcept {
  if (t.size() != 3) return -1;
  for (int i = 0; i < 12; ++i) {
    auto m = month_names[i];
    if (lower(t[0]) == lower(m[0]) && lower(t[1]) == lower(m[1]) && lower(t[2]) == lower(m[2]))
      return i;
  }
  return -1;
}

// Whole-token decimal number with at most max_digits digits.
inline bool parse_uint(std::string_view t, std::uint64_t& v, std::size_t max_digits = 19) noexcept {
  if (t.empty() || t.size() > max_digits) return false;
  v = 0;
  for (char c : t) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + std::uint64_t(c - '0');
  }
  return true;
}

struct token {
  std::string_view text;
  std::size_t end;  // offset just past the token in the line
};

// Splits off up to n whitespace-separated tokens from the start of line.
inline std::vector<token> tokens(std::string_view line, std::size_t n) {
  std::vector<token> out;
  std::size_t pos = 0;
  while (out.size() < n) {
    while (pos < line.size() && line[pos] == ' ') ++pos;
    if (pos >= line.size()) break;
    auto start = pos;
    while (pos < line.size() && line[pos] != ' ') ++pos;
    out.push_back({line.substr(start, pos - start), pos});
  }
  return out;
}

inline std::optional<std::chrono::sys_seconds> make_time(int y, int mo, int d, int h, int mi,
                                                         int s) {
  using namespace std::chrono;
  if (mo < 1 || mo > 12 || h > 23 || mi > 59 || s > 60) return std::nullopt;
  year_month_day ymd{year{y}, month{unsigned(mo)}, day{unsigned(d)}};
  if (!ymd.ok()) return std::nullopt;
  return sys_days{ymd} + hours{h} + minutes{mi} + seconds{s};
}

// "HH:MM"
inline bool parse_clock(std::string_view t, int& h, int& m) noexcept {
  auto colon = t.find(':');
  std::uint64_t hv = 0, mv = 0;
  if (colon == std::string_view::npos || !parse_uint(t.substr(0, colon), hv, 2) ||
      t.size() - colon - 1 != 2 || !parse_uint(t.substr(colon + 1), mv, 2) || hv > 23 || mv > 59)
    return false;
  h = int(hv);
  m = int(mv);
  return true;
}

// "drwxr-xr-x" (+ an optional ACL/xattr marker '+', '@' or '.') → type and mode bits.
inline bool parse_unix_mode(std::string_view t, entry& e) noexcept {
  if (t.size() == 11 && (t[10] == '+' || t[10] == '@' || t[10] == '.')) t.remove_suffix(1);
  if (t.size() != 10) return false;
  switch (t[0]) {
    case '-': e.type = entry_type::file; break;
    case 'd': e.type = entry_type::directory; break;
    case 'l': e.type = entry_type::symlink; break;
    case 'b': case 'c': case 'p': case 's': case 'D': e.type = entry_type::other; break;
    default: return false;
  }
  std::uint32_t mode = 0;
  static constexpr char rwx[3] = {'r', 'w', 'x'};
  for (int i = 0; i < 9; ++i) {
    char c = t[1 + i];
    std::uint32_t bit = 1u << (8 - i);
    if (c == rwx[i % 3]) {
      mode |= bit;
    } else if (i % 3 == 2 && (c == 's' || c == 't')) {  // setuid/setgid/sticky with x
      mode |= bit | (i == 2 ? 04000u : i == 5 ? 02000u : 01000u);
    } else if (i % 3 == 2 && (c == 'S' || c == 'T')) {  // the same without x
      mode |= i == 2 ? 04000u : i == 5 ? 02000u : 01000u;
    } else if (c != '-') {
      return false;
    }
  }
  e.mode = mode;
  return true;
}

// Unix "ls -l" line. The columns between the mode and the size vary (links, owner, group; some
// servers omit the group), so the date is located first: a month name, a day and "HH:MM" or a
// year, right after the size. The name is everything after the single space that follows.
inline error_code parse_unix_list(std::string_view line, std::chrono::sys_days today, entry& e) {
  auto t = tokens(line, 9);
  if (t.size() < 5 || !parse_unix_mode(t[0].text, e)) return make_error_code(errc::bad_listing);
  for (std::size_t i = 2; i + 2 < t.size(); ++i) {
    int mon = month_index(t[i].text);
    std::uint64_t day = 0, size = 0;
    if (mon < 0 || !parse_uint(t[i + 1].text, day, 2) || !parse_uint(t[i - 1].text, size))
      continue;
    int h = 0, mi = 0;
    std::uint64_t year = 0;
    std::optional<std::chrono::sys_seconds> when;
    using namespace std::chrono;
    if (parse_clock(t[i + 2].text, h, mi)) {
      // No year: the last six months (ls). Take this year unless that is in the future.
      year_month_day now{today};
      int y = int(now.year());
      when = make_time(y, mon + 1, int(day), h, mi, 0);
      if (when && *when > sys_seconds{today} + days{2}) when = make_time(y - 1, mon + 1, int(day), h, mi, 0);
    } else if (parse_uint(t[i + 2].text, year, 4) && year >= 1900) {
      when = make_time(int(year), mon + 1, int(day), 0, 0, 0);
    } else {
      continue;
    }
    if (!when) return make_error_code(errc::bad_listing);
    auto name_at = t[i + 2].end + 1;
    if (name_at >= line.size()) return make_error_code(errc::bad_listing);
    std::string_view name = line.substr(name_at);
    if (e.type == entry_type::symlink) {
      auto arrow = name.find(" -> ");
      if (arrow != std::string_view::npos) {
        e.link_target = std::string{name.substr(arrow + 4)};
        name = name.substr(0, arrow);
      }
    }
    if (name.empty()) return make_error_code(errc::bad_listing);
    e.name = std::string{name};
    e.size = size;
    e.modified = when;
    // Owner and group: the tokens between the link count and the size, when there are two.
    if (i - 1 >= 3) {
      e.owner = std::string{t[2].text};
      if (i - 1 >= 4) e.group = std::string{t[3].text};
    }
    return {};
  }
  return make_error_code(errc::bad_listing);
}

// DOS/IIS: "MM-DD-YY  HH:MM(AM|PM)  (<DIR>|size)  name" (also 4-digit years and 24-hour times).
inline error_code parse_dos_list(std::string_view line, entry& e) {
  auto t = tokens(line, 3);
  if (t.size() < 3) return make_error_code(errc::bad_listing);
  auto date = t[0].text;
  std::uint64_t mo = 0, d = 0, y = 0;
  if (date.size() < 8 || date[2] != '-' || date[5] != '-' || !parse_uint(date.substr(0, 2), mo, 2) ||
      !parse_uint(date.substr(3, 2), d, 2) || !parse_uint(date.substr(6), y, 4) ||
      (date.size() != 8 && date.size() != 10))
    return make_error_code(errc::bad_listing);
  if (date.size() == 8) y += y < 70 ? 2000 : 1900;
  auto clock = t[1].text;
  bool pm = false, am = false;
  if (clock.size() > 2) {
    auto suffix = clock.substr(clock.size() - 2);
    pm = suffix == "PM" || suffix == "pm";
    am = suffix == "AM" || suffix == "am";
    if (pm || am) clock.remove_suffix(2);
  }
  int h = 0, mi = 0;
  if (!parse_clock(clock, h, mi) || ((am || pm) && (h < 1 || h > 12)))
    return make_error_code(errc::bad_listing);
  if (am && h == 12) h = 0;
  if (pm && h != 12) h += 12;
  auto when = make_time(int(y), int(mo), int(d), h, mi, 0);
  if (!when) return make_error_code(errc::bad_listing);
  std::uint64_t size = 0;
  if (t[2].text == "<DIR>") {
    e.type = entry_type::directory;
  } else if (parse_uint(t[2].text, size)) {
    e.type = entry_type::file;
    e.size = size;
  } else {
    return make_error_code(errc::bad_listing);
  }
  auto pos = t[2].end;
  while (pos < line.size() && line[pos] == ' ') ++pos;
  if (pos >= line.size()) return make_error_code(errc::bad_listing);
  e.name = std::string{line.substr(pos)};
  e.modified = when;
  return {};
}

}  // namespace detail

// One LIST line (without CR LF). `today` (UTC) resolves Unix dates that carry no year. out is left
// empty for lines that carry no entry ("total 12", blank lines).
inline error_code parse_list_line(std::string_view line, std::chrono::sys_days today,
                                  std::optional<entry>& out) {
  out.reset();
  if (line.size() > limits::ftp_max_line) return make_error_code(errc::line_too_long);
  if (line.find('\0') != std::string_view::npos) return make_error_code(errc::forbidden_character);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.find_first_not_of(' ') == std::string_view::npos) return {};
  if (line.substr(0, 6) == "total ") return {};
  entry e;
  error_code ec;
  if (line[0] >= '0' && line[0] <= '9')
    ec = detail::parse_dos_list(line, e);
  else
    ec = detail::parse_unix_list(line, today, e);
  if (!ec) out = std::move(e);
  return ec;
}

// RFC 3659 §2.3 time-val: YYYYMMDDHHMMSS[.sss], always UTC. Fractions are accepted and dropped.
inline error_code parse_mlsx_time(std::string_view t, std::chrono::sys_seconds& out) {
  auto dot = t.find('.');
  auto main = t.substr(0, dot);
  if (dot != std::string_view::npos) {
    std::uint64_t frac = 0;
    if (!detail::parse_uint(t.substr(dot + 1), frac, 9)) return make_error_code(errc::bad_listing);
  }
  std::uint64_t v[6];
  static constexpr std::size_t widths[6] = {4, 2, 2, 2, 2, 2};
  if (main.size() != 14) return make_error_code(errc::bad_listing);
  std::size_t pos = 0;
  for (int i = 0; i < 6; ++i) {
    if (!detail::parse_uint(main.substr(pos, widths[i]), v[i], widths[i]))
      return make_error_code(errc::bad_listing);
    pos += widths[i];
  }
  auto when = detail::make_time(int(v[0]), int(v[1]), int(v[2]), int(v[3]), int(v[4]), int(v[5]));
  if (!when) return make_error_code(errc::bad_listing);
  out = *when;
  return {};
}

inline std::string format_mlsx_time(std::chrono::sys_seconds t) {
  using namespace std::chrono;
  auto day = floor<days>(t);
  year_month_day ymd{day};
  hh_mm_ss hms{t - day};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02u%02u%02d%02d%02d", int(ymd.year()),
                unsigned(ymd.month()), unsigned(ymd.day()), int(hms.hours().count()),
                int(hms.minutes().count()), int(hms.seconds().count()));
  return buf;
}

// One MLSD line or MLST entry (RFC 3659 §7.2): "fact=value;fact=value; name". A leading space
// (MLST replies) is accepted. Known facts fill the typed fields; all facts are kept in `facts`.
inline error_code parse_mlsx_line(std::string_view line, entry& out) {
  if (line.size() > limits::ftp_max_line) return make_error_code(errc::line_too_long);
  if (line.find('\0') != std::string_view::npos) return make_error_code(errc::forbidden_character);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (!line.empty() && line[0] == ' ' && line.size() > 1 && line[1] != ' ') {
    // "  name" (no facts) vs " facts; name" from MLST: a fact list has '=' before the first space.
    auto next_sp = line.find(' ', 1);
    if (line.substr(1, next_sp).find('=') != std::string_view::npos) line.remove_prefix(1);
  }
  auto sp = line.find(' ');
  if (sp == std::string_view::npos || sp + 1 >= line.size())
    return make_error_code(errc::bad_listing);
  auto facts = line.substr(0, sp);
  entry e;
  e.type = entry_type::other;
  bool have_type = false;
  e.name = std::string{line.substr(sp + 1)};
  while (!facts.empty()) {
    auto semi = facts.find(';');
    if (semi == std::string_view::npos) return make_error_code(errc::bad_listing);
    auto fact = facts.substr(0, semi);
    facts.remove_prefix(semi + 1);
    auto eq = fact.find('=');
    if (eq == 0 || eq == std::string_view::npos) return make_error_code(errc::bad_listing);
    if (e.facts.size() == limits::ftp_max_facts) return make_error_code(errc::bad_listing);
    std::string name;
    for (char c : fact.substr(0, eq)) name += detail::lower(c);
    std::string value{fact.substr(eq + 1)};
    std::string lvalue;
    for (char c : value) lvalue += detail::lower(c);
    if (name == "type") {
      have_type = true;
      if (lvalue == "file") e.type = entry_type::file;
      else if (lvalue == "dir") e.type = entry_type::directory;
      else if (lvalue == "cdir") e.type = entry_type::current_dir;
      else if (lvalue == "pdir") e.type = entry_type::parent_dir;
      else if (lvalue.starts_with("os.unix=slink") || lvalue.starts_with("os.unix=symlink")) {
        e.type = entry_type::symlink;
        auto colon = value.find(':');
        if (colon != std::string::npos) e.link_target = value.substr(colon + 1);
      } else e.type = entry_type::other;
    } else if (name == "size" || name == "sizd") {
      std::uint64_t v = 0;
      if (!detail::parse_uint(value, v)) return make_error_code(errc::bad_listing);
      if (name == "size" || !e.size) e.size = v;
    } else if (name == "modify") {
      std::chrono::sys_seconds t;
      if (auto ec = parse_mlsx_time(value, t)) return ec;
      e.modified = t;
    } else if (name == "unix.mode") {
      std::uint64_t v = 0;
      if (value.empty() || value.size() > 5) return make_error_code(errc::bad_listing);
      for (char c : value) {
        if (c < '0' || c > '7') return make_error_code(errc::bad_listing);
        v = v * 8 + std::uint64_t(c - '0');
      }
      e.mode = std::uint32_t(v);
    } else if (name == "unix.owner" || name == "unix.ownername") {
      e.owner = value;
    } else if (name == "unix.group" || name == "unix.groupname") {
      e.group = value;
    }
    e.facts.emplace_back(std::move(name), std::move(value));
  }
  if (!have_type) e.type = entry_type::file;  // RFC 3659 §7.5.1 leaves it to the client
  out = std::move(e);
  return {};
}

// An "ls -l" line as vsftpd sends it: times within six months of `now` show the clock, older and
// future ones the year.
inline std::string format_list_line(const entry& e, std::chrono::sys_seconds now) {
  using namespace std::chrono;
  std::string perms = "----------";
  switch (e.type) {
    case entry_type::directory: case entry_type::current_dir: case entry_type::parent_dir:
      perms[0] = 'd'; break;
    case entry_type::symlink: perms[0] = 'l'; break;
    default: break;
  }
  auto mode = e.mode.value_or(e.type == entry_type::file ? 0644u : 0755u);
  static constexpr char rwx[3] = {'r', 'w', 'x'};
  for (int i = 0; i < 9; ++i)
    if (mode & (1u << (8 - i))) perms[1 + i] = rwx[i % 3];
  if (mode & 04000) perms[3] = perms[3] == 'x' ? 's' : 'S';
  if (mode & 02000) perms[6] = perms[6] == 'x' ? 's' : 'S';
  if (mode & 01000) perms[9] = perms[9] == 'x' ? 't' : 'T';
  auto when = e.modified.value_or(sys_seconds{});
  auto day = floor<days>(when);
  year_month_day ymd{day};
  hh_mm_ss hms{when - day};
  char date[32];
  bool recent = when <= now + hours{24} && when > now - days{182};
  if (recent)
    std::snprintf(date, sizeof date, "%.3s %02u %02d:%02d",
                  detail::month_names[unsigned(ymd.month()) - 1].data(), unsigned(ymd.day()),
                  int(hms.hours().count()), int(hms.minutes().count()));
  else
    std::snprintf(date, sizeof date, "%.3s %02u  %04d",
                  detail::month_names[unsigned(ymd.month()) - 1].data(), unsigned(ymd.day()),
                  int(ymd.year()));
  std::string d{date};
  char head[160];
  std::snprintf(head, sizeof head, "%s %4d %-8s %-8s %12llu ", perms.c_str(), 1,
                e.owner.empty() ? "ftp" : e.owner.c_str(), e.group.empty() ? "ftp" : e.group.c_str(),
                static_cast<unsigned long long>(e.size.value_or(0)));
  std::string line = head;
  line += d;
  line += ' ';
  line += e.name;
  if (e.type == entry_type::symlink && !e.link_target.empty()) {
    line += " -> ";
    line += e.link_target;
  }
  return line;
}

// An MLSD line (RFC 3659 §7.2) with the facts a server has: type, size (files), modify, perm (if
// given as a fact), UNIX.mode.
inline std::string format_mlsx_line(const entry& e) {
  std::string s = "type=";
  switch (e.type) {
    case entry_type::file: s += "file"; break;
    case entry_type::directory: s += "dir"; break;
    case entry_type::current_dir: s += "cdir"; break;
    case entry_type::parent_dir: s += "pdir"; break;
    case entry_type::symlink: s += "OS.unix=slink"; break;
    case entry_type::other: s += "OS.unix=other"; break;
  }
  s += ';';
  if (e.size && e.type == entry_type::file) s += "size=" + std::to_string(*e.size) + ';';
  if (e.modified) s += "modify=" + format_mlsx_time(*e.modified) + ';';
  if (auto* perm = e.fact("perm")) s += "perm=" + *perm + ';';
  if (e.mode) {
    char m[16];
    std::snprintf(m, sizeof m, "%04o", unsigned(*e.mode));
    s += "UNIX.mode=";
    s += m;
    s += ';';
  }
  s += ' ';
  s += e.name;
  return s;
}

}  // namespace ferry::ftp
