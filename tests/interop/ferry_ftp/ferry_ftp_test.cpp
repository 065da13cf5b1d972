// The ferry-ftp program against real servers: vsftpd (anonymous, plain and explicit TLS with
// require_ssl_reuse=YES, certificate checked with --cacert) and ferry's own ftp::server (plain,
// explicit AUTH TLS, implicit ftps://): get, put, ls, -C resume both ways, mirror and mirror -R,
// anonymous login, FERRY_PASSWORD, and failures as one line with a non-zero exit status. Every
// file is compared byte for byte. The program runs under timeout(1), so none outlives its test.
//
// The program is found next to the test: <build>/examples/ferry-ftp, or $FERRY_FTP.
#include "../../integration/ftp_server_harness.hpp"
#include "../ftp_servers.hpp"
#include "support/programs.hpp"

#include <ferry/test/random.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <vector>

using namespace ferry;
namespace interop = ferry::test::interop;
namespace ftpd = ferry::test::ftpd;
namespace stdfs = std::filesystem;

namespace {

std::string program() { return ferry_test_support::built_program("ferry-ftp", "FERRY_FTP"); }

using ftpd::payload;

std::string q(const std::string& s) { return interop::shell_quote(s); }
std::string q(const stdfs::path& p) { return interop::shell_quote(p.string()); }

struct run_result {
  int status = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs ferry-ftp with args (already quoted) and optional environment assignments.
run_result ferry_ftp(const std::string& args, const std::string& env = {}, int seconds = 60) {
  interop::temp_dir tmp{"ferry-ftp-run"};
  auto out = tmp.path() / "out", err = tmp.path() / "err";
  auto cmd = "env " + env + " timeout " + std::to_string(seconds) + " " + q(program()) + " " + args +
             " < /dev/null > " + q(out) + " 2> " + q(err);
  int rc = std::system(cmd.c_str());
  run_result r;
  r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  r.out = interop::read_file(out);
  r.err = interop::read_file(err);
  return r;
}

std::size_t lines(const std::string& s) { return std::size_t(std::count(s.begin(), s.end(), '\n')); }

// A small tree: nested directories, an empty file, an empty directory, a 1 MiB file.
void make_tree(const stdfs::path& root) {
  stdfs::create_directories(root / "a" / "b");
  stdfs::create_directories(root / "empty");
  interop::write_file(root / "top.txt", "top\n");
  interop::write_file(root / "zero", "");
  interop::write_file(root / "a" / "mid.bin", payload(1024 * 1024 + 3, 7));
  interop::write_file(root / "a" / "b" / "deep.txt", "deep\r\nlines\n");
}

void expect_same_tree(const stdfs::path& a, const stdfs::path& b) {
  std::vector<std::string> fa, fb;
  for (auto& e : stdfs::recursive_directory_iterator(a)) fa.push_back(stdfs::relative(e.path(), a).string());
  for (auto& e : stdfs::recursive_directory_iterator(b)) fb.push_back(stdfs::relative(e.path(), b).string());
  std::sort(fa.begin(), fa.end());
  std::sort(fb.begin(), fb.end());
  EXPECT_EQ(fa, fb);
  for (auto& f : fa) {
    if (stdfs::is_regular_file(a / f)) {
      EXPECT_TRUE(interop::read_file(a / f) == interop::read_file(b / f)) << f;
    }
  }
}

// --- against vsftpd ---------------------------------------------------------------------------

struct vsftpd_case {
  std::unique_ptr<interop::ftp_server> srv;
  interop::temp_dir local{"ferry-ftp-local"};
  std::string flags;  // TLS flags for ferry-ftp

  explicit vsftpd_case(bool tls) {
    srv = interop::start_vsftpd(tls ? interop::vsftpd_tls::explicit_tls : interop::vsftpd_tls::none);
    if (tls) flags = "--tls --cacert " + q(srv->dir.path() / "cert.pem") + " ";
  }
  // vsftpd's fixture is anonymous-only: the user is in the URL, the password is not needed.
  std::string url(const std::string& path, bool with_user = true) const {
    return std::string{"ftp://"} + (with_user ? "anonymous@" : "") + "127.0.0.1:" +
           std::to_string(srv->port) + path;
  }
};

void get_put_ls_against_vsftpd(bool tls) {
  vsftpd_case c{tls};
  auto data = payload(3 * 1024 * 1024 + 17, 1);
  interop::write_file(c.local.path() / "up.bin", data);
  auto r = ferry_ftp(c.flags + "-q put " + q(c.local.path() / "up.bin") + " " + q(c.url("/pub/")));
  ASSERT_EQ(r.status, 0) << r.err << c.srv->log();
  EXPECT_EQ(r.err, "");
  EXPECT_TRUE(interop::read_file(c.srv->writable / "up.bin") == data);

  // No user at all is anonymous too.
  r = ferry_ftp(c.flags + "-q get " + q(c.url("/pub/up.bin", false)) + " " + q(c.local.path() / "down.bin"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(interop::read_file(c.local.path() / "down.bin") == data);

  r = ferry_ftp(c.flags + "ls " + q(c.url("/pub")));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find(std::to_string(data.size()) + " "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" up.bin\n"), std::string::npos) << r.out;
}

TEST(ferry_ftp_vsftpd, anonymous_get_put_ls_plain) { get_put_ls_against_vsftpd(false); }
TEST(ferry_ftp_vsftpd, anonymous_get_put_ls_explicit_tls_with_session_reuse_required) {
  get_put_ls_against_vsftpd(true);
}

void resume_against_vsftpd(bool tls) {
  vsftpd_case c{tls};
  auto data = payload(2 * 1024 * 1024 + 5, 2);
  // put -C: the server holds a partial file whose first bytes differ from ours, so the result
  // proves that only the rest was sent (REST + STOR), not the whole file again.
  std::string marker(300000, 'M');
  interop::write_file(c.srv->writable / "r.bin", marker);
  stdfs::permissions(c.srv->writable / "r.bin", stdfs::perms::all);  // vsftpd runs as "ftp"
  interop::write_file(c.local.path() / "r.bin", data);
  auto r = ferry_ftp(c.flags + "-q -C put " + q(c.local.path() / "r.bin") + " " + q(c.url("/pub/r.bin")));
  ASSERT_EQ(r.status, 0) << r.err << c.srv->log();
  EXPECT_TRUE(interop::read_file(c.srv->writable / "r.bin") == marker + data.substr(marker.size()));

  // get -C the same way round.
  interop::write_file(c.srv->writable / "g.bin", data);
  stdfs::permissions(c.srv->writable / "g.bin", stdfs::perms::all);
  std::string local_marker(123457, 'L');
  interop::write_file(c.local.path() / "g.bin", local_marker);
  r = ferry_ftp(c.flags + "-q -C get " + q(c.url("/pub/g.bin")) + " " + q(c.local.path()));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(interop::read_file(c.local.path() / "g.bin") == local_marker + data.substr(local_marker.size()));
  // Complete already: nothing to do, still success.
  r = ferry_ftp(c.flags + "-q -C get " + q(c.url("/pub/g.bin")) + " " + q(c.local.path()));
  ASSERT_EQ(r.status, 0) << r.err;
}

TEST(ferry_ftp_vsftpd, resume_both_ways_plain) { resume_against_vsftpd(false); }
TEST(ferry_ftp_vsftpd, resume_both_ways_explicit_tls) { resume_against_vsftpd(true); }

void mirror_against_vsftpd(bool tls) {
  vsftpd_case c{tls};
  make_tree(c.local.path() / "tree");
  auto r = ferry_ftp(c.flags + "-q mirror -R " + q(c.local.path() / "tree") + " " + q(c.url("/pub/tree")));
  ASSERT_EQ(r.status, 0) << r.err << c.srv->log();
  expect_same_tree(c.local.path() / "tree", c.srv->writable / "tree");
  r = ferry_ftp(c.flags + "-q mirror " + q(c.url("/pub/tree")) + " " + q(c.local.path() / "back"));
  ASSERT_EQ(r.status, 0) << r.err;
  expect_same_tree(c.local.path() / "tree", c.local.path() / "back");
  // Mirroring up again onto the existing tree works (the directories are already there).
  r = ferry_ftp(c.flags + "-q mirror -R " + q(c.local.path() / "tree") + " " + q(c.url("/pub/tree")));
  ASSERT_EQ(r.status, 0) << r.err;
}

TEST(ferry_ftp_vsftpd, mirror_both_ways_plain) { mirror_against_vsftpd(false); }
TEST(ferry_ftp_vsftpd, mirror_both_ways_explicit_tls) { mirror_against_vsftpd(true); }

TEST(ferry_ftp_vsftpd, certificate_not_trusted_is_one_line_and_non_zero) {
  vsftpd_case c{true};
  // The system CAs do not know the fixture's self-signed certificate.
  auto r = ferry_ftp("--tls ls " + q(c.url("/pub")));
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  EXPECT_EQ(r.err.rfind("ferry-ftp: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("certificate verify failed"), std::string::npos) << r.err;
  // --insecure skips the check.
  r = ferry_ftp("--tls --insecure ls " + q(c.url("/pub")));
  EXPECT_EQ(r.status, 0) << r.err;
}

TEST(ferry_ftp_vsftpd, missing_remote_file_is_one_line_with_the_reply) {
  vsftpd_case c{false};
  auto r = ferry_ftp("-q get " + q(c.url("/pub/nothing.bin")) + " " + q(c.local.path() / "x"));
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("ferry-ftp: get pub/nothing.bin: 550 "), std::string::npos) << r.err;
}

// --- against ferry's own server -----------------------------------------------------------------

enum class ferry_mode { plain, explicit_tls, implicit_tls };

struct ferry_case {
  interop::temp_dir dir{"ferry-ftp-srv"};
  stdfs::path root = dir.path() / "root";
  stdfs::path local = dir.path() / "local";
  std::unique_ptr<ftpd::running_server<fs::local_filesystem>> srv;
  ferry_mode mode;
  std::string flags;

  explicit ferry_case(ferry_mode m) : mode(m) {
    stdfs::create_directories(root);
    stdfs::create_directories(local);
    auto r = root.string();
    srv = std::make_unique<ftpd::running_server<fs::local_filesystem>>(
        [r](boost::asio::any_io_executor ex) {
          error_code ec;
          return fs::make_local_filesystem(ex, r, {}, ec);
        },
        ftpd::fast_options(), true);
    if (m == ferry_mode::explicit_tls) flags = "--tls --insecure ";
    if (m == ferry_mode::implicit_tls) flags = "--insecure ";
  }
  std::string url(const std::string& path, const std::string& userinfo = "user:secret@") const {
    if (mode == ferry_mode::implicit_tls)
      return "ftps://" + userinfo + "127.0.0.1:" + std::to_string(srv->implicit_port()) + path;
    return "ftp://" + userinfo + "127.0.0.1:" + std::to_string(srv->port()) + path;
  }
};

class ferry_ftp_ferry_server : public ::testing::TestWithParam<ferry_mode> {};

TEST_P(ferry_ftp_ferry_server, get_put_ls_with_password_from_the_environment) {
  ferry_case c{GetParam()};
  auto data = payload(5 * 1024 * 1024 + 1, 3);
  interop::write_file(c.local / "up.bin", data);
  auto r = ferry_ftp(c.flags + "-q put " + q(c.local / "up.bin") + " " + q(c.url("/", "user@")),
                     "FERRY_PASSWORD=secret");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(interop::read_file(c.root / "up.bin") == data);
  r = ferry_ftp(c.flags + "-q get " + q(c.url("/up.bin")) + " " + q(c.local / "down.bin"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(interop::read_file(c.local / "down.bin") == data);
  r = ferry_ftp(c.flags + "ls " + q(c.url("/")));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find(std::to_string(data.size()) + " "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" up.bin\n"), std::string::npos) << r.out;
  // The password in the URL wins over FERRY_PASSWORD.
  r = ferry_ftp(c.flags + "ls " + q(c.url("/")), "FERRY_PASSWORD=wrong");
  EXPECT_EQ(r.status, 0) << r.err;
}

TEST_P(ferry_ftp_ferry_server, progress_line_is_drawn_when_asked_and_silenced_by_q) {
  ferry_case c{GetParam()};
  interop::write_file(c.root / "p.bin", payload(1024 * 1024, 4));
  auto r = ferry_ftp(c.flags + "--progress get " + q(c.url("/p.bin")) + " " + q(c.local));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("p.bin"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("100% 1024KB"), std::string::npos) << r.err;
  r = ferry_ftp(c.flags + "--progress -q get " + q(c.url("/p.bin")) + " " + q(c.local));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "");
  // Not a TTY and not asked: nothing either.
  r = ferry_ftp(c.flags + "get " + q(c.url("/p.bin")) + " " + q(c.local));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "");
}

TEST_P(ferry_ftp_ferry_server, resume_both_ways) {
  ferry_case c{GetParam()};
  auto data = payload(3 * 1024 * 1024 + 9, 5);
  std::string marker(700001, 'M');
  interop::write_file(c.root / "r.bin", marker);
  interop::write_file(c.local / "r.bin", data);
  auto r = ferry_ftp(c.flags + "-q -C put " + q(c.local / "r.bin") + " " + q(c.url("/r.bin")));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(interop::read_file(c.root / "r.bin") == marker + data.substr(marker.size()));

  interop::write_file(c.root / "g.bin", data);
  std::string local_marker(65537, 'L');
  interop::write_file(c.local / "g.bin", local_marker);
  r = ferry_ftp(c.flags + "-q -C get " + q(c.url("/g.bin")) + " " + q(c.local / "g.bin"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(interop::read_file(c.local / "g.bin") == local_marker + data.substr(local_marker.size()));
  // Without -C the file is downloaded whole again.
  r = ferry_ftp(c.flags + "-q get " + q(c.url("/g.bin")) + " " + q(c.local / "g.bin"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(interop::read_file(c.local / "g.bin") == data);
}

TEST_P(ferry_ftp_ferry_server, mirror_both_ways) {
  ferry_case c{GetParam()};
  make_tree(c.local / "tree");
  auto r = ferry_ftp(c.flags + "-q mirror -R " + q(c.local / "tree") + " " + q(c.url("/t")));
  ASSERT_EQ(r.status, 0) << r.err;
  expect_same_tree(c.local / "tree", c.root / "t");
  r = ferry_ftp(c.flags + "-q mirror " + q(c.url("/t")) + " " + q(c.local / "back"));
  ASSERT_EQ(r.status, 0) << r.err;
  expect_same_tree(c.local / "tree", c.local / "back");
}

TEST_P(ferry_ftp_ferry_server, wrong_password_is_one_clear_line_and_exit_1) {
  ferry_case c{GetParam()};
  auto r = ferry_ftp(c.flags + "ls " + q(c.url("/", "user:nope@")));
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  EXPECT_EQ(r.err.rfind("ferry-ftp: login as user: 530 ", 0), 0u) << r.err;
  EXPECT_EQ(r.out, "");
  // No password anywhere for a named user: refused before connecting anywhere.
  r = ferry_ftp(c.flags + "ls " + q(c.url("/", "user@")));
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("FERRY_PASSWORD"), std::string::npos) << r.err;
}

INSTANTIATE_TEST_SUITE_P(modes, ferry_ftp_ferry_server,
                         ::testing::Values(ferry_mode::plain, ferry_mode::explicit_tls,
                                           ferry_mode::implicit_tls),
                         [](const auto& p) {
                           switch (p.param) {
                             case ferry_mode::plain: return std::string{"plain"};
                             case ferry_mode::explicit_tls: return std::string{"explicit_tls"};
                             case ferry_mode::implicit_tls: return std::string{"implicit_tls"};
                           }
                           return std::string{"unknown"};
                         });

TEST(ferry_ftp_usage, bad_urls_and_arguments) {
  auto r = ferry_ftp("ls " + q(std::string{"ftp://h/x%0d%0aDELE%20y"}));
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("bad URL"), std::string::npos) << r.err;
  r = ferry_ftp("frobnicate x");
  EXPECT_EQ(r.status, 2);
  r = ferry_ftp("--insecure --cacert x ls ftp://h/");
  EXPECT_EQ(r.status, 2);
}

TEST(ferry_ftp_usage, active_mode_against_ferry_server) {
  ferry_case c{ferry_mode::plain};
  auto data = payload(1024 * 1024 + 77, 6);
  interop::write_file(c.local / "a.bin", data);
  auto r = ferry_ftp("-q --active put " + q(c.local / "a.bin") + " " + q(c.url("/a.bin")));
  ASSERT_EQ(r.status, 0) << r.err;
  r = ferry_ftp("-q --active get " + q(c.url("/a.bin")) + " " + q(c.local / "b.bin"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(interop::read_file(c.local / "b.bin") == data);
}

}  // namespace
