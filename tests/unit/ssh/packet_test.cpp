// RFC 4253 §6 binary packet protocol: framing, padding, every cipher/MAC pair, hostile input.
#include <ferry/ssh/proto/packet.hpp>
#include <ferry/test/random.hpp>

#include <gtest/gtest.h>

using namespace ferry;
using namespace ferry::ssh;
using namespace ferry::ssh::proto;

namespace {

struct suite {
  const char* cipher;
  const char* mac;  // nullptr for AEAD
};

std::vector<suite> all_suites() {
  std::vector<suite> out;
  for (const auto& c : cipher_algorithms()) {
    if (c.aead()) {
      out.push_back({c.name.data(), nullptr});
      continue;
    }
    for (const auto& m : mac_algorithms()) out.push_back({c.name.data(), m.name.data()});
  }
  return out;
}

direction_keys keys_for(const suite& s, std::uint64_t seed) {
  test::fixed_random rng{seed};
  direction_keys k;
  k.cipher = find_cipher(s.cipher);
  k.mac = s.mac ? find_mac(s.mac) : nullptr;
  k.compression = find_compression("none");
  k.iv.resize(k.cipher->iv_size);
  k.key.resize(k.cipher->key_size);
  if (k.mac) k.mac_key.resize(k.mac->key_size);
  rng.fill(k.iv);
  rng.fill(k.key);
  rng.fill(k.mac_key);
  return k;
}

bytes payload_of(std::size_t n, std::uint8_t first = 94) {
  bytes p(n);
  for (std::size_t i = 0; i < n; ++i) p[i] = std::uint8_t(i * 7 + 3);
  if (n) p[0] = first;
  return p;
}

struct opened {
  packet_opener::status st;
  bytes payload;
  std::size_t consumed = 0;
  error_code ec;
};

opened open_all(packet_opener& o, bytes& wire) {
  opened r;
  byte_view payload;
  std::size_t needed = 0;
  r.st = o.open(wire, payload, r.consumed, needed, r.ec);
  if (r.st == packet_opener::status::packet) r.payload.assign(payload.begin(), payload.end());
  return r;
}

bytes u32be(std::uint32_t v) {
  return {std::uint8_t(v >> 24), std::uint8_t(v >> 16), std::uint8_t(v >> 8), std::uint8_t(v)};
}

}  // namespace

TEST(ssh_packet, none_cipher_golden_bytes) {
  packet_sealer s;
  test::fixed_random rng{1};
  bytes out;
  ASSERT_FALSE(s.seal(bytes{2}, out, rng));
  // 4 + 1 + 1 payload + padding: padded to 8 with at least 4 bytes -> 10 bytes of padding.
  ASSERT_EQ(out.size(), 16u);
  EXPECT_EQ(bytes(out.begin(), out.begin() + 6), (bytes{0, 0, 0, 12, 10, 2}));
  test::fixed_random same{1};
  bytes pad(10);
  same.fill(pad);
  EXPECT_EQ(bytes(out.begin() + 6, out.end()), pad);
  EXPECT_EQ(s.sequence(), 1u);
}

TEST(ssh_packet, padding_is_4_to_block_plus_3_and_aligned) {
  for (const auto& su : {suite{"none", nullptr}, suite{"aes128-ctr", "hmac-sha2-256"},
                         suite{"aes128-ctr", "hmac-sha2-256-etm@openssh.com"},
                         suite{"aes256-gcm@openssh.com", nullptr},
                         suite{"chacha20-poly1305@openssh.com", nullptr}}) {
    packet_sealer s;
    packet_opener o;
    if (std::string_view{su.cipher} != "none") {
      s.set_keys(keys_for(su, 5));
      o.set_keys(keys_for(su, 5));
    }
    test::fixed_random rng;
    for (std::size_t n = 1; n < 80; ++n) {
      bytes out;
      ASSERT_FALSE(s.seal(payload_of(n), out, rng));
      auto r = open_all(o, out);
      ASSERT_EQ(r.st, packet_opener::status::packet) << su.cipher << " " << n;
      EXPECT_EQ(r.consumed, out.size());
      std::size_t body = out.size() - s.trailer_size();
      std::size_t pad = body - 5 - n;
      EXPECT_GE(pad, 4u);
      EXPECT_LT(pad, 4 + s.block_size());
      std::size_t aligned = s.length_separate() ? body - 4 : body;
      EXPECT_EQ(aligned % s.block_size(), 0u) << su.cipher;
      EXPECT_EQ(r.payload, payload_of(n));
    }
  }
}

TEST(ssh_packet, every_cipher_and_mac_round_trips_in_sequence) {
  for (const auto& su : all_suites()) {
    packet_sealer s;
    packet_opener o;
    s.set_keys(keys_for(su, 42));
    o.set_keys(keys_for(su, 42));
    test::fixed_random rng;
    bytes stream;
    std::vector<bytes> sent;
    for (std::size_t n : {1u, 2u, 15u, 16u, 17u, 255u, 1000u, 32768u}) {
      sent.push_back(payload_of(n));
      ASSERT_FALSE(s.seal(sent.back(), stream, rng));
    }
    // Open from one buffer, as a reader that received everything at once.
    std::size_t at = 0;
    for (const auto& p : sent) {
      byte_view payload;
      std::size_t consumed = 0, needed = 0;
      error_code ec;
      auto st = o.open({stream.data() + at, stream.size() - at}, payload, consumed, needed, ec);
      ASSERT_EQ(st, packet_opener::status::packet) << su.cipher << " " << (su.mac ? su.mac : "");
      EXPECT_EQ(bytes(payload.begin(), payload.end()), p);
      at += consumed;
    }
    EXPECT_EQ(at, stream.size());
    EXPECT_EQ(o.sequence(), s.sequence());
  }
}

TEST(ssh_packet, opener_asks_for_more_until_the_packet_is_whole) {
  for (const auto& su : all_suites()) {
    packet_sealer s;
    packet_opener o;
    s.set_keys(keys_for(su, 9));
    o.set_keys(keys_for(su, 9));
    test::fixed_random rng;
    bytes wire;
    ASSERT_FALSE(s.seal(payload_of(100), wire, rng));
    bytes partial;
    for (std::size_t i = 0; i < wire.size(); ++i) {
      partial.push_back(wire[i]);
      byte_view payload;
      std::size_t consumed = 0, needed = 0;
      error_code ec;
      auto st = o.open(partial, payload, consumed, needed, ec);
      if (i + 1 < wire.size()) {
        ASSERT_EQ(st, packet_opener::status::need_more) << su.cipher << " at " << i;
        EXPECT_GT(needed, partial.size());
      } else {
        ASSERT_EQ(st, packet_opener::status::packet) << su.cipher;
        EXPECT_EQ(bytes(payload.begin(), payload.end()), payload_of(100));
      }
    }
  }
}

TEST(ssh_packet, a_flipped_byte_is_a_mac_error_for_every_cipher_and_mac) {
  for (const auto& su : all_suites()) {
    if (std::string_view{su.cipher} == "none") continue;
    packet_sealer s;
    s.set_keys(keys_for(su, 3));
    test::fixed_random rng;
    bytes clean;
    ASSERT_FALSE(s.seal(payload_of(64), clean, rng));
    // Every byte after the length (the length itself may fail the length checks first), the MAC
    // or tag included.
    for (std::size_t i = 4; i < clean.size(); ++i) {
      packet_opener o;
      o.set_keys(keys_for(su, 3));
      bytes bad = clean;
      bad[i] ^= 0x01;
      auto r = open_all(o, bad);
      ASSERT_EQ(r.st, packet_opener::status::failed) << su.cipher << " " << (su.mac ? su.mac : "") << " " << i;
      EXPECT_EQ(r.ec, disconnect_reason::mac_error);
      // A failed opener stays failed.
      auto again = open_all(o, clean);
      EXPECT_EQ(again.st, packet_opener::status::failed);
    }
  }
}

TEST(ssh_packet, hostile_lengths_are_protocol_errors) {
  for (std::uint32_t len : {0u, 1u, 5u, 0xffffffffu, std::uint32_t(limits::max_packet + 4),
                            std::uint32_t(limits::max_packet + 12)}) {
    packet_opener o;
    bytes wire = u32be(len);
    wire.resize(64, 4);
    auto r = open_all(o, wire);
    EXPECT_EQ(r.st, packet_opener::status::failed) << len;
    EXPECT_EQ(r.ec, disconnect_reason::protocol_error) << len;
  }
}

TEST(ssh_packet, bad_padding_lengths_are_protocol_errors) {
  // packet_length 12: padding_length must be 4..10 (one payload byte at least).
  for (std::uint8_t pad : {0, 3, 11, 12, 255}) {
    packet_opener o;
    bytes wire = u32be(12);
    wire.push_back(pad);
    wire.resize(16, 2);
    auto r = open_all(o, wire);
    EXPECT_EQ(r.st, packet_opener::status::failed) << int(pad);
    EXPECT_EQ(r.ec, disconnect_reason::protocol_error);
  }
  packet_opener ok;
  bytes wire = u32be(12);
  wire.push_back(10);
  wire.resize(16, 2);
  auto r = open_all(ok, wire);
  EXPECT_EQ(r.st, packet_opener::status::packet);
  EXPECT_EQ(r.payload, bytes{2});
}

TEST(ssh_packet, misaligned_length_is_a_protocol_error) {
  packet_opener o;
  bytes wire = u32be(13);  // 13 + 4 is not a multiple of 8
  wire.resize(32, 4);
  EXPECT_EQ(open_all(o, wire).ec, disconnect_reason::protocol_error);
}

TEST(ssh_packet, gcm_nonce_counts_packets) {
  // RFC 5647 §7.1: each packet uses the next invocation counter, so replaying a packet in another
  // position fails.
  suite su{"aes128-gcm@openssh.com", nullptr};
  packet_sealer s;
  s.set_keys(keys_for(su, 8));
  test::fixed_random rng;
  bytes first, second;
  ASSERT_FALSE(s.seal(payload_of(20), first, rng));
  ASSERT_FALSE(s.seal(payload_of(20), second, rng));
  packet_opener o;
  o.set_keys(keys_for(su, 8));
  EXPECT_EQ(open_all(o, second).ec, disconnect_reason::mac_error);
}

TEST(ssh_packet, compression_round_trips) {
  direction_keys k = keys_for({"aes128-ctr", "hmac-sha2-256-etm@openssh.com"}, 4);
  k.compression = find_compression("zlib");
  packet_sealer s;
  packet_opener o;
  s.set_keys(k);
  o.set_keys(k);
  test::fixed_random rng;
  for (int i = 0; i < 5; ++i) {
    bytes big(20000, std::uint8_t('a' + i));
    big[0] = 94;
    bytes wire;
    ASSERT_FALSE(s.seal(big, wire, rng));
    EXPECT_LT(wire.size(), 1000u);  // it did compress
    auto r = open_all(o, wire);
    ASSERT_EQ(r.st, packet_opener::status::packet);
    EXPECT_EQ(r.payload, big);
  }
}

TEST(ssh_packet, delayed_compression_starts_on_request) {
  direction_keys k = keys_for({"aes128-ctr", "hmac-sha2-256"}, 4);
  k.compression = find_compression("zlib@openssh.com");
  packet_sealer s;
  packet_opener o;
  s.set_keys(k);
  o.set_keys(k);
  EXPECT_FALSE(s.compressing());
  s.start_delayed_compression();
  o.start_delayed_compression();
  EXPECT_TRUE(s.compressing());
  test::fixed_random rng;
  bytes big(5000, 'z');
  bytes wire;
  ASSERT_FALSE(s.seal(big, wire, rng));
  EXPECT_LT(wire.size(), 500u);
  EXPECT_EQ(open_all(o, wire).payload, big);
}
