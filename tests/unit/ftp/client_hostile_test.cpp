// ftp::client against a scripted, misbehaving server on loopback (in process): bogus 227/229
// replies, a 227 pointing elsewhere, bytes pipelined after 234, over-long and never-ending
// replies, data connections from the wrong host, negative replies, cancellation.
#include <ferry/ftp/client.hpp>
#include <ferry/ftp/proto/address.hpp>
#include <ferry/ftp/proto/command.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <gtest/gtest.h>

#include <map>

using namespace ferry;
namespace asio = boost::asio;
using asio::ip::tcp;
using asio::use_awaitable;

namespace {

constexpr auto nothrow = asio::as_tuple(use_awaitable);

// Answers each command from a table (verb → raw reply bytes, sent as is). RETR, LIST, MLSD and
// NLST (unless the table answers them) send retr_data / data[verb] over the data connection:
// passive, accepted on the listener whose port the table's 227/229 replies name; active,
// connected to the EPRT address from active_source.
struct fake_server {
  explicit fake_server(asio::io_context& ioc)
      : acceptor(ioc, tcp::endpoint{asio::ip::make_address("127.0.0.1"), 0}),
        data_acceptor(ioc, tcp::endpoint{asio::ip::make_address("127.0.0.1"), 0}) {}

  tcp::acceptor acceptor;
  tcp::acceptor data_acceptor;
  std::string greeting = "220 fake server\r\n";
  std::map<std::string, std::string> replies = {
      {"USER", "331 password please\r\n"}, {"PASS", "230 logged in\r\n"},
      {"FEAT", "211 no features\r\n"},     {"TYPE", "200 ok\r\n"},
      {"QUIT", "221 bye\r\n"},             {"NOOP", "200 ok\r\n"}};
  std::string retr_data = "hello";
  std::string active_source = "127.0.0.1";
  std::map<std::string, std::string> data = {{"LIST", ""}, {"MLSD", ""}, {"NLST", ""}};
  std::map<std::string, int> seen;  // verb → count
  std::vector<ftp::command> log;    // every command, in order
  std::optional<tcp::endpoint> data_peer;
  std::optional<tcp::socket> pending_data;
  std::optional<ftp::net_endpoint> active_target;

  std::uint16_t port() const { return acceptor.local_endpoint().port(); }
  std::uint16_t data_port() const { return data_acceptor.local_endpoint().port(); }

  std::string pasv_reply(std::string_view host) const {
    auto p = data_port();
    return "227 Entering Passive Mode (" + std::string{host} + "," + std::to_string(p >> 8) +
           "," + std::to_string(p & 0xff) + ").\r\n";
  }

  asio::awaitable<void> serve() {
    auto [aec, sock] = co_await acceptor.async_accept(nothrow);
    if (aec) co_return;
    co_await asio::async_write(sock, asio::buffer(greeting), nothrow);
    ftp::command_reader reader;
    std::string buf;
    char tmp[4096];
    for (;;) {
      error_code ec;
      auto used = reader.feed(buf, ec);
      buf.erase(0, used);
      if (ec == ftp::errc::line_too_long) co_return;
      if (!reader.has_command()) {
        if (ec) continue;
        auto [rec, n] = co_await sock.async_read_some(asio::buffer(tmp), nothrow);
        if (rec) co_return;
        buf.append(tmp, n);
        continue;
      }
      auto cmd = reader.take();
      ++seen[cmd.verb];
      log.push_back(cmd);
      if (cmd.verb == "EPRT") {
        ftp::net_endpoint e;
        if (!ftp::parse_eprt_argument(cmd.argument, e)) active_target = e;
      }
      bool sends_data = !replies.count(cmd.verb) && (cmd.verb == "RETR" || data.count(cmd.verb));
      if (sends_data) {
        auto payload = cmd.verb == "RETR" ? retr_data : data[cmd.verb];
        co_await asio::async_write(sock, asio::buffer(std::string{"150 here it comes\r\n"}),
                                   nothrow);
        tcp::socket data_socket{sock.get_executor()};
        if (active_target) {
          data_socket.open(tcp::v4());
          data_socket.bind(tcp::endpoint{asio::ip::make_address(active_source), 0});
          asio::ip::address_v4::bytes_type b;
          std::copy_n(active_target->address.begin(), 4, b.begin());
          auto [cec] = co_await data_socket.async_connect(
              tcp::endpoint{asio::ip::address_v4{b}, active_target->port}, nothrow);
          if (cec) co_return;
        } else if (pending_data) {
          data_socket = std::move(*pending_data);
          pending_data.reset();
        } else {
          co_return;
        }
        co_await asio::async_write(data_socket, asio::buffer(payload), nothrow);
        data_socket.close();
        co_await asio::async_write(sock, asio::buffer(std::string{"226 done\r\n"}), nothrow);
        continue;
      }
      auto it = replies.find(cmd.verb);
      std::string r = it == replies.end() ? "502 not implemented\r\n" : it->second;
      if (r == "HANG") continue;  // never answer
      co_await asio::async_write(sock, asio::buffer(r), nothrow);
      if (cmd.verb == "QUIT") co_return;
      if (r.starts_with("227") || r.starts_with("229")) {
        // Like a real server, take the data connection for this PASV/EPSV now (a connection the
        // client opens and drops must not be served to the next command).
        auto [dec, d] = co_await data_acceptor.async_accept(nothrow);
        if (dec) co_return;
        data_peer = d.remote_endpoint();
        pending_data = std::move(d);
      }
    }
  }
};

// Runs the server and a client coroutine; returns when the client is done.
template <class F>
void run(asio::io_context& ioc, fake_server& server, F f) {
  asio::co_spawn(ioc, server.serve(), asio::detached);
  bool done = false;
  std::exception_ptr ep;
  asio::co_spawn(ioc, f(), [&](std::exception_ptr e) {
    ep = e;
    done = true;
    ioc.stop();
  });
  ioc.run_for(std::chrono::seconds(10));
  ASSERT_TRUE(done) << "client coroutine did not finish";
  if (ep) std::rethrow_exception(ep);
}

asio::awaitable<error_code> connect_and_login(ftp::client& c, fake_server& s) {
  auto [ec] = co_await c.async_connect("127.0.0.1", s.port(), nothrow);
  if (ec) co_return ec;
  std::tie(ec) = co_await c.async_login("u", "p", nothrow);
  co_return ec;
}

ftp::client_options explicit_tls_options(asio::ssl::context& tls) {
  ftp::client_options o;
  o.tls = ftp::tls_mode::explicit_tls;
  o.tls_context = &tls;
  return o;
}

ftp::client_options active_options() {
  ftp::client_options o;
  o.passive = false;
  return o;
}

}  // namespace

TEST(ftp_client_hostile, address_in_227_is_ignored_for_the_control_peer) {
  asio::io_context ioc;
  fake_server s{ioc};
  s.replies["EPSV"] = "502 no EPSV here\r\n";
  s.replies["PASV"] = s.pasv_reply("10,9,8,7");  // points elsewhere
  run(ioc, s, [&]() -> asio::awaitable<void> {
    ftp::client c{ioc.get_executor()};
    EXPECT_FALSE(co_await connect_and_login(c, s));
    std::string got;
    auto [ec, n] = co_await c.async_retrieve(
        "f",
        [&](byte_view b) {
          got.append(as_chars(b));
          return error_code{};
        },
        {}, nothrow);
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(n, 5u);
    EXPECT_EQ(got, "hello");
    // EPSV was refused once and not tried again (RFC 2428 §3 fallback is remembered).
    std::tie(ec, n) = co_await c.async_retrieve(
        "f", [](byte_view) { return error_code{}; }, {}, nothrow);
    EXPECT_FALSE(ec);
  });
  ASSERT_TRUE(s.data_peer);
  EXPECT_EQ(s.data_peer->address().to_string(), "127.0.0.1");
  EXPECT_EQ(s.seen["EPSV"], 1);
  EXPECT_EQ(s.seen["PASV"], 2);
}

TEST(ftp_client_hostile, bogus_227_numbers_are_refused) {
  for (std::string reply : {"227 Entering Passive Mode (127,0,0,1,300,1)\r\n",
                            "227 Entering Passive Mode (999,0,0,1,4,1)\r\n",
                            "227 Entering Passive Mode (127,0,0,1,0,0)\r\n",
                            "227 Entering Passive Mode (127,0,0,1,4)\r\n",
                            "227 nothing here\r\n"}) {
    asio::io_context ioc;
    fake_server s{ioc};
    s.replies["EPSV"] = "500 unknown\r\n";
    s.replies["PASV"] = reply;
    run(ioc, s, [&]() -> asio::awaitable<void> {
      ftp::client c{ioc.get_executor()};
      EXPECT_FALSE(co_await connect_and_login(c, s));
      auto [ec, n] = co_await c.async_list("", nothrow);
      EXPECT_EQ(ec, ftp::errc::bad_address) << reply << ec.message();
    });
  }
}

TEST(ftp_client_hostile, bogus_229_port_is_refused) {
  for (std::string reply : {"229 Entering Extended Passive Mode (|||70000|)\r\n",
                            "229 Entering Extended Passive Mode (|||0|)\r\n",
                            "229 Entering Extended Passive Mode (|1.2.3.4||21|)\r\n"}) {
    asio::io_context ioc;
    fake_server s{ioc};
    s.replies["EPSV"] = reply;
    run(ioc, s, [&]() -> asio::awaitable<void> {
      ftp::client c{ioc.get_executor()};
      EXPECT_FALSE(co_await connect_and_login(c, s));
      auto [ec, n] = co_await c.async_list("", nothrow);
      EXPECT_EQ(ec, ftp::errc::bad_address) << reply;
    });
  }
}

TEST(ftp_client_hostile, bytes_pipelined_after_234_are_refused) {
  asio::io_context ioc;
  fake_server s{ioc};
  // A man in the middle answers AUTH TLS and injects a reply before the handshake.
  s.replies["AUTH"] = "234 go ahead\r\n230 injected login\r\n";
  asio::ssl::context tls{asio::ssl::context::tls_client};
  run(ioc, s, [&]() -> asio::awaitable<void> {
    ftp::client c{ioc.get_executor(), explicit_tls_options(tls)};
    auto [ec] = co_await c.async_connect("127.0.0.1", s.port(), nothrow);
    EXPECT_EQ(ec, ftp::errc::pipelined_after_tls);
    EXPECT_FALSE(c.control_encrypted());
  });
}

TEST(ftp_client_hostile, partial_line_pipelined_after_234_is_refused) {
  asio::io_context ioc;
  fake_server s{ioc};
  s.replies["AUTH"] = "234 go ahead\r\n2";
  asio::ssl::context tls{asio::ssl::context::tls_client};
  run(ioc, s, [&]() -> asio::awaitable<void> {
    ftp::client c{ioc.get_executor(), explicit_tls_options(tls)};
    auto [ec] = co_await c.async_connect("127.0.0.1", s.port(), nothrow);
    EXPECT_EQ(ec, ftp::errc::pipelined_after_tls);
  });
}

TEST(ftp_client_hostile, reply_line_over_the_cap_is_an_error) {
  asio::io_context ioc;
  fake_server s{ioc};
  s.greeting = "220 " + std::string(limits::ftp_max_line + 10, 'x') + "\r\n";
  run(ioc, s, [&]() -> asio::awaitable<void> {
    ftp::client c{ioc.get_executor()};
    auto [ec] = co_await c.async_connect("127.0.0.1", s.port(), nothrow);
    EXPECT_EQ(ec, ftp::errc::line_too_long);
  });
}

TEST(ftp_client_hostile, multi_line_reply_that_never_ends_is_bounded) {
  asio::io_context ioc;
  fake_server s{ioc};
  s.greeting = "220-welcome\r\n";
  for (std::size_t i = 0; i <= limits::ftp_max_reply_lines; ++i) s.greeting += "220-more\r\n";
  run(ioc, s, [&]() -> asio::awaitable<void> {
    ftp::client c{ioc.get_executor()};
    auto [ec] = co_await c.async_connect("127.0.0.1", s.port(), nothrow);
    EXPECT_EQ(ec, ftp::errc::reply_too_long);
  });
}

TEST(ftp_client_hostile, negative_replies_carry_class_and_text) {
  asio::io_context ioc;
  fake_server s{ioc};
  s.replies["DELE"] = "450 file busy, try later\r\n";
  s.replies["RMD"] = "550-Permission denied.\r\n550 Really.\r\n";
  run(ioc, s, [&]() -> asio::awaitable<void> {
    ftp::client c{ioc.get_executor()};
    EXPECT_FALSE(co_await connect_and_login(c, s));
    auto [ec] = co_await c.async_remove("x", nothrow);
    EXPECT_EQ(ec.value(), 450);
    EXPECT_TRUE(ftp::is_transient(ec));
    EXPECT_EQ(c.last_reply().text(), "file busy, try later");
    std::tie(ec) = co_await c.async_rmdir("d", nothrow);
    EXPECT_TRUE(ftp::is_permanent(ec));
    EXPECT_EQ(c.last_reply().text(), "Permission denied.\nReally.");
    // The connection is still usable after negative replies.
    std::tie(ec) = co_await c.async_noop(nothrow);
    EXPECT_FALSE(ec);
  });
}

TEST(ftp_client_hostile, control_connection_has_tcp_nodelay) {
  asio::io_context ioc;
  fake_server s{ioc};
  run(ioc, s, [&]() -> asio::awaitable<void> {
    ftp::client c{ioc.get_executor()};
    EXPECT_FALSE(co_await connect_and_login(c, s));
    tcp::no_delay nd;
    c.control_socket().get_option(nd);
    EXPECT_TRUE(nd.value());
  });
}

TEST(ftp_client_hostile, active_data_connection_from_another_host_is_refused) {
  asio::io_context ioc;
  fake_server s{ioc};
  s.replies["EPRT"] = "200 ok\r\n";
  s.active_source = "127.0.0.2";  // not the control connection's peer
  run(ioc, s, [&]() -> asio::awaitable<void> {
    ftp::client c{ioc.get_executor(), active_options()};
    EXPECT_FALSE(co_await connect_and_login(c, s));
    auto [ec, n] = co_await c.async_retrieve(
        "f", [](byte_view) { return error_code{}; }, {}, nothrow);
    EXPECT_EQ(ec, ftp::errc::bad_address);
  });
  ASSERT_TRUE(s.active_target);
  EXPECT_EQ(s.active_target->family, 1);
}

TEST(ftp_client_hostile, active_data_connection_from_the_server_works) {
  asio::io_context ioc;
  fake_server s{ioc};
  s.replies["EPRT"] = "200 ok\r\n";
  run(ioc, s, [&]() -> asio::awaitable<void> {
    ftp::client c{ioc.get_executor(), active_options()};
    EXPECT_FALSE(co_await connect_and_login(c, s));
    std::string got;
    auto [ec, n] = co_await c.async_retrieve(
        "f",
        [&](byte_view b) {
          got.append(as_chars(b));
          return error_code{};
        },
        {}, nothrow);
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(got, "hello");
  });
}

TEST(ftp_client_hostile, hanging_operation_can_be_cancelled) {
  asio::io_context ioc;
  fake_server s{ioc};
  s.replies["NOOP"] = "HANG";
  run(ioc, s, [&]() -> asio::awaitable<void> {
    ftp::client c{ioc.get_executor()};
    EXPECT_FALSE(co_await connect_and_login(c, s));
    asio::cancellation_signal cancel;
    asio::steady_timer t{ioc, std::chrono::milliseconds(50)};
    t.async_wait([&](error_code) { cancel.emit(asio::cancellation_type::terminal); });
    auto [ec] = co_await c.async_noop(asio::bind_cancellation_slot(cancel.slot(), nothrow));
    EXPECT_EQ(ec, asio::error::operation_aborted);
  });
}

TEST(ftp_client_hostile, injection_characters_in_paths_are_refused_before_sending) {
  asio::io_context ioc;
  fake_server s{ioc};
  run(ioc, s, [&]() -> asio::awaitable<void> {
    ftp::client c{ioc.get_executor()};
    EXPECT_FALSE(co_await connect_and_login(c, s));
    auto [ec] = co_await c.async_remove("a\r\nRMD /", nothrow);
    EXPECT_EQ(ec, ftp::errc::forbidden_character);
  });
  EXPECT_EQ(s.seen.count("DELE"), 0u);
  EXPECT_EQ(s.seen.count("RMD"), 0u);
}

TEST(ftp_client_sequence, login_sends_user_pass_feat_and_type_i) {
  asio::io_context ioc;
  fake_server s{ioc};
  run(ioc, s, [&]() -> asio::awaitable<void> {
    ftp::client c{ioc.get_executor()};
    EXPECT_FALSE(co_await connect_and_login(c, s));
  });
  std::vector<ftp::command> want = {{"USER", "u"}, {"PASS", "p"}, {"FEAT", ""}, {"TYPE", "I"}};
  EXPECT_EQ(s.log, want);
}

TEST(ftp_client_sequence, resume_sends_rest_right_before_retr) {
  asio::io_context ioc;
  fake_server s{ioc};
  s.replies["EPSV"] = "229 Entering Extended Passive Mode (|||" + std::to_string(s.data_port()) +
                      "|)\r\n";
  s.replies["REST"] = "350 restarting\r\n";
  run(ioc, s, [&]() -> asio::awaitable<void> {
    ftp::client c{ioc.get_executor()};
    EXPECT_FALSE(co_await connect_and_login(c, s));
    ftp::transfer_options o;
    o.offset = 1234;
    auto [ec, n] = co_await c.async_retrieve("f", [](byte_view) { return error_code{}; }, o,
                                             nothrow);
    EXPECT_FALSE(ec) << ec.message();
  });
  ASSERT_GE(s.log.size(), 3u);
  auto tail = std::vector<ftp::command>(s.log.end() - 3, s.log.end());
  std::vector<ftp::command> want = {{"EPSV", ""}, {"REST", "1234"}, {"RETR", "f"}};
  EXPECT_EQ(tail, want);
}

TEST(ftp_client_sequence, mlsd_refused_falls_back_to_list_and_is_not_retried) {
  asio::io_context ioc;
  fake_server s{ioc};
  s.replies["FEAT"] = "211-Features:\r\n MLST type*;size*;\r\n211 End\r\n";
  s.replies["EPSV"] = "229 Entering Extended Passive Mode (|||" + std::to_string(s.data_port()) +
                      "|)\r\n";
  s.replies["MLSD"] = "500 Unknown command.\r\n";
  s.data["LIST"] = "-rw-r--r--    1 0        0               5 Nov 21 14:00 hello.txt\r\n";
  run(ioc, s, [&]() -> asio::awaitable<void> {
    ftp::client c{ioc.get_executor()};
    EXPECT_FALSE(co_await connect_and_login(c, s));
    EXPECT_TRUE(c.server_features().has("MLST"));
    for (int i = 0; i < 2; ++i) {
      auto [ec, entries] = co_await c.async_list("", nothrow);
      EXPECT_FALSE(ec) << ec.message();
      if (entries.size() != 1u) {
        ADD_FAILURE() << "entries: " << entries.size();
        co_return;
      }
      EXPECT_EQ(entries[0].name, "hello.txt");
      EXPECT_EQ(entries[0].size, 5u);
    }
  });
  EXPECT_EQ(s.seen["MLSD"], 1);
  EXPECT_EQ(s.seen["LIST"], 2);
}

TEST(ftp_client_sequence, mlsd_listing_is_parsed_and_skips_cdir_pdir) {
  asio::io_context ioc;
  fake_server s{ioc};
  s.replies["FEAT"] = "211-Features:\r\n MLST type*;size*;modify*;\r\n211 End\r\n";
  s.replies["EPSV"] = "229 Entering Extended Passive Mode (|||" + std::to_string(s.data_port()) +
                      "|)\r\n";
  s.data["MLSD"] =
      "type=cdir;modify=20260101000000; .\r\ntype=pdir;modify=20260101000000; ..\r\n"
      "type=file;size=42;modify=20261121140000; a b.txt\r\ntype=dir;modify=20260101000000; d\r\n";
  run(ioc, s, [&]() -> asio::awaitable<void> {
    ftp::client c{ioc.get_executor()};
    EXPECT_FALSE(co_await connect_and_login(c, s));
    auto [ec, entries] = co_await c.async_list("", nothrow);
    EXPECT_FALSE(ec) << ec.message();
    if (entries.size() != 2u) {
      ADD_FAILURE() << "entries: " << entries.size();
      co_return;
    }
    EXPECT_EQ(entries[0].name, "a b.txt");
    EXPECT_EQ(entries[0].size, 42u);
    EXPECT_EQ(entries[1].type, ftp::entry_type::directory);
  });
  EXPECT_EQ(s.seen.count("LIST"), 0u);
}

TEST(ftp_client_hostile, silent_server_times_out) {
  asio::io_context ioc;
  fake_server s{ioc};
  s.replies["NOOP"] = "HANG";
  run(ioc, s, [&]() -> asio::awaitable<void> {
    ftp::client_options o;
    o.reply_timeout = std::chrono::milliseconds(100);
    ftp::client c{ioc.get_executor(), o};
    EXPECT_FALSE(co_await connect_and_login(c, s));
    auto t0 = std::chrono::steady_clock::now();
    auto [ec] = co_await c.async_noop(nothrow);
    EXPECT_EQ(ec, asio::error::timed_out);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  });
}

TEST(ftp_client_tokens, plain_callbacks_and_deferred_work) {
  asio::io_context ioc;
  fake_server s{ioc};
  s.replies["SIZE"] = "213 4242\r\n";
  asio::co_spawn(ioc, s.serve(), asio::detached);
  ftp::client c{ioc.get_executor()};
  std::vector<std::string> steps;
  c.async_connect("127.0.0.1", s.port(), [&](error_code ec) {
    steps.push_back("connect:" + ec.message());
    c.async_login("u", "p", [&](error_code lec) {
      steps.push_back("login:" + lec.message());
      // deferred: the operation starts only when the deferred object is invoked.
      auto op = c.async_size("f", asio::deferred);
      std::move(op)([&](error_code sec, std::uint64_t n) {
        steps.push_back("size:" + sec.message() + ":" + std::to_string(n));
        c.async_quit([&](error_code qec) { steps.push_back("quit:" + qec.message()); });
      });
    });
  });
  ioc.run_for(std::chrono::seconds(10));
  std::vector<std::string> want = {"connect:Success", "login:Success", "size:Success:4242",
                                   "quit:Success"};
  EXPECT_EQ(steps, want);
}
