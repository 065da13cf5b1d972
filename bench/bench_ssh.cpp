// SSH transport micro-benchmarks: packet seal+open throughput per cipher/MAC at 32 KiB payloads
// (one direction's codec, in place, as a connection uses it) and full handshakes per second
// (client and server in one process over test::stream, curve25519-sha256 + ssh-ed25519).
//
// After the Google Benchmark runs a paired table compares the packet codec (framing, padding,
// sequence numbers, MAC/tag checks) with the bare EVP work for the same packet (evp_workloads.hpp),
// in alternating blocks, best of N: the ratio is codec/EVP throughput, and the aim is >= 0.90.
//   ferry_bench_ssh [--paired_rounds=N]   (default 20; 0 skips the table)
#include <ferry/crypto/random.hpp>
#include <ferry/ssh/proto/packet.hpp>
#include <ferry/ssh/transport.hpp>
#include <ferry/test/random.hpp>
#include <ferry/test/stream.hpp>

#include <boost/asio/io_context.hpp>

#include <benchmark/benchmark.h>

#include "evp_workloads.hpp"

#include <chrono>
#include <cstdio>
#include <cstring>

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

// ---- packet codec next to raw EVP ----------------------------------------------------------------

constexpr int paired_block = 64;
constexpr std::size_t paired_payload = 32 * 1024;

// The fastest of `blocks` timed blocks of 64 seal+open round trips through the packet codec.
double codec_block_seconds(proto::packet_sealer& sealer, proto::packet_opener& opener, int blocks) {
  bytes payload(paired_payload, 0x5e), wire;
  wire.reserve(paired_payload + 256);
  auto& rng = crypto::system_random();
  double best = 1e30;
  for (int r = 0; r < blocks; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < paired_block; ++i) {
      wire.clear();
      auto at = sealer.begin(wire);
      wire.insert(wire.end(), payload.begin(), payload.end());
      if (sealer.end(wire, at, rng)) throw std::runtime_error("seal failed");
      byte_view out;
      std::size_t consumed = 0, needed = 0;
      error_code ec;
      if (opener.open(wire, out, consumed, needed, ec) != proto::packet_opener::status::packet)
        throw std::runtime_error("open failed");
      benchmark::DoNotOptimize(out.data());
    }
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

// The same for the bare EVP work on a packet of the same size (payload copied in, as the codec
// copies it into its wire buffer): seal, then open.
double evp_block_seconds(ferry_bench::workload& w, int blocks) {
  bytes payload(paired_payload, 0x5e);
  bytes packet(4 + 1 + paired_payload + 11);  // length, padding length, payload, padding
  std::uint8_t tag[32];
  std::uint32_t seqnr = 0;
  double best = 1e30;
  for (int r = 0; r < blocks; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < paired_block; ++i, ++seqnr) {
      std::memcpy(packet.data() + 5, payload.data(), payload.size());
      w.seal(seqnr, packet, tag);
      if (!w.open(seqnr, packet, tag)) throw std::runtime_error("evp open failed");
    }
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

// A workload whose seal and open use separate contexts, as the two directions of the codec do.
template <class W, class... A>
struct seal_then_open final : ferry_bench::workload {
  W out, in;
  explicit seal_then_open(A... a) : out{a...}, in{a...} {}
  void seal(std::uint32_t seqnr, bytes& p, std::uint8_t* tag) override { out.seal(seqnr, p, tag); }
  bool open(std::uint32_t seqnr, bytes& p, const std::uint8_t* tag) override {
    return in.open(seqnr, p, tag);
  }
};

void paired(const char* cipher, const char* mac, ferry_bench::workload& evp, int rounds) {
  proto::packet_sealer sealer;
  proto::packet_opener opener;
  sealer.set_keys(keys(cipher, mac));
  opener.set_keys(keys(cipher, mac));
  double best_codec = 1e30, best_evp = 1e30;
  for (int r = 0; r < rounds; ++r) {  // alternate so both see the same interference
    best_codec = std::min(best_codec, codec_block_seconds(sealer, opener, 3));
    best_evp = std::min(best_evp, evp_block_seconds(evp, 3));
  }
  const double total = double{paired_block} * double{paired_payload};
  std::string name = std::string{cipher} + (mac ? std::string{"+"} + mac : std::string{});
  std::printf("%-46s %12.1f %12.1f %8.3f\n", name.c_str(), total / best_codec / 1e6,
              total / best_evp / 1e6, best_evp / best_codec);
}

void run_paired(int rounds) {
  std::printf("\npacket codec vs raw EVP, seal+open of 32 KiB payloads, best of %d paired rounds\n",
              rounds);
  std::printf("%-46s %12s %12s %8s\n", "algorithms", "codec MB/s", "EVP MB/s", "ratio");
  {
    seal_then_open<ferry_bench::evp_gcm, std::size_t> w{16};
    paired("aes128-gcm@openssh.com", nullptr, w, rounds);
  }
  {
    seal_then_open<ferry_bench::evp_gcm, std::size_t> w{32};
    paired("aes256-gcm@openssh.com", nullptr, w, rounds);
  }
  {
    seal_then_open<ferry_bench::evp_chacha> w;
    paired("chacha20-poly1305@openssh.com", nullptr, w, rounds);
  }
  {
    seal_then_open<ferry_bench::evp_ctr_etm> w;
    paired("aes128-ctr", "hmac-sha2-256-etm@openssh.com", w, rounds);
  }
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 20;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--paired_rounds=", 0) == 0)
      rounds = std::stoi(a.substr(16));
    else
      args.push_back(argv[i]);
  }
  int n = static_cast<int>(args.size());
  benchmark::Initialize(&n, args.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (rounds > 0) run_paired(rounds);
  return 0;
}
