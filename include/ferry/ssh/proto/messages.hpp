// SSH transport-layer messages (RFC 4253 §6-§12, RFC 4419, RFC 5656, RFC 8308, OpenSSH's
// PROTOCOL), one plain struct per message with its fields in wire order, for the core codec.
#pragma once

#include <ferry/core/codec.hpp>
#include <ferry/core/limits.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

namespace ferry::ssh::proto {

// RFC 4253 §12 message numbers (and the ranges of RFC 4250 §4.1.2).
namespace msg {
inline constexpr std::uint8_t disconnect = 1;
inline constexpr std::uint8_t ignore = 2;
inline constexpr std::uint8_t unimplemented = 3;
inline constexpr std::uint8_t debug = 4;
inline constexpr std::uint8_t service_request = 5;
inline constexpr std::uint8_t service_accept = 6;
inline constexpr std::uint8_t ext_info = 7;  // RFC 8308 §2.3
inline constexpr std::uint8_t kexinit = 20;
inline constexpr std::uint8_t newkeys = 21;
// 30..49 belong to the negotiated kex method; the same numbers mean different messages.
inline constexpr std::uint8_t kexdh_init = 30;
inline constexpr std::uint8_t kexdh_reply = 31;
inline constexpr std::uint8_t kex_ecdh_init = 30;  // RFC 5656 §7.1
inline constexpr std::uint8_t kex_ecdh_reply = 31;
inline constexpr std::uint8_t kex_dh_gex_group = 31;  // RFC 4419 §5
inline constexpr std::uint8_t kex_dh_gex_init = 32;
inline constexpr std::uint8_t kex_dh_gex_reply = 33;
inline constexpr std::uint8_t kex_dh_gex_request = 34;
inline constexpr std::uint8_t userauth_success = 52;  // delayed compression starts after it
inline constexpr std::uint8_t ping = 192;              // OpenSSH PROTOCOL §1.9 ping@openssh.com
inline constexpr std::uint8_t pong = 193;

// RFC 4253 §7.1: the messages allowed while a key exchange is under way.
constexpr bool is_transport_generic(std::uint8_t id) noexcept { return id >= 1 && id <= 4; }
constexpr bool is_kex(std::uint8_t id) noexcept { return id >= 20 && id <= 49; }
constexpr bool is_kex_method(std::uint8_t id) noexcept { return id >= 30 && id <= 49; }
}  // namespace msg

struct disconnect {
  static constexpr std::uint8_t id = msg::disconnect;
  std::uint32_t reason_code = 0;
  std::string description;
  std::string language_tag;
  template <class S>
  static auto fields(S& s) { return std::tie(s.reason_code, s.description, s.language_tag); }
};

struct ignore {
  static constexpr std::uint8_t id = msg::ignore;
  bytes data;
  template <class S>
  static auto fields(S& s) { return std::tie(s.data); }
};

struct unimplemented {
  static constexpr std::uint8_t id = msg::unimplemented;
  std::uint32_t sequence_number = 0;
  template <class S>
  static auto fields(S& s) { return std::tie(s.sequence_number); }
};

struct debug {
  static constexpr std::uint8_t id = msg::debug;
  bool always_display = false;
  std::string message;
  std::string language_tag;
  template <class S>
  static auto fields(S& s) { return std::tie(s.always_display, s.message, s.language_tag); }
};

struct service_request {
  static constexpr std::uint8_t id = msg::service_request;
  std::string service_name;
  template <class S>
  static auto fields(S& s) { return std::tie(s.service_name); }
};

struct service_accept {
  static constexpr std::uint8_t id = msg::service_accept;
  std::string service_name;
  template <class S>
  static auto fields(S& s) { return std::tie(s.service_name); }
};

// RFC 8308 §2.3: nr-extensions, then that many (name, value) pairs.
struct extension {
  std::string name;
  bytes value;
  bool operator==(const extension&) const = default;
  template <class S>
  static auto fields(S& s) { return std::tie(s.name, s.value); }
};

struct extension_list {
  std::vector<extension> items;
  bool operator==(const extension_list&) const = default;
};

inline void wire_encode(wire::writer& w, const extension_list& l) {
  w.u32(static_cast<std::uint32_t>(l.items.size()));
  for (const auto& e : l.items) wire::encode_fields(w, e);
}

inline void wire_decode(wire::reader& r, extension_list& l) {
  l.items.clear();
  auto n = r.u32();
  if (!r.ok()) return;
  if (n > limits::ssh_max_extensions) return r.fail(errc::length_limit);
  for (std::uint32_t i = 0; i < n && r.ok(); ++i) {
    extension e;
    wire::decode_fields(r, e);
    if (r.ok()) l.items.push_back(std::move(e));
  }
}

struct ext_info {
  static constexpr std::uint8_t id = msg::ext_info;
  extension_list extensions;
  template <class S>
  static auto fields(S& s) { return std::tie(s.extensions); }
};

// RFC 4253 §7.1
struct kexinit {
  static constexpr std::uint8_t id = msg::kexinit;
  std::array<std::uint8_t, 16> cookie{};
  wire::name_list kex_algorithms;
  wire::name_list server_host_key_algorithms;
  wire::name_list encryption_client_to_server;
  wire::name_list encryption_server_to_client;
  wire::name_list mac_client_to_server;
  wire::name_list mac_server_to_client;
  wire::name_list compression_client_to_server;
  wire::name_list compression_server_to_client;
  wire::name_list languages_client_to_server;
  wire::name_list languages_server_to_client;
  bool first_kex_packet_follows = false;
  std::uint32_t reserved = 0;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.cookie, s.kex_algorithms, s.server_host_key_algorithms,
                    s.encryption_client_to_server, s.encryption_server_to_client,
                    s.mac_client_to_server, s.mac_server_to_client,
                    s.compression_client_to_server, s.compression_server_to_client,
                    s.languages_client_to_server, s.languages_server_to_client,
                    s.first_kex_packet_follows, s.reserved);
  }
};

struct newkeys {
  static constexpr std::uint8_t id = msg::newkeys;
  template <class S>
  static auto fields(S&) { return std::tie(); }
};

// RFC 4253 §8 (and RFC 8268 for the larger groups): e = g^x mod p.
struct kexdh_init {
  static constexpr std::uint8_t id = msg::kexdh_init;
  wire::mpint e;
  template <class S>
  static auto fields(S& s) { return std::tie(s.e); }
};

struct kexdh_reply {
  static constexpr std::uint8_t id = msg::kexdh_reply;
  bytes host_key;  // K_S
  wire::mpint f;
  bytes signature;
  template <class S>
  static auto fields(S& s) { return std::tie(s.host_key, s.f, s.signature); }
};

// RFC 5656 §7.1, also curve25519-sha256 (RFC 8731 §3).
struct kex_ecdh_init {
  static constexpr std::uint8_t id = msg::kex_ecdh_init;
  bytes q_c;
  template <class S>
  static auto fields(S& s) { return std::tie(s.q_c); }
};

struct kex_ecdh_reply {
  static constexpr std::uint8_t id = msg::kex_ecdh_reply;
  bytes host_key;  // K_S
  bytes q_s;
  bytes signature;
  template <class S>
  static auto fields(S& s) { return std::tie(s.host_key, s.q_s, s.signature); }
};

// RFC 4419 §3
struct kex_dh_gex_request {
  static constexpr std::uint8_t id = msg::kex_dh_gex_request;
  std::uint32_t min = 0;
  std::uint32_t n = 0;
  std::uint32_t max = 0;
  template <class S>
  static auto fields(S& s) { return std::tie(s.min, s.n, s.max); }
};

struct kex_dh_gex_group {
  static constexpr std::uint8_t id = msg::kex_dh_gex_group;
  wire::mpint p;
  wire::mpint g;
  template <class S>
  static auto fields(S& s) { return std::tie(s.p, s.g); }
};

struct kex_dh_gex_init {
  static constexpr std::uint8_t id = msg::kex_dh_gex_init;
  wire::mpint e;
  template <class S>
  static auto fields(S& s) { return std::tie(s.e); }
};

struct kex_dh_gex_reply {
  static constexpr std::uint8_t id = msg::kex_dh_gex_reply;
  bytes host_key;
  wire::mpint f;
  bytes signature;
  template <class S>
  static auto fields(S& s) { return std::tie(s.host_key, s.f, s.signature); }
};

// OpenSSH PROTOCOL §1.9
struct ping {
  static constexpr std::uint8_t id = msg::ping;
  bytes data;
  template <class S>
  static auto fields(S& s) { return std::tie(s.data); }
};

struct pong {
  static constexpr std::uint8_t id = msg::pong;
  bytes data;
  template <class S>
  static auto fields(S& s) { return std::tie(s.data); }
};

}  // namespace ferry::ssh::proto
