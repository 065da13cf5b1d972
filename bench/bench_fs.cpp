// What the local backend's thread pool costs, and what it buys.
//
//   stat/read direct      the system calls alone, on the calling thread
//   stat/read via pool    the same through local_filesystem: post to the pool, run, post back
//   memory stat           the memory backend (no pool: inline, then a post)
//   io latency under load how late a 1 ms timer fires on the network thread while 64 reads of
//                         1 MiB are in flight through the pool (the point of the pool: the
//                         network thread keeps its timing), against the same reads run inline
//                         on the network thread
//
//   $ ferry_bench_fs --benchmark_min_time=0.2
#include <ferry/fs/local.hpp>
#include <ferry/fs/memory.hpp>

#include <benchmark/benchmark.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace asio = boost::asio;
using namespace ferry;

namespace {

struct scratch {
  scratch() {
    auto pattern = (std::filesystem::temp_directory_path() / "ferry-bench-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) std::abort();
    dir = pattern;
    std::ofstream(dir / "small") << "x";
    std::ofstream big(dir / "big", std::ios::binary);
    std::string chunk(1 << 20, 'b');
    for (int i = 0; i < 16; ++i) big << chunk;
  }
  ~scratch() { std::filesystem::remove_all(dir); }
  std::filesystem::path dir;
};

scratch& files() {
  static scratch s;
  return s;
}

void stat_direct(benchmark::State& state) {
  error_code ec;
  auto core = fs::local_core::open(files().dir.string(), {}, ec);
  fs::attributes a;
  for (auto _ : state) {
    benchmark::DoNotOptimize(core->stat("/small", a));
  }
}
BENCHMARK(stat_direct);

void stat_via_pool(benchmark::State& state) {
  asio::io_context ioc;
  error_code ec;
  auto f = fs::make_local_filesystem(ioc.get_executor(), files().dir.string(), {}, ec, 2);
  for (auto _ : state) {
    f.async_stat("/small", [](error_code e, fs::attributes a) { benchmark::DoNotOptimize(e); benchmark::DoNotOptimize(a); });
    ioc.restart();
    ioc.run();
  }
}
BENCHMARK(stat_via_pool);

void memory_stat(benchmark::State& state) {
  asio::io_context ioc;
  auto f = fs::make_memory_filesystem(ioc.get_executor());
  for (auto _ : state) {
    f.async_stat("/", [](error_code e, fs::attributes a) { benchmark::DoNotOptimize(e); benchmark::DoNotOptimize(a); });
    ioc.restart();
    ioc.run();
  }
}
BENCHMARK(memory_stat);

void read_64k_direct(benchmark::State& state) {
  error_code ec;
  auto core = fs::local_core::open(files().dir.string(), {}, ec);
  fs::handle h;
  core->open("/big", fs::open_mode::read_only(), h);
  bytes buf(64 * 1024);
  std::uint64_t off = 0;
  for (auto _ : state) {
    std::size_t n = 0;
    core->read_at(h, off, buf, n);
    off = (off + buf.size()) % (16u << 20);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * buf.size()));
  core->close(h);
}
BENCHMARK(read_64k_direct);

void read_64k_via_pool(benchmark::State& state) {
  asio::io_context ioc;
  error_code ec;
  auto f = fs::make_local_filesystem(ioc.get_executor(), files().dir.string(), {}, ec, 2);
  fs::handle h;
  f.async_open("/big", fs::open_mode::read_only(), [&](error_code, fs::handle x) { h = x; });
  ioc.run();
  bytes buf(64 * 1024);
  std::uint64_t off = 0;
  for (auto _ : state) {
    f.async_read_at(h, off, buf, [](error_code e, std::size_t n) { benchmark::DoNotOptimize(e); benchmark::DoNotOptimize(n); });
    ioc.restart();
    ioc.run();
    off = (off + buf.size()) % (16u << 20);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * buf.size()));
}
BENCHMARK(read_64k_via_pool);

// Timer lateness on the io thread with disk reads in flight on the pool.
void io_latency_under_load(benchmark::State& state) {
  asio::io_context ioc;
  error_code ec;
  auto f = fs::make_local_filesystem(ioc.get_executor(), files().dir.string(), {}, ec, 2);
  fs::handle h;
  f.async_open("/big", fs::open_mode::read_only(), [&](error_code, fs::handle x) { h = x; });
  ioc.run();
  std::vector<bytes> bufs(64, bytes(1 << 20));
  double worst_us = 0;
  for (auto _ : state) {
    int pending = 0;
    for (std::size_t i = 0; i < bufs.size(); ++i) {
      ++pending;
      f.async_read_at(h, (i % 16) << 20, bufs[i], [&](error_code, std::size_t) { --pending; });
    }
    asio::steady_timer t{ioc, std::chrono::milliseconds(1)};
    auto due = std::chrono::steady_clock::now() + std::chrono::milliseconds(1);
    t.async_wait([&](error_code) {
      auto late = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - due);
      worst_us = std::max(worst_us, late.count());
    });
    ioc.restart();
    ioc.run();
    benchmark::DoNotOptimize(pending);
  }
  state.counters["worst_timer_lateness_us"] = worst_us;
}
BENCHMARK(io_latency_under_load)->Iterations(50);

// The same reads without a pool: run on the io thread itself, as a naive backend would.
void io_latency_reads_inline(benchmark::State& state) {
  asio::io_context ioc;
  error_code ec;
  auto core = fs::local_core::open(files().dir.string(), {}, ec);
  fs::handle h;
  core->open("/big", fs::open_mode::read_only(), h);
  std::vector<bytes> bufs(64, bytes(1 << 20));
  double worst_us = 0;
  for (auto _ : state) {
    asio::steady_timer t{ioc, std::chrono::milliseconds(1)};
    auto due = std::chrono::steady_clock::now() + std::chrono::milliseconds(1);
    t.async_wait([&](error_code) {
      auto late = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - due);
      worst_us = std::max(worst_us, late.count());
    });
    for (std::size_t i = 0; i < bufs.size(); ++i) {
      asio::post(ioc, [&, i] {
        std::size_t n = 0;
        core->read_at(h, (i % 16) << 20, bufs[i], n);
      });
    }
    ioc.restart();
    ioc.run();
  }
  state.counters["worst_timer_lateness_us"] = worst_us;
}
BENCHMARK(io_latency_reads_inline)->Iterations(50);

}  // namespace

BENCHMARK_MAIN();
