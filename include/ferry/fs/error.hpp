// Filesystem errors. Backends report errno values in the generic category (so they compare equal to
// std::errc / boost::system::errc values), boost::asio::error::eof for a read at or past the end,
// and ferry::errc::unsupported for an operation the backend does not have. The protocol servers map
// these to their own status codes through kind_of(), the one place that classifies them.
#pragma once

#include <ferry/core/error.hpp>

#include <boost/system/errc.hpp>

namespace ferry::fs {

// An errno value as an error_code (generic category); 0 gives success.
inline error_code from_errno(int e) noexcept {
  if (e == 0) return {};
  return {e, boost::system::generic_category()};
}

inline error_code make_error(boost::system::errc::errc_t e) noexcept {
  return boost::system::errc::make_error_code(e);
}

inline error_code unsupported() noexcept { return make_error_code(ferry::errc::unsupported); }

// What a protocol needs to know about a filesystem error (SFTP v3 status codes, draft-ietf-secsh-
// filexfer-02 §7, and FTP reply classes are both derived from this).
enum class error_kind {
  ok,
  end_of_file,
  no_such_file,
  permission_denied,
  already_exists,
  not_a_directory,
  is_a_directory,
  not_empty,
  no_space,
  read_only,
  invalid,
  unsupported,
  failure,
};

error_kind kind_of(const error_code& ec) noexcept;

}  // namespace ferry::fs
