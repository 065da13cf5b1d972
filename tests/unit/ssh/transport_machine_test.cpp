// The sans-I/O transport: handshake, services, rekeying, strict kex, hostile peers.
#include "machine_harness.hpp"

#include <ferry/ssh/proto/messages.hpp>

#include <gtest/gtest.h>

using namespace ferry;
using namespace ferry::ssh;
using namespace ferry::ssh::proto;
using namespace ferry::ssh::testing;

namespace {

// A peer played by the test: an identification line and packets sealed with the "none" cipher.
struct script {
  bytes wire;
  packet_sealer sealer;
  test::fixed_random rng{77};
  explicit script(std::string_view ident = "SSH-2.0-script\r\n") {
    wire.insert(wire.end(), ident.begin(), ident.end());
  }
  template <class M>
  script& add(const M& m) {
    sealer.seal(wire::encode(m), wire, rng);
    return *this;
  }
  script& add_raw(const bytes& payload) {
    sealer.seal(payload, wire, rng);
    return *this;
  }
};

kexinit script_kexinit(std::initializer_list<const char*> kex, const char* host_key = "ssh-ed25519") {
  kexinit k;
  for (auto* n : kex) k.kex_algorithms.names.emplace_back(n);
  k.server_host_key_algorithms.names = {host_key};
  k.encryption_client_to_server.names = k.encryption_server_to_client.names = {"aes128-ctr"};
  k.mac_client_to_server.names = k.mac_server_to_client.names = {"hmac-sha2-256-etm@openssh.com"};
  k.compression_client_to_server.names = k.compression_server_to_client.names = {"none"};
  return k;
}

// Reads what a machine sent (its identification, then "none" packets) up to the first
// DISCONNECT; returns its reason code, or 0 if there was none.
std::uint32_t sent_disconnect(transport_machine& m) {
  bytes out;
  m.swap_output(out);
  identification_parser ip{role::client};
  std::size_t used = 0;
  ip.feed(out, used);
  packet_opener o;
  std::size_t at = used;
  while (at < out.size()) {
    byte_view payload;
    std::size_t consumed = 0, needed = 0;
    error_code ec;
    if (o.open({out.data() + at, out.size() - at}, payload, consumed, needed, ec) !=
        packet_opener::status::packet)
      return 0;
    at += consumed;
    if (payload[0] == msg::disconnect) {
      disconnect d;
      wire::decode(payload, d);
      return d.reason_code;
    }
  }
  return 0;
}

void process_all(transport_machine& m) {
  byte_view p;
  while (m.process(p) == transport_machine::event::packet) {
  }
}

using config_edit = std::function<void(transport_config&)>;

transport_config edited(transport_config c, const config_edit& edit) {
  if (edit) edit(c);
  return c;
}

// A client and a server machine that ran their handshake against each other.
struct handshaken {
  test::fixed_random crng{1}, srng{2};
  transport_machine client, server;
  explicit handshaken(const config_edit& cedit = {}, const config_edit& sedit = {})
      : client(edited(client_config(crng), cedit)), server(edited(server_config(srng), sedit)) {
    client.start();
    server.start();
    run(client, server);
  }
};

}  // namespace

TEST(ssh_transport_machine, handshake_agrees_on_session_id_with_strict_kex_and_ext_info) {
  handshaken h;
  ASSERT_TRUE(h.client.handshake_done()) << h.client.error().message();
  ASSERT_TRUE(h.server.handshake_done()) << h.server.error().message();
  EXPECT_EQ(h.client.session_id(), h.server.session_id());
  EXPECT_EQ(h.client.session_id().size(), 32u);
  EXPECT_TRUE(h.client.strict_kex());
  EXPECT_TRUE(h.server.strict_kex());
  EXPECT_EQ(h.client.algorithms().kex->name, "curve25519-sha256");
  EXPECT_EQ(h.client.algorithms().host_key->name, "ssh-ed25519");
  EXPECT_EQ(h.client.peer_identification(), "SSH-2.0-ferry_0.1");
  ASSERT_FALSE(h.client.peer_extensions().empty());
  EXPECT_EQ(h.client.peer_extensions()[0].name, "server-sig-algs");
  EXPECT_EQ(as_chars(h.client.peer_extensions()[0].value),
            "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,rsa-sha2-512,"
            "rsa-sha2-256");
}

TEST(ssh_transport_machine, service_request_is_accepted_and_upper_messages_flow) {
  handshaken h;
  ASSERT_TRUE(h.client.can_send());
  ASSERT_FALSE(h.client.send(wire::encode(service_request{"ssh-userauth"})));
  auto r = run(h.client, h.server);
  ASSERT_EQ(r.to_client.size(), 1u);
  EXPECT_EQ(r.to_client[0], wire::encode(service_accept{"ssh-userauth"}));
  ASSERT_FALSE(h.client.send(bytes{50, 1, 2}));
  ASSERT_FALSE(h.server.send(bytes{51}));
  r = run(h.client, h.server);
  ASSERT_EQ(r.to_server.size(), 1u);
  EXPECT_EQ(r.to_server[0], (bytes{50, 1, 2}));
  ASSERT_EQ(r.to_client.size(), 1u);
  EXPECT_EQ(r.to_client[0], (bytes{51}));
}

TEST(ssh_transport_machine, unknown_service_is_refused_with_service_not_available) {
  handshaken h;
  ASSERT_FALSE(h.client.send(wire::encode(service_request{"ssh-nope"})));
  run(h.client, h.server);
  EXPECT_EQ(h.server.error(), disconnect_reason::service_not_available);
  EXPECT_EQ(h.client.error(), disconnect_reason::service_not_available);
  EXPECT_TRUE(h.client.closed());
}

TEST(ssh_transport_machine, server_refuses_upper_layer_messages_before_a_service_request) {
  handshaken h;
  ASSERT_FALSE(h.client.send(bytes{50}));
  run(h.client, h.server);
  EXPECT_EQ(h.server.error(), disconnect_reason::protocol_error);
  EXPECT_EQ(h.client.error(), disconnect_reason::protocol_error);
}

TEST(ssh_transport_machine, ping_is_answered_with_pong) {
  handshaken h;
  auto before = h.client.received_counters().packets;
  ASSERT_FALSE(h.client.send(wire::encode(ping{{1, 2, 3}})));
  auto r = run(h.client, h.server);
  EXPECT_TRUE(r.to_server.empty());
  EXPECT_TRUE(r.to_client.empty());
  EXPECT_EQ(h.client.received_counters().packets, before + 1);
  EXPECT_FALSE(h.client.closed());
}

TEST(ssh_transport_machine, rekey_keeps_session_id_and_queued_packets) {
  handshaken h;
  ASSERT_FALSE(h.client.send(wire::encode(service_request{"ssh-userauth"})));
  run(h.client, h.server);
  auto sid = h.client.session_id();
  ASSERT_FALSE(h.client.send(bytes{60, 1}));  // in flight when the server starts a rekey
  h.server.rekey();
  EXPECT_FALSE(h.server.can_send());
  auto r = run(h.client, h.server);
  ASSERT_EQ(r.to_server.size(), 1u);
  EXPECT_EQ(r.to_server[0], (bytes{60, 1}));
  EXPECT_EQ(h.client.kex_count(), 2u);
  EXPECT_EQ(h.server.kex_count(), 2u);
  EXPECT_EQ(h.client.session_id(), sid);
  EXPECT_TRUE(h.server.can_send());
  ASSERT_FALSE(h.server.send(bytes{61}));
  r = run(h.client, h.server);
  ASSERT_EQ(r.to_client.size(), 1u);
}

TEST(ssh_transport_machine, rekey_starts_after_the_byte_limit) {
  handshaken h{[](transport_config& c) { c.rekey_bytes = 16 * 1024; }};
  ASSERT_TRUE(h.client.handshake_done());
  ASSERT_FALSE(h.client.send(wire::encode(service_request{"ssh-userauth"})));
  run(h.client, h.server);
  bytes big(4000, 0x5e);
  int sent = 0;
  while (h.client.can_send() && sent < 10) {
    ASSERT_FALSE(h.client.send(big));
    ++sent;
  }
  EXPECT_TRUE(h.client.kex_in_progress());
  EXPECT_LE(sent, 5);
  auto r = run(h.client, h.server);
  EXPECT_EQ(r.to_server.size(), std::size_t(sent));
  EXPECT_EQ(h.client.kex_count(), 2u);
}

TEST(ssh_transport_machine, rekey_starts_after_the_time_limit) {
  auto now = std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::steady_clock::now());
  handshaken h{[now](transport_config& c) {
    c.rekey_time = std::chrono::seconds{10};
    c.clock = [now] { return *now; };
  }};
  ASSERT_FALSE(h.client.send(wire::encode(service_request{"ssh-userauth"})));
  run(h.client, h.server);
  EXPECT_FALSE(h.client.kex_in_progress());
  *now += std::chrono::seconds{11};
  ASSERT_FALSE(h.client.send(bytes{80}));
  EXPECT_TRUE(h.client.kex_in_progress());
  run(h.client, h.server);
  EXPECT_EQ(h.client.kex_count(), 2u);
}

TEST(ssh_transport_machine, flipped_byte_after_kex_is_a_mac_error_and_disconnect) {
  for (const auto& cipher : default_preferences().cipher) {
    for (const auto& mac : legacy_preferences().mac) {
      if (find_cipher(cipher)->aead() && mac != "hmac-sha2-256") continue;
      handshaken h{[&](transport_config& c) {
                     c.algorithms.cipher = {cipher};
                     c.algorithms.mac = {mac};
                   },
                   [](transport_config& s) { s.algorithms = legacy_preferences(); }};
      ASSERT_TRUE(h.client.handshake_done()) << cipher << " " << mac;
      ASSERT_FALSE(h.client.send(wire::encode(service_request{"ssh-userauth"})));
      bytes out;
      h.client.swap_output(out);
      out[out.size() / 2] ^= 0x40;
      feed(h.server, out);
      process_all(h.server);
      EXPECT_EQ(h.server.error(), disconnect_reason::mac_error) << cipher << " " << mac;
      transfer(h.server, h.client);
      process_all(h.client);
      EXPECT_EQ(h.client.error(), disconnect_reason::mac_error) << cipher << " " << mac;
    }
  }
}

TEST(ssh_transport_machine, strict_kex_refuses_non_kex_messages_in_the_first_exchange) {
  test::fixed_random rng;
  transport_machine server{server_config(rng)};
  server.start();
  script s;
  s.add(script_kexinit({"curve25519-sha256", "kex-strict-c-v00@openssh.com"})).add(ignore{{1}});
  feed(server, s.wire);
  process_all(server);
  EXPECT_EQ(server.error(), disconnect_reason::protocol_error);
  EXPECT_EQ(sent_disconnect(server), 2u);
}

TEST(ssh_transport_machine, strict_kex_requires_kexinit_first) {
  test::fixed_random rng;
  transport_machine server{server_config(rng)};
  server.start();
  script s;
  s.add(ignore{{1}}).add(script_kexinit({"curve25519-sha256", "kex-strict-c-v00@openssh.com"}));
  feed(server, s.wire);
  process_all(server);
  EXPECT_EQ(server.error(), disconnect_reason::protocol_error);
}

TEST(ssh_transport_machine, without_strict_kex_ignore_during_kex_is_allowed) {
  test::fixed_random rng;
  transport_machine server{server_config(rng)};
  server.start();
  script s;
  s.add(ignore{{1}}).add(script_kexinit({"curve25519-sha256"})).add(ignore{{2}});
  feed(server, s.wire);
  process_all(server);
  EXPECT_FALSE(server.closed()) << server.error().message();
  EXPECT_FALSE(server.strict_kex());
}

TEST(ssh_transport_machine, upper_layer_message_before_kex_is_refused) {
  test::fixed_random rng;
  transport_machine server{server_config(rng)};
  server.start();
  script s;
  s.add_raw(bytes{50, 0});
  feed(server, s.wire);
  process_all(server);
  EXPECT_EQ(server.error(), disconnect_reason::protocol_error);
}

TEST(ssh_transport_machine, invalid_public_values_fail_the_key_exchange) {
  const auto& p = crypto::dh_group::group14().p;
  bytes p_minus_1 = p;
  p_minus_1.back() -= 1;
  struct row {
    const char* kex;
    bytes init;
  } rows[] = {
      {"curve25519-sha256", wire::encode(kex_ecdh_init{bytes(32, 0)})},  // small-order point
      {"curve25519-sha256", wire::encode(kex_ecdh_init{bytes(31, 9)})},  // wrong size
      {"ecdh-sha2-nistp256", wire::encode(kex_ecdh_init{bytes(65, 4)})},  // not on the curve
      {"ecdh-sha2-nistp256", wire::encode(kex_ecdh_init{bytes{0}})},      // infinity
      {"ecdh-sha2-nistp384", wire::encode(kex_ecdh_init{bytes(97, 1)})},
      {"diffie-hellman-group14-sha256", wire::encode(kexdh_init{{bytes{}}})},   // 0
      {"diffie-hellman-group14-sha256", wire::encode(kexdh_init{{bytes{1}}})},  // 1
      {"diffie-hellman-group14-sha256", wire::encode(kexdh_init{{p_minus_1}})},
      {"diffie-hellman-group14-sha256", wire::encode(kexdh_init{{p}})},
  };
  for (const auto& r : rows) {
    test::fixed_random rng;
    auto config = server_config(rng);
    config.algorithms = legacy_preferences();  // the NIST-curve methods are legacy only
    transport_machine server{config};
    server.start();
    script s;
    s.add(script_kexinit({r.kex})).add_raw(r.init);
    feed(server, s.wire);
    process_all(server);
    EXPECT_EQ(server.error(), disconnect_reason::key_exchange_failed) << r.kex;
    EXPECT_EQ(sent_disconnect(server), 3u) << r.kex;
  }
}

TEST(ssh_transport_machine, client_refuses_an_invalid_server_value) {
  test::fixed_random rng;
  transport_machine client{client_config(rng)};
  client.start();
  script s;
  s.add(script_kexinit({"curve25519-sha256"})).add(kex_ecdh_reply{{1}, bytes(32, 0), {2}});
  feed(client, s.wire);
  process_all(client);
  EXPECT_EQ(client.error(), disconnect_reason::key_exchange_failed);
}

TEST(ssh_transport_machine, client_refuses_a_bad_host_key_signature) {
  // A real server whose signature is corrupted in flight (the packet is still "none").
  test::fixed_random crng{1}, srng{2};
  transport_machine client{client_config(crng)};
  transport_machine server{server_config(srng)};
  client.start();
  server.start();
  transfer(client, server);
  process_all(server);
  transfer(server, client);
  process_all(client);  // the client's ECDH init
  transfer(client, server);
  process_all(server);  // the server's reply, NEWKEYS and EXT_INFO
  bytes out;
  server.swap_output(out);
  // The reply is the first packet; its signature ends the payload, just before the padding.
  std::size_t len = (std::size_t{out[0]} << 24) | (out[1] << 16) | (out[2] << 8) | out[3];
  std::size_t payload_end = 4 + len - out[4];
  out[payload_end - 5] ^= 1;
  feed(client, out);
  process_all(client);
  EXPECT_TRUE(client.closed());
  EXPECT_EQ(client.error(), disconnect_reason::key_exchange_failed);
}

TEST(ssh_transport_machine, host_key_hook_refusal_is_host_key_not_verifiable) {
  test::fixed_random crng{1}, srng{2};
  auto c = client_config(crng);
  c.verify_host_key = [](const host_key_info&) { return make_error_code(errc::bad_value); };
  transport_machine client{c};
  transport_machine server{server_config(srng)};
  client.start();
  server.start();
  run(client, server);
  EXPECT_EQ(client.error(), disconnect_reason::host_key_not_verifiable);
  EXPECT_EQ(server.error(), disconnect_reason::host_key_not_verifiable);
}

TEST(ssh_transport_machine, identification_too_long_or_with_nul_is_refused) {
  for (std::string ident : {"SSH-2.0-" + std::string(300, 'x') + "\r\n",
                            std::string{"SSH-2.0-a\0b\r\n", 13}, std::string{"HELLO\r\n"}}) {
    test::fixed_random rng;
    transport_machine server{server_config(rng)};
    server.start();
    feed(server, as_bytes(ident));
    process_all(server);
    EXPECT_EQ(server.error(), disconnect_reason::protocol_error);
  }
}

TEST(ssh_transport_machine, hostile_packet_lengths_disconnect) {
  for (std::uint32_t len : {0u, 1u, 5u, 0xffffffffu, 300000u}) {
    test::fixed_random rng;
    transport_machine server{server_config(rng)};
    server.start();
    std::string wire = "SSH-2.0-x\r\n";
    for (int i = 3; i >= 0; --i) wire.push_back(char(len >> (8 * i)));
    wire.append(28, '\4');
    feed(server, as_bytes(wire));
    process_all(server);
    EXPECT_EQ(server.error(), disconnect_reason::protocol_error) << len;
    EXPECT_EQ(sent_disconnect(server), 2u);
  }
}

TEST(ssh_transport_machine, peer_disconnect_reason_is_reported) {
  test::fixed_random rng;
  transport_machine client{client_config(rng)};
  client.start();
  script s;
  s.add(disconnect{12, "too many", ""});
  feed(client, s.wire);
  process_all(client);
  EXPECT_EQ(client.error(), disconnect_reason::too_many_connections);
  EXPECT_EQ(client.peer_disconnect_message(), "too many");
}


TEST(ssh_transport_machine, ext_info_before_keys_is_refused) {
  test::fixed_random rng;
  transport_machine client{client_config(rng)};
  client.start();
  script s;
  ext_info e;
  e.extensions.items.push_back({"server-sig-algs", to_bytes("ssh-rsa")});
  s.add(e);
  feed(client, s.wire);
  process_all(client);
  EXPECT_EQ(client.error(), disconnect_reason::protocol_error);
  EXPECT_TRUE(client.peer_extensions().empty());
}

TEST(ssh_transport_machine, server_never_signs_with_ssh_rsa) {
  // Legacy lists on both sides and a client that only accepts ssh-rsa: no common host key.
  handshaken h{[](transport_config& c) {
                 c.algorithms = legacy_preferences();
                 c.algorithms.host_key = {"ssh-rsa"};
               },
               [](transport_config& s) { s.algorithms = legacy_preferences(); }};
  EXPECT_EQ(h.client.error(), disconnect_reason::key_exchange_failed);
  EXPECT_FALSE(h.server.handshake_done());
}

TEST(ssh_transport_machine, payloads_over_the_packet_limit_are_refused) {
  handshaken h;
  EXPECT_EQ(h.client.send(bytes(limits::max_packet, 94)), errc::length_limit);
  EXPECT_FALSE(h.client.send(bytes(limits::max_packet - 64, 94)));
  EXPECT_FALSE(h.client.closed());
}
