// scp::sftp_mode_client against OpenSSH's real sftp-server, each case run a second time with the
// real OpenSSH `scp -s` (SFTP mode) on an identical fixture: the trees both leave behind must be
// the same, and both must succeed or fail together (scp exit status 0 <-> no error).
#include "interop/scp_sftp/scp_sftp_peers.hpp"

#include <gtest/gtest.h>

using namespace ferry;
using namespace ferry::interop_scp_sftp;

namespace {

scp::client_options opts(bool r, bool p) {
  scp::client_options o;
  o.recursive = r;
  o.preserve = p;
  return o;
}

}  // namespace

TEST(scp_sftp_openssh, one_file_each_way_into_a_directory_and_as_a_name) {
  world w;
  w.both([](const sfs::path& local, const sfs::path& remote) {
    put(local / "a.bin", big(3'000'001), 0640);
    put(remote / "r.txt", "remote file\n", 0604);
    make_dir(remote / "in");
    make_dir(local / "dl");
  });
  auto f1 = w.ferry_run(true, {}, {"a.bin"}, "in");
  EXPECT_FALSE(f1.ec) << f1.ec.message() << joined(f1.summary);
  EXPECT_EQ(f1.summary.files, 1u);
  EXPECT_EQ(f1.summary.bytes, 3'000'001u);
  auto f2 = w.ferry_run(true, {}, {"a.bin"}, "new name.bin");
  EXPECT_FALSE(f2.ec) << joined(f2.summary);
  auto f3 = w.ferry_run(false, {}, {"r.txt"}, "dl");
  EXPECT_FALSE(f3.ec) << joined(f3.summary);
  auto f4 = w.ferry_run(false, {}, {"r.txt"}, "got.txt");
  EXPECT_FALSE(f4.ec) << joined(f4.summary);

  EXPECT_EQ(w.openssh_run({}, {"a.bin", "h:in"}).status, 0);
  EXPECT_EQ(w.openssh_run({}, {"a.bin", "h:new name.bin"}).status, 0);
  EXPECT_EQ(w.openssh_run({}, {"h:r.txt", "dl"}).status, 0);
  EXPECT_EQ(w.openssh_run({}, {"h:r.txt", "got.txt"}).status, 0);

  EXPECT_EQ(read_file(w.ferry().remote / "in" / "a.bin"), big(3'000'001));
  EXPECT_EQ(read_file(w.ferry().local / "got.txt"), "remote file\n");
  w.expect_same_sides();
}

TEST(scp_sftp_openssh, several_sources_and_the_target_rules) {
  world w;
  w.both([](const sfs::path& local, const sfs::path& remote) {
    put(local / "a", "A", 0644);
    put(local / "b", "BB", 0600);
    put(remote / "file", "keep", 0644);
    put(remote / "r1", "R1", 0644);
    put(remote / "r2", "R2", 0640);
    put(local / "lf", "local", 0644);
    make_dir(local / "got");
  });
  // Upload into a remote file: both refuse before any data.
  auto f1 = w.ferry_run(true, {}, {"a", "b"}, "file");
  EXPECT_EQ(f1.ec, scp::errc::target_not_directory);
  EXPECT_NE(w.openssh_run({}, {"a", "b", "h:file"}).status, 0);
  // Upload into a missing remote target: both create it.
  auto f2 = w.ferry_run(true, {}, {"a", "b"}, "newdir");
  EXPECT_FALSE(f2.ec) << joined(f2.summary);
  EXPECT_EQ(w.openssh_run({}, {"a", "b", "h:newdir"}).status, 0);
  EXPECT_TRUE(sfs::is_directory(w.ferry().remote / "newdir"));
  // Download of several into a local file or a missing path: both refuse.
  auto f3 = w.ferry_run(false, {}, {"r1", "r2"}, "lf");
  EXPECT_EQ(f3.ec, scp::errc::target_not_directory);
  EXPECT_TRUE(mentions(f3.summary, "lf: Not a directory")) << joined(f3.summary);
  EXPECT_NE(w.openssh_run({}, {"h:r1", "h:r2", "lf"}).status, 0);
  auto f4 = w.ferry_run(false, {}, {"r1", "r2"}, "missing");
  EXPECT_EQ(f4.ec, scp::errc::target_not_directory);
  EXPECT_NE(w.openssh_run({}, {"h:r1", "h:r2", "missing"}).status, 0);
  // Into a directory: both fetch both.
  auto f5 = w.ferry_run(false, {}, {"r1", "r2"}, "got");
  EXPECT_FALSE(f5.ec) << joined(f5.summary);
  EXPECT_EQ(w.openssh_run({}, {"h:r1", "h:r2", "got"}).status, 0);
  EXPECT_EQ(read_file(w.ferry().local / "got" / "r2"), "R2");
  w.expect_same_sides();
}

TEST(scp_sftp_openssh, recursive_trees_without_and_with_preserve) {
  world w;
  w.both([](const sfs::path& local, const sfs::path& remote) {
    make_tree(local / "tree");
    make_tree(remote / "rtree");
    make_dir(remote / "up");
    make_dir(local / "down");
  });
  // Without -r: "not a regular file", and a non-zero status.
  auto f0 = w.ferry_run(true, {}, {"tree"}, "up");
  EXPECT_EQ(f0.ec, scp::errc::partial);
  EXPECT_TRUE(mentions(f0.summary, "not a regular file")) << joined(f0.summary);
  EXPECT_NE(w.openssh_run({}, {"tree", "h:up"}).status, 0);
  auto f00 = w.ferry_run(false, {}, {"rtree"}, "down");
  EXPECT_EQ(f00.ec, scp::errc::partial);
  EXPECT_NE(w.openssh_run({}, {"h:rtree", "down"}).status, 0);
  w.expect_same_sides();

  auto f1 = w.ferry_run(true, opts(true, false), {"tree"}, "up");
  EXPECT_FALSE(f1.ec) << joined(f1.summary);
  EXPECT_EQ(f1.summary.files, 4u);
  EXPECT_EQ(f1.summary.directories, 4u);
  EXPECT_EQ(w.openssh_run({"-r"}, {"tree", "h:up"}).status, 0);
  auto f2 = w.ferry_run(false, opts(true, false), {"rtree"}, "down");
  EXPECT_FALSE(f2.ec) << joined(f2.summary);
  EXPECT_EQ(w.openssh_run({"-r"}, {"h:rtree", "down"}).status, 0);
  w.expect_same_sides();

  auto f3 = w.ferry_run(true, opts(true, true), {"tree"}, "kept");
  EXPECT_FALSE(f3.ec) << joined(f3.summary);
  EXPECT_EQ(w.openssh_run({"-r", "-p"}, {"tree", "h:kept"}).status, 0);
  auto f4 = w.ferry_run(false, opts(true, true), {"rtree"}, "kept");
  EXPECT_FALSE(f4.ec) << joined(f4.summary);
  EXPECT_EQ(w.openssh_run({"-r", "-p"}, {"h:rtree", "kept"}).status, 0);
  w.expect_same_sides();
  w.expect_same_preserved("kept", true);
  w.expect_same_preserved("kept", false);
  EXPECT_EQ(mtime_of(w.ferry().remote / "kept" / "a.txt"), 1000000000);
  EXPECT_EQ(mode_of(w.ferry().local / "kept" / "sub" / "deeper"), 0711u);
  EXPECT_EQ(mtime_of(w.ferry().local / "kept" / "sub"), 1300000000);
}

TEST(scp_sftp_openssh, awkward_names_globs_and_missing_sources) {
  world w;
  const std::string odd = "it's \"odd\" $(touch x); `id` & more.txt";
  w.both([&](const sfs::path& local, const sfs::path& remote) {
    put(local / odd, "odd", 0644);
    put(local / "here", "here", 0644);
    make_dir(remote / "dir with spaces");
    make_dir(remote / "logs");
    put(remote / "logs" / "a.log", "a", 0644);
    put(remote / "logs" / "b.log", "b", 0644);
    put(remote / "logs" / ".hidden.log", "h", 0644);
    put(remote / "logs" / "c.txt", "c", 0644);
    make_dir(local / "g");
    make_dir(local / "m");
  });
  auto f1 = w.ferry_run(true, {}, {odd}, "dir with spaces");
  EXPECT_FALSE(f1.ec) << joined(f1.summary);
  EXPECT_EQ(w.openssh_run({}, {odd, "h:dir with spaces"}).status, 0);
  EXPECT_EQ(read_file(w.ferry().remote / "dir with spaces" / odd), "odd");
  auto f2 = w.ferry_run(false, {}, {"dir with spaces/" + odd}, "back.txt");
  EXPECT_FALSE(f2.ec) << joined(f2.summary);
  EXPECT_EQ(w.openssh_run({}, {"h:dir with spaces/" + odd, "back.txt"}).status, 0);

  // Remote globs: both fetch the same matches (no leading-dot names).
  auto f3 = w.ferry_run(false, {}, {"logs/*.log"}, "g");
  EXPECT_FALSE(f3.ec) << joined(f3.summary);
  EXPECT_EQ(f3.summary.files, 2u);
  EXPECT_EQ(w.openssh_run({}, {"h:logs/*.log", "g"}).status, 0);
  // Several matches into a missing target: both create it.
  auto f4 = w.ferry_run(false, {}, {"logs/?.*"}, "made");
  EXPECT_FALSE(f4.ec) << joined(f4.summary);
  EXPECT_EQ(w.openssh_run({}, {"h:logs/?.*", "made"}).status, 0);
  // A pattern without a match, and missing sources: an error, the rest goes on.
  auto f5 = w.ferry_run(false, {}, {"logs/zz*", "logs/c.txt"}, "m");
  EXPECT_EQ(f5.ec, scp::errc::partial);
  EXPECT_TRUE(mentions(f5.summary, "scp: logs/zz*: No such file or directory"))
      << joined(f5.summary);
  auto o5 = w.openssh_run({}, {"h:logs/zz*", "h:logs/c.txt", "m"});
  EXPECT_NE(o5.status, 0);
  EXPECT_NE(o5.output.find("zz*: No such file or directory"), std::string::npos) << o5.output;
  auto f6 = w.ferry_run(true, {}, {"nope", "here"}, "logs");
  EXPECT_EQ(f6.ec, scp::errc::partial);
  EXPECT_EQ(f6.summary.files, 1u);
  EXPECT_NE(w.openssh_run({}, {"nope", "h:logs"}).status, 0);
  EXPECT_EQ(w.openssh_run({}, {"here", "h:logs"}).status, 0);
  w.expect_same_sides();
  EXPECT_FALSE(sfs::exists(w.ferry().local / "x"));
  EXPECT_FALSE(sfs::exists(w.ferry().remote / "x"));
}
