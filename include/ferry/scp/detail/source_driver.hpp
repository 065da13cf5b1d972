// Runs the SCP source (proto/source.hpp) over a stream and a Filesystem: `scp -f` on a server, and
// a client's upload. The tree is walked lazily, one entry per need_entries, so a refused directory
// is not read at all and only one file is open at a time. Symlinks are followed, as scp does
// (stat); the walk stops at limits::scp_max_depth, so a symlink loop ends in a warning.
//
// Data path: two buffers of limits::scp_io_buffer; the next block is read from the file while the
// previous one is written to the stream. A file that shrinks while it is sent is padded with zeros
// to the size already announced and reported to the peer as a warning (scp.c does the same).
#pragma once

#include <ferry/fs/filesystem.hpp>
#include <ferry/fs/operations.hpp>
#include <ferry/scp/detail/io.hpp>
#include <ferry/scp/proto/source.hpp>
#include <ferry/scp/transfer.hpp>

#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace ferry::scp::detail {

template <class Stream, fs::filesystem Filesystem>
class source_driver {
 public:
  // paths: what to send, as Filesystem paths; each is sent under its last component.
  source_driver(Stream& s, Filesystem& files, std::vector<std::string> paths, bool recursive,
                bool preserve, const event_handler& on_event, transfer_summary& summary,
                std::size_t buffer_size)
      : s_(s),
        fs_(files),
        paths_(std::move(paths)),
        recursive_(recursive),
        preserve_(preserve),
        on_event_(on_event),
        sum_(summary),
        bs_(std::max<std::size_t>(buffer_size, 4096)) {}

  // Completes when every entry was sent and answered, on a fatal error from the peer (peer_error)
  // or a protocol error, or on a stream error.
  awaitable<error_code> run() {
    proto::source src{proto::source_options{preserve_}};
    std::array<std::uint8_t, 512> acks{};
    byte_view in;
    error_code result;
    for (;;) {
      auto a = src.next(in);
      using k = proto::source_action::kind;
      switch (a.type) {
        case k::need_more: {
          auto [ec, n] = co_await s_.async_read_some(boost::asio::buffer(acks), nothrow);
          if (ec == boost::asio::error::eof) ec = make_error_code(errc::truncated);
          if (ec) {
            co_await close_file();
            co_return ec;
          }
          in = byte_view{acks.data(), n};
          break;
        }
        case k::need_entries: co_await produce(src); break;
        case k::send:
          if (auto ec = co_await write_all(s_, a.data)) {
            co_await close_file();
            co_return ec;
          }
          break;
        case k::send_file: {
          auto [stream_ec, read_ec] = co_await send_file(a.size);
          if (stream_ec) co_return stream_ec;
          src.file_sent(read_ec);
          break;
        }
        case k::warning: {
          sum_.note(a.message);
          emit(event::kind::warning, a.name, 0, 0, a.message);
          if (a.skip_directory && !dirs_.empty()) {
            // The peer refused the directory just sent: drop its walk and close it at once.
            dirs_.pop_back();
            src.add(proto::source_entry::end_directory());
          } else if (!a.name.empty()) {
            co_await close_file();
          }
          break;
        }
        case k::done: co_return result;
        case k::failed:
          sum_.note(a.message);
          emit(event::kind::warning, {}, 0, 0, a.message);
          co_await close_file();
          co_return a.ec;
      }
    }
  }

 private:
  struct dir_frame {
    std::string path;
    std::vector<std::string> names;
    std::size_t next = 0;
  };

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

  // An entry that cannot be sent: a warning line to the peer, and noted here.
  void skip(proto::source& src, std::string_view what, std::string_view why) {
    auto text = std::string{what} + ": " + std::string{why};
    sum_.note("scp: " + text);
    emit(event::kind::warning, what, 0, 0, "scp: " + text);
    src.add(proto::source_entry::error(std::move(text)));
  }

  static std::optional<proto::times_record> times_of(const fs::attributes& a) {
    auto clamp = [](std::int64_t t) {
      return static_cast<std::uint64_t>(
          std::clamp<std::int64_t>(t, 0, static_cast<std::int64_t>(limits::scp_max_time)));
    };
    return proto::times_record{clamp(a.mtime), 0, clamp(a.atime), 0};
  }

  // Queues exactly one entry (or closes the source when everything was sent).
  awaitable<void> produce(proto::source& src) {
    if (!dirs_.empty()) {
      auto& d = dirs_.back();
      if (d.next == d.names.size()) {
        dirs_.pop_back();
        src.add(proto::source_entry::end_directory());
        co_return;
      }
      auto name = d.names[d.next++];
      auto path = join(d.path, name);
      co_await add_path(src, path, name);
      co_return;
    }
    if (next_top_ == paths_.size()) {
      src.close();
      co_return;
    }
    auto path = paths_[next_top_++];
    std::string name{last_component(path)};
    if (name.empty() || name == "." || name == "..") {
      // Send "." or ".." under the directory's real name, never as "." (which a careful sink
      // refuses: CVE-2018-20685).
      auto [ec, real] = co_await fs_.async_realpath(path, nothrow);
      if (ec) {
        skip(src, path, ec.message());
        co_return;
      }
      name = std::string{last_component(real)};
      if (name.empty()) {
        skip(src, path, "the root directory has no name to send");
        co_return;
      }
    }
    co_await add_path(src, path, name);
  }

  awaitable<void> add_path(proto::source& src, const std::string& path, const std::string& name) {
    if (proto::check_name(name)) {
      skip(src, path, "file name cannot be sent");
      co_return;
    }
    auto [ec, attrs] = co_await fs_.async_stat(path, nothrow);
    if (ec) {
      skip(src, path, ec.message());
      co_return;
    }
    auto mode = attrs.permissions & 07777;
    if (attrs.is_directory()) {
      if (!recursive_) {
        skip(src, path, "not a regular file");
        co_return;
      }
      if (dirs_.size() >= limits::scp_max_depth) {
        skip(src, path, "directories nested too deep");
        co_return;
      }
      dir_frame d;
      d.path = path;
      if (auto lec = co_await list(path, d.names)) {
        skip(src, path, lec.message());
        co_return;
      }
      dirs_.push_back(std::move(d));
      ++sum_.directories;
      emit(event::kind::directory, path, 0, 0);
      src.add(proto::source_entry::directory(name, mode, times_of(attrs)));
      co_return;
    }
    if (!attrs.is_regular()) {
      skip(src, path, "not a regular file");
      co_return;
    }
    auto [oec, h] = co_await fs_.async_open(path, fs::open_mode::read_only(), nothrow);
    if (oec) {
      skip(src, path, oec.message());
      co_return;
    }
    file_ = h;
    file_path_ = path;
    src.add(proto::source_entry::file(name, mode, attrs.size, times_of(attrs)));
  }

  awaitable<error_code> list(const std::string& path, std::vector<std::string>& names) {
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
      for (auto& e : batch) {
        if (e.name == "." || e.name == "..") continue;
        names.push_back(std::move(e.name));
      }
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

  awaitable<void> close_file() {
    if (!file_) co_return;
    auto [ec] = co_await fs_.async_close(*file_, nothrow);
    (void)ec;
    file_.reset();
  }

  // Reads up to `len` bytes at `offset` into b; EOF before len is an error here (the size was
  // announced already).
  static error_code short_read(const error_code& ec, std::size_t n) {
    if (ec && ec != boost::asio::error::eof) return ec;
    if (n == 0) return make_error_code(boost::system::errc::io_error);  // the file shrank
    return {};
  }

  // Sends exactly `size` bytes of the open file. Returns (stream error, file error).
  awaitable<std::tuple<error_code, error_code>> send_file(std::uint64_t size) {
    if (buf_[0].empty()) {
      buf_[0].resize(bs_);
      buf_[1].resize(bs_);
    }
    auto h = *file_;
    emit(event::kind::file_begin, file_path_, 0, size);
    std::uint64_t off = 0;
    error_code read_ec;
    int cur = 0;
    auto want = [&](std::uint64_t at) {
      return static_cast<std::size_t>(std::min<std::uint64_t>(bs_, size - at));
    };
    std::size_t n = 0;
    if (size != 0) {
      auto [ec, got] = co_await fs_.async_read_at(h, 0, mutable_byte_view{buf_[0].data(), want(0)},
                                                  nothrow);
      read_ec = short_read(ec, got);
      n = read_ec ? 0 : got;
    }
    error_code stream_ec;
    while (off < size && !read_ec) {
      byte_view chunk{buf_[cur].data(), n};
      auto next = off + n;
      if (next < size) {
        auto write = boost::asio::async_write(s_, boost::asio::buffer(chunk.data(), chunk.size()),
                                              boost::asio::deferred);
        auto read = fs_.async_read_at(h, next, mutable_byte_view{buf_[cur ^ 1].data(), want(next)},
                                      boost::asio::deferred);
        auto group = boost::asio::experimental::make_parallel_group(std::move(write), std::move(read));
        // (No structured binding: the result holds a std::array, see sink_driver.hpp.)
        auto r = co_await group.async_wait(boost::asio::experimental::wait_for_all(),
                                           boost::asio::use_awaitable);
        auto wec = std::get<1>(r);
        auto rec = std::get<3>(r);
        auto rn = std::get<4>(r);
        if (wec) {
          stream_ec = wec;
          break;
        }
        read_ec = short_read(rec, rn);
        n = read_ec ? 0 : rn;
      } else {
        if ((stream_ec = co_await write_all(s_, chunk))) break;
      }
      off = next;
      sum_.bytes += chunk.size();
      emit(event::kind::progress, file_path_, off, size);
      cur ^= 1;
    }
    if (!stream_ec && off < size) {
      // The peer expects `size` bytes: pad with zeros, then report the error instead of 0.
      std::memset(buf_[0].data(), 0, bs_);
      while (off < size && !stream_ec) {
        byte_view pad{buf_[0].data(), want(off)};
        stream_ec = co_await write_all(s_, pad);
        off += pad.size();
      }
    }
    co_await close_file();
    if (!stream_ec && !read_ec) {
      ++sum_.files;
      emit(event::kind::file_end, file_path_, size, size);
    } else if (read_ec) {
      auto text = "scp: " + file_path_ + ": " + read_ec.message();
      sum_.note(text);
      emit(event::kind::warning, file_path_, off, size, text);
    }
    co_return std::tuple{stream_ec, read_ec};
  }

  Stream& s_;
  Filesystem& fs_;
  std::vector<std::string> paths_;
  bool recursive_;
  bool preserve_;
  const event_handler& on_event_;
  transfer_summary& sum_;
  std::size_t bs_;
  std::size_t next_top_ = 0;
  std::vector<dir_frame> dirs_;
  std::optional<fs::handle> file_;
  std::string file_path_;
  std::vector<std::uint8_t> buf_[2];
};

}  // namespace ferry::scp::detail
