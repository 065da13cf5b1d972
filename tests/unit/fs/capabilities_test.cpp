// Optional operations are detected, not assumed: a backend with only the required set still is a
// Filesystem, and the helpers answer "operation unsupported" for what it lacks, never success.
#include "fs_test_util.hpp"

#include <boost/asio/deferred.hpp>

namespace ferry::fs::testing {
namespace {

// Only the required operations, forwarded to a memory backend.
class minimal_fs {
 public:
  explicit minimal_fs(memory_filesystem inner) : inner_(std::move(inner)) {}
  auto get_executor() const { return inner_.get_executor(); }
  template <class T>
  auto async_stat(std::string p, T&& t) { return inner_.async_stat(std::move(p), std::forward<T>(t)); }
  template <class T>
  auto async_open(std::string p, open_mode m, T&& t) {
    return inner_.async_open(std::move(p), m, std::forward<T>(t));
  }
  template <class T>
  auto async_read_at(handle h, std::uint64_t o, mutable_byte_view b, T&& t) {
    return inner_.async_read_at(h, o, b, std::forward<T>(t));
  }
  template <class T>
  auto async_write_at(handle h, std::uint64_t o, byte_view b, T&& t) {
    return inner_.async_write_at(h, o, b, std::forward<T>(t));
  }
  template <class T>
  auto async_close(handle h, T&& t) { return inner_.async_close(h, std::forward<T>(t)); }
  template <class T>
  auto async_opendir(std::string p, T&& t) {
    return inner_.async_opendir(std::move(p), std::forward<T>(t));
  }
  template <class T>
  auto async_readdir(handle h, T&& t) { return inner_.async_readdir(h, std::forward<T>(t)); }
  template <class T>
  auto async_mkdir(std::string p, std::uint32_t m, T&& t) {
    return inner_.async_mkdir(std::move(p), m, std::forward<T>(t));
  }
  template <class T>
  auto async_rmdir(std::string p, T&& t) { return inner_.async_rmdir(std::move(p), std::forward<T>(t)); }
  template <class T>
  auto async_remove(std::string p, T&& t) {
    return inner_.async_remove(std::move(p), std::forward<T>(t));
  }
  template <class T>
  auto async_rename(std::string a, std::string b, T&& t) {
    return inner_.async_rename(std::move(a), std::move(b), std::forward<T>(t));
  }
  template <class T>
  auto async_realpath(std::string p, T&& t) {
    return inner_.async_realpath(std::move(p), std::forward<T>(t));
  }

 private:
  memory_filesystem inner_;
};

static_assert(filesystem<minimal_fs>);
static_assert(!has_lstat<minimal_fs> && !has_fsync<minimal_fs> && !has_symlink<minimal_fs> &&
              !has_hardlink<minimal_fs> && !has_statvfs<minimal_fs> && !has_setstat<minimal_fs> &&
              !has_fsetstat<minimal_fs> && !has_posix_rename<minimal_fs> && !has_fstat<minimal_fs>);
static_assert(!filesystem<int>);

TEST(capabilities, missing_optional_operations_complete_with_unsupported) {
  asio::io_context ioc;
  minimal_fs f{make_memory_filesystem(ioc.get_executor())};
  run(ioc, [&]() -> asio::awaitable<void> {
    EXPECT_FALSE(co_await write_file(f, "/a", "x"));
    auto [ec, h] = co_await f.async_open("/a", open_mode::read_only(), tok);
    FERRY_CO_ASSERT(!ec);
    const error_code unsup = ferry::errc::unsupported;
    auto [e1, a1] = co_await async_lstat(f, "/a", tok);
    EXPECT_EQ(e1, unsup);
    EXPECT_EQ(kind_of(e1), error_kind::unsupported);
    auto [e2, a2] = co_await async_fstat(f, h, tok);
    EXPECT_EQ(e2, unsup);
    auto [e3] = co_await async_fsync(f, h, tok);
    EXPECT_EQ(e3, unsup);
    auto [e4] = co_await async_setstat(f, "/a", set_attributes{}, tok);
    EXPECT_EQ(e4, unsup);
    auto [e5] = co_await async_fsetstat(f, h, set_attributes{}, tok);
    EXPECT_EQ(e5, unsup);
    auto [e6] = co_await async_posix_rename(f, "/a", "/b", tok);
    EXPECT_EQ(e6, unsup);
    auto [e7] = co_await async_symlink(f, "a", "/l", tok);
    EXPECT_EQ(e7, unsup);
    auto [e8, t] = co_await async_readlink(f, "/l", tok);
    EXPECT_EQ(e8, unsup);
    auto [e9] = co_await async_hardlink(f, "/a", "/h", tok);
    EXPECT_EQ(e9, unsup);
    auto [e10, s] = co_await async_statvfs(f, "/", tok);
    EXPECT_EQ(e10, unsup);
    // Nothing happened behind the refusals.
    auto [e11, st] = co_await f.async_stat("/b", tok);
    EXPECT_TRUE(e11);
    auto [e12, st2] = co_await f.async_stat("/l", tok);
    EXPECT_TRUE(e12);
    co_await f.async_close(h, tok);
  }());
}

TEST(capabilities, unsupported_completions_are_never_inline) {
  asio::io_context ioc;
  minimal_fs f{make_memory_filesystem(ioc.get_executor())};
  bool returned = false;
  bool inline_call = false;
  async_fsync(f, handle{1}, [&](error_code) { inline_call = !returned; });
  returned = true;
  ioc.run();
  EXPECT_FALSE(inline_call);
}

TEST(capabilities, callbacks_deferred_and_awaitables_all_work) {
  asio::io_context ioc;
  auto f = make_memory_filesystem(ioc.get_executor());
  int done = 0;
  f.async_mkdir("/cb", 0755, [&](error_code ec) { done += !ec; });
  auto op = f.async_stat("/", asio::deferred);
  std::move(op)([&](error_code ec, attributes a) { done += !ec && a.is_directory(); });
  ioc.run();
  EXPECT_EQ(done, 2);
}

}  // namespace
}  // namespace ferry::fs::testing
