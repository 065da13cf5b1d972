#include <ferry/fs/error.hpp>

#include <boost/asio/error.hpp>

#include <cerrno>

namespace ferry::fs {

error_kind kind_of(const error_code& ec) noexcept {
  if (!ec) return error_kind::ok;
  if (ec == boost::asio::error::eof) return error_kind::end_of_file;
  if (ec == ferry::errc::unsupported) return error_kind::unsupported;
  if (ec.category() != boost::system::generic_category() &&
      ec.category() != boost::system::system_category()) {
    return error_kind::failure;
  }
  switch (ec.value()) {
    case ENOENT: return error_kind::no_such_file;
    case EACCES:
    case EPERM: return error_kind::permission_denied;
    case EEXIST: return error_kind::already_exists;
    case ENOTDIR: return error_kind::not_a_directory;
    case EISDIR: return error_kind::is_a_directory;
    case ENOTEMPTY: return error_kind::not_empty;
    case ENOSPC:
    case EDQUOT: return error_kind::no_space;
    case EROFS: return error_kind::read_only;
    case EINVAL:
    case ENAMETOOLONG:
    case ELOOP:
    case EBADF: return error_kind::invalid;
    case ENOSYS:
    case EOPNOTSUPP: return error_kind::unsupported;
    default: return error_kind::failure;
  }
}

}  // namespace ferry::fs
