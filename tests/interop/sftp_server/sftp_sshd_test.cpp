// ferry-sftp-server as the `Subsystem sftp` of a real sshd, driven by OpenSSH's sftp client over
// SSH: the commands of a session, transfers compared byte for byte, and the subsystem's flags
// (-R, -d) taken from sshd_config.
#include "sftp_fixture.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

using namespace ferry::sftp_interop;

TEST(sftp_sshd, subsystem_serves_a_whole_session) {
  sshd_with_ferry_sftp sshd;
  temp_dir d{"ferry-sftp-sshd-data-"};
  const std::uint64_t sizes[] = {0, 1, 32767, 32768, 32769, 1024 * 1024 + 1, 5 * 1024 * 1024 + 3};
  std::string batch = "cd " + d.path().string() + "\nmkdir remote\ncd remote\n";
  int i = 0;
  for (auto s : sizes) {
    auto name = "f" + std::to_string(i++);
    make_file(d / name, s, s + 11);
    batch += "put " + name + "\nget " + name + " " + name + ".back\n";
  }
  fs::create_directories(d / "tree/sub");
  write_file(d / "tree/sub/x.txt", "x");
  batch += "put -r tree\nget -r tree tree2\nrename f1 renamed\nsymlink renamed sl\nln renamed hard\n"
           "chmod 640 renamed\nls -l\ndf\nrm hard\nmkdir gone\nrmdir gone\npwd\n";
  auto r = sshd.sftp(d.path(), batch);
  ASSERT_EQ(r.status, 0) << r.output << sshd.log();
  for (i = 0; i < int(std::size(sizes)); ++i) {
    auto name = "f" + std::to_string(i);
    auto remote = d / "remote" / (name == "f1" ? std::string{"renamed"} : name);
    EXPECT_TRUE(same_file(d / name, remote)) << name;
    EXPECT_TRUE(same_file(d / name, d / (name + ".back"))) << name;
  }
  EXPECT_EQ(read_file(d / "tree2/sub/x.txt"), "x");
  EXPECT_EQ(fs::read_symlink(d / "remote/sl"), fs::path{"renamed"});
  EXPECT_FALSE(fs::exists(d / "remote/hard"));
  EXPECT_FALSE(fs::exists(d / "remote/gone"));
  struct stat st {};
  ASSERT_EQ(::stat((d / "remote/renamed").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_NE(r.output.find("Remote working directory: " + (d / "remote").string()),
            std::string::npos)
      << r.output;
}

TEST(sftp_sshd, subsystem_flags_from_sshd_config) {
  temp_dir d{"ferry-sftp-sshd-data-"};
  write_file(d / "keep.txt", "kept");
  sshd_with_ferry_sftp sshd{"-R -d " + d.path().string()};
  auto r = sshd.sftp(d.path(), "pwd\nget keep.txt copy.txt\n-put keep.txt new.txt\n-rm keep.txt\n");
  ASSERT_EQ(r.status, 0) << r.output << sshd.log();
  EXPECT_NE(r.output.find("Remote working directory: " + d.path().string()), std::string::npos)
      << r.output;
  EXPECT_EQ(read_file(d / "copy.txt"), "kept");
  EXPECT_FALSE(fs::exists(d / "new.txt"));
  EXPECT_TRUE(fs::exists(d / "keep.txt"));
}
