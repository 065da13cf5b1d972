// RFC 4253 §4.2 protocol version exchange, sans-I/O.
//
// Each side sends "SSH-2.0-softwareversion SP comments CR LF" (at most 255 characters with CR LF).
// A server may send other lines first (a client tolerates up to limits::max_pre_banner_lines of
// them); a client must start with its identification, so a server refuses anything else. The
// parser consumes bytes only up to the end of the identification line: packet bytes that arrive
// in the same read stay with the caller.
#pragma once

#include <ferry/core/bytes.hpp>
#include <ferry/core/limits.hpp>
#include <ferry/ssh/error.hpp>

#include <algorithm>
#include <string>
#include <string_view>

namespace ferry::ssh::proto {

enum class role { client, server };

// Our own identification line, CR LF included. version must be printable US-ASCII without spaces
// or '-' (RFC 4253 §4.2); the caller's options are checked when the transport is built.
inline std::string make_identification(std::string_view software_version,
                                       std::string_view comments = {}) {
  std::string s = "SSH-2.0-";
  s += software_version;
  if (!comments.empty()) {
    s += ' ';
    s += comments;
  }
  s += "\r\n";
  return s;
}

class identification_parser {
 public:
  enum class status { need_more, done, failed };

  explicit identification_parser(role local) noexcept : local_(local) {}

  // Consumes bytes from in; consumed says how many. Once done, identification() is the peer's
  // line without CR LF (as it enters the exchange hash, RFC 4253 §8).
  status feed(byte_view in, std::size_t& consumed) {
    consumed = 0;
    if (st_ != status::need_more) return st_;
    for (auto b : in) {
      ++consumed;
      ++total_;
      if (b == '\n') {
        if (!line_.empty() && line_.back() == '\r') line_.pop_back();
        if (finish_line()) return st_;
        continue;
      }
      // RFC 4253 §4.2: the line must not contain a NUL (other lines are only bounded).
      if (b == '\0' && (line_starts_ssh() || local_ == role::server))
        return fail(disconnect_reason::protocol_error);
      line_.push_back(static_cast<char>(b));
      // The identification line is at most 255 bytes with CR LF; other server lines the same, as
      // OpenSSH's client reads them.
      if (line_.size() + 1 > limits::max_identification_line)
        return fail(disconnect_reason::protocol_error);
      if (local_ == role::server && !could_be_ssh())
        return fail(disconnect_reason::protocol_error);
      if (total_ > limits::max_pre_banner_bytes) return fail(disconnect_reason::protocol_error);
    }
    return st_;
  }

  status state() const noexcept { return st_; }
  error_code error() const noexcept { return ec_; }
  const std::string& identification() const noexcept { return ident_; }

 private:
  bool line_starts_ssh() const noexcept { return line_.size() >= 4 && line_.compare(0, 4, "SSH-") == 0; }
  bool could_be_ssh() const noexcept {
    std::string_view p = "SSH-";
    auto n = std::min(line_.size(), p.size());
    return std::string_view{line_}.substr(0, n) == p.substr(0, n);
  }

  status fail(disconnect_reason r) {
    ec_ = make_error_code(r);
    st_ = status::failed;
    return st_;
  }

  // True when the parser reached a final state.
  bool finish_line() {
    if (line_starts_ssh()) {
      if (line_.find('\0') != std::string::npos) {
        fail(disconnect_reason::protocol_error);
        return true;
      }
      // RFC 4253 §5.1: "1.99" is a server that also speaks 2.0.
      std::string_view v{line_};
      if (v.substr(0, 8) != "SSH-2.0-" && v.substr(0, 9) != "SSH-1.99-") {
        fail(disconnect_reason::protocol_version_not_supported);
        return true;
      }
      ident_ = std::move(line_);
      st_ = status::done;
      return true;
    }
    if (local_ == role::server || ++other_lines_ > limits::max_pre_banner_lines) {
      fail(disconnect_reason::protocol_error);
      return true;
    }
    line_.clear();
    return false;
  }

  role local_;
  status st_ = status::need_more;
  error_code ec_;
  std::string line_;
  std::string ident_;
  std::size_t other_lines_ = 0;
  std::size_t total_ = 0;
};

}  // namespace ferry::ssh::proto
