// SCP errors: a malformed or unexpected record from the peer, a hostile name, and the peer's own
// error acknowledgements (1 = warning, 2 = fatal; OpenSSH scp.c response()). The peer's message
// text travels next to the code in the state machines' actions, since an error_code cannot hold it.
#pragma once

#include <ferry/core/error.hpp>

#include <string>

namespace ferry::scp {

enum class errc {
  line_too_long = 1,     // a record or message line above limits::scp_max_line
  bad_record,            // a line that is not a C, D, E or T record
  bad_mode,              // a mode that is not exactly four octal digits
  bad_size,              // a size that is not decimal or is above limits::scp_max_size
  bad_time,              // T record times that do not parse or are out of range
  bad_name,              // empty, ".", "..", containing '/' or NUL, or longer than a file name
  unexpected_record,     // a record the options or the state forbid (D without -r, E at depth
                         // 0, T without -p, T not followed by C or D)
  unrequested_name,      // a download sent a name other than the one requested, or one too many
  too_deep,              // directories nested deeper than limits::scp_max_depth
  bad_ack,               // a byte other than 0, 1 or 2 where an acknowledgement was due
  peer_warning,          // the peer answered 1 + message: that entry failed, the transfer goes on
  peer_error,            // the peer answered 2 + message: the transfer is over
  target_not_directory,  // -d, and the target is not a directory
  truncated,             // the stream ended inside a record, a file or a directory
  bad_entry,             // the local side asked the source to send an entry it cannot describe
  bad_command,           // an exec command line that is not a plain `scp -t|-f [options] paths`
  partial,               // the transfer ran to its end, but some entries failed (see warnings)
};

class error_category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "ferry.scp"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::line_too_long: return "SCP record line too long";
      case errc::bad_record: return "malformed SCP record";
      case errc::bad_mode: return "SCP record mode is not four octal digits";
      case errc::bad_size: return "SCP record size out of range or not a number";
      case errc::bad_time: return "SCP times record out of range or malformed";
      case errc::bad_name: return "SCP record names an unsafe file name";
      case errc::unexpected_record: return "unexpected SCP record";
      case errc::unrequested_name: return "SCP peer sent a file that was not requested";
      case errc::too_deep: return "SCP directories nested too deep";
      case errc::bad_ack: return "malformed SCP acknowledgement";
      case errc::peer_warning: return "SCP peer reported an error";
      case errc::peer_error: return "SCP peer reported a fatal error";
      case errc::target_not_directory: return "SCP target is not a directory";
      case errc::truncated: return "SCP stream ended early";
      case errc::bad_entry: return "SCP entry cannot be sent";
      case errc::bad_command: return "SCP command line not understood";
      case errc::partial: return "some SCP entries could not be copied";
    }
    return "unknown SCP error";
  }
};

inline const boost::system::error_category& scp_category() noexcept {
  static const error_category cat;
  return cat;
}

inline error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), scp_category()}; }

}  // namespace ferry::scp

template <>
struct boost::system::is_error_code_enum<ferry::scp::errc> : std::true_type {};
