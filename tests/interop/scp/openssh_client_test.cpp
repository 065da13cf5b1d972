// The real OpenSSH client in legacy mode (`scp -O`) against ferry's SCP server: `-S WRAPPER`
// replaces ssh, and the wrapper runs ferry's server on stdio (tests/tools/ferry_scp_stdio) rooted
// at a directory, with the command line scp built. Uploads and downloads of files, several files,
// -r trees, -p times and modes, awkward names, scp's error messages, and the jail.
#include "interop/scp/scp_peers.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

namespace openssh_client_test {
using namespace ferry::interop_scp;

namespace {

struct fixture {
  temp_dir dir{"ferry-scp-server-"};
  sfs::path local = dir / "local";
  sfs::path root = dir / "root";  // what ferry serves as "/"
  sfs::path outside = dir / "outside";
  sfs::path wrapper;

  fixture() {
    sfs::create_directories(local);
    sfs::create_directories(root);
    sfs::create_directories(outside);
    wrapper = write_ssh_wrapper(dir.path(), root);
  }

  scp_run scp(std::vector<std::string> args) { return run_openssh_scp(wrapper, args, dir / "scp.log"); }
  std::string l(const std::string& name) const { return (local / name).string(); }
};

// A remote path as a user types it for the remote shell: every special character escaped with a
// backslash (which OpenSSH's own filename check, fnmatch, reads the same way).
std::string remote_escaped(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '/' && c != '_' &&
        c != '-')
      out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

TEST(scp_openssh_client_ferry_server, uploads_and_downloads_a_single_file) {
  fixture f;
  put(f.local / "a.txt", "hello\n");
  auto r = f.scp({f.l("a.txt"), "host:"});
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(read_file(f.root / "a.txt"), "hello\n");

  std::string big(2 * 1024 * 1024 + 3, 'z');
  put(f.root / "big.bin", big);
  auto r2 = f.scp({"host:big.bin", f.l("big.copy")});
  EXPECT_EQ(r2.status, 0) << r2.output;
  EXPECT_TRUE(read_file(f.local / "big.copy") == big);

  auto r3 = f.scp({f.l("a.txt"), "host:/renamed.txt"});
  EXPECT_EQ(r3.status, 0) << r3.output;
  EXPECT_EQ(read_file(f.root / "renamed.txt"), "hello\n");
}

TEST(scp_openssh_client_ferry_server, several_files_both_ways) {
  fixture f;
  put(f.local / "one", "1");
  put(f.local / "two", "2");
  make_dir(f.root / "dst");
  auto r = f.scp({f.l("one"), f.l("two"), "host:dst"});
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(read_file(f.root / "dst" / "one"), "1");
  EXPECT_EQ(read_file(f.root / "dst" / "two"), "2");
  make_dir(f.local / "back");
  auto r2 = f.scp({"host:dst/one", "host:dst/two", f.l("back")});
  EXPECT_EQ(r2.status, 0) << r2.output;
  EXPECT_EQ(read_file(f.local / "back" / "one"), "1");
  EXPECT_EQ(read_file(f.local / "back" / "two"), "2");
}

TEST(scp_openssh_client_ferry_server, a_recursive_preserving_tree_round_trips) {
  fixture f;
  make_tree(f.local / "tree");
  auto r = f.scp({"-r", "-p", f.l("tree"), "host:"});
  EXPECT_EQ(r.status, 0) << r.output;
  expect_same_tree(f.local / "tree", f.root / "tree", true);

  make_dir(f.local / "back");
  auto r2 = f.scp({"-r", "-p", "host:tree", f.l("back")});
  EXPECT_EQ(r2.status, 0) << r2.output;
  expect_same_tree(f.root / "tree", f.local / "back" / "tree", true);
}

TEST(scp_openssh_client_ferry_server, a_tree_without_preserve_gets_new_times) {
  fixture f;
  make_tree(f.local / "tree");
  auto r = f.scp({"-r", f.l("tree"), "host:"});
  EXPECT_EQ(r.status, 0) << r.output;
  expect_same_tree(f.local / "tree", f.root / "tree", false);
  EXPECT_NE(mtime_of(f.root / "tree" / "a.txt"), 1000000000);
}

TEST(scp_openssh_client_ferry_server, names_with_spaces_and_shell_metacharacters) {
  fixture f;
  for (std::string name : {"sp ace", "semi;colon", "$(touch pwned)", "`touch pwned`", "it's",
                           "dq\"uote", "amp&pipe|", "back\\slash", "paren(s)", "lt<gt>"}) {
    put(f.local / name, name);
    auto r = f.scp({f.l(name), "host:"});  // the name travels in the C record
    EXPECT_EQ(r.status, 0) << name << ": " << r.output;
    EXPECT_EQ(read_file(f.root / name), name);
    sfs::remove(f.local / name);
    auto r2 = f.scp({"host:" + remote_escaped(name), f.l("")});  // and in the command line
    EXPECT_EQ(r2.status, 0) << name << ": " << r2.output;
    EXPECT_EQ(read_file(f.local / name), name);
    auto r3 = f.scp({f.l(name), "host:" + remote_escaped("copy of " + name)});
    EXPECT_EQ(r3.status, 0) << name << ": " << r3.output;
    EXPECT_EQ(read_file(f.root / ("copy of " + name)), name);
  }
  EXPECT_FALSE(sfs::exists(f.root / "pwned"));
  EXPECT_FALSE(sfs::exists(f.dir / "pwned"));
}

TEST(scp_openssh_client_ferry_server, a_wildcard_source_is_expanded_in_its_directory) {
  fixture f;
  put(f.root / "logs" / "a.log", "a");
  put(f.root / "logs" / "b.log", "b");
  put(f.root / "logs" / "c.txt", "c");
  make_dir(f.local / "got");
  auto r = f.scp({"host:logs/*.log", f.l("got")});
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(read_file(f.local / "got" / "a.log"), "a");
  EXPECT_EQ(read_file(f.local / "got" / "b.log"), "b");
  EXPECT_FALSE(sfs::exists(f.local / "got" / "c.txt"));
}

TEST(scp_openssh_client_ferry_server, errors_are_reported_as_scp_reports_them) {
  fixture f;
  auto r = f.scp({"host:missing", f.l("")});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("scp: missing: No such file or directory"), std::string::npos)
      << r.output;

  put(f.local / "a", "a");
  put(f.local / "b", "b");
  put(f.root / "file", "keep");
  auto r2 = f.scp({f.l("a"), f.l("b"), "host:file"});
  EXPECT_EQ(r2.status, 1);
  EXPECT_NE(r2.output.find("scp: file: Not a directory"), std::string::npos) << r2.output;
  EXPECT_EQ(read_file(f.root / "file"), "keep");

  make_dir(f.root / "d");
  auto r3 = f.scp({"host:d", f.l("d")});
  EXPECT_EQ(r3.status, 1);
  EXPECT_NE(r3.output.find("scp: d: not a regular file"), std::string::npos) << r3.output;

  auto r4 = f.scp({f.l("a"), "host:no/such/dir/"});
  EXPECT_EQ(r4.status, 1);
  EXPECT_NE(r4.output.find("No such file or directory"), std::string::npos) << r4.output;
}

TEST(scp_openssh_client_ferry_server, nothing_outside_the_root_is_read_or_written) {
  fixture f;
  put(f.outside / "secret", "secret");
  put(f.local / "a", "a");
  ASSERT_EQ(::symlink(f.outside.c_str(), (f.root / "escape").c_str()), 0);
  make_dir(f.local / "got");
  // Reads: "..", absolute paths and a symlink pointing out all resolve inside the root.
  for (std::string src : std::vector<std::string>{"host:../outside/secret", "host:/../outside/secret",
                          "host:" + (f.outside / "secret").string(), "host:escape/secret"}) {
    auto r = f.scp({src, f.l("got")});
    EXPECT_EQ(r.status, 1) << src << ": " << r.output;
    EXPECT_FALSE(sfs::exists(f.local / "got" / "secret")) << src;
  }
  // Writes: the same targets land inside the root, or fail; the outside is untouched.
  for (std::string dst : std::vector<std::string>{"host:../outside/", "host:/../outside/x", "host:escape/x",
                          "host:" + f.outside.string() + "/x"}) {
    (void)f.scp({f.l("a"), dst});
  }
  std::vector<std::string> names;
  for (auto& e : sfs::directory_iterator(f.outside)) names.push_back(e.path().filename());
  EXPECT_EQ(names, std::vector<std::string>{"secret"});
  EXPECT_EQ(read_file(f.outside / "secret"), "secret");
}

}  // namespace openssh_client_test
