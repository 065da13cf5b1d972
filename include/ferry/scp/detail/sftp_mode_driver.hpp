// The body of scp::sftp_mode_client: OpenSSH scp's SFTP-mode rules (scp.c source_sftp /
// sink_sftp, sftp-client.c upload/download) over an sftp::client and a local Filesystem.
//
// Upload: each local source goes to target/basename when the remote target is a directory, else
// to the target itself; several sources (or -d) make a missing target directory be created (mode
// of the first source | 0700, as scp does) and a target that cannot be one ends the transfer.
// Download: each remote source is glob-expanded in its last component (READDIR + fnmatch, matches
// checked to be one safe name), then lands as target/name when the local target is a directory,
// else as the target; with several sources the target must already be a directory. Directories
// need recursive; -p copies times and modes. Names from the server (listings, glob matches) are
// used only if they are one component (proto::check_name), so nothing lands outside the target.
//
// Data path: per file, rounds of `chunk` bytes; an SFTP round (all its READ or WRITE requests in
// flight together) overlaps with the local write of the previous round or the local read of the
// next.
#pragma once

#include <ferry/fs/filesystem.hpp>
#include <ferry/fs/operations.hpp>
#include <ferry/scp/detail/io.hpp>
#include <ferry/scp/proto/error.hpp>
#include <ferry/scp/proto/record.hpp>
#include <ferry/scp/transfer.hpp>
#include <ferry/sftp/client.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>

#include <fnmatch.h>

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace ferry::scp::detail {

// A remote path as scp's prepare_remote_path() sees it: "" is the home (".").
inline std::string remote_or_home(std::string p) { return p.empty() ? std::string{"."} : p; }

// Whether a path's last component would be a glob pattern (an unescaped or escaped * ? [).
inline bool has_glob(std::string_view last) {
  return last.find_first_of("*?[\\") != std::string_view::npos;
}

// Strips trailing slashes ("a/b/" -> "a/b"; "/" stays).
inline std::string trim_slashes(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

template <class Stream, fs::filesystem Filesystem>
class sftp_mode_driver {
 public:
  using sftp_client = sftp::client<Stream>;
  using remote_file = typename sftp_client::file;

  sftp_mode_driver(sftp_client& c, Filesystem& local, bool recursive, bool preserve,
                   bool target_should_be_directory, const event_handler& on_event,
                   transfer_summary& summary, std::size_t buffer_size)
      : c_(c),
        fs_(local),
        recursive_(recursive),
        preserve_(preserve),
        should_be_dir_(target_should_be_directory),
        on_event_(on_event),
        sum_(summary),
        bs_(std::max<std::size_t>(buffer_size, 4096)) {}

  // --- upload --------------------------------------------------------------------------------
  awaitable<error_code> upload(std::vector<std::string> sources, std::string target) {
    if (sources.empty() || sources.size() > limits::scp_max_paths)
      co_return make_error_code(errc::bad_command);
    if (auto ec = co_await prepare_remote(target)) co_return ec;
    bool should_be_dir = should_be_dir_ || sources.size() > 1;
    bool target_is_dir = false;
    {
      auto [ec, a] = co_await c_.async_stat(target, nothrow);
      target_is_dir = !ec && sftp::is_directory(a);
      if (ec && lost()) co_return c_.session_error();
    }
    for (auto& src : sources) {
      if (src.empty()) src = ".";
      auto [sec, st] = co_await fs_.async_stat(src, nothrow);
      if (sec) {
        fail("stat local \"" + src + "\": " + sec.message(), src);
        continue;
      }
      if (should_be_dir && !target_is_dir) {
        // scp.c source_sftp: the target directory is made when it does not exist.
        sftp::attributes mk;
        mk.permissions = (st.permissions & 0777) | 0700;
        auto [mec] = co_await c_.async_mkdir(target, mk, nothrow);
        if (mec) {
          fail("remote mkdir \"" + target + "\": " + remote_why(mec), src);
          if (lost()) co_return c_.session_error();
          co_return make_error_code(errc::target_not_directory);
        }
        target_is_dir = true;
      }
      auto name = co_await local_name(src);
      if (!name) continue;
      auto dst = target_is_dir ? join(target, *name) : target;
      if (st.is_directory() && recursive_) {
        co_await upload_dir(src, dst, st, 0);
      } else if (!st.is_regular()) {
        fail("local \"" + src + "\" is not a regular file", src);
      } else {
        co_await upload_file(src, dst, st);
      }
      if (lost()) co_return c_.session_error();
    }
    co_return error_code{};
  }

  // --- download ------------------------------------------------------------------------------
  awaitable<error_code> download(std::vector<std::string> sources, std::string target) {
    if (sources.empty() || sources.size() > limits::scp_max_paths)
      co_return make_error_code(errc::bad_command);
    if (target.empty()) target = ".";
    if (should_be_dir_ || sources.size() > 1) {
      // scp.c main(): verifydir(target) before anything is fetched.
      auto [ec, a] = co_await fs_.async_stat(target, nothrow);
      if (ec || !a.is_directory()) {
        auto why = ec ? ec.message()
                      : make_error_code(boost::system::errc::not_a_directory).message();
        fail(target + ": " + why, target);
        co_return make_error_code(errc::target_not_directory);
      }
    }
    for (auto& src : sources) {
      co_await download_source(src, target);
      if (lost()) co_return c_.session_error();
    }
    co_return error_code{};
  }

 private:
  struct match {
    std::string path;  // remote path
    std::string name;  // the one component it lands under
    sftp::attributes attrs;
  };

  bool lost() const { return static_cast<bool>(c_.session_error()); }

  void emit(event::kind k, std::string_view path, std::uint64_t bytes, std::uint64_t size,
            std::string_view message = {}) {
    if (!on_event_) return;
    event e;
    e.type = k;
    e.path = path;
    e.bytes = bytes;
    e.size = size;
    e.message = message;
    on_event_(e);
  }

  // An entry that failed: counted, kept in the summary and reported as a warning event.
  void fail(const std::string& what, std::string_view path) {
    auto text = "scp: " + what;
    sum_.note(text);
    emit(event::kind::warning, path, 0, 0, text);
  }

  // The server's words for a failed request when it gave some, else the error's.
  std::string remote_why(const error_code& ec) const {
    if (ec.category() == sftp::sftp_category()) {
      const auto& st = c_.last_status();
      if (st.code == static_cast<std::uint32_t>(ec.value()) && st.message && !st.message->empty())
        return *st.message;
    }
    return ec.message();
  }

  // "~" and "~/x" are the home directory: expand-path@openssh.com when offered (OpenSSH's scp
  // uses it too), else relative to the home the session starts in. "~user" needs the extension.
  awaitable<error_code> prepare_remote(std::string& p) {
    p = remote_or_home(std::move(p));
    if (p.front() != '~') co_return error_code{};
    if (c_.supports("expand-path@openssh.com")) {
      auto [ec, expanded] = co_await c_.async_expand_path(p, nothrow);
      if (ec) {
        fail("\"" + p + "\": " + remote_why(ec), p);
        co_return ec;
      }
      p = std::move(expanded);
      co_return error_code{};
    }
    if (p == "~") p = ".";
    else if (p.rfind("~/", 0) == 0) p = remote_or_home(p.substr(2));
    else {
      fail("\"" + p + "\": ~user needs the server's expand-path@openssh.com", p);
      co_return make_error_code(errc::bad_name);
    }
    co_return error_code{};
  }

  // The name a local source is sent under: its last component, or for "." and ".." the real
  // directory's name.
  awaitable<std::optional<std::string>> local_name(const std::string& src) {
    std::string name{last_component(src)};
    if (!proto::check_name(name)) co_return name;
    auto [ec, real] = co_await fs_.async_realpath(src, nothrow);
    if (!ec) {
      name = std::string{last_component(real)};
      if (!proto::check_name(name)) co_return name;
    }
    fail("\"" + src + "\": no name to copy it under", src);
    co_return std::nullopt;
  }

  // Reads until buf is full or the file ends.
  awaitable<std::tuple<error_code, std::size_t>> read_local(fs::handle h, std::uint64_t offset,
                                                            mutable_byte_view buf) {
    std::size_t got = 0;
    while (got < buf.size()) {
      auto part = mutable_byte_view{buf.data() + got, buf.size() - got};
      auto [ec, n] = co_await fs_.async_read_at(h, offset + got, part, nothrow);
      if (ec == boost::asio::error::eof || (!ec && n == 0)) break;
      if (ec) co_return std::tuple{ec, got};
      got += n;
    }
    co_return std::tuple{error_code{}, got};
  }

  awaitable<error_code> write_local(fs::handle h, std::uint64_t offset, byte_view data) {
    auto [ec, n] = co_await fs::async_write_all_at(fs_, h, offset, data, nothrow);
    (void)n;
    co_return ec;
  }

  awaitable<std::tuple<error_code, std::size_t>> read_remote(remote_file& f, std::uint64_t offset,
                                                             mutable_byte_view buf) {
    auto [ec, n] = co_await f.async_read_at(offset, buf, nothrow);
    if (ec == sftp::status::eof) co_return std::tuple{error_code{}, std::size_t{0}};
    co_return std::tuple{ec, n};
  }

  awaitable<error_code> write_remote(remote_file& f, std::uint64_t offset, byte_view data) {
    auto [ec, n] = co_await f.async_write_at(offset, data, nothrow);
    (void)n;
    co_return ec;
  }

  enum class direction { upload, download };

  // One round's read from the source: the local file for an upload, the remote one for a
  // download; and the write to the target.
  awaitable<std::tuple<error_code, std::size_t>> read_source(direction d, fs::handle h, remote_file& f,
                                                             std::uint64_t offset,
                                                             mutable_byte_view buf) {
    if (d == direction::upload) co_return co_await read_local(h, offset, buf);
    co_return co_await read_remote(f, offset, buf);
  }
  awaitable<error_code> write_target(direction d, fs::handle h, remote_file& f,
                                     std::uint64_t offset, byte_view data) {
    if (d == direction::upload) co_return co_await write_remote(f, offset, data);
    co_return co_await write_local(h, offset, data);
  }

  // Copies the whole source to the target in chunk_-sized rounds from two buffers: each full
  // round is written while the next is read. Progress events name `name` against `size`.
  // The copy stops at the first read or write error.
  struct copy_result {
    error_code read_ec, write_ec;
    std::uint64_t copied = 0;
  };
  awaitable<copy_result> copy_rounds(direction d, fs::handle h, remote_file& f,
                                                           const std::string& name,
                                                           std::uint64_t size) {
    auto ex = c_.get_executor();
    std::uint64_t off = 0;
    error_code read_ec, write_ec;
    int cur = 0;
    mutable_byte_view first{buf_[0].data(), chunk_};
    auto [fec, n] = co_await read_source(d, h, f, 0, first);
    read_ec = fec;
    while (!read_ec && n != 0) {
      byte_view data{buf_[cur].data(), n};
      std::size_t next_n = 0;
      if (n == chunk_) {
        mutable_byte_view next_buf{buf_[cur ^ 1].data(), chunk_};
        auto w = boost::asio::co_spawn(ex, write_target(d, h, f, off, data), boost::asio::deferred);
        auto r = boost::asio::co_spawn(ex, read_source(d, h, f, off + n, next_buf),
                                       boost::asio::deferred);
        auto group = boost::asio::experimental::make_parallel_group(std::move(w), std::move(r));
        // (No structured binding: the result holds a std::array, see sink_driver.hpp.)
        auto res = co_await group.async_wait(boost::asio::experimental::wait_for_all(),
                                             boost::asio::use_awaitable);
        if (std::get<1>(res)) std::rethrow_exception(std::get<1>(res));
        if (std::get<3>(res)) std::rethrow_exception(std::get<3>(res));
        write_ec = std::get<2>(res);
        read_ec = std::get<0>(std::get<4>(res));
        next_n = std::get<1>(std::get<4>(res));
      } else {
        write_ec = co_await write_target(d, h, f, off, data);
      }
      if (write_ec) break;
      off += n;
      sum_.bytes += n;
      emit(event::kind::progress, name, off, size);
      n = next_n;
      cur ^= 1;
    }
    co_return copy_result{read_ec, write_ec, off};
  }

  void ensure_buffers(std::size_t block) {
    chunk_ = std::max(bs_, 4 * block);
    if (buf_[0].size() < chunk_) {
      buf_[0].assign(chunk_, 0);
      buf_[1].assign(chunk_, 0);
    }
  }

  // --- upload pieces -------------------------------------------------------------------------
  awaitable<void> upload_file(const std::string& src, const std::string& dst,
                              const fs::attributes& st) {
    auto [oec, h] = co_await fs_.async_open(src, fs::open_mode::read_only(), nothrow);
    if (oec) {
      fail("open local \"" + src + "\": " + oec.message(), src);
      co_return;
    }
    sftp::attributes create;
    create.permissions = st.permissions & 0777;
    auto flags = sftp::open_mode::write | sftp::open_mode::create | sftp::open_mode::truncate;
    auto [rec, f] = co_await c_.async_open(dst, flags, create, nothrow);
    if (rec) {
      fail("dest open \"" + dst + "\": " + remote_why(rec), src);
      auto [cec] = co_await fs_.async_close(h, nothrow);
      (void)cec;
      co_return;
    }
    ensure_buffers(c_.write_block());
    emit(event::kind::file_begin, src, 0, st.size);
    auto [read_ec, write_ec, off] = co_await copy_rounds(direction::upload, h, f, src, st.size);
    auto [lcec] = co_await fs_.async_close(h, nothrow);
    (void)lcec;
    error_code ec;
    std::string what;
    if (read_ec) {
      ec = read_ec;
      what = "read local \"" + src + "\": " + read_ec.message();
    } else if (write_ec) {
      ec = write_ec;
      what = "write remote \"" + dst + "\": " + remote_why(write_ec);
    }
    if (!ec && preserve_) {
      sftp::attributes set;
      set.permissions = st.permissions & 0777;
      set.times = sftp::proto::file_times{sftp::proto::to_v3_time(st.atime),
                                          sftp::proto::to_v3_time(st.mtime)};
      auto [sec] = co_await f.async_setstat(set, nothrow);
      if (sec) {
        ec = sec;
        what = "remote fsetstat \"" + dst + "\": " + remote_why(sec);
      }
    }
    if (c_.session_error()) {
      if (!ec) ec = c_.session_error();
    } else {
      auto [cec] = co_await f.async_close(nothrow);
      if (cec && !ec) {
        ec = cec;
        what = "close remote \"" + dst + "\": " + remote_why(cec);
      }
    }
    if (ec) {
      if (what.empty()) what = "\"" + dst + "\": " + ec.message();
      fail(what, src);
      co_return;
    }
    ++sum_.files;
    emit(event::kind::file_end, src, off, st.size);
  }

  awaitable<void> upload_dir(const std::string& src, const std::string& dst,
                             const fs::attributes& st, std::size_t depth) {
    if (depth >= limits::scp_max_depth) {
      fail("\"" + src + "\": directories nested too deep", src);
      co_return;
    }
    sftp::attributes mk;
    mk.permissions = (st.permissions & 0777) | 0700;  // writable while it is filled
    auto [mec] = co_await c_.async_mkdir(dst, mk, nothrow);
    if (mec) {
      if (lost()) co_return;
      auto [sec, a] = co_await c_.async_stat(dst, nothrow);
      if (sec || !sftp::is_directory(a)) {
        fail("\"" + dst + "\" exists but is not a directory", src);
        co_return;
      }
    }
    ++sum_.directories;
    emit(event::kind::directory, src, 0, 0);
    std::vector<std::string> names;
    if (auto lec = co_await list_local(src, names)) {
      fail("opendir local \"" + src + "\": " + lec.message(), src);
      co_return;
    }
    for (const auto& n : names) {
      auto from = join(src, n);
      auto to = join(dst, n);
      auto [sec, est] = co_await fs_.async_stat(from, nothrow);  // symlinks followed, as scp
      if (sec) {
        fail("stat local \"" + from + "\": " + sec.message(), from);
        continue;
      }
      if (est.is_directory()) co_await upload_dir(from, to, est, depth + 1);
      else if (est.is_regular()) co_await upload_file(from, to, est);
      else emit(event::kind::warning, from, 0, 0, "scp: " + from + ": not a regular file");
      if (lost()) co_return;
    }
    // scp sets the directory's mode when done (and its times with -p).
    sftp::attributes set;
    set.permissions = st.permissions & 07777;
    if (preserve_)
      set.times = sftp::proto::file_times{sftp::proto::to_v3_time(st.atime),
                                          sftp::proto::to_v3_time(st.mtime)};
    auto [sec] = co_await c_.async_setstat(dst, set, nothrow);
    if (sec && !lost()) fail("remote setstat \"" + dst + "\": " + remote_why(sec), src);
  }

  awaitable<error_code> list_local(const std::string& path, std::vector<std::string>& names) {
    auto [ec, h] = co_await fs_.async_opendir(path, nothrow);
    if (ec) co_return ec;
    error_code result;
    for (;;) {
      auto [rec, batch] = co_await fs_.async_readdir(h, nothrow);
      if (rec == boost::asio::error::eof) break;
      if (rec) {
        result = rec;
        break;
      }
      if (batch.empty()) break;
      for (auto& e : batch)
        if (e.name != "." && e.name != "..") names.push_back(std::move(e.name));
      if (names.size() > limits::scp_max_dir_entries) {
        result = make_error_code(boost::system::errc::file_too_large);
        break;
      }
    }
    auto [cec] = co_await fs_.async_close(h, nothrow);
    (void)cec;
    std::sort(names.begin(), names.end());
    co_return result;
  }

  // --- download pieces -----------------------------------------------------------------------
  // The remote paths a source stands for: glob matches of its last component in its directory
  // (sorted), or the path itself when it is no pattern or nothing matches (GLOB_NOCHECK).
  // Returns false (after noting why) when the source names nothing.
  awaitable<bool> expand(const std::string& src, std::string path, std::vector<match>& out,
                         bool& globbed) {
    globbed = false;
    auto trimmed = trim_slashes(path);
    auto last = std::string{last_component(trimmed)};
    if (has_glob(last)) {
      auto slash = trimmed.rfind('/');
      std::string dir = slash == std::string::npos ? "." : trimmed.substr(0, slash + 1);
      std::string prefix = slash == std::string::npos ? "" : trimmed.substr(0, slash + 1);
      auto [lec, entries] = co_await c_.async_list(dir, nothrow);
      if (!lec) {
        std::sort(entries.begin(), entries.end(),
                  [](const auto& a, const auto& b) { return a.filename < b.filename; });
        for (auto& e : entries) {
          // Only a safe single name that really matches the pattern is taken from the server.
          if (proto::check_name(e.filename)) continue;
          if (::fnmatch(last.c_str(), e.filename.c_str(), FNM_PERIOD) != 0) continue;
          if (out.size() == limits::scp_max_paths) break;
          out.push_back(match{prefix + e.filename, e.filename, std::move(e.attrs)});
        }
      }
      if (lost()) co_return false;
      if (!out.empty()) {
        globbed = true;
        // Listings report symlinks as such (scp follows them), and some give no type at all.
        for (auto& m : out) {
          if (m.attrs.permissions && !sftp::is_symlink(m.attrs)) continue;
          auto [sec, a] = co_await c_.async_stat(m.path, nothrow);
          if (!sec) m.attrs = std::move(a);
        }
        co_return true;
      }
    }
    auto [sec, a] = co_await c_.async_stat(path, nothrow);
    if (sec) {
      if (!lost())
        fail(src + ": " + make_error_code(boost::system::errc::no_such_file_or_directory).message(),
             src);
      co_return false;
    }
    std::string name{last_component(trimmed)};
    if (proto::check_name(name)) {
      auto [rec, real] = co_await c_.async_realpath(path, nothrow);
      name = rec ? std::string{} : std::string{last_component(real)};
      if (proto::check_name(name)) {
        fail("\"" + src + "\": no name to copy it under", src);
        co_return false;
      }
    }
    out.push_back(match{std::move(path), std::move(name), std::move(a)});
    co_return true;
  }

  awaitable<void> download_source(const std::string& src, const std::string& target) {
    std::string path = src;
    if (co_await prepare_remote(path)) co_return;
    std::vector<match> matches;
    bool globbed = false;
    if (!co_await expand(src, path, matches, globbed)) co_return;
    auto [tec, ta] = co_await fs_.async_stat(target, nothrow);
    bool dst_is_dir = !tec && ta.is_directory();
    if (matches.size() > 1 && !dst_is_dir) {
      if (!tec) {
        fail("Multiple files match pattern, but destination \"" + target +
                 "\" is not a directory",
             target);
        co_return;
      }
      auto [mec] = co_await fs_.async_mkdir(target, 0777, nothrow);
      if (mec) {
        fail("local mkdir \"" + target + "\": " + mec.message(), target);
        co_return;
      }
      dst_is_dir = true;
    }
    for (auto& m : matches) {
      auto dst = dst_is_dir ? join(target, m.name) : target;
      if (sftp::is_directory(m.attrs) && recursive_) co_await download_dir(m.path, dst, m.attrs, 0);
      else co_await download_file(m.path, dst, m.attrs);
      if (lost()) co_return;
    }
  }

  awaitable<void> download_file(const std::string& src, const std::string& dst,
                                const sftp::attributes& known) {
    if (!sftp::is_regular(known)) {
      fail("download " + src + ": not a regular file", dst);
      co_return;
    }
    auto [rec, f] = co_await c_.async_open(src, sftp::open_mode::read, nothrow);
    if (rec) {
      fail("open remote \"" + src + "\": " + remote_why(rec), dst);
      co_return;
    }
    std::uint32_t mode = known.permissions ? (*known.permissions & 0777) : 0644;
    fs::open_mode m = fs::open_mode::write_new();
    m.permissions = mode | 0200;
    auto [oec, h] = co_await fs_.async_open(dst, m, nothrow);
    if (oec) {
      fail("open local \"" + dst + "\": " + oec.message(), dst);
      if (!lost()) {
        auto [cec] = co_await f.async_close(nothrow);
        (void)cec;
      }
      co_return;
    }
    std::uint64_t size = known.size.value_or(0);
    ensure_buffers(c_.read_block());
    emit(event::kind::file_begin, dst, 0, size);
    auto [read_ec, write_ec, off] = co_await copy_rounds(direction::download, h, f, dst, size);
    error_code ec;
    std::string what;
    if (write_ec) {
      ec = write_ec;
      what = "write local \"" + dst + "\": " + write_ec.message();
    } else if (read_ec) {
      ec = read_ec;
      what = "read remote \"" + src + "\": " + remote_why(read_ec);
    }
    if (!ec && preserve_) {
      fs::set_attributes sa;
      sa.permissions = mode;
      if (known.times) {
        sa.atime = static_cast<std::int64_t>(known.times->atime);
        sa.mtime = static_cast<std::int64_t>(known.times->mtime);
      }
      auto [sec] = co_await fs::async_fsetstat(fs_, h, sa, nothrow);
      if (sec == ferry::errc::unsupported) {
        auto [pec] = co_await fs::async_setstat(fs_, dst, sa, nothrow);
        sec = pec;
      }
      if (sec) {
        ec = sec;
        what = "local setstat \"" + dst + "\": " + sec.message();
      }
    }
    auto [lcec] = co_await fs_.async_close(h, nothrow);
    if (lcec && !ec) {
      ec = lcec;
      what = "close local \"" + dst + "\": " + lcec.message();
    }
    if (!lost()) {
      auto [cec] = co_await f.async_close(nothrow);
      (void)cec;
    } else if (!ec) {
      ec = c_.session_error();
      what = "\"" + src + "\": " + ec.message();
    }
    if (ec) {
      fail(what, dst);
      co_return;
    }
    ++sum_.files;
    emit(event::kind::file_end, dst, off, size);
  }

  awaitable<void> download_dir(const std::string& src, const std::string& dst,
                               const sftp::attributes& attrs, std::size_t depth) {
    if (depth >= limits::scp_max_depth) {
      fail("\"" + src + "\": directories nested too deep", dst);
      co_return;
    }
    std::uint32_t mode = attrs.permissions ? (*attrs.permissions & 07777) : 0755;
    bool created = false;
    auto [sec, la] = co_await fs_.async_stat(dst, nothrow);
    if (!sec && !la.is_directory()) {
      fail("local \"" + dst + "\": " +
               make_error_code(boost::system::errc::not_a_directory).message(),
           dst);
      co_return;
    }
    if (sec) {
      auto [mec] = co_await fs_.async_mkdir(dst, mode | 0700, nothrow);
      if (mec) {
        fail("local mkdir \"" + dst + "\": " + mec.message(), dst);
        co_return;
      }
      created = true;
    }
    ++sum_.directories;
    emit(event::kind::directory, dst, 0, 0);
    auto [lec, entries] = co_await c_.async_list(src, nothrow);
    if (lec) {
      fail("opendir remote \"" + src + "\": " + remote_why(lec), dst);
    } else {
      if (entries.size() > limits::scp_max_dir_entries) entries.resize(limits::scp_max_dir_entries);
      std::sort(entries.begin(), entries.end(),
                [](const auto& a, const auto& b) { return a.filename < b.filename; });
      for (auto& e : entries) {
        if (proto::check_name(e.filename)) {
          // A listing may only name entries of this directory: never "..", "a/b" or "".
          fail("\"" + src + "\": server listed an unsafe name", dst);
          continue;
        }
        auto from = join(src, e.filename);
        auto to = join(dst, e.filename);
        auto a = std::move(e.attrs);
        if (!a.permissions || sftp::is_symlink(a)) {
          auto [stec, target] = co_await c_.async_stat(from, nothrow);
          if (stec) {
            if (lost()) co_return;
            emit(event::kind::warning, to, 0, 0, "scp: " + from + ": dangling symlink");
            continue;
          }
          a = std::move(target);
        }
        if (sftp::is_directory(a)) co_await download_dir(from, to, a, depth + 1);
        else if (sftp::is_regular(a)) co_await download_file(from, to, a);
        else emit(event::kind::warning, to, 0, 0, "scp: download " + from + ": not a regular file");
        if (lost()) co_return;
      }
    }
    fs::set_attributes sa;
    if (preserve_) {
      sa.permissions = mode;
      if (attrs.times) {
        sa.atime = static_cast<std::int64_t>(attrs.times->atime);
        sa.mtime = static_cast<std::int64_t>(attrs.times->mtime);
      }
    } else if (created && (mode & 0700) != 0700) {
      // Take back the owner bits added for filling it, keeping what the umask did to the rest.
      auto [stec, now] = co_await fs_.async_stat(dst, nothrow);
      if (stec) co_return;
      sa.permissions = now.permissions & 07777 & ~(0700 & ~mode);
    } else {
      co_return;
    }
    auto [ec] = co_await fs::async_setstat(fs_, dst, sa, nothrow);
    if (ec) fail("local setstat \"" + dst + "\": " + ec.message(), dst);
  }

  sftp_client& c_;
  Filesystem& fs_;
  bool recursive_;
  bool preserve_;
  bool should_be_dir_;
  const event_handler& on_event_;
  transfer_summary& sum_;
  std::size_t bs_;
  std::size_t chunk_ = 0;
  std::vector<std::uint8_t> buf_[2];
};

}  // namespace ferry::scp::detail
