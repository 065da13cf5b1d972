// FTP errors. Two categories:
//  - ftp::errc: ferry's own protocol failures (a malformed reply, a hostile 227, bytes pipelined
//    after 234, a line over the cap);
//  - the reply category: an error_code whose value IS the server's reply code (550, 421, ...), so a
//    caller can switch on it. Its conditions give the reply class: 4yz is transient (the same
//    command may succeed later), 5yz is permanent (RFC 959 §4.2.1). The reply text is kept by the
//    client (client::last_reply()), since an error_code cannot carry it.
#pragma once

#include <ferry/core/error.hpp>

#include <boost/system/error_code.hpp>

#include <string>

namespace ferry::ftp {

enum class errc {
  line_too_long = 1,    // a control line above limits::ftp_max_line
  bad_reply,            // a reply line that is not "ddd text" / "ddd-text" (RFC 959 §4.2)
  reply_too_long,       // a multi-line reply above ftp_max_reply_lines / ftp_max_reply_bytes
  bad_command,          // a command line that is not "VERB[ SP argument]" (RFC 959 §5.3)
  forbidden_character,  // CR, LF or NUL inside a command argument or reply text
  bad_address,          // a 227/229 reply or a PORT/EPRT argument that does not parse
  bad_listing,          // a LIST or MLSx line that does not parse
  pipelined_after_tls,  // bytes followed the 234 reply in the same plaintext read (RFC 4217 §6)
  unexpected_reply,     // a reply code the current command does not allow
  connection_closed,    // the control connection ended before a complete reply
  not_connected,        // an operation that needs a logged-in control connection
  bad_url,              // an ftp:// / ftps:// URL that does not parse (ftp/proto/url.hpp)
};

class error_category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "ferry.ftp"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::line_too_long: return "FTP control line too long";
      case errc::bad_reply: return "malformed FTP reply";
      case errc::reply_too_long: return "FTP multi-line reply too long";
      case errc::bad_command: return "malformed FTP command";
      case errc::forbidden_character: return "CR, LF or NUL inside an FTP argument";
      case errc::bad_address: return "malformed FTP host/port";
      case errc::bad_listing: return "malformed FTP directory listing line";
      case errc::pipelined_after_tls: return "data pipelined after the AUTH TLS reply";
      case errc::unexpected_reply: return "unexpected FTP reply";
      case errc::connection_closed: return "FTP control connection closed";
      case errc::not_connected: return "FTP client not connected";
      case errc::bad_url: return "malformed ftp:// or ftps:// URL";
    }
    return "unknown FTP error";
  }
};

inline const boost::system::error_category& ftp_category() noexcept {
  static const error_category cat;
  return cat;
}

inline error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), ftp_category()}; }

// The class of a negative reply (RFC 959 §4.2.1, first digit).
enum class reply_class {
  transient = 1,  // 4yz: transient negative completion
  permanent,      // 5yz: permanent negative completion
  unexpected,     // 1yz/2yz/3yz where the command needed something else
};

}  // namespace ferry::ftp

template <>
struct boost::system::is_error_code_enum<ferry::ftp::errc> : std::true_type {};
template <>
struct boost::system::is_error_condition_enum<ferry::ftp::reply_class> : std::true_type {};

namespace ferry::ftp {
class reply_class_category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "ferry.ftp.reply_class"; }
  std::string message(int ev) const override {
    switch (static_cast<reply_class>(ev)) {
      case reply_class::transient: return "transient negative FTP reply (4yz)";
      case reply_class::permanent: return "permanent negative FTP reply (5yz)";
      case reply_class::unexpected: return "unexpected positive FTP reply";
    }
    return "unknown FTP reply class";
  }
};

inline const boost::system::error_category& reply_class_category_instance() noexcept {
  static const reply_class_category cat;
  return cat;
}

inline boost::system::error_condition make_error_condition(reply_class c) noexcept {
  return {static_cast<int>(c), reply_class_category_instance()};
}

class reply_category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "ferry.ftp.reply"; }
  std::string message(int ev) const override {
    // RFC 959 §4.2.2 wording for the negative replies a client usually sees.
    switch (ev) {
      case 421: return "421 service not available, closing control connection";
      case 425: return "425 can't open data connection";
      case 426: return "426 connection closed; transfer aborted";
      case 430: return "430 invalid username or password";
      case 450: return "450 requested file action not taken";
      case 451: return "451 requested action aborted: local error in processing";
      case 452: return "452 insufficient storage space";
      case 500: return "500 syntax error, command unrecognized";
      case 501: return "501 syntax error in parameters or arguments";
      case 502: return "502 command not implemented";
      case 503: return "503 bad sequence of commands";
      case 504: return "504 command not implemented for that parameter";
      case 522: return "522 network protocol not supported";  // RFC 2428 §2
      case 530: return "530 not logged in";
      case 532: return "532 need account for storing files";
      case 534: return "534 request denied for policy reasons";  // RFC 2228
      case 550: return "550 file unavailable";
      case 551: return "551 page type unknown";
      case 552: return "552 exceeded storage allocation";
      case 553: return "553 file name not allowed";
    }
    return "FTP reply " + std::to_string(ev);
  }
  boost::system::error_condition default_error_condition(int ev) const noexcept override {
    if (ev >= 400 && ev < 500) return make_error_condition(reply_class::transient);
    if (ev >= 500 && ev < 600) return make_error_condition(reply_class::permanent);
    return make_error_condition(reply_class::unexpected);
  }
};

inline const boost::system::error_category& ftp_reply_category() noexcept {
  static const reply_category cat;
  return cat;
}

// An error_code for a reply the operation did not want; value() is the reply code.
inline error_code make_reply_error(int code) noexcept { return {code, ftp_reply_category()}; }

inline bool is_transient(const error_code& ec) noexcept { return ec == reply_class::transient; }
inline bool is_permanent(const error_code& ec) noexcept { return ec == reply_class::permanent; }

}  // namespace ferry::ftp
