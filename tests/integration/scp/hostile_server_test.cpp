// A downloading client against scripted hostile servers: whatever the server sends, nothing is
// written outside the target, the target's own mode is never changed, nothing that was not asked
// for is created, and the client ends with a typed error (CVE-2019-6111, CVE-2018-20685).
#include "integration/scp/harness.hpp"
#include "support/run_coroutine.hpp"

#include <gtest/gtest.h>

#include <set>

namespace hostile_server_test {
using namespace ferry;
using namespace ferry::test_scp;
using ferry_test_support::run_coroutine;
using E = ferry::scp::errc;

namespace {

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

std::string nul() { return std::string(1, '\0'); }

// Every path in the filesystem, directories marked with a trailing '/'.
void walk(fs::memory_filesystem& f, const std::string& dir, std::set<std::string>& out) {
  fs::handle h;
  if (f.core().opendir(dir, h)) return;
  std::vector<fs::dir_entry> batch;
  while (!f.core().readdir(h, batch) && !batch.empty()) {
    for (auto& e : batch) {
      auto p = (dir == "/" ? "/" : dir + "/") + e.name;
      out.insert(e.attrs.is_directory() ? p + "/" : p);
      if (e.attrs.is_directory()) walk(f, p, out);
    }
    batch.clear();
  }
  (void)f.core().close(h);
}

struct outcome {
  error_code ec;
  scp::transfer_summary summary;
  std::set<std::string> tree;  // everything in the local filesystem afterwards
  std::uint32_t target_mode = 0;
};

// Downloads `requested` into /target (mode 0750) from a server that sends `script`.
outcome download_from(std::string script, std::vector<std::string> requested, bool recursive,
                      bool preserve) {
  outcome out;
  run_coroutine([&](asio::io_context& ioc) -> asio::awaitable<void> {
    auto local = fs::make_memory_filesystem(ioc.get_executor());
    mkdir(local, "/target", 0750);
    mkdir(local, "/outside", 0755);
    put(local, "/outside/keep", "keep");
    auto ends = test::make_stream_pair(ioc.get_executor());
    auto& a = ends.first;
    auto& b = ends.second;
    auto bytes = to_bytes(script);
    asio::async_write(b, asio::buffer(bytes), [&b](error_code, std::size_t) { b.shutdown_send(); });
    scp::client_options o;
    o.recursive = recursive;
    o.preserve = preserve;
    scp::client<test::stream> c{a, o};
    std::string target = "/target";
    auto [ec, sum] = co_await c.async_download(requested, local, target, nothrow);
    out.ec = ec;
    out.summary = sum;
    walk(local, "/", out.tree);
    out.target_mode = stat(local, "/target").permissions & 07777;
    EXPECT_EQ(local.core().open_handles(), 0u);
  });
  return out;
}

const std::set<std::string> untouched{"/outside/", "/outside/keep", "/target/"};

}  // namespace

TEST(scp_hostile_server, an_absolute_name_is_refused_and_nothing_is_written) {
  auto r = download_from("C0644 4 /outside/keep\npwnd" + nul(), {"keep"}, false, false);
  EXPECT_EQ(r.ec, E::bad_name);
  EXPECT_EQ(r.tree, untouched);
  EXPECT_EQ(r.target_mode, 0750u);
}

TEST(scp_hostile_server, a_dot_dot_name_is_refused) {
  for (std::string name : {"..", "../outside/keep", "a/../../x"}) {
    auto r = download_from("C0644 4 " + name + "\npwnd" + nul(), {"a"}, true, false);
    EXPECT_EQ(r.ec, E::bad_name) << name;
    EXPECT_EQ(r.tree, untouched) << name;
  }
  auto r = download_from("D0755 0 a\nD0755 0 ..\nC0644 4 keep\npwnd" + nul() + "E\nE\n", {"a"},
                         true, false);
  EXPECT_EQ(r.ec, E::bad_name);
  EXPECT_EQ(r.tree, (std::set<std::string>{"/outside/", "/outside/keep", "/target/",
                                           "/target/a/"}));
}

TEST(scp_hostile_server, a_directory_named_dot_cannot_change_the_targets_mode) {
  // CVE-2018-20685: "D0777 0 ." made scp chmod the target directory itself.
  for (std::string mode : {"0555", "0777", "0000"}) {
    auto r = download_from("D" + mode + " 0 .\nE\n", {"dir"}, true, true);
    EXPECT_EQ(r.ec, E::bad_name);
    EXPECT_EQ(r.target_mode, 0750u);
    EXPECT_EQ(r.tree, untouched);
  }
  auto r = download_from("T1 0 1 0\nD0555 0 .\nE\n", {"dir"}, true, true);
  EXPECT_EQ(r.ec, E::bad_name);
  EXPECT_EQ(r.target_mode, 0750u);
}

TEST(scp_hostile_server, files_that_were_not_asked_for_are_refused) {
  // CVE-2019-6111: asked for "a", the server also sends ".bashrc".
  auto r = download_from("C0644 1 a\nA" + nul() + "C0644 4 .bashrc\npwnd" + nul(), {"a"}, false,
                         false);
  EXPECT_EQ(r.ec, E::unrequested_name);
  EXPECT_EQ(r.tree, (std::set<std::string>{"/outside/", "/outside/keep", "/target/",
                                           "/target/a"}));
  auto r2 = download_from("C0644 4 evil\npwnd" + nul(), {"dir/a"}, false, false);
  EXPECT_EQ(r2.ec, E::unrequested_name);
  EXPECT_EQ(r2.tree, untouched);
  // A directory where a file was asked for, without -r.
  auto r3 = download_from("D0755 0 a\nC0644 4 x\npwnd" + nul() + "E\n", {"a"}, false, false);
  EXPECT_EQ(r3.ec, E::unexpected_record);
  EXPECT_EQ(r3.tree, untouched);
  // Times without -p.
  auto r4 = download_from("T1 0 1 0\nC0644 1 a\nA" + nul(), {"a"}, false, false);
  EXPECT_EQ(r4.ec, E::unexpected_record);
  EXPECT_EQ(r4.tree, untouched);
}

TEST(scp_hostile_server, bad_sizes_and_modes_are_refused_before_anything_is_created) {
  for (std::string rec : {"C0644 -1 a", "C0644 1x a", "C0644 99999999999999999999 a",
                          "C0644  1 a", "C0644 0x10 a", "C0644 a"}) {
    auto r = download_from(rec + "\nA" + nul(), {"a"}, false, false);
    EXPECT_EQ(r.ec, E::bad_size) << rec;
    EXPECT_EQ(r.tree, untouched) << rec;
  }
  for (std::string rec : {"C9999 1 a", "C644 1 a", "C06444 1 a", "C-644 1 a", "D07777x 0 a"}) {
    auto r = download_from(rec + "\nA" + nul(), {"a"}, true, false);
    EXPECT_EQ(r.ec, E::bad_mode) << rec;
    EXPECT_EQ(r.tree, untouched) << rec;
  }
}

TEST(scp_hostile_server, more_bytes_than_declared_are_refused) {
  auto r = download_from("C0644 1 a\nAB" + nul(), {"a"}, false, false);
  EXPECT_EQ(r.ec, E::bad_ack);
}

TEST(scp_hostile_server, a_stream_that_ends_inside_a_file_is_truncated) {
  auto r = download_from("C0644 10 a\nAB", {"a"}, false, false);
  EXPECT_EQ(r.ec, E::truncated);
}

TEST(scp_hostile_server, a_fatal_message_ends_the_download_with_its_text) {
  auto r = download_from("\2scp: something broke\n", {"a"}, false, false);
  EXPECT_EQ(r.ec, E::peer_error);
  ASSERT_FALSE(r.summary.messages.empty());
  EXPECT_EQ(r.summary.messages.back(), "scp: something broke");
}

TEST(scp_hostile_server, a_requested_tree_lands_only_below_the_target) {
  // The allowed case next to the refusals: a recursive download of what was asked.
  auto r = download_from("D0700 0 dir\nC0600 2 f\nhi" + nul() + "D0755 0 sub\nE\nE\n", {"dir"},
                         true, false);
  EXPECT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.tree, (std::set<std::string>{"/outside/", "/outside/keep", "/target/",
                                           "/target/dir/", "/target/dir/f",
                                           "/target/dir/sub/"}));
  EXPECT_EQ(r.target_mode, 0750u);
}

}  // namespace hostile_server_test
