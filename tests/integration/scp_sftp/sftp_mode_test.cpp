// scp::sftp_mode_client against ferry's sftp::server in one process: scp's target rules (into a
// directory, as a name, several sources, -d), -r trees with nested and empty directories and
// empty files, -p, awkward names, remote glob patterns, missing sources and wrong targets, events
// and summaries as the legacy client reports them.
#include "integration/scp_sftp/harness.hpp"
#include "support/run_coroutine.hpp"

#include <gtest/gtest.h>

using namespace ferry;
using namespace ferry::test_scp_sftp;
using ferry_test_support::run_coroutine;

namespace {

std::string big(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 7919) >> 3);
  return s;
}

// A tree with nested and empty directories and an empty file.
void make_tree(fs::memory_filesystem& f, const std::string& root) {
  mkdir(f, root, 0750);
  put(f, root + "/top.txt", "top\n", 0600);
  put(f, root + "/empty", "", 0644);
  mkdir(f, root + "/sub", 0755);
  put(f, root + "/sub/deep.bin", big(300'001), 0640);
  mkdir(f, root + "/sub/none", 0700);
  mkdir(f, root + "/sub/more", 0755);
  put(f, root + "/sub/more/x", "x", 0604);
}

void expect_tree(fs::memory_filesystem& f, const std::string& root) {
  EXPECT_EQ(get(f, root + "/top.txt"), "top\n");
  EXPECT_EQ(get(f, root + "/empty"), "");
  EXPECT_EQ(get(f, root + "/sub/deep.bin"), big(300'001));
  EXPECT_TRUE(stat(f, root + "/sub/none").is_directory());
  EXPECT_EQ(get(f, root + "/sub/more/x"), "x");
}

}  // namespace

TEST(scp_sftp, one_file_up_into_a_directory_and_as_a_new_name) {
  run_coroutine([](asio::io_context& ioc) -> asio::awaitable<void> {
    session s{ioc};
    co_await s.init();
    auto data = big(3'000'017);  // several rounds, so reading and sending overlap
    put(s.local, "/a.bin", data, 0640);
    mkdir(s.remote, "/in");
    event_log log;
    scp::client_options o;
    o.on_event = log.handler();
    mode_client c{*s.client, o};
    std::vector<std::string> src1{"/a.bin"};
    auto [ec, sum] = co_await c.async_upload(s.local, src1, "/in", tuple);
    EXPECT_FALSE(ec) << ec.message() << joined(sum);
    EXPECT_EQ(get(s.remote, "/in/a.bin"), data);
    EXPECT_EQ(stat(s.remote, "/in/a.bin").permissions & 0777, 0640u);
    EXPECT_EQ(sum.files, 1u);
    EXPECT_EQ(sum.bytes, data.size());
    EXPECT_TRUE(log.has("begin /a.bin " + std::to_string(data.size())));
    EXPECT_TRUE(log.has("end /a.bin " + std::to_string(data.size())));

    // A target that does not exist is the new name; relative targets are in the home.
    std::vector<std::string> src2{"a.bin"};
    auto [ec2, sum2] = co_await c.async_upload(s.local, src2, "renamed.bin", tuple);
    EXPECT_FALSE(ec2) << joined(sum2);
    EXPECT_EQ(get(s.remote, "/renamed.bin"), data);
    // "" and "~" are the home directory.
    std::vector<std::string> src3{"/a.bin"};
    auto [ec3, sum3] = co_await c.async_upload(s.local, src3, "", tuple);
    EXPECT_FALSE(ec3) << joined(sum3);
    EXPECT_EQ(get(s.remote, "/a.bin"), data);
    std::vector<std::string> src4{"/a.bin"};
    auto [ec4, sum4] = co_await c.async_upload(s.local, src4, "~/in/b.bin", tuple);
    EXPECT_FALSE(ec4) << joined(sum4);
    EXPECT_EQ(get(s.remote, "/in/b.bin"), data);
  });
}

TEST(scp_sftp, one_file_down_into_a_directory_and_as_a_new_name) {
  run_coroutine([](asio::io_context& ioc) -> asio::awaitable<void> {
    session s{ioc};
    co_await s.init();
    auto data = big(2'500'001);
    mkdir(s.remote, "/pub");
    put(s.remote, "/pub/r.bin", data, 0604);
    mkdir(s.local, "/dl");
    event_log log;
    scp::client_options o;
    o.on_event = log.handler();
    mode_client c{*s.client, o};
    std::vector<std::string> src5{"/pub/r.bin"};
    auto [ec, sum] = co_await c.async_download(src5, s.local, "/dl", tuple);
    EXPECT_FALSE(ec) << joined(sum);
    EXPECT_EQ(get(s.local, "/dl/r.bin"), data);
    EXPECT_EQ(sum.files, 1u);
    EXPECT_EQ(sum.bytes, data.size());
    EXPECT_TRUE(log.has("end /dl/r.bin " + std::to_string(data.size())));
    std::vector<std::string> src6{"pub/r.bin"};
    auto [ec2, sum2] = co_await c.async_download(src6, s.local, "/dl/other", tuple);
    EXPECT_FALSE(ec2) << joined(sum2);
    EXPECT_EQ(get(s.local, "/dl/other"), data);
    // An existing file target is replaced.
    put(s.local, "/dl/old", "old contents that are longer", 0644);
    std::vector<std::string> src7{"/pub/r.bin"};
    auto [ec3, sum3] = co_await c.async_download(src7, s.local, "/dl/old", tuple);
    EXPECT_FALSE(ec3) << joined(sum3);
    EXPECT_EQ(get(s.local, "/dl/old"), data);
  });
}

TEST(scp_sftp, several_sources_need_a_directory_target) {
  run_coroutine([](asio::io_context& ioc) -> asio::awaitable<void> {
    session s{ioc};
    co_await s.init();
    put(s.local, "/a", "A", 0644);
    put(s.local, "/b", "BB", 0600);
    put(s.remote, "/file", "keep", 0644);
    put(s.remote, "/r1", "R1", 0644);
    put(s.remote, "/r2", "R2", 0644);
    mode_client c{*s.client};

    // Upload into an existing file: scp's mkdir fails, the transfer ends before any data.
    std::vector<std::string> src8{"/a", "/b"};
    auto [ec, sum] = co_await c.async_upload(s.local, src8, "/file", tuple);
    EXPECT_EQ(ec, scp::errc::target_not_directory);
    EXPECT_TRUE(mentions(sum, "scp: remote mkdir \"/file\"")) << joined(sum);
    EXPECT_EQ(get(s.remote, "/file"), "keep");
    EXPECT_EQ(sum.files, 0u);

    // Upload into a missing target: created (as scp does), both files inside.
    std::vector<std::string> src9{"/a", "/b"};
    auto [ec2, sum2] = co_await c.async_upload(s.local, src9, "/newdir", tuple);
    EXPECT_FALSE(ec2) << joined(sum2);
    EXPECT_TRUE(stat(s.remote, "/newdir").is_directory());
    EXPECT_EQ(get(s.remote, "/newdir/a"), "A");
    EXPECT_EQ(get(s.remote, "/newdir/b"), "BB");
    EXPECT_EQ(sum2.files, 2u);

    // -d with one source: the same rule.
    scp::client_options d;
    d.target_should_be_directory = true;
    mode_client cd{*s.client, d};
    std::vector<std::string> src10{"/a"};
    auto [ec3, sum3] = co_await cd.async_upload(s.local, src10, "/file", tuple);
    EXPECT_EQ(ec3, scp::errc::target_not_directory);
    EXPECT_EQ(get(s.remote, "/file"), "keep");

    // Download of several into a file or a missing path: scp's verifydir message, nothing read.
    put(s.local, "/lf", "local", 0644);
    std::vector<std::string> src11{"/r1", "/r2"};
    auto [ec4, sum4] = co_await c.async_download(src11, s.local, "/lf", tuple);
    EXPECT_EQ(ec4, scp::errc::target_not_directory);
    EXPECT_TRUE(mentions(sum4, "scp: /lf: Not a directory")) << joined(sum4);
    EXPECT_EQ(get(s.local, "/lf"), "local");
    std::vector<std::string> src12{"/r1", "/r2"};
    auto [ec5, sum5] = co_await c.async_download(src12, s.local, "/missing", tuple);
    EXPECT_EQ(ec5, scp::errc::target_not_directory);
    EXPECT_TRUE(mentions(sum5, "No such file or directory")) << joined(sum5);
    EXPECT_FALSE(exists(s.local, "/missing"));

    mkdir(s.local, "/got");
    std::vector<std::string> src13{"/r1", "/r2"};
    auto [ec6, sum6] = co_await c.async_download(src13, s.local, "/got", tuple);
    EXPECT_FALSE(ec6) << joined(sum6);
    EXPECT_EQ(get(s.local, "/got/r1"), "R1");
    EXPECT_EQ(get(s.local, "/got/r2"), "R2");
  });
}

TEST(scp_sftp, trees_need_recursive_and_copy_whole) {
  run_coroutine([](asio::io_context& ioc) -> asio::awaitable<void> {
    session s{ioc};
    co_await s.init();
    make_tree(s.local, "/tree");
    put(s.local, "/plain", "p", 0644);
    mode_client plain{*s.client};
    // Without -r a directory is "not a regular file"; the other source still goes.
    std::vector<std::string> src14{"/tree", "/plain"};
    auto [ec, sum] = co_await plain.async_upload(s.local, src14, "/", tuple);
    EXPECT_EQ(ec, scp::errc::partial);
    EXPECT_TRUE(mentions(sum, "scp: local \"/tree\" is not a regular file")) << joined(sum);
    EXPECT_EQ(sum.errors, 1u);
    EXPECT_FALSE(exists(s.remote, "/tree"));
    EXPECT_EQ(get(s.remote, "/plain"), "p");

    event_log log;
    scp::client_options o;
    o.recursive = true;
    o.on_event = log.handler();
    mode_client r{*s.client, o};
    std::vector<std::string> src15{"/tree"};
    auto [ec2, sum2] = co_await r.async_upload(s.local, src15, "/", tuple);
    EXPECT_FALSE(ec2) << joined(sum2);
    expect_tree(s.remote, "/tree");
    EXPECT_EQ(sum2.files, 4u);
    EXPECT_EQ(sum2.directories, 4u);
    EXPECT_TRUE(log.has("dir /tree/sub/none"));
    // Without -p the modes still follow the source (scp sets them at the end).
    EXPECT_EQ(stat(s.remote, "/tree").permissions & 0777, 0750u);
    EXPECT_EQ(stat(s.remote, "/tree/sub/none").permissions & 0777, 0700u);

    // A tree as a new name, then back down, into a directory and as a new name.
    std::vector<std::string> src16{"/tree"};
    auto [ec3, sum3] = co_await r.async_upload(s.local, src16, "/copy", tuple);
    EXPECT_FALSE(ec3) << joined(sum3);
    expect_tree(s.remote, "/copy");

    std::vector<std::string> src17{"/copy"};
    auto [ec4, sum4] = co_await plain.async_download(src17, s.local, "/", tuple);
    EXPECT_EQ(ec4, scp::errc::partial);
    EXPECT_TRUE(mentions(sum4, "scp: download /copy: not a regular file")) << joined(sum4);
    EXPECT_FALSE(exists(s.local, "/copy"));

    mkdir(s.local, "/back");
    std::vector<std::string> src18{"/copy"};
    auto [ec5, sum5] = co_await r.async_download(src18, s.local, "/back", tuple);
    EXPECT_FALSE(ec5) << joined(sum5);
    expect_tree(s.local, "/back/copy");
    EXPECT_EQ(sum5.files, 4u);
    EXPECT_EQ(sum5.directories, 4u);
    std::vector<std::string> src19{"/copy/"};
    auto [ec6, sum6] = co_await r.async_download(src19, s.local, "/renamed", tuple);
    EXPECT_FALSE(ec6) << joined(sum6);
    expect_tree(s.local, "/renamed");
  });
}

TEST(scp_sftp, preserve_copies_times_and_modes_both_ways) {
  run_coroutine([](asio::io_context& ioc) -> asio::awaitable<void> {
    session s{ioc};
    co_await s.init();
    make_tree(s.local, "/t");
    set_times(s.local, "/t/top.txt", 1'000'000'000, 1'100'000'000);
    set_times(s.local, "/t/sub/none", 1'200'000'000, 1'300'000'000);
    set_times(s.local, "/t", 1'400'000'000, 1'500'000'000);
    put(s.local, "/f", "f", 0751);
    set_times(s.local, "/f", 900'000'000, 950'000'000);
    scp::client_options o;
    o.recursive = true;
    o.preserve = true;
    mode_client c{*s.client, o};
    std::vector<std::string> src20{"/t", "/f"};
    auto [ec, sum] = co_await c.async_upload(s.local, src20, "/up", tuple);
    EXPECT_FALSE(ec) << joined(sum);
    EXPECT_EQ(stat(s.remote, "/up/t/top.txt").mtime, 1'000'000'000);
    EXPECT_EQ(stat(s.remote, "/up/t/top.txt").atime, 1'100'000'000);
    EXPECT_EQ(stat(s.remote, "/up/t/top.txt").permissions & 07777, 0600u);
    EXPECT_EQ(stat(s.remote, "/up/t/sub/none").mtime, 1'200'000'000);
    EXPECT_EQ(stat(s.remote, "/up/t").mtime, 1'400'000'000);
    EXPECT_EQ(stat(s.remote, "/up/t").permissions & 07777, 0750u);
    EXPECT_EQ(stat(s.remote, "/up/f").mtime, 900'000'000);
    EXPECT_EQ(stat(s.remote, "/up/f").permissions & 07777, 0751u);

    mkdir(s.local, "/down");
    std::vector<std::string> src21{"/up/t", "/up/f"};
    auto [ec2, sum2] = co_await c.async_download(src21, s.local, "/down", tuple);
    EXPECT_FALSE(ec2) << joined(sum2);
    EXPECT_EQ(stat(s.local, "/down/t/top.txt").mtime, 1'000'000'000);
    EXPECT_EQ(stat(s.local, "/down/t/top.txt").permissions & 07777, 0600u);
    EXPECT_EQ(stat(s.local, "/down/t/sub/none").mtime, 1'200'000'000);
    EXPECT_EQ(stat(s.local, "/down/t/sub/none").permissions & 07777, 0700u);
    EXPECT_EQ(stat(s.local, "/down/t").mtime, 1'400'000'000);
    EXPECT_EQ(stat(s.local, "/down/f").mtime, 900'000'000);
    EXPECT_EQ(stat(s.local, "/down/f").atime, 950'000'000);
    EXPECT_EQ(stat(s.local, "/down/f").permissions & 07777, 0751u);
    expect_tree(s.local, "/down/t");
  });
}

TEST(scp_sftp, awkward_names_are_literal) {
  run_coroutine([](asio::io_context& ioc) -> asio::awaitable<void> {
    session s{ioc};
    co_await s.init();
    const std::string odd = "it's a \"name\" with $(touch x); `id` & spaces";
    put(s.local, "/" + odd, "odd", 0644);
    mkdir(s.remote, "/dir with spaces");
    scp::client_options o;
    mode_client c{*s.client, o};
    std::vector<std::string> src22{"/" + odd};
    auto [ec, sum] = co_await c.async_upload(s.local, src22, "/dir with spaces", tuple);
    EXPECT_FALSE(ec) << joined(sum);
    EXPECT_EQ(get(s.remote, "/dir with spaces/" + odd), "odd");
    EXPECT_FALSE(exists(s.remote, "/x"));
    mkdir(s.local, "/d");
    std::vector<std::string> src23{"/dir with spaces/" + odd};
    auto [ec2, sum2] =
        co_await c.async_download(src23, s.local, "/d", tuple);
    EXPECT_FALSE(ec2) << joined(sum2);
    EXPECT_EQ(get(s.local, "/d/" + odd), "odd");
    EXPECT_FALSE(exists(s.local, "/x"));
  });
}

TEST(scp_sftp, remote_sources_are_glob_patterns_in_their_last_component) {
  run_coroutine([](asio::io_context& ioc) -> asio::awaitable<void> {
    session s{ioc};
    co_await s.init();
    mkdir(s.remote, "/logs");
    put(s.remote, "/logs/a.log", "a", 0644);
    put(s.remote, "/logs/b.log", "b", 0644);
    put(s.remote, "/logs/.hidden.log", "h", 0644);
    put(s.remote, "/logs/c.txt", "c", 0644);
    put(s.remote, "/logs/[x].log", "bracket", 0644);
    put(s.remote, "/logs/x", "single x", 0644);
    mkdir(s.remote, "/logs/sub.log");
    mode_client c{*s.client};

    mkdir(s.local, "/d");
    std::vector<std::string> src24{"/logs/*.log"};
    auto [ec, sum] = co_await c.async_download(src24, s.local, "/d", tuple);
    // sub.log matched too: a directory without -r is an error, the files still came.
    EXPECT_EQ(ec, scp::errc::partial);
    EXPECT_TRUE(mentions(sum, "download /logs/sub.log: not a regular file")) << joined(sum);
    EXPECT_EQ(get(s.local, "/d/a.log"), "a");
    EXPECT_EQ(get(s.local, "/d/b.log"), "b");
    EXPECT_EQ(get(s.local, "/d/[x].log"), "bracket");
    EXPECT_FALSE(exists(s.local, "/d/.hidden.log"));  // no leading dot from a wildcard
    EXPECT_FALSE(exists(s.local, "/d/c.txt"));

    // Several matches into a missing target create it.
    std::vector<std::string> src25{"/logs/?.log"};
    auto [ec2, sum2] = co_await c.async_download(src25, s.local, "/new", tuple);
    EXPECT_FALSE(ec2) << joined(sum2);
    EXPECT_EQ(get(s.local, "/new/a.log"), "a");
    EXPECT_EQ(get(s.local, "/new/b.log"), "b");
    // ... but not into an existing file (scp's message).
    put(s.local, "/file", "f", 0644);
    std::vector<std::string> src26{"/logs/?.log"};
    auto [ec3, sum3] = co_await c.async_download(src26, s.local, "/file", tuple);
    EXPECT_EQ(ec3, scp::errc::partial);
    EXPECT_TRUE(mentions(sum3, "Multiple files match pattern, but destination \"/file\" is not"))
        << joined(sum3);
    EXPECT_EQ(get(s.local, "/file"), "f");

    // "[x].log" as a pattern matches "x.log" only; escaped it is the literal name.
    std::vector<std::string> src27{"/logs/\\[x\\].log"};
    auto [ec4, sum4] = co_await c.async_download(src27, s.local, "/one", tuple);
    EXPECT_FALSE(ec4) << joined(sum4);
    EXPECT_EQ(get(s.local, "/one"), "bracket");
    // A pattern that matches nothing is taken literally (GLOB_NOCHECK) ...
    std::vector<std::string> src28{"/logs/[x].log"};
    auto [ec5, sum5] = co_await c.async_download(src28, s.local, "/two", tuple);
    EXPECT_FALSE(ec5) << joined(sum5);
    EXPECT_EQ(get(s.local, "/two"), "bracket");
    // ... and a missing path is scp's "No such file or directory".
    std::vector<std::string> src29{"/logs/zz*"};
    auto [ec6, sum6] = co_await c.async_download(src29, s.local, "/three", tuple);
    EXPECT_EQ(ec6, scp::errc::partial);
    EXPECT_TRUE(mentions(sum6, "scp: /logs/zz*: No such file or directory")) << joined(sum6);
    EXPECT_FALSE(exists(s.local, "/three"));
  });
}

TEST(scp_sftp, missing_sources_are_reported_and_the_rest_goes_on) {
  run_coroutine([](asio::io_context& ioc) -> asio::awaitable<void> {
    session s{ioc};
    co_await s.init();
    put(s.local, "/here", "here", 0644);
    put(s.remote, "/there", "there", 0644);
    mkdir(s.remote, "/in");
    mkdir(s.local, "/out");
    event_log log;
    scp::client_options o;
    o.on_event = log.handler();
    mode_client c{*s.client, o};
    std::vector<std::string> src30{"/nope", "/here"};
    auto [ec, sum] = co_await c.async_upload(s.local, src30, "/in", tuple);
    EXPECT_EQ(ec, scp::errc::partial);
    EXPECT_EQ(sum.errors, 1u);
    EXPECT_TRUE(mentions(sum, "scp: stat local \"/nope\": No such file or directory"))
        << joined(sum);
    EXPECT_TRUE(log.has("warn scp: stat local \"/nope\": No such file or directory"));
    EXPECT_EQ(get(s.remote, "/in/here"), "here");

    std::vector<std::string> src31{"/nope", "/there"};
    auto [ec2, sum2] = co_await c.async_download(src31, s.local, "/out", tuple);
    EXPECT_EQ(ec2, scp::errc::partial);
    EXPECT_TRUE(mentions(sum2, "scp: /nope: No such file or directory")) << joined(sum2);
    EXPECT_EQ(get(s.local, "/out/there"), "there");
    EXPECT_EQ(sum2.files, 1u);

    // Upload to a missing directory's child: the server's refusal, per file.
    std::vector<std::string> src32{"/here"};
    auto [ec3, sum3] = co_await c.async_upload(s.local, src32, "/no/such/dir/", tuple);
    EXPECT_EQ(ec3, scp::errc::partial);
    EXPECT_TRUE(mentions(sum3, "scp: dest open \"/no/such/dir/\"")) << joined(sum3);
  });
}

TEST(scp_sftp, a_read_only_server_refuses_uploads_per_file) {
  run_coroutine([](asio::io_context& ioc) -> asio::awaitable<void> {
    sftp::server_options so;
    so.read_only = true;
    session s{ioc, so};
    co_await s.init();
    put(s.local, "/a", "A", 0644);
    put(s.local, "/b", "B", 0644);
    mkdir(s.remote, "/in");
    mode_client c{*s.client};
    std::vector<std::string> src33{"/a", "/b"};
    auto [ec, sum] = co_await c.async_upload(s.local, src33, "/in", tuple);
    EXPECT_EQ(ec, scp::errc::partial);
    EXPECT_EQ(sum.errors, 2u);
    EXPECT_TRUE(mentions(sum, "scp: dest open \"/in/a\"")) << joined(sum);
    EXPECT_FALSE(exists(s.remote, "/in/a"));
  });
}

TEST(scp_sftp, a_lost_session_ends_the_transfer) {
  run_coroutine([](asio::io_context& ioc) -> asio::awaitable<void> {
    session s{ioc};
    co_await s.init();
    put(s.local, "/a", big(100'000), 0644);
    put(s.local, "/b", "B", 0644);
    s.server_end->close();
    mode_client c{*s.client};
    std::vector<std::string> src34{"/a", "/b"};
    auto [ec, sum] = co_await c.async_upload(s.local, src34, "/", tuple);
    EXPECT_TRUE(ec);
    EXPECT_NE(ec, scp::errc::partial);
    EXPECT_EQ(sum.files, 0u);
  });
}
