// Bulk data through one SSH channel, ferry client -> ferry server over real loopback TCP: the
// `ssh host cat > file` shape. Each side runs its own io_context on its own thread, so the numbers
// show what the sender and the receiver each spend (per-thread CPU clocks) next to the wall time.
//
//   ferry_bench_ssh_channel [--bytes=N] [--chunk=N] [--buffers=K] [--cipher=NAME] [--rounds=R]
//                           [--reverse]
//
// --chunk is the size of each async_write_some call (default 256 KiB), split in --buffers pieces
// (a gather write, as SFTP writes a header and data). --reverse sends server -> client (a download).
// Prints one line per round: MB/s, CPU seconds per GiB for sender, receiver and both.
#include <ferry/crypto/random.hpp>
#include <ferry/crypto/sign.hpp>
#include <ferry/ssh/connection.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace ferry;
using namespace ferry::ssh;

namespace {

constexpr auto tok = asio::as_tuple(asio::use_awaitable);

struct settings {
  std::uint64_t bytes = std::uint64_t{1} << 30;
  std::size_t chunk = 256 * 1024;
  std::size_t buffers = 1;
  std::string cipher = "aes128-gcm@openssh.com";
  int rounds = 1;
  bool reverse = false;
};

double thread_cpu() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

struct side_result {
  double cpu = 0;
  std::uint64_t moved = 0;
  std::string error;
};

// Writes s.bytes into the channel in chunks of s.chunk (s.buffers pieces each), then EOF.
asio::awaitable<void> push(channel& ch, const settings& s, side_result& r) {
  std::vector<std::uint8_t> data(s.chunk, 0x5a);
  std::vector<asio::const_buffer> bufs;
  std::uint64_t left = s.bytes;
  while (left > 0) {
    std::size_t want = std::size_t(std::min<std::uint64_t>(left, s.chunk));
    bufs.clear();
    std::size_t piece = (want + s.buffers - 1) / s.buffers;
    for (std::size_t at = 0; at < want; at += piece)
      bufs.push_back(asio::buffer(data.data() + at, std::min(piece, want - at)));
    auto [ec, n] = co_await ch.async_write_some(bufs, tok);
    if (ec) {
      r.error = "write: " + ec.message();
      co_return;
    }
    left -= n;
    r.moved += n;
  }
  ch.send_eof();
}

// Reads the channel to EOF.
asio::awaitable<void> drain(channel& ch, side_result& r) {
  std::vector<std::uint8_t> buf(256 * 1024);
  for (;;) {
    auto [ec, n] = co_await ch.async_read_some(asio::buffer(buf), tok);
    r.moved += n;
    if (ec == asio::error::eof) break;
    if (ec) {
      r.error = "read: " + ec.message();
      break;
    }
  }
}

std::shared_ptr<const crypto::private_key> host_key() {
  static auto k = std::make_shared<const crypto::private_key>(
      crypto::private_key::generate(crypto::key_type::ed25519, crypto::system_random()));
  return k;
}

transport_options transport_for(role r, const settings& s) {
  transport_options o;
  o.algorithms.cipher = {s.cipher};
  if (r == role::server)
    o.host_keys.push_back(host_key());
  else
    o.verify_host_key = [](const host_key_info&) { return error_code{}; };
  return o;
}

// Starts c's run loop; the returned flag turns true once it completed.
template <class Conn>
std::shared_ptr<bool> start_run(Conn& c) {
  auto done = std::make_shared<bool>(false);
  c.async_run([done](error_code) { *done = true; });
  return done;
}

// Waits until the run loop completed (the connection must outlive it).
asio::awaitable<void> wait_run(const std::shared_ptr<bool>& done) {
  asio::steady_timer t{co_await asio::this_coro::executor};
  while (!*done) {
    t.expires_after(std::chrono::milliseconds{1});
    co_await t.async_wait(tok);
  }
}

struct round_result {
  double seconds = 0;
  side_result client, server;
};

round_result run_round(const settings& s) {
  round_result out;
  asio::io_context server_ioc, client_ioc;
  tcp::acceptor acceptor{server_ioc, tcp::endpoint{asio::ip::make_address("127.0.0.1"), 0}};
  auto port = acceptor.local_endpoint().port();
  std::atomic<bool> started{false};
  std::chrono::steady_clock::time_point t0, t1;

  // Server: accept one connection, one channel; receive (or send with --reverse).
  asio::co_spawn(
      server_ioc,
      [&]() -> asio::awaitable<void> {
        auto [aec, sock] = co_await acceptor.async_accept(tok);
        if (aec) {
          out.server.error = aec.message();
          co_return;
        }
        sock.set_option(tcp::no_delay{true});
        connection<tcp::socket> c{role::server, transport_for(role::server, s), connection_options{},
                                  std::move(sock)};
        c.set_channel_filter([](std::string_view) { return true; });
        if (auto [ec] = co_await c.transport().async_handshake(tok); ec) {
          out.server.error = "handshake: " + ec.message();
          co_return;
        }
        auto ran = start_run(c);
        auto [ec, ch] = co_await c.async_accept(tok);
        if (ec) {
          out.server.error = "accept: " + ec.message();
          co_return;
        }
        ch.accept();
        double cpu0 = thread_cpu();
        if (s.reverse)
          co_await push(ch, s, out.server);
        else
          co_await drain(ch, out.server);
        out.server.cpu = thread_cpu() - cpu0;
        ch.close();
        co_await ch.async_wait_closed(tok);
        co_await wait_run(ran);  // the client disconnects
      },
      asio::detached);

  asio::co_spawn(
      client_ioc,
      [&]() -> asio::awaitable<void> {
        tcp::socket sock{client_ioc};
        if (auto [ec] = co_await sock.async_connect({asio::ip::make_address("127.0.0.1"), port}, tok); ec) {
          out.client.error = ec.message();
          co_return;
        }
        sock.set_option(tcp::no_delay{true});
        connection<tcp::socket> c{role::client, transport_for(role::client, s), connection_options{},
                                  std::move(sock)};
        if (auto [ec] = co_await c.transport().async_handshake(tok); ec) {
          out.client.error = "handshake: " + ec.message();
          co_return;
        }
        if (auto [ec] = co_await c.transport().async_request_service("ssh-userauth", tok); ec) {
          out.client.error = "service: " + ec.message();
          co_return;
        }
        auto ran = start_run(c);
        auto [ec, ch] = co_await c.async_open_session(tok);
        if (ec) {
          out.client.error = "open: " + ec.message();
          co_await c.async_disconnect(tok);
          co_await wait_run(ran);
          co_return;
        }
        started = true;
        t0 = std::chrono::steady_clock::now();
        double cpu0 = thread_cpu();
        if (s.reverse)
          co_await drain(ch, out.client);
        else
          co_await push(ch, s, out.client);
        // Everything arrived once the server closes (it closes after reading EOF).
        co_await ch.async_wait_closed(tok);
        t1 = std::chrono::steady_clock::now();
        out.client.cpu = thread_cpu() - cpu0;
        co_await c.async_disconnect(tok);
        co_await wait_run(ran);
      },
      asio::detached);

  std::thread server_thread{[&] { server_ioc.run(); }};
  client_ioc.run();
  server_thread.join();
  out.seconds = std::chrono::duration<double>(t1 - t0).count();
  return out;
}

bool arg(const char* a, const char* name, std::string& value) {
  auto n = std::strlen(name);
  if (std::strncmp(a, name, n) != 0 || a[n] != '=') return false;
  value = a + n + 1;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  settings s;
  for (int i = 1; i < argc; ++i) {
    std::string v;
    if (arg(argv[i], "--bytes", v))
      s.bytes = std::strtoull(v.c_str(), nullptr, 10);
    else if (arg(argv[i], "--chunk", v))
      s.chunk = std::strtoull(v.c_str(), nullptr, 10);
    else if (arg(argv[i], "--buffers", v))
      s.buffers = std::max<std::size_t>(1, std::strtoull(v.c_str(), nullptr, 10));
    else if (arg(argv[i], "--cipher", v))
      s.cipher = v;
    else if (arg(argv[i], "--rounds", v))
      s.rounds = std::atoi(v.c_str());
    else if (std::strcmp(argv[i], "--reverse") == 0)
      s.reverse = true;
    else {
      std::fprintf(stderr,
                   "usage: %s [--bytes=N] [--chunk=N] [--buffers=K] [--cipher=NAME] [--rounds=R] "
                   "[--reverse]\n",
                   argv[0]);
      return 2;
    }
  }
  const double gib = double(s.bytes) / double(1u << 30);
  std::printf("%-24s %10s %10s %12s %12s %12s\n", "cipher", "MB/s", "seconds", "send s/GiB",
              "recv s/GiB", "total s/GiB");
  int failures = 0;
  for (int r = 0; r < s.rounds; ++r) {
    auto res = run_round(s);
    const auto& sender = s.reverse ? res.server : res.client;
    const auto& receiver = s.reverse ? res.client : res.server;
    if (!res.client.error.empty() || !res.server.error.empty() || receiver.moved != s.bytes) {
      std::fprintf(stderr, "round %d failed: client '%s' server '%s' received %llu\n", r,
                   res.client.error.c_str(), res.server.error.c_str(),
                   static_cast<unsigned long long>(receiver.moved));
      ++failures;
      continue;
    }
    std::printf("%-24s %10.1f %10.3f %12.3f %12.3f %12.3f\n", s.cipher.c_str(),
                double(s.bytes) / res.seconds / 1e6, res.seconds, sender.cpu / gib,
                receiver.cpu / gib, (sender.cpu + receiver.cpu) / gib);
    std::fflush(stdout);
  }
  return failures ? 1 : 0;
}
