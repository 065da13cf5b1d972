// One conformance suite for every backend: each operation, each documented error, run against the
// memory backend and the local backend with both path resolvers (openat2 and the O_NOFOLLOW walk).
#include "fs_test_util.hpp"

#include <ferry/core/limits.hpp>
#include <ferry/fs/error.hpp>

#include <algorithm>
#include <set>

#include <unistd.h>

namespace ferry::fs::testing {
namespace {

using boost::system::errc::errc_t;

template <class B>
class fs_conformance : public ::testing::Test {
 protected:
  typename B::fs_type make(const backend_options& o = {}) { return backend.make(ioc, o); }
  asio::io_context ioc;
  B backend;
};

struct backend_names {
  template <class T>
  static std::string GetName(int) {
    if (std::is_same_v<T, memory_backend>) return "memory";
    if (std::is_same_v<T, local_openat2_backend>) return "local_openat2";
    return "local_walk";
  }
};

using backends = ::testing::Types<memory_backend, local_openat2_backend, local_walk_backend>;
TYPED_TEST_SUITE(fs_conformance, backends, backend_names);

static_assert(filesystem<memory_filesystem>);
static_assert(filesystem<local_filesystem>);
static_assert(has_lstat<local_filesystem> && has_fsync<local_filesystem> &&
              has_symlink<local_filesystem> && has_hardlink<local_filesystem> &&
              has_statvfs<local_filesystem> && has_setstat<local_filesystem> &&
              has_fsetstat<local_filesystem> && has_posix_rename<local_filesystem> &&
              has_fstat<local_filesystem> && has_user_views<local_filesystem>);
static_assert(has_lstat<memory_filesystem> && has_user_views<memory_filesystem>);

TYPED_TEST(fs_conformance, stat_of_missing_path_is_no_such_file) {
  auto f = this->make();
  run(this->ioc, [&]() -> asio::awaitable<void> {
    auto [ec, a] = co_await f.async_stat("/missing", tok);
    EXPECT_EQ(ec, errc_t::no_such_file_or_directory);
    EXPECT_EQ(kind_of(ec), error_kind::no_such_file);
    auto [ec2, a2] = co_await f.async_stat("/missing/below", tok);
    EXPECT_EQ(ec2, errc_t::no_such_file_or_directory);
  }());
}

TYPED_TEST(fs_conformance, root_is_a_directory) {
  auto f = this->make();
  run(this->ioc, [&]() -> asio::awaitable<void> {
    auto [ec, a] = co_await f.async_stat("/", tok);
    EXPECT_FALSE(ec);
    EXPECT_TRUE(a.is_directory());
    auto [ec2, a2] = co_await f.async_stat("/..", tok);
    EXPECT_FALSE(ec2);
    EXPECT_TRUE(a2.is_directory());
  }());
}

TYPED_TEST(fs_conformance, written_bytes_read_back_identically) {
  auto f = this->make();
  run(this->ioc, [&]() -> asio::awaitable<void> {
    std::string content(10000, '\0');
    for (std::size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>(i * 7);
    EXPECT_FALSE(co_await write_file(f, "/a.bin", content));
    auto [ec, got] = co_await read_file(f, "/a.bin");
    EXPECT_FALSE(ec);
    EXPECT_EQ(got, content);
    auto [sec, a] = co_await f.async_stat("/a.bin", tok);
    EXPECT_FALSE(sec);
    EXPECT_TRUE(a.is_regular());
    EXPECT_EQ(a.size, content.size());
    EXPECT_EQ(a.link_count, 1u);
  }());
}

TYPED_TEST(fs_conformance, read_at_or_past_end_reports_eof) {
  auto f = this->make();
  run(this->ioc, [&]() -> asio::awaitable<void> {
    EXPECT_FALSE(co_await write_file(f, "/f", "abc"));
    auto [ec, h] = co_await f.async_open("/f", open_mode::read_only(), tok);
    FERRY_CO_ASSERT(!ec);
    bytes buf(10);
    auto [r1, n1] = co_await f.async_read_at(h, 1, buf, tok);
    EXPECT_FALSE(r1);
    EXPECT_EQ(n1, 2u);
    auto [r2, n2] = co_await f.async_read_at(h, 3, buf, tok);
    EXPECT_EQ(r2, asio::error::eof);
    EXPECT_EQ(kind_of(r2), error_kind::end_of_file);
    EXPECT_EQ(n2, 0u);
    auto [r3, n3] = co_await f.async_read_at(h, 1000, buf, tok);
    EXPECT_EQ(r3, asio::error::eof);
    co_await f.async_close(h, tok);
  }());
}

TYPED_TEST(fs_conformance, open_without_create_on_missing_file_fails) {
  auto f = this->make();
  run(this->ioc, [&]() -> asio::awaitable<void> {
    auto [ec, h] = co_await f.async_open("/nope", open_mode{.read = true, .write = true}, tok);
    EXPECT_EQ(ec, errc_t::no_such_file_or_directory);
    auto [ec2, a] = co_await f.async_stat("/nope", tok);
    EXPECT_EQ(ec2, errc_t::no_such_file_or_directory);
  }());
}

TYPED_TEST(fs_conformance, exclusive_create_refuses_existing_names_including_symlinks) {
  auto f = this->make();
  run(this->ioc, [&]() -> asio::awaitable<void> {
    EXPECT_FALSE(co_await write_file(f, "/x", "keep"));
    open_mode excl{.write = true, .create = true, .exclusive = true};
    auto [ec, h] = co_await f.async_open("/x", excl, tok);
    EXPECT_EQ(ec, errc_t::file_exists);
    auto [lec] = co_await async_symlink(f, "/dangling-target", "/link", tok);
    EXPECT_FALSE(lec);
    auto [ec2, h2] = co_await f.async_open("/link", excl, tok);
    EXPECT_EQ(ec2, errc_t::file_exists);
    auto [sec, a] = co_await f.async_stat("/dangling-target", tok);
    EXPECT_EQ(sec, errc_t::no_such_file_or_directory);  // nothing created through the link
    auto [ec3, h3] = co_await f.async_open("/new", excl, tok);
    EXPECT_FALSE(ec3);
    co_await f.async_close(h3, tok);
    auto [rec, got] = co_await read_file(f, "/x");
    EXPECT_EQ(got, "keep");
  }());
}

TYPED_TEST(fs_conformance, truncate_on_open_empties_the_file) {
  auto f = this->make();
  run(this->ioc, [&]() -> asio::awaitable<void> {
    EXPECT_FALSE(co_await write_file(f, "/t", "0123456789"));
    auto [ec, h] = co_await f.async_open("/t", open_mode{.write = true, .truncate = true}, tok);
    FERRY_CO_ASSERT(!ec);
    co_await f.async_close(h, tok);
    auto [sec, a] = co_await f.async_stat("/t", tok);
    EXPECT_EQ(a.size, 0u);
  }());
}

TYPED_TEST(fs_conformance, append_writes_land_at_the_end_whatever_the_offset) {
  auto f = this->make();
  run(this->ioc, [&]() -> asio::awaitable<void> {
    EXPECT_FALSE(co_await write_file(f, "/log", "one,"));
    auto [ec, h] = co_await f.async_open("/log", open_mode{.write = true, .append = true}, tok);
    FERRY_CO_ASSERT(!ec);
    auto [wec, n] = co_await async_write_all_at(f, h, 0, as_bytes("two"), tok);
    EXPECT_FALSE(wec);
    co_await f.async_close(h, tok);
    auto [rec, got] = co_await read_file(f, "/log");
    EXPECT_EQ(got, "one,two");
  }());
}

TYPED_TEST(fs_conformance, handles_only_allow_what_they_were_opened_for) {
  auto f = this->make();
  run(this->ioc, [&]() -> asio::awaitable<void> {
    EXPECT_FALSE(co_await write_file(f, "/r", "data"));
    auto [ec, rh] = co_await f.async_open("/r", open_mode::read_only(), tok);
    FERRY_CO_ASSERT(!ec);
    auto [wec, n] = co_await f.async_write_at(rh, 0, as_bytes("x"), tok);
    EXPECT_EQ(wec, errc_t::bad_file_descriptor);
    co_await f.async_close(rh, tok);
    auto [ec2, wh] = co_await f.async_open("/r", open_mode{.write = true}, tok);
    FERRY_CO_ASSERT(!ec2);
    bytes buf(4);
    auto [rec, m] = co_await f.async_read_at(wh, 0, buf, tok);
    EXPECT_EQ(rec, errc_t::bad_file_descriptor);
    co_await f.async_close(wh, tok);
  }());
}

TYPED_TEST(fs_conformance, closed_or_unknown_handles_are_bad_descriptors) {
  auto f = this->make();
  run(this->ioc, [&]() -> asio::awaitable<void> {
    EXPECT_FALSE(co_await write_file(f, "/c", "x"));
    auto [ec, h] = co_await f.async_open("/c", open_mode::read_only(), tok);
    FERRY_CO_ASSERT(!ec);
    auto [c1] = co_await f.async_close(h, tok);
    EXPECT_FALSE(c1);
    auto [c2] = co_await f.async_close(h, tok);
    EXPECT_EQ(c2, errc_t::bad_file_descriptor);
    bytes buf(1);
    auto [rec, n] = co_await f.async_read_at(h, 0, buf, tok);
    EXPECT_EQ(rec, errc_t::bad_file_descriptor);
    auto [sec] = co_await async_fsync(f, h, tok);
    EXPECT_EQ(sec, errc_t::bad_file_descriptor);
    auto [dec, entries] = co_await f.async_readdir(handle{987654}, tok);
    EXPECT_EQ(dec, errc_t::bad_file_descriptor);
  }());
}

TYPED_TEST(fs_conformance, opening_a_directory_as_a_file_is_refused) {
  auto f = this->make();
  run(this->ioc, [&]() -> asio::awaitable<void> {
    auto [mec] = co_await f.async_mkdir("/d", 0755, tok);
    EXPECT_FALSE(mec);
    auto [ec, h] = co_await f.async_open("/d", open_mode::read_only(), tok);
    EXPECT_EQ(ec, errc_t::is_a_directory);
    auto [ec2, h2] = co_await f.async_opendir("/nothere", tok);
    EXPECT_EQ(ec2, errc_t::no_such_file_or_directory);
    EXPECT_FALSE(co_await write_file(f, "/file", "x"));
    auto [ec3, h3] = co_await f.async_opendir("/file", tok);
    EXPECT_EQ(ec3, errc_t::not_a_directory);
  }());
}

TYPED_TEST(fs_conformance, mkdir_errors_follow_posix) {
  auto f = this->make();
  run(this->ioc, [&]() -> asio::awaitable<void> {
    auto [e1] = co_await f.async_mkdir("/d", 0755, tok);
    EXPECT_FALSE(e1);
    auto [e2] = co_await f.async_mkdir("/d", 0755, tok);
    EXPECT_EQ(e2, errc_t::file_exists);
    auto [e3] = co_await f.async_mkdir("/missing/d", 0755, tok);
    EXPECT_EQ(e3, errc_t::no_such_file_or_directory);
    auto [e4] = co_await f.async_mkdir("/", 0755, tok);
    EXPECT_EQ(e4, errc_t::file_exists);
    EXPECT_FALSE(co_await write_file(f, "/file", "x"));
    auto [e5] = co_await f.async_mkdir("/file/d", 0755, tok);
    EXPECT_EQ(e5, errc_t::not_a_directory);
  }());
}

TYPED_TEST(fs_conformance, rmdir_removes_only_empty_directories) {
  auto f = this->make();
  run(this->ioc, [&]() -> asio::awaitable<void> {
    co_await f.async_mkdir("/d", 0755, tok);
    EXPECT_FALSE(co_await write_file(f, "/d/x", "1"));
    auto [e1] = co_await f.async_rmdir("/d", tok);
    EXPECT_EQ(e1, errc_t::directory_not_empty);
    auto [e2] = co_await f.async_rmdir("/d/x", tok);
    EXPECT_EQ(e2, errc_t::not_a_directory);
    auto [e3] = co_await f.async_rmdir("/", tok);
    EXPECT_EQ(e3, errc_t::device_or_resource_busy);
    auto [e4] = co_await f.async_remove("/d/x", tok);
    EXPECT_FALSE(e4);
    auto [e5] = co_await f.async_rmdir("/d", tok);
    EXPECT_FALSE(e5);
    auto [e6, a] = co_await f.async_stat("/d", tok);
    EXPECT_EQ(e6, errc_t::no_such_file_or_directory);
    auto [e7] = co_await f.async_rmdir("/d", tok);
    EXPECT_EQ(e7, errc_t::no_such_file_or_directory);
  }());
}

TYPED_TEST(fs_conformance, remove_refuses_directories_and_missing_names) {
  auto f = this->make();
  run(this->ioc, [&]() -> asio::awaitable<void> {
    co_await f.async_mkdir("/d", 0755, tok);
    auto [e1] = co_await f.async_remove("/d", tok);
    EXPECT_EQ(e1, errc_t::is_a_directory);
    auto [e2] = co_await f.async_remove("/none", tok);
    EXPECT_EQ(e2, errc_t::no_such_file_or_directory);
    auto [e3] = co_await f.async_remove("/", tok);
    EXPECT_EQ(e3, errc_t::is_a_directory);
  }());
}

TYPED_TEST(fs_conformance, remove_of_a_symlink_removes_the_link_not_the_target) {
  auto f = this->make();
  run(this->ioc, [&]() -> asio::awaitable<void> {
    EXPECT_FALSE(co_await write_file(f, "/target", "t"));
    co_await async_symlink(f, "target", "/link", tok);
    auto [e1] = co_await f.async_remove("/link", tok);
    EXPECT_FALSE(e1);
    auto [e2, a] = co_await f.async_stat("/target", tok);
    EXPECT_FALSE(e2);
    auto [e3, b] = co_await async_lstat(f, "/link", tok);
    EXPECT_EQ(e3, errc_t::no_such_file_or_directory);
  }());
}

TYPED_TEST(fs_conformance, rename_never_overwrites) {
  auto f = this->make();
  run(this->ioc, [&]() -> asio::awaitable<void> {
    EXPECT_FALSE(co_await write_file(f, "/a", "A"));
    EXPECT_FALSE(co_await write_file(f, "/b", "B"));
    auto [e1] = co_await f.async_rename("/a", "/b", tok);
    EXPECT_EQ(e1, errc_t::file_exists);
    {
      auto got = co_await content(f, "/a");
      EXPECT_EQ(got, "A");
    }
    {
      auto got = co_await content(f, "/b");
      EXPECT_EQ(got, "B");
    }
    auto [e2] = co_await f.async_rename("/a", "/c", tok);
    EXPECT_FALSE(e2);
    {
      auto got = co_await content(f, "/c");
      EXPECT_EQ(got, "A");
    }
    auto [e3, st] = co_await f.async_stat("/a", tok);
    EXPECT_EQ(e3, errc_t::no_such_file_or_directory);
    auto [e4] = co_await f.async_rename("/missing", "/z", tok);
    EXPECT_EQ(e4, errc_t::no_such_file_or_directory);
    auto [e5] = co_await f.async_rename("/", "/z", tok);
    EXPECT_EQ(e5, errc_t::device_or_resource_busy);
  }());
}

TYPED_TEST(fs_conformance, posix_rename_replaces_the_target_in_one_step) {
  auto f = this->make();
  run(this->ioc, [&]() -> asio::awaitable<void> {
    EXPECT_FALSE(co_await write_file(f, "/new", "fresh"));
    EXPECT_FALSE(co_await write_file(f, "/live", "stale"));
    auto [e1] = co_await async_posix_rename(f, "/new", "/live", tok);
    EXPECT_FALSE(e1);
    {
      auto got = co_await content(f, "/live");
      EXPECT_EQ(got, "fresh");
    }
    auto [e2, a] = co_await f.async_stat("/new", tok);
    EXPECT_EQ(e2, errc_t::no_such_file_or_directory);
    co_await f.async_mkdir("/dir", 0755, tok);
    EXPECT_FALSE(co_await write_file(f, "/dir/in", "x"));
    auto [e3] = co_await async_posix_rename(f, "/live", "/dir", tok);
    EXPECT_EQ(e3, errc_t::is_a_directory);
    co_await f.async_mkdir("/empty", 0755, tok);
    auto [e4] = co_await async_posix_rename(f, "/empty", "/dir", tok);
    EXPECT_EQ(e4, errc_t::directory_not_empty);
  }());
}

TYPED_TEST(fs_conformance, a_directory_cannot_move_below_itself) {
  auto f = this->make();
  run(this->ioc, [&]() -> asio::awaitable<void> {
    co_await f.async_mkdir("/d", 0755, tok);
    co_await f.async_mkdir("/d/sub", 0755, tok);
    auto [e1] = co_await f.async_rename("/d", "/d/sub/moved", tok);
    EXPECT_EQ(e1, errc_t::invalid_argument);
    auto [e2, a] = co_await f.async_stat("/d/sub", tok);
    EXPECT_FALSE(e2);
  }());
}

TYPED_TEST(fs_conformance, readdir_returns_every_entry_once_in_batches_then_eof) {
  auto f = this->make();
  run(this->ioc, [&]() -> asio::awaitable<void> {
    co_await f.async_mkdir("/many", 0755, tok);
    const std::size_t count = limits::fs_readdir_batch * 2 + 17;
    for (std::size_t i = 0; i < count; ++i) {
      EXPECT_FALSE(co_await write_file(f, "/many/f" + std::to_string(i), std::to_string(i)));
    }
    co_await f.async_mkdir("/many/sub", 0700, tok);
    auto [oec, h] = co_await f.async_opendir("/many", tok);
    FERRY_CO_ASSERT(!oec);
    std::set<std::string> seen;
    std::size_t batches = 0;
    while (true) {
      auto [ec, batch] = co_await f.async_readdir(h, tok);
      if (ec == asio::error::eof) break;
      FERRY_CO_ASSERT(!ec);
      EXPECT_LE(batch.size(), limits::fs_readdir_batch);
      ++batches;
      for (auto& e : batch) {
        EXPECT_TRUE(seen.insert(e.name).second) << "duplicate " << e.name;
        EXPECT_NE(e.name, ".");
        EXPECT_NE(e.name, "..");
        EXPECT_EQ(e.attrs.is_directory(), e.name == "sub");
        if (e.name == "f5") {
          EXPECT_EQ(e.attrs.size, 1u);
        }
      }
    }
    EXPECT_GE(batches, 3u);
    EXPECT_EQ(seen.size(), count + 1);
    auto [again, none] = co_await f.async_readdir(h, tok);
    EXPECT_EQ(again, asio::error::eof);
    co_await f.async_close(h, tok);
  }());
}

TYPED_TEST(fs_conformance, readdir_reports_symlinks_without_following_them) {
  auto f = this->make();
  run(this->ioc, [&]() -> asio::awaitable<void> {
    co_await f.async_mkdir("/d", 0755, tok);
    co_await f.async_mkdir("/d/real", 0755, tok);
    co_await async_symlink(f, "real", "/d/link", tok);
    error_code ec;
    auto entries = co_await list(f, "/d", ec);
    EXPECT_FALSE(ec);
    FERRY_CO_ASSERT(entries.size() == 2u);
    for (auto& e : entries) {
      EXPECT_EQ(e.attrs.is_symlink(), e.name == "link");
      EXPECT_EQ(e.attrs.is_directory(), e.name == "real");
    }
  }());
}

TYPED_TEST(fs_conformance, symlinks_store_their_target_verbatim) {
  auto f = this->make();
  run(this->ioc, [&]() -> asio::awaitable<void> {
    auto [e1] = co_await async_symlink(f, "../some/where", "/l", tok);
    EXPECT_FALSE(e1);
    auto [e2, t] = co_await async_readlink(f, "/l", tok);
    EXPECT_FALSE(e2);
    EXPECT_EQ(t, "../some/where");
    auto [e3] = co_await async_symlink(f, "x", "/l", tok);
    EXPECT_EQ(e3, errc_t::file_exists);
    EXPECT_FALSE(co_await write_file(f, "/plain", "p"));
    auto [e4, t4] = co_await async_readlink(f, "/plain", tok);
    EXPECT_EQ(e4, errc_t::invalid_argument);
    auto [e5] = co_await async_symlink(f, "", "/empty", tok);
    EXPECT_EQ(e5, errc_t::no_such_file_or_directory);
    auto [e6] = co_await async_symlink(f, std::string("a\0b", 3), "/nul", tok);
    EXPECT_EQ(e6, errc_t::invalid_argument);
  }());
}

TYPED_TEST(fs_conformance, stat_follows_symlinks_and_lstat_does_not) {
  auto f = this->make();
  run(this->ioc, [&]() -> asio::awaitable<void> {
    EXPECT_FALSE(co_await write_file(f, "/data", "12345"));
    co_await async_symlink(f, "/data", "/abs", tok);
    co_await async_symlink(f, "data", "/rel", tok);
    for (std::string p : {"/abs", "/rel"}) {
      auto [e1, a] = co_await f.async_stat(p, tok);
      EXPECT_FALSE(e1);
      EXPECT_TRUE(a.is_regular());
      EXPECT_EQ(a.size, 5u);
      auto [e2, b] = co_await async_lstat(f, p, tok);
      EXPECT_FALSE(e2);
      EXPECT_TRUE(b.is_symlink());
      {
      auto got = co_await content(f, p);
      EXPECT_EQ(got, "12345");
    }
    }
    co_await async_symlink(f, "/loop2", "/loop1", tok);
    co_await async_symlink(f, "/loop1", "/loop2", tok);
    auto [e3, c] = co_await f.async_stat("/loop1", tok);
    EXPECT_EQ(e3, errc_t::too_many_symbolic_link_levels);
  }());
}

TYPED_TEST(fs_conformance, hardlinks_share_content_and_count_links) {
  auto f = this->make();
  run(this->ioc, [&]() -> asio::awaitable<void> {
    EXPECT_FALSE(co_await write_file(f, "/orig", "shared"));
    auto [e1] = co_await async_hardlink(f, "/orig", "/second", tok);
    EXPECT_FALSE(e1);
    auto [e2, a] = co_await f.async_stat("/second", tok);
    EXPECT_EQ(a.link_count, 2u);
    EXPECT_FALSE(co_await write_file(f, "/orig", "changed"));
    {
      auto got = co_await content(f, "/second");
      EXPECT_EQ(got, "changed");
    }
    auto [e3] = co_await async_hardlink(f, "/orig", "/second", tok);
    EXPECT_EQ(e3, errc_t::file_exists);
    co_await f.async_mkdir("/d", 0755, tok);
    auto [e4] = co_await async_hardlink(f, "/d", "/dlink", tok);
    EXPECT_EQ(e4, errc_t::operation_not_permitted);
    co_await f.async_remove("/orig", tok);
    {
      auto got = co_await content(f, "/second");
      EXPECT_EQ(got, "changed");
    }
  }());
}

TYPED_TEST(fs_conformance, realpath_expands_dots_and_symlinks_from_the_home) {
  backend_options o;
  o.home = "/home/u";
  auto f = this->make(o);
  run(this->ioc, [&]() -> asio::awaitable<void> {
    co_await f.async_mkdir("/home", 0755, tok);
    co_await f.async_mkdir("/home/u", 0755, tok);
    co_await f.async_mkdir("/home/u/docs", 0755, tok);
    co_await async_symlink(f, "/home/u/docs", "/home/u/d", tok);
    co_await async_symlink(f, "../u/./docs", "/home/u/rel", tok);
    auto [e1, p1] = co_await f.async_realpath(".", tok);
    EXPECT_FALSE(e1);
    EXPECT_EQ(p1, "/home/u");
    auto [e2, p2] = co_await f.async_realpath("", tok);
    EXPECT_EQ(p2, "/home/u");
    auto [e3, p3] = co_await f.async_realpath("d", tok);
    EXPECT_EQ(p3, "/home/u/docs");
    auto [e4, p4] = co_await f.async_realpath("rel/../docs/.", tok);
    EXPECT_EQ(p4, "/home/u/docs");
    auto [e5, p5] = co_await f.async_realpath("/../../..", tok);
    EXPECT_EQ(p5, "/");
    auto [e6, p6] = co_await f.async_realpath("nothing", tok);
    EXPECT_EQ(e6, errc_t::no_such_file_or_directory);
    EXPECT_FALSE(co_await write_file(f, "notes", "relative to home"));
    {
      auto got = co_await content(f, "/home/u/notes");
      EXPECT_EQ(got, "relative to home");
    }
  }());
}

TYPED_TEST(fs_conformance, setstat_changes_size_permissions_and_times) {
  auto f = this->make();
  run(this->ioc, [&]() -> asio::awaitable<void> {
    EXPECT_FALSE(co_await write_file(f, "/s", "0123456789"));
    set_attributes a;
    a.size = 4;
    a.permissions = 0640;
    a.atime = 1000000000;
    a.mtime = 1234567890;
    auto [e1] = co_await async_setstat(f, "/s", a, tok);
    EXPECT_FALSE(e1);
    auto [e2, st] = co_await f.async_stat("/s", tok);
    EXPECT_EQ(st.size, 4u);
    EXPECT_EQ(st.permissions & mode::permission_mask, 0640u);
    EXPECT_TRUE(st.is_regular());
    EXPECT_EQ(st.mtime, 1234567890);
    EXPECT_EQ(st.atime, 1000000000);
    {
      auto got = co_await content(f, "/s");
      EXPECT_EQ(got, "0123");
    }
    set_attributes grow;
    grow.size = 6;
    co_await async_setstat(f, "/s", grow, tok);
    {
      auto got = co_await content(f, "/s");
      EXPECT_EQ(got, std::string("0123\0\0", 6));
    }
    auto [e3] = co_await async_setstat(f, "/missing", a, tok);
    EXPECT_EQ(e3, errc_t::no_such_file_or_directory);
  }());
}

TYPED_TEST(fs_conformance, setstat_changes_the_owner) {
  auto f = this->make();
  run(this->ioc, [&]() -> asio::awaitable<void> {
    EXPECT_FALSE(co_await write_file(f, "/owned", "x"));
    // The caller's own ids: a change every backend and every user may make.
    set_attributes a;
    a.uid = static_cast<std::uint32_t>(::getuid());
    a.gid = static_cast<std::uint32_t>(::getgid());
    auto [e1] = co_await async_setstat(f, "/owned", a, tok);
    EXPECT_FALSE(e1);
    auto [e2, st] = co_await f.async_stat("/owned", tok);
    EXPECT_EQ(st.uid, *a.uid);
    EXPECT_EQ(st.gid, *a.gid);
  }());
}

TYPED_TEST(fs_conformance, fsetstat_and_fstat_act_on_the_open_file) {
  auto f = this->make();
  run(this->ioc, [&]() -> asio::awaitable<void> {
    EXPECT_FALSE(co_await write_file(f, "/h", "abcdef"));
    auto [ec, h] = co_await f.async_open("/h", open_mode{.read = true, .write = true}, tok);
    FERRY_CO_ASSERT(!ec);
    set_attributes a;
    a.size = 2;
    a.permissions = 0600;
    a.mtime = 1500000000;
    auto [e1] = co_await async_fsetstat(f, h, a, tok);
    EXPECT_FALSE(e1);
    auto [e2, st] = co_await async_fstat(f, h, tok);
    EXPECT_FALSE(e2);
    EXPECT_EQ(st.size, 2u);
    EXPECT_EQ(st.permissions & mode::permission_mask, 0600u);
    EXPECT_EQ(st.mtime, 1500000000);
    auto [e3] = co_await async_fsync(f, h, tok);
    EXPECT_FALSE(e3);
    auto [e4, st2] = co_await f.async_stat("/h", tok);
    EXPECT_EQ(st2.size, st.size);
    EXPECT_EQ(st2.mtime, st.mtime);
    co_await f.async_close(h, tok);
  }());
}

TYPED_TEST(fs_conformance, statvfs_reports_consistent_figures) {
  auto f = this->make();
  run(this->ioc, [&]() -> asio::awaitable<void> {
    auto [ec, s] = co_await async_statvfs(f, "/", tok);
    EXPECT_FALSE(ec);
    EXPECT_GT(s.block_size, 0u);
    EXPECT_LE(s.blocks_free, s.blocks);
    EXPECT_LE(s.blocks_available, s.blocks_free);
    EXPECT_GT(s.name_max, 0u);
    auto [ec2, s2] = co_await async_statvfs(f, "/missing", tok);
    EXPECT_EQ(ec2, errc_t::no_such_file_or_directory);
  }());
}

template <class F>
void check_read_only(asio::io_context& ioc, F& ro) {
  run(ioc, [&]() -> asio::awaitable<void> {
    const auto rofs = errc_t::read_only_file_system;
    {
      auto got = co_await content(ro, "/f");
      EXPECT_EQ(got, "content");
    }
    auto [e1, h1] = co_await ro.async_open("/f", open_mode{.write = true}, tok);
    EXPECT_EQ(e1, rofs);
    EXPECT_EQ(kind_of(e1), error_kind::read_only);
    auto [e2, h2] = co_await ro.async_open("/new", open_mode::write_new(), tok);
    EXPECT_EQ(e2, rofs);
    auto [e3] = co_await ro.async_mkdir("/d2", 0755, tok);
    EXPECT_EQ(e3, rofs);
    auto [e4] = co_await ro.async_rmdir("/d", tok);
    EXPECT_EQ(e4, rofs);
    auto [e5] = co_await ro.async_remove("/f", tok);
    EXPECT_EQ(e5, rofs);
    auto [e6] = co_await ro.async_rename("/f", "/g", tok);
    EXPECT_EQ(e6, rofs);
    auto [e7] = co_await async_posix_rename(ro, "/f", "/g", tok);
    EXPECT_EQ(e7, rofs);
    auto [e8] = co_await async_symlink(ro, "f", "/l", tok);
    EXPECT_EQ(e8, rofs);
    auto [e9] = co_await async_hardlink(ro, "/f", "/l", tok);
    EXPECT_EQ(e9, rofs);
    set_attributes a;
    a.permissions = 0777;
    auto [e10] = co_await async_setstat(ro, "/f", a, tok);
    EXPECT_EQ(e10, rofs);
    auto [e11, h] = co_await ro.async_open("/f", open_mode::read_only(), tok);
    EXPECT_FALSE(e11);
    auto [e12] = co_await async_fsetstat(ro, h, a, tok);
    EXPECT_EQ(e12, rofs);
    co_await ro.async_close(h, tok);
    auto [e13, s] = co_await async_statvfs(ro, "/", tok);
    EXPECT_TRUE(s.flags & 1u);
    auto [e14, st] = co_await ro.async_stat("/f", tok);
    EXPECT_NE(st.permissions & mode::permission_mask, 0777u);
    auto [e15, st2] = co_await ro.async_stat("/d", tok);
    EXPECT_FALSE(e15);
  }());
}

TYPED_TEST(fs_conformance, read_only_mode_refuses_every_change_and_allows_reads) {
  auto rw = this->make();
  run(this->ioc, [&]() -> asio::awaitable<void> {
    EXPECT_FALSE(co_await write_file(rw, "/f", "content"));
    co_await rw.async_mkdir("/d", 0755, tok);
  }());
  error_code vec;
  auto view = rw.for_user(user_view{.root = "/", .home = "/", .read_only = true}, vec);
  ASSERT_FALSE(vec);
  check_read_only(this->ioc, view);
  if constexpr (!std::is_same_v<TypeParam, memory_backend>) {
    backend_options o;
    o.read_only = true;
    auto ro = this->make(o);
    check_read_only(this->ioc, ro);
  }
}

TYPED_TEST(fs_conformance, umask_is_removed_from_created_permissions) {
  backend_options o;
  o.umask = 027;
  auto f = this->make(o);
  run(this->ioc, [&]() -> asio::awaitable<void> {
    auto [e1, h] = co_await f.async_open(
        "/file", open_mode{.write = true, .create = true, .permissions = 0666}, tok);
    FERRY_CO_ASSERT(!e1);
    co_await f.async_close(h, tok);
    auto [e2, a] = co_await f.async_stat("/file", tok);
    // The process umask (022 in most shells) may remove more, never less.
    EXPECT_EQ(a.permissions & 027u, 0u);
    EXPECT_EQ(a.permissions & 0600u, 0600u);
    co_await f.async_mkdir("/dir", 0777, tok);
    auto [e3, d] = co_await f.async_stat("/dir", tok);
    EXPECT_EQ(d.permissions & 027u, 0u);
    EXPECT_EQ(d.permissions & 0700u, 0700u);
  }());
}

TYPED_TEST(fs_conformance, files_beyond_4_gib_keep_64_bit_offsets) {
  auto f = this->make();
  run(this->ioc, [&]() -> asio::awaitable<void> {
    const std::uint64_t far = (std::uint64_t{5} << 30) + 12345;  // 5 GiB and a bit: sparse
    auto [ec, h] = co_await f.async_open("/big", open_mode{.read = true, .write = true,
                                                           .create = true}, tok);
    FERRY_CO_ASSERT(!ec);
    auto [wec, n] = co_await async_write_all_at(f, h, far, as_bytes("tail"), tok);
    EXPECT_FALSE(wec);
    auto [sec, a] = co_await f.async_stat("/big", tok);
    EXPECT_EQ(a.size, far + 4);
    bytes buf(4);
    auto [rec, m] = co_await f.async_read_at(h, far, buf, tok);
    EXPECT_FALSE(rec);
    EXPECT_EQ(as_chars(byte_view{buf}.first(m)), "tail");
    auto [hec, k] = co_await f.async_read_at(h, std::uint64_t{1} << 32, buf, tok);
    EXPECT_FALSE(hec);
    EXPECT_EQ(buf, bytes(4, 0));  // the hole reads as zeros
    co_await f.async_close(h, tok);
    co_await f.async_remove("/big", tok);
  }());
}

TYPED_TEST(fs_conformance, paths_with_nul_or_over_the_limits_are_refused) {
  auto f = this->make();
  run(this->ioc, [&]() -> asio::awaitable<void> {
    EXPECT_FALSE(co_await write_file(f, "/a", "x"));
    auto [e1, a] = co_await f.async_stat(std::string("/a\0/../etc", 10), tok);
    EXPECT_EQ(e1, errc_t::invalid_argument);
    auto [e2, h] = co_await f.async_open(std::string("/a\0", 3), open_mode::read_only(), tok);
    EXPECT_EQ(e2, errc_t::invalid_argument);
    auto [e3, b] = co_await f.async_stat("/" + std::string(limits::fs_max_name + 1, 'n'), tok);
    EXPECT_EQ(e3, errc_t::filename_too_long);
    std::string deep;
    while (deep.size() <= limits::fs_max_path) deep += "/abcdefgh";
    auto [e4, c] = co_await f.async_stat(deep, tok);
    EXPECT_EQ(e4, errc_t::filename_too_long);
  }());
}

TYPED_TEST(fs_conformance, user_views_make_a_subdirectory_the_root) {
  auto f = this->make();
  run(this->ioc, [&]() -> asio::awaitable<void> {
    co_await f.async_mkdir("/users", 0755, tok);
    co_await f.async_mkdir("/users/u1", 0755, tok);
    co_await f.async_mkdir("/users/u10", 0755, tok);
    co_await f.async_mkdir("/users/u1/home", 0755, tok);
    EXPECT_FALSE(co_await write_file(f, "/users/u10/secret", "u10 only"));
    EXPECT_FALSE(co_await write_file(f, "/top-secret", "admin only"));
    co_await async_symlink(f, "../u10/secret", "/users/u1/home/rel", tok);
    co_await async_symlink(f, "/users/u10/secret", "/users/u1/home/abs", tok);
  }());
  error_code ec;
  auto u1 = f.for_user(user_view{.root = "/users/u1", .home = "/home"}, ec);
  ASSERT_FALSE(ec);
  run(this->ioc, [&]() -> asio::awaitable<void> {
    auto [e1, p] = co_await u1.async_realpath(".", tok);
    EXPECT_EQ(p, "/home");
    for (std::string bad : {"../../u10/secret", "/../u10/secret", "../../../top-secret",
                            "rel", "abs", "/users/u10/secret"}) {
      auto [e, content] = co_await read_file(u1, bad);
      EXPECT_EQ(e, errc_t::no_such_file_or_directory) << bad;
      EXPECT_TRUE(content.empty()) << bad;
    }
    EXPECT_FALSE(co_await write_file(u1, "mine", "u1 data"));
  }());
  run(this->ioc, [&]() -> asio::awaitable<void> {
    {
      auto got = co_await content(f, "/users/u1/home/mine");
      EXPECT_EQ(got, "u1 data");
    }
  }());
  auto missing = f.for_user(user_view{.root = "/users/none"}, ec);
  EXPECT_EQ(ec, errc_t::no_such_file_or_directory);
  // A failed view has no storage: it never falls back to the parent's wider root.
  EXPECT_FALSE(missing.valid());
  run(this->ioc, [&]() -> asio::awaitable<void> {
    auto [e, a] = co_await missing.async_stat("/top-secret", tok);
    EXPECT_EQ(e, errc_t::bad_file_descriptor);
  }());
}

TYPED_TEST(fs_conformance, many_handles_work_at_once) {
  auto f = this->make();
  constexpr int files = 64;
  int finished = 0;
  for (int i = 0; i < files; ++i) {
    asio::co_spawn(this->ioc, [&f, &finished, i]() -> asio::awaitable<void> {
      std::string name = "/c" + std::to_string(i);
      auto [ec, h] = co_await f.async_open(name, open_mode{.read = true, .write = true,
                                                           .create = true}, tok);
      FERRY_CO_ASSERT(!ec);
      std::string body(1000 + i, static_cast<char>('a' + i % 26));
      for (std::size_t off = 0; off < body.size(); off += 100) {
        auto chunk = std::string_view{body}.substr(off, 100);
        auto [wec, n] = co_await async_write_all_at(f, h, off, as_bytes(chunk), tok);
        EXPECT_FALSE(wec);
      }
      bytes buf(body.size());
      auto [rec, n] = co_await f.async_read_at(h, 0, buf, tok);
      EXPECT_FALSE(rec);
      EXPECT_EQ(as_chars(byte_view{buf}.first(n)), body.substr(0, n));
      auto [cec] = co_await f.async_close(h, tok);
      EXPECT_FALSE(cec);
      ++finished;
    }, asio::detached);
  }
  this->ioc.run();
  EXPECT_EQ(finished, files);
  EXPECT_EQ(f.core().open_handles(), 0u);
}

TYPED_TEST(fs_conformance, completions_arrive_through_the_callers_executor_never_inline) {
  auto f = this->make();
  bool returned = false;
  bool called_before_return = false;
  bool completed = false;
  f.async_stat("/", [&](error_code ec, attributes a) {
    called_before_return = !returned;
    completed = !ec && a.is_directory();
  });
  returned = true;
  this->ioc.run();
  EXPECT_TRUE(completed);
  EXPECT_FALSE(called_before_return);
}

}  // namespace
}  // namespace ferry::fs::testing
