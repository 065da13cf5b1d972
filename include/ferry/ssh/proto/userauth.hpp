// SSH user authentication messages (RFC 4252 §5-§8, RFC 4256 §3, RFC 8308 §3.1), one plain
// struct per message in wire order for the core codec. USERAUTH_REQUEST is a common header
// (user, service, method) followed by a method-specific tail: a sender encodes the whole
// *_request struct; a receiver decodes the header, then the tail the method names
// (decode_request below), so secrets never pass through an unwiped copy.
#pragma once

#include <ferry/core/codec.hpp>
#include <ferry/core/limits.hpp>
#include <ferry/ssh/keys/proto/openssh_key.hpp>
#include <ferry/ssh/proto/messages.hpp>

#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace ferry::ssh::proto {

using keys::proto::secret_string;

namespace msg {
inline constexpr std::uint8_t userauth_request = 50;  // RFC 4252 §6
inline constexpr std::uint8_t userauth_failure = 51;
// userauth_success = 52 is in messages.hpp (the transport starts delayed compression on it)
inline constexpr std::uint8_t userauth_banner = 53;
inline constexpr std::uint8_t userauth_pk_ok = 60;            // RFC 4252 §7
inline constexpr std::uint8_t userauth_passwd_changereq = 60;  // RFC 4252 §8
inline constexpr std::uint8_t userauth_info_request = 60;      // RFC 4256 §3.2
inline constexpr std::uint8_t userauth_info_response = 61;     // RFC 4256 §3.4
// RFC 4250 §4.1.2: 50..79 belong to user authentication, 80 and above to the connection protocol.
constexpr bool is_userauth(std::uint8_t id) noexcept { return id >= 50 && id <= 79; }
constexpr bool is_connection(std::uint8_t id) noexcept { return id >= 80; }
}  // namespace msg

// RFC 4252 §5: the fields every USERAUTH_REQUEST starts with.
struct userauth_header {
  std::string user;
  std::string service;
  std::string method;
  template <class S>
  static auto fields(S& s) { return std::tie(s.user, s.service, s.method); }
};

// --- method tails ------------------------------------------------------------------------------

struct none_tail {
  template <class S>
  static auto fields(S&) { return std::tie(); }
};

// RFC 4252 §7: a query (no signature) or a signed request.
struct publickey_tail {
  bool has_signature = false;
  std::string algorithm;
  bytes key_blob;
  std::optional<bytes> signature;
  template <class S>
  static auto fields(S& s) { return std::tie(s.has_signature, s.algorithm, s.key_blob, s.signature); }
};

// RFC 4252 §8: a login, or (change = TRUE) a change with the old then the new password.
struct password_tail {
  bool change = false;
  secret_string password;
  std::optional<secret_string> new_password;
  template <class S>
  static auto fields(S& s) { return std::tie(s.change, s.password, s.new_password); }
};

// RFC 4256 §3.1: language tag (deprecated, empty) and submethods hint.
struct keyboard_interactive_tail {
  std::string language;
  std::string submethods;
  template <class S>
  static auto fields(S& s) { return std::tie(s.language, s.submethods); }
};

template <class Tail>
struct userauth_request {
  static constexpr std::uint8_t id = msg::userauth_request;
  userauth_header header;
  Tail tail;
  template <class S>
  static auto fields(S& s) { return std::tie(s.header, s.tail); }
};

// Decodes the common header only, leaving r after it.
inline error_code decode_header(wire::reader& r, userauth_header& h) {
  if (r.u8() != msg::userauth_request && r.ok()) r.fail(errc::unexpected_message);
  wire::decode_fields(r, h);
  if (r.ok() && (h.user.size() > limits::ssh_auth_max_user ||
                 h.service.size() > limits::ssh_auth_max_name ||
                 h.method.size() > limits::ssh_auth_max_name))
    r.fail(errc::length_limit);
  return r.error();
}

// Decodes a method tail that must end the message.
template <class Tail>
error_code decode_tail(wire::reader& r, Tail& t) {
  wire::decode_fields(r, t);
  return r.finish();
}

// --- server to client --------------------------------------------------------------------------

// RFC 4252 §5.1
struct userauth_failure {
  static constexpr std::uint8_t id = msg::userauth_failure;
  wire::name_list methods;  // authentications that can continue
  bool partial_success = false;
  template <class S>
  static auto fields(S& s) { return std::tie(s.methods, s.partial_success); }
};

struct userauth_success {
  static constexpr std::uint8_t id = msg::userauth_success;
  template <class S>
  static auto fields(S&) { return std::tie(); }
};

// RFC 4252 §5.4
struct userauth_banner {
  static constexpr std::uint8_t id = msg::userauth_banner;
  std::string message;
  std::string language;
  template <class S>
  static auto fields(S& s) { return std::tie(s.message, s.language); }
};

// RFC 4252 §7
struct userauth_pk_ok {
  static constexpr std::uint8_t id = msg::userauth_pk_ok;
  std::string algorithm;
  bytes key_blob;
  template <class S>
  static auto fields(S& s) { return std::tie(s.algorithm, s.key_blob); }
};

// RFC 4252 §8
struct userauth_passwd_changereq {
  static constexpr std::uint8_t id = msg::userauth_passwd_changereq;
  std::string prompt;
  std::string language;
  template <class S>
  static auto fields(S& s) { return std::tie(s.prompt, s.language); }
};

// RFC 4256 §3.2: num-prompts then (prompt, echo) pairs.
struct info_prompt {
  std::string text;
  bool echo = false;
  bool operator==(const info_prompt&) const = default;
  template <class S>
  static auto fields(S& s) { return std::tie(s.text, s.echo); }
};

struct info_prompts {
  std::vector<info_prompt> items;
};

inline void wire_encode(wire::writer& w, const info_prompts& p) {
  w.u32(static_cast<std::uint32_t>(p.items.size()));
  for (const auto& i : p.items) wire::encode_fields(w, i);
}

inline void wire_decode(wire::reader& r, info_prompts& p) {
  p.items.clear();
  auto n = r.u32();
  if (!r.ok()) return;
  if (n > limits::ssh_auth_max_prompts) return r.fail(errc::length_limit);
  for (std::uint32_t i = 0; i < n && r.ok(); ++i) {
    info_prompt ip;
    wire::decode_fields(r, ip);
    if (r.ok() && ip.text.size() > limits::ssh_auth_max_prompt) r.fail(errc::length_limit);
    if (r.ok()) p.items.push_back(std::move(ip));
  }
}

struct userauth_info_request {
  static constexpr std::uint8_t id = msg::userauth_info_request;
  std::string name;
  std::string instruction;
  std::string language;
  info_prompts prompts;
  template <class S>
  static auto fields(S& s) { return std::tie(s.name, s.instruction, s.language, s.prompts); }
};

// RFC 4256 §3.4: num-responses then the responses (secrets).
struct info_responses {
  std::vector<secret_string> items;
};

inline void wire_encode(wire::writer& w, const info_responses& p) {
  w.u32(static_cast<std::uint32_t>(p.items.size()));
  for (const auto& i : p.items) w.string(byte_view{i.value.data(), i.value.size()});
}

inline void wire_decode(wire::reader& r, info_responses& p) {
  p.items.clear();
  auto n = r.u32();
  if (!r.ok()) return;
  if (n > limits::ssh_auth_max_prompts) return r.fail(errc::length_limit);
  for (std::uint32_t i = 0; i < n && r.ok(); ++i) {
    auto v = r.string(limits::ssh_auth_max_response);
    if (r.ok()) p.items.push_back({secure_bytes(v.begin(), v.end())});
  }
}

struct userauth_info_response {
  static constexpr std::uint8_t id = msg::userauth_info_response;
  info_responses responses;
  template <class S>
  static auto fields(S& s) { return std::tie(s.responses); }
};

// RFC 4252 §7: what a publickey signature covers.
struct publickey_signed_data {
  bytes session_id;
  std::uint8_t request = msg::userauth_request;
  std::string user;
  std::string service;
  std::string method = "publickey";
  bool has_signature = true;
  std::string algorithm;
  bytes key_blob;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.session_id, s.request, s.user, s.service, s.method, s.has_signature,
                    s.algorithm, s.key_blob);
  }
};

inline bytes signed_data(byte_view session_id, std::string_view user, std::string_view service,
                         std::string_view algorithm, byte_view key_blob) {
  publickey_signed_data d;
  d.session_id.assign(session_id.begin(), session_id.end());
  d.user = user;
  d.service = service;
  d.algorithm = algorithm;
  d.key_blob.assign(key_blob.begin(), key_blob.end());
  return wire::encode(d);
}

// RFC 8308 §3.1: the algorithms named in a server's server-sig-algs extension, or nullopt if
// the server sent none.
inline std::optional<std::vector<std::string>> server_sig_algs(
    const std::vector<extension>& extensions) {
  for (const auto& e : extensions) {
    if (e.name != "server-sig-algs") continue;
    std::vector<std::string> out;
    std::string_view v = as_chars(e.value);
    while (!v.empty() && out.size() < limits::max_names) {
      auto comma = v.find(',');
      auto name = v.substr(0, comma);
      if (!name.empty() && name.size() <= limits::max_name_length) out.emplace_back(name);
      if (comma == std::string_view::npos) break;
      v.remove_prefix(comma + 1);
    }
    return out;
  }
  return std::nullopt;
}

}  // namespace ferry::ssh::proto
