// Per-packet crypto throughput: each SSH cipher through ferry's wrappers next to the same work done
// with raw OpenSSL EVP calls (contexts made once, IVs set per packet, as a tuned C program would).
// After the runs it prints the ferry/EVP throughput ratio for each pair; the aim is ferry >= 0.95.
//
//   ferry_bench_crypto [--benchmark_repetitions=5]    (ratios use the medians when repeating)
//                      [--paired_rounds=N]            (default 40; 0 skips the paired table)
//
// On a shared machine the Google Benchmark figures drift by several percent between runs, so a
// second table measures each pair in alternating blocks (ferry, EVP, ferry, ...) and keeps the
// fastest block of each: interference only ever adds time, so best-of-N ratios are the stable ones.
#include <ferry/crypto/cipher.hpp>
#include <ferry/crypto/hash.hpp>

#include "evp_workloads.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <benchmark/benchmark.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using ferry::bytes;
using namespace ferry_bench;

// ---- AES-GCM ----------------------------------------------------------------------------------

struct ferry_gcm final : workload {
  ferry::crypto::aes_gcm g;
  explicit ferry_gcm(std::size_t key_size) : g(bytes(key_size, 0x11)) {}
  void seal(std::uint32_t seqnr, bytes& p, std::uint8_t* tag) override {
    std::uint8_t nonce[12];
    nonce_for(nonce, seqnr);
    g.seal(ferry::byte_view{nonce}, ferry::byte_view{p}.first(4),
           ferry::mutable_byte_view{p}.subspan(4), ferry::mutable_byte_view{tag, 16});
  }
  bool open(std::uint32_t seqnr, bytes& p, const std::uint8_t* tag) override {
    std::uint8_t nonce[12];
    nonce_for(nonce, seqnr);
    return !g.open(ferry::byte_view{nonce}, ferry::byte_view{p}.first(4),
                   ferry::mutable_byte_view{p}.subspan(4), ferry::byte_view{tag, 16});
  }
};

// ---- chacha20-poly1305@openssh.com ------------------------------------------------------------

struct ferry_chacha final : workload {
  ferry::crypto::chacha20_poly1305_openssh c{bytes(64, 0x22)};
  void seal(std::uint32_t seqnr, bytes& p, std::uint8_t* tag) override {
    c.seal(seqnr, p, ferry::mutable_byte_view{tag, 16});
  }
  bool open(std::uint32_t seqnr, bytes& p, const std::uint8_t* tag) override {
    return !c.open(seqnr, p, ferry::byte_view{tag, 16});
  }
};

// ---- aes128-ctr + hmac-sha2-256-etm@openssh.com ----------------------------------------------

struct ferry_ctr_etm final : workload {
  ferry::crypto::aes_ctr enc{bytes(16, 0x33), bytes(16, 0x44)};
  ferry::crypto::aes_ctr dec{bytes(16, 0x33), bytes(16, 0x44)};
  ferry::crypto::hmac mac_out{ferry::crypto::hash_alg::sha256, bytes(32, 0x55)};
  ferry::crypto::hmac mac_in{ferry::crypto::hash_alg::sha256, bytes(32, 0x55)};
  void seal(std::uint32_t seqnr, bytes& p, std::uint8_t* tag) override {
    enc.apply(ferry::mutable_byte_view{p}.subspan(4));
    std::uint8_t s[4];
    be32(s, seqnr);
    mac_out.update(ferry::byte_view{s});
    mac_out.update(p);
    mac_out.final(ferry::mutable_byte_view{tag, 32});
  }
  bool open(std::uint32_t seqnr, bytes& p, const std::uint8_t* tag) override {
    std::uint8_t s[4], expect[32];
    be32(s, seqnr);
    mac_in.update(ferry::byte_view{s});
    mac_in.update(p);
    mac_in.final(ferry::mutable_byte_view{expect});
    if (CRYPTO_memcmp(expect, tag, 32) != 0) return false;
    dec.apply(ferry::mutable_byte_view{p}.subspan(4));
    return true;
  }
};

// ---- benchmark bodies --------------------------------------------------------------------------

template <class W, class... A>
void bench_seal(benchmark::State& state, std::size_t size, A... args) {
  W w{args...};
  bytes packet(size, 0x5a);
  std::uint8_t tag[32];
  std::uint32_t seqnr = 0;
  for (auto _ : state) {
    w.seal(seqnr++, packet, tag);
    benchmark::DoNotOptimize(tag);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
}

template <class W, class... A>
void bench_open(benchmark::State& state, std::size_t size, A... args) {
  // Seal a window of packets once (each seqnr has its own tag), then open copies of them: the
  // copy is part of both columns, so the ratio is unaffected.
  W sealer{args...}, opener{args...};
  constexpr std::uint32_t window = 64;
  std::vector<bytes> sealed(window, bytes(size, 0x5a));
  std::vector<std::array<std::uint8_t, 32>> tags(window);
  for (std::uint32_t i = 0; i < window; ++i) sealer.seal(i, sealed[i], tags[i].data());
  bytes work(size);
  std::uint32_t i = 0;
  for (auto _ : state) {
    // Stream ciphers (CTR) keep state across packets, so the opener must see them in order.
    if (i == window) {
      state.PauseTiming();
      opener.~W();
      new (&opener) W{args...};
      i = 0;
      state.ResumeTiming();
    }
    std::copy(sealed[i].begin(), sealed[i].end(), work.begin());
    if (!opener.open(i, work, tags[i].data())) {
      state.SkipWithError("open failed");
      break;
    }
    ++i;
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
}

// Collects bytes/second per (pair, implementation) and prints the ratios after the console output.
class ratio_reporter final : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& r : runs) {
      if (r.error_occurred) continue;
      auto it = r.counters.find("bytes_per_second");
      if (it == r.counters.end()) continue;
      const bool aggregate = r.run_type == Run::RT_Aggregate;
      if (aggregate && r.aggregate_name != "median") continue;
      auto name = r.run_name.function_name;  // "<pair>/<impl>"
      auto slash = name.rfind('/');
      auto& slot = results_[name.substr(0, slash)][name.substr(slash + 1)];
      if (aggregate || !slot.from_median) slot = {it->second.value, aggregate};
    }
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    std::printf("\n%-46s %12s %12s %8s\n", "pair", "ferry MB/s", "EVP MB/s", "ratio");
    for (const auto& [pair, impls] : results_) {
      auto f = impls.find("ferry"), e = impls.find("evp");
      if (f == impls.end() || e == impls.end()) continue;
      std::printf("%-46s %12.1f %12.1f %8.3f\n", pair.c_str(), f->second.value / 1e6,
                  e->second.value / 1e6, f->second.value / e->second.value);
    }
  }

 private:
  struct figure {
    double value = 0;
    bool from_median = false;
  };
  std::map<std::string, std::map<std::string, figure>> results_;
};

// ---- paired best-of measurement -------------------------------------------------------------------

constexpr std::uint32_t paired_block = 64;

struct sealed_window {
  std::vector<bytes> packets;
  std::vector<std::array<std::uint8_t, 32>> tags;
};

// The fastest of `blocks` timed blocks: 64 packets sealed by w, or the 64 packets of `window`
// opened in order by a fresh W (stream ciphers need the order). Wall time in seconds.
template <class W, class... A>
double best_block_seconds(bool seal, std::size_t size, int blocks, W& w, const sealed_window& window,
                          A... args) {
  bytes work(size, 0x5a);
  std::uint8_t tag[32];
  double best = 1e30;
  for (int r = 0; r < blocks; ++r) {
    if (seal) {
      auto t0 = std::chrono::steady_clock::now();
      for (std::uint32_t i = 0; i < paired_block; ++i) w.seal(i, work, tag);
      benchmark::DoNotOptimize(tag);
      best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    } else {
      W opener{args...};
      auto t0 = std::chrono::steady_clock::now();
      for (std::uint32_t i = 0; i < paired_block; ++i) {
        std::memcpy(work.data(), window.packets[i].data(), size);
        if (!opener.open(i, work, window.tags[i].data())) throw std::runtime_error("paired open failed");
      }
      best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
  }
  return best;
}

template <class F, class E, class... A>
void paired(const std::string& pair, bool seal, std::size_t size, int rounds, A... args) {
  F f{args...};
  E e{args...};
  sealed_window window;
  {
    E sealer{args...};  // the same keys in both implementations: either can seal the window
    window.packets.assign(paired_block, bytes(size, 0x5a));
    window.tags.resize(paired_block);
    for (std::uint32_t i = 0; i < paired_block; ++i)
      sealer.seal(i, window.packets[i], window.tags[i].data());
  }
  double best_f = 1e30, best_e = 1e30;
  for (int r = 0; r < rounds; ++r) {  // alternate so that both see the same interference
    best_f = std::min(best_f, best_block_seconds(seal, size, 3, f, window, args...));
    best_e = std::min(best_e, best_block_seconds(seal, size, 3, e, window, args...));
  }
  const double bytes_per_block = double{paired_block} * static_cast<double>(size);
  std::printf("%-46s %12.1f %12.1f %8.3f\n", (pair + "/" + std::to_string(size)).c_str(),
              bytes_per_block / best_f / 1e6, bytes_per_block / best_e / 1e6, best_e / best_f);
}

void run_paired(int rounds) {
  std::printf("\npaired best-of-%d blocks of 64 packets (wall time)\n", rounds);
  std::printf("%-46s %12s %12s %8s\n", "pair", "ferry MB/s", "EVP MB/s", "ratio");
  for (std::size_t size : {std::size_t{16384}, std::size_t{32768}}) {
    for (bool seal : {true, false}) {
      const std::string op = seal ? "/seal" : "/open";
      paired<ferry_gcm, evp_gcm>("aes128-gcm" + op, seal, size, rounds, std::size_t{16});
      paired<ferry_gcm, evp_gcm>("aes256-gcm" + op, seal, size, rounds, std::size_t{32});
      paired<ferry_chacha, evp_chacha>("chacha20-poly1305@openssh.com" + op, seal, size, rounds);
      paired<ferry_ctr_etm, evp_ctr_etm>("aes128-ctr+hmac-sha2-256-etm" + op, seal, size, rounds);
    }
  }
}

void register_all() {
  for (std::size_t size : {std::size_t{16384}, std::size_t{32768}}) {
    auto sz = std::to_string(size);
    auto reg = [&](const std::string& pair, auto ferry_fn, auto evp_fn) {
      benchmark::RegisterBenchmark((pair + "/" + sz + "/ferry").c_str(), ferry_fn);
      benchmark::RegisterBenchmark((pair + "/" + sz + "/evp").c_str(), evp_fn);
    };
    for (std::size_t key : {std::size_t{16}, std::size_t{32}}) {
      std::string name = key == 16 ? "aes128-gcm" : "aes256-gcm";
      reg(name + "/seal",
          [=](benchmark::State& s) { bench_seal<ferry_gcm>(s, size, key); },
          [=](benchmark::State& s) { bench_seal<evp_gcm>(s, size, key); });
      reg(name + "/open",
          [=](benchmark::State& s) { bench_open<ferry_gcm>(s, size, key); },
          [=](benchmark::State& s) { bench_open<evp_gcm>(s, size, key); });
    }
    reg("chacha20-poly1305@openssh.com/seal",
        [=](benchmark::State& s) { bench_seal<ferry_chacha>(s, size); },
        [=](benchmark::State& s) { bench_seal<evp_chacha>(s, size); });
    reg("chacha20-poly1305@openssh.com/open",
        [=](benchmark::State& s) { bench_open<ferry_chacha>(s, size); },
        [=](benchmark::State& s) { bench_open<evp_chacha>(s, size); });
    reg("aes128-ctr+hmac-sha2-256-etm/seal",
        [=](benchmark::State& s) { bench_seal<ferry_ctr_etm>(s, size); },
        [=](benchmark::State& s) { bench_seal<evp_ctr_etm>(s, size); });
    reg("aes128-ctr+hmac-sha2-256-etm/open",
        [=](benchmark::State& s) { bench_open<ferry_ctr_etm>(s, size); },
        [=](benchmark::State& s) { bench_open<evp_ctr_etm>(s, size); });
  }
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 40;
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--paired_rounds=", 16) == 0)
      rounds = std::atoi(argv[i] + 16);
    else
      argv[kept++] = argv[i];
  }
  argc = kept;
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  ratio_reporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  if (rounds > 0) run_paired(rounds);
  return 0;
}
