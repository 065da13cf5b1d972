// ferry_bench_connections: the SSH scale figures of scripts/bench, measured with one client (ferry's
// ssh::client, publickey authentication) against any server, so ferry-server and OpenSSH's sshd are
// compared with the same tool.
//
//   ferry_bench_connections handshakes --seconds S [--concurrency C]               COMMON
//       full connections (TCP connect, kex, host key, publickey auth, DISCONNECT) back to back
//       by C workers for S seconds
//   ferry_bench_connections idle --count N [--concurrency C]                        COMMON
//       opens N authenticated connections (C handshakes at a time), prints its result line, then
//       holds them until stdin is closed or the process is killed
//   ferry_bench_connections sftp-get --count N --path REMOTE --verify LOCAL --dir DIR
//                                    [--concurrency C]                             COMMON
//       N connections each with an SFTP session; once all are ready, N downloads of REMOTE at
//       once into DIR/get-I; the clock runs from the start signal to the last download's end;
//       every copy is then compared with LOCAL and removed
//   COMMON: --host H --port P --user U --key FILE [--threads T]
//
// One result line on stdout, key=value pairs (the script parses it), e.g.
//   handshakes=1234 seconds=10.00 rate=123.4 failures=0
//   connected=1000 seconds=12.30 failures=0
//   downloads=200 bytes=3355443200 seconds=9.80 rate=342.4 failures=0
// The first few errors go to stderr. Exit status 1 if anything failed, 2 on a usage error.
// Connections are spread over T threads, each with its own io_context (a client is used from one
// executor). The process ends with _exit once its line is out: open connections are simply closed
// by the kernel, which is all an idle-connection measurement needs.
#include <ferry/sftp/client.hpp>
#include <ferry/ssh/client.hpp>
#include <ferry/ssh/keys/private_key.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
using namespace ferry;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr auto tok = asio::as_tuple(asio::use_awaitable);
// Named, not braced inside co_await (g++ 12 destroys such temporaries twice).
constexpr std::chrono::milliseconds slot_poll{5}, go_poll{20}, retry_pause{10};

struct config {
  std::string mode, host = "127.0.0.1", user, key, path, verify, dir;
  std::uint16_t port = 0;
  double seconds = 5;
  int concurrency = 1, count = 1, threads = 1;
};

int usage() {
  std::fputs(
      "usage: ferry_bench_connections handshakes --seconds S [--concurrency C] COMMON\n"
      "       ferry_bench_connections idle --count N [--concurrency C] COMMON\n"
      "       ferry_bench_connections sftp-get --count N --path REMOTE --verify LOCAL --dir DIR\n"
      "                               [--concurrency C] COMMON\n"
      "COMMON: --host H --port P --user U --key FILE [--threads T]\n",
      stderr);
  return 2;
}

// What every worker reports into; shared by all threads.
struct tally {
  std::atomic<long> ok{0}, failed{0}, ready{0}, finished{0};
  std::atomic<unsigned long long> bytes{0};
  std::atomic<bool> go{false};
  std::vector<char> downloaded;  // sftp-get: which downloads completed (each worker sets its own)
  std::atomic<int> slots{0};  // handshakes allowed to run at once (idle, sftp-get)
  std::mutex m;
  clock_type::time_point last_end{};
  int errors_shown = 0;

  void fail(const char* what, const error_code& ec) {
    failed++;
    std::lock_guard lock{m};
    if (errors_shown++ < 5) std::fprintf(stderr, "ferry_bench_connections: %s: %s\n", what, ec.message().c_str());
  }
  void end_now() {
    std::lock_guard lock{m};
    last_end = std::max(last_end, clock_type::now());
  }
};

ssh::client_options client_options(const config& c, std::shared_ptr<const crypto::private_key> key) {
  ssh::client_options o;
  // The bench trusts the server it started itself.
  o.transport.verify_host_key = [](const ssh::proto::host_key_info&) { return error_code{}; };
  o.transport.handshake_timeout = std::chrono::seconds{60};
  o.auth.user = c.user;
  o.auth.methods = {"publickey"};
  o.auth.identities.push_back(ssh::identity_from_key(std::move(key)));
  return o;
}

asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer t{co_await asio::this_coro::executor, d};
  co_await t.async_wait(tok);
}

// A handshake slot: at most `concurrency` connections are being set up at once, so neither
// server's pre-auth limit (MaxStartups) is what gets measured.
asio::awaitable<void> take_slot(tally& t) {
  while (t.slots.fetch_sub(1) <= 0) {
    t.slots.fetch_add(1);
    co_await sleep_for(slot_poll);
  }
}

asio::awaitable<void> handshake_worker(const config& c, const ssh::client_options& o,
                                       clock_type::time_point deadline, tally& t) {
  auto ex = co_await asio::this_coro::executor;
  while (clock_type::now() < deadline) {
    ssh::client<> cl{ex, o};
    auto [ec] = co_await cl.async_connect(c.host, c.port, tok);
    if (ec) {
      t.fail("connect", ec);
      co_await sleep_for(retry_pause);
      continue;
    }
    auto [dec] = co_await cl.async_disconnect(tok);
    (void)dec;
    t.ok++;
  }
  t.finished++;
}

// Idle connections stay here until the process ends.
struct holder {
  std::mutex m;
  std::vector<std::unique_ptr<ssh::client<>>> clients;
};

asio::awaitable<void> idle_worker(const config& c, const ssh::client_options& o, tally& t, holder& h) {
  auto ex = co_await asio::this_coro::executor;
  co_await take_slot(t);
  auto cl = std::make_unique<ssh::client<>>(ex, o);
  auto [ec] = co_await cl->async_connect(c.host, c.port, tok);
  t.slots.fetch_add(1);
  if (ec) t.fail("connect", ec);
  else t.ok++;
  {
    std::lock_guard lock{h.m};
    h.clients.push_back(std::move(cl));
  }
  t.finished++;
}

asio::awaitable<void> sftp_worker(const config& c, const ssh::client_options& o, int index, tally& t) {
  auto ex = co_await asio::this_coro::executor;
  co_await take_slot(t);
  ssh::client<> cl{ex, o};
  auto [ec] = co_await cl.async_connect(c.host, c.port, tok);
  t.slots.fetch_add(1);
  if (ec) {
    t.fail("connect", ec);
    t.ready++;
    t.finished++;
    co_return;
  }
  auto [sec, ch] = co_await cl.async_open_subsystem("sftp", tok);
  if (sec) {
    t.fail("sftp subsystem", sec);
  } else {
    sftp::client<ssh::channel> s{std::move(ch)};
    auto [iec] = co_await s.async_init(tok);
    if (iec) t.fail("sftp init", iec);
    t.ready++;
    while (!iec && !t.go) co_await sleep_for(go_poll);
    if (!iec) {
      sftp::transfer_options to;
      std::string local = c.dir + "/get-" + std::to_string(index);
      auto [dec, n] = co_await s.async_download(c.path, local, to, tok);
      t.end_now();
      if (dec) {
        t.fail("download", dec);
      } else {
        t.bytes += n;
        t.downloaded[std::size_t(index)] = 1;
        t.ok++;
      }
    }
    s.close();
  }
  if (sec) t.ready++;
  auto [xec] = co_await cl.async_disconnect(tok);
  (void)xec;
  t.finished++;
}

bool parse(int argc, char** argv, config& c) {
  if (argc < 2) return false;
  c.mode = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) return false;
    std::string v = argv[++i];
    if (a == "--host") c.host = v;
    else if (a == "--port") c.port = std::uint16_t(std::atoi(v.c_str()));
    else if (a == "--user") c.user = v;
    else if (a == "--key") c.key = v;
    else if (a == "--path") c.path = v;
    else if (a == "--verify") c.verify = v;
    else if (a == "--dir") c.dir = v;
    else if (a == "--seconds") c.seconds = std::atof(v.c_str());
    else if (a == "--concurrency") c.concurrency = std::max(1, std::atoi(v.c_str()));
    else if (a == "--count") c.count = std::max(1, std::atoi(v.c_str()));
    else if (a == "--threads") c.threads = std::max(1, std::atoi(v.c_str()));
    else return false;
  }
  if (c.port == 0 || c.user.empty() || c.key.empty()) return false;
  if (c.mode == "sftp-get" && (c.path.empty() || c.verify.empty() || c.dir.empty())) return false;
  return c.mode == "handshakes" || c.mode == "idle" || c.mode == "sftp-get";
}

std::string slurp(const std::string& path, bool& ok) {
  std::ifstream in{path, std::ios::binary};
  ok = bool(in);
  return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

void wait_until(const std::function<bool()>& done) {
  while (!done()) std::this_thread::sleep_for(std::chrono::milliseconds{10});
}

}  // namespace

int main(int argc, char** argv) {
  config c;
  if (!parse(argc, argv, c)) return usage();
  ::signal(SIGPIPE, SIG_IGN);

  ssh::keys::key_file kf;
  if (auto ec = ssh::keys::read_private_key_file(c.key, {}, kf)) {
    std::fprintf(stderr, "ferry_bench_connections: %s: %s\n", c.key.c_str(), ec.message().c_str());
    return 1;
  }
  auto opts = client_options(c, std::make_shared<const crypto::private_key>(std::move(kf.key)));

  std::vector<std::unique_ptr<asio::io_context>> contexts;
  using guard_type = asio::executor_work_guard<asio::io_context::executor_type>;
  std::vector<guard_type> guards;
  for (int i = 0; i < c.threads; ++i) {
    contexts.push_back(std::make_unique<asio::io_context>(1));
    guards.push_back(asio::make_work_guard(*contexts.back()));
  }
  auto context_for = [&](int i) -> asio::io_context& { return *contexts[std::size_t(i % c.threads)]; };

  tally t;
  t.slots = c.concurrency;
  t.downloaded.assign(std::size_t(c.count), 0);
  holder h;
  auto start = clock_type::now();
  int workers = 0;
  if (c.mode == "handshakes") {
    auto deadline = start + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(c.seconds));
    workers = c.concurrency;
    for (int i = 0; i < workers; ++i)
      asio::co_spawn(context_for(i), handshake_worker(c, opts, deadline, t), asio::detached);
  } else if (c.mode == "idle") {
    workers = c.count;
    for (int i = 0; i < workers; ++i) asio::co_spawn(context_for(i), idle_worker(c, opts, t, h), asio::detached);
  } else {
    workers = c.count;
    for (int i = 0; i < workers; ++i) asio::co_spawn(context_for(i), sftp_worker(c, opts, i, t), asio::detached);
  }
  std::vector<std::thread> pool;
  for (auto& ctx : contexts) pool.emplace_back([&ioc = *ctx] { ioc.run(); });

  if (c.mode == "handshakes") {
    wait_until([&] { return t.finished == workers; });
    double s = std::chrono::duration<double>(clock_type::now() - start).count();
    std::printf("handshakes=%ld seconds=%.2f rate=%.1f failures=%ld\n", t.ok.load(), s, double(t.ok) / s,
                t.failed.load());
  } else if (c.mode == "idle") {
    wait_until([&] { return t.finished == workers; });
    double s = std::chrono::duration<double>(clock_type::now() - start).count();
    std::printf("connected=%ld seconds=%.2f failures=%ld\n", t.ok.load(), s, t.failed.load());
    std::fflush(stdout);
    char buf[256];
    while (::read(0, buf, sizeof buf) > 0) {
    }
  } else {
    wait_until([&] { return t.ready == workers; });
    auto go = clock_type::now();
    t.go = true;
    wait_until([&] { return t.finished == workers; });
    double s = std::chrono::duration<double>(t.last_end - go).count();
    // Verification is outside the clock: every copy must equal the file the server serves.
    bool ok = false;
    auto want = slurp(c.verify, ok);
    if (!ok) {
      std::fprintf(stderr, "ferry_bench_connections: cannot read %s\n", c.verify.c_str());
      t.failed++;
    }
    long bad = 0;
    for (int i = 0; i < workers && ok; ++i) {
      std::string local = c.dir + "/get-" + std::to_string(i);
      bool got_ok = false;
      auto got = slurp(local, got_ok);
      if (t.downloaded[std::size_t(i)] && (!got_ok || got != want)) {  // failed ones are counted already
        ++bad;
        std::fprintf(stderr, "ferry_bench_connections: %s differs from %s\n", local.c_str(), c.verify.c_str());
      }
      ::unlink(local.c_str());
    }
    t.failed += bad;
    std::printf("downloads=%ld bytes=%llu seconds=%.2f rate=%.1f failures=%ld\n", t.ok.load() - bad,
                t.bytes.load(), s, s > 0 ? double(t.bytes) / s / 1e6 : 0.0, t.failed.load());
  }
  std::fflush(stdout);
  std::fflush(stderr);
  ::_exit(t.failed ? 1 : 0);
}
