// Real FTP servers for interop tests: vsftpd (plain, explicit and implicit FTPS with
// require_ssl_reuse) and Python's pyftpdlib, each on 127.0.0.1 with a free port and a private
// config in a temp dir (see INTEROP.md). Every process is started in its own process group and
// stopped by that id when its guard goes out of scope, also when an assertion fails.
#pragma once

#include "support/process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace ferry::test::interop {

namespace fs = std::filesystem;

using ferry_test_support::free_port;
using ferry_test_support::process;
using ferry_test_support::read_file;
using ferry_test_support::temp_dir;
using ferry_test_support::write_file;

// Waits until something accepts connections on 127.0.0.1:port (or [::1]:port).
inline bool wait_for_port(std::uint16_t port, process& p, bool ipv6 = false,
                          std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (!p.running()) return false;
    bool ok = false;
    if (ipv6) {
      int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
      sockaddr_in6 a{};
      a.sin6_family = AF_INET6;
      a.sin6_addr = in6addr_loopback;
      a.sin6_port = htons(port);
      ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
      ::close(fd);
    } else {
      int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      a.sin_port = htons(port);
      ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
      ::close(fd);
    }
    if (ok) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

inline std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'')
      q += "'\\''";
    else
      q += c;
  }
  return q + "'";
}

// A self-signed certificate and key (P-256: quick to generate) made with the openssl command.
inline void make_certificate(const fs::path& cert, const fs::path& key) {
  auto cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
             "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost "
             "-keyout " +
             shell_quote(key.string()) + " -out " + shell_quote(cert.string()) +
             " >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("openssl req failed");
}

struct ftp_server {
  temp_dir dir;
  fs::path root;            // what the server shows as "/"
  fs::path writable;        // a directory the test user may write to
  std::string remote_dir;   // the same directory as an FTP path
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::string user;
  std::string password;
  std::optional<process> proc;  // last member: stopped first

  std::string log() const { return read_file(dir.path() / "server.log"); }
};

enum class vsftpd_tls { none, explicit_tls, implicit_tls };

// vsftpd with anonymous access to root/ and a writable root/pub/ (INTEROP.md). With TLS:
// require_ssl_reuse=YES, so every data connection must resume the control session.
inline std::unique_ptr<ftp_server> start_vsftpd(vsftpd_tls tls = vsftpd_tls::none,
                                                bool ipv6 = false) {
  auto s = std::make_unique<ftp_server>();
  if (ipv6) s->host = "::1";
  auto base = s->dir.path();
  s->root = base / "root";
  s->writable = s->root / "pub";
  s->remote_dir = "/pub";
  s->user = "anonymous";
  s->password = "ferry@";
  fs::create_directories(s->writable);
  fs::create_directories(base / "empty");
  // vsftpd refuses a writable anon root; pub/ must be writable by the "ftp" user it runs as.
  fs::permissions(s->root, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                               fs::perms::group_exec | fs::perms::others_read |
                               fs::perms::others_exec);
  fs::permissions(s->writable, fs::perms::all);
  s->port = free_port();
  std::ostringstream c;
  if (ipv6)
    c << "listen=NO\nlisten_ipv6=YES\nlisten_address6=::1\n";
  else
    c << "listen=YES\nlisten_ipv6=NO\nlisten_address=127.0.0.1\n";
  c << "listen_port=" << s->port << "\nbackground=NO\nanonymous_enable=YES\nno_anon_password=YES\nlocal_enable=NO\n"
    << "anon_root=" << s->root.string() << "\nwrite_enable=YES\nanon_upload_enable=YES\n"
    << "anon_mkdir_write_enable=YES\nanon_other_write_enable=YES\nanon_umask=022\n"
    << "pasv_enable=YES\nport_enable=YES\nconnect_from_port_20=NO\n"
    << "secure_chroot_dir=" << (base / "empty").string() << "\nseccomp_sandbox=NO\n"
    << "xferlog_enable=NO\nvsftpd_log_file=" << (base / "vsftpd.log").string() << "\n";
  if (tls != vsftpd_tls::none) {
    make_certificate(base / "cert.pem", base / "key.pem");
    c << "ssl_enable=YES\nallow_anon_ssl=YES\nforce_anon_logins_ssl=YES\n"
      << "force_anon_data_ssl=YES\nrequire_ssl_reuse=YES\nssl_ciphers=HIGH\n"
      << "rsa_cert_file=" << (base / "cert.pem").string() << "\n"
      << "rsa_private_key_file=" << (base / "key.pem").string() << "\n";
    if (tls == vsftpd_tls::implicit_tls) c << "implicit_ssl=YES\n";
  }
  write_file(base / "vsftpd.conf", c.str());
  s->proc.emplace(std::vector<std::string>{"/usr/sbin/vsftpd", (base / "vsftpd.conf").string()},
                  base / "server.log");
  if (!wait_for_port(s->port, *s->proc, ipv6))
    throw std::runtime_error("vsftpd did not start: " + s->log());
  return s;
}

// The Python interpreter that has pyftpdlib: $FERRY_PYTHON, python3 on PATH, Debian's python3.
inline std::string python_with_pyftpdlib() {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("FERRY_PYTHON")) candidates.emplace_back(env);
  candidates.emplace_back("python3");
  candidates.emplace_back("/usr/bin/python3");
  for (auto& py : candidates) {
    auto cmd = shell_quote(py) + " -c 'import pyftpdlib' >/dev/null 2>&1";
    if (std::system(cmd.c_str()) == 0) return py;
  }
  throw std::runtime_error("no python3 with pyftpdlib (install python3-pyftpdlib)");
}

// pyftpdlib with one user who may do everything in root/ (perm "elradfmwMT"); with tls, its
// TLS_FTPHandler (explicit FTPS, pyOpenSSL) requiring TLS on control and data connections.
inline std::unique_ptr<ftp_server> start_pyftpdlib(bool tls = false) {
  auto s = std::make_unique<ftp_server>();
  s->root = s->dir.path() / "root";
  s->writable = s->root;
  s->remote_dir = "/";
  s->user = "ferry";
  s->password = "ferry-secret";
  fs::create_directories(s->root);
  s->port = free_port();
  std::string script =
      "import sys\n"
      "from pyftpdlib.authorizers import DummyAuthorizer\n"
      "from pyftpdlib.handlers import FTPHandler\n"
      "from pyftpdlib.servers import FTPServer\n"
      "a = DummyAuthorizer()\n"
      "a.add_user(sys.argv[1], sys.argv[2], sys.argv[3], perm='elradfmwMT')\n"
      "h = FTPHandler\n"
      "if len(sys.argv) > 5:\n"
      "    from pyftpdlib.handlers import TLS_FTPHandler\n"
      "    h = TLS_FTPHandler\n"
      "    h.certfile = sys.argv[5]\n"
      "    h.keyfile = sys.argv[6]\n"
      "    h.tls_control_required = True\n"
      "    h.tls_data_required = True\n"
      "h.authorizer = a\n"
      "FTPServer(('127.0.0.1', int(sys.argv[4])), h).serve_forever()\n";
  std::vector<std::string> argv{python_with_pyftpdlib(), "-c",           script,
                                s->user,                 s->password,    s->root.string(),
                                std::to_string(s->port)};
  if (tls) {
    make_certificate(s->dir.path() / "cert.pem", s->dir.path() / "key.pem");
    argv.push_back((s->dir.path() / "cert.pem").string());
    argv.push_back((s->dir.path() / "key.pem").string());
  }
  s->proc.emplace(argv, s->dir.path() / "server.log");
  if (!wait_for_port(s->port, *s->proc))
    throw std::runtime_error("pyftpdlib did not start: " + s->log());
  return s;
}

}  // namespace ferry::test::interop
