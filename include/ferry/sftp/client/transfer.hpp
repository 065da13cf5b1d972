// download / upload: whole files and directory trees between the local filesystem and the server,
// with many requests in flight (pipeline.hpp), resume, atomic upload and preserved times and modes.
#pragma once

#include <ferry/sftp/client/local_file.hpp>
#include <ferry/sftp/client/operations.hpp>
#include <ferry/sftp/proto/fs_attrs.hpp>

#include <boost/system/errc.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace ferry::sftp {

// What a progress callback sees. file_bytes is the contiguous prefix of the current file that is
// done (resumed bytes included) and never decreases for one file; total_bytes counts the bytes
// moved by this call over all files and never decreases.
struct transfer_progress {
  std::string_view remote_path;
  std::string_view local_path;
  std::uint64_t file_bytes = 0;
  std::optional<std::uint64_t> file_size;
  std::uint64_t total_bytes = 0;
};

using progress_handler = std::function<void(const transfer_progress&)>;

struct transfer_options {
  // Continue a partial transfer: download appends to the local file from its size (OpenSSH's
  // reget), upload to the remote file from its size (reput).
  bool resume = false;
  // Upload to a temporary name next to the target (".NAME.ferry-part"), fsync it
  // (fsync@openssh.com when offered), then rename it over the target (posix-rename@openssh.com,
  // else remove + rename). With resume, a previous attempt's temporary file is continued.
  bool atomic = false;
  // Copy modification/access times and permission bits to the destination.
  bool preserve = false;
  // Transfer a directory and everything below it (regular files and directories; other types,
  // symlinks included, are skipped).
  bool recursive = false;
  // Requests in flight at most; grows to this from a few unless adaptive is off.
  std::size_t max_in_flight = 64;
  bool adaptive = true;
  // Bytes per request; 0 takes the largest the server allows (limits@openssh.com), else 32 KiB.
  std::size_t block_size = 0;
  progress_handler on_progress;

  transfer_options with_recursive() const {
    auto c = *this;
    c.recursive = true;
    return c;
  }
};

namespace detail {

inline error_code sys(boost::system::errc::errc_t e) { return boost::system::errc::make_error_code(e); }

inline std::string join(std::string_view dir, std::string_view name) {
  std::string out{dir};
  if (out.empty()) return std::string{name};
  if (out.back() != '/') out += '/';
  out += name;
  return out;
}

inline std::pair<std::string, std::string> split_path(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return {"", path};
  return {path.substr(0, slash + 1), path.substr(slash + 1)};
}

inline std::string part_name(const std::string& remote) {
  auto [dir, base] = split_path(remote);
  return dir + "." + base + ".ferry-part";
}

struct file_sink final : data_sink {
  explicit file_sink(const local::file& file) : f(file) {}
  error_code write(std::uint64_t offset, byte_view data) override { return f.write_at(offset, data); }
  const local::file& f;
};

struct file_source final : data_source {
  explicit file_source(const local::file& file) : f(file) {}
  error_code read(std::uint64_t offset, mutable_byte_view buf, std::size_t& n) override {
    return f.read_at(offset, buf, n);
  }
  const local::file& f;
};

template <class S>
class transfer {
 public:
  transfer(S& s, transfer_options o) : s_(s), opts_(std::move(o)) {}

  std::uint64_t total() const noexcept { return total_; }

  pipeline_options pipeline(std::size_t server_block, std::uint64_t start,
                            const std::string& remote, const std::string& local,
                            std::optional<std::uint64_t> size) {
    pipeline_options p;
    p.block = opts_.block_size ? std::min(opts_.block_size, server_block) : server_block;
    p.max_in_flight = opts_.max_in_flight ? opts_.max_in_flight : 64;
    p.slow_start = opts_.adaptive;
    if (opts_.on_progress) {
      // The callback sees strings owned by this frame; copies keep them alive with the lambda.
      p.progress = [this, start, remote, local, size, base = total_](std::uint64_t at) {
        total_ = base + (at - start);
        transfer_progress tp{remote, local, at, size, total_};
        opts_.on_progress(tp);
      };
    } else {
      p.progress = [this, start, base = total_](std::uint64_t at) { total_ = base + (at - start); };
    }
    return p;
  }

  // --- download ------------------------------------------------------------------------------
  awaitable<error_code> download_file(std::string remote, std::string local_path,
                                      std::optional<attributes> known) {
    proto::open_request open{0, remote, proto::open_flags::read, {}};
    auto [ec, h] = co_await call_handle(s_, std::move(open));
    if (ec) co_return ec;
    proto::fstat_request fst{0, h};
    auto [sec, st] = co_await call_attrs(s_, std::move(fst));
    if (sec) st = known ? *known : attributes{};
    std::optional<std::uint64_t> size = st.size;

    local::file out;
    std::uint64_t start = 0;
    error_code lec = local::file::open_write(local_path, !opts_.resume, 0666, out);
    // A character device or a pipe (get FILE /dev/null) is written but never truncated, and has
    // no size to resume from: ftruncate fails on it with EINVAL.
    local::file_status ls;
    if (!lec) lec = out.status(ls);
    const bool regular = !lec && ls.is_regular;
    if (!lec && opts_.resume && regular) {
      start = ls.size;
      if (size && start > *size) lec = sys(boost::system::errc::file_too_large);
    }
    error_code result = lec;
    if (!lec) {
      if (size && opts_.on_progress && start == *size) {
        transfer_progress tp{remote, local_path, start, size, total_};
        opts_.on_progress(tp);
      }
      file_sink sink{out};
      auto end = size ? *size : unknown_end;
      read_pipeline<S> p{s_, h, start, end, sink,
                         pipeline(s_.max_read(), start, remote, local_path, size)};
      result = co_await p.run();
      // Whatever happened, the local file ends at the last byte before which everything is
      // written: no holes, and a resume continues from there.
      if (regular) {
        auto tec = out.truncate(p.contiguous());
        if (!result) result = tec;
      }
      if (!result && opts_.preserve) {
        if (st.permissions) result = out.set_mode(*st.permissions);
        if (!result && st.times) result = out.set_times(st.times->atime, st.times->mtime);
      }
      auto cec = out.close();
      if (!result) result = cec;
    }
    if (s_.ready()) {
      proto::close_request close{0, h};
      auto cec = co_await call_status(s_, std::move(close));
      if (!result) result = cec;
    }
    co_return result;
  }

  awaitable<error_code> download_tree(std::string remote, std::string local_path,
                                      attributes dir_attrs, std::size_t depth) {
    if (depth > limits::sftp_client_max_depth) co_return make_error_code(errc::length_limit);
    auto mode = opts_.preserve && dir_attrs.permissions ? (*dir_attrs.permissions | 0700) : 0777;
    if (auto ec = local::make_directory(local_path, mode)) co_return ec;
    auto [ec, entries] = co_await list(s_, remote);
    if (ec) co_return ec;
    for (auto& e : entries) {
      if (e.filename.find('/') != std::string::npos || e.filename.empty())
        co_return make_error_code(errc::bad_value);  // a name must not lead elsewhere
      auto r = join(remote, e.filename);
      auto l = join(local_path, e.filename);
      error_code fec;
      if (is_directory(e.attrs)) fec = co_await download_tree(r, l, e.attrs, depth + 1);
      else if (is_regular(e.attrs)) {
        std::optional<attributes> known = e.attrs;
        fec = co_await download_file(r, l, std::move(known));
      }
      if (fec) co_return fec;
    }
    if (opts_.preserve) {
      if (dir_attrs.permissions)
        if (auto mec = local::set_mode(local_path, *dir_attrs.permissions)) co_return mec;
      if (dir_attrs.times)
        if (auto tec = local::set_times(local_path, dir_attrs.times->atime, dir_attrs.times->mtime))
          co_return tec;
    }
    co_return error_code{};
  }

  awaitable<error_code> download(std::string remote, std::string local_path) {
    proto::stat_request st{0, remote};
    auto [ec, a] = co_await call_attrs(s_, std::move(st));
    if (ec) co_return ec;
    if (is_directory(a)) {
      if (!opts_.recursive) co_return sys(boost::system::errc::is_a_directory);
      co_return co_await download_tree(std::move(remote), std::move(local_path), a, 0);
    }
    std::optional<attributes> known = std::move(a);
    co_return co_await download_file(std::move(remote), std::move(local_path), std::move(known));
  }

  // --- upload --------------------------------------------------------------------------------
  awaitable<error_code> upload_file(std::string local_path, std::string remote) {
    local::file in;
    if (auto ec = local::file::open_read(local_path, in)) co_return ec;
    local::file_status ls;
    if (auto ec = in.status(ls)) co_return ec;
    if (!ls.is_regular) co_return sys(boost::system::errc::invalid_argument);

    auto target = opts_.atomic ? part_name(remote) : remote;
    std::uint64_t start = 0;
    if (opts_.resume) {
      proto::stat_request st{0, target};
      auto [ec, a] = co_await call_attrs(s_, std::move(st));
      if (!ec && a.size) start = *a.size;
      else if (ec && ec != status::no_such_file) co_return ec;
      if (start > ls.size) co_return sys(boost::system::errc::file_too_large);
    }
    std::uint32_t flags = proto::open_flags::write | proto::open_flags::creat;
    if (!opts_.resume) flags |= proto::open_flags::trunc;
    attributes create;
    create.permissions = ls.mode & 0777;
    proto::open_request open{0, target, flags, create};
    auto [ec, h] = co_await call_handle(s_, std::move(open));
    if (ec) co_return ec;

    file_source source{in};
    std::optional<std::uint64_t> size = ls.size;
    if (opts_.on_progress && start == ls.size) {
      transfer_progress tp{remote, local_path, start, size, total_};
      opts_.on_progress(tp);
    }
    write_pipeline<S> p{s_, h, start, ls.size, source,
                        pipeline(s_.max_write(h.value.size()), start, remote, local_path, size)};
    error_code result = co_await p.run();
    if (!result && opts_.preserve) {
      attributes set;
      set.permissions = ls.mode & 07777;
      set.times = proto::file_times{proto::to_v3_time(ls.atime), proto::to_v3_time(ls.mtime)};
      proto::fsetstat_request fs{0, h, set};
      result = co_await call_status(s_, std::move(fs));
    }
    if (!result && opts_.atomic && s_.supports(proto::extension_of<proto::fsync_request>)) {
      proto::fsync_request sync;
      sync.handle = h;
      result = co_await call_status(s_, std::move(sync));
    }
    if (s_.ready()) {
      proto::close_request close{0, h};
      auto cec = co_await call_status(s_, std::move(close));
      if (!result) result = cec;
    }
    if (!result && opts_.atomic) result = co_await replace(target, remote);
    co_return result;
  }

  // Renames from over to: posix-rename@openssh.com replaces in one step; without it, the target
  // is removed first (v3 RENAME refuses an existing target, §6.5).
  awaitable<error_code> replace(std::string from, std::string to) {
    if (s_.supports(proto::extension_of<proto::posix_rename_request>)) {
      proto::posix_rename_request r;
      r.oldpath = std::move(from);
      r.newpath = std::move(to);
      co_return co_await call_status(s_, std::move(r));
    }
    proto::remove_request rm{0, to};
    auto rec = co_await call_status(s_, std::move(rm));
    if (rec && rec != status::no_such_file) co_return rec;
    proto::rename_request mv{0, std::move(from), std::move(to)};
    co_return co_await call_status(s_, std::move(mv));
  }

  awaitable<error_code> upload_tree(std::string local_path, std::string remote,
                                    local::file_status dir_status, std::size_t depth) {
    if (depth > limits::sftp_client_max_depth) co_return make_error_code(errc::length_limit);
    proto::stat_request st{0, remote};
    auto [ec, a] = co_await call_attrs(s_, std::move(st));
    if (ec == status::no_such_file) {
      attributes mk;
      if (opts_.preserve) mk.permissions = (dir_status.mode & 07777) | 0700;
      proto::mkdir_request req{0, remote, mk};
      if (auto mec = co_await call_status(s_, std::move(req))) co_return mec;
    } else if (ec) {
      co_return ec;
    } else if (!is_directory(a)) {
      co_return sys(boost::system::errc::not_a_directory);
    }
    std::vector<std::string> names;
    if (auto lec = local::list_directory(local_path, names)) co_return lec;
    for (auto& n : names) {
      auto l = join(local_path, n);
      auto r = join(remote, n);
      local::file_status ls;
      if (auto lec = local::status(l, false, ls)) co_return lec;
      error_code fec;
      if (ls.is_directory) fec = co_await upload_tree(l, r, ls, depth + 1);
      else if (ls.is_regular) fec = co_await upload_file(l, r);
      if (fec) co_return fec;
    }
    if (opts_.preserve) {
      attributes set;
      set.permissions = dir_status.mode & 07777;
      set.times = proto::file_times{proto::to_v3_time(dir_status.atime),
                                    proto::to_v3_time(dir_status.mtime)};
      proto::setstat_request req{0, remote, set};
      if (auto sec = co_await call_status(s_, std::move(req))) co_return sec;
    }
    co_return error_code{};
  }

  awaitable<error_code> upload(std::string local_path, std::string remote) {
    local::file_status ls;
    if (auto ec = local::status(local_path, true, ls)) co_return ec;
    if (ls.is_directory) {
      if (!opts_.recursive) co_return sys(boost::system::errc::is_a_directory);
      co_return co_await upload_tree(std::move(local_path), std::move(remote), ls, 0);
    }
    co_return co_await upload_file(std::move(local_path), std::move(remote));
  }

 private:
  S& s_;
  transfer_options opts_;
  std::uint64_t total_ = 0;
};

}  // namespace detail
}  // namespace ferry::sftp
