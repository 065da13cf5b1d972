// Drives two transport machines (or one machine and a scripted peer) against each other without
// sockets, and holds the host keys the tests share.
#pragma once

#include <ferry/ssh/proto/transport_machine.hpp>
#include <ferry/test/random.hpp>

#include <map>
#include <memory>

namespace ferry::ssh::testing {

inline std::shared_ptr<const crypto::private_key> host_key(crypto::key_type t) {
  static std::map<crypto::key_type, std::shared_ptr<const crypto::private_key>> keys;
  auto& k = keys[t];
  if (!k) {
    test::fixed_random rng{static_cast<std::uint64_t>(t) + 100};
    k = std::make_shared<const crypto::private_key>(crypto::private_key::generate(t, rng, 2048));
  }
  return k;
}

inline std::vector<std::shared_ptr<const crypto::private_key>> all_host_keys() {
  return {host_key(crypto::key_type::ed25519), host_key(crypto::key_type::ecdsa_p256),
          host_key(crypto::key_type::ecdsa_p384), host_key(crypto::key_type::ecdsa_p521),
          host_key(crypto::key_type::rsa)};
}

inline proto::transport_config client_config(random_source& rng) {
  proto::transport_config c;
  c.local = proto::role::client;
  c.rng = &rng;
  c.verify_host_key = [](const proto::host_key_info&) { return error_code{}; };
  return c;
}

inline proto::transport_config server_config(random_source& rng) {
  proto::transport_config c;
  c.local = proto::role::server;
  c.rng = &rng;
  c.host_keys = all_host_keys();
  return c;
}

// Moves everything one machine has queued into the other's input.
inline void transfer(proto::transport_machine& from, proto::transport_machine& to) {
  bytes out;
  from.swap_output(out);
  if (out.empty()) return;
  auto space = to.input_space(out.size());
  std::copy(out.begin(), out.end(), space.begin());
  to.commit_input(out.size());
}

inline void feed(proto::transport_machine& to, byte_view data) {
  auto space = to.input_space(data.size());
  std::copy(data.begin(), data.end(), space.begin());
  to.commit_input(data.size());
}

// Runs both until neither makes progress; upper-layer packets are collected.
struct pair_run {
  std::vector<bytes> to_client, to_server;
};

inline pair_run run(proto::transport_machine& c, proto::transport_machine& s) {
  pair_run r;
  for (int round = 0; round < 100; ++round) {
    bool moved = c.has_output() || s.has_output();
    transfer(c, s);
    transfer(s, c);
    byte_view p;
    for (auto* m : {&c, &s}) {
      while (true) {
        auto ev = m->process(p);
        if (ev != proto::transport_machine::event::packet) break;
        (m == &c ? r.to_client : r.to_server).emplace_back(p.begin(), p.end());
      }
    }
    if (!moved && !c.has_output() && !s.has_output()) break;
  }
  return r;
}

}  // namespace ferry::ssh::testing
