// A client's pre-auth transport against a hostile server: version exchange, KEXINIT, each kex
// method's reply (the server's public value, host key and signature), NEWKEYS, EXT_INFO, service
// accept and a rekey. A real ferry server runs next to the client in memory (both with fixed
// randomness), so every session is a valid one that the input then corrupts:
//   byte 0: the kex method (see below); byte 1: cipher, MAC, compression, chunking and whether to rekey;
//   then edits of 4 bytes each, applied to the server's byte stream on its way to the client:
//   offset (2 bytes, big-endian), operation (xor, insert, delete), value.
// The client must never crash, hang or queue output without bound, must stay closed once
// closed, and with no edits must finish the handshake (and the rekey, when asked for).
#include <ferry/ssh/proto/transport_machine.hpp>
#include <ferry/test/random.hpp>

#include <algorithm>
#include <cstdlib>
#include <vector>

using namespace ferry;
using namespace ferry::ssh::proto;

namespace {

struct edit {
  std::size_t offset;
  std::uint8_t op;
  std::uint8_t value;
};

// The next n bytes of the server's stream (starting at stream offset at) with the edits applied.
bytes apply_edits(byte_view chunk, std::size_t at, const std::vector<edit>& edits) {
  bytes out;
  out.reserve(chunk.size() + 8);
  for (std::size_t i = 0; i < chunk.size(); ++i) {
    std::uint8_t b = chunk[i];
    bool keep = true;
    for (const auto& e : edits) {
      if (e.offset != at + i) continue;
      switch (e.op % 3) {
        case 0: b ^= e.value; break;
        case 1: out.push_back(e.value); break;
        default: keep = false; break;
      }
    }
    if (keep) out.push_back(b);
  }
  return out;
}

// Feeds input to a machine in pieces of `piece` bytes, handling events; returns false once the
// machine has closed.
bool feed(transport_machine& m, byte_view input, std::size_t piece, bool echo) {
  std::size_t at = 0;
  do {
    std::size_t n = std::min(input.size() - at, piece);
    if (n > 0) {
      auto space = m.input_space(n);
      std::copy(input.begin() + at, input.begin() + at + n, space.begin());
      m.commit_input(n);
      at += n;
    }
    byte_view payload;
    while (true) {
      auto ev = m.process(payload);
      if (ev == transport_machine::event::packet) {
        if (payload.empty()) std::abort();
        if (echo && m.can_send() && payload[0] >= 50) (void)m.send(payload);
        continue;
      }
      if (ev == transport_machine::event::closed) {
        byte_view p;
        if (m.process(p) != transport_machine::event::closed) std::abort();  // stays closed
        return false;
      }
      break;
    }
  } while (at < input.size());
  return true;
}

const std::shared_ptr<const crypto::private_key>& host_key() {
  static const auto key = [] {
    std::uint8_t seed[32];
    for (int i = 0; i < 32; ++i) seed[i] = std::uint8_t(0x40 + i);
    return std::make_shared<const crypto::private_key>(
        crypto::private_key::ed25519_from_seed(byte_view{seed, 32}));
  }();
  return key;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::uint8_t kex_pick = size > 0 ? data[0] : 0;
  const std::uint8_t mode = size > 1 ? data[1] : 0;
  std::vector<edit> edits;
  for (std::size_t i = 2; i + 4 <= size && edits.size() < 64; i += 4)
    edits.push_back({std::size_t(data[i]) << 8 | data[i + 1], data[i + 2], data[i + 3]});

  // The elliptic-curve methods take a millisecond; the finite-field ones up to a second (group18,
  // 8192 bits): those get one pick in eight, group18 one in 256, so the fuzzer stays fast.
  static const char* const fast_kexes[] = {"curve25519-sha256", "ecdh-sha2-nistp256",
                                           "ecdh-sha2-nistp384", "ecdh-sha2-nistp521"};
  static const char* const slow_kexes[] = {"diffie-hellman-group14-sha256",
                                           "diffie-hellman-group-exchange-sha256",
                                           "diffie-hellman-group16-sha512",
                                           "diffie-hellman-group14-sha1"};
  const char* kex = kex_pick == 0xff   ? "diffie-hellman-group18-sha512"
                    : kex_pick >= 0xe0 ? slow_kexes[kex_pick % 4]
                                       : fast_kexes[kex_pick % 4];
  static const char* const ciphers[] = {"chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com",
                                        "aes256-ctr", "aes128-ctr"};
  static const char* const macs[] = {"hmac-sha2-256-etm@openssh.com", "hmac-sha2-512",
                                     "hmac-sha1-etm@openssh.com", "hmac-sha2-256"};
  static const char* const compressions[] = {"none", "zlib@openssh.com", "zlib", "none"};
  algorithm_preferences prefs{{kex},
                              {"ssh-ed25519"},
                              {ciphers[mode & 3]},
                              {macs[(mode >> 2) & 3]},
                              {compressions[(mode >> 4) & 3]}};
  const std::size_t piece = (mode & 0x40) ? 7 : 4096;
  const bool rekey = (mode & 0x80) != 0;

  test::fixed_random server_rng{1}, client_rng{2};
  transport_config sc;
  sc.local = role::server;
  sc.rng = &server_rng;
  sc.host_keys = {host_key()};
  sc.algorithms = prefs;
  transport_config cc;
  cc.local = role::client;
  cc.rng = &client_rng;
  cc.algorithms = prefs;
  cc.verify_host_key = [](const host_key_info&) { return error_code{}; };
  transport_machine server{sc}, client{cc};
  server.start();
  client.start();

  std::size_t stream_at = 0;  // bytes of the server's stream so far
  bool asked_service = false, asked_rekey = false, client_open = true;
  bytes out;
  for (int round = 0; round < 64 && client_open; ++round) {
    if (client.handshake_done() && !asked_service && client.can_send()) {
      bytes request;
      wire::encode(request, service_request{"ssh-userauth"});
      (void)client.send(request);
      asked_service = true;
    } else if (rekey && asked_service && !asked_rekey && client.can_send()) {
      client.rekey();
      asked_rekey = true;
    }
    client.swap_output(out);
    if (out.size() > limits::max_packet * 4) std::abort();  // output stays bounded
    bool progress = !out.empty();
    if (!server.closed()) feed(server, out, 4096, true);
    out.clear();
    server.swap_output(out);
    progress = progress || !out.empty();
    auto edited = apply_edits(out, stream_at, edits);
    stream_at += out.size();
    out.clear();
    client_open = feed(client, edited, piece, false);
    if (!progress) break;
  }
  if (edits.empty() && (!client.handshake_done() || client.closed() ||
                        (rekey && client.kex_count() < 2)))
    std::abort();  // an untouched session must work
  return 0;
}
