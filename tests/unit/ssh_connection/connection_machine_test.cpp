// connection_machine driven by scripted packets: two machines wired back to back for the normal
// flows (open, data, windows, EOF/CLOSE, requests, global requests) and hand-made messages for
// every violation that must end the connection.
#include <ferry/ssh/connection_error.hpp>
#include <ferry/ssh/proto/connection_machine.hpp>

#include <gtest/gtest.h>

using namespace ferry;
using namespace ferry::ssh;
using namespace ferry::ssh::proto;
using ev = connection_machine::event_kind;

namespace {

connection_config cfg(role r, std::uint32_t window = 1000, std::uint32_t max_packet = 100) {
  connection_config c;
  c.local = r;
  c.window = window;
  c.max_packet = max_packet;
  return c;
}

// Every queued message of from, in order.
std::vector<bytes> drain(connection_machine& from) {
  std::vector<bytes> out;
  bytes b;
  while (from.pop_output(b)) out.push_back(b);
  return out;
}

// An event with its views copied (views are only valid until the next process()).
struct owned_event {
  ev kind;
  std::uint32_t channel, code;
  bool want_reply;
  std::string name, text;
  bytes data;
};

// Delivers everything queued in `from` to `to`; returns the events `to` saw (kind none dropped).
std::vector<owned_event> deliver(connection_machine& from, connection_machine& to,
                                 std::vector<bytes>& keep) {
  std::vector<owned_event> evs;
  keep = drain(from);
  for (auto& p : keep) {
    auto e = to.process(p);
    if (e.kind != ev::none)
      evs.push_back({e.kind, e.channel, e.code, e.want_reply, std::string{e.name},
                     std::string{e.text}, bytes(e.data.begin(), e.data.end())});
  }
  return evs;
}

struct pair_fixture {
  connection_machine client{cfg(role::client)};
  connection_machine server{cfg(role::server)};
  std::vector<bytes> keep;

  // Opens a session from the client, accepted by the server; returns {client id, server id}.
  std::pair<std::uint32_t, std::uint32_t> open_session() {
    std::uint32_t cid = 0;
    EXPECT_FALSE(client.open_channel("session", {}, cid));
    auto evs = deliver(client, server, keep);
    EXPECT_EQ(evs.size(), 1u);
    EXPECT_EQ(evs[0].kind, ev::open_request);
    EXPECT_EQ(evs[0].name, "session");
    auto sid = evs[0].channel;
    EXPECT_FALSE(server.accept_open(sid));
    evs = deliver(server, client, keep);
    EXPECT_EQ(evs.size(), 1u);
    EXPECT_EQ(evs[0].kind, ev::open_confirmed);
    return {cid, sid};
  }
};

}  // namespace

TEST(connection_machine, open_data_eof_close_in_both_directions) {
  pair_fixture f;
  auto [cid, sid] = f.open_session();
  EXPECT_EQ(f.client.sendable(cid), 100u);  // max packet of the server
  bytes hello(60, 'h');
  ASSERT_FALSE(f.client.send_data(cid, hello));
  auto evs = deliver(f.client, f.server, f.keep);
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].kind, ev::data);
  EXPECT_EQ(bytes(evs[0].data.begin(), evs[0].data.end()), hello);
  ASSERT_FALSE(f.server.send_data(sid, to_bytes("err"), extended_data_stderr));
  evs = deliver(f.server, f.client, f.keep);
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].kind, ev::extended_data);
  EXPECT_EQ(evs[0].code, extended_data_stderr);

  ASSERT_FALSE(f.client.send_eof(cid));
  EXPECT_EQ(f.client.sendable(cid), 0u);
  EXPECT_TRUE(f.client.send_data(cid, to_bytes("x")));
  evs = deliver(f.client, f.server, f.keep);
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].kind, ev::eof);
  // The server can still send after the client's EOF, then closes.
  ASSERT_FALSE(f.server.send_data(sid, to_bytes("late")));
  ASSERT_FALSE(f.server.send_close(sid));
  evs = deliver(f.server, f.client, f.keep);
  ASSERT_EQ(evs.size(), 2u);
  EXPECT_EQ(evs[1].kind, ev::close);
  EXPECT_FALSE(f.client.exists(cid));
  // The client's automatic CLOSE frees the server's number too.
  EXPECT_TRUE(deliver(f.client, f.server, f.keep).size() == 1);
  EXPECT_FALSE(f.server.exists(sid));
  EXPECT_EQ(f.server.channel_count(), 0u);
  EXPECT_EQ(f.server.session_count(), 0u);
}

TEST(connection_machine, window_reopens_only_as_data_is_consumed) {
  pair_fixture f;
  const auto [cid0, sid] = f.open_session();
  const auto cid = cid0;  // a plain variable: clang 14 cannot capture structured bindings
  auto send = [&](int packets) {
    for (int i = 0; i < packets; ++i) {
      auto n = f.client.sendable(cid);
      ASSERT_EQ(n, 100u);
      ASSERT_FALSE(f.client.send_data(cid, bytes(n, 1)));
    }
    deliver(f.client, f.server, f.keep);
  };
  send(4);
  EXPECT_EQ(f.server.local_window(sid), 600u);
  // Consuming a little while more than half the window is open sends nothing (batches).
  f.server.consume(sid, 100);
  EXPECT_FALSE(f.server.has_output());
  send(6);
  EXPECT_EQ(f.client.sendable(cid), 0u);  // stalled: nothing consumed past the first 100
  EXPECT_EQ(f.server.local_window(sid), 0u);
  f.server.consume(sid, 400);
  auto evs = deliver(f.server, f.client, f.keep);
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].kind, ev::window_adjust);
  EXPECT_EQ(f.client.remote_window(cid), 500u);
  EXPECT_EQ(f.server.local_window(sid), 500u);
}

TEST(connection_machine, requests_are_answered_in_order) {
  pair_fixture f;
  auto [cid, sid] = f.open_session();
  ASSERT_FALSE(f.client.send_request(cid, "env", true, wire::encode(env_request{"A", "1"})));
  ASSERT_FALSE(f.client.send_request(cid, "exec", true, wire::encode(exec_request{"ls"})));
  auto evs = deliver(f.client, f.server, f.keep);
  ASSERT_EQ(evs.size(), 2u);
  EXPECT_EQ(evs[0].name, "env");
  EXPECT_TRUE(evs[1].want_reply);
  exec_request exec;
  ASSERT_FALSE(wire::decode(evs[1].data, exec));
  EXPECT_EQ(exec.command, "ls");
  ASSERT_FALSE(f.server.reply_request(sid, false));
  ASSERT_FALSE(f.server.reply_request(sid, true));
  EXPECT_TRUE(f.server.reply_request(sid, true));  // nothing owed
  evs = deliver(f.server, f.client, f.keep);
  ASSERT_EQ(evs.size(), 2u);
  EXPECT_EQ(evs[0].code, 0u);
  EXPECT_EQ(evs[1].code, 1u);
}

TEST(connection_machine, global_requests_and_replies) {
  pair_fixture f;
  f.client.send_global_request("tcpip-forward", true,
                               wire::encode(tcpip_forward_request{"127.0.0.1", 0}));
  auto evs = deliver(f.client, f.server, f.keep);
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].kind, ev::global_request);
  EXPECT_EQ(evs[0].name, "tcpip-forward");
  ASSERT_FALSE(f.server.reply_global(true, wire::encode(tcpip_forward_reply{4242})));
  evs = deliver(f.server, f.client, f.keep);
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].kind, ev::global_reply);
  tcpip_forward_reply r;
  ASSERT_FALSE(wire::decode(evs[0].data, r));
  EXPECT_EQ(r.port, 4242u);
  EXPECT_EQ(f.client.pending_global_requests(), 0u);
}

TEST(connection_machine, no_more_sessions_and_max_sessions_refuse_opens) {
  auto c = cfg(role::server);
  c.max_sessions = 2;
  connection_machine server{c};
  auto open = [&](std::uint32_t sender) {
    return server.process(wire::encode(channel_open{"session", sender, 100, 100, {}}));
  };
  EXPECT_EQ(open(1).kind, ev::open_request);
  EXPECT_EQ(open(2).kind, ev::open_request);
  EXPECT_EQ(open(3).kind, ev::none);  // refused: too many sessions
  auto out = drain(server);
  ASSERT_EQ(out.size(), 1u);
  channel_open_failure fail;
  ASSERT_FALSE(wire::decode(out[0], fail));
  EXPECT_EQ(fail.recipient_channel, 3u);
  EXPECT_EQ(fail.reason_code, std::uint32_t(open_failure_reason::resource_shortage));

  connection_machine s2{cfg(role::server)};
  EXPECT_EQ(s2.process(wire::encode(global_request{"no-more-sessions@openssh.com", false, {}})).kind,
            ev::none);
  EXPECT_EQ(s2.process(wire::encode(channel_open{"session", 7, 100, 100, {}})).kind, ev::none);
  out = drain(s2);
  ASSERT_EQ(out.size(), 1u);
  ASSERT_FALSE(wire::decode(out[0], fail));
  EXPECT_EQ(fail.reason_code, std::uint32_t(open_failure_reason::administratively_prohibited));
}

TEST(connection_machine, refused_open_reports_reason_and_frees_the_number) {
  pair_fixture f;
  std::uint32_t cid = 0;
  ASSERT_FALSE(f.client.open_channel("direct-tcpip", wire::encode(direct_tcpip_open{"h", 22, "o", 1}), cid));
  auto evs = deliver(f.client, f.server, f.keep);
  ASSERT_EQ(evs.size(), 1u);
  direct_tcpip_open d;
  ASSERT_FALSE(wire::decode(evs[0].data, d));
  EXPECT_EQ(d.host_to_connect, "h");
  ASSERT_FALSE(f.server.reject_open(evs[0].channel, open_failure_reason::connect_failed, "nope"));
  evs = deliver(f.server, f.client, f.keep);
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].kind, ev::open_failed);
  EXPECT_EQ(evs[0].code, std::uint32_t(open_failure_reason::connect_failed));
  EXPECT_EQ(evs[0].text, "nope");
  EXPECT_FALSE(f.client.exists(cid));
  EXPECT_EQ(f.server.channel_count(), 0u);
}

// --- violations --------------------------------------------------------------------------------

TEST(connection_machine, data_beyond_the_window_disconnects) {
  pair_fixture f;
  auto [cid, sid] = f.open_session();
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(f.server.process(wire::encode(channel_data{sid, {bytes(100, 0)}})).kind, ev::data);
  auto e = f.server.process(wire::encode(channel_data{sid, {bytes(1, 0)}}));
  EXPECT_EQ(e.kind, ev::error);
  EXPECT_EQ(f.server.error(), disconnect_reason::protocol_error);
  EXPECT_NE(f.server.description().find("window"), std::string::npos);
  // Once failed, it stays failed.
  EXPECT_EQ(f.server.process(wire::encode(channel_eof{sid})).kind, ev::error);
}

TEST(connection_machine, data_above_max_packet_disconnects) {
  pair_fixture f;
  auto [cid, sid] = f.open_session();
  auto data = bytes(101, 0);
  EXPECT_EQ(f.server.process(wire::encode(channel_data{sid, {data}})).kind, ev::error);
  EXPECT_NE(f.server.description().find("maximum packet"), std::string::npos);
}

TEST(connection_machine, window_adjust_past_2_32_disconnects) {
  pair_fixture f;
  auto [cid, sid] = f.open_session();
  EXPECT_EQ(f.client.process(wire::encode(channel_window_adjust{cid, 0xffffffffu - 1000})).kind,
            ev::window_adjust);
  EXPECT_EQ(f.client.remote_window(cid), 0xffffffffu);
  EXPECT_EQ(f.client.process(wire::encode(channel_window_adjust{cid, 1})).kind, ev::error);
  EXPECT_NE(f.client.description().find("overflow"), std::string::npos);
}

TEST(connection_machine, messages_for_unknown_channels_disconnect) {
  for (auto msg : {wire::encode(channel_data{5, {bytes(1, 0)}}), wire::encode(channel_eof{5}),
                   wire::encode(channel_close{5}), wire::encode(channel_window_adjust{5, 1}),
                   wire::encode(channel_request{5, "exec", true, {}}), wire::encode(channel_success{5}),
                   wire::encode(channel_open_confirmation{5, 1, 1, 1, {}}),
                   wire::encode(channel_open_failure{5, 1, "", ""})}) {
    pair_fixture f;
    f.open_session();
    auto e = f.server.process(msg);
    EXPECT_EQ(e.kind, ev::error) << int(msg[0]);
    EXPECT_FALSE(f.server.has_output());
  }
}

TEST(connection_machine, data_after_eof_and_messages_after_close_disconnect) {
  {
    pair_fixture f;
    auto [cid, sid] = f.open_session();
    EXPECT_EQ(f.server.process(wire::encode(channel_eof{sid})).kind, ev::eof);
    EXPECT_EQ(f.server.process(wire::encode(channel_data{sid, {bytes(1, 0)}})).kind, ev::error);
  }
  {
    pair_fixture f;
    auto [cid, sid] = f.open_session();
    EXPECT_EQ(f.server.process(wire::encode(channel_close{sid})).kind, ev::close);
    EXPECT_EQ(f.server.process(wire::encode(channel_data{sid, {bytes(1, 0)}})).kind, ev::error);
  }
}

TEST(connection_machine, unsolicited_replies_and_malformed_messages_disconnect) {
  pair_fixture f;
  auto [cid, sid] = f.open_session();
  EXPECT_EQ(f.client.process(wire::encode(channel_success{cid})).kind, ev::error);
  connection_machine m{cfg(role::client)};
  EXPECT_EQ(m.process(wire::encode(request_success{})).kind, ev::error);
  connection_machine m2{cfg(role::client)};
  EXPECT_EQ(m2.process(bytes{msg::channel_data, 0, 0}).kind, ev::error);
  connection_machine m3{cfg(role::client)};
  EXPECT_EQ(m3.process(bytes{}).kind, ev::error);
  // Late userauth messages are ignored (RFC 4252 §5.1).
  connection_machine m4{cfg(role::server)};
  EXPECT_EQ(m4.process(bytes{50, 0, 0, 0, 0}).kind, ev::none);
  EXPECT_FALSE(m4.failed());
}

TEST(connection_machine, channel_table_is_bounded) {
  auto c = cfg(role::client);
  c.max_channels = 3;
  connection_machine m{c};
  std::uint32_t id;
  for (int i = 0; i < 3; ++i) ASSERT_FALSE(m.open_channel("session", {}, id));
  EXPECT_EQ(m.open_channel("session", {}, id), channel_errc::too_many_channels);
  drain(m);
  // And the peer's opens are refused once full.
  EXPECT_EQ(m.process(wire::encode(channel_open{"forwarded-tcpip", 9, 10, 10, {}})).kind, ev::none);
  auto out = drain(m);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0][0], msg::channel_open_failure);
}

TEST(connection_machine, pending_incoming_opens_are_bounded) {
  auto c = cfg(role::server);
  c.max_pending_opens = 2;
  connection_machine m{c};
  EXPECT_EQ(m.process(wire::encode(channel_open{"direct-tcpip", 1, 10, 10, {}})).kind, ev::open_request);
  EXPECT_EQ(m.process(wire::encode(channel_open{"direct-tcpip", 2, 10, 10, {}})).kind, ev::open_request);
  EXPECT_EQ(m.process(wire::encode(channel_open{"direct-tcpip", 3, 10, 10, {}})).kind, ev::none);
  ASSERT_FALSE(m.accept_open(0));
  EXPECT_EQ(m.process(wire::encode(channel_open{"direct-tcpip", 4, 10, 10, {}})).kind, ev::open_request);
}

TEST(connection_machine, message_codecs_round_trip) {
  exit_signal_request s{"TERM", true, "terminated", ""};
  exit_signal_request d;
  ASSERT_FALSE(wire::decode(wire::encode(s), d));
  EXPECT_EQ(d.signal, "TERM");
  EXPECT_TRUE(d.core_dumped);
  pty_request p{"xterm", 80, 24, 0, 0, bytes{0}};
  pty_request q;
  ASSERT_FALSE(wire::decode(wire::encode(p), q));
  EXPECT_EQ(q.term, "xterm");
  EXPECT_EQ(q.rows, 24u);
  // Golden bytes: CHANNEL_DATA 94, recipient 1, "ab".
  EXPECT_EQ(wire::encode(channel_data{1, {as_bytes("ab")}}),
            (bytes{94, 0, 0, 0, 1, 0, 0, 0, 2, 'a', 'b'}));
  // CHANNEL_OPEN_FAILURE without a language tag decodes.
  bytes no_lang{92, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 1, 'x'};
  channel_open_failure f;
  EXPECT_FALSE(wire::decode(no_lang, f));
}
