// Options for ssh::transport: everything the sans-I/O machine takes (algorithm lists, rekey
// limits, identification, max packet size, host keys or the host-key hook) plus I/O timeouts.
#pragma once

#include <ferry/ssh/proto/transport_machine.hpp>

#include <chrono>

namespace ferry::ssh {

using proto::algorithm_preferences;
using proto::default_preferences;
using proto::host_key_info;
using proto::host_key_verifier;
using proto::legacy_preferences;
using proto::role;

struct transport_options : proto::transport_config {
  // The version exchange and first key exchange must finish within this time (zero: no limit);
  // OpenSSH's LoginGraceTime plays the same part on a server.
  std::chrono::milliseconds handshake_timeout{std::chrono::seconds{120}};
  // Bytes asked for per read from the next layer (several packets open per read).
  std::size_t read_size = 256 * 1024;
};

}  // namespace ferry::ssh
