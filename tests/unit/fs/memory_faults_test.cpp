// Fault injection on the memory backend: injected errors reach the caller as typed errors, an
// operation that fails leaves no trace, short reads and writes are survivable, ENOSPC writes
// nothing, and a write-then-posix_rename update never exposes a half-written file.
#include "fs_test_util.hpp"

#include <map>

namespace ferry::fs::testing {
namespace {

using boost::system::errc::errc_t;

// Everything in the tree: path -> type letter and content (or link target).
asio::awaitable<std::map<std::string, std::string>> snapshot(memory_filesystem& f) {
  std::map<std::string, std::string> out;
  std::vector<std::string> dirs{"/"};
  while (!dirs.empty()) {
    auto d = dirs.back();
    dirs.pop_back();
    error_code ec;
    auto entries = co_await list(f, d, ec);
    for (auto& e : entries) {
      auto p = path::join(d, e.name);
      if (e.attrs.is_directory()) {
        out[p] = "d" + std::to_string(e.attrs.permissions & 07777);
        dirs.push_back(p);
      } else if (e.attrs.is_symlink()) {
        auto [lec, t] = co_await f.async_readlink(p, tok);
        out[p] = "l" + t;
      } else {
        out[p] = "f" + std::to_string(e.attrs.permissions & 07777) + ":" +
                 co_await content(f, p);
      }
    }
  }
  co_return out;
}

// A script of single operations, each of which must happen entirely or not at all.
using step = std::function<asio::awaitable<error_code>(memory_filesystem&, handle)>;

std::vector<step> script() {
  return {
      [](memory_filesystem& f, handle) -> asio::awaitable<error_code> {
        auto [ec] = co_await f.async_mkdir("/d", 0755, tok);
        co_return ec;
      },
      [](memory_filesystem& f, handle h) -> asio::awaitable<error_code> {
        auto [ec, n] = co_await f.async_write_at(h, 0, as_bytes("hello world"), tok);
        co_return ec;
      },
      [](memory_filesystem& f, handle) -> asio::awaitable<error_code> {
        auto [ec] = co_await f.async_symlink("/base", "/d/link", tok);
        co_return ec;
      },
      [](memory_filesystem& f, handle) -> asio::awaitable<error_code> {
        auto [ec] = co_await f.async_rename("/base", "/d/moved", tok);
        co_return ec;
      },
      [](memory_filesystem& f, handle) -> asio::awaitable<error_code> {
        auto [ec] = co_await f.async_hardlink("/d/moved", "/second", tok);
        co_return ec;
      },
      [](memory_filesystem& f, handle) -> asio::awaitable<error_code> {
        set_attributes a;
        a.size = 5;
        a.permissions = 0600;
        auto [ec] = co_await f.async_setstat("/second", a, tok);
        co_return ec;
      },
      [](memory_filesystem& f, handle) -> asio::awaitable<error_code> {
        auto [ec] = co_await f.async_posix_rename("/second", "/other", tok);
        co_return ec;
      },
      [](memory_filesystem& f, handle) -> asio::awaitable<error_code> {
        auto [ec] = co_await f.async_remove("/d/link", tok);
        co_return ec;
      },
  };
}

TEST(memory_faults, every_failing_step_leaves_the_tree_exactly_as_before_it) {
  const auto steps = script();
  // Reference: the tree after each number of completed steps.
  std::vector<std::map<std::string, std::string>> after;
  {
    asio::io_context ioc;
    auto f = make_memory_filesystem(ioc.get_executor());
    run(ioc, [&]() -> asio::awaitable<void> {
      EXPECT_FALSE(co_await write_file(f, "/base", ""));
      auto [ec, h] = co_await f.async_open("/base", open_mode{.write = true}, tok);
      after.push_back(co_await snapshot(f));
      for (auto& s : steps) {
        EXPECT_FALSE(co_await s(f, h));
        after.push_back(co_await snapshot(f));
      }
    }());
  }
  ASSERT_EQ(after.size(), steps.size() + 1);
  for (std::size_t fail = 0; fail < steps.size(); ++fail) {
    asio::io_context ioc;
    auto f = make_memory_filesystem(ioc.get_executor());
    run(ioc, [&]() -> asio::awaitable<void> {
      EXPECT_FALSE(co_await write_file(f, "/base", ""));
      auto [ec, h] = co_await f.async_open("/base", open_mode{.write = true}, tok);
      f.core().faults().fail_nth(fail, make_error(errc_t::io_error));
      std::size_t done = 0;
      for (auto& s : steps) {
        auto sec = co_await s(f, h);
        if (sec) {
          EXPECT_EQ(sec, errc_t::io_error) << "step " << done;
          EXPECT_EQ(kind_of(sec), error_kind::failure);
          break;
        }
        ++done;
      }
      EXPECT_EQ(done, fail);
      f.core().faults().clear();
      auto now = co_await snapshot(f);
      EXPECT_EQ(now, after[done]) << "failing step " << fail << " left a trace";
    }());
  }
}

TEST(memory_faults, sticky_failures_fail_every_later_operation_with_the_injected_error) {
  asio::io_context ioc;
  auto f = make_memory_filesystem(ioc.get_executor());
  run(ioc, [&]() -> asio::awaitable<void> {
    f.core().faults().fail_nth(1, make_error_code(ferry::errc::injected_failure), true);
    auto [e0] = co_await f.async_mkdir("/a", 0755, tok);
    EXPECT_FALSE(e0);
    auto [e1] = co_await f.async_mkdir("/b", 0755, tok);
    EXPECT_EQ(e1, ferry::errc::injected_failure);
    auto [e2, a] = co_await f.async_stat("/a", tok);
    EXPECT_EQ(e2, ferry::errc::injected_failure);
    EXPECT_EQ(f.core().faults().operations(), 3u);
    f.core().faults().clear();
    auto [e3, b] = co_await f.async_stat("/b", tok);
    EXPECT_EQ(e3, errc_t::no_such_file_or_directory);
  }());
}

TEST(memory_faults, short_reads_and_writes_still_move_every_byte_through_the_helpers) {
  asio::io_context ioc;
  auto f = make_memory_filesystem(ioc.get_executor());
  f.core().faults().set_max_io(3);
  run(ioc, [&]() -> asio::awaitable<void> {
    auto [ec, h] = co_await f.async_open("/s", open_mode{.read = true, .write = true,
                                                         .create = true}, tok);
    FERRY_CO_ASSERT(!ec);
    auto [w1, n1] = co_await f.async_write_at(h, 0, as_bytes("abcdefgh"), tok);
    EXPECT_FALSE(w1);
    EXPECT_EQ(n1, 3u);  // a short write, as pwrite may do
    auto [w2, n2] = co_await async_write_all_at(f, h, 3, as_bytes("defghijklmnop"), tok);
    EXPECT_FALSE(w2);
    EXPECT_EQ(n2, 13u);
    bytes buf(16);
    auto [r1, m1] = co_await f.async_read_at(h, 0, buf, tok);
    EXPECT_EQ(m1, 3u);
    co_await f.async_close(h, tok);
    EXPECT_EQ(co_await content(f, "/s"), "abcdefghijklmnop");
  }());
}

TEST(memory_faults, a_write_that_does_not_fit_fails_with_enospc_and_writes_nothing) {
  asio::io_context ioc;
  memory_options o;
  o.capacity = 100;
  auto f = make_memory_filesystem(ioc.get_executor(), o);
  run(ioc, [&]() -> asio::awaitable<void> {
    EXPECT_FALSE(co_await write_file(f, "/a", std::string(80, 'a')));
    auto [ec, h] = co_await f.async_open("/a", open_mode{.write = true}, tok);
    auto [w1, n1] = co_await f.async_write_at(h, 70, as_bytes(std::string(40, 'b')), tok);
    EXPECT_EQ(w1, errc_t::no_space_on_device);
    EXPECT_EQ(kind_of(w1), error_kind::no_space);
    EXPECT_EQ(n1, 0u);
    co_await f.async_close(h, tok);
    EXPECT_EQ(co_await content(f, "/a"), std::string(80, 'a'));
    EXPECT_EQ(f.core().used_bytes(), 80u);
    auto [sec, s] = co_await f.async_statvfs("/", tok);
    EXPECT_EQ(s.blocks, 0u);  // 100 bytes is less than one 4096-byte block
    // Removing the file gives the space back.
    co_await f.async_remove("/a", tok);
    EXPECT_EQ(f.core().used_bytes(), 0u);
    EXPECT_FALSE(co_await write_file(f, "/b", std::string(100, 'b')));
  }());
}

TEST(memory_faults, replace_by_temp_file_and_posix_rename_never_exposes_a_partial_file) {
  // The update pattern servers use for atomic uploads: a failure anywhere before the rename
  // leaves the old content readable, whole.
  for (std::size_t fail = 0; fail < 6; ++fail) {
    asio::io_context ioc;
    memory_options o;
    o.capacity = 150;
    auto f = make_memory_filesystem(ioc.get_executor(), o);
    run(ioc, [&]() -> asio::awaitable<void> {
      EXPECT_FALSE(co_await write_file(f, "/live", std::string(50, 'o')));
      f.core().faults().fail_nth(fail, make_error(errc_t::no_space_on_device));
      auto [ec, h] = co_await f.async_open("/live.tmp", open_mode::write_new(), tok);
      error_code err = ec;
      if (!err) {
        auto [w1, n1] = co_await async_write_all_at(f, h, 0, as_bytes(std::string(50, 'n')), tok);
        err = w1;
        if (!err) {
          auto [w2, n2] = co_await async_write_all_at(f, h, 50, as_bytes(std::string(10, 'n')), tok);
          err = w2;
        }
        auto [c] = co_await f.async_close(h, tok);
        if (!err) err = c;
      }
      if (!err) {
        auto [r] = co_await f.async_posix_rename("/live.tmp", "/live", tok);
        err = r;
      }
      f.core().faults().clear();
      auto got = co_await content(f, "/live");
      if (err) {
        EXPECT_EQ(err, errc_t::no_space_on_device);
        EXPECT_EQ(got, std::string(50, 'o')) << "fail at " << fail;
      } else {
        EXPECT_EQ(got, std::string(60, 'n')) << "fail at " << fail;
      }
    }());
  }
}

TEST(memory_faults, capacity_also_bounds_growth_by_setstat) {
  asio::io_context ioc;
  memory_options o;
  o.capacity = 10;
  auto f = make_memory_filesystem(ioc.get_executor(), o);
  run(ioc, [&]() -> asio::awaitable<void> {
    EXPECT_FALSE(co_await write_file(f, "/a", "12345"));
    set_attributes a;
    a.size = 11;
    a.permissions = 0600;
    auto [e1] = co_await f.async_setstat("/a", a, tok);
    EXPECT_EQ(e1, errc_t::no_space_on_device);
    auto [e2, st] = co_await f.async_stat("/a", tok);
    EXPECT_EQ(st.size, 5u);
    EXPECT_NE(st.permissions & 0777, 0600u);  // refused as a whole
  }());
}

}  // namespace
}  // namespace ferry::fs::testing
