// ferry's SCP client against ferry's SCP server in one process: uploads and downloads of files and
// trees, -p, several sources, errors as scp reports them, and a failure of every I/O point.
#include "integration/scp/harness.hpp"
#include "support/run_coroutine.hpp"

#include <gtest/gtest.h>

namespace scp_loopback_test {
using namespace ferry;
using namespace ferry::test_scp;
using ferry_test_support::run_coroutine;
using scp::direction;

namespace {

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

struct fixture {
  asio::io_context& ioc;
  fs::memory_filesystem local = fs::make_memory_filesystem(ioc.get_executor());
  fs::memory_filesystem remote = fs::make_memory_filesystem(ioc.get_executor());
  scp::server<fs::memory_filesystem> server{remote};

  asio::awaitable<std::tuple<error_code, scp::transfer_summary, int>> upload(
      scp::client_options o, std::vector<std::string> sources, std::string target) {
    std::vector<std::string> targets{target};
    auto cmd = scp::remote_command(direction::to_remote, o, targets);
    auto s = exec(ioc, server, cmd);
    scp::client<test::stream> c{s->client, o};
    auto [ec, sum] = co_await c.async_upload(local, sources, nothrow);
    s->client.shutdown_send();
    co_await wait_server(*s);
    co_return std::tuple{ec, sum, s->status};
  }

  asio::awaitable<std::tuple<error_code, scp::transfer_summary, int>> download(
      scp::client_options o, std::vector<std::string> sources, std::string target) {
    auto cmd = scp::remote_command(direction::from_remote, o, sources);
    auto s = exec(ioc, server, cmd);
    scp::client<test::stream> c{s->client, o};
    auto [ec, sum] = co_await c.async_download(sources, local, target, nothrow);
    co_await wait_server(*s);
    co_return std::tuple{ec, sum, s->status};
  }
};

std::string big(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 7919) >> 3);
  return s;
}

}  // namespace

TEST(scp_loopback, a_single_file_goes_up_and_comes_back) {
  run_coroutine([](asio::io_context& ioc) -> asio::awaitable<void> {
    fixture f{ioc};
    auto data = big(1'000'003);  // several buffers, not a multiple of them
    put(f.local, "/a.bin", data, 0640);
    mkdir(f.remote, "/in");
    scp::client_options o1;
    std::vector<std::string> src1{"/a.bin"};
    std::string dst1 = "/in";
    auto [ec, sum, status] = co_await f.upload(o1, src1, dst1);
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(status, 0);
    EXPECT_EQ(sum.files, 1u);
    EXPECT_EQ(sum.bytes, data.size());
    EXPECT_EQ(get(f.remote, "/in/a.bin"), data);

    scp::client_options o2;
    std::vector<std::string> src2{"/in/a.bin"};
    std::string dst2 = "/copy.bin";
    auto [ec2, sum2, status2] = co_await f.download(o2, src2, dst2);
    EXPECT_FALSE(ec2) << ec2.message();
    EXPECT_EQ(status2, 0);
    EXPECT_EQ(get(f.local, "/copy.bin"), data);
  });
}

TEST(scp_loopback, an_upload_to_a_new_name_creates_that_file) {
  run_coroutine([](asio::io_context& ioc) -> asio::awaitable<void> {
    fixture f{ioc};
    put(f.local, "/a.txt", "hello");
    scp::client_options o3;
    std::vector<std::string> src3{"/a.txt"};
    std::string dst3 = "renamed.txt";
    auto [ec, sum, status] = co_await f.upload(o3, src3, dst3);
    EXPECT_FALSE(ec);
    EXPECT_EQ(status, 0);
    EXPECT_EQ(get(f.remote, "/renamed.txt"), "hello");
  });
}

TEST(scp_loopback, a_preserving_recursive_tree_keeps_modes_times_and_empty_entries) {
  run_coroutine([](asio::io_context& ioc) -> asio::awaitable<void> {
    fixture f{ioc};
    mkdir(f.local, "/tree", 0750);
    put(f.local, "/tree/a.txt", "alpha", 0600);
    put(f.local, "/tree/empty.txt", "", 0604);
    mkdir(f.local, "/tree/empty dir", 0700);
    mkdir(f.local, "/tree/sub", 0755);
    mkdir(f.local, "/tree/sub/deeper", 0711);
    put(f.local, "/tree/sub/deeper/b $(x) ;'\".txt", "beta", 0640);
    set_times(f.local, "/tree/a.txt", 1000000000, 1000000001);
    set_times(f.local, "/tree/sub", 1200000000, 1200000001);
    set_times(f.local, "/tree", 1100000000, 1100000001);
    scp::client_options o;
    o.recursive = true;
    o.preserve = true;
    std::vector<std::string> src4{"/tree"};
    std::string dst4 = ".";
    auto [ec, sum, status] = co_await f.upload(o, src4, dst4);
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(status, 0);
    EXPECT_EQ(sum.files, 3u);
    EXPECT_EQ(get(f.remote, "/tree/a.txt"), "alpha");
    EXPECT_EQ(get(f.remote, "/tree/empty.txt"), "");
    EXPECT_EQ(get(f.remote, "/tree/sub/deeper/b $(x) ;'\".txt"), "beta");
    EXPECT_TRUE(stat(f.remote, "/tree/empty dir").is_directory());
    EXPECT_EQ(stat(f.remote, "/tree").permissions & 07777, 0750u);
    EXPECT_EQ(stat(f.remote, "/tree/a.txt").permissions & 07777, 0600u);
    EXPECT_EQ(stat(f.remote, "/tree/empty.txt").permissions & 07777, 0604u);
    EXPECT_EQ(stat(f.remote, "/tree/sub/deeper").permissions & 07777, 0711u);
    EXPECT_EQ(stat(f.remote, "/tree/a.txt").mtime, 1000000000);
    EXPECT_EQ(stat(f.remote, "/tree/a.txt").atime, 1000000001);
    EXPECT_EQ(stat(f.remote, "/tree/sub").mtime, 1200000000);
    EXPECT_EQ(stat(f.remote, "/tree").mtime, 1100000000);

    // And back, into a directory of another name.
    mkdir(f.local, "/back");
    std::vector<std::string> src5{"/tree"};
    std::string dst5 = "/back";
    auto [ec2, sum2, status2] = co_await f.download(o, src5, dst5);
    EXPECT_FALSE(ec2) << ec2.message();
    EXPECT_EQ(status2, 0);
    EXPECT_EQ(get(f.local, "/back/tree/sub/deeper/b $(x) ;'\".txt"), "beta");
    EXPECT_TRUE(stat(f.local, "/back/tree/empty dir").is_directory());
    EXPECT_EQ(stat(f.local, "/back/tree/a.txt").mtime, 1000000000);
    EXPECT_EQ(stat(f.local, "/back/tree").permissions & 07777, 0750u);
  });
}

TEST(scp_loopback, several_sources_go_into_a_directory_and_are_refused_for_a_file_target) {
  run_coroutine([](asio::io_context& ioc) -> asio::awaitable<void> {
    fixture f{ioc};
    put(f.local, "/one", "1");
    put(f.local, "/two words", "2");
    mkdir(f.remote, "/dir");
    put(f.remote, "/file", "x");
    scp::client_options o;
    o.target_should_be_directory = true;
    std::vector<std::string> src6{"/one", "/two words"};
    std::string dst6 = "/dir";
    auto [ec, sum, status] = co_await f.upload(o, src6, dst6);
    EXPECT_FALSE(ec);
    EXPECT_EQ(status, 0);
    EXPECT_EQ(get(f.remote, "/dir/one"), "1");
    EXPECT_EQ(get(f.remote, "/dir/two words"), "2");

    std::vector<std::string> src7{"/one", "/two words"};
    std::string dst7 = "/file";
    auto [ec2, sum2, status2] = co_await f.upload(o, src7, dst7);
    EXPECT_EQ(ec2, scp::errc::peer_error);
    EXPECT_EQ(status2, 1);
    EXPECT_FALSE(sum2.messages.empty());
    if (sum2.messages.empty()) co_return;
    EXPECT_EQ(sum2.messages.back(), "scp: /file: Not a directory");
    EXPECT_EQ(get(f.remote, "/file"), "x");

    mkdir(f.local, "/got");
    scp::client_options o8;
    std::vector<std::string> src8{"/dir/one", "/dir/two words"};
    std::string dst8 = "/got";
    auto [ec3, sum3, status3] = co_await f.download(o8, src8, dst8);
    EXPECT_FALSE(ec3);
    EXPECT_EQ(get(f.local, "/got/one"), "1");
    EXPECT_EQ(get(f.local, "/got/two words"), "2");
  });
}

TEST(scp_loopback, a_missing_source_is_reported_and_the_others_still_arrive) {
  run_coroutine([](asio::io_context& ioc) -> asio::awaitable<void> {
    fixture f{ioc};
    put(f.remote, "/there", "here");
    mkdir(f.local, "/got");
    scp::client_options o9;
    std::vector<std::string> src9{"/missing", "/there"};
    std::string dst9 = "/got";
    auto [ec, sum, status] = co_await f.download(o9, src9, dst9);
    EXPECT_EQ(ec, scp::errc::partial);
    EXPECT_EQ(status, 1);
    EXPECT_EQ(sum.messages.size(), 1u);
    if (sum.messages.size() != 1u) co_return;
    EXPECT_EQ(sum.messages[0], "scp: /missing: No such file or directory");
    EXPECT_EQ(get(f.local, "/got/there"), "here");

    put(f.local, "/real", "r");
    mkdir(f.remote, "/in");
    scp::client_options o10;
    std::vector<std::string> src10{"/nothing", "/real"};
    std::string dst10 = "/in";
    auto [ec2, sum2, status2] = co_await f.upload(o10, src10, dst10);
    EXPECT_EQ(ec2, scp::errc::partial);
    EXPECT_EQ(status2, 1);  // scp -t counts the warning line it received
    EXPECT_EQ(get(f.remote, "/in/real"), "r");
  });
}

TEST(scp_loopback, a_directory_without_recursive_is_not_a_regular_file) {
  run_coroutine([](asio::io_context& ioc) -> asio::awaitable<void> {
    fixture f{ioc};
    mkdir(f.remote, "/d");
    scp::client_options o11;
    std::vector<std::string> src11{"/d"};
    std::string dst11 = "/x";
    auto [ec, sum, status] = co_await f.download(o11, src11, dst11);
    EXPECT_EQ(ec, scp::errc::partial);
    EXPECT_EQ(status, 1);
    EXPECT_EQ(sum.messages.size(), 1u);
    if (sum.messages.size() != 1u) co_return;
    EXPECT_EQ(sum.messages[0], "scp: /d: not a regular file");
    EXPECT_FALSE(exists(f.local, "/x"));
  });
}

TEST(scp_loopback, a_server_glob_sends_the_matching_names_only) {
  run_coroutine([](asio::io_context& ioc) -> asio::awaitable<void> {
    fixture f{ioc};
    put(f.remote, "/a.txt", "a");
    put(f.remote, "/b.txt", "b");
    put(f.remote, "/c.log", "c");
    put(f.remote, "/.hidden.txt", "h");
    auto s = exec(ioc, f.server, "scp -f /*.txt");
    // The client asked for these names (a caller knowing the expansion).
    scp::client<test::stream> c{s->client, {}};
    mkdir(f.local, "/got");
    std::vector<std::string> asked{"a.txt", "b.txt"};
    std::string got_dir = "/got";
    auto [ec, sum] = co_await c.async_download(asked, f.local, got_dir, nothrow);
    co_await wait_server(*s);
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(get(f.local, "/got/a.txt"), "a");
    EXPECT_EQ(get(f.local, "/got/b.txt"), "b");
    EXPECT_FALSE(exists(f.local, "/got/c.log"));
    EXPECT_FALSE(exists(f.local, "/got/.hidden.txt"));
  });
}

TEST(scp_loopback, a_command_line_with_shell_syntax_is_refused_with_a_message) {
  run_coroutine([](asio::io_context& ioc) -> asio::awaitable<void> {
    fixture f{ioc};
    for (std::string bad : {"scp -t x; rm -rf /", "scp -f `id`", "scp -f $(id)", "sh -c x",
                            "scp -t a b", "scp -x -t a", "scp -t", "scp -f a | cat"}) {
      auto s = exec(ioc, f.server, bad);
      co_await wait_server(*s);
      EXPECT_EQ(s->server_ec, scp::errc::bad_command) << bad;
      EXPECT_EQ(s->status, 1) << bad;
      std::string got(256, '\0');
      auto [ec, n] = co_await s->client.async_read_some(asio::buffer(got), nothrow);
      got.resize(n);
      EXPECT_EQ(got, "\2scp: SCP command line not understood\n") << bad;
    }
  });
}

TEST(scp_loopback, every_io_failure_ends_the_transfer_cleanly) {
  // Fail the Nth stream operation, for every N a whole upload uses.
  for (std::size_t n = 0; n < 40; ++n) {
    run_coroutine([n](asio::io_context& ioc) -> asio::awaitable<void> {
      auto local = fs::make_memory_filesystem(ioc.get_executor());
      auto remote = fs::make_memory_filesystem(ioc.get_executor());
      mkdir(local, "/t");
      put(local, "/t/a", "aaaa");
      put(local, "/t/b", std::string(70000, 'b'));
      test::fail_count fc{n};
      auto ends = test::make_stream_pair(ioc.get_executor(), &fc);
      auto& a = ends.first;
      auto& b = ends.second;
      scp::server<fs::memory_filesystem> srv{remote};
      bool done = false;
      srv.async_run(b, "scp -r -t .", [&](error_code, int) {
        done = true;
        b.close();
      });
      scp::client_options o;
      o.recursive = true;
      scp::client<test::stream> c{a, o};
      std::vector<std::string> sources{"/t"};
      auto [ec, sum] = co_await c.async_upload(local, sources, nothrow);
      a.close();
      asio::steady_timer t{ioc};
      for (int i = 0; i < 1000 && !done; ++i) {
        t.expires_after(std::chrono::milliseconds(1));
        co_await t.async_wait(asio::use_awaitable);
      }
      EXPECT_TRUE(done) << n;
      if (!ec) {
        EXPECT_EQ(get(remote, "/t/b"), std::string(70000, 'b')) << n;
      }
      EXPECT_EQ(local.core().open_handles(), 0u) << n;
      EXPECT_EQ(remote.core().open_handles(), 0u) << n;
    });
  }
}

}  // namespace scp_loopback_test
