// Runs the SCP sink (proto/sink.hpp) over a stream and a Filesystem: `scp -t` on a server, and a
// client's download. Every name the machine hands out is one checked component; the driver only
// ever joins it onto the target or onto a directory it created below the target, so nothing is
// written anywhere else (and a rooted Filesystem keeps even the target inside the user's root).
//
// Data path: two buffers of limits::scp_io_buffer. Stream reads append to the current buffer and
// the file bytes in it join one pending write until the buffer is (nearly) full; only then is that
// write handed to the Filesystem, while the next bytes are read into the other buffer (a parallel
// group), so disk and network overlap and a file costs one Filesystem write per buffer, not one
// per stream read. Nothing is allocated or copied per block.
#pragma once

#include <ferry/fs/filesystem.hpp>
#include <ferry/fs/operations.hpp>
#include <ferry/scp/detail/io.hpp>
#include <ferry/scp/proto/sink.hpp>
#include <ferry/scp/transfer.hpp>

#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>

#include <optional>
#include <string>
#include <vector>

namespace ferry::scp::detail {

template <class Stream, fs::filesystem Filesystem>
class sink_driver {
 public:
  sink_driver(Stream& s, Filesystem& files, std::string target, proto::sink_options opts,
              const event_handler& on_event, transfer_summary& summary, std::size_t buffer_size)
      : s_(s),
        fs_(files),
        target_(target.empty() ? std::string{"."} : std::move(target)),
        opts_(std::move(opts)),
        on_event_(on_event),
        sum_(summary),
        bs_(std::max<std::size_t>(buffer_size, 4096)) {}

  // Completes when the peer has closed its side at a record boundary (success), on a protocol
  // error (an scp::errc, after the peer was told), or on a stream error.
  awaitable<error_code> run() {
    {
      auto [ec, a] = co_await fs_.async_stat(target_, nothrow);
      target_is_dir_ = !ec && a.is_directory();
    }
    opts_.target_is_directory = target_is_dir_;
    if (opts_.target_name.empty()) opts_.target_name = target_;
    proto::sink sink{opts_};
    buf_[0].resize(bs_);
    buf_[1].resize(bs_);
    byte_view in;
    for (;;) {
      auto a = sink.next(in);
      using k = proto::sink_action::kind;
      if (a.type != k::need_more && a.type != k::write) co_await flush(sink);
      switch (a.type) {
        case k::need_more: {
          auto [ec, n, at] = co_await read_more(sink);
          if (ec == boost::asio::error::eof) {
            co_await abandon_file();
            co_return sink.finish();
          }
          if (ec) {
            co_await abandon_file();
            co_return ec;
          }
          in = byte_view{buf_[cur_].data() + at, n};
          break;
        }
        case k::send:
          if (auto ec = co_await write_all(s_, a.data)) {
            co_await abandon_file();
            co_return ec;
          }
          break;
        case k::create_directory: co_await create_directory(sink, a); break;
        case k::open_file: co_await open_file(sink, a); break;
        case k::write:
          if (file_ && !write_failed_) {
            if (pending_ && pending_->data() + pending_->size() == a.data.data() &&
                pending_offset_ + pending_->size() == offset_) {
              // The next bytes of the same buffer: one write for both.
              pending_ = byte_view{pending_->data(), pending_->size() + a.data.size()};
            } else {
              if (pending_) co_await flush(sink);
              pending_ = byte_view{a.data};
              pending_offset_ = offset_;
            }
          }
          offset_ += a.data.size();
          break;
        case k::close_file: co_await close_file(sink, a); break;
        case k::leave_directory: co_await leave_directory(a); break;
        case k::warning:
          sum_.note(a.message);
          emit(event::kind::warning, {}, 0, 0, a.message);
          break;
        case k::failed:
          sum_.note(a.message);
          emit(event::kind::warning, {}, 0, 0, a.message);
          co_await abandon_file();
          if (!a.data.empty()) (void)co_await write_all(s_, a.data);
          co_return a.ec;
      }
    }
  }

  bool target_is_directory() const noexcept { return target_is_dir_; }

 private:
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

  // A failure on this side: the sink tells the peer ("scp: NAME: why") and skips the entry.
  void report(proto::sink& sink, std::string_view name, const error_code& ec) {
    auto why = ec.message();
    sink.report(ec, why);
    auto text = "scp: " + std::string{name} + ": " + why;
    sum_.note(text);
    emit(event::kind::warning, name, 0, 0, text);
  }

  // Where an entry named by the peer lands: below the directory it is in, or at depth 0 inside
  // the target (a directory) or as the target itself (scp.c sink(): targisdir ? targ/name : targ).
  std::string entry_path(std::string_view name) const {
    if (!dirs_.empty()) return join(dirs_.back().path, name);
    return target_is_dir_ ? join(target_, name) : target_;
  }

  // Reads the next bytes from the stream. With no pending file write the current buffer is free
  // and the read fills it from the start. A pending write stays in the current buffer while there
  // is room enough after it (the read appends, so the file bytes it brings extend that write);
  // otherwise the pending write runs alongside a read into the other buffer.
  awaitable<std::tuple<error_code, std::size_t, std::size_t>> read_more(proto::sink& sink) {
    if (!pending_ || bs_ - fill_ >= min_read()) {
      if (!pending_) fill_ = 0;
      auto space = boost::asio::buffer(buf_[cur_].data() + fill_, bs_ - fill_);
      auto [ec, n] = co_await s_.async_read_some(space, nothrow);
      auto at = fill_;
      fill_ += n;
      co_return std::tuple{ec, n, at};
    }
    auto data = *pending_;
    pending_.reset();
    cur_ ^= 1;
    fill_ = 0;
    auto write = fs::async_write_all_at(fs_, *file_, pending_offset_, data, boost::asio::deferred);
    auto read = s_.async_read_some(boost::asio::buffer(buf_[cur_]), boost::asio::deferred);
    auto group = boost::asio::experimental::make_parallel_group(std::move(write), std::move(read));
    // (No structured binding: the result holds a std::array, which g++ 12 cannot bind inside a
    // coroutine.)
    auto r = co_await group.async_wait(boost::asio::experimental::wait_for_all(),
                                       boost::asio::use_awaitable);
    wrote(sink, std::get<1>(r), data.size());
    fill_ = std::get<4>(r);
    co_return std::tuple{std::get<3>(r), std::get<4>(r), std::size_t{0}};
  }

  // Below this much room after a pending write, the buffer counts as full.
  std::size_t min_read() const noexcept { return bs_ / 4; }

  awaitable<void> flush(proto::sink& sink) {
    if (!pending_) co_return;
    auto data = *pending_;
    pending_.reset();
    auto [ec, n] = co_await fs::async_write_all_at(fs_, *file_, pending_offset_, data, nothrow);
    (void)n;
    wrote(sink, ec, data.size());
  }

  void wrote(proto::sink& sink, const error_code& ec, std::size_t n) {
    if (ec) {
      if (!write_failed_) report(sink, file_name_, ec);
      write_failed_ = true;
      return;
    }
    written_ += n;
    emit(event::kind::progress, file_path_, written_, file_size_);
  }

  awaitable<void> create_directory(proto::sink& sink, const proto::sink_action& a) {
    auto path = entry_path(a.name);
    bool created = false;
    auto [sec, attrs] = co_await fs_.async_stat(path, nothrow);
    if (!sec && !attrs.is_directory()) {
      report(sink, a.name, make_error_code(boost::system::errc::not_a_directory));
      co_return;
    }
    if (sec) {
      // Owner rwx while it is filled; the final mode is set on leaving it (scp.c: mode | S_IRWXU).
      auto [mec] = co_await fs_.async_mkdir(path, a.mode | 0700, nothrow);
      if (mec) {
        report(sink, a.name, mec);
        co_return;
      }
      created = true;
    }
    ++sum_.directories;
    emit(event::kind::directory, path, 0, 0);
    dirs_.push_back(dir_frame{std::move(path), a.mode, created});
  }

  awaitable<void> open_file(proto::sink& sink, const proto::sink_action& a) {
    auto path = entry_path(a.name);
    fs::open_mode m;
    m.write = true;
    m.create = true;
    m.truncate = true;
    m.permissions = a.mode;
    auto [ec, h] = co_await fs_.async_open(path, m, nothrow);
    if (ec) {
      report(sink, a.name, ec);
      co_return;
    }
    file_ = h;
    file_name_.assign(a.name);
    file_path_ = std::move(path);
    file_mode_ = a.mode;
    file_size_ = a.size;
    offset_ = 0;
    written_ = 0;
    write_failed_ = false;
    emit(event::kind::file_begin, file_path_, 0, file_size_);
  }

  awaitable<void> close_file(proto::sink& sink, const proto::sink_action& a) {
    if (!file_) co_return;
    error_code ec;
    if (opts_.preserve) {
      fs::set_attributes sa;
      sa.permissions = file_mode_;
      if (a.times) {
        sa.mtime = static_cast<std::int64_t>(a.times->mtime);
        sa.atime = static_cast<std::int64_t>(a.times->atime);
      }
      auto [fec] = co_await fs::async_fsetstat(fs_, *file_, sa, nothrow);
      if (fec == ferry::errc::unsupported) {
        auto [pec] = co_await fs::async_setstat(fs_, file_path_, sa, nothrow);
        fec = pec;
      }
      ec = fec;
    }
    auto [cec] = co_await fs_.async_close(*file_, nothrow);
    file_.reset();
    if (!ec) ec = cec;
    if (ec && !write_failed_) report(sink, file_name_, ec);
    if (!ec && !write_failed_) {
      ++sum_.files;
      sum_.bytes += written_;
      emit(event::kind::file_end, file_path_, written_, file_size_);
    }
  }

  awaitable<void> leave_directory(const proto::sink_action& a) {
    if (dirs_.empty()) co_return;
    auto d = std::move(dirs_.back());
    dirs_.pop_back();
    fs::set_attributes sa;
    if (opts_.preserve) {
      sa.permissions = d.mode;
      if (a.times) {
        sa.mtime = static_cast<std::int64_t>(a.times->mtime);
        sa.atime = static_cast<std::int64_t>(a.times->atime);
      }
    } else if (d.created && (d.mode & 0700) != 0700) {
      // Take back the owner bits added for filling it, keeping what the umask did to the rest.
      auto [sec, attrs] = co_await fs_.async_stat(d.path, nothrow);
      if (sec) co_return;
      sa.permissions = attrs.permissions & 07777 & ~(0700 & ~d.mode);
    } else {
      co_return;
    }
    auto [ec] = co_await fs::async_setstat(fs_, d.path, sa, nothrow);
    if (ec) {
      auto text = "scp: " + d.path + ": " + ec.message();
      sum_.note(text);
      emit(event::kind::warning, d.path, 0, 0, text);
    }
  }

  // The stream ended or failed inside a file: close what is open (the partial file stays, as
  // with scp).
  awaitable<void> abandon_file() {
    pending_.reset();
    if (!file_) co_return;
    auto [ec] = co_await fs_.async_close(*file_, nothrow);
    (void)ec;
    file_.reset();
  }

  struct dir_frame {
    std::string path;
    std::uint32_t mode;
    bool created;
  };

  Stream& s_;
  Filesystem& fs_;
  std::string target_;
  proto::sink_options opts_;
  const event_handler& on_event_;
  transfer_summary& sum_;
  std::size_t bs_;
  bool target_is_dir_ = false;
  std::vector<std::uint8_t> buf_[2];
  int cur_ = 0;
  std::size_t fill_ = 0;  // bytes of buf_[cur_] read so far (from 0, or since the last swap)
  std::optional<byte_view> pending_;
  std::uint64_t pending_offset_ = 0;
  std::optional<fs::handle> file_;
  std::string file_name_;
  std::string file_path_;
  std::uint32_t file_mode_ = 0;
  std::uint64_t file_size_ = 0;
  std::uint64_t offset_ = 0;
  std::uint64_t written_ = 0;
  bool write_failed_ = false;
  std::vector<dir_frame> dirs_;
};

}  // namespace ferry::scp::detail
