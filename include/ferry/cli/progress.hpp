// The progress line the command-line programs (ferry-ftp, ferry-sftp, ferry-scp) print while a
// file moves, in the shape of OpenSSH's progressmeter.c:
//
//   big.iso                                      45%  459MB 229.4MB/s   00:02 ETA
//   big.iso                                     100% 1024MB 231.0MB/s   00:04
//
// Plain C++ (no Asio, no terminal I/O): the formatter is a pure function and progress_meter takes
// the time from its caller, so both are tested without a clock or a TTY. The program decides
// whether to print (only on a TTY, not with -q) and writes "\r" + line, then "\n" at the end.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace ferry::cli {

// A byte count in at most four digits and a unit: "   0B", " 999B", "1023KB", "  57MB", "1024MB".
inline std::string format_size(std::uint64_t bytes) {
  static constexpr const char* units[] = {"B", "KB", "MB", "GB", "TB", "PB", "EB"};
  std::size_t u = 0;
  std::uint64_t v = bytes;
  // Like OpenSSH: stay in a unit while the number fits in four digits (below 10 000), so
  // "1023KB" rather than "1.0MB".
  while (v >= 10000 && u + 1 < std::size(units)) {
    v = (v + 512) / 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%4llu%s", static_cast<unsigned long long>(v), units[u]);
  return buf;
}

// A rate with one decimal: "  0.0KB/s", "229.4MB/s", "  1.1GB/s".
inline std::string format_rate(double bytes_per_second) {
  static constexpr const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  if (!(bytes_per_second > 0)) bytes_per_second = 0;  // also NaN
  std::size_t u = 0;
  double v = bytes_per_second;
  while (v >= 999.95 && u + 1 < std::size(units)) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%5.1f%s/s", v, units[u]);
  return buf;
}

// mm:ss, or hh:mm:ss from an hour on ("99:59:59" at most).
inline std::string format_duration(std::chrono::seconds d) {
  auto s = std::max<std::int64_t>(0, d.count());
  s = std::min<std::int64_t>(s, 99 * 3600 + 59 * 60 + 59);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  else
    std::snprintf(buf, sizeof buf, "%02lld:%02lld", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  return buf;
}

struct progress_snapshot {
  std::string_view name;
  std::uint64_t done = 0;               // bytes of the file present (a resume offset included)
  std::optional<std::uint64_t> total;   // the file's size, when known
  double bytes_per_second = 0;
  bool finished = false;                // then `elapsed` replaces the ETA
  std::chrono::seconds elapsed{0};
};

// One line of exactly `width` columns (at least 40 are used): the name (cut at the front with
// ".." when it does not fit), percent, bytes, rate, ETA ("--:-- ETA" while unknown) or, once
// finished, the elapsed time.
inline std::string format_progress_line(const progress_snapshot& s, std::size_t width = 80) {
  width = std::max<std::size_t>(width, 40);
  std::string right;
  if (s.total) {
    auto pct = *s.total == 0 ? 100 : std::min<std::uint64_t>(100, s.done * 100 / *s.total);
    char buf[8];
    std::snprintf(buf, sizeof buf, "%3u%%", static_cast<unsigned>(pct));
    right += buf;
  } else {
    right += "    ";
  }
  right += ' ';
  right += format_size(s.done);
  right += ' ';
  right += format_rate(s.bytes_per_second);
  right += ' ';
  if (s.finished) {
    right += "  " + format_duration(s.elapsed) + "    ";
  } else if (s.total && s.bytes_per_second > 0 && s.done <= *s.total) {
    auto left = double(*s.total - s.done) / s.bytes_per_second;
    right += "  " + format_duration(std::chrono::seconds(std::int64_t(left + 0.5))) + " ETA";
  } else {
    right += "  --:-- ETA";
  }
  // The name field takes what is left, one space before the numbers.
  std::size_t name_width = width - 1 - right.size();
  std::string name{s.name};
  if (name.size() > name_width) name = ".." + name.substr(name.size() - (name_width - 2));
  name.resize(name_width, ' ');
  return name + ' ' + right;
}

// Tracks one transfer and says when to redraw. The rate is smoothed (an exponentially weighted
// average over update intervals, like OpenSSH's), so one slow write does not make the ETA jump.
class progress_meter {
 public:
  using clock = std::chrono::steady_clock;

  // offset: bytes already there when the transfer started (a resumed file); they count for the
  // percentage but not for the rate.
  progress_meter(std::string name, std::optional<std::uint64_t> total, std::uint64_t offset,
                 clock::time_point start, std::chrono::milliseconds interval = std::chrono::milliseconds(250))
      : name_(std::move(name)),
        total_(total),
        offset_(offset),
        start_(start),
        last_(start),
        interval_(interval) {}

  // done: bytes moved in this transfer (offset not included). Returns a line when one is due (the
  // first call, then at most once per interval).
  std::optional<std::string> update(std::uint64_t done, clock::time_point now, std::size_t width = 80) {
    if (drawn_ && now - last_ < interval_) return std::nullopt;
    double dt = std::chrono::duration<double>(now - last_).count();
    if (dt > 0) {
      double instant = double(done - std::min(done, last_done_)) / dt;
      rate_ = have_rate_ ? 0.7 * rate_ + 0.3 * instant : instant;
      have_rate_ = true;
    }
    last_ = now;
    last_done_ = done;
    drawn_ = true;
    return format_progress_line(snapshot(done, rate_, false, now), width);
  }

  // The final line: the average rate over the whole transfer and the time it took.
  std::string finish(std::uint64_t done, clock::time_point now, std::size_t width = 80) const {
    double secs = std::chrono::duration<double>(now - start_).count();
    double rate = secs > 0 ? double(done) / secs : 0;
    return format_progress_line(snapshot(done, rate, true, now), width);
  }

 private:
  progress_snapshot snapshot(std::uint64_t done, double rate, bool finished,
                             clock::time_point now) const {
    progress_snapshot s;
    s.name = name_;
    s.done = offset_ + done;
    s.total = total_;
    s.bytes_per_second = rate;
    s.finished = finished;
    s.elapsed = std::chrono::duration_cast<std::chrono::seconds>(now - start_ + std::chrono::milliseconds(500));
    return s;
  }

  std::string name_;
  std::optional<std::uint64_t> total_;
  std::uint64_t offset_;
  clock::time_point start_;
  clock::time_point last_;
  std::chrono::milliseconds interval_;
  std::uint64_t last_done_ = 0;
  double rate_ = 0;
  bool have_rate_ = false;
  bool drawn_ = false;
};

}  // namespace ferry::cli
