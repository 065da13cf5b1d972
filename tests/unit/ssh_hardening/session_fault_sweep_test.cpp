// Fault sweeps (issue #12): a whole in-process SSH session — handshake, password authentication,
// a session channel, exec, data both ways, exit status, EOF/CLOSE, disconnect — over test::stream,
// with the n-th I/O operation of one side (and every later one) failing, for n = 0, 1, ... until
// the session completes without reaching the counter; then the same for the other side. Every run
// must end on both sides within a bound, with either a complete, correct session or an error_code
// (never a silent short result); a side that fails tears its end down as a closed socket would.
// ASan runs this (unit label): nothing may leak or be used after free on any of these paths.
#include "support/run_coroutine.hpp"

#include <ferry/ssh/client.hpp>
#include <ferry/ssh/connection.hpp>
#include <ferry/ssh/userauth.hpp>
#include <ferry/test/random.hpp>
#include <ferry/test/stream.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <gtest/gtest.h>

#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <string>

namespace session_fault_sweep_test {
namespace {

namespace asio = boost::asio;
using namespace ferry;
using stream = test::stream;
constexpr auto tok = asio::as_tuple(asio::use_awaitable);

struct password_users {
  auth::method_set methods(const auth::request&) const { return {auth::method::password}; }
  auth::result check_password(const auth::request& r, byte_view pw) const {
    if (r.user != "tester" || as_chars(pw) != "secret") return std::nullopt;
    auth::grant g;
    g.user = "tester";
    return g;
  }
};

std::shared_ptr<const crypto::private_key> host_key() {
  static auto k = [] {
    test::fixed_random rng{5};
    return std::make_shared<const crypto::private_key>(
        crypto::private_key::generate(crypto::key_type::ed25519, rng));
  }();
  return k;
}

// A connected pair whose ends count their operations separately (null: never fail).
std::pair<stream, stream> make_pair(asio::any_io_executor ex, test::fail_count* client_fc,
                                    test::fail_count* server_fc) {
  auto to_server = std::make_shared<test::detail::pipe>();
  auto to_client = std::make_shared<test::detail::pipe>();
  return {stream{ex, to_client, to_server, client_fc}, stream{ex, to_server, to_client, server_fc}};
}

asio::awaitable<void> sleep_ms(int ms) {
  asio::steady_timer t{co_await asio::this_coro::executor};
  t.expires_after(std::chrono::milliseconds{ms});
  co_await t.async_wait(tok);
}

const std::string& payload() {
  static const std::string p = [] {
    std::string s(20000, '\0');
    for (std::size_t i = 0; i < s.size(); ++i) s[i] = char(i * 31 + i / 251);
    return s;
  }();
  return p;
}

struct outcome {
  bool done = false;
  error_code ec;          // the first error this side saw
  std::string echoed;     // client: what came back
  std::optional<std::uint32_t> exit_status;
};

// The server side: handshake, authentication, one session running "echo" (copies its input back
// until EOF, exit status 0), then waits for the client to leave. Its connection object goes when
// this returns: its stream end closes, as a socket would.
asio::awaitable<void> serve(stream s, outcome& out) {
  using conn_t = ssh::connection<stream>;
  ssh::transport_options to;
  to.host_keys.push_back(host_key());
  to.handshake_timeout = std::chrono::seconds{5};
  conn_t conn{ssh::role::server, to, ssh::connection_options{}, std::move(s)};
  auto note = [&](error_code ec) {
    if (ec && !out.ec) out.ec = ec;
  };
  auto [hec] = co_await conn.transport().async_handshake(tok);
  note(hec);
  if (!hec) {
    password_users users;
    ssh::server_auth_options ao;
    ao.failure_delay = std::chrono::milliseconds{0};
    ao.login_grace_time = std::chrono::seconds{5};
    auto [aec, grant] = co_await ssh::async_accept_auth(conn.transport(), users, ao, tok);
    note(aec);
    if (!aec) {
      conn.set_channel_filter([](std::string_view t) { return t == "session"; });
      std::optional<error_code> run;
      conn.async_run([&run](error_code ec) { run = ec; });
      auto [acc, ch] = co_await conn.async_accept(tok);
      note(acc);
      if (!acc) {
        bool exec = false;
        ch.set_request_handler([&](const ssh::detail::channel_request_view& r) {
          exec = exec || r.type == "exec";
          return r.type == "exec";
        });
        ch.accept();
        while (!exec && ch.is_open()) co_await sleep_ms(1);
        std::array<char, 8192> buf;
        for (;;) {
          auto [rec, n] = co_await ch.async_read_some(asio::buffer(buf), tok);
          if (n) {
            auto [wec, wn] = co_await asio::async_write(ch, asio::buffer(buf.data(), n), tok);
            note(wec);
            if (wec) break;
          }
          if (rec) {
            if (rec != asio::error::eof) note(rec);
            break;
          }
        }
        ch.send_exit_status(0);
        ch.send_eof();
        ch.close();
        auto [cec] = co_await ch.async_wait_closed(tok);
        note(cec);
      }
      // The client disconnects (or its end goes away); the run ends either way.
      while (!run) co_await sleep_ms(1);
      if (*run != ssh::disconnect_reason::by_application) note(*run);
    }
  }
  out.done = true;
}

asio::awaitable<void> client_session(stream s, outcome& out) {
  ssh::client_options o;
  o.transport.verify_host_key = [](const ssh::host_key_info&) { return error_code{}; };
  o.transport.handshake_timeout = std::chrono::seconds{5};
  o.auth.user = "tester";
  o.auth.methods = {"password"};
  o.auth.password = [] {
    std::string_view pw = "secret";
    return std::optional<secure_bytes>{secure_bytes(pw.begin(), pw.end())};
  };
  ssh::client<stream> c{std::move(o), std::move(s)};
  auto note = [&](error_code ec) {
    if (ec && !out.ec) out.ec = ec;
  };
  auto [hec] = co_await c.async_handshake(tok);
  note(hec);
  if (!hec) {
    auto opened = co_await c.async_open_exec("echo", tok);
    auto& oec = std::get<0>(opened);  // not structured bindings: clang 14 cannot capture those
    auto& ch = std::get<1>(opened);
    note(oec);
    if (!oec) {
      bool wrote = false;
      auto writer = [&]() -> asio::awaitable<void> {
        auto [wec, n] = co_await asio::async_write(ch, asio::buffer(payload()), tok);
        note(wec);
        if (!wec) ch.send_eof();
        wrote = true;
      };
      asio::co_spawn(co_await asio::this_coro::executor, writer(), asio::detached);
      std::array<char, 8192> buf;
      for (;;) {
        auto [rec, n] = co_await ch.async_read_some(asio::buffer(buf), tok);
        out.echoed.append(buf.data(), n);
        if (rec) {
          if (rec != asio::error::eof) note(rec);
          break;
        }
      }
      while (!wrote) co_await sleep_ms(1);
      auto [cec] = co_await ch.async_wait_closed(tok);
      note(cec);
      out.exit_status = ch.exit_status();
    }
  }
  co_await c.async_disconnect(tok);
  out.done = true;
}

struct run_result {
  outcome client, server;
  bool counter_reached = false;
};

// One session with the n-th operation of one side failing (n = npos: none).
run_result run_session(bool fail_client, std::size_t n) {
  run_result r;
  test::fail_count fc{n};
  asio::io_context ioc;
  auto [a, b] = make_pair(ioc.get_executor(), fail_client ? &fc : nullptr,
                          fail_client ? nullptr : &fc);
  asio::co_spawn(ioc, client_session(std::move(a), r.client), asio::detached);
  asio::co_spawn(ioc, serve(std::move(b), r.server), asio::detached);
  ioc.run_for(std::chrono::seconds{15});
  r.counter_reached = fc.operations() > n;
  return r;
}

void check(const run_result& r, const std::string& what) {
  SCOPED_TRACE(what);
  EXPECT_TRUE(r.client.done) << "the client hung";
  EXPECT_TRUE(r.server.done) << "the server hung";
  // A session the client reports as complete is complete and correct.
  if (!r.client.ec && r.client.done) {
    EXPECT_TRUE(r.client.echoed == payload()) << r.client.echoed.size() << " bytes echoed";
    EXPECT_EQ(r.client.exit_status.value_or(99), 0u);
  } else {
    // Never a longer or different stream: what came back is a prefix of what was sent.
    EXPECT_EQ(r.client.echoed, payload().substr(0, r.client.echoed.size()));
  }
  if (!r.counter_reached) {
    EXPECT_FALSE(r.client.ec) << r.client.ec.message();
    EXPECT_FALSE(r.server.ec) << r.server.ec.message();
  }
}

}  // namespace

TEST(ssh_fault_sweep, a_clean_session_passes_the_checks) {
  auto r = run_session(true, std::numeric_limits<std::size_t>::max());
  EXPECT_FALSE(r.counter_reached);
  check(r, "no failure");
  EXPECT_FALSE(r.client.ec) << r.client.ec.message();
  EXPECT_EQ(r.client.echoed.size(), payload().size());
}

TEST(ssh_fault_sweep, every_io_operation_of_each_side_fails_cleanly) {
  for (bool client_side : {true, false}) {
    std::map<std::string, int> errors;  // what the failing runs ended with, for the log
    std::size_t n = 0;
    for (; n < 3000; ++n) {
      auto r = run_session(client_side, n);
      check(r, std::string{client_side ? "client" : "server"} + " operation " + std::to_string(n));
      if (::testing::Test::HasFailure()) return;  // one broken run says enough
      if (!r.counter_reached) break;               // the whole session fit before n
      ++errors[(client_side ? r.client.ec : r.server.ec).message()];
    }
    EXPECT_GT(n, 10u);  // a session has more I/O points than that
    EXPECT_LT(n, 3000u) << "the sweep never got past the session's last I/O operation";
    std::string summary;
    for (auto& [m, k] : errors) summary += "  " + std::to_string(k) + " x " + m + "\n";
    std::cout << (client_side ? "client" : "server") << " side: " << n
              << " I/O points; failing side's errors:\n"
              << summary;
  }
}

}  // namespace session_fault_sweep_test
