// Raw bytes from a client into a server's pre-auth transport: version exchange, packets, key
// exchange, strict kex, NEWKEYS, service requests. The server's randomness and host key are
// fixed, so a recorded session (the seed corpus) replays into the encrypted phase and the fuzzer
// can mutate real packets. The machine must never crash, hang or grow without bound, and once
// closed it must stay closed.
#include <ferry/ssh/proto/transport_machine.hpp>
#include <ferry/test/random.hpp>

#include <cstdlib>

using namespace ferry;
using namespace ferry::ssh::proto;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto key = [] {
    std::uint8_t seed[32];
    for (int i = 0; i < 32; ++i) seed[i] = std::uint8_t(i + 1);
    return std::make_shared<const crypto::private_key>(
        crypto::private_key::ed25519_from_seed(byte_view{seed, 32}));
  }();
  test::fixed_random rng{2};
  transport_config c;
  c.local = role::server;
  c.rng = &rng;
  c.host_keys = {key};
  c.algorithms.host_key = {"ssh-ed25519"};
  c.algorithms.compression = {"none", "zlib@openssh.com", "zlib"};
  transport_machine server{c};
  server.start();
  bytes out;
  std::size_t at = 0;
  while (at < size) {
    // Arbitrary read sizes: the machine must not depend on how input is split.
    std::size_t n = std::min<std::size_t>(size - at, 1 + (data[at] % 2 ? 7 : 4096));
    auto space = server.input_space(n);
    std::copy(data + at, data + at + n, space.begin());
    server.commit_input(n);
    at += n;
    byte_view payload;
    while (true) {
      auto ev = server.process(payload);
      if (ev == transport_machine::event::packet) {
        if (payload.empty()) std::abort();
        // Echo upper-layer messages, as a layer above would answer.
        if (server.can_send() && payload[0] >= 50) server.send(payload);
        continue;
      }
      break;
    }
    server.swap_output(out);
    if (server.closed()) {
      byte_view p;
      if (server.process(p) != transport_machine::event::closed) std::abort();
      break;
    }
  }
  return 0;
}
