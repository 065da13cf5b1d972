// RFC 4253 §7.1 algorithm negotiation as a pure function of the two KEXINIT messages.
#pragma once

#include <ferry/ssh/error.hpp>
#include <ferry/ssh/proto/algorithms.hpp>
#include <ferry/ssh/proto/messages.hpp>

#include <algorithm>
#include <string>
#include <vector>

namespace ferry::ssh::proto {

struct negotiated {
  const kex_algorithm* kex = nullptr;
  const host_key_algorithm* host_key = nullptr;
  const cipher_algorithm* cipher_c2s = nullptr;
  const cipher_algorithm* cipher_s2c = nullptr;
  const mac_algorithm* mac_c2s = nullptr;  // null when the cipher is an AEAD
  const mac_algorithm* mac_s2c = nullptr;
  const compression_algorithm* compression_c2s = nullptr;
  const compression_algorithm* compression_s2c = nullptr;
  bool strict_kex = false;        // both sent their kex-strict-*-v00@openssh.com flag
  bool client_ext_info = false;   // the client sent ext-info-c (RFC 8308 §2.1)
  bool server_ext_info = false;   // the server sent ext-info-s
  bool guess_matches = false;     // RFC 4253 §7: both preferred the same kex and host key
};

namespace detail {

inline bool contains(const wire::name_list& l, std::string_view n) {
  return std::find(l.names.begin(), l.names.end(), n) != l.names.end();
}

// RFC 4253 §7.1: the first algorithm on the client's list that is also on the server's list and
// that this build implements. Pseudo-algorithms never match.
template <class T>
const T* choose(const wire::name_list& client, const wire::name_list& server,
                const T* (*find)(std::string_view)) {
  for (const auto& c : client.names) {
    if (pseudo::is_pseudo(c) || !contains(server, c)) continue;
    if (const T* a = find(c)) return a;
  }
  return nullptr;
}

inline const std::string* first_real(const wire::name_list& l) {
  for (const auto& n : l.names)
    if (!pseudo::is_pseudo(n)) return &n;
  return nullptr;
}

}  // namespace detail

inline error_code negotiate(const kexinit& client, const kexinit& server, negotiated& out) {
  out = {};
  auto fail = make_error_code(disconnect_reason::key_exchange_failed);
  // Every kex method ferry implements needs a signature-capable host key, and every host key
  // algorithm is one, so the kex choice does not depend on the host key list (RFC 4253 §7.1).
  out.kex = detail::choose(client.kex_algorithms, server.kex_algorithms, &find_kex);
  out.host_key = detail::choose(client.server_host_key_algorithms,
                                server.server_host_key_algorithms, &find_host_key);
  out.cipher_c2s = detail::choose(client.encryption_client_to_server,
                                  server.encryption_client_to_server, &find_cipher);
  out.cipher_s2c = detail::choose(client.encryption_server_to_client,
                                  server.encryption_server_to_client, &find_cipher);
  if (!out.kex || !out.host_key || !out.cipher_c2s || !out.cipher_s2c) return fail;
  // An AEAD cipher authenticates by itself; the MAC lists are then not consulted (RFC 5647 §5.1
  // as OpenSSH implements it).
  if (!out.cipher_c2s->aead()) {
    out.mac_c2s = detail::choose(client.mac_client_to_server, server.mac_client_to_server, &find_mac);
    if (!out.mac_c2s) return fail;
  }
  if (!out.cipher_s2c->aead()) {
    out.mac_s2c = detail::choose(client.mac_server_to_client, server.mac_server_to_client, &find_mac);
    if (!out.mac_s2c) return fail;
  }
  out.compression_c2s = detail::choose(client.compression_client_to_server,
                                       server.compression_client_to_server, &find_compression);
  out.compression_s2c = detail::choose(client.compression_server_to_client,
                                       server.compression_server_to_client, &find_compression);
  if (!out.compression_c2s || !out.compression_s2c) return fail;
  out.strict_kex = detail::contains(client.kex_algorithms, pseudo::strict_c) &&
                   detail::contains(server.kex_algorithms, pseudo::strict_s);
  out.client_ext_info = detail::contains(client.kex_algorithms, pseudo::ext_info_c);
  out.server_ext_info = detail::contains(server.kex_algorithms, pseudo::ext_info_s);
  auto* ck = detail::first_real(client.kex_algorithms);
  auto* sk = detail::first_real(server.kex_algorithms);
  auto& ch = client.server_host_key_algorithms.names;
  auto& sh = server.server_host_key_algorithms.names;
  out.guess_matches = ck && sk && *ck == *sk && !ch.empty() && !sh.empty() && ch[0] == sh[0];
  return {};
}

}  // namespace ferry::ssh::proto
