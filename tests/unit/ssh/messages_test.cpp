// Golden bytes and round trips for every transport message (RFC 4253 §6-§12, RFC 4419, RFC 5656,
// RFC 8308, OpenSSH PROTOCOL).
#include <ferry/ssh/proto/messages.hpp>

#include <gtest/gtest.h>

using namespace ferry;
using namespace ferry::ssh::proto;

namespace {

template <class M>
M round_trip(const M& m) {
  auto b = wire::encode(m);
  M back;
  EXPECT_FALSE(wire::decode(b, back));
  EXPECT_EQ(wire::encode(back), b);
  return back;
}

}  // namespace

TEST(ssh_messages, disconnect_golden_bytes) {
  disconnect d{2, "bad", "en"};
  bytes expect = {1, 0, 0, 0, 2, 0, 0, 0, 3, 'b', 'a', 'd', 0, 0, 0, 2, 'e', 'n'};
  EXPECT_EQ(wire::encode(d), expect);
  auto back = round_trip(d);
  EXPECT_EQ(back.reason_code, 2u);
  EXPECT_EQ(back.description, "bad");
}

TEST(ssh_messages, ignore_debug_unimplemented_golden_bytes) {
  EXPECT_EQ(wire::encode(ignore{{0xaa}}), (bytes{2, 0, 0, 0, 1, 0xaa}));
  EXPECT_EQ(wire::encode(unimplemented{0x01020304}), (bytes{3, 1, 2, 3, 4}));
  EXPECT_EQ(wire::encode(debug{true, "x", ""}), (bytes{4, 1, 0, 0, 0, 1, 'x', 0, 0, 0, 0}));
  round_trip(ignore{{1, 2, 3}});
  round_trip(unimplemented{7});
  auto d = round_trip(debug{false, "hello", "en"});
  EXPECT_EQ(d.message, "hello");
}

TEST(ssh_messages, service_request_and_accept_golden_bytes) {
  bytes req = {5, 0, 0, 0, 12, 's', 's', 'h', '-', 'u', 's', 'e', 'r', 'a', 'u', 't', 'h'};
  EXPECT_EQ(wire::encode(service_request{"ssh-userauth"}), req);
  bytes acc = req;
  acc[0] = 6;
  EXPECT_EQ(wire::encode(service_accept{"ssh-userauth"}), acc);
  service_accept a;
  EXPECT_FALSE(wire::decode(acc, a));
  EXPECT_EQ(a.service_name, "ssh-userauth");
  service_request r;
  EXPECT_TRUE(wire::decode(acc, r));  // wrong message number
}

TEST(ssh_messages, ext_info_golden_bytes) {
  ext_info e;
  e.extensions.items.push_back({"a", {'b'}});
  bytes expect = {7, 0, 0, 0, 1, 0, 0, 0, 1, 'a', 0, 0, 0, 1, 'b'};
  EXPECT_EQ(wire::encode(e), expect);
  auto back = round_trip(e);
  EXPECT_EQ(back.extensions, e.extensions);
}

TEST(ssh_messages, ext_info_refuses_too_many_extensions) {
  bytes b = {7, 0, 0, 0x10, 0};  // 4096 extensions announced
  ext_info e;
  EXPECT_EQ(wire::decode(b, e), errc::length_limit);
}

TEST(ssh_messages, kexinit_golden_bytes) {
  kexinit k;
  for (int i = 0; i < 16; ++i) k.cookie[i] = std::uint8_t(i);
  k.kex_algorithms.names = {"a", "b"};
  k.server_host_key_algorithms.names = {"h"};
  k.first_kex_packet_follows = true;
  bytes expect = {20, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
                  0, 0, 0, 3, 'a', ',', 'b',  // kex
                  0, 0, 0, 1, 'h',            // host key
                  0, 0, 0, 0, 0, 0, 0, 0,     // ciphers
                  0, 0, 0, 0, 0, 0, 0, 0,     // macs
                  0, 0, 0, 0, 0, 0, 0, 0,     // compression
                  0, 0, 0, 0, 0, 0, 0, 0,     // languages
                  1, 0, 0, 0, 0};
  EXPECT_EQ(wire::encode(k), expect);
  auto back = round_trip(k);
  EXPECT_EQ(back.kex_algorithms, k.kex_algorithms);
  EXPECT_TRUE(back.first_kex_packet_follows);
}

TEST(ssh_messages, kexinit_refuses_empty_name) {
  auto b = wire::encode(kexinit{});
  // kex list ",": an empty name is forbidden (RFC 4251 §6)
  b[20] = 2;
  b.insert(b.begin() + 21, {'a', ','});
  kexinit k;
  EXPECT_EQ(wire::decode(b, k), errc::bad_value);
}

TEST(ssh_messages, newkeys_is_one_byte) {
  EXPECT_EQ(wire::encode(newkeys{}), (bytes{21}));
  newkeys n;
  EXPECT_FALSE(wire::decode(bytes{21}, n));
  EXPECT_EQ(wire::decode(bytes{21, 0}, n), errc::trailing_data);
}

TEST(ssh_messages, kexdh_golden_bytes) {
  EXPECT_EQ(wire::encode(kexdh_init{{{0x80}}}), (bytes{30, 0, 0, 0, 2, 0, 0x80}));
  kexdh_reply r{{1}, {{0x7f}}, {2}};
  EXPECT_EQ(wire::encode(r), (bytes{31, 0, 0, 0, 1, 1, 0, 0, 0, 1, 0x7f, 0, 0, 0, 1, 2}));
  round_trip(r);
  kexdh_init neg;
  EXPECT_EQ(wire::decode(bytes{30, 0, 0, 0, 1, 0x80}, neg), errc::bad_value);  // negative e
}

TEST(ssh_messages, ecdh_golden_bytes) {
  EXPECT_EQ(wire::encode(kex_ecdh_init{{4, 5}}), (bytes{30, 0, 0, 0, 2, 4, 5}));
  kex_ecdh_reply r{{1}, {2, 3}, {4}};
  EXPECT_EQ(wire::encode(r), (bytes{31, 0, 0, 0, 1, 1, 0, 0, 0, 2, 2, 3, 0, 0, 0, 1, 4}));
  round_trip(r);
}

TEST(ssh_messages, group_exchange_golden_bytes) {
  EXPECT_EQ(wire::encode(kex_dh_gex_request{2048, 3072, 8192}),
            (bytes{34, 0, 0, 0x08, 0, 0, 0, 0x0c, 0, 0, 0, 0x20, 0}));
  EXPECT_EQ(wire::encode(kex_dh_gex_group{{{0xff}}, {{2}}}),
            (bytes{31, 0, 0, 0, 2, 0, 0xff, 0, 0, 0, 1, 2}));
  EXPECT_EQ(wire::encode(kex_dh_gex_init{{{1}}}), (bytes{32, 0, 0, 0, 1, 1}));
  kex_dh_gex_reply r{{9}, {{1}}, {8}};
  EXPECT_EQ(wire::encode(r), (bytes{33, 0, 0, 0, 1, 9, 0, 0, 0, 1, 1, 0, 0, 0, 1, 8}));
  round_trip(r);
  round_trip(kex_dh_gex_request{1, 2, 3});
}

TEST(ssh_messages, ping_pong_golden_bytes) {
  EXPECT_EQ(wire::encode(ping{{'x'}}), (bytes{192, 0, 0, 0, 1, 'x'}));
  EXPECT_EQ(wire::encode(pong{{'x'}}), (bytes{193, 0, 0, 0, 1, 'x'}));
  round_trip(ping{{1, 2}});
}

TEST(ssh_messages, truncated_messages_are_refused) {
  auto b = wire::encode(disconnect{11, "bye", ""});
  for (std::size_t n = 1; n < b.size(); ++n) {
    disconnect d;
    EXPECT_EQ(wire::decode(byte_view{b.data(), n}, d), errc::truncated) << n;
  }
}
