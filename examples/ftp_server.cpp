// A small FTP/FTPS server serving one directory.
//
//   ftp_server --root DIR [--listen 127.0.0.1] [--port 2121] [--implicit-port 9990]
//              [--users FILE | --user NAME:PASSWORD] [--anonymous] [--read-only]
//              [--cert FILE --key FILE | --self-signed] [--require-tls] [--no-reuse]
//              [--pasv-min P --pasv-max P] [--masquerade ADDR] [--atomic] [--threads N]
//
// --user NAME:PASSWORD adds one user (hashed at start-up) with the whole directory; --anonymous
// lets "anonymous" and "ftp" in read-only with any password. Prints "listening on PORT" (and
// "implicit on PORT") once ready, then serves until SIGINT/SIGTERM.
#include <ferry/auth/composite.hpp>
#include <ferry/auth/static_users.hpp>
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
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
using namespace ferry;

namespace {

// Anonymous access: any password, read-only, the whole tree.
struct anonymous_users {
  auth::method_set methods(const auth::request& r) const {
    if (r.user == "anonymous" || r.user == "ftp") return {auth::method::password};
    return {};
  }
  auth::result check_password(const auth::request& r, byte_view) const {
    if (r.user != "anonymous" && r.user != "ftp") return std::nullopt;
    auth::grant g;
    g.user = "anonymous";
    g.perms.read_only = true;
    g.view.read_only = true;
    return g;
  }
};

// static_users first, then anonymous (if enabled).
struct users_and_anonymous {
  const auth::static_users* users;
  bool anonymous;
  auth::method_set methods(const auth::request& r) const {
    auto m = users->methods(r);
    if (anonymous) m |= anonymous_users{}.methods(r);
    return m;
  }
  auth::result check_password(const auth::request& r, byte_view pw) const {
    if (auto g = users->check_password(r, pw)) return g;
    if (anonymous) return anonymous_users{}.check_password(r, pw);
    return std::nullopt;
  }
};

int usage() {
  std::cerr << "usage: ftp_server --root DIR [--listen ADDR] [--port P] [--implicit-port P]\n"
               "       [--users FILE | --user NAME:PASSWORD] [--anonymous] [--read-only]\n"
               "       [--cert FILE --key FILE | --self-signed] [--require-tls] [--no-reuse]\n"
               "       [--pasv-min P --pasv-max P] [--masquerade ADDR] [--atomic] [--threads N]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string root, listen = "127.0.0.1", users_file, user_spec, cert, key, masquerade;
  int port = 2121, implicit_port = -1, threads = 2;
  bool anonymous = false, read_only = false, self_signed = false, require_tls = false,
       no_reuse = false, atomic = false;
  int pasv_min = 0, pasv_max = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : std::string{}; };
    if (a == "--root") root = next();
    else if (a == "--listen") listen = next();
    else if (a == "--port") port = std::atoi(next().c_str());
    else if (a == "--implicit-port") implicit_port = std::atoi(next().c_str());
    else if (a == "--users") users_file = next();
    else if (a == "--user") user_spec = next();
    else if (a == "--anonymous") anonymous = true;
    else if (a == "--read-only") read_only = true;
    else if (a == "--cert") cert = next();
    else if (a == "--key") key = next();
    else if (a == "--self-signed") self_signed = true;
    else if (a == "--require-tls") require_tls = true;
    else if (a == "--no-reuse") no_reuse = true;
    else if (a == "--atomic") atomic = true;
    else if (a == "--pasv-min") pasv_min = std::atoi(next().c_str());
    else if (a == "--pasv-max") pasv_max = std::atoi(next().c_str());
    else if (a == "--masquerade") masquerade = next();
    else if (a == "--threads") threads = std::max(1, std::atoi(next().c_str()));
    else return usage();
  }
  if (root.empty()) return usage();

  asio::io_context ioc{threads};
  error_code ec;
  fs::local_options lo;
  lo.read_only = read_only;
  auto files = fs::make_local_filesystem(ioc.get_executor(), root, lo, ec);
  if (ec) {
    std::cerr << "cannot open " << root << ": " << ec.message() << "\n";
    return 1;
  }

  auth::static_users users{crypto::scrypt_params{.ln = 10, .r = 8, .p = 1}};
  if (!users_file.empty()) {
    std::ifstream in{users_file};
    std::stringstream text;
    text << in.rdbuf();
    if (auto lec = users.load(text.str())) {
      std::cerr << "users file: " << lec.message() << "\n";
      return 1;
    }
  }
  if (!user_spec.empty()) {
    auto colon = user_spec.find(':');
    if (colon == std::string::npos) return usage();
    auth::user_entry e;
    e.name = user_spec.substr(0, colon);
    auto pw = user_spec.substr(colon + 1);
    e.password_hash = crypto::hash_password(as_bytes(pw), crypto::system_random(),
                                             crypto::scrypt_params{.ln = 10, .r = 8, .p = 1});
    e.perms.read_only = read_only;
    users.add(std::move(e));
  }

  std::unique_ptr<asio::ssl::context> tls;
  if (!cert.empty()) tls = ftp::make_tls_context_from_files(cert, key, ec);
  else if (self_signed) tls = ftp::make_self_signed_tls_context(listen, ec);
  if (ec) {
    std::cerr << "TLS: " << ec.message() << "\n";
    return 1;
  }

  ftp::server_options opts;
  opts.tls_context = tls.get();
  opts.require_tls_login = require_tls;
  opts.require_tls_data = require_tls;
  opts.require_session_reuse = !no_reuse;
  opts.atomic_upload = atomic;
  opts.passive_port_min = std::uint16_t(pasv_min);
  opts.passive_port_max = std::uint16_t(pasv_max);
  if (!masquerade.empty()) opts.masquerade_address = asio::ip::make_address_v4(masquerade);
  opts.log = [](const ftp::server_event& e) {
    static std::mutex m;
    std::lock_guard lk{m};
    std::fprintf(stderr, "[%s] %s user=%s path=%s bytes=%llu seconds=%.3f %s\n",
                 e.peer.c_str(),
                 e.what == ftp::server_event::kind::login          ? "login"
                 : e.what == ftp::server_event::kind::login_failed ? "login-failed"
                 : e.what == ftp::server_event::kind::transfer     ? "transfer"
                 : e.what == ftp::server_event::kind::refusal      ? "refusal"
                                                                   : "disconnect",
                 e.user.c_str(), e.path.c_str(), static_cast<unsigned long long>(e.bytes),
                 e.seconds, e.detail.c_str());
  };

  ftp::server<fs::local_filesystem, users_and_anonymous> srv{
      ioc.get_executor(), files, users_and_anonymous{&users, anonymous}, std::move(opts)};
  if ((ec = srv.listen({asio::ip::make_address(listen), std::uint16_t(port)}))) {
    std::cerr << "listen: " << ec.message() << "\n";
    return 1;
  }
  if (implicit_port >= 0 && tls) {
    if ((ec = srv.listen_implicit({asio::ip::make_address(listen), std::uint16_t(implicit_port)}))) {
      std::cerr << "listen (implicit): " << ec.message() << "\n";
      return 1;
    }
  }
  srv.start();
  std::printf("listening on %u\n", unsigned(srv.local_endpoint().port()));
  if (implicit_port >= 0 && tls) std::printf("implicit on %u\n", unsigned(srv.implicit_endpoint().port()));
  std::fflush(stdout);

  asio::signal_set signals{ioc, SIGINT, SIGTERM};
  signals.async_wait([&](error_code, int) { srv.stop(); ioc.stop(); });
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back([&] { ioc.run(); });
  ioc.run();
  for (auto& t : pool) t.join();
  return 0;
}
