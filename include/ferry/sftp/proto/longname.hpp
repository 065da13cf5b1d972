// The `ls -l` line a v3 server puts in the longname of each SSH_FXP_NAME entry
// (draft-ietf-secsh-filexfer-02 §7 leaves the format open; clients such as OpenSSH's sftp show it
// as is, so this follows what OpenSSH's sftp-server sends, ls_file() in sftp-common.c):
//
//   -rw-r--r--    1 alice    staff        1234 Mar  5 14:07 notes.txt
//
// mode string and a space, link count in 3 columns, owner and group left-aligned in at least 8,
// size in 8, then "Mon DD HH:MM" for times in the last six months or "Mon DD  YYYY" otherwise (and
// for times in the future). Times are shown in UTC: the server passes `now`, so the output does
// not depend on the host's time zone.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace ferry::sftp::proto {

struct longname_fields {
  std::string_view name;
  std::uint32_t mode = 0;  // st_mode: type and permission bits
  std::uint64_t link_count = 1;
  std::string_view owner;  // a name, or the uid as decimal when the name is unknown
  std::string_view group;
  std::uint64_t size = 0;
  std::int64_t mtime = 0;  // seconds since the epoch
};

// strmode(3): the type character then rwx for user, group and other, with setuid/setgid/sticky
// shown as s/S and t/T in the execute columns.
inline std::string mode_string(std::uint32_t mode) {
  std::string s(10, '-');
  switch (mode & 0170000) {
    case 0040000: s[0] = 'd'; break;
    case 0120000: s[0] = 'l'; break;
    case 0100000: s[0] = '-'; break;
    case 0020000: s[0] = 'c'; break;
    case 0060000: s[0] = 'b'; break;
    case 0010000: s[0] = 'p'; break;
    case 0140000: s[0] = 's'; break;
    default: s[0] = '?'; break;
  }
  const char rwx[] = {'r', 'w', 'x'};
  for (int i = 0; i < 9; ++i)
    if (mode & (0400u >> i)) s[1 + i] = rwx[i % 3];
  auto special = [&](std::size_t at, std::uint32_t bit, char set) {
    if (!(mode & bit)) return;
    s[at] = s[at] == 'x' ? set : static_cast<char>(set - 'a' + 'A');
  };
  special(3, 04000, 's');
  special(6, 02000, 's');
  special(9, 01000, 't');
  return s;
}

inline std::string format_longname(const longname_fields& f, std::int64_t now) {
  using namespace std::chrono;
  static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  auto t = sys_seconds{seconds{f.mtime}};
  auto day = floor<days>(t);
  year_month_day ymd{day};
  hh_mm_ss hms{t - day};
  // sftp-common.c: "now - (365*24*60*60)/2 < mtime && now >= mtime" shows the clock.
  constexpr std::int64_t half_year = 365 * 24 * 60 * 60 / 2;
  bool recent = now - half_year < f.mtime && now >= f.mtime;
  char date[32];
  auto mon = months[unsigned(ymd.month()) - 1];
  if (recent)
    std::snprintf(date, sizeof date, "%s %2u %02d:%02d", mon, unsigned(ymd.day()),
                  int(hms.hours().count()), int(hms.minutes().count()));
  else
    std::snprintf(date, sizeof date, "%s %2u  %d", mon, unsigned(ymd.day()), int(ymd.year()));

  std::string out = mode_string(f.mode);
  auto pad_right = [&](std::string_view v, std::size_t w) {
    out += v;
    if (v.size() < w) out.append(w - v.size(), ' ');
  };
  auto pad_left = [&](std::string v, std::size_t w) {
    if (v.size() < w) out.append(w - v.size(), ' ');
    out += v;
  };
  out += "  ";  // strmode's trailing space, then the separator
  pad_left(std::to_string(f.link_count), 3);
  out += ' ';
  pad_right(f.owner, 8);
  out += ' ';
  pad_right(f.group, 8);
  out += ' ';
  pad_left(std::to_string(f.size), 8);
  out += ' ';
  out += date;
  out += ' ';
  out += f.name;
  return out;
}

}  // namespace ferry::sftp::proto
