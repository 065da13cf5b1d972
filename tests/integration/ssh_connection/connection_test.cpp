// ssh::connection and ssh::channel, client <-> server in one process over test::stream: exec-like
// sessions, stdout/stderr/exit status, windows and back-pressure, EOF/CLOSE ordering, many
// channels at once, global requests, refused opens, and hostile peers that must be disconnected.
#include "harness.hpp"

#include <ferry/ssh/proto/connection_messages.hpp>

#include <fstream>

#include <unistd.h>

using namespace ssh_connection_test;

namespace {

// A toy server: every session channel is accepted; "exec" runs one of these commands:
//   echo          copies data back until EOF, exit status 0
//   stderr N      writes N bytes to stderr and "out" to stdout, exit status 3
//   flood N       writes N bytes of data, exit status 0
//   signal        exit-signal TERM
struct toy_server {
  conn_t& conn;
  std::size_t flood_written = 0;  // bytes a flood has written so far (for back-pressure checks)

  asio::awaitable<void> run() {
    for (;;) {
      auto [ec, ch] = co_await conn.async_accept(tok);
      if (ec) co_return;
      ch.accept();
      asio::co_spawn(conn.get_executor(), session(std::move(ch)), asio::detached);
    }
  }

  asio::awaitable<void> session(channel ch) {
    std::optional<std::string> command;
    asio::steady_timer ready{conn.get_executor()};
    ch.set_request_handler([&](const detail::channel_request_view& r) {
      if (r.type == "exec" && !command) {
        proto::exec_request e;
        if (wire::decode(r.data, e)) return false;
        command = e.command;
        return true;
      }
      return r.type == "env";
    });
    while (!command && ch.is_open()) {
      ready.expires_after(std::chrono::milliseconds{5});
      co_await ready.async_wait(tok);
    }
    if (!command) co_return;
    std::string cmd = *command;
    if (cmd == "echo") {
      std::array<char, 50000> buf;
      for (;;) {
        auto [ec, n] = co_await ch.async_read_some(asio::buffer(buf), tok);
        if (n) {
          auto [wec, wn] = co_await asio::async_write(ch, asio::buffer(buf.data(), n), tok);
          if (wec) co_return;
        }
        if (ec) break;
      }
      ch.send_exit_status(0);
    } else if (cmd.rfind("stderr ", 0) == 0) {
      std::string err(std::stoul(cmd.substr(7)), 'e');
      auto ext = ch.extended();
      co_await asio::async_write(ext, asio::buffer(err), tok);
      co_await asio::async_write(ch, asio::buffer("out", 3), tok);
      ch.send_exit_status(3);
    } else if (cmd.rfind("flood ", 0) == 0) {
      std::size_t total = std::stoul(cmd.substr(6));
      std::vector<char> chunk(100000, 'f');
      while (flood_written < total) {
        auto n = std::min(chunk.size(), total - flood_written);
        auto [ec, wn] = co_await asio::async_write(ch, asio::buffer(chunk.data(), n), tok);
        flood_written += wn;
        if (ec) co_return;
      }
      ch.send_exit_status(0);
    } else if (cmd == "signal") {
      ch.send_exit_signal("TERM", false, "terminated");
    }
    ch.send_eof();
    ch.close();
    co_await ch.async_wait_closed(tok);
  }
};

void allow_sessions(conn_t& c) {
  c.set_channel_filter([](std::string_view t) { return t == "session"; });
}

}  // namespace

TEST(ssh_connection, exec_echo_round_trips_a_megabyte_with_exit_status) {
  run_coroutine([](asio::io_context& ioc) -> asio::awaitable<void> {
    conn_pair p{ioc};
    allow_sessions(*p.server);
    toy_server srv{*p.server};
    co_await p.start();
    asio::co_spawn(ioc, srv.run(), asio::detached);

    auto [ec, opened] = co_await p.client->async_open_session(tok);
    EXPECT_FALSE(ec) << ec.message();
    channel ch = std::move(opened);  // clang 14 cannot capture structured bindings
    auto [eec] = co_await ch.async_env("LANG", "C", tok);
    EXPECT_FALSE(eec);
    auto [xec] = co_await ch.async_exec("echo", tok);
    EXPECT_FALSE(xec) << xec.message();
    std::string data(1 << 20, 0);
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = char(i * 7 + i / 1000);
    // Write and read at once: the echo needs both directions flowing.
    auto writer = [&]() -> asio::awaitable<void> {
      auto [wec, n] = co_await asio::async_write(ch, asio::buffer(data), tok);
      EXPECT_FALSE(wec);
      EXPECT_EQ(n, data.size());
      EXPECT_FALSE(ch.send_eof());
    };
    asio::co_spawn(ioc, writer(), asio::detached);
    auto [rec, got] = co_await read_all(ch);
    EXPECT_FALSE(rec) << rec.message();
    EXPECT_TRUE(got == data) << got.size();
    auto [cec] = co_await ch.async_wait_closed(tok);
    EXPECT_FALSE(cec);
    EXPECT_EQ(ch.exit_status().value_or(99), 0u);
    co_await p.finish();
  });
}

TEST(ssh_connection, stderr_and_exit_status_and_exit_signal_arrive) {
  run_coroutine([](asio::io_context& ioc) -> asio::awaitable<void> {
    conn_pair p{ioc};
    allow_sessions(*p.server);
    toy_server srv{*p.server};
    co_await p.start();
    asio::co_spawn(ioc, srv.run(), asio::detached);
    {
      auto [ec, ch] = co_await p.client->async_open_session(tok);
      co_await ch.async_exec("stderr 100000", tok);
      auto err = ch.extended();
      auto [e1, errs] = co_await read_all(err);
      auto [e2, outs] = co_await read_all(ch);
      EXPECT_FALSE(e1);
      EXPECT_FALSE(e2);
      EXPECT_EQ(errs, std::string(100000, 'e'));
      EXPECT_EQ(outs, "out");
      co_await ch.async_wait_closed(tok);
      EXPECT_EQ(ch.exit_status().value_or(99), 3u);
    }
    {
      auto [ec, ch] = co_await p.client->async_open_session(tok);
      co_await ch.async_exec("signal", tok);
      co_await ch.async_wait_closed(tok);
      EXPECT_FALSE(ch.exit_status());
      auto sig = ch.exit_signal().value_or(proto::exit_signal_request{});
      EXPECT_EQ(sig.signal, "TERM");
      EXPECT_EQ(sig.message, "terminated");
    }
    co_await p.finish();
  });
}

TEST(ssh_connection, refused_requests_and_opens_carry_their_reasons) {
  run_coroutine([](asio::io_context& ioc) -> asio::awaitable<void> {
    conn_pair p{ioc};
    allow_sessions(*p.server);
    toy_server srv{*p.server};
    co_await p.start();
    asio::co_spawn(ioc, srv.run(), asio::detached);
    auto [ec, ch] = co_await p.client->async_open_direct_tcpip("localhost", 22, tok);
    EXPECT_EQ(ec, open_failure_reason::unknown_channel_type);
    auto [ec2, s] = co_await p.client->async_open_session(tok);
    auto [rec] = co_await s.async_subsystem("nope", tok);
    EXPECT_EQ(rec, channel_errc::request_failed);
    bytes empty;
    auto [gec, data] = co_await p.client->async_global_request("tcpip-forward", empty, tok);
    EXPECT_EQ(gec, channel_errc::request_failed);
    co_await p.finish();
  });
}

TEST(ssh_connection, global_request_handler_replies_with_data) {
  run_coroutine([](asio::io_context& ioc) -> asio::awaitable<void> {
    conn_pair p{ioc};
    p.server->set_global_request_handler([](std::string_view name, byte_view) -> std::optional<bytes> {
      if (name == "tcpip-forward") return wire::encode(proto::tcpip_forward_reply{5555});
      return std::nullopt;
    });
    co_await p.start();
    proto::tcpip_forward_request req{"127.0.0.1", 0};
    auto payload = wire::encode(req);
    auto [gec, data] = co_await p.client->async_global_request("tcpip-forward", payload, tok);
    EXPECT_FALSE(gec);
    proto::tcpip_forward_reply r;
    EXPECT_FALSE(wire::decode(data, r));
    EXPECT_EQ(r.port, 5555u);
    co_await p.finish();
  });
}

// A reader that does not read stalls the sender at one window: the receiving side buffers at
// most the window, and the sender's writes wait. Reading then lets everything through.
TEST(ssh_connection, a_reader_that_stops_reading_stalls_the_sender_at_one_window) {
  run_coroutine([](asio::io_context& ioc) -> asio::awaitable<void> {
    connection_options co;
    co.window = 256 * 1024;
    co.max_packet = 32 * 1024;
    conn_pair p{ioc, co, {}};
    allow_sessions(*p.server);
    toy_server srv{*p.server};
    co_await p.start();
    asio::co_spawn(ioc, srv.run(), asio::detached);
    auto [ec, ch] = co_await p.client->async_open_session(tok);
    constexpr std::size_t total = 20 * 1024 * 1024;
    co_await ch.async_exec("flood " + std::to_string(total), tok);
    co_await sleep_for(std::chrono::milliseconds{300});
    // Stalled: the client holds at most its window, the server wrote at most the window plus
    // what its write queue lets through before waiting.
    EXPECT_LE(ch.available(), co.window);
    EXPECT_GT(ch.available(), 0u);
    EXPECT_LE(srv.flood_written, co.window + 200000);
    auto written_then = srv.flood_written;
    co_await sleep_for(std::chrono::milliseconds{100});
    EXPECT_EQ(srv.flood_written, written_then);
    auto [rec, got] = co_await read_all(ch);
    EXPECT_FALSE(rec);
    EXPECT_EQ(got.size(), total);
    co_await p.finish();
  });
}

TEST(ssh_connection, fifty_channels_at_once_each_echo_their_own_data) {
  run_coroutine(
      [](asio::io_context& ioc) -> asio::awaitable<void> {
        connection_options so;
        so.max_sessions = 64;  // the default (10, as sshd's MaxSessions) is tested below
        conn_pair p{ioc, {}, so};
        allow_sessions(*p.server);
        toy_server srv{*p.server};
        co_await p.start();
        asio::co_spawn(ioc, srv.run(), asio::detached);
        constexpr int count = 50;
        int ok = 0, done = 0;
        for (int i = 0; i < count; ++i) {
          asio::co_spawn(
              ioc,
              [&, i]() -> asio::awaitable<void> {
                auto [ec, opened] = co_await p.client->async_open_session(tok);
                channel ch = std::move(opened);
                if (!ec) {
                  co_await ch.async_exec("echo", tok);
                  std::string data(200000 + i * 1000, char('a' + i % 26));
                  auto w = [&]() -> asio::awaitable<void> {
                    co_await asio::async_write(ch, asio::buffer(data), tok);
                    ch.send_eof();
                  };
                  asio::co_spawn(ioc, w(), asio::detached);
                  auto [rec, got] = co_await read_all(ch);
                  co_await ch.async_wait_closed(tok);
                  if (!rec && got == data && ch.exit_status() == 0u) ++ok;
                }
                ++done;
              },
              asio::detached);
        }
        while (done < count) co_await sleep_for(std::chrono::milliseconds{5});
        EXPECT_EQ(ok, count);
        co_await p.finish();
      },
      std::chrono::seconds{60});
}

TEST(ssh_connection, max_sessions_refuses_the_eleventh_open_session) {
  run_coroutine([](asio::io_context& ioc) -> asio::awaitable<void> {
    conn_pair p{ioc};
    allow_sessions(*p.server);
    co_await p.start();
    // Accept on the server, but keep the channels open.
    std::vector<channel> held;
    asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
      for (;;) {
        auto [ec, ch] = co_await p.server->async_accept(tok);
        if (ec) co_return;
        ch.accept();
        held.push_back(std::move(ch));
      }
    }, asio::detached);
    std::vector<channel> mine;
    for (int i = 0; i < 10; ++i) {
      auto [ec, ch] = co_await p.client->async_open_session(tok);
      EXPECT_FALSE(ec);
      mine.push_back(std::move(ch));
    }
    auto [ec, ch] = co_await p.client->async_open_session(tok);
    EXPECT_EQ(ec, open_failure_reason::resource_shortage);
    // Closing one makes room again.
    mine[0].close();
    co_await mine[0].async_wait_closed(tok);
    auto [ec2, ch2] = co_await p.client->async_open_session(tok);
    EXPECT_FALSE(ec2) << ec2.message();
    co_await p.finish();
  });
}

TEST(ssh_connection, peer_close_ends_reads_and_writes) {
  run_coroutine([](asio::io_context& ioc) -> asio::awaitable<void> {
    conn_pair p{ioc};
    allow_sessions(*p.server);
    co_await p.start();
    channel server_side;
    asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
      auto [ec, ch] = co_await p.server->async_accept(tok);
      ch.accept();
      co_await asio::async_write(ch, asio::buffer("bye", 3), tok);
      ch.close();
      server_side = std::move(ch);
    }, asio::detached);
    auto [ec, ch] = co_await p.client->async_open_session(tok);
    auto [rec, got] = co_await read_all(ch);
    EXPECT_FALSE(rec);
    EXPECT_EQ(got, "bye");  // data sent before CLOSE is delivered
    co_await ch.async_wait_closed(tok);
    EXPECT_TRUE(ch.closed());
    auto [wec, n] = co_await ch.async_write_some(asio::buffer("x", 1), tok);
    EXPECT_EQ(wec, channel_errc::channel_closed);
    co_await p.finish();
  });
}

TEST(ssh_connection, keepalives_are_answered_and_keep_the_connection_up) {
  run_coroutine([](asio::io_context& ioc) -> asio::awaitable<void> {
    connection_options co;
    co.keepalive_interval = std::chrono::milliseconds{50};
    co.keepalive_max = 2;
    conn_pair p{ioc, co, {}};
    co_await p.start();
    co_await sleep_for(std::chrono::milliseconds{600});
    EXPECT_FALSE(p.client_run);  // still running: the server answered (with failure)
    EXPECT_GT(p.client->core().packets_received(), 3u);
    co_await p.finish();
  });
}

// --- hostile peers -------------------------------------------------------------------------------

namespace {

// A server connection with a raw client transport the test scripts by hand.
struct raw_client {
  std::unique_ptr<transport<test::stream>> client;
  std::unique_ptr<conn_t> server;
  std::optional<error_code> server_run;

  explicit raw_client(asio::io_context& ioc) {
    auto [a, b] = test::make_stream_pair(ioc.get_executor());
    client = std::make_unique<transport<test::stream>>(role::client, client_transport(), std::move(a));
    server = std::make_unique<conn_t>(role::server, server_transport(), connection_options{}, std::move(b));
    server->set_channel_filter([](std::string_view t) { return t == "session"; });
  }
  asio::awaitable<void> start() {
    using namespace asio::experimental::awaitable_operators;
    auto hs = client->async_handshake(asio::use_awaitable) &&
              server->transport().async_handshake(asio::use_awaitable);
    co_await std::move(hs);
    server->async_run([this](error_code ec) { server_run = ec; });
    co_await client->async_request_service("ssh-userauth", asio::use_awaitable);
    asio::co_spawn(client->get_executor(), [this]() -> asio::awaitable<void> {
      for (;;) {
        auto [ec, ch] = co_await server->async_accept(tok);
        if (ec) co_return;
        ch.accept();
        held.push_back(std::move(ch));
      }
    }, asio::detached);
  }
  template <class M>
  asio::awaitable<error_code> send(const M& m) {
    auto b = wire::encode(m);
    auto [ec] = co_await client->async_write_packet(b, tok);
    co_return ec;
  }
  // Reads until the server's DISCONNECT ends the transport; returns that error.
  asio::awaitable<error_code> until_disconnect() {
    bytes in;
    for (;;) {
      auto [ec, n] = co_await client->async_read_packet(in, tok);
      if (ec) co_return ec;
    }
  }
  // Opens a session: returns the server's channel number.
  asio::awaitable<std::uint32_t> open(std::uint32_t window = 1 << 20) {
    proto::channel_open o{"session", 0, window, 32768, {}};
    co_await send(o);
    bytes in;
    co_await client->async_read_packet(in, tok);
    proto::channel_open_confirmation c;
    EXPECT_FALSE(wire::decode(in, c));
    co_return c.sender_channel;
  }
  std::vector<channel> held;
};

void expect_disconnect(std::function<asio::awaitable<void>(raw_client&)> script,
                       std::string_view description) {
  run_coroutine([&](asio::io_context& ioc) -> asio::awaitable<void> {
    raw_client r{ioc};
    co_await r.start();
    co_await script(r);
    auto ec = co_await r.until_disconnect();
    EXPECT_EQ(ec, disconnect_reason::protocol_error) << ec.message();
    EXPECT_NE(r.client->machine().peer_disconnect_message().find(description), std::string::npos)
        << r.client->machine().peer_disconnect_message();
    while (!r.server_run) co_await sleep_for(std::chrono::milliseconds{2});
    EXPECT_EQ(*r.server_run, disconnect_reason::protocol_error);
  });
}

}  // namespace

TEST(ssh_connection_hostile, data_on_an_unknown_channel_disconnects) {
  expect_disconnect([](raw_client& r) -> asio::awaitable<void> {
    proto::channel_data d{42, {as_bytes("boo")}};
    co_await r.send(d);
  }, "unknown channel");
}

TEST(ssh_connection_hostile, data_beyond_the_window_disconnects) {
  expect_disconnect([](raw_client& r) -> asio::awaitable<void> {
    auto id = co_await r.open();
    bytes chunk(32768, 'x');
    // The server's window is 4 MiB; nobody reads on the server side, so it never re-opens.
    proto::channel_data d{id, {chunk}};
    for (int i = 0; i < 4 * 32 + 1; ++i) co_await r.send(d);
  }, "window");
}

TEST(ssh_connection_hostile, data_above_max_packet_disconnects) {
  expect_disconnect([](raw_client& r) -> asio::awaitable<void> {
    auto id = co_await r.open();
    bytes big(64 * 1024 + 1, 'x');
    proto::channel_data d{id, {big}};
    co_await r.send(d);
  }, "maximum packet");
}

TEST(ssh_connection_hostile, window_adjust_past_2_32_disconnects) {
  expect_disconnect([](raw_client& r) -> asio::awaitable<void> {
    auto id = co_await r.open(0x7fffffff);
    proto::channel_window_adjust w{id, 0x80000001u};
    co_await r.send(w);
  }, "window overflow");
}

namespace {

// Resident set size of this process, from /proc/self/statm.
std::size_t rss_bytes() {
  std::ifstream f{"/proc/self/statm"};
  std::size_t pages = 0, resident = 0;
  f >> pages >> resident;
  return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

}  // namespace

// A client writing as fast as it can into a server session that does not read: the server
// buffers at most one window, the client's writes wait, and memory stays flat (measured) while
// the client tries to push 256 MiB. Once the server reads, everything flows.
TEST(ssh_connection, a_server_that_does_not_read_keeps_memory_bounded_while_the_sender_waits) {
  run_coroutine([](asio::io_context& ioc) -> asio::awaitable<void> {
    connection_options so;
    so.window = 2 * 1024 * 1024;
    conn_pair p{ioc, {}, so};
    allow_sessions(*p.server);
    co_await p.start();
    channel server_side;
    asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
      auto [ec, ch] = co_await p.server->async_accept(tok);
      ch.accept();
      server_side = std::move(ch);
    }, asio::detached);
    auto [ec, opened] = co_await p.client->async_open_session(tok);
    EXPECT_FALSE(ec);
    channel ch = std::move(opened);
    constexpr std::size_t total = 256u << 20;
    std::size_t written = 0;
    bool writer_done = false;
    asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
      std::vector<char> chunk(1 << 20, 'm');
      while (written < total) {
        auto [wec, n] = co_await asio::async_write(ch, asio::buffer(chunk), tok);
        written += n;
        if (wec) break;
      }
      ch.send_eof();
      writer_done = true;
    }, asio::detached);
    co_await sleep_for(std::chrono::milliseconds{200});
    const auto rss_before = rss_bytes();
    co_await sleep_for(std::chrono::milliseconds{300});
    EXPECT_FALSE(writer_done);
    EXPECT_TRUE(server_side.valid());
    // The server holds at most its window; the client's queue is bounded; so is what was written.
    EXPECT_LE(server_side.available(), so.window);
    EXPECT_LE(p.server->core().machine().output_bytes(), 64u * 1024);
    EXPECT_LE(p.client->core().machine().output_bytes(), p.client->options().max_queued_data + 64 * 1024);
    EXPECT_LE(written, so.window + p.client->options().max_queued_data + (2u << 20));
    const auto rss_after = rss_bytes();
    EXPECT_LT(rss_after, rss_before + (16u << 20)) << rss_before << " -> " << rss_after;
    // Reading drains it all.
    auto [rec, got] = co_await read_all(server_side, total + 1);
    EXPECT_FALSE(rec);
    EXPECT_EQ(got.size(), total);
    EXPECT_TRUE(writer_done);
    co_await p.finish();
  }, std::chrono::seconds{60});
}

// Per-operation cancellation: a read raced against a timer is cancelled (operation_aborted), and
// the channel goes on working; so does a write waiting for window, and async_accept.
TEST(ssh_connection, reads_writes_and_accepts_can_be_cancelled) {
  run_coroutine([](asio::io_context& ioc) -> asio::awaitable<void> {
    using namespace asio::experimental::awaitable_operators;
    connection_options so;
    so.window = 64 * 1024;
    conn_pair p{ioc, {}, so};
    allow_sessions(*p.server);
    co_await p.start();
    channel server_side;
    asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
      auto [ec, ch] = co_await p.server->async_accept(tok);
      ch.accept();
      server_side = std::move(ch);
    }, asio::detached);
    auto [ec, opened] = co_await p.client->async_open_session(tok);
    channel ch = std::move(opened);
    std::array<char, 100> buf;
    asio::steady_timer t{ioc};
    t.expires_after(std::chrono::milliseconds{50});
    auto race = ch.async_read_some(asio::buffer(buf), tok) || t.async_wait(tok);
    auto r = co_await std::move(race);
    EXPECT_EQ(r.index(), 1u);  // the timer won; the read was cancelled
    // A write that waits for window (the server reads nothing) is cancelled the same way.
    std::vector<char> big(256 * 1024, 'w');
    t.expires_after(std::chrono::milliseconds{100});
    auto wrace = asio::async_write(ch, asio::buffer(big), tok) || t.async_wait(tok);
    auto w = co_await std::move(wrace);
    EXPECT_EQ(w.index(), 1u);
    // The channel still works: the server drains what came, and data flows back.
    co_await asio::async_write(server_side, asio::buffer("pong", 4), tok);
    auto [rec, n] = co_await ch.async_read_some(asio::buffer(buf), tok);
    EXPECT_FALSE(rec);
    EXPECT_EQ(std::string(buf.data(), n), "pong");
    // async_accept cancelled.
    t.expires_after(std::chrono::milliseconds{20});
    auto arace = p.client->async_accept(tok) || t.async_wait(tok);
    auto a = co_await std::move(arace);
    EXPECT_EQ(a.index(), 1u);
    co_await p.finish();
  });
}
