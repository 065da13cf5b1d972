// SSH transport micro-benchmarks: packet seal+open throughput per cipher/MAC at 32 KiB payloads
// (one direction's codec, in place, as a connection uses it) and full handshakes per second
// (client and server in one process over test::stream, curve25519-sha256 + ssh-ed25519).
#include <ferry/crypto/random.hpp>
#include <ferry/ssh/proto/packet.hpp>
#include <ferry/ssh/transport.hpp>
#include <ferry/test/random.hpp>
#include <ferry/test/stream.hpp>

#include <boost/asio/io_context.hpp>

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

using namespace ferry;
using namespace ferry::ssh;

namespace {

proto::direction_keys keys(const char* cipher, const char* mac) {
  test::fixed_random rng{3};
  proto::direction_keys k;
  k.cipher = proto::find_cipher(cipher);
  k.mac = mac ? proto::find_mac(mac) : nullptr;
  k.compression = proto::find_compression("none");
  k.iv.resize(k.cipher->iv_size);
  k.key.resize(k.cipher->key_size);
  if (k.mac) k.mac_key.resize(k.mac->key_size);
  rng.fill(k.iv);
  rng.fill(k.key);
  rng.fill(k.mac_key);
  return k;
}

void seal_open(benchmark::State& state, const char* cipher, const char* mac) {
  proto::packet_sealer sealer;
  proto::packet_opener opener;
  sealer.set_keys(keys(cipher, mac));
  opener.set_keys(keys(cipher, mac));
  bytes payload(32 * 1024, 0x5e);
  bytes wire;
  wire.reserve(payload.size() + 256);
  auto& rng = crypto::system_random();
  for (auto _ : state) {
    wire.clear();
    auto at = sealer.begin(wire);
    wire.insert(wire.end(), payload.begin(), payload.end());
    if (sealer.end(wire, at, rng)) state.SkipWithError("seal failed");
    byte_view out;
    std::size_t consumed = 0, needed = 0;
    error_code ec;
    if (opener.open(wire, out, consumed, needed, ec) != proto::packet_opener::status::packet)
      state.SkipWithError("open failed");
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(std::int64_t(state.iterations()) * std::int64_t(payload.size()));
}

std::shared_ptr<const crypto::private_key> ed25519_key() {
  static auto k = std::make_shared<const crypto::private_key>(
      crypto::private_key::generate(crypto::key_type::ed25519, crypto::system_random()));
  return k;
}

void handshake(benchmark::State& state) {
  transport_options c;
  c.algorithms.kex = {"curve25519-sha256"};
  c.algorithms.host_key = {"ssh-ed25519"};
  c.verify_host_key = [](const host_key_info&) { return error_code{}; };
  transport_options s;
  s.host_keys = {ed25519_key()};
  for (auto _ : state) {
    boost::asio::io_context ioc;
    auto [a, b] = test::make_stream_pair(ioc.get_executor());
    transport<test::stream> client{role::client, c, std::move(a)};
    transport<test::stream> server{role::server, s, std::move(b)};
    error_code cec, sec;
    client.async_handshake([&](error_code ec) { cec = ec; });
    server.async_handshake([&](error_code ec) { sec = ec; });
    ioc.run();
    if (cec || sec) state.SkipWithError("handshake failed");
  }
  state.counters["handshakes/s"] =
      benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
}

int register_all() {
  for (const auto& c : proto::cipher_algorithms()) {
    if (c.kind == proto::cipher_kind::none) continue;
    if (c.aead()) {
      std::string name = "seal_open/" + std::string{c.name};
      benchmark::RegisterBenchmark(name.c_str(), seal_open, c.name.data(), nullptr);
      continue;
    }
    for (const auto& m : proto::mac_algorithms()) {
      std::string name = "seal_open/" + std::string{c.name} + "/" + std::string{m.name};
      benchmark::RegisterBenchmark(name.c_str(), seal_open, c.name.data(), m.name.data());
    }
  }
  benchmark::RegisterBenchmark("handshake/curve25519-sha256/ssh-ed25519", handshake)
      ->Unit(benchmark::kMillisecond);
  return 0;
}

const int registered = register_all();

}  // namespace

BENCHMARK_MAIN();
