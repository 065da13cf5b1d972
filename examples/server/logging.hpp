// ferry-server's log: one line per login, per transfer (user, peer, path, bytes, seconds, MB/s)
// and per refusal, on stderr, with a UTC timestamp. -q keeps only errors, -v adds protocol detail.
#pragma once

#include <ferry/ftp/server/options.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <string>
#include <string_view>

namespace ferry_server {

class logger {
 public:
  explicit logger(int verbosity) : verbosity_(verbosity) {}

  int verbosity() const noexcept { return verbosity_; }

  void info(std::string_view text) const {
    if (verbosity_ >= 1) line(text);
  }
  void detail(std::string_view text) const {
    if (verbosity_ >= 2) line(text);
  }
  void error(std::string_view text) const { line(text); }

  void login(std::string_view proto, std::string_view user, std::string_view peer,
             std::string_view how) const {
    info(std::string{proto} + " login user=" + std::string{user} +
         (peer.empty() ? "" : " peer=" + std::string{peer}) +
         (how.empty() ? "" : " method=" + std::string{how}));
  }

  void refusal(std::string_view proto, std::string_view peer, std::string_view why) const {
    info(std::string{proto} + " refused peer=" + std::string{peer} + " " + std::string{why});
  }

  void transfer(std::string_view proto, std::string_view user, std::string_view peer,
                std::string_view direction, std::string_view path, std::uint64_t bytes,
                double seconds, bool ok, std::string_view note = {}) const {
    char rate[64];
    std::snprintf(rate, sizeof rate, " seconds=%.3f MB/s=%.1f", seconds,
                  seconds > 0 ? double(bytes) / seconds / 1e6 : 0.0);
    info(std::string{proto} + " " + std::string{direction} + " user=" + std::string{user} +
         " peer=" + std::string{peer} + " path=" + std::string{path} +
         " bytes=" + std::to_string(bytes) + rate + (ok ? "" : " FAILED") +
         (note.empty() ? "" : " " + std::string{note}));
  }

  void ftp(const ferry::ftp::server_event& e) const {
    using kind = ferry::ftp::server_event::kind;
    switch (e.what) {
      case kind::login: login("ftp", e.user, e.peer, e.detail); break;
      case kind::login_failed:
        refusal("ftp", e.peer, "login user=" + e.user + (e.detail.empty() ? "" : " " + e.detail));
        break;
      case kind::transfer:
        transfer("ftp", e.user, e.peer, e.detail, e.path, e.bytes, e.seconds, e.ok);
        break;
      case kind::refusal: refusal("ftp", e.peer, e.detail); break;
      case kind::disconnect: detail("ftp disconnect peer=" + e.peer + " " + e.detail); break;
    }
  }

 private:
  void line(std::string_view text) const {
    auto now = std::chrono::system_clock::now();
    auto t = std::chrono::system_clock::to_time_t(now);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    std::lock_guard lk{m_};
    std::fprintf(stderr, "%s %.*s\n", stamp, int(text.size()), text.data());
  }

  int verbosity_;
  mutable std::mutex m_;
};

}  // namespace ferry_server
