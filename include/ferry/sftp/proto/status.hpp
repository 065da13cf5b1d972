// SFTP status codes (draft-ietf-secsh-filexfer-02 §7, SSH_FX_*) as a Boost.System error category,
// and the one place that maps them to and from errno / std::errc values, in both directions.
//
// status::ok is 0, so make_error_code(status::ok) is "no error" like any Boost.System code. The
// category's default_error_condition gives the generic (errno) condition, so a client can write
// `if (ec == boost::system::errc::no_such_file_or_directory)` for an SSH_FX_NO_SUCH_FILE reply.
#pragma once

#include <ferry/core/error.hpp>

#include <boost/system/errc.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace ferry::sftp {

// draft-ietf-secsh-filexfer-02 §7. Version 3 defines 0..8; later drafts add more, which a v3 peer
// must not send, so they are kept out of the enum and reported as "SFTP status N".
enum class status : std::uint32_t {
  ok = 0,
  eof = 1,
  no_such_file = 2,
  permission_denied = 3,
  failure = 4,
  bad_message = 5,
  no_connection = 6,
  connection_lost = 7,
  op_unsupported = 8,
};

class status_category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "ferry.sftp"; }

  std::string message(int ev) const override {
    switch (static_cast<status>(ev)) {
      case status::ok: return "success";
      case status::eof: return "end of file";
      case status::no_such_file: return "no such file";
      case status::permission_denied: return "permission denied";
      case status::failure: return "failure";
      case status::bad_message: return "bad message";
      case status::no_connection: return "no connection";
      case status::connection_lost: return "connection lost";
      case status::op_unsupported: return "operation unsupported";
    }
    return "SFTP status " + std::to_string(static_cast<std::uint32_t>(ev));
  }

  // status -> errno, the direction a client needs. eof has no errno; it stays in this category.
  boost::system::error_condition default_error_condition(int ev) const noexcept override {
    using boost::system::errc::errc_t;
    namespace e = boost::system::errc;
    auto to = [](errc_t c) { return boost::system::error_condition{c}; };
    switch (static_cast<status>(ev)) {
      case status::ok: return {};
      case status::no_such_file: return to(e::no_such_file_or_directory);
      case status::permission_denied: return to(e::permission_denied);
      case status::failure: return to(e::io_error);
      case status::bad_message: return to(e::bad_message);
      case status::no_connection: return to(e::not_connected);
      case status::connection_lost: return to(e::connection_aborted);
      case status::op_unsupported: return to(e::operation_not_supported);
      case status::eof: break;
    }
    return {ev, *this};
  }
};

inline const boost::system::error_category& sftp_category() noexcept {
  static const status_category cat;
  return cat;
}

inline error_code make_error_code(status s) noexcept {
  return {static_cast<int>(s), sftp_category()};
}

// A status code as received (any uint32, including codes of later drafts) as an error_code.
inline error_code status_code(std::uint32_t code) noexcept {
  return {static_cast<int>(code), sftp_category()};
}

// errno (or any error_code) -> the v3 status a server answers with. This follows OpenSSH's
// sftp-server errno_to_portable(): ENOENT, ENOTDIR, EBADF and ELOOP are "no such file"; EPERM,
// EACCES and EFAULT "permission denied"; ENAMETOOLONG and EINVAL "bad message"; ENOSYS
// "unsupported"; anything else "failure". EBADMSG and EOPNOTSUPP are added so that every code
// with an errno maps back to itself. Codes already in the sftp category pass through
// (v3 ones only), ferry::errc::unsupported is "unsupported", and Asio's end-of-file (matched by
// category name, since this layer never includes Asio) is "eof".
inline status to_status(const error_code& ec) noexcept {
  if (!ec) return status::ok;
  const auto& cat = ec.category();
  if (cat == sftp_category()) {
    auto v = static_cast<std::uint32_t>(ec.value());
    return v <= static_cast<std::uint32_t>(status::op_unsupported) ? static_cast<status>(v)
                                                                     : status::failure;
  }
  if (cat == ferry_category()) {
    switch (static_cast<errc>(ec.value())) {
      case errc::unsupported: return status::op_unsupported;
      case errc::truncated:
      case errc::length_limit:
      case errc::bad_value:
      case errc::trailing_data:
      case errc::unexpected_message: return status::bad_message;
      default: return status::failure;
    }
  }
  if (std::string_view{cat.name()} == "asio.misc" && ec.value() == 2) return status::eof;
  namespace e = boost::system::errc;
  auto cond = ec.default_error_condition();
  if (cond.category() != boost::system::generic_category()) return status::failure;
  switch (cond.value()) {
    case e::no_such_file_or_directory:
    case e::not_a_directory:
    case e::bad_file_descriptor:
    case e::too_many_symbolic_link_levels: return status::no_such_file;
    case e::operation_not_permitted:
    case e::permission_denied:
    case e::bad_address: return status::permission_denied;
    case e::filename_too_long:
    case e::invalid_argument:
    case e::bad_message: return status::bad_message;
    case e::function_not_supported:
    case e::operation_not_supported: return status::op_unsupported;
    default: return status::failure;
  }
}

}  // namespace ferry::sftp

template <>
struct boost::system::is_error_code_enum<ferry::sftp::status> : std::true_type {};
