// ssh-agent protocol messages (draft-miller-ssh-agent-04 §3-§6; OpenSSH PROTOCOL.agent), the
// client's subset: list identities and sign. Each message travels as uint32 length + payload.
#pragma once

#include <ferry/core/codec.hpp>
#include <ferry/core/limits.hpp>

#include <string>
#include <tuple>
#include <vector>

namespace ferry::ssh::proto::agent {

namespace msg {
inline constexpr std::uint8_t failure = 5;  // §4.1 SSH_AGENT_FAILURE
inline constexpr std::uint8_t success = 6;
inline constexpr std::uint8_t request_identities = 11;
inline constexpr std::uint8_t identities_answer = 12;
inline constexpr std::uint8_t sign_request = 13;
inline constexpr std::uint8_t sign_response = 14;
}  // namespace msg

// §6.6 signature flags
inline constexpr std::uint32_t rsa_sha2_256 = 2;
inline constexpr std::uint32_t rsa_sha2_512 = 4;

struct request_identities {
  static constexpr std::uint8_t id = msg::request_identities;
  template <class S>
  static auto fields(S&) { return std::tie(); }
};

struct identity {
  bytes key_blob;
  std::string comment;
  bool operator==(const identity&) const = default;
  template <class S>
  static auto fields(S& s) { return std::tie(s.key_blob, s.comment); }
};

struct identity_list {
  std::vector<identity> items;
};

inline void wire_encode(wire::writer& w, const identity_list& l) {
  w.u32(static_cast<std::uint32_t>(l.items.size()));
  for (const auto& i : l.items) wire::encode_fields(w, i);
}

inline void wire_decode(wire::reader& r, identity_list& l) {
  l.items.clear();
  auto n = r.u32();
  if (!r.ok()) return;
  if (n > limits::agent_max_identities) return r.fail(errc::length_limit);
  for (std::uint32_t i = 0; i < n && r.ok(); ++i) {
    identity id;
    wire::decode_fields(r, id);
    if (r.ok()) l.items.push_back(std::move(id));
  }
}

// §4.4
struct identities_answer {
  static constexpr std::uint8_t id = msg::identities_answer;
  identity_list identities;
  template <class S>
  static auto fields(S& s) { return std::tie(s.identities); }
};

// §4.5
struct sign_request {
  static constexpr std::uint8_t id = msg::sign_request;
  bytes key_blob;
  bytes data;
  std::uint32_t flags = 0;
  template <class S>
  static auto fields(S& s) { return std::tie(s.key_blob, s.data, s.flags); }
};

struct sign_response {
  static constexpr std::uint8_t id = msg::sign_response;
  bytes signature;
  template <class S>
  static auto fields(S& s) { return std::tie(s.signature); }
};

// §3: uint32 length, then the message.
inline bytes frame(byte_view message) {
  bytes out;
  wire::writer w{out};
  w.string(message);
  return out;
}

// The length of the message a 4-byte header announces; zero and over-limit lengths are errors.
inline error_code frame_length(byte_view header, std::size_t& length) {
  wire::reader r{header};
  auto n = r.u32();
  if (auto ec = r.finish()) return ec;
  if (n == 0) return make_error_code(errc::bad_value);
  if (n > limits::agent_max_message) return make_error_code(errc::length_limit);
  length = n;
  return {};
}

}  // namespace ferry::ssh::proto::agent
