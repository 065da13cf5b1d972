// ferry-server: one process serving a directory over SFTP and SCP (SSH) and FTP/FTPS.
//
//   ferry-server [--root DIR] [--state-dir DIR] [--listen ADDR] [--ssh-port N] [--ftp-port N]
//                [--ftps-port N] [--user NAME[:PASSWORD]]... [--users-file FILE]
//                [--authorized-keys FILE] [--anonymous DIR [--anonymous-uploads]] [--read-only]
//                [--allow-exec] [--threads N] [-v|-q]
//
// Defaults: ./ferry-root on 127.0.0.1, SSH on 2222, FTP on 2121 (with AUTH TLS), implicit FTPS
// off; ./ferry-state holds the host keys and the TLS certificate, made on first run. With no user
// given, a user "ferry" gets a random password, printed once. Port 0 turns a protocol off. Every
// user is jailed in the root (or their own root and home from the users file; see
// auth/static_users.hpp for its format). Keys in --authorized-keys may log in as any user named
// with --user. --anonymous DIR lets "anonymous" and "ftp" log in over FTP with any password,
// jailed in DIR (a directory inside the root), read-only unless --anonymous-uploads lets them
// store files and make directories (see auth/anonymous.hpp). SIGINT/SIGTERM stop accepting, let
// running transfers finish for a grace period, then end; a second signal ends at once.
#include "server/logging.hpp"
#include "server/ssh_service.hpp"
#include "server/state.hpp"

#include <ferry/auth/anonymous.hpp>
#include <ferry/auth/authorized_keys.hpp>
#include <ferry/auth/composite.hpp>
#include <ferry/auth/shared.hpp>
#include <ferry/auth/static_users.hpp>
#include <ferry/core/text.hpp>
#include <ferry/crypto/password.hpp>
#include <ferry/crypto/random.hpp>
#include <ferry/fs/local.hpp>
#include <ferry/ftp/server.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
using namespace ferry;

namespace {

struct config {
  std::string root = "ferry-root";
  std::string state_dir = "ferry-state";
  std::string listen = "127.0.0.1";
  int ssh_port = 2222, ftp_port = 2121, ftps_port = 0;
  std::vector<std::string> users;  // NAME[:PASSWORD]
  std::string users_file, authorized_keys;
  std::string anonymous_root;  // empty: no anonymous FTP
  bool anonymous_uploads = false;
  bool read_only = false, allow_exec = false;
  int threads = 0;  // 0: hardware concurrency
  int verbosity = 1;
  std::chrono::seconds grace{10};
};

int usage(int status) {
  (status ? std::cerr : std::cout)
      << "usage: ferry-server [--root DIR] [--state-dir DIR] [--listen ADDR] [--ssh-port N]\n"
         "                    [--ftp-port N] [--ftps-port N] [--user NAME[:PASSWORD]]...\n"
         "                    [--users-file FILE] [--authorized-keys FILE]\n"
         "                    [--anonymous DIR [--anonymous-uploads]] [--read-only]\n"
         "                    [--allow-exec] [--threads N] [--grace SECONDS] [-v|-q]\n";
  return status;
}

bool parse_port(const std::string& s, int& out) {
  char* end = nullptr;
  long v = std::strtol(s.c_str(), &end, 10);
  if (s.empty() || *end || v < 0 || v > 65535) return false;
  out = static_cast<int>(v);
  return true;
}

// 0: ok; otherwise the exit status.
int parse_args(int argc, char** argv, config& c) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc) return false;
      out = argv[++i];
      return true;
    };
    std::string v;
    if (a == "-h" || a == "--help") return usage(0) + 100;
    if (a == "-v") c.verbosity = 2;
    else if (a == "-q") c.verbosity = 0;
    else if (a == "--read-only") c.read_only = true;
    else if (a == "--allow-exec") c.allow_exec = true;
    else if (a == "--anonymous-uploads") c.anonymous_uploads = true;
    else if (a == "--anonymous" && value(v)) c.anonymous_root = v;
    else if (a == "--root" && value(v)) c.root = v;
    else if (a == "--state-dir" && value(v)) c.state_dir = v;
    else if (a == "--listen" && value(v)) c.listen = v;
    else if (a == "--users-file" && value(v)) c.users_file = v;
    else if (a == "--authorized-keys" && value(v)) c.authorized_keys = v;
    else if (a == "--user" && value(v)) c.users.push_back(v);
    else if (a == "--ssh-port" && value(v) && parse_port(v, c.ssh_port)) continue;
    else if (a == "--ftp-port" && value(v) && parse_port(v, c.ftp_port)) continue;
    else if (a == "--ftps-port" && value(v) && parse_port(v, c.ftps_port)) continue;
    else if (a == "--threads" && value(v)) c.threads = std::max(1, std::atoi(v.c_str()));
    else if (a == "--grace" && value(v)) c.grace = std::chrono::seconds{std::max(0, std::atoi(v.c_str()))};
    else {
      std::cerr << "ferry-server: bad option " << a << "\n";
      return usage(2);
    }
  }
  return 0;
}

std::string random_password() {
  std::uint8_t raw[12];
  crypto::system_random().fill(mutable_byte_view{raw});
  auto s = text::base64_encode(byte_view{raw}, false);
  for (auto& ch : s) {
    if (ch == '+') ch = 'x';
    if (ch == '/') ch = 'y';
  }
  secure_wipe(raw, sizeof raw);
  return s;
}

std::string read_text(const std::string& path, bool& ok) {
  std::ifstream in{path, std::ios::binary};
  ok = bool(in);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

constexpr crypto::scrypt_params password_cost{.ln = 14, .r = 8, .p = 1};

// Anonymous FTP, when --anonymous was given. It comes first in users_type: static_users answers an
// unknown name with a dummy hash of full cost (so failed logins all take as long), which would add
// about 50 ms to every anonymous login; no configured user may be named anonymous or ftp.
struct optional_anonymous {
  std::optional<auth::anonymous> on;
  auth::method_set methods(const auth::request& r) const {
    return on ? on->methods(r) : auth::method_set{};
  }
  auth::result check_password(const auth::request& r, byte_view password) const {
    return on ? on->check_password(r, password) : std::nullopt;
  }
};

using users_type =
    auth::composite<optional_anonymous, auth::static_users, auth::authorized_keys_authenticator>;

}  // namespace

int main(int argc, char** argv) {
  config cfg;
  if (int rc = parse_args(argc, argv, cfg)) return rc >= 100 ? rc - 100 : rc;
  ferry_server::logger log{cfg.verbosity};

  // --- state, root, users -------------------------------------------------------------------
  ferry_server::state st;
  std::string error;
  if (!ferry_server::load_or_create_state(cfg.state_dir, cfg.listen, st, error)) {
    std::cerr << "ferry-server: " << error << "\n";
    return 1;
  }
  std::error_code sec;
  std::filesystem::create_directories(cfg.root, sec);

  unsigned threads = cfg.threads > 0 ? unsigned(cfg.threads) : std::max(2u, std::thread::hardware_concurrency());
  asio::io_context ioc{int(threads)};
  error_code ec;
  fs::local_options lo;
  lo.read_only = cfg.read_only;
  auto files = fs::make_local_filesystem(ioc.get_executor(), cfg.root, lo, ec);
  if (ec) {
    std::cerr << "ferry-server: cannot serve " << cfg.root << ": " << ec.message() << "\n";
    return 1;
  }

  auth::static_users passwords{password_cost};
  auth::authorized_keys_authenticator keys;
  if (!cfg.users_file.empty()) {
    bool ok = false;
    auto text = read_text(cfg.users_file, ok);
    std::vector<std::pair<std::size_t, error_code>> errors;
    if (!ok || passwords.load(text, &errors)) {
      std::cerr << "ferry-server: " << cfg.users_file
                << (ok ? ": invalid line " + std::to_string(errors.empty() ? 0 : errors[0].first)
                       : std::string{": cannot read"})
                << "\n";
      return 1;
    }
  }
  std::string keys_text;
  if (!cfg.authorized_keys.empty()) {
    bool ok = false;
    keys_text = read_text(cfg.authorized_keys, ok);
    if (!ok) {
      std::cerr << "ferry-server: cannot read " << cfg.authorized_keys << "\n";
      return 1;
    }
  }
  std::string generated_password;
  if (cfg.users.empty() && cfg.users_file.empty()) {
    generated_password = random_password();
    cfg.users.push_back("ferry:" + generated_password);
  }
  for (const auto& spec : cfg.users) {
    auto colon = spec.find(':');
    auth::user_entry e;
    e.name = spec.substr(0, colon);
    if (e.name.empty()) return usage(2);
    if (colon != std::string::npos) {
      auto pw = spec.substr(colon + 1);
      e.password_hash = crypto::hash_password(as_bytes(pw), crypto::system_random(), password_cost);
      secure_wipe(pw.data(), pw.size());
    } else {
      e.password_hash = "!";  // keys only
      e.methods = {};
    }
    e.perms.read_only = cfg.read_only;
    e.view.read_only = cfg.read_only;
    if (!keys_text.empty()) e.methods |= auth::method_set{auth::method::publickey};
    auth::grant account{.user = e.name, .view = e.view, .perms = e.perms};
    if (!keys_text.empty()) keys.add_user(e.name, account, keys_text);
    if (auto aec = passwords.add(std::move(e))) {
      std::cerr << "ferry-server: user " << spec.substr(0, colon) << ": " << aec.message() << "\n";
      return 1;
    }
  }
  optional_anonymous anonymous;
  if (!cfg.anonymous_root.empty()) {
    std::string where = cfg.anonymous_root.front() == '/' ? cfg.anonymous_root : "/" + cfg.anonymous_root;
    auto dir = std::filesystem::path(cfg.root) / where.substr(1);
    if (!std::filesystem::is_directory(dir, sec)) {
      std::cerr << "ferry-server: --anonymous " << cfg.anonymous_root << ": not a directory in "
                << cfg.root << "\n";
      return 1;
    }
    for (std::string_view name : {"anonymous", "ftp"}) {
      // A configured user of that name (--user or the users file) would be shadowed.
      if (passwords.contains(name)) {
        std::cerr << "ferry-server: --anonymous: user " << name << " would be anonymous\n";
        return 1;
      }
    }
    anonymous.on.emplace(auth::anonymous::options{.root = where, .uploads = cfg.anonymous_uploads});
  }
  auto users = auth::make_shared_authenticator(
      users_type{std::move(anonymous), std::move(passwords), std::move(keys)});

  // --- FTP / FTPS ---------------------------------------------------------------------------
  std::unique_ptr<asio::ssl::context> tls;
  std::unique_ptr<ftp::server<fs::local_filesystem, auth::shared<users_type>>> ftp_server;
  if (cfg.ftp_port != 0 || cfg.ftps_port != 0) {
    tls = ftp::make_tls_context_from_files(st.certificate_file, st.key_file, ec);
    if (ec) {
      std::cerr << "ferry-server: TLS: " << ec.message() << "\n";
      return 1;
    }
    ftp::server_options fo;
    fo.tls_context = tls.get();
    fo.log = [&log](const ftp::server_event& e) { log.ftp(e); };
    ftp_server = std::make_unique<ftp::server<fs::local_filesystem, auth::shared<users_type>>>(
        ioc.get_executor(), files, users, std::move(fo));
    auto addr = asio::ip::make_address(cfg.listen, ec);
    if (!ec && cfg.ftp_port != 0) ec = ftp_server->listen({addr, std::uint16_t(cfg.ftp_port)});
    if (!ec && cfg.ftps_port != 0) ec = ftp_server->listen_implicit({addr, std::uint16_t(cfg.ftps_port)});
    if (ec) {
      std::cerr << "ferry-server: FTP on " << cfg.listen << ": " << ec.message() << "\n";
      return 1;
    }
  }

  // --- SSH (SFTP, SCP, exec) ----------------------------------------------------------------
  ferry_server::ssh_service<auth::shared<users_type>> ssh{
      ioc.get_executor(), files, users, st.host_keys, cfg.allow_exec, cfg.read_only, cfg.grace, log};
  if (cfg.ssh_port != 0) {
    ec = ssh.listen(cfg.listen, std::uint16_t(cfg.ssh_port));
    if (ec) {
      std::cerr << "ferry-server: SSH on " << cfg.listen << ":" << cfg.ssh_port << ": "
                << ec.message() << "\n";
      return 1;
    }
  }
  if (cfg.ssh_port == 0 && cfg.ftp_port == 0 && cfg.ftps_port == 0) {
    std::cerr << "ferry-server: every protocol is off\n";
    return 2;
  }

  // --- banner -------------------------------------------------------------------------------
  std::error_code aec;
  auto root_abs = std::filesystem::absolute(cfg.root, aec).string();
  std::string user = cfg.users.empty() ? std::string{"USER"} : cfg.users.front().substr(0, cfg.users.front().find(':'));
  std::printf("ferry-server serving %s%s\n", root_abs.c_str(), cfg.read_only ? " (read-only)" : "");
  if (cfg.ssh_port != 0) {
    std::printf("  SSH  %s:%u  (SFTP, SCP%s)\n", cfg.listen.c_str(), unsigned(ssh.port()),
                cfg.allow_exec ? ", exec" : "");
    for (const auto& fp : st.fingerprints) std::printf("       host key %s\n", fp.c_str());
  }
  if (ftp_server && cfg.ftp_port != 0)
    std::printf("  FTP  %s:%u  (AUTH TLS available)\n", cfg.listen.c_str(),
                unsigned(ftp_server->local_endpoint().port()));
  if (ftp_server && cfg.ftps_port != 0)
    std::printf("  FTPS %s:%u  (implicit TLS)\n", cfg.listen.c_str(),
                unsigned(ftp_server->implicit_endpoint().port()));
  if (ftp_server && !cfg.anonymous_root.empty())
    std::printf("  anonymous FTP in %s%s\n", cfg.anonymous_root.c_str(),
                cfg.anonymous_uploads && !cfg.read_only ? " (uploads allowed)" : " (read-only)");
  if (!generated_password.empty())
    std::printf("  user ferry, password %s  (generated; shown once)\n", generated_password.c_str());
  std::printf("connect with:\n");
  if (cfg.ssh_port != 0) {
    std::printf("  sftp -P %u %s@%s\n", unsigned(ssh.port()), user.c_str(), cfg.listen.c_str());
    std::printf("  scp -P %u FILE %s@%s:\n", unsigned(ssh.port()), user.c_str(), cfg.listen.c_str());
    std::printf("  ferry-sftp -P %u %s@%s\n", unsigned(ssh.port()), user.c_str(), cfg.listen.c_str());
  }
  if (ftp_server && cfg.ftp_port != 0) {
    unsigned p = ftp_server->local_endpoint().port();
    std::printf("  curl --ssl-reqd -k -u %s ftp://%s:%u/\n", user.c_str(), cfg.listen.c_str(), p);
    std::printf("  ferry-ftp --tls --insecure ls ftp://%s@%s:%u/\n", user.c_str(), cfg.listen.c_str(), p);
  }
  std::printf("ready\n");
  std::fflush(stdout);

  // --- run, and stop gracefully ---------------------------------------------------------------
  // The first SIGINT/SIGTERM stops accepting and gives open sessions the grace period; the
  // program ends when the SSH side has finished (FTP sessions end at once). A second signal ends
  // it at once.
  if (ftp_server) ftp_server->start();
  if (cfg.ssh_port != 0) ssh.start([&ioc] { ioc.stop(); });
  asio::signal_set signals{ioc, SIGINT, SIGTERM};
  int signals_seen = 0;
  std::function<void(error_code, int)> on_signal = [&](error_code sig_ec, int) {
    if (sig_ec) return;
    if (++signals_seen > 1) {
      log.info("second signal: stopping now");
      ioc.stop();
      return;
    }
    log.info("stopping: no new connections; open sessions have " + std::to_string(cfg.grace.count()) +
             "s to finish");
    if (ftp_server) ftp_server->stop();
    if (cfg.ssh_port != 0)
      ssh.stop();
    else
      ioc.stop();
    signals.async_wait(on_signal);
  };
  signals.async_wait(on_signal);
  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads; ++i) pool.emplace_back([&] { ioc.run(); });
  ioc.run();
  ioc.stop();
  for (auto& t : pool) t.join();
  return 0;
}
