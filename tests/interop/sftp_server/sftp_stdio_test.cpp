// OpenSSH's sftp client talking to ferry-sftp-server over stdio (`sftp -D`, no sshd): every
// command of a batch, files of the awkward sizes moved both ways and compared byte for byte,
// resumed transfers, and the sftp-server options (-R, -p/-P, -u, -d, -Q, -h).
#include "sftp_fixture.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

using namespace ferry::sftp_interop;

TEST(sftp_stdio, every_batch_command_works) {
  temp_dir d{"ferry-sftp-stdio-"};
  make_file(d / "local.bin", 100000, 3);
  fs::create_directories(d / "tree/sub/deeper");
  write_file(d / "tree/a.txt", "alpha\n");
  write_file(d / "tree/sub/b.txt", "beta\n");
  make_file(d / "tree/sub/deeper/c.bin", 70000, 4);
  auto r = sftp_direct(d.path(), R"(pwd
ls
ls -l
mkdir remote
cd remote
pwd
put local.bin up.bin
ls -l up.bin
get up.bin down.bin
put -r tree
get -r tree tree2
rename up.bin moved.bin
symlink moved.bin sl
ln moved.bin hard
chmod 600 moved.bin
ls -l
df
df -h
rm hard
rm sl
mkdir empty
rmdir empty
cd ..
lls
)");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("Remote working directory: " + d.path().string() + "/remote"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("local.bin"), std::string::npos);
  EXPECT_TRUE(same_file(d / "local.bin", d / "down.bin"));
  EXPECT_TRUE(same_file(d / "local.bin", d / "remote/moved.bin"));
  EXPECT_TRUE(same_file(d / "tree/sub/deeper/c.bin", d / "remote/tree/sub/deeper/c.bin"));
  EXPECT_TRUE(same_file(d / "tree/sub/deeper/c.bin", d / "tree2/sub/deeper/c.bin"));
  EXPECT_EQ(read_file(d / "tree2/a.txt"), "alpha\n");
  EXPECT_EQ(read_file(d / "tree2/sub/b.txt"), "beta\n");
  EXPECT_FALSE(fs::exists(d / "remote/up.bin"));
  EXPECT_FALSE(fs::exists(fs::symlink_status(d / "remote/sl")));
  EXPECT_FALSE(fs::exists(d / "remote/hard"));
  EXPECT_FALSE(fs::exists(d / "remote/empty"));
  struct stat st {};
  ASSERT_EQ(::stat((d / "remote/moved.bin").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_nlink, 1u) << "the hard link was removed again";
  // ls -l and df print what the server answered
  EXPECT_NE(r.output.find("moved.bin"), std::string::npos);
  EXPECT_NE(r.output.find("%Capacity"), std::string::npos) << r.output;
}

TEST(sftp_stdio, symlink_and_hardlink_are_created_as_asked) {
  temp_dir d{"ferry-sftp-stdio-"};
  write_file(d / "target.txt", "t");
  auto r = sftp_direct(d.path(), "symlink target.txt sl\nln target.txt hard\nln -s target.txt sl2\n");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(fs::read_symlink(d / "sl"), fs::path{"target.txt"});
  EXPECT_EQ(fs::read_symlink(d / "sl2"), fs::path{"target.txt"});
  EXPECT_EQ(fs::hard_link_count(d / "target.txt"), 2u);
  EXPECT_EQ(fs::hard_link_count(d / "hard"), 2u);
}

TEST(sftp_stdio, awkward_sizes_round_trip_byte_for_byte) {
  temp_dir d{"ferry-sftp-stdio-"};
  const std::uint64_t sizes[] = {0, 1, 32767, 32768, 32769, 1024 * 1024 + 1, 255 * 1024,
                                 255 * 1024 + 1, 3 * 255 * 1024 - 1};
  std::string batch = "mkdir up\n";
  int i = 0;
  for (auto s : sizes) {
    auto name = "f" + std::to_string(i++) + "_" + std::to_string(s);
    make_file(d / name, s, s + 7);
    batch += "put " + name + " up/" + name + "\n";
    batch += "get up/" + name + " " + name + ".back\n";
  }
  auto r = sftp_direct(d.path(), batch);
  ASSERT_EQ(r.status, 0) << r.output;
  i = 0;
  for (auto s : sizes) {
    auto name = "f" + std::to_string(i++) + "_" + std::to_string(s);
    EXPECT_TRUE(same_file(d / name, d / "up" / name)) << name;
    EXPECT_TRUE(same_file(d / name, d / (name + ".back"))) << name;
    EXPECT_EQ(fs::file_size(d / (name + ".back")), s);
  }
}

TEST(sftp_stdio, two_hundred_mib_one_transfer_each_way) {
  temp_dir d{big_temp_prefix()};
  const std::uint64_t size = 200ull * 1024 * 1024;
  make_file(d / "big", size, 99);
  auto r = sftp_direct(d.path(), "put big big.up\nget big.up big.down\n");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(same_file(d / "big", d / "big.up"));
  EXPECT_TRUE(same_file(d / "big", d / "big.down"));
}

TEST(sftp_stdio, reget_and_reput_resume_partial_files) {
  temp_dir d{"ferry-sftp-stdio-"};
  const std::uint64_t size = 2 * 1024 * 1024 + 12345;
  make_file(d / "whole", size, 5);
  // A partial download and a partial upload: the first part of the same bytes.
  {
    std::ifstream in{d / "whole", std::ios::binary};
    std::string part(size / 3, '\0');
    in.read(part.data(), static_cast<std::streamsize>(part.size()));
    write_file(d / "partial.down", part);
    write_file(d / "partial.up", part);
  }
  auto r = sftp_direct(d.path(), "reget whole partial.down\nreput whole partial.up\n");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(same_file(d / "whole", d / "partial.down"));
  EXPECT_TRUE(same_file(d / "whole", d / "partial.up"));
}

TEST(sftp_stdio, failures_are_reported_and_the_session_goes_on) {
  temp_dir d{"ferry-sftp-stdio-"};
  auto r = sftp_direct(d.path(), "-get missing.txt\n-rmdir nodir\n-rm nofile\n-cd nowhere\nmkdir ok\n");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(fs::is_directory(d / "ok"));
  EXPECT_NE(r.output.find("not found"), std::string::npos) << r.output;
  // Without the '-' a failing command ends the batch with an error.
  auto f = sftp_direct(d.path(), "rm nofile\nmkdir never\n");
  EXPECT_NE(f.status, 0);
  EXPECT_FALSE(fs::exists(d / "never"));
}

TEST(sftp_stdio, read_only_flag_refuses_changes_but_serves_reads) {
  temp_dir d{"ferry-sftp-stdio-"};
  write_file(d / "keep.txt", "keep");
  auto r = sftp_direct(d.path(), "get keep.txt copy.txt\n-put keep.txt new.txt\n-mkdir dir\n-rm keep.txt\n", "-R");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(read_file(d / "copy.txt"), "keep");
  EXPECT_FALSE(fs::exists(d / "new.txt"));
  EXPECT_FALSE(fs::exists(d / "dir"));
  EXPECT_TRUE(fs::exists(d / "keep.txt"));
  EXPECT_NE(r.output.find("ermission denied"), std::string::npos) << r.output;
}

TEST(sftp_stdio, deny_and_allow_lists) {
  temp_dir d{"ferry-sftp-stdio-"};
  write_file(d / "x.txt", "x");
  auto r = sftp_direct(d.path(), "-rm x.txt\nmkdir made\n", "-P remove,rmdir");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(fs::exists(d / "x.txt"));
  EXPECT_TRUE(fs::exists(d / "made"));
  auto a = sftp_direct(d.path(), "-mkdir not-allowed\n",
                       "-p open,close,read,write,stat,lstat,fstat,realpath,opendir,readdir,limits");
  ASSERT_EQ(a.status, 0) << a.output;
  EXPECT_FALSE(fs::exists(d / "not-allowed"));
}

TEST(sftp_stdio, umask_and_start_directory_flags) {
  temp_dir d{"ferry-sftp-stdio-"};
  fs::create_directories(d / "start");
  write_file(d / "src.txt", "s");
  fs::permissions(d / "src.txt", fs::perms(0666));
  auto r = sftp_direct(d.path(), "pwd\nput src.txt put.txt\nmkdir newdir\n",
                       "-u 077 -d " + (d / "start").string());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("Remote working directory: " + (d / "start").string()), std::string::npos)
      << r.output;
  struct stat st {};
  ASSERT_EQ(::stat((d / "start/put.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((d / "start/newdir").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST(sftp_stdio, query_and_usage_match_openssh) {
  temp_dir d{"ferry-sftp-stdio-"};
  auto ours = run_shell(d.path(), quote(server_program()) + " -Q requests");
  auto theirs = run_shell(d.path(), "/usr/lib/openssh/sftp-server -Q requests");
  EXPECT_EQ(ours.status, 0);
  EXPECT_EQ(ours.output, theirs.output);
  auto h = run_shell(d.path(), quote(server_program()) + " -h 2>&1");
  EXPECT_EQ(h.status, 1);
  EXPECT_NE(h.output.find("usage:"), std::string::npos);
  auto bad = run_shell(d.path(), quote(server_program()) + " -u 999 2>&1 </dev/null");
  EXPECT_NE(bad.status, 0);
  auto lvl = run_shell(d.path(), quote(server_program()) + " -l NOISY 2>&1 </dev/null");
  EXPECT_NE(lvl.status, 0);
}

TEST(sftp_stdio, logs_requests_to_stderr_at_verbose) {
  temp_dir d{"ferry-sftp-stdio-"};
  write_file(d / "f.txt", "f");
  temp_dir logs{"ferry-sftp-log-"};
  auto log = (logs / "server.log").string();
  // The server's stderr goes to a file of its own (sftp -D passes it through).
  auto r = run_shell(d.path(), "printf 'get f.txt g.txt\\n' > batch && sftp -b batch -D " +
                                   quote(server_program() + " -e -l VERBOSE") + " 2>" + quote(log));
  ASSERT_EQ(r.status, 0) << r.output << read_file(log);
  auto text = read_file(log);
  EXPECT_NE(text.find("open \"" + d.path().string() + "/f.txt\" flags READ"), std::string::npos)
      << text;
}
