// The transport's message x state table (issue #12): every message number 0..255, well formed
// where its format is known, sent by a real peer into a transport machine in each state of its
// first exchange, once keyed, after the service request and during a rekey; both roles, with
// and without strict kex. Each cell has one expected outcome, derived from RFC 4253 §7, §10,
// §11, RFC 8308 and OpenSSH PROTOCOL §1.9/§1.10:
//   - the peer's DISCONNECT ends the connection without a reply;
//   - a message that is not legal there ends it with DISCONNECT protocol_error, which the peer
//     receives (a malformed kex-method message during the exchange ends it with some error);
//   - IGNORE, DEBUG, UNIMPLEMENTED, EXT_INFO once keyed, PONG: consumed, nothing sent;
//   - a SERVICE_REQUEST once keyed (server), a PING once keyed, a KEXINIT once keyed: answered;
//   - an unknown transport number once keyed: UNIMPLEMENTED quoting its sequence number;
//   - upper-layer messages reach the layer above only once keyed (and, at a server, once the
//     service was accepted), unchanged.
#include "unit/ssh/machine_harness.hpp"

#include <ferry/ssh/proto/messages.hpp>

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace ferry::test {
struct transport_machine_access {
  static error_code seal(ssh::proto::transport_machine& m, byte_view payload) { return m.seal(payload); }
};
}  // namespace ferry::test

namespace transport_message_table_test {
namespace {

using namespace ferry;
using namespace ferry::ssh;
using namespace ferry::ssh::proto;
using namespace ferry::ssh::testing;

enum class state { ident, kexinit, newkeys_wait, keyed, service, rekey };
enum class outcome { peer_disconnect, protocol_error, closed, silent, answered, unimplemented, delivered, continues };

const char* name(state s) {
  switch (s) {
    case state::ident: return "ident";
    case state::kexinit: return "kexinit";
    case state::newkeys_wait: return "newkeys_wait";
    case state::keyed: return "keyed";
    case state::service: return "service";
    case state::rekey: return "rekey";
  }
  return "?";
}

const char* name(outcome o) {
  switch (o) {
    case outcome::peer_disconnect: return "peer_disconnect";
    case outcome::protocol_error: return "protocol_error";
    case outcome::closed: return "closed";
    case outcome::silent: return "silent";
    case outcome::answered: return "answered";
    case outcome::unimplemented: return "unimplemented";
    case outcome::delivered: return "delivered";
    case outcome::continues: return "continues";
  }
  return "?";
}

// The algorithms both sides use (one kex, so the table stays fast).
transport_config config(role r, bool strict, random_source& rng) {
  auto c = r == role::server ? server_config(rng) : client_config(rng);
  c.algorithms.kex = {"curve25519-sha256"};
  c.algorithms.host_key = {"ssh-ed25519"};
  c.strict_kex = strict;
  return c;
}

// Message n as the peer sends it: well formed where the format is known, else the number alone.
bytes message(std::uint8_t n, const transport_config& peer) {
  switch (n) {
    case msg::disconnect: return wire::encode(disconnect{11, "bye", ""});
    case msg::ignore: return wire::encode(ignore{bytes{1, 2, 3}});
    case msg::unimplemented: return wire::encode(unimplemented{12345});
    case msg::debug: return wire::encode(debug{false, "debug", ""});
    case msg::service_request: return wire::encode(service_request{"ssh-userauth"});
    case msg::service_accept: return wire::encode(service_accept{"ssh-userauth"});
    case msg::ext_info: return wire::encode(ext_info{});
    case msg::kexinit: {
      kexinit k;
      k.kex_algorithms.names = {"curve25519-sha256"};
      k.server_host_key_algorithms.names = {"ssh-ed25519"};
      k.encryption_client_to_server.names = k.encryption_server_to_client.names = peer.algorithms.cipher;
      k.mac_client_to_server.names = k.mac_server_to_client.names = peer.algorithms.mac;
      k.compression_client_to_server.names = k.compression_server_to_client.names = {"none"};
      return wire::encode(k);
    }
    case msg::newkeys: return wire::encode(newkeys{});
    case msg::ping: return wire::encode(ping{bytes{7}});
    case msg::pong: return wire::encode(pong{bytes{7}});
    default: return bytes{n};
  }
}

// What the machine under test must do with message n in state s (see the file comment).
outcome expected(state s, role r, bool strict, std::uint8_t n) {
  const bool server = r == role::server;
  const bool first_done = s == state::keyed || s == state::service || s == state::rekey;
  const bool got_kexinit = s == state::kexinit || s == state::newkeys_wait || s == state::rekey;
  const bool kex_range = n >= 20 && n <= 49;
  if (n == msg::disconnect) return outcome::peer_disconnect;
  // OpenSSH PROTOCOL §1.10: only kex messages during the first exchange under strict kex.
  if (strict && !first_done && got_kexinit && !kex_range) return outcome::protocol_error;
  // RFC 4253 §7.1: between KEXINIT and NEWKEYS only kex and generic transport messages.
  if (got_kexinit && !kex_range && !(n >= 1 && n <= 4)) return outcome::protocol_error;
  switch (n) {
    case msg::ignore:
    case msg::debug:
    case msg::unimplemented: return outcome::silent;
    case msg::service_request:
      return server && first_done ? outcome::answered : outcome::protocol_error;
    case msg::service_accept:
      return !server && first_done ? outcome::delivered : outcome::protocol_error;
    case msg::ext_info: return first_done ? outcome::silent : outcome::protocol_error;
    case msg::kexinit:
      if (s == state::ident) return outcome::continues;  // the exchange's own KEXINIT
      return got_kexinit ? outcome::protocol_error : outcome::answered;  // a rekey
    case msg::newkeys: return s == state::newkeys_wait ? outcome::continues : outcome::protocol_error;
    case msg::ping: return first_done ? outcome::answered : outcome::protocol_error;
    case msg::pong: return outcome::silent;
    default: break;
  }
  if (n >= 30 && n <= 49) {
    // A kex-method message: only inside a running exchange, where this bare one is malformed.
    return got_kexinit && s != state::newkeys_wait ? outcome::closed : outcome::protocol_error;
  }
  if (n < 50) return first_done ? outcome::unimplemented : outcome::protocol_error;
  if (!first_done) return outcome::protocol_error;
  if (server && s == state::keyed) return outcome::protocol_error;  // RFC 4253 §10: no service yet
  return outcome::delivered;
}

// Splits a plaintext stream (before the first NEWKEYS) into units: the identification line, then
// whole packets. Returns the size of the first complete unit at `at`, or 0 if there is none yet.
std::size_t next_unit(const bytes& stream, std::size_t at, bool ident_done) {
  if (!ident_done) {
    for (std::size_t i = at; i + 1 < stream.size(); ++i)
      if (stream[i] == '\r' && stream[i + 1] == '\n') return i + 2 - at;
    return 0;
  }
  if (stream.size() - at < 5) return 0;
  std::size_t len = std::size_t(stream[at]) << 24 | std::size_t(stream[at + 1]) << 16 |
                    std::size_t(stream[at + 2]) << 8 | stream[at + 3];
  return stream.size() - at >= 4 + len ? 4 + len : 0;
}

// A machine under test (m) and a real peer (p) brought to a state.
struct cell {
  test::fixed_random mrng{11}, prng{12};
  transport_config mc, pc;
  transport_machine m, p;
  bytes p_stream;  // the peer's output not yet given to m
  std::size_t p_at = 0;
  bool ident_done = false;
  std::vector<bytes> delivered;  // upper-layer packets m passed up

  cell(role r, bool strict)
      : mc(config(r, strict, mrng)),
        pc(config(r == role::server ? role::client : role::server, strict, prng)),
        m(mc),
        p(pc) {
    m.start();
    p.start();
  }

  void drain(transport_machine& t, std::vector<bytes>* up) {
    byte_view payload;
    while (t.process(payload) == transport_machine::event::packet)
      if (up) up->emplace_back(payload.begin(), payload.end());
  }
  // m's output always reaches p; p's output is collected for m.
  void m_to_p() {
    transfer(m, p);
    drain(p, nullptr);
    bytes out;
    p.swap_output(out);
    p_stream.insert(p_stream.end(), out.begin(), out.end());
  }
  // Gives m the peer's plaintext units one at a time while keep(next unit's first byte) holds.
  template <class Keep>
  void feed_units(Keep keep) {
    for (int guard = 0; guard < 64; ++guard) {
      m_to_p();
      std::size_t n = next_unit(p_stream, p_at, ident_done);
      if (n == 0) return;
      std::uint8_t type = ident_done ? p_stream[p_at + 5] : 0;
      if (!keep(ident_done, type)) return;
      feed(m, byte_view{p_stream.data() + p_at, n});
      p_at += n;
      ident_done = true;
      drain(m, &delivered);
    }
  }
  // The next unit of the peer's plaintext stream.
  void feed_one() {
    m_to_p();
    std::size_t n = next_unit(p_stream, p_at, ident_done);
    if (n == 0) return;
    feed(m, byte_view{p_stream.data() + p_at, n});
    p_at += n;
    ident_done = true;
    drain(m, &delivered);
  }
  // Everything the peer sent so far (encrypted once keyed), until both sides are quiet.
  void feed_rest() {
    for (int round = 0; round < 8; ++round) {
      m_to_p();
      if (p_at < p_stream.size()) {
        feed(m, byte_view{p_stream.data() + p_at, p_stream.size() - p_at});
        p_at = p_stream.size();
      }
      drain(m, &delivered);
    }
  }

  void reach(state s) {
    const bool server = mc.local == role::server;
    switch (s) {
      case state::ident:
        feed_units([](bool ident, std::uint8_t) { return !ident; });
        break;
      case state::kexinit:
        feed_units([](bool ident, std::uint8_t t) { return !ident || t == msg::kexinit; });
        break;
      case state::newkeys_wait:
        feed_units([](bool, std::uint8_t t) { return t != msg::newkeys; });
        break;
      case state::keyed:
        feed_units([](bool, std::uint8_t t) { return t != msg::newkeys; });
        feed_one();  // the peer's NEWKEYS; what follows is encrypted
        feed_rest();
        break;
      case state::service:
      case state::rekey: {
        reach(state::keyed);
        auto& client = server ? p : m;
        EXPECT_FALSE(client.send(wire::encode(service_request{"ssh-userauth"})));
        feed_rest();
        if (s == state::rekey) {
          // The peer's KEXINIT only: m's answer stays queued, so the exchange stays open.
          p.rekey();
          bytes kexinit_packet;
          p.swap_output(kexinit_packet);
          feed(m, kexinit_packet);
          drain(m, &delivered);
        }
        break;
      }
    }
    delivered.clear();
  }
};

// Sends message n from p to m in state s and checks the outcome; returns a description of any
// mismatch (empty when the cell holds).
std::string run_cell(role r, bool strict, state s, std::uint8_t n) {
  cell c{r, strict};
  c.reach(s);
  if (c.m.closed()) return std::string{"setup closed: "} + c.m.error().message();
  const bool keyed = s == state::keyed || s == state::service || s == state::rekey;
  const bytes payload = message(n, c.pc);
  if (keyed) {
    // Under the peer's current keys: the peer's writer, bypassing its own upper-layer checks.
    // Everything the peer sent before has reached m, so their sequence numbers agree.
    if (c.p.has_output() || c.p_at != c.p_stream.size()) return "setup left peer output behind";
    if (auto ec = test::transport_machine_access::seal(c.p, payload)) return "seal: " + ec.message();
    bytes out;
    c.p.swap_output(out);
    feed(c.m, out);
  } else {
    packet_sealer plain;  // before the first NEWKEYS packets are plaintext
    test::fixed_random rng{5};
    bytes out;
    plain.seal(payload, out, rng);
    feed(c.m, out);
  }
  const auto sent_before = c.m.output_total();
  c.drain(c.m, &c.delivered);
  const bool closed = c.m.closed();
  const auto error = c.m.error();
  const bool sent = c.m.output_total() > sent_before;
  const auto seq = c.m.received_sequence();
  transfer(c.m, c.p);
  c.drain(c.p, nullptr);  // the peer reads m's answer (or its DISCONNECT)

  const outcome want = expected(s, r, strict, n);
  auto fail = [&](const std::string& why) {
    return std::string{"expected "} + name(want) + ", " + why + (error ? " (" + error.message() + ")" : "");
  };
  switch (want) {
    case outcome::peer_disconnect:
      if (!closed || sent) return fail("closed=" + std::to_string(closed) + " sent=" + std::to_string(sent));
      break;
    case outcome::protocol_error:
      if (!closed || error != disconnect_reason::protocol_error) return fail("not a protocol_error close");
      if (!c.p.closed() || c.p.error() != disconnect_reason::protocol_error)
        return fail("the peer did not get DISCONNECT protocol_error");
      break;
    case outcome::closed:
      if (!closed || !c.p.closed()) return fail("not closed with a DISCONNECT");
      break;
    case outcome::silent:
      if (closed || sent || !c.delivered.empty()) return fail("closed, answered or passed up");
      break;
    case outcome::answered:
      if (closed || !sent || !c.delivered.empty()) return fail("no answer");
      break;
    case outcome::unimplemented:
      if (closed || c.p.peer_unimplemented() != seq) return fail("no UNIMPLEMENTED with the sequence number");
      break;
    case outcome::delivered:
      if (closed || c.delivered.size() != 1 || c.delivered[0] != payload) return fail("not passed up unchanged");
      break;
    case outcome::continues:
      if (closed || !c.delivered.empty()) return fail("closed or passed up");
      break;
  }
  if (want != outcome::delivered && !c.delivered.empty()) return fail("passed up");
  return {};
}

class transport_message_table : public ::testing::TestWithParam<std::tuple<role, bool>> {};

TEST_P(transport_message_table, every_message_number_in_every_state_has_its_expected_outcome) {
  const auto [r, strict] = GetParam();
  for (state s : {state::ident, state::kexinit, state::newkeys_wait, state::keyed, state::service,
                  state::rekey}) {
    for (int n = 0; n < 256; ++n) {
      auto mismatch = run_cell(r, strict, s, static_cast<std::uint8_t>(n));
      EXPECT_TRUE(mismatch.empty()) << name(s) << " message " << n << ": " << mismatch;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(roles, transport_message_table,
                         ::testing::Combine(::testing::Values(role::server, role::client),
                                            ::testing::Bool()),
                         [](const auto& param_info) {
                           return std::string{std::get<0>(param_info.param) == role::server ? "server" : "client"} +
                                  (std::get<1>(param_info.param) ? "_strict" : "_not_strict");
                         });

}  // namespace
}  // namespace transport_message_table_test
