// The message x state table of the SSH connection layer (issue #12): every message number 0..255,
// well-formed, addressed to a channel that does not exist, and truncated, sent to
// proto::connection_machine in each channel state, for both roles and both openers. Only the
// messages RFC 4254 allows in a state are handled; every other one ends the connection with
// protocol_error and nothing is sent back. Window overflows (data past the window or the maximum
// packet, WINDOW_ADJUST past 2^32-1) end it the same way in every state that accepts data or
// adjusts. The same table is checked through the Asio stack (ssh::connection over test::stream)
// for both roles: the offender gets DISCONNECT protocol_error and the run ends with that reason.
#include "integration/ssh_connection/harness.hpp"

#include <ferry/ssh/connection_error.hpp>
#include <ferry/ssh/proto/connection_machine.hpp>
#include <ferry/ssh/proto/userauth.hpp>

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

namespace connection_message_table_test {
namespace {

using namespace ferry;
using namespace ferry::ssh;
using namespace ferry::ssh::proto;
using ev = connection_machine::event_kind;

constexpr std::uint32_t window = 1000;
constexpr std::uint32_t max_packet = 100;

connection_config cfg(role r) {
  connection_config c;
  c.local = r;
  c.window = window;
  c.max_packet = max_packet;
  return c;
}

std::vector<bytes> drain(connection_machine& m) {
  std::vector<bytes> out;
  bytes b;
  while (m.pop_output(b)) out.push_back(b);
  return out;
}

// Delivers everything `from` queued to `to`; every event must be a normal one.
void deliver(connection_machine& from, connection_machine& to) {
  for (auto& p : drain(from)) ASSERT_NE(to.process(p).kind, ev::error) << to.description();
}

enum class state {
  no_channel,    // authenticated, no channel at all
  opening,       // we sent CHANNEL_OPEN, no answer yet
  incoming,      // the peer's CHANNEL_OPEN arrived, we have not answered
  open,          // open both ways
  eof_sent,      // we sent EOF
  eof_received,  // the peer sent EOF
  close_sent,    // we sent CLOSE, the peer's CLOSE not yet here
  closed,        // both CLOSEs exchanged: the number is free again
};

const char* name_of(state s) {
  switch (s) {
    case state::no_channel: return "no channel";
    case state::opening: return "opening";
    case state::incoming: return "incoming";
    case state::open: return "open";
    case state::eof_sent: return "EOF sent";
    case state::eof_received: return "EOF received";
    case state::close_sent: return "CLOSE sent";
    case state::closed: return "closed";
  }
  return "?";
}

// A machine under test (role r) in state s, with its peer; `id` is the channel's number on the
// machine under test (the recipient the peer writes), `peer_id` the peer's number.
struct fixture {
  connection_machine m, peer;
  std::uint32_t id = 0, peer_id = 0;

  fixture(role r, state s, bool we_open)
      : m{cfg(r)}, peer{cfg(r == role::client ? role::server : role::client)} {
    if (s == state::no_channel) return;
    if (s == state::opening) {
      EXPECT_FALSE(m.open_channel("session", {}, id));
      drain(m);
      return;
    }
    if (s == state::incoming) {
      EXPECT_FALSE(peer.open_channel("session", {}, peer_id));
      auto out = drain(peer);
      EXPECT_EQ(m.process(out.at(0)).kind, ev::open_request);
      id = 0;
      return;
    }
    if (we_open) {
      EXPECT_FALSE(m.open_channel("session", {}, id));
      auto out = drain(m);
      auto e = peer.process(out.at(0));
      EXPECT_EQ(e.kind, ev::open_request);
      peer_id = e.channel;
      EXPECT_FALSE(peer.accept_open(peer_id));
      deliver(peer, m);
    } else {
      EXPECT_FALSE(peer.open_channel("session", {}, peer_id));
      auto out = drain(peer);
      auto e = m.process(out.at(0));
      EXPECT_EQ(e.kind, ev::open_request);
      id = e.channel;
      EXPECT_FALSE(m.accept_open(id));
      deliver(m, peer);
    }
    EXPECT_TRUE(m.is_open(id));
    switch (s) {
      case state::eof_sent:
        EXPECT_FALSE(m.send_eof(id));
        deliver(m, peer);
        break;
      case state::eof_received:
        EXPECT_FALSE(peer.send_eof(peer_id));
        deliver(peer, m);
        break;
      case state::close_sent:
        EXPECT_FALSE(m.send_close(id));
        drain(m);  // the peer has not seen it yet
        break;
      case state::closed:
        EXPECT_FALSE(m.send_close(id));
        deliver(m, peer);  // the peer answers with its CLOSE
        deliver(peer, m);
        EXPECT_FALSE(m.exists(id));
        break;
      default: break;
    }
    drain(m);
  }
};

// A well-formed message `msg_id` for channel ch (messages without a channel ignore it).
bytes well_formed(int msg_id, std::uint32_t ch) {
  switch (msg_id) {
    case msg::global_request: return wire::encode(global_request{"probe@ferry", true, {}});
    case msg::request_success: return wire::encode(request_success{});
    case msg::request_failure: return wire::encode(request_failure{});
    case msg::channel_open: return wire::encode(channel_open{"session", 77, window, max_packet, {}});
    case msg::channel_open_confirmation:
      return wire::encode(channel_open_confirmation{ch, 77, window, max_packet, {}});
    case msg::channel_open_failure: return wire::encode(channel_open_failure{ch, 2, "no", ""});
    case msg::channel_window_adjust: return wire::encode(channel_window_adjust{ch, 10});
    case msg::channel_data: return wire::encode(channel_data{ch, {bytes(10, 'd')}});
    case msg::channel_extended_data: return wire::encode(channel_extended_data{ch, 1, {bytes(10, 'e')}});
    case msg::channel_eof: return wire::encode(channel_eof{ch});
    case msg::channel_close: return wire::encode(channel_close{ch});
    case msg::channel_request: return wire::encode(channel_request{ch, "env", true, {}});
    case msg::channel_success: return wire::encode(channel_success{ch});
    case msg::channel_failure: return wire::encode(channel_failure{ch});
    default: {
      // Any other number, with the shape of a channel message.
      bytes b{static_cast<std::uint8_t>(msg_id), 0, 0, 0, static_cast<std::uint8_t>(ch)};
      b.insert(b.end(), {0, 0, 0, 1, 'x'});
      return b;
    }
  }
}

// The numbers RFC 4254 assigns (80..100); 101..127 are reserved for the connection protocol but
// unassigned.
bool in_connection_range(int msg_id) { return msg_id >= 80 && msg_id <= 100; }
bool is_channel_message(int msg_id) { return msg_id >= 91 && msg_id <= 100; }

// Numbers the connection layer does not implement: RFC 4253 §11.4 wants an UNIMPLEMENTED reply
// quoting the sequence number, and the connection goes on. That is every number above the
// transport's except a late USERAUTH_REQUEST (ignored, RFC 4252 §5.1) and the assigned 80..100:
// 51..79, the unassigned 83..89, 101..127 and 128..255 (local extensions).
bool answered_unimplemented(int msg_id) {
  if (msg_id == msg::userauth_request) return false;
  return !in_connection_range(msg_id) || (msg_id >= 83 && msg_id <= 89);
}

// What RFC 4254 allows: the event a well-formed message for the state's channel gives, or error.
// Unimplemented numbers give no event (the machine answers them itself).
ev expected(state s, int msg_id) {
  if (!in_connection_range(msg_id) || answered_unimplemented(msg_id)) return ev::none;
  switch (msg_id) {
    case msg::global_request: return ev::global_request;
    case msg::channel_open: return ev::open_request;
    case msg::channel_open_confirmation:
      return s == state::opening ? ev::open_confirmed : ev::error;
    case msg::channel_open_failure: return s == state::opening ? ev::open_failed : ev::error;
    default: break;
  }
  if (!is_channel_message(msg_id)) return ev::error;  // 81, 82: replies nobody asked for
  const bool addressable = s == state::open || s == state::eof_sent || s == state::eof_received ||
                           s == state::close_sent;
  if (!addressable) return ev::error;
  switch (msg_id) {
    case msg::channel_window_adjust: return ev::window_adjust;
    case msg::channel_data:
    case msg::channel_extended_data:
      if (s == state::eof_received) return ev::error;  // RFC 4254 §5.3: no data after EOF
      if (s == state::close_sent) return ev::none;     // in flight when we closed: dropped
      return msg_id == msg::channel_data ? ev::data : ev::extended_data;
    case msg::channel_eof: return s == state::eof_received ? ev::none : ev::eof;
    case msg::channel_close: return ev::close;
    case msg::channel_request: return s == state::close_sent ? ev::none : ev::channel_request;
    default: return ev::error;  // CHANNEL_SUCCESS/FAILURE: we asked nothing
  }
}

constexpr state all_states[] = {state::no_channel, state::opening,      state::incoming,
                                state::open,       state::eof_sent,     state::eof_received,
                                state::close_sent, state::closed};

struct variant {
  role r;
  bool we_open;
};

std::vector<variant> variants() {
  return {{role::client, true}, {role::client, false}, {role::server, true}, {role::server, false}};
}

std::string trace(const variant& v, state s, int msg_id, const std::string& body) {
  return std::string{v.r == role::client ? "client" : "server"} +
         (v.we_open ? " (we opened)" : " (peer opened)") + ", " + name_of(s) + ", message " +
         std::to_string(msg_id) + ", " + body;
}

void expect_protocol_error(fixture& f, connection_machine::event e) {
  EXPECT_EQ(e.kind, ev::error);
  EXPECT_TRUE(f.m.failed());
  EXPECT_EQ(f.m.error(), disconnect_reason::protocol_error);
  EXPECT_FALSE(f.m.description().empty());
  EXPECT_FALSE(f.m.has_output()) << "a reply to a message that ends the connection";
  // It stays failed: nothing after a violation is acted upon.
  EXPECT_EQ(f.m.process(well_formed(msg::global_request, 0)).kind, ev::error);
}

}  // namespace

TEST(ssh_connection_table, every_message_number_in_every_channel_state_both_roles) {
  for (const auto& v : variants()) {
    for (state s : all_states) {
      if ((s == state::opening && !v.we_open) || (s == state::incoming && v.we_open)) continue;
      for (int msg_id = 0; msg_id < 256; ++msg_id) {
        SCOPED_TRACE(trace(v, s, msg_id, "well-formed"));
        fixture f{v.r, s, v.we_open};
        const auto want = expected(s, msg_id);
        const auto channels_before = f.m.channel_count();
        const std::uint32_t seq = 0x01020300u + static_cast<std::uint32_t>(msg_id);
        auto e = f.m.process(well_formed(msg_id, f.id), seq);
        if (want == ev::error) {
          expect_protocol_error(f, e);
          continue;
        }
        EXPECT_EQ(e.kind, want) << f.m.description();
        ASSERT_FALSE(f.m.failed()) << f.m.description();
        auto out = drain(f.m);
        switch (want) {
          case ev::none:
            EXPECT_EQ(f.m.channel_count(), channels_before);
            if (answered_unimplemented(msg_id)) {
              ASSERT_EQ(out.size(), 1u);
              unimplemented u;
              ASSERT_FALSE(wire::decode(out[0], u));
              EXPECT_EQ(u.sequence_number, seq);
              break;
            }
            // A late USERAUTH_REQUEST, data dropped after our CLOSE, a repeated EOF, a request
            // on a channel we closed: no reply, no change.
            EXPECT_TRUE(out.empty());
            break;
          case ev::close:
            // RFC 4254 §5.3: answered with CLOSE unless we sent ours; the number is free.
            if (s == state::close_sent) {
              EXPECT_TRUE(out.empty());
            } else {
              ASSERT_EQ(out.size(), 1u);
              channel_close c;
              ASSERT_FALSE(wire::decode(out[0], c));
              EXPECT_EQ(c.recipient_channel, f.peer_id);
            }
            EXPECT_FALSE(f.m.exists(f.id));
            break;
          case ev::open_request:
          case ev::global_request:
          case ev::channel_request:
            EXPECT_TRUE(out.empty());  // the application answers, not the machine
            break;
          default: EXPECT_TRUE(out.empty()); break;
        }
        // Still serving: a global request is taken as one.
        EXPECT_EQ(f.m.process(well_formed(msg::global_request, 0)).kind, ev::global_request);
      }
    }
  }
}

TEST(ssh_connection_table, channel_messages_for_numbers_that_do_not_exist_disconnect) {
  for (const auto& v : variants()) {
    for (state s : all_states) {
      if ((s == state::opening && !v.we_open) || (s == state::incoming && v.we_open)) continue;
      for (int msg_id = 91; msg_id <= 100; ++msg_id) {
        for (std::uint32_t bogus : {1u, 42u, 0x7fffffffu, 0xffffffffu}) {
          SCOPED_TRACE(trace(v, s, msg_id, "channel " + std::to_string(bogus)));
          fixture f{v.r, s, v.we_open};
          ASSERT_FALSE(f.m.exists(bogus));
          expect_protocol_error(f, f.m.process(well_formed(msg_id, bogus)));
        }
      }
    }
  }
}

TEST(ssh_connection_table, truncated_connection_messages_disconnect_in_every_state) {
  for (const auto& v : variants()) {
    for (state s : all_states) {
      if ((s == state::opening && !v.we_open) || (s == state::incoming && v.we_open)) continue;
      for (int msg_id = 80; msg_id <= 100; ++msg_id) {
        if (answered_unimplemented(msg_id)) continue;  // 83..89: no fields to cut
        // Cut inside the first field (a uint32 or a string's length for every message with
        // fields; REQUEST_SUCCESS/FAILURE, which have none fixed, are unasked here anyway).
        for (std::size_t cut : {1u, 2u, 3u, 4u}) {
          SCOPED_TRACE(trace(v, s, msg_id, "cut to " + std::to_string(cut)));
          fixture f{v.r, s, v.we_open};
          auto full = well_formed(msg_id, f.id);
          if (full.size() <= cut) continue;
          full.resize(cut);
          expect_protocol_error(f, f.m.process(full));
        }
      }
    }
  }
}

// RFC 4254 §5.2: the receiver's window bounds what may be sent; in every state that takes data,
// one byte past it (or one packet above the maximum) ends the connection.
TEST(ssh_connection_table, data_past_the_window_or_max_packet_disconnects_in_every_data_state) {
  for (const auto& v : variants()) {
    for (state s : {state::open, state::eof_sent, state::close_sent}) {
      for (auto type : {msg::channel_data, msg::channel_extended_data}) {
        SCOPED_TRACE(trace(v, s, type, "window"));
        fixture f{v.r, s, v.we_open};
        auto packet = [&](std::size_t n) {
          return type == msg::channel_data
                     ? wire::encode(channel_data{f.id, {bytes(n, 1)}})
                     : wire::encode(channel_extended_data{f.id, 1, {bytes(n, 1)}});
        };
        for (std::uint32_t sent = 0; sent < window; sent += max_packet)
          ASSERT_NE(f.m.process(packet(max_packet)).kind, ev::error) << f.m.description();
        EXPECT_EQ(f.m.local_window(f.id), 0u);
        expect_protocol_error(f, f.m.process(packet(1)));
        EXPECT_NE(f.m.description().find("window"), std::string::npos) << f.m.description();
      }
      SCOPED_TRACE(trace(v, s, msg::channel_data, "max packet"));
      fixture f{v.r, s, v.we_open};
      expect_protocol_error(f, f.m.process(wire::encode(channel_data{f.id, {bytes(max_packet + 1, 1)}})));
    }
  }
}

// RFC 4254 §5.2: a window may not be raised past 2^32-1; the adjust that would do it disconnects,
// in every state where adjusts are taken, and also when done in several steps.
TEST(ssh_connection_table, window_adjust_past_2_32_minus_1_disconnects_in_every_state) {
  constexpr std::uint32_t max = std::numeric_limits<std::uint32_t>::max();
  for (const auto& v : variants()) {
    for (state s : {state::open, state::eof_sent, state::eof_received, state::close_sent}) {
      SCOPED_TRACE(trace(v, s, msg::channel_window_adjust, "overflow"));
      {
        fixture f{v.r, s, v.we_open};
        const auto start = f.m.remote_window(f.id);
        ASSERT_EQ(f.m.process(wire::encode(channel_window_adjust{f.id, max - start})).kind,
                  ev::window_adjust);
        EXPECT_EQ(f.m.remote_window(f.id), max);
        expect_protocol_error(f, f.m.process(wire::encode(channel_window_adjust{f.id, 1})));
        EXPECT_NE(f.m.description().find("overflow"), std::string::npos);
      }
      {
        fixture f{v.r, s, v.we_open};
        expect_protocol_error(f, f.m.process(wire::encode(channel_window_adjust{f.id, max})));
      }
    }
  }
}

// --- the same table through the Asio stack ------------------------------------------------------

namespace {

namespace asio = boost::asio;
using ssh_connection_test::conn_pair;
using ssh_connection_test::tok;
using ferry_test_support::run_coroutine;

// Reads packets until a global request reply (81/82) arrives or the transport fails.
template <class Transport>
asio::awaitable<error_code> read_until_global_reply(Transport& t) {
  bytes in;
  for (;;) {
    auto [ec, n] = co_await t.async_read_packet(in, tok);
    if (ec) co_return ec;
    if (!in.empty() && (in[0] == msg::request_success || in[0] == msg::request_failure))
      co_return error_code{};
  }
}

bool refused_without_channel(int msg_id) { return expected(state::no_channel, msg_id) == ev::error; }

// Whether the stack answers stack_message(msg_id) with UNIMPLEMENTED (192 and 193 are the
// transport's ping and pong).
bool stack_answers_unimplemented(int msg_id) {
  return msg_id != proto::msg::ping && msg_id != proto::msg::pong && answered_unimplemented(msg_id);
}

// After the probe's reply: the raw peer saw UNIMPLEMENTED quoting seq exactly when it should.
template <class Transport>
void expect_unimplemented_reply(const Transport& t, int msg_id, std::uint32_t seq) {
  const auto got = t.machine().peer_unimplemented();
  if (stack_answers_unimplemented(msg_id)) {
    ASSERT_TRUE(got.has_value()) << "no UNIMPLEMENTED reply";
    EXPECT_EQ(*got, seq);
  } else {
    EXPECT_FALSE(got.has_value()) << "UNIMPLEMENTED for sequence number " << *got;
  }
}

// What the stack test sends: the table's message, except 192, which is the transport's
// ping@openssh.com (OpenSSH PROTOCOL §1.9, answered with a pong; see the transport tests).
bytes stack_message(int msg_id) {
  if (msg_id == proto::msg::ping) return wire::encode(proto::ping{bytes{1, 2, 3}});
  return well_formed(msg_id, 0);
}

}  // namespace

// A raw client speaks to a running ferry server connection (after the service request): each
// message number 50..255 (1..49 are the transport's, see the transport tests) followed by a global
// request. Refused numbers get DISCONNECT protocol_error and end the server's run with it; the
// rest leave the connection serving (the global request is answered), unimplemented ones after an
// UNIMPLEMENTED reply that quotes their sequence number.
TEST(ssh_connection_table, server_connection_disconnects_with_protocol_error_for_refused_numbers) {
  for (int msg_id = 50; msg_id < 256; ++msg_id) {
    SCOPED_TRACE("message " + std::to_string(msg_id));
    run_coroutine([msg_id](asio::io_context& ioc) -> asio::awaitable<void> {
      conn_pair p{ioc};
      using namespace asio::experimental::awaitable_operators;
      auto hs = p.client->transport().async_handshake(asio::use_awaitable) &&
                p.server->transport().async_handshake(asio::use_awaitable);
      co_await std::move(hs);
      p.server->async_run([&p](error_code ec) { p.server_run = ec; });
      co_await p.client->transport().async_request_service("ssh-userauth", asio::use_awaitable);
      auto& t = p.client->transport();
      auto m = stack_message(msg_id);
      auto probe = well_formed(msg::global_request, 0);
      const auto seq = t.machine().next_sent_sequence();
      auto [w1] = co_await t.async_write_packet(m, tok);
      auto [w2] = co_await t.async_write_packet(probe, tok);
      EXPECT_FALSE(w1);
      auto rec = co_await read_until_global_reply(t);
      if (refused_without_channel(msg_id)) {
        EXPECT_EQ(rec, disconnect_reason::protocol_error) << rec.message();
      } else {
        EXPECT_FALSE(rec) << rec.message();
        EXPECT_FALSE(w2);
        expect_unimplemented_reply(t, msg_id, seq);
        co_await t.async_disconnect(disconnect_reason::by_application, "", tok);
      }
      for (int i = 0; i < 2000 && !p.server_run; ++i)
        co_await ssh_connection_test::sleep_for(std::chrono::milliseconds{1});
      EXPECT_TRUE(p.server_run.has_value()) << "the server connection did not end";
      if (!p.server_run.has_value()) co_return;
      if (refused_without_channel(msg_id))
        EXPECT_EQ(*p.server_run, disconnect_reason::protocol_error) << p.server_run->message();
      else
        EXPECT_NE(*p.server_run, disconnect_reason::protocol_error) << p.server_run->message();
    });
  }
}

// The client role: a raw server sends each number to a running ferry client connection.
TEST(ssh_connection_table, client_connection_disconnects_with_protocol_error_for_refused_numbers) {
  for (int msg_id = 50; msg_id < 256; ++msg_id) {
    SCOPED_TRACE("message " + std::to_string(msg_id));
    run_coroutine([msg_id](asio::io_context& ioc) -> asio::awaitable<void> {
      conn_pair p{ioc};
      using namespace asio::experimental::awaitable_operators;
      auto hs = p.client->transport().async_handshake(asio::use_awaitable) &&
                p.server->transport().async_handshake(asio::use_awaitable);
      co_await std::move(hs);
      auto& t = p.server->transport();
      // The raw server reads (which answers the service request) until the probe's reply.
      std::optional<error_code> server_read;
      bool probe_sent = false;
      asio::co_spawn(
          ioc,
          [&]() -> asio::awaitable<void> {
            bytes in;
            for (;;) {
              auto [ec, n] = co_await t.async_read_packet(in, tok);
              if (ec) {
                server_read = ec;
                co_return;
              }
              if (probe_sent && (in[0] == msg::request_success || in[0] == msg::request_failure)) {
                server_read = error_code{};
                co_return;
              }
            }
          },
          asio::detached);
      co_await p.client->transport().async_request_service("ssh-userauth", asio::use_awaitable);
      p.client->async_run([&p](error_code ec) { p.client_run = ec; });
      auto m = stack_message(msg_id);
      auto probe = well_formed(msg::global_request, 0);
      const auto seq = t.machine().next_sent_sequence();
      auto [w1] = co_await t.async_write_packet(m, tok);
      EXPECT_FALSE(w1);
      probe_sent = true;
      co_await t.async_write_packet(probe, tok);
      for (int i = 0; i < 2000 && !server_read; ++i)
        co_await ssh_connection_test::sleep_for(std::chrono::milliseconds{1});
      EXPECT_TRUE(server_read.has_value()) << "no answer from the client";
      if (!server_read.has_value()) co_return;
      if (refused_without_channel(msg_id)) {
        EXPECT_EQ(*server_read, disconnect_reason::protocol_error) << server_read->message();
      } else {
        EXPECT_FALSE(*server_read) << server_read->message();
        expect_unimplemented_reply(t, msg_id, seq);
        co_await t.async_disconnect(disconnect_reason::by_application, "", tok);
      }
      for (int i = 0; i < 2000 && !p.client_run; ++i)
        co_await ssh_connection_test::sleep_for(std::chrono::milliseconds{1});
      EXPECT_TRUE(p.client_run.has_value()) << "the client connection did not end";
      if (!p.client_run.has_value()) co_return;
      if (refused_without_channel(msg_id))
        EXPECT_EQ(*p.client_run, disconnect_reason::protocol_error) << p.client_run->message();
      else
        EXPECT_NE(*p.client_run, disconnect_reason::protocol_error) << p.client_run->message();
    });
  }
}

}  // namespace connection_message_table_test
