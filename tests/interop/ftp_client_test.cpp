// ftp::client against real servers: vsftpd (plain, explicit FTPS and implicit FTPS, both with
// require_ssl_reuse=YES) and pyftpdlib, passive and active. Every file is compared byte for byte
// with what the server has on disk.
#include "support/run_coroutine.hpp"
#include "ftp_servers.hpp"

#include <ferry/ftp/client.hpp>
#include <ferry/test/random.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <algorithm>

namespace ftp_client_test {
using namespace ferry;
namespace asio = boost::asio;
namespace interop = ferry::test::interop;
using asio::use_awaitable;

namespace {

std::string make_payload(std::size_t n, std::uint64_t seed) {
  test::fixed_random rng{seed};
  std::string s(n, '\0');
  rng.fill({reinterpret_cast<std::uint8_t*>(s.data()), s.size()});
  return s;
}

using ferry_test_support::run_coroutine;

std::string join(const std::string& dir, const std::string& name) {
  if (dir.empty() || dir == "/") return "/" + name;
  return dir + "/" + name;
}

enum class server_kind {
  vsftpd,
  vsftpd_explicit_tls,
  vsftpd_implicit_tls,
  vsftpd_ipv6,
  pyftpdlib,
  pyftpdlib_explicit_tls
};

struct scenario {
  server_kind server;
  bool passive;
  const char* name;
};

std::unique_ptr<interop::ftp_server> start(server_kind k) {
  switch (k) {
    case server_kind::vsftpd: return interop::start_vsftpd();
    case server_kind::vsftpd_explicit_tls:
      return interop::start_vsftpd(interop::vsftpd_tls::explicit_tls);
    case server_kind::vsftpd_implicit_tls:
      return interop::start_vsftpd(interop::vsftpd_tls::implicit_tls);
    case server_kind::vsftpd_ipv6: return interop::start_vsftpd(interop::vsftpd_tls::none, true);
    case server_kind::pyftpdlib: return interop::start_pyftpdlib();
    case server_kind::pyftpdlib_explicit_tls: return interop::start_pyftpdlib(true);
  }
  return nullptr;
}

void PrintTo(const scenario& s, std::ostream* os) { *os << s.name; }

class ftp_client_interop : public ::testing::TestWithParam<scenario> {};

}  // namespace

// One session per server and mode: mkdir, put, list, size, get, resume both ways, rename,
// delete, rmdir; every transferred file compared with the server's copy.
TEST_P(ftp_client_interop, session_transfers_files_byte_for_byte) {
  auto sc = GetParam();
  auto server = start(sc.server);
  bool explicit_tls = sc.server == server_kind::vsftpd_explicit_tls ||
                      sc.server == server_kind::pyftpdlib_explicit_tls;
  bool tls = explicit_tls || sc.server == server_kind::vsftpd_implicit_tls;
  bool pyftpdlib = sc.server == server_kind::pyftpdlib ||
                   sc.server == server_kind::pyftpdlib_explicit_tls;
  asio::ssl::context tls_ctx{asio::ssl::context::tls_client};
  tls_ctx.set_verify_mode(asio::ssl::verify_none);  // self-signed test certificate

  auto local = interop::temp_dir{"ferry-ftp-local"};
  const std::string payload = make_payload(3 * 1024 * 1024 + 17, 1);
  interop::write_file(local.path() / "up.bin", payload);

  run_coroutine([&](asio::io_context& ioc) -> asio::awaitable<void> {
    ftp::client_options opts;
    opts.passive = sc.passive;
    if (explicit_tls) opts.tls = ftp::tls_mode::explicit_tls;
    if (sc.server == server_kind::vsftpd_implicit_tls) opts.tls = ftp::tls_mode::implicit_tls;
    opts.tls_context = &tls_ctx;
    ftp::client c{ioc.get_executor(), opts};
    co_await c.async_connect(server->host, server->port, use_awaitable);
    EXPECT_EQ(c.control_encrypted(), tls);
    EXPECT_EQ(c.control_socket().remote_endpoint().address().is_v6(),
              sc.server == server_kind::vsftpd_ipv6);
    co_await c.async_login(server->user, server->password, use_awaitable);

    auto dir = join(server->remote_dir, "sub dir");
    co_await c.async_mkdir(dir, use_awaitable);
    EXPECT_TRUE(interop::fs::is_directory(server->writable / "sub dir"));
    co_await c.async_cwd(dir, use_awaitable);
    EXPECT_EQ(co_await c.async_pwd(use_awaitable), dir);

    // Upload with progress.
    std::uint64_t last_progress = 0;
    auto sent = co_await c.async_upload((local.path() / "up.bin").string(), "file one.bin", false,
                                        use_awaitable);
    EXPECT_EQ(sent, payload.size());
    EXPECT_EQ(interop::read_file(server->writable / "sub dir" / "file one.bin"), payload);
    if (tls && !pyftpdlib) {  // vsftpd requires reuse; pyftpdlib does not ask for it
      EXPECT_TRUE(c.last_data_session_reused());
    }

    // List (MLSD on pyftpdlib, LIST on vsftpd).
    auto entries = co_await c.async_list(dir, use_awaitable);
    auto it = std::find_if(entries.begin(), entries.end(),
                           [](const ftp::entry& e) { return e.name == "file one.bin"; });
    EXPECT_NE(it, entries.end());
    if (it != entries.end()) {
      EXPECT_EQ(it->type, ftp::entry_type::file);
      EXPECT_EQ(it->size, payload.size());
      EXPECT_TRUE(it->modified.has_value());
    }
    auto names = co_await c.async_name_list("", use_awaitable);
    EXPECT_NE(std::find(names.begin(), names.end(), "file one.bin"), names.end());

    EXPECT_EQ(co_await c.async_size("file one.bin", use_awaitable), payload.size());
    auto mtime = co_await c.async_modified("file one.bin", use_awaitable);
    EXPECT_LT(std::chrono::abs(std::chrono::system_clock::now() - mtime), std::chrono::hours(25));

    // Streaming download with progress.
    std::string got;
    ftp::transfer_options topts;
    topts.progress = [&](std::uint64_t n) { last_progress = n; };
    auto n = co_await c.async_retrieve(
        "file one.bin",
        [&](byte_view b) {
          got.append(as_chars(b));
          return error_code{};
        },
        topts, use_awaitable);
    EXPECT_EQ(n, payload.size());
    EXPECT_EQ(last_progress, payload.size());
    EXPECT_TRUE(got == payload);

    // Resumed download: keep the first 1000003 bytes locally, fetch the rest with REST.
    auto down = (local.path() / "down.bin").string();
    interop::write_file(down, std::string_view{payload}.substr(0, 1000003));
    auto rest = co_await c.async_download("file one.bin", down, true, use_awaitable);
    EXPECT_EQ(rest, payload.size() - 1000003);
    EXPECT_TRUE(interop::read_file(down) == payload);

    // Resumed upload: the server has a prefix, REST + STOR sends the remainder.
    interop::write_file(local.path() / "half.bin", std::string_view{payload}.substr(0, 777777));
    co_await c.async_upload((local.path() / "half.bin").string(), "resumed.bin", false,
                            use_awaitable);
    auto resumed = co_await c.async_upload((local.path() / "up.bin").string(), "resumed.bin",
                                           true, use_awaitable);
    EXPECT_EQ(resumed, payload.size() - 777777);
    EXPECT_TRUE(interop::read_file(server->writable / "sub dir" / "resumed.bin") == payload);

    // ASCII mode: LF locally, CR LF on the wire and back. vsftpd stores what it receives
    // (ascii_upload_enable=NO), so its copy shows the wire form; pyftpdlib converts to LF.
    std::string text = "line one\nline two\n\nline three\n";
    std::size_t pos = 0;
    co_await c.async_store(
        "text.txt",
        [&](mutable_byte_view buf, error_code&) {
          auto k = std::min(buf.size(), text.size() - pos);
          std::copy_n(text.data() + pos, k, reinterpret_cast<char*>(buf.data()));
          pos += k;
          return k;
        },
        ftp::transfer_options{0, true, {}}, use_awaitable);
    EXPECT_EQ(interop::read_file(server->writable / "sub dir" / "text.txt"),
              pyftpdlib ? text
                                                  : "line one\r\nline two\r\n\r\nline three\r\n");
    std::string back;
    co_await c.async_retrieve(
        "text.txt",
        [&](byte_view b) {
          back.append(as_chars(b));
          return error_code{};
        },
        ftp::transfer_options{0, true, {}}, use_awaitable);
    EXPECT_EQ(back, text);

    co_await c.async_rename("resumed.bin", "renamed.bin", use_awaitable);
    EXPECT_TRUE(interop::fs::exists(server->writable / "sub dir" / "renamed.bin"));
    EXPECT_FALSE(interop::fs::exists(server->writable / "sub dir" / "resumed.bin"));

    // A missing file: a permanent negative reply, its text kept.
    auto [ec, sz] = co_await c.async_size("no such file", asio::as_tuple(use_awaitable));
    (void)sz;
    EXPECT_TRUE(ftp::is_permanent(ec)) << ec.message();
    EXPECT_EQ(c.last_reply().code, 550);

    for (auto name : {"file one.bin", "renamed.bin", "text.txt"})
      co_await c.async_remove(name, use_awaitable);
    co_await c.async_cwd(server->remote_dir, use_awaitable);
    co_await c.async_rmdir("sub dir", use_awaitable);
    EXPECT_FALSE(interop::fs::exists(server->writable / "sub dir"));
    co_await c.async_noop(use_awaitable);
    co_await c.async_quit(use_awaitable);
  });
}

INSTANTIATE_TEST_SUITE_P(
    servers, ftp_client_interop,
    ::testing::Values(scenario{server_kind::vsftpd, true, "vsftpd_passive"},
                      scenario{server_kind::vsftpd, false, "vsftpd_active"},
                      scenario{server_kind::vsftpd_explicit_tls, true, "vsftpd_explicit_tls"},
                      scenario{server_kind::vsftpd_explicit_tls, false,
                               "vsftpd_explicit_tls_active"},
                      scenario{server_kind::vsftpd_implicit_tls, true, "vsftpd_implicit_tls"},
                      scenario{server_kind::vsftpd_ipv6, true, "vsftpd_ipv6_passive"},
                      scenario{server_kind::vsftpd_ipv6, false, "vsftpd_ipv6_active"},
                      scenario{server_kind::pyftpdlib, true, "pyftpdlib_passive"},
                      scenario{server_kind::pyftpdlib_explicit_tls, true,
                               "pyftpdlib_explicit_tls"},
                      scenario{server_kind::pyftpdlib, false, "pyftpdlib_active"}),
    [](const ::testing::TestParamInfo<scenario>& i) { return std::string{i.param.name}; });

// The server side of the reuse requirement is real: with reuse turned off, vsftpd
// (require_ssl_reuse=YES) refuses the data connection, so the passing sessions above prove reuse.
TEST(ftp_client_interop_tls, vsftpd_refuses_data_connection_without_session_reuse) {
  auto server = interop::start_vsftpd(interop::vsftpd_tls::explicit_tls);
  asio::ssl::context tls_ctx{asio::ssl::context::tls_client};
  tls_ctx.set_verify_mode(asio::ssl::verify_none);
  run_coroutine([&](asio::io_context& ioc) -> asio::awaitable<void> {
    ftp::client_options opts;
    opts.tls = ftp::tls_mode::explicit_tls;
    opts.tls_context = &tls_ctx;
    opts.reuse_tls_session = false;
    ftp::client c{ioc.get_executor(), opts};
    co_await c.async_connect("127.0.0.1", server->port, use_awaitable);
    co_await c.async_login(server->user, server->password, use_awaitable);
    auto [ec, entries] = co_await c.async_list(server->remote_dir, asio::as_tuple(use_awaitable));
    EXPECT_TRUE(ec);
    EXPECT_FALSE(c.last_data_session_reused());
    // vsftpd says why in its final reply (then ends the session); the client reports that reply.
    EXPECT_EQ(ec.value(), 522) << ec.message();
    EXPECT_EQ(c.last_reply().code, 522) << c.last_reply().text();
  });
}

// A plain client cannot log in where vsftpd forces TLS: the 530 is a permanent negative reply.
TEST(ftp_client_interop_tls, plain_login_refused_by_tls_only_vsftpd) {
  auto server = interop::start_vsftpd(interop::vsftpd_tls::explicit_tls);
  run_coroutine([&](asio::io_context& ioc) -> asio::awaitable<void> {
    ftp::client c{ioc.get_executor()};
    co_await c.async_connect("127.0.0.1", server->port, use_awaitable);
    auto [ec] = co_await c.async_login(server->user, server->password,
                                       asio::as_tuple(use_awaitable));
    EXPECT_TRUE(ftp::is_permanent(ec)) << ec.message();
    EXPECT_EQ(c.last_reply().code, 530);
  });
}

// With a verifying context, the certificate must name the host we connected to (its IP SAN
// here); a client expecting another name refuses the server during the handshake.
TEST(ftp_client_interop_tls, server_certificate_is_checked_against_the_host) {
  auto server = interop::start_vsftpd(interop::vsftpd_tls::explicit_tls);
  asio::ssl::context tls_ctx{asio::ssl::context::tls_client};
  tls_ctx.set_verify_mode(asio::ssl::verify_peer);
  tls_ctx.load_verify_file((server->dir.path() / "cert.pem").string());
  run_coroutine([&](asio::io_context& ioc) -> asio::awaitable<void> {
    ftp::client_options opts;
    opts.tls = ftp::tls_mode::explicit_tls;
    opts.tls_context = &tls_ctx;
    ftp::client good{ioc.get_executor(), opts};
    co_await good.async_connect("127.0.0.1", server->port, use_awaitable);
    co_await good.async_login(server->user, server->password, use_awaitable);
    auto entries = co_await good.async_list(server->remote_dir, use_awaitable);
    EXPECT_TRUE(entries.empty());
    co_await good.async_quit(use_awaitable);

    opts.server_name = "wrong.example";
    ftp::client bad{ioc.get_executor(), opts};
    auto [ec] = co_await bad.async_connect("127.0.0.1", server->port, asio::as_tuple(use_awaitable));
    EXPECT_TRUE(ec);
    EXPECT_EQ(ec.category(), asio::error::get_ssl_category()) << ec.message();
  });
}

}  // namespace ftp_client_test
