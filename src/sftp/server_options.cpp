// Request names, log levels and request lists of sftp::server_options (sftp/server/options.hpp).
#include <ferry/sftp/server/options.hpp>

#include <array>
#include <cctype>
#include <type_traits>

namespace ferry::sftp {

namespace {

constexpr std::array<std::string_view, 29> names = {
    "open",         "close",     "read",     "write",    "lstat",    "fstat",
    "setstat",      "fsetstat",  "opendir",  "readdir",  "remove",   "mkdir",
    "rmdir",        "realpath",  "stat",     "rename",   "readlink", "symlink",
    "posix-rename", "statvfs",   "fstatvfs", "hardlink", "fsync",    "lsetstat",
    "limits",       "expand-path", "copy-data", "home-directory", "users-groups-by-id"};

// As OpenSSH's handler table marks them (does_write).
constexpr std::array<std::string_view, 12> writing = {
    "write",    "setstat",  "fsetstat", "remove",       "mkdir", "rmdir",
    "rename",   "symlink",  "hardlink", "posix-rename", "fsync", "lsetstat"};

bool iequal(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

}  // namespace

std::optional<log_level> parse_log_level(std::string_view n) {
  if (iequal(n, "QUIET")) return log_level::quiet;
  if (iequal(n, "FATAL")) return log_level::fatal;
  if (iequal(n, "ERROR")) return log_level::error;
  if (iequal(n, "INFO")) return log_level::info;
  if (iequal(n, "VERBOSE")) return log_level::verbose;
  if (iequal(n, "DEBUG") || iequal(n, "DEBUG1")) return log_level::debug1;
  if (iequal(n, "DEBUG2")) return log_level::debug2;
  if (iequal(n, "DEBUG3")) return log_level::debug3;
  return std::nullopt;
}

std::string_view to_string(log_level l) noexcept {
  switch (l) {
    case log_level::quiet: return "QUIET";
    case log_level::fatal: return "FATAL";
    case log_level::error: return "ERROR";
    case log_level::info: return "INFO";
    case log_level::verbose: return "VERBOSE";
    case log_level::debug1: return "DEBUG1";
    case log_level::debug2: return "DEBUG2";
    case log_level::debug3: return "DEBUG3";
  }
  return "?";
}

std::span<const std::string_view> request_names() noexcept { return names; }

std::string_view request_name(const proto::request& r) noexcept {
  using namespace proto;
  return std::visit(
      [](const auto& m) -> std::string_view {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, init_request> || std::is_same_v<T, extended_request>)
          return {};
        else if constexpr (std::is_same_v<T, open_request>) return "open";
        else if constexpr (std::is_same_v<T, close_request>) return "close";
        else if constexpr (std::is_same_v<T, read_request>) return "read";
        else if constexpr (std::is_same_v<T, write_request>) return "write";
        else if constexpr (std::is_same_v<T, lstat_request>) return "lstat";
        else if constexpr (std::is_same_v<T, fstat_request>) return "fstat";
        else if constexpr (std::is_same_v<T, setstat_request>) return "setstat";
        else if constexpr (std::is_same_v<T, fsetstat_request>) return "fsetstat";
        else if constexpr (std::is_same_v<T, opendir_request>) return "opendir";
        else if constexpr (std::is_same_v<T, readdir_request>) return "readdir";
        else if constexpr (std::is_same_v<T, remove_request>) return "remove";
        else if constexpr (std::is_same_v<T, mkdir_request>) return "mkdir";
        else if constexpr (std::is_same_v<T, rmdir_request>) return "rmdir";
        else if constexpr (std::is_same_v<T, realpath_request>) return "realpath";
        else if constexpr (std::is_same_v<T, stat_request>) return "stat";
        else if constexpr (std::is_same_v<T, rename_request>) return "rename";
        else if constexpr (std::is_same_v<T, readlink_request>) return "readlink";
        else if constexpr (std::is_same_v<T, symlink_request>) return "symlink";
        else if constexpr (std::is_same_v<T, posix_rename_request>) return "posix-rename";
        else if constexpr (std::is_same_v<T, statvfs_request>) return "statvfs";
        else if constexpr (std::is_same_v<T, fstatvfs_request>) return "fstatvfs";
        else if constexpr (std::is_same_v<T, hardlink_request>) return "hardlink";
        else if constexpr (std::is_same_v<T, fsync_request>) return "fsync";
        else if constexpr (std::is_same_v<T, lsetstat_request>) return "lsetstat";
        else if constexpr (std::is_same_v<T, limits_request>) return "limits";
        else if constexpr (std::is_same_v<T, expand_path_request>) return "expand-path";
        else if constexpr (std::is_same_v<T, copy_data_request>) return "copy-data";
        else if constexpr (std::is_same_v<T, home_directory_request>) return "home-directory";
        else if constexpr (std::is_same_v<T, users_groups_by_id_request>)
          return "users-groups-by-id";
        else return {};
      },
      r);
}

bool request_writes(std::string_view name) noexcept {
  for (auto w : writing)
    if (w == name) return true;
  return false;
}

bool parse_request_list(std::string_view list, std::vector<std::string>& out, std::string& bad) {
  out.clear();
  bad.clear();
  while (!list.empty()) {
    auto comma = list.find(',');
    auto n = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    if (n.empty()) continue;
    bool known = false;
    for (auto k : names) known = known || k == n;
    if (!known && bad.empty()) bad = std::string{n};
    out.emplace_back(n);
  }
  return bad.empty();
}

}  // namespace ferry::sftp
