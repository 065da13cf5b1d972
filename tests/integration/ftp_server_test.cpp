// ftp::server in-process: ferry's own ftp::client against it (plain, explicit and implicit TLS,
// passive and active), and hostile clients speaking raw FTP: STARTTLS injection, FTP bounce,
// passive port theft, forbidden characters, huge and deep listings, timeouts, login limits,
// cross-protocol junk, path escapes, failed atomic uploads, connection limits.
#include "support/process.hpp"
#include "support/run_coroutine.hpp"
#include "ftp_server_harness.hpp"

#include <ferry/crypto/hash.hpp>
#include <ferry/crypto/tls.hpp>
#include <ferry/ftp/client.hpp>
#include <ferry/ftp/proto/address.hpp>
#include <ferry/test/random.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <fstream>

using namespace ferry;
using namespace ferry::test::ftpd;
using asio::use_awaitable;

namespace {

void put(fs::memory_core& core, const std::string& path, std::string_view data) {
  fs::handle h;
  ASSERT_FALSE(core.open(path, fs::open_mode::write_new(), h));
  std::size_t n = 0;
  if (!data.empty()) {
    ASSERT_FALSE(core.write_at(h, 0, as_bytes(data), n));
  }
  ASSERT_EQ(n, data.size());
  ASSERT_FALSE(core.close(h));
}

std::optional<std::string> get(fs::memory_core& core, const std::string& path) {
  fs::attributes a;
  if (core.stat(path, a)) return std::nullopt;
  fs::handle h;
  if (core.open(path, fs::open_mode::read_only(), h)) return std::nullopt;
  std::string out(a.size, '\0');
  std::size_t done = 0;
  while (done < out.size()) {
    std::size_t n = 0;
    if (core.read_at(h, done, {reinterpret_cast<std::uint8_t*>(out.data()) + done, out.size() - done}, n) || n == 0) break;
    done += n;
  }
  core.close(h);
  out.resize(done);
  return out;
}

using ferry_test_support::run_coroutine;

enum class mode { plain, explicit_tls, implicit_tls };

struct scenario {
  mode m;
  bool passive;
  const char* name;
};

void PrintTo(const scenario& s, std::ostream* os) { *os << s.name; }

class client_server : public ::testing::TestWithParam<scenario> {};

TEST_P(client_server, files_round_trip_byte_for_byte_and_every_file_operation_works) {
  auto sc = GetParam();
  std::shared_ptr<fs::memory_core> core;
  running_server<fs::memory_filesystem> srv{memory_backend(&core), fast_options(),
                                            sc.m != mode::plain};
  auto big = payload(3 * 1024 * 1024 + 17, 1);
  put(*core, "/served.bin", big);
  asio::ssl::context tls{asio::ssl::context::tls_client};
  tls.set_verify_mode(asio::ssl::verify_none);
  run_coroutine([&](asio::io_context& ioc) -> asio::awaitable<void> {
    ftp::client_options co;
    co.passive = sc.passive;
    co.tls_context = &tls;
    co.tls = sc.m == mode::plain          ? ftp::tls_mode::none
             : sc.m == mode::explicit_tls ? ftp::tls_mode::explicit_tls
                                          : ftp::tls_mode::implicit_tls;
    ftp::client c{ioc.get_executor(), co};
    auto port = sc.m == mode::implicit_tls ? srv.implicit_port() : srv.port();
    co_await c.async_connect(tcp::endpoint{asio::ip::make_address("127.0.0.1"), port}, use_awaitable);
    co_await c.async_login("user", "secret", use_awaitable);
    EXPECT_EQ(c.control_encrypted(), sc.m != mode::plain);
    EXPECT_TRUE(c.server_features().has("MLST"));
    EXPECT_TRUE(c.server_features().has("REST"));

    std::string got;
    auto n = co_await c.async_retrieve("served.bin", to_string(got), {}, use_awaitable);
    EXPECT_EQ(n, big.size());
    EXPECT_TRUE(got == big);
    if (sc.m != mode::plain) {
      EXPECT_TRUE(c.last_data_session_reused());
    }

    auto up = payload(2 * 1024 * 1024 + 5, 2);
    co_await c.async_store("up.bin", from_string(up), {}, use_awaitable);
    EXPECT_TRUE(get(*core, "/up.bin") == up);

    // REST: resume a download from an offset (RFC 3659 §5).
    std::string tail;
    ftp::transfer_options from;
    from.offset = 1000;
    co_await c.async_retrieve("up.bin", to_string(tail), from, use_awaitable);
    EXPECT_TRUE(tail == up.substr(1000));

    // APPE
    std::string more = "appended";
    co_await c.async_append("up.bin", from_string(more), {}, use_awaitable);
    EXPECT_TRUE(get(*core, "/up.bin") == up + more);

    EXPECT_EQ(co_await c.async_size("up.bin", use_awaitable), up.size() + more.size());
    co_await c.async_modified("up.bin", use_awaitable);
    co_await c.async_mkdir("dir", use_awaitable);
    co_await c.async_rename("up.bin", "dir/moved.bin", use_awaitable);
    co_await c.async_cwd("dir", use_awaitable);
    EXPECT_EQ(co_await c.async_pwd(use_awaitable), "/dir");
    auto entries = co_await c.async_list("", use_awaitable);
    EXPECT_EQ(entries.size(), 1u);
    if (!entries.empty()) {
      EXPECT_EQ(entries[0].name, "moved.bin");
      EXPECT_EQ(entries[0].size.value_or(0), up.size() + more.size());
    }
    auto names = co_await c.async_name_list("/", use_awaitable);
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"dir", "served.bin"}));
    co_await c.async_remove("moved.bin", use_awaitable);
    co_await c.async_cwd("..", use_awaitable);
    co_await c.async_rmdir("dir", use_awaitable);
    auto r = co_await c.async_command("RETR", "missing", use_awaitable);
    EXPECT_EQ(r.code, 550);
    r = co_await c.async_command("RETR", "served.bin", use_awaitable);
    EXPECT_EQ(r.code, 425);  // no PASV/EPSV/PORT/EPRT first
    r = co_await c.async_command("DELE", "missing", use_awaitable);
    EXPECT_EQ(r.code, 550);
    co_await c.async_quit(use_awaitable);
  });
  EXPECT_GE(srv.log.count(ftp::server_event::kind::transfer), 4u);
  bool found = false;
  for (auto& e : srv.log.snapshot())
    if (e.what == ftp::server_event::kind::transfer && e.path == "/served.bin" && e.bytes == big.size() &&
        e.user == "user" && e.peer == "127.0.0.1" && e.ok)
      found = true;
  EXPECT_TRUE(found) << "log hook did not report the download";
}

INSTANTIATE_TEST_SUITE_P(
    modes, client_server,
    ::testing::Values(scenario{mode::plain, true, "plain_passive"},
                      scenario{mode::plain, false, "plain_active"},
                      scenario{mode::explicit_tls, true, "explicit_tls_passive"},
                      scenario{mode::explicit_tls, false, "explicit_tls_active"},
                      scenario{mode::implicit_tls, true, "implicit_tls_passive"}),
    [](const ::testing::TestParamInfo<scenario>& p) { return std::string{p.param.name}; });

TEST(ftp_server, tls_data_connection_that_does_not_resume_the_session_is_refused) {
  std::shared_ptr<fs::memory_core> core;
  running_server<fs::memory_filesystem> srv{memory_backend(&core), fast_options(), true};
  put(*core, "/f", "data");
  asio::ssl::context tls{asio::ssl::context::tls_client};
  tls.set_verify_mode(asio::ssl::verify_none);
  run_coroutine([&](asio::io_context& ioc) -> asio::awaitable<void> {
    ftp::client_options co;
    co.tls = ftp::tls_mode::explicit_tls;
    co.tls_context = &tls;
    co.reuse_tls_session = false;
    ftp::client c{ioc.get_executor(), co};
    co_await c.async_connect(tcp::endpoint{asio::ip::make_address("127.0.0.1"), srv.port()}, use_awaitable);
    co_await c.async_login("user", "secret", use_awaitable);
    std::string got;
    auto [ec, n] = co_await c.async_retrieve("f", to_string(got), {},
                                             asio::as_tuple(use_awaitable));
    EXPECT_TRUE(ec);
    EXPECT_EQ(n, 0u);
    EXPECT_TRUE(got.empty());
  });
  bool refused = false;
  for (auto& e : srv.log.snapshot())
    refused |= e.what == ftp::server_event::kind::refusal &&
               e.detail.find("resume") != std::string::npos;
  EXPECT_TRUE(refused);
}

TEST(ftp_server, tls_without_reuse_requirement_serves_a_client_that_does_not_resume) {
  std::shared_ptr<fs::memory_core> core;
  auto o = fast_options();
  o.require_session_reuse = false;
  running_server<fs::memory_filesystem> srv{memory_backend(&core), o, true};
  put(*core, "/f", "data");
  asio::ssl::context tls{asio::ssl::context::tls_client};
  tls.set_verify_mode(asio::ssl::verify_none);
  run_coroutine([&](asio::io_context& ioc) -> asio::awaitable<void> {
    ftp::client_options co;
    co.tls = ftp::tls_mode::explicit_tls;
    co.tls_context = &tls;
    co.reuse_tls_session = false;
    ftp::client c{ioc.get_executor(), co};
    co_await c.async_connect(tcp::endpoint{asio::ip::make_address("127.0.0.1"), srv.port()}, use_awaitable);
    co_await c.async_login("user", "secret", use_awaitable);
    std::string got;
    co_await c.async_retrieve("f", to_string(got), {}, use_awaitable);
    EXPECT_EQ(got, "data");
  });
}

TEST(ftp_server, ascii_type_converts_line_ends_both_ways) {
  std::shared_ptr<fs::memory_core> core;
  running_server<fs::memory_filesystem> srv{memory_backend(&core), fast_options()};
  put(*core, "/lf.txt", "one\ntwo\n");
  raw_control c{srv.port()};
  c.login();
  EXPECT_EQ(c.command("TYPE A"), 200);
  auto port = c.pasv();
  tcp::socket data{c.context()};
  data.connect({asio::ip::make_address("127.0.0.1"), port});
  EXPECT_EQ(c.command("RETR lf.txt"), 150);
  EXPECT_EQ(read_all(data), "one\r\ntwo\r\n");
  EXPECT_EQ(c.code(), 226);
  // Upload in ASCII: CR LF on the wire becomes LF in the file (RFC 959 §3.1.1.1).
  port = c.pasv();
  tcp::socket up{c.context()};
  up.connect({asio::ip::make_address("127.0.0.1"), port});
  EXPECT_EQ(c.command("STOR crlf.txt"), 150);
  asio::write(up, asio::buffer(std::string_view{"a\r\nb\r\n"}));
  up.shutdown(tcp::socket::shutdown_send);
  EXPECT_EQ(c.code(), 226);
  EXPECT_EQ(get(*core, "/crlf.txt").value_or("?"), "a\nb\n");
}

TEST(ftp_server, abor_during_a_transfer_answers_426_then_226) {
  std::shared_ptr<fs::memory_core> core;
  running_server<fs::memory_filesystem> srv{memory_backend(&core), fast_options()};
  put(*core, "/huge", std::string(32 * 1024 * 1024, 'z'));
  raw_control c{srv.port()};
  c.login();
  EXPECT_EQ(c.command("TYPE I"), 200);
  auto port = c.pasv();
  tcp::socket data{c.context()};
  data.connect({asio::ip::make_address("127.0.0.1"), port});
  EXPECT_EQ(c.command("RETR huge"), 150);
  std::array<char, 65536> buf;
  asio::read(data, asio::buffer(buf));  // the transfer is running; the client stops reading
  // RFC 959 §4.1.3: Telnet IP and Synch, then ABOR.
  c.send("\xff\xf4\xff\xf2" "ABOR\r\n");
  EXPECT_EQ(c.code(), 426);
  EXPECT_EQ(c.code(), 226);
  EXPECT_EQ(c.command("NOOP"), 200);  // the session goes on
}

TEST(ftp_server, commands_pipelined_behind_auth_tls_are_not_executed) {
  running_server<fs::memory_filesystem> srv{memory_backend(), fast_options(), true};
  raw_control c{srv.port()};
  EXPECT_EQ(c.code(), 220);
  // CVE-2011-0411 class: "USER user" arrives in the same packet as AUTH TLS, in plaintext.
  c.send("AUTH TLS\r\nUSER user\r\n");
  EXPECT_EQ(c.code(), 234);
  EXPECT_TRUE(c.buffered().empty());
  asio::ssl::context ctx{asio::ssl::context::tls_client};
  ctx.set_verify_mode(asio::ssl::verify_none);
  asio::ssl::stream<tcp::socket&> tls{c.socket(), ctx};
  tls.handshake(asio::ssl::stream_base::client);
  auto command = [&](std::string_view line) {
    asio::write(tls, asio::buffer(std::string{line} + "\r\n"));
    std::string r;
    asio::read_until(tls, asio::dynamic_buffer(r), "\r\n");
    return r;
  };
  // Had the pipelined USER been executed, PASS would log in.
  EXPECT_EQ(command("PASS secret").substr(0, 3), "503");
  EXPECT_EQ(command("USER user").substr(0, 3), "331");
  EXPECT_EQ(command("PASS secret").substr(0, 3), "230");
}

TEST(ftp_server, port_and_eprt_to_another_address_or_a_privileged_port_are_refused) {
  running_server<fs::memory_filesystem> srv{memory_backend(), fast_options()};
  raw_control c{srv.port()};
  c.login();
  EXPECT_EQ(c.command("PORT 10,1,2,3,200,10"), 504);   // bounce to a third host
  EXPECT_EQ(c.command("PORT 127,0,0,1,0,25"), 504);    // into a local service
  EXPECT_EQ(c.command("EPRT |1|192.0.2.1|5000|"), 504);
  EXPECT_EQ(c.command("EPRT |1|127.0.0.1|80|"), 504);
  EXPECT_EQ(c.command("EPRT |2|::1|5000|"), 504);      // not the control connection's address
  EXPECT_EQ(c.command("PORT 127,0,0,1,300,1"), 501);   // malformed
  EXPECT_EQ(c.command("EPRT |3|x|1|"), 522);
  EXPECT_EQ(c.command("PORT 127,0,0,1,200,10"), 200);  // the client itself, high port: fine
  EXPECT_GE(srv.log.count(ftp::server_event::kind::refusal), 5u);
}

TEST(ftp_server, passive_connection_from_another_address_is_refused_and_the_client_still_gets_its_file) {
  std::shared_ptr<fs::memory_core> core;
  running_server<fs::memory_filesystem> srv{memory_backend(&core), fast_options()};
  auto data_bytes = payload(200000, 4);
  put(*core, "/f", data_bytes);
  raw_control c{srv.port()};
  c.login();
  auto port = c.pasv();
  // The thief (127.0.0.2) connects first.
  tcp::socket thief{c.context()};
  thief.open(tcp::v4());
  thief.bind({asio::ip::make_address("127.0.0.2"), 0});
  thief.connect({asio::ip::make_address("127.0.0.1"), port});
  tcp::socket data{c.context()};
  data.connect({asio::ip::make_address("127.0.0.1"), port});
  EXPECT_EQ(c.command("RETR f"), 150);
  EXPECT_TRUE(read_all(data) == data_bytes);
  EXPECT_EQ(c.code(), 226);
  EXPECT_EQ(read_all(thief), "");  // closed without a byte
  bool refused = false;
  for (auto& e : srv.log.snapshot())
    refused |= e.what == ftp::server_event::kind::refusal &&
               e.detail.find("127.0.0.2") != std::string::npos;
  EXPECT_TRUE(refused);
}

TEST(ftp_server, nul_and_cr_inside_a_command_are_refused_and_create_nothing) {
  std::shared_ptr<fs::memory_core> core;
  running_server<fs::memory_filesystem> srv{memory_backend(&core), fast_options()};
  raw_control c{srv.port()};
  c.login();
  c.send(std::string{"MKD a\0b\r\n", 9});
  EXPECT_EQ(c.code(), 501);
  c.send("MKD a\rb\r\n");
  EXPECT_EQ(c.code(), 501);
  fs::attributes a;
  EXPECT_TRUE(core->stat("/a", a));
  EXPECT_TRUE(core->stat("/a\rb", a));
  EXPECT_EQ(c.command("MKD ok"), 257);
}

TEST(ftp_server, names_with_line_breaks_on_disk_do_not_forge_listing_lines) {
  auto base = std::filesystem::temp_directory_path() / ("ferry-ftpd-" + std::to_string(::getpid()) + "-lb");
  std::filesystem::create_directories(base);
  std::ofstream(base / "evil\r\n226 forged") << "x";
  std::ofstream(base / "normal") << "y";
  {
    running_server<fs::local_filesystem> srv{
        [&](asio::any_io_executor ex) {
          error_code ec;
          return fs::make_local_filesystem(ex, base.string(), {}, ec);
        },
        fast_options()};
    raw_control c{srv.port()};
    c.login();
    auto port = c.pasv();
    tcp::socket data{c.context()};
    data.connect({asio::ip::make_address("127.0.0.1"), port});
    EXPECT_EQ(c.command("LIST"), 150);
    auto listing = read_all(data);
    EXPECT_EQ(c.code(), 226);
    EXPECT_NE(listing.find("normal"), std::string::npos);
    EXPECT_EQ(listing.find("forged"), std::string::npos);
  }
  std::filesystem::remove_all(base);
}

TEST(ftp_server, a_directory_of_ten_thousand_entries_is_listed_completely) {
  std::shared_ptr<fs::memory_core> core;
  running_server<fs::memory_filesystem> srv{memory_backend(&core), fast_options()};
  ASSERT_FALSE(core->mkdir("/many", 0755));
  for (int i = 0; i < 10000; ++i) put(*core, "/many/file-" + std::to_string(i), "");
  run_coroutine([&](asio::io_context& ioc) -> asio::awaitable<void> {
    ftp::client c{ioc.get_executor()};
    co_await c.async_connect(tcp::endpoint{asio::ip::make_address("127.0.0.1"), srv.port()}, use_awaitable);
    co_await c.async_login("user", "secret", use_awaitable);
    auto names = co_await c.async_name_list("many", use_awaitable);
    EXPECT_EQ(names.size(), 10000u);
    auto entries = co_await c.async_list("many", use_awaitable);  // MLSD
    EXPECT_EQ(entries.size(), 10000u);
    auto r = co_await c.async_command("STAT", "many", use_awaitable);
    EXPECT_EQ(r.code, 213);
    EXPECT_LE(r.lines.size(), limits::ftp_server_max_stat_entries + 2);
  });
}

TEST(ftp_server, a_very_deep_directory_can_be_entered_and_listed) {
  std::shared_ptr<fs::memory_core> core;
  running_server<fs::memory_filesystem> srv{memory_backend(&core), fast_options()};
  std::string path;
  for (int i = 0; i < 300; ++i) {
    path += "/d" + std::to_string(i % 10);
    ASSERT_FALSE(core->mkdir(path, 0755));
  }
  put(*core, path + "/leaf", "bottom");
  run_coroutine([&](asio::io_context& ioc) -> asio::awaitable<void> {
    ftp::client c{ioc.get_executor()};
    co_await c.async_connect(tcp::endpoint{asio::ip::make_address("127.0.0.1"), srv.port()}, use_awaitable);
    co_await c.async_login("user", "secret", use_awaitable);
    co_await c.async_cwd(path, use_awaitable);
    EXPECT_EQ(co_await c.async_pwd(use_awaitable), path);
    auto entries = co_await c.async_list("", use_awaitable);
    EXPECT_EQ(entries.size(), 1u);
    std::string got;
    co_await c.async_retrieve(path + "/leaf", to_string(got), {}, use_awaitable);
    EXPECT_EQ(got, "bottom");
    for (int i = 0; i < 400; ++i) co_await c.async_command("CDUP", "", use_awaitable);
    EXPECT_EQ(co_await c.async_pwd(use_awaitable), "/");
  });
}

TEST(ftp_server, an_idle_client_is_disconnected_with_421) {
  auto o = fast_options();
  o.idle_timeout = std::chrono::milliseconds(300);
  running_server<fs::memory_filesystem> srv{memory_backend(), o};
  raw_control c{srv.port()};
  c.login();
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(c.code(), 421);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(250));
  EXPECT_TRUE(c.closed_by_peer());
}

TEST(ftp_server, a_client_that_does_not_log_in_in_time_is_disconnected) {
  auto o = fast_options();
  o.login_timeout = std::chrono::milliseconds(300);
  running_server<fs::memory_filesystem> srv{memory_backend(), o};
  raw_control c{srv.port()};
  EXPECT_EQ(c.code(), 220);
  EXPECT_EQ(c.command("NOOP"), 200);  // activity does not extend the login deadline
  EXPECT_EQ(c.code(), 421);
  EXPECT_TRUE(c.closed_by_peer());
}

TEST(ftp_server, three_failed_logins_disconnect_after_a_delay_each) {
  auto o = fast_options();
  o.login_failure_delay = std::chrono::milliseconds(100);
  running_server<fs::memory_filesystem> srv{memory_backend(), o};
  raw_control c{srv.port()};
  EXPECT_EQ(c.code(), 220);
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(c.command("USER user"), 331);
    EXPECT_EQ(c.command("PASS wrong"), 530);
  }
  EXPECT_EQ(c.command("USER user"), 331);
  EXPECT_EQ(c.command("PASS wrong"), 421);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(300));
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_EQ(srv.log.count(ftp::server_event::kind::login_failed), 3u);
}

TEST(ftp_server, cross_protocol_junk_before_login_is_cut_off) {
  running_server<fs::memory_filesystem> srv{memory_backend(), fast_options()};
  raw_control c{srv.port()};
  EXPECT_EQ(c.code(), 220);
  // An HTTP request sent to the FTP port (ALPACA): each line is an unknown command.
  c.send("GET / HTTP/1.1\r\nHost: victim\r\nUser-Agent: x\r\nAccept: */*\r\nCookie: a\r\n"
         "X-One: 1\r\nX-Two: 2\r\n\r\n");
  int replies = 0;
  for (;;) {
    auto code = c.code();
    if (code == 0 || code == 421) break;
    ++replies;
  }
  EXPECT_LE(replies, 5);
  EXPECT_TRUE(c.closed_by_peer());
}

TEST(ftp_server, paths_that_leave_the_root_are_refused_with_550) {
  auto base = std::filesystem::temp_directory_path() / ("ferry-ftpd-" + std::to_string(::getpid()) + "-esc");
  std::filesystem::create_directories(base / "root");
  std::filesystem::create_directories(base / "outside");
  std::ofstream(base / "outside" / "secret") << "secret";
  std::ofstream(base / "root" / "public") << "public";
  std::filesystem::create_symlink("../outside/secret", base / "root" / "rel-link");
  std::filesystem::create_symlink(base / "outside" / "secret", base / "root" / "abs-link");
  std::filesystem::create_directory_symlink(base / "outside", base / "root" / "dir-link");
  {
    running_server<fs::local_filesystem> srv{
        [&](asio::any_io_executor ex) {
          error_code ec;
          return fs::make_local_filesystem(ex, (base / "root").string(), {}, ec);
        },
        fast_options()};
    raw_control c{srv.port()};
    c.login();
    auto host_path = (base / "outside" / "secret").string();
    for (std::string p : {std::string{"../outside/secret"}, std::string{"/../outside/secret"},
                          std::string{"rel-link"}, std::string{"abs-link"},
                          std::string{"dir-link/secret"}, host_path}) {
      EXPECT_EQ(c.command("SIZE " + p), 550) << p;
      EXPECT_EQ(c.command("MDTM " + p), 550) << p;
    }
    // Removing or renaming what is outside: the names resolve inside the root, where nothing is.
    for (std::string p : {std::string{"../outside/secret"}, std::string{"dir-link/secret"}, host_path}) {
      EXPECT_EQ(c.command("DELE " + p), 550) << p;
      EXPECT_EQ(c.command("RNFR " + p), 550) << p;
    }
    c.pasv();
    EXPECT_EQ(c.command("RETR rel-link"), 550);
    EXPECT_EQ(c.command("CWD .."), 250);
    EXPECT_NE(c.command_text("PWD").find("\"/\""), std::string::npos);
    EXPECT_EQ(c.command("SIZE public"), 213);
  }
  EXPECT_TRUE(std::filesystem::exists(base / "outside" / "secret"));
  std::filesystem::remove_all(base);
}

TEST(ftp_server, a_failed_atomic_upload_leaves_neither_a_partial_file_nor_a_temporary) {
  std::shared_ptr<fs::memory_core> core;
  auto o = fast_options();
  o.atomic_upload = true;
  running_server<fs::memory_filesystem> srv{
      [&](asio::any_io_executor ex) {
        fs::memory_options mo;
        mo.capacity = 1024 * 1024;
        core = fs::memory_core::create(mo);
        return fs::memory_filesystem{ex, core};
      },
      o};
  put(*core, "/keep.bin", "original");
  run_coroutine([&](asio::io_context& ioc) -> asio::awaitable<void> {
    ftp::client c{ioc.get_executor()};
    co_await c.async_connect(tcp::endpoint{asio::ip::make_address("127.0.0.1"), srv.port()}, use_awaitable);
    co_await c.async_login("user", "secret", use_awaitable);
    auto big = payload(3 * 1024 * 1024, 5);
    auto [ec, n] = co_await c.async_store("keep.bin", from_string(big), {},
                                          asio::as_tuple(use_awaitable));
    (void)n;
    EXPECT_TRUE(ec);
    EXPECT_EQ(c.last_reply().code, 452);  // no space: RFC 959 §4.2.2
    auto small = payload(1000, 6);
    co_await c.async_store("keep2.bin", from_string(small), {}, use_awaitable);
    auto names = co_await c.async_name_list("", use_awaitable);
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"keep.bin", "keep2.bin"}));
  });
  EXPECT_EQ(get(*core, "/keep.bin").value_or("?"), "original");
}

TEST(ftp_server, connections_over_the_per_address_limit_get_421) {
  auto o = fast_options();
  o.max_connections_per_ip = 2;
  running_server<fs::memory_filesystem> srv{memory_backend(), o};
  raw_control a{srv.port()}, b{srv.port()};
  EXPECT_EQ(a.code(), 220);
  EXPECT_EQ(b.code(), 220);
  raw_control c{srv.port()};
  EXPECT_EQ(c.code(), 421);
  EXPECT_TRUE(c.closed_by_peer());
  // Another address still gets in.
  raw_control d{srv.port(), "127.0.0.3"};
  EXPECT_EQ(d.code(), 220);
}

TEST(ftp_server, login_before_tls_is_refused_when_tls_is_required) {
  auto o = fast_options();
  o.require_tls_login = true;
  running_server<fs::memory_filesystem> srv{memory_backend(), o, true};
  raw_control c{srv.port()};
  EXPECT_EQ(c.code(), 220);
  EXPECT_EQ(c.command("USER user"), 530);
  EXPECT_EQ(c.command("PASS secret"), 503);
  EXPECT_EQ(c.command("LIST"), 530);
}

TEST(ftp_server, hash_reports_the_sha256_of_a_file_and_of_a_range) {
  std::shared_ptr<fs::memory_core> core;
  running_server<fs::memory_filesystem> srv{memory_backend(&core), fast_options()};
  auto data = payload(300000, 7);
  put(*core, "/h.bin", data);
  auto hex = [](byte_view d) {
    std::string s;
    char b[3];
    for (auto x : d) {
      std::snprintf(b, sizeof b, "%02x", x);
      s += b;
    }
    return s;
  };
  raw_control c{srv.port()};
  c.login();
  auto r = c.command_text("HASH h.bin");
  EXPECT_EQ(r, "213 SHA-256 0-299999 " + hex(crypto::sha256(as_bytes(data))) + " h.bin\r\n");
  EXPECT_EQ(c.command("RANG 10 19"), 350);
  r = c.command_text("HASH h.bin");
  EXPECT_EQ(r, "213 SHA-256 10-19 " + hex(crypto::sha256(as_bytes(std::string_view{data}.substr(10, 10)))) +
                   " h.bin\r\n");
  EXPECT_EQ(c.command("OPTS HASH SHA-1"), 200);
  r = c.command_text("HASH h.bin");
  EXPECT_EQ(r.substr(0, 10), "213 SHA-1 ");
  EXPECT_EQ(c.command("OPTS HASH MD4"), 501);
  // MD5 (draft-bryan-ftpext-hash-02 lists it; clients ask for it), also over a RANG range.
  EXPECT_EQ(c.command("OPTS HASH MD5"), 200);
  r = c.command_text("HASH h.bin");
  EXPECT_EQ(r, "213 MD5 0-299999 " + hex(crypto::hash(crypto::hash_alg::md5, as_bytes(data))) + " h.bin\r\n");
  EXPECT_EQ(c.command("RANG 5 1004"), 350);
  r = c.command_text("HASH h.bin");
  EXPECT_EQ(r, "213 MD5 5-1004 " +
                   hex(crypto::hash(crypto::hash_alg::md5, as_bytes(std::string_view{data}.substr(5, 1000)))) +
                   " h.bin\r\n");
}

TEST(ftp_server, client_hash_asks_for_md5_and_sha1_of_files_and_ranges) {
  std::shared_ptr<fs::memory_core> core;
  running_server<fs::memory_filesystem> srv{memory_backend(&core), fast_options()};
  auto data = payload(100000, 9);
  put(*core, "/h.bin", data);
  auto hex = [](const bytes& d) {
    std::string s;
    char b[3];
    for (auto x : d) {
      std::snprintf(b, sizeof b, "%02x", x);
      s += b;
    }
    return s;
  };
  run_coroutine([&](asio::io_context& ioc) -> asio::awaitable<void> {
    ftp::client c{ioc.get_executor()};
    co_await c.async_connect(tcp::endpoint{asio::ip::make_address("127.0.0.1"), srv.port()}, use_awaitable);
    co_await c.async_login("user", "secret", use_awaitable);
    EXPECT_NE(c.server_features().params("HASH").find("MD5"), std::string::npos);
    ftp::hash_options md5;
    md5.algorithm = ftp::hash_name::md5;
    auto h = co_await c.async_hash("h.bin", md5, use_awaitable);
    EXPECT_EQ(h.algorithm, ftp::hash_name::md5);
    EXPECT_EQ(h.start, 0u);
    EXPECT_EQ(h.end, data.size() - 1);
    EXPECT_EQ(h.hex, hex(crypto::hash(crypto::hash_alg::md5, as_bytes(data))));
    EXPECT_EQ(h.path, "h.bin");
    ftp::hash_options part;
    part.range = std::pair<std::uint64_t, std::uint64_t>{100, 199};
    h = co_await c.async_hash("h.bin", part, use_awaitable);  // still MD5: OPTS HASH stays
    EXPECT_EQ(h.algorithm, ftp::hash_name::md5);
    EXPECT_EQ(h.start, 100u);
    EXPECT_EQ(h.end, 199u);
    EXPECT_EQ(h.hex, hex(crypto::hash(crypto::hash_alg::md5, as_bytes(std::string_view{data}.substr(100, 100)))));
    ftp::hash_options sha1;
    sha1.algorithm = ftp::hash_name::sha1;
    h = co_await c.async_hash("h.bin", sha1, use_awaitable);
    EXPECT_EQ(h.hex, hex(crypto::hash(crypto::hash_alg::sha1, as_bytes(data))));
    ftp::hash_options defaults;
    auto nothrow = asio::as_tuple(use_awaitable);
    auto [ec, none] = co_await c.async_hash("missing.bin", defaults, nothrow);
    (void)none;
    EXPECT_EQ(ec.value(), 550);
    co_await c.async_quit(use_awaitable);
  });
}

// The local backend's binary downloads over plain TCP go through sendfile(2); REST and RANG
// offsets and ranges must come out exactly as with reads and writes (and over TLS, which reads).
TEST(ftp_server, local_file_downloads_with_offsets_and_ranges_are_exact_plain_and_tls) {
  ferry_test_support::temp_dir dir{"ferry-ftp-sendfile"};
  auto root = (dir.path() / "root").string();
  std::filesystem::create_directories(root);
  auto data = payload(9 * 1024 * 1024 + 321, 11);  // more than one 4 MiB sendfile slice
  ferry_test_support::write_file(dir.path() / "root" / "big.bin", data);
  running_server<fs::local_filesystem> srv{[root](asio::any_io_executor ex) {
                                             error_code ec;
                                             return fs::make_local_filesystem(ex, root, {}, ec);
                                           },
                                           fast_options(), true};
  asio::ssl::context tls{asio::ssl::context::tls_client};
  tls.set_verify_mode(asio::ssl::verify_none);
  for (bool encrypted : {false, true}) {
    SCOPED_TRACE(encrypted ? "explicit TLS" : "plain");
    run_coroutine([&](asio::io_context& ioc) -> asio::awaitable<void> {
      ftp::client_options co;
      co.tls_context = &tls;
      co.tls = encrypted ? ftp::tls_mode::explicit_tls : ftp::tls_mode::none;
      ftp::client c{ioc.get_executor(), co};
      co_await c.async_connect(tcp::endpoint{asio::ip::make_address("127.0.0.1"), srv.port()}, use_awaitable);
      co_await c.async_login("user", "secret", use_awaitable);
      std::string whole;
      co_await c.async_retrieve("big.bin", to_string(whole), {}, use_awaitable);
      EXPECT_TRUE(whole == data);
      std::string tail;
      ftp::transfer_options from;
      from.offset = 5 * 1024 * 1024 + 7;
      co_await c.async_retrieve("big.bin", to_string(tail), from, use_awaitable);
      EXPECT_TRUE(tail == data.substr(from.offset));
      std::string past;
      ftp::transfer_options beyond;
      beyond.offset = data.size() + 10;
      co_await c.async_retrieve("big.bin", to_string(past), beyond, use_awaitable);
      EXPECT_TRUE(past.empty());
      // RANG start end (inclusive) then RETR: exactly those bytes.
      auto rang = co_await c.async_command("RANG", "4194300 8388610", use_awaitable);
      EXPECT_EQ(rang.code, 350);
      std::string part;
      co_await c.async_retrieve("big.bin", to_string(part), {}, use_awaitable);
      EXPECT_TRUE(part == data.substr(4194300, 8388610 - 4194300 + 1));
      co_await c.async_quit(use_awaitable);
    });
  }
}

TEST(ftp_server, passive_ports_stay_in_the_configured_range) {
  auto o = fast_options();
  o.passive_port_min = 47300;
  o.passive_port_max = 47319;
  running_server<fs::memory_filesystem> srv{memory_backend(), o};
  raw_control c{srv.port()};
  c.login();
  std::set<std::uint16_t> seen;
  for (int i = 0; i < 12; ++i) {
    auto r = c.command_text("EPSV");
    ASSERT_EQ(r.substr(0, 4), "229 ") << r;
    std::uint16_t port = 0;
    ASSERT_FALSE(ftp::parse_epsv_reply(r.substr(4, r.size() - 6), port)) << r;
    EXPECT_GE(port, 47300);
    EXPECT_LE(port, 47319);
    seen.insert(port);
  }
  // Twelve random draws from twenty ports: not all the same one.
  EXPECT_GT(seen.size(), 1u);
}

TEST(ftp_server, rfc959_commands_without_data_connections_answer_as_specified) {
  std::shared_ptr<fs::memory_core> core;
  running_server<fs::memory_filesystem> srv{memory_backend(&core), fast_options()};
  put(*core, "/f", "x");
  raw_control c{srv.port()};
  EXPECT_EQ(c.code(), 220);
  EXPECT_EQ(c.command("HOST example.org"), 220);  // RFC 7151
  EXPECT_EQ(c.command("SYST"), 215);
  EXPECT_EQ(c.command("FEAT"), 211);
  EXPECT_EQ(c.command("HELP"), 214);
  EXPECT_EQ(c.command("CWD /"), 530);
  EXPECT_EQ(c.command("CCC"), 534);  // refused by policy (session.hpp says why)
  c.send("USER user\r\nPASS secret\r\n");  // pipelined login
  EXPECT_EQ(c.code(), 331);
  EXPECT_EQ(c.code(), 230);
  EXPECT_EQ(c.command("ACCT x"), 202);
  EXPECT_EQ(c.command("TYPE A N"), 200);
  EXPECT_EQ(c.command("TYPE E"), 504);
  EXPECT_EQ(c.command("TYPE I"), 200);
  EXPECT_EQ(c.command("STRU F"), 200);
  EXPECT_EQ(c.command("STRU R"), 504);
  EXPECT_EQ(c.command("MODE S"), 200);
  EXPECT_EQ(c.command("MODE B"), 504);
  EXPECT_EQ(c.command("ALLO 100"), 202);
  EXPECT_EQ(c.command("REST abc"), 501);
  EXPECT_EQ(c.command("REST 0"), 350);
  EXPECT_EQ(c.command("OPTS UTF8 ON"), 200);
  EXPECT_EQ(c.command("NOOP"), 200);
  EXPECT_EQ(c.command("STAT"), 211);
  EXPECT_EQ(c.command("MKD d"), 257);
  EXPECT_EQ(c.command("XMKD d"), 550);
  EXPECT_EQ(c.command("RNTO x"), 503);
  EXPECT_EQ(c.command("RNFR f"), 350);
  EXPECT_EQ(c.command("RNTO d/g"), 250);
  EXPECT_EQ(c.command("SITE CHMOD 600 d/g"), 200);
  EXPECT_EQ(c.command("SITE CHMOD 9 d/g"), 501);
  EXPECT_EQ(c.command("SITE FOO"), 504);
  EXPECT_EQ(c.command("MFMT 20200102030405 d/g"), 213);
  EXPECT_EQ(c.command_text("MDTM d/g"), "213 20200102030405\r\n");
  auto mlst = c.command_text("MLST d/g");
  EXPECT_NE(mlst.find("type=file;size=1;modify=20200102030405;"), std::string::npos) << mlst;
  EXPECT_NE(mlst.find("UNIX.mode=0600;"), std::string::npos) << mlst;
  EXPECT_EQ(c.command("CDUP"), 250);
  EXPECT_EQ(c.command("CWD d"), 250);
  EXPECT_EQ(c.command("XPWD"), 257);
  EXPECT_EQ(c.command("XCUP"), 250);
  EXPECT_EQ(c.command("RMD d"), 550);  // not empty
  EXPECT_EQ(c.command("DELE d/g"), 250);
  EXPECT_EQ(c.command("RMD d"), 250);
  EXPECT_EQ(c.command("ABOR"), 225);
  EXPECT_EQ(c.command("EPSV 2"), 522);
  EXPECT_EQ(c.command("FOO"), 502);
  EXPECT_EQ(c.command("REIN"), 220);
  EXPECT_EQ(c.command("PWD"), 530);
  EXPECT_EQ(c.command("QUIT"), 221);
  EXPECT_TRUE(c.closed_by_peer());
}

TEST(ftp_server, stou_creates_a_new_name_and_reports_it) {
  std::shared_ptr<fs::memory_core> core;
  running_server<fs::memory_filesystem> srv{memory_backend(&core), fast_options()};
  raw_control c{srv.port()};
  c.login();
  auto port = c.pasv();
  tcp::socket data{c.context()};
  data.connect({asio::ip::make_address("127.0.0.1"), port});
  auto r = c.command_text("STOU");
  ASSERT_EQ(r.substr(0, 10), "150 FILE: ");
  auto name = r.substr(10, r.size() - 12);
  asio::write(data, asio::buffer(std::string_view{"unique"}));
  data.close();
  EXPECT_EQ(c.code(), 226);
  EXPECT_EQ(get(*core, "/" + name).value_or("?"), "unique");
}

TEST(ftp_server, a_read_only_user_cannot_change_anything) {
  std::shared_ptr<fs::memory_core> core;
  running_server<fs::memory_filesystem> srv{memory_backend(&core), fast_options()};
  put(*core, "/f", "x");
  raw_control c{srv.port()};
  c.login("reader");
  EXPECT_EQ(c.command("MKD d"), 550);
  EXPECT_EQ(c.command("DELE f"), 550);
  EXPECT_EQ(c.command("RNFR f"), 550);
  EXPECT_EQ(c.command("SIZE f"), 213);
  c.pasv();
  EXPECT_EQ(c.command("STOR g"), 550);
}

TEST(ftp_server, a_user_with_a_sub_root_sees_only_it) {
  std::shared_ptr<fs::memory_core> core;
  running_server<fs::memory_filesystem> srv{memory_backend(&core), fast_options()};
  ASSERT_FALSE(core->mkdir("/jail", 0755));
  put(*core, "/jail/inside", "in");
  put(*core, "/outside", "out");
  raw_control c{srv.port()};
  c.login("jail");
  EXPECT_EQ(c.command("SIZE inside"), 213);
  EXPECT_EQ(c.command("SIZE /outside"), 550);
  EXPECT_EQ(c.command("SIZE ../outside"), 550);
}

}  // namespace

namespace {

// RFC 4217 §12.6: an upload whose TLS data connection ends without close_notify may be cut
// short by an attacker; the server must not take it as complete.
TEST(ftp_server, tls_upload_without_close_notify_is_not_committed) {
  std::shared_ptr<fs::memory_core> core;
  auto o = fast_options();
  o.atomic_upload = true;
  running_server<fs::memory_filesystem> srv{memory_backend(&core), o, true};
  raw_control c{srv.port()};
  EXPECT_EQ(c.code(), 220);
  c.send("AUTH TLS\r\n");
  EXPECT_EQ(c.code(), 234);
  asio::ssl::context ctx{asio::ssl::context::tls_client};
  ctx.set_verify_mode(asio::ssl::verify_none);
  asio::ssl::stream<tcp::socket&> tls{c.socket(), ctx};
  tls.handshake(asio::ssl::stream_base::client);
  std::string buf;
  auto command = [&](std::string_view line) {
    asio::write(tls, asio::buffer(std::string{line} + "\r\n"));
    auto n = asio::read_until(tls, asio::dynamic_buffer(buf), "\r\n");
    auto r = buf.substr(0, n);
    buf.erase(0, n);
    return r;
  };
  EXPECT_EQ(command("USER user").substr(0, 3), "331");
  EXPECT_EQ(command("PASS secret").substr(0, 3), "230");
  EXPECT_EQ(command("PBSZ 0").substr(0, 3), "200");
  EXPECT_EQ(command("PROT P").substr(0, 3), "200");
  // The clean upload first: OpenSSL drops a session from its cache after an unclean end.
  for (bool clean : {true, false}) {
    auto r = command("PASV");
    ASSERT_EQ(r.substr(0, 3), "227");
    int h1, h2, h3, h4, p1, p2;
    ASSERT_EQ(std::sscanf(r.c_str() + r.find('(') + 1, "%d,%d,%d,%d,%d,%d", &h1, &h2, &h3, &h4, &p1, &p2), 6);
    tcp::socket data{c.context()};
    data.connect({asio::ip::make_address("127.0.0.1"), std::uint16_t(p1 * 256 + p2)});
    EXPECT_EQ(command(clean ? "STOR clean.bin" : "STOR cut.bin").substr(0, 3), "150");
    asio::ssl::stream<tcp::socket&> dtls{data, ctx};
    crypto::tls::offer_session(dtls.native_handle(), crypto::tls::current_session(tls.native_handle()));
    dtls.handshake(asio::ssl::stream_base::client);
    asio::write(dtls, asio::buffer(std::string_view{"partial data"}));
    if (clean) {
      error_code ignored;
      dtls.shutdown(ignored);
    }
    data.close();  // without close_notify when !clean
    asio::read_until(tls, asio::dynamic_buffer(buf), "\r\n");
    auto fin = buf.substr(0, buf.find("\r\n") + 2);
    buf.erase(0, fin.size());
    EXPECT_EQ(fin.substr(0, 3), clean ? "226" : "426") << fin;
  }
  EXPECT_FALSE(get(*core, "/cut.bin"));
  EXPECT_EQ(get(*core, "/clean.bin").value_or("?"), "partial data");
}

}  // namespace
