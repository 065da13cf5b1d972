// The local backend's root cannot be left: "..", absolute paths, symlinks out (absolute and
// relative), a sibling directory sharing the root's prefix, magic links, and a symlink swapped in
// while operations run. Each case runs with openat2 and with the O_NOFOLLOW walk.
#include "fs_test_util.hpp"

#include <atomic>
#include <fstream>
#include <thread>

#include <sys/stat.h>
#include <unistd.h>

namespace ferry::fs::testing {
namespace {

using boost::system::errc::errc_t;
namespace stdfs = std::filesystem;

std::string slurp(const stdfs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void put(const stdfs::path& p, std::string_view s) {
  std::ofstream out(p, std::ios::binary);
  out << s;
}

// <tmp>/u1 is the root; <tmp>/u10 is its prefix-sharing sibling; <tmp>/outside holds a secret.
class escape : public ::testing::TestWithParam<path::resolver> {
 protected:
  void SetUp() override {
    root = base.path() / "u1";
    sibling = base.path() / "u10";
    outside = base.path() / "outside";
    stdfs::create_directories(root / "inner");
    stdfs::create_directories(sibling);
    stdfs::create_directories(outside);
    put(outside / "secret", "outside secret");
    put(sibling / "secret", "sibling secret");
    put(root / "inner" / "secret", "inside");
    local_options o;
    o.resolver = GetParam();
    error_code ec;
    f.emplace(make_local_filesystem(ioc.get_executor(), root.string(), o, ec, 2));
    ASSERT_FALSE(ec);
  }

  // Everything outside the root is as it was.
  void expect_outside_untouched() {
    EXPECT_EQ(slurp(outside / "secret"), "outside secret");
    EXPECT_EQ(slurp(sibling / "secret"), "sibling secret");
    EXPECT_EQ(std::distance(stdfs::directory_iterator(outside), stdfs::directory_iterator{}), 1);
    EXPECT_EQ(std::distance(stdfs::directory_iterator(sibling), stdfs::directory_iterator{}), 1);
    EXPECT_EQ(std::distance(stdfs::directory_iterator(base.path()), stdfs::directory_iterator{}),
              3);
  }

  temp_dir base;
  stdfs::path root, sibling, outside;
  asio::io_context ioc;
  std::optional<local_filesystem> f;
};

TEST_P(escape, dot_dot_stops_at_the_root) {
  run(ioc, [&]() -> asio::awaitable<void> {
    std::vector<std::string> paths{"../outside/secret", "/../outside/secret",
                                   "inner/../../outside/secret",
                                   "../../../../../../../.." + (outside / "secret").string()};
    for (const auto& p : paths) {
      auto [ec, got] = co_await read_file(*f, p);
      EXPECT_EQ(ec, errc_t::no_such_file_or_directory) << p;
    }
    auto [ec, real] = co_await f->async_realpath("../../..", tok);
    EXPECT_EQ(real, "/");
  }());
}

TEST_P(escape, absolute_paths_are_read_against_the_root) {
  run(ioc, [&]() -> asio::awaitable<void> {
    auto [ec, got] = co_await read_file(*f, (outside / "secret").string());
    EXPECT_EQ(ec, errc_t::no_such_file_or_directory);
    auto [ec2, got2] = co_await read_file(*f, "/inner/secret");
    EXPECT_EQ(got2, "inside");
  }());
}

TEST_P(escape, symlinks_pointing_outside_resolve_inside) {
  stdfs::create_symlink(outside / "secret", root / "abs_file");
  stdfs::create_symlink(outside, root / "abs_dir");
  stdfs::create_symlink("../outside/secret", root / "rel_file");
  stdfs::create_symlink("../../../../../../outside", root / "inner" / "rel_dir");
  stdfs::create_symlink("../u10/secret", root / "sibling_rel");
  stdfs::create_symlink(sibling / "secret", root / "sibling_abs");
  stdfs::create_symlink("/proc/self/root/etc/passwd", root / "magic");
  run(ioc, [&]() -> asio::awaitable<void> {
    for (std::string p : {"/abs_file", "/abs_dir/secret", "/rel_file", "/inner/rel_dir/secret",
                          "/sibling_rel", "/sibling_abs", "/magic"}) {
      auto [ec, got] = co_await read_file(*f, p);
      EXPECT_EQ(ec, errc_t::no_such_file_or_directory) << p;
      EXPECT_EQ(got, "") << p;
      auto [sec, a] = co_await f->async_stat(p, tok);
      EXPECT_TRUE(sec) << p;
    }
  }());
  expect_outside_untouched();
}

TEST_P(escape, symlinks_that_stay_inside_keep_working) {
  stdfs::create_symlink("/inner", root / "abs_in");
  stdfs::create_symlink("inner/../inner/secret", root / "rel_in");
  stdfs::create_symlink("../../inner/secret", root / "inner" / "up_and_back");
  run(ioc, [&]() -> asio::awaitable<void> {
    EXPECT_EQ(co_await content(*f, "/abs_in/secret"), "inside");
    EXPECT_EQ(co_await content(*f, "/rel_in"), "inside");
    // "../.." from /inner climbs to the root and stops there: /inner/secret.
    EXPECT_EQ(co_await content(*f, "/inner/up_and_back"), "inside");
    auto [ec, real] = co_await f->async_realpath("/abs_in/secret", tok);
    EXPECT_EQ(real, "/inner/secret");
  }());
}

TEST_P(escape, writes_through_outward_symlinks_never_land_outside) {
  stdfs::create_symlink(outside, root / "out");
  stdfs::create_symlink(outside / "secret", root / "out_file");
  stdfs::create_symlink(outside / "new_file", root / "dangling_out");
  run(ioc, [&]() -> asio::awaitable<void> {
    auto [e1, h1] = co_await f->async_open("/out/new", open_mode::write_new(), tok);
    EXPECT_TRUE(e1);
    auto [e2, h2] = co_await f->async_open("/out_file", open_mode::write_new(), tok);
    EXPECT_TRUE(e2);
    // A dangling link is created through, but read against the root: the file appears inside.
    auto [e3, h3] = co_await f->async_open("/dangling_out", open_mode::write_new(), tok);
    if (!e3) co_await f->async_close(h3, tok);
    auto [e4] = co_await f->async_mkdir("/out/dir", 0755, tok);
    EXPECT_TRUE(e4);
    auto [e5] = co_await f->async_remove("/out/secret", tok);
    EXPECT_TRUE(e5);
    auto [e6] = co_await f->async_rename("/out/secret", "/stolen", tok);
    EXPECT_TRUE(e6);
    auto [e7] = co_await async_hardlink(*f, "/out/secret", "/stolen", tok);
    EXPECT_TRUE(e7);
    set_attributes a;
    a.permissions = 0777;
    a.size = 0;
    auto [e8] = co_await async_setstat(*f, "/out_file", a, tok);
    EXPECT_TRUE(e8);
    auto [e9] = co_await async_symlink(*f, "x", "/out/link", tok);
    EXPECT_TRUE(e9);
    auto [e10] = co_await f->async_rename("/inner/secret", "/out/moved", tok);
    EXPECT_TRUE(e10);
  }());
  expect_outside_untouched();
  struct stat st {};
  ASSERT_EQ(::stat((outside / "secret").c_str(), &st), 0);
  EXPECT_NE(st.st_mode & 0777, 0777u);
  EXPECT_EQ(slurp(root / "inner" / "secret"), "inside");
}

TEST_P(escape, a_symlink_swapped_in_during_operations_cannot_lead_outside) {
  // A thread keeps replacing root/swap between a real directory and a symlink to outside while
  // the filesystem keeps opening swap/secret: every successful read must be the inside copy.
  stdfs::create_directories(root / "real");
  put(root / "real" / "secret", "inside");
  stdfs::create_symlink(outside, root / "evil");
  std::atomic<bool> stop{false};
  std::thread swapper([&] {
    auto swap = root / "swap";
    std::error_code ec;
    while (!stop.load()) {
      ::rename((root / "real").c_str(), swap.c_str());
      ::rename(swap.c_str(), (root / "real").c_str());
      ::rename((root / "evil").c_str(), swap.c_str());
      ::rename(swap.c_str(), (root / "evil").c_str());
    }
  });
  int inside = 0;
  run(ioc, [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 2000; ++i) {
      auto [ec, got] = co_await read_file(*f, "/swap/secret");
      if (!ec) {
        EXPECT_EQ(got, "inside");
        ++inside;
      }
      set_attributes a;
      a.permissions = 0777;
      co_await async_setstat(*f, "/swap/secret", a, tok);
    }
  }());
  stop = true;
  swapper.join();
  expect_outside_untouched();
  struct stat st {};
  ASSERT_EQ(::stat((outside / "secret").c_str(), &st), 0);
  EXPECT_NE(st.st_mode & 0777, 0777u);
  RecordProperty("inside_reads", inside);
}

TEST_P(escape, user_views_cannot_reach_a_prefix_sharing_sibling) {
  stdfs::create_directories(root / "home");
  put(root / "home" / "mine", "u1 file");
  error_code ec;
  auto view = f->for_user(user_view{.root = "/home", .home = "/"}, ec);
  ASSERT_FALSE(ec);
  run(ioc, [&]() -> asio::awaitable<void> {
    EXPECT_EQ(co_await content(view, "mine"), "u1 file");
    for (std::string p : {"../inner/secret", "/../../u10/secret", "../../u10/secret"}) {
      auto [e, got] = co_await read_file(view, p);
      EXPECT_EQ(e, errc_t::no_such_file_or_directory) << p;
    }
  }());
}

std::string resolver_name(const ::testing::TestParamInfo<path::resolver>& info) {
  return info.param == path::resolver::openat2 ? "openat2" : "walk";
}

INSTANTIATE_TEST_SUITE_P(resolvers, escape,
                         ::testing::Values(path::resolver::openat2, path::resolver::walk),
                         resolver_name);

TEST(openat2, is_available_on_this_kernel_or_the_walk_is_used) {
  // Not an assumption about the kernel: the automatic resolver must pick something that works.
  asio::io_context ioc;
  temp_dir d;
  put(d.path() / "f", "x");
  error_code ec;
  auto f = make_local_filesystem(ioc.get_executor(), d.path().string(), {}, ec, 1);
  ASSERT_FALSE(ec);
  run(ioc, [&]() -> asio::awaitable<void> { EXPECT_EQ(co_await content(f, "/f"), "x"); }());
  RecordProperty("openat2", path::openat2_available() ? "yes" : "no");
}

}  // namespace
}  // namespace ferry::fs::testing

namespace ferry::fs::testing {
namespace {

TEST(local_root, a_root_that_cannot_be_opened_gives_a_filesystem_that_refuses_everything) {
  asio::io_context ioc;
  temp_dir d;
  error_code ec;
  auto f = make_local_filesystem(ioc.get_executor(), (d.path() / "missing").string(), {}, ec, 1);
  EXPECT_EQ(ec, boost::system::errc::no_such_file_or_directory);
  EXPECT_FALSE(f.valid());
  run(ioc, [&]() -> asio::awaitable<void> {
    auto [e1, a] = co_await f.async_stat("/", tok);
    EXPECT_EQ(e1, boost::system::errc::bad_file_descriptor);
    auto [e2] = co_await f.async_mkdir("/x", 0755, tok);
    EXPECT_EQ(e2, boost::system::errc::bad_file_descriptor);
  }());
}

}  // namespace
}  // namespace ferry::fs::testing
