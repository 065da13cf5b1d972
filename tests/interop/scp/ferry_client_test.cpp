// ferry's SCP client (legacy protocol) against the real OpenSSH `scp -t` / `scp -f`, run as sshd
// runs them: `sh -c COMMAND` in the home directory, so the quoting of remote_command() meets a real
// shell. Files, several files, -r trees with nested and empty directories and empty files, -p
// times and modes, awkward names, and the errors scp reports.
#include "interop/scp/scp_peers.hpp"
#include "support/run_coroutine.hpp"

#include <ferry/fs/local.hpp>
#include <ferry/scp/client.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

namespace ferry_client_test {
using namespace ferry;
using namespace ferry::interop_scp;
using ferry_test_support::run_coroutine;
using scp::direction;
namespace asio = boost::asio;

namespace {

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

struct result {
  error_code ec;
  scp::transfer_summary summary;
  int status = -1;
  std::string command;
};

struct fixture {
  temp_dir dir{"ferry-scp-client-"};
  sfs::path local = dir / "local";
  sfs::path remote = dir / "remote";

  fixture() {
    sfs::create_directories(local);
    sfs::create_directories(remote);
  }

  result upload(scp::client_options o, std::vector<std::string> sources, std::string target) {
    result r;
    run_coroutine([&](asio::io_context& ioc) -> asio::awaitable<void> {
      error_code ec;
      auto files = fs::make_local_filesystem(ioc.get_executor(), local.string(), {}, ec, 2);
      EXPECT_FALSE(ec);
      std::vector<std::string> targets{target};
      r.command = scp::remote_command(direction::to_remote, o, targets);
      remote_scp peer{remote, dir / "scp.log", nullptr, std::nullopt};
      peer.start(ioc, r.command);
      scp::client<io::pipe_stream> c{*peer.stream, o};
      auto [uec, sum] = co_await c.async_upload(files, sources, nothrow);
      r.ec = uec;
      r.summary = sum;
      r.status = peer.finish();
    });
    return r;
  }

  result download(scp::client_options o, std::vector<std::string> sources, std::string target) {
    result r;
    run_coroutine([&](asio::io_context& ioc) -> asio::awaitable<void> {
      error_code ec;
      auto files = fs::make_local_filesystem(ioc.get_executor(), local.string(), {}, ec, 2);
      EXPECT_FALSE(ec);
      r.command = scp::remote_command(direction::from_remote, o, sources);
      remote_scp peer{remote, dir / "scp.log", nullptr, std::nullopt};
      peer.start(ioc, r.command);
      scp::client<io::pipe_stream> c{*peer.stream, o};
      auto [dec, sum] = co_await c.async_download(sources, files, target, nothrow);
      r.ec = dec;
      r.summary = sum;
      r.status = peer.finish();
    });
    return r;
  }
};

scp::client_options tree_options() {
  scp::client_options o;
  o.recursive = true;
  o.preserve = true;
  return o;
}

}  // namespace

TEST(scp_ferry_client_openssh, uploads_a_file_into_a_directory_and_to_a_new_name) {
  fixture f;
  put(f.local / "a.txt", "hello\n");
  make_dir(f.remote / "in");
  auto r = f.upload({}, {"a.txt"}, "in");
  EXPECT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(read_file(f.remote / "in" / "a.txt"), "hello\n");
  auto r2 = f.upload({}, {"a.txt"}, "renamed.txt");
  EXPECT_FALSE(r2.ec);
  EXPECT_EQ(r2.status, 0);
  EXPECT_EQ(read_file(f.remote / "renamed.txt"), "hello\n");
}

TEST(scp_ferry_client_openssh, downloads_a_large_file) {
  fixture f;
  std::string data(3 * 1024 * 1024 + 17, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 131 >> 5);
  put(f.remote / "big.bin", data);
  auto r = f.download({}, {"big.bin"}, "copy.bin");
  EXPECT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.summary.bytes, data.size());
  EXPECT_TRUE(read_file(f.local / "copy.bin") == data);
}

TEST(scp_ferry_client_openssh, several_files_go_into_a_directory_both_ways) {
  fixture f;
  put(f.local / "one", "1");
  put(f.local / "two words", "2");
  make_dir(f.remote / "dst");
  scp::client_options o;
  o.target_should_be_directory = true;
  auto r = f.upload(o, {"one", "two words"}, "dst");
  EXPECT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(read_file(f.remote / "dst" / "one"), "1");
  EXPECT_EQ(read_file(f.remote / "dst" / "two words"), "2");

  make_dir(f.local / "back");
  auto r2 = f.download({}, {"dst/one", "dst/two words"}, "back");
  EXPECT_FALSE(r2.ec) << r2.ec.message();
  EXPECT_EQ(r2.status, 0);
  EXPECT_EQ(read_file(f.local / "back" / "one"), "1");
  EXPECT_EQ(read_file(f.local / "back" / "two words"), "2");
}

TEST(scp_ferry_client_openssh, a_recursive_preserving_tree_round_trips) {
  fixture f;
  make_tree(f.local / "tree");
  auto r = f.upload(tree_options(), {"tree"}, ".");
  EXPECT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.status, 0);
  expect_same_tree(f.local / "tree", f.remote / "tree", true);

  make_dir(f.local / "back");
  auto r2 = f.download(tree_options(), {"tree"}, "back");
  EXPECT_FALSE(r2.ec) << r2.ec.message();
  EXPECT_EQ(r2.status, 0);
  expect_same_tree(f.remote / "tree", f.local / "back" / "tree", true);
}

TEST(scp_ferry_client_openssh, names_with_shell_metacharacters_reach_the_remote_shell_intact) {
  fixture f;
  for (std::string name : {"sp ace", "semi;colon", "$(touch pwned)", "`touch pwned`", "it's",
                           "dq\"uote", "star*", "back\\slash", "-leading-dash", "~tilde"}) {
    put(f.local / "x", name);
    auto r = f.upload({}, {"x"}, name);
    EXPECT_FALSE(r.ec) << name << ": " << r.ec.message();
    EXPECT_EQ(r.status, 0) << name;
    EXPECT_EQ(read_file(f.remote / name), name) << r.command;
    auto r2 = f.download({}, {name}, "got");
    EXPECT_FALSE(r2.ec) << name << ": " << r2.ec.message();
    EXPECT_EQ(read_file(f.local / "got"), name) << r2.command;
    sfs::remove(f.local / "got");
  }
  EXPECT_FALSE(sfs::exists(f.remote / "pwned"));
  EXPECT_FALSE(sfs::exists(f.dir / "pwned"));
}

TEST(scp_ferry_client_openssh, a_missing_source_is_reported_as_scp_reports_it) {
  fixture f;
  put(f.remote / "there", "here");
  make_dir(f.local / "got");
  auto r = f.download({}, {"missing", "there"}, "got");
  EXPECT_EQ(r.ec, scp::errc::partial);
  EXPECT_EQ(r.status, 1);
  ASSERT_EQ(r.summary.messages.size(), 1u);
  EXPECT_EQ(r.summary.messages[0], "scp: missing: No such file or directory");
  EXPECT_EQ(read_file(f.local / "got" / "there"), "here");

  auto r2 = f.upload({}, {"nothing"}, ".");
  EXPECT_EQ(r2.ec, scp::errc::partial);
  ASSERT_EQ(r2.summary.messages.size(), 1u);
  EXPECT_EQ(r2.summary.messages[0], "scp: nothing: No such file or directory");
}

TEST(scp_ferry_client_openssh, a_target_that_is_not_a_directory_is_refused) {
  fixture f;
  put(f.local / "a", "a");
  put(f.local / "b", "b");
  put(f.remote / "file", "keep");
  scp::client_options o;
  o.target_should_be_directory = true;
  auto r = f.upload(o, {"a", "b"}, "file");
  EXPECT_EQ(r.ec, scp::errc::peer_error);
  EXPECT_EQ(r.status, 1);
  ASSERT_FALSE(r.summary.messages.empty());
  EXPECT_EQ(r.summary.messages.back(), "scp: file: Not a directory");
  EXPECT_EQ(read_file(f.remote / "file"), "keep");

  put(f.local / "lfile", "keep");
  put(f.remote / "x", "x");
  put(f.remote / "y", "y");
  auto r2 = f.download({}, {"x", "y"}, "lfile");
  EXPECT_EQ(r2.ec, scp::errc::target_not_directory);
  EXPECT_EQ(read_file(f.local / "lfile"), "keep");
}

TEST(scp_ferry_client_openssh, a_directory_without_recursive_is_not_a_regular_file) {
  fixture f;
  make_dir(f.remote / "d");
  auto r = f.download({}, {"d"}, "x");
  EXPECT_EQ(r.ec, scp::errc::partial);
  EXPECT_EQ(r.status, 1);
  ASSERT_EQ(r.summary.messages.size(), 1u);
  EXPECT_EQ(r.summary.messages[0], "scp: d: not a regular file");
  EXPECT_FALSE(sfs::exists(f.local / "x"));
}

}  // namespace ferry_client_test
