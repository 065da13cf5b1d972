// SFTP protocol initialization (draft-ietf-secsh-filexfer-02 §4): the client's SSH_FXP_INIT and
// the server's SSH_FXP_VERSION. Neither carries a request id; both end with extension pairs,
// which OpenSSH's sftp-server uses to announce its extensions (PROTOCOL §4.2).
#pragma once

#include <ferry/sftp/proto/types.hpp>

#include <cstdint>
#include <optional>
#include <string_view>

namespace ferry::sftp::proto {

struct init_request {
  static constexpr std::uint8_t id = packet_type::init;
  std::uint32_t version = protocol_version;
  extension_list extensions;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.version, s.extensions);
  }
  bool operator==(const init_request&) const = default;
};

struct version_reply {
  static constexpr std::uint8_t id = packet_type::version;
  std::uint32_t version = protocol_version;
  extension_list extensions;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.version, s.extensions);
  }
  bool operator==(const version_reply&) const = default;

  // The data of the first pair named `name` (PROTOCOL §4.2: the version as an ASCII number).
  std::optional<std::string_view> extension(std::string_view name) const {
    for (const auto& p : extensions.pairs)
      if (p.name == name) return std::string_view{p.data};
    return std::nullopt;
  }
};

}  // namespace ferry::sftp::proto
