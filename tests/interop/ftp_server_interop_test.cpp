// Real FTP clients against ferry's ftp::server (local backend on a temp dir, 127.0.0.1, a free
// port): curl (plain, explicit and implicit FTPS, upload, resume, active mode, listings, -Q
// commands), lftp (mirror both ways over explicit TLS) and Python's ftplib (plain, and FTP_TLS,
// which cannot resume TLS sessions, so only with the reuse requirement off). Every file is
// compared byte for byte. Clients run under timeout(1), so none outlives its test.
#include "../integration/ftp_server_harness.hpp"
#include "ftp_servers.hpp"

#include <ferry/test/random.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

namespace ftp_server_interop_test {
using namespace ferry;
namespace interop = ferry::test::interop;
namespace ftpd = ferry::test::ftpd;
namespace stdfs = std::filesystem;

namespace {

using ftpd::payload;

struct served {
  interop::temp_dir dir{"ferry-ftpd"};
  stdfs::path root = dir.path() / "root";
  stdfs::path local = dir.path() / "local";
  std::unique_ptr<ftpd::running_server<fs::local_filesystem>> srv;

  explicit served(ftp::server_options o = ftpd::fast_options(), bool tls = true) {
    stdfs::create_directories(root);
    stdfs::create_directories(local);
    auto r = root.string();
    srv = std::make_unique<ftpd::running_server<fs::local_filesystem>>(
        [r](boost::asio::any_io_executor ex) {
          error_code ec;
          return fs::make_local_filesystem(ex, r, {}, ec);
        },
        std::move(o), tls);
  }
  std::string url(const std::string& path = "/") const {
    return "ftp://127.0.0.1:" + std::to_string(srv->port()) + path;
  }
  std::string implicit_url(const std::string& path = "/") const {
    return "ftps://127.0.0.1:" + std::to_string(srv->implicit_port()) + path;
  }
};

// Runs a shell command (bounded by timeout(1)); returns its exit status and output.
int sh(const std::string& cmd, std::string* out = nullptr, int seconds = 30) {
  interop::temp_dir tmp{"ferry-sh"};
  auto log = tmp.path() / "out";
  auto full = "timeout " + std::to_string(seconds) + " " + cmd + " < /dev/null > " +
              interop::shell_quote(log.string()) + " 2>&1";
  int rc = std::system(full.c_str());
  if (out) *out = interop::read_file(log);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

std::string q(const stdfs::path& p) { return interop::shell_quote(p.string()); }

TEST(ftp_server_curl, plain_download_upload_resume_listing_and_quote_commands) {
  served s;
  auto a = payload(3 * 1024 * 1024 + 11, 1);
  interop::write_file(s.root / "a.bin", a);
  std::string out;
  ASSERT_EQ(sh("curl -sS -u user:secret " + s.url("/a.bin") + " -o " + q(s.local / "a.bin"), &out), 0) << out;
  EXPECT_TRUE(interop::read_file(s.local / "a.bin") == a);

  auto b = payload(2 * 1024 * 1024 + 3, 2);
  interop::write_file(s.local / "b.bin", b);
  ASSERT_EQ(sh("curl -sS -u user:secret -T " + q(s.local / "b.bin") + " " + s.url("/b.bin"), &out), 0) << out;
  EXPECT_TRUE(interop::read_file(s.root / "b.bin") == b);

  // Resume a download (REST) and an upload (SIZE + APPE).
  interop::write_file(s.local / "part.bin", a.substr(0, 1000000));
  ASSERT_EQ(sh("curl -sS -u user:secret -C - " + s.url("/a.bin") + " -o " + q(s.local / "part.bin"), &out), 0) << out;
  EXPECT_TRUE(interop::read_file(s.local / "part.bin") == a);
  interop::write_file(s.root / "c.bin", b.substr(0, 700000));
  ASSERT_EQ(sh("curl -sS -u user:secret -C - -T " + q(s.local / "b.bin") + " " + s.url("/c.bin"), &out), 0) << out;
  EXPECT_TRUE(interop::read_file(s.root / "c.bin") == b);

  ASSERT_EQ(sh("curl -sS -u user:secret " + s.url("/"), &out), 0) << out;
  EXPECT_NE(out.find("a.bin"), std::string::npos);
  EXPECT_NE(out.find(std::to_string(a.size())), std::string::npos);
  ASSERT_EQ(sh("curl -sS -u user:secret --list-only " + s.url("/"), &out), 0) << out;
  EXPECT_NE(out.find("b.bin"), std::string::npos);

  ASSERT_EQ(sh("curl -sS -u user:secret -Q 'MKD sub' -Q 'RNFR b.bin' -Q 'RNTO sub/moved.bin' -Q "
               "'-DELE /c.bin' " + s.url("/sub/"), &out), 0) << out;
  EXPECT_NE(out.find("moved.bin"), std::string::npos);
  EXPECT_TRUE(interop::read_file(s.root / "sub" / "moved.bin") == b);
  EXPECT_FALSE(stdfs::exists(s.root / "c.bin"));
  // A failing quote command makes curl fail (550 for a missing file).
  EXPECT_NE(sh("curl -sS -u user:secret -Q 'DELE nothing' " + s.url("/"), &out), 0);
}

TEST(ftp_server_curl, active_mode_download_and_upload) {
  served s;
  auto a = payload(1500000, 3);
  interop::write_file(s.root / "a.bin", a);
  std::string out;
  ASSERT_EQ(sh("curl -sS -u user:secret --ftp-port 127.0.0.1 " + s.url("/a.bin") + " -o " + q(s.local / "a.bin"), &out), 0) << out;
  EXPECT_TRUE(interop::read_file(s.local / "a.bin") == a);
  ASSERT_EQ(sh("curl -sS -u user:secret --ftp-port 127.0.0.1 -T " + q(s.local / "a.bin") + " " + s.url("/up.bin"), &out), 0) << out;
  EXPECT_TRUE(interop::read_file(s.root / "up.bin") == a);
}

TEST(ftp_server_curl, explicit_ftps_with_session_reuse_required) {
  served s;
  auto a = payload(2 * 1024 * 1024 + 1, 4);
  interop::write_file(s.root / "a.bin", a);
  std::string out;
  ASSERT_EQ(sh("curl -sS --ssl-reqd -k -u user:secret " + s.url("/a.bin") + " -o " + q(s.local / "a.bin"), &out), 0) << out;
  EXPECT_TRUE(interop::read_file(s.local / "a.bin") == a);
  ASSERT_EQ(sh("curl -sS --ssl-reqd -k -u user:secret -T " + q(s.local / "a.bin") + " " + s.url("/up.bin"), &out), 0) << out;
  EXPECT_TRUE(interop::read_file(s.root / "up.bin") == a);
  ASSERT_EQ(sh("curl -sS --ssl-reqd -k -u user:secret " + s.url("/"), &out), 0) << out;
  EXPECT_NE(out.find("up.bin"), std::string::npos);
  // Forced TLS 1.2 (session IDs) as well as the default TLS 1.3 (tickets).
  ASSERT_EQ(sh("curl -sS --ssl-reqd -k --tls-max 1.2 -u user:secret " + s.url("/a.bin") + " -o " + q(s.local / "a12.bin"), &out), 0) << out;
  EXPECT_TRUE(interop::read_file(s.local / "a12.bin") == a);
}

TEST(ftp_server_curl, implicit_ftps) {
  served s;
  auto a = payload(1024 * 1024 + 7, 5);
  interop::write_file(s.root / "a.bin", a);
  std::string out;
  ASSERT_EQ(sh("curl -sS -k -u user:secret " + s.implicit_url("/a.bin") + " -o " + q(s.local / "a.bin"), &out), 0) << out;
  EXPECT_TRUE(interop::read_file(s.local / "a.bin") == a);
  ASSERT_EQ(sh("curl -sS -k -u user:secret -T " + q(s.local / "a.bin") + " " + s.implicit_url("/up.bin"), &out), 0) << out;
  EXPECT_TRUE(interop::read_file(s.root / "up.bin") == a);
}

TEST(ftp_server_curl, login_requires_tls_when_configured) {
  auto o = ftpd::fast_options();
  o.require_tls_login = true;
  o.require_tls_data = true;
  served s{o};
  interop::write_file(s.root / "a.bin", "x");
  std::string out;
  EXPECT_NE(sh("curl -sS -u user:secret " + s.url("/a.bin"), &out), 0);
  EXPECT_EQ(sh("curl -sS --ssl-reqd -k -u user:secret " + s.url("/a.bin"), &out), 0) << out;
  EXPECT_EQ(out, "x");
}

// A tree of files and directories on disk, with a few sizes.
void make_tree(const stdfs::path& base) {
  stdfs::create_directories(base / "sub" / "deeper");
  interop::write_file(base / "top.bin", payload(1200000, 10));
  interop::write_file(base / "empty", "");
  interop::write_file(base / "sub" / "one.txt", "one\ntwo\n");
  interop::write_file(base / "sub" / "deeper" / "two.bin", payload(300000, 11));
  interop::write_file(base / "sub" / "name with spaces", payload(1000, 12));
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

TEST(ftp_server_lftp, mirror_both_ways_over_explicit_tls) {
  served s;
  make_tree(s.local / "up");
  std::string common = "set ssl:verify-certificate no; set ftp:ssl-force true; set "
                       "ftp:ssl-protect-data true; set net:max-retries 1; set net:timeout 10; "
                       "open -u user,secret -p " + std::to_string(s.srv->port()) + " 127.0.0.1; ";
  std::string out;
  ASSERT_EQ(sh("lftp -c " + interop::shell_quote(common + "mirror -R " + (s.local / "up").string() + " /tree"), &out), 0) << out;
  expect_same_tree(s.local / "up", s.root / "tree");
  ASSERT_EQ(sh("lftp -c " + interop::shell_quote(common + "mirror /tree " + (s.local / "down").string()), &out), 0) << out;
  expect_same_tree(s.root / "tree", s.local / "down");
  bool refused = false;
  for (auto& e : s.srv->log.snapshot()) refused |= e.what == ftp::server_event::kind::refusal;
  EXPECT_FALSE(refused) << "lftp's data connections must all have resumed the TLS session";
}

// Python's ftplib: plain FTP, and FTP_TLS (which does not resume TLS sessions).
const char* python_client = R"PY(
import ftplib, io, sys, ssl
port, mode, name = int(sys.argv[1]), sys.argv[2], sys.argv[3]
data = open(sys.argv[4], 'rb').read()
if mode == 'tls':
    ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
    f = ftplib.FTP_TLS(context=ctx)
else:
    f = ftplib.FTP()
f.connect('127.0.0.1', port, timeout=10)
if mode == 'tls':
    f.auth()
f.login('user', 'secret')
if mode == 'tls':
    f.prot_p()
f.storbinary('STOR ' + name, io.BytesIO(data))
out = io.BytesIO()
f.retrbinary('RETR ' + name, out.write)
assert out.getvalue() == data, 'download differs'
assert name in f.nlst(), 'NLST'
facts = dict(f.mlsd())
assert int(facts[name]['size']) == len(data), 'MLSD size'
assert f.size(name) == len(data), 'SIZE'
lines = []
f.retrlines('LIST', lines.append)
assert any(name in l for l in lines), 'LIST'
f.mkd('pydir'); f.cwd('pydir'); assert f.pwd() == '/pydir'; f.cwd('..'); f.rmd('pydir')
f.rename(name, name + '.renamed'); f.delete(name + '.renamed')
f.quit()
print('ok')
)PY";

TEST(ftp_server_python, ftplib_plain_and_ftp_tls_without_reuse_requirement) {
  auto o = ftpd::fast_options();
  o.require_session_reuse = false;
  served s{o};
  auto script = s.dir.path() / "client.py";
  interop::write_file(script, python_client);
  interop::write_file(s.local / "p.bin", payload(1500000, 20));
  std::string out;
  ASSERT_EQ(sh("python3 " + q(script) + " " + std::to_string(s.srv->port()) + " plain p.bin " + q(s.local / "p.bin"), &out), 0) << out;
  EXPECT_EQ(out, "ok\n");
  ASSERT_EQ(sh("python3 " + q(script) + " " + std::to_string(s.srv->port()) + " tls t.bin " + q(s.local / "p.bin"), &out), 0) << out;
  EXPECT_EQ(out, "ok\n");
}

TEST(ftp_server_python, ftp_tls_that_cannot_resume_is_refused_when_reuse_is_required) {
  served s;  // require_session_reuse on (the default)
  auto script = s.dir.path() / "client.py";
  interop::write_file(script, python_client);
  interop::write_file(s.local / "p.bin", "abc");
  std::string out;
  EXPECT_NE(sh("python3 " + q(script) + " " + std::to_string(s.srv->port()) + " tls t.bin " + q(s.local / "p.bin"), &out), 0);
  // The data connection is closed right after its handshake (ftplib sees a broken pipe or the
  // 425), nothing is stored, and the refusal is logged.
  EXPECT_FALSE(stdfs::exists(s.root / "t.bin") && stdfs::file_size(s.root / "t.bin") > 0);
  bool refused = false;
  for (auto& e : s.srv->log.snapshot())
    refused |= e.what == ftp::server_event::kind::refusal && e.detail.find("resume") != std::string::npos;
  EXPECT_TRUE(refused) << out;
}

}  // namespace

}  // namespace ftp_server_interop_test
