// The RFC 4253 §6 packet codec. Three properties, the first input byte choosing the mode:
//  - raw bytes opened with the "none" cipher (optionally zlib) never read out of bounds and only
//    yield payloads inside the packet's limits;
//  - any payload sealed with any cipher/MAC opens to itself, whatever the read chunking;
//  - the same sealed packet with one byte changed never opens.
#include <ferry/ssh/proto/packet.hpp>
#include <ferry/test/random.hpp>

#include <cstdlib>
#include <vector>

using namespace ferry;
using namespace ferry::ssh::proto;

namespace {

struct suite {
  const cipher_algorithm* cipher;
  const mac_algorithm* mac;
};

const std::vector<suite>& suites() {
  static const std::vector<suite> all = [] {
    std::vector<suite> v;
    for (const auto& c : cipher_algorithms()) {
      if (c.aead()) {
        v.push_back({&c, nullptr});
        continue;
      }
      for (const auto& m : mac_algorithms()) v.push_back({&c, &m});
    }
    return v;
  }();
  return all;
}

direction_keys keys(const suite& s, const compression_algorithm* comp) {
  test::fixed_random rng{7};
  direction_keys k;
  k.cipher = s.cipher;
  k.mac = s.mac;
  k.compression = comp;
  k.iv.resize(s.cipher->iv_size);
  k.key.resize(s.cipher->key_size);
  if (s.mac) k.mac_key.resize(s.mac->key_size);
  rng.fill(k.iv);
  rng.fill(k.key);
  rng.fill(k.mac_key);
  return k;
}

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::uint8_t mode = data[0];
  const std::uint8_t pick = data[1];
  byte_view rest{data + 2, size - 2};
  const auto& all = suites();

  if (mode % 3 == 0) {
    // Raw input, possibly compressed payloads.
    packet_opener o{limits::max_packet};
    if (pick & 1) {
      suite none{find_cipher("none"), nullptr};
      o.set_keys(keys(none, find_compression("zlib")));
    }
    bytes buf(rest.begin(), rest.end());
    std::size_t at = 0;
    while (at < buf.size()) {
      byte_view payload;
      std::size_t consumed = 0, needed = 0;
      error_code ec;
      auto st = o.open({buf.data() + at, buf.size() - at}, payload, consumed, needed, ec);
      if (st != packet_opener::status::packet) break;
      check(!payload.empty() && payload.size() <= limits::max_packet);
      check(consumed > 0 && consumed <= buf.size() - at);
      at += consumed;
    }
    return 0;
  }

  const suite& s = all[pick % all.size()];
  const compression_algorithm* comp =
      (pick & 0x80) ? find_compression("zlib") : find_compression("none");
  if (rest.empty() || rest.size() > 40000) return 0;
  packet_sealer sealer;
  sealer.set_keys(keys(s, comp));
  test::fixed_random rng{1};
  bytes wire;
  check(!sealer.seal(rest, wire, rng));
  packet_opener o;
  o.set_keys(keys(s, comp));

  if (mode % 3 == 1) {
    // Fed in chunks whose sizes come from the payload itself.
    std::size_t fed = 0;
    std::size_t i = 0;
    while (true) {
      std::size_t chunk = 1 + rest[i++ % rest.size()] % 64;
      fed = std::min(wire.size(), fed + chunk);
      byte_view payload;
      std::size_t consumed = 0, needed = 0;
      error_code ec;
      // The opener keeps state between calls; each call sees the same leading bytes plus more.
      auto st = o.open({wire.data(), fed}, payload, consumed, needed, ec);
      check(st != packet_opener::status::failed);
      if (st == packet_opener::status::packet) {
        check(consumed == wire.size());
        check(bytes(payload.begin(), payload.end()) == bytes(rest.begin(), rest.end()));
        break;
      }
      check(fed < wire.size());
    }
    return 0;
  }

  // A changed byte after the length field (the length itself may fail the length checks, or
  // ask for more input) must never open.
  if (s.cipher->kind == cipher_kind::none && !s.mac) return 0;
  if (wire.size() <= 4) return 0;
  std::size_t pos = 4 + (std::size_t{rest[0]} * 257 + rest[rest.size() - 1]) % (wire.size() - 4);
  wire[pos] ^= std::uint8_t(1 + pick % 255);
  byte_view payload;
  std::size_t consumed = 0, needed = 0;
  error_code ec;
  auto st = o.open(wire, payload, consumed, needed, ec);
  check(st != packet_opener::status::packet);
  return 0;
}
