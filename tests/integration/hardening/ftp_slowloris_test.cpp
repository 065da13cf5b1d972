// Slowloris against ftp::server (issue #12): many control connections that send a command line one
// byte at a time and never finish USER/PASS, and logged-in ones that never finish a command. The
// login timeout (an absolute deadline, not re-armed by bytes) and the idle timeout (re-armed only by
// complete commands) drop them with 421; the per-address and total connection limits refuse the
// surplus with 421; a legitimate client logs in and transfers meanwhile, or once they are gone.
#include "integration/ftp_server_harness.hpp"

#include <ferry/ftp/client.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
using namespace ferry;
using namespace ferry::test::ftpd;

// One slow connection: sends `script` one byte per tick, collecting whatever the server says,
// until the server closes it.
struct dripper {
  std::unique_ptr<tcp::socket> s;
  std::string script;
  std::size_t sent = 0;
  std::string got;
  bool closed = false;

  dripper(asio::io_context& ioc, std::uint16_t port, std::string text, const char* from = "127.0.0.1")
      : s(std::make_unique<tcp::socket>(ioc)), script(std::move(text)) {
    s->open(tcp::v4());
    s->bind({asio::ip::make_address(from), 0});
    s->connect({asio::ip::make_address("127.0.0.1"), port});
    s->non_blocking(true);
  }

  void tick() {
    if (closed) return;
    std::array<char, 512> buf;
    for (;;) {
      error_code ec;
      auto n = s->read_some(asio::buffer(buf), ec);
      got.append(buf.data(), n);
      if (ec == asio::error::would_block || ec == asio::error::try_again) break;
      if (ec) {  // EOF or reset: the server hung up
        closed = true;
        return;
      }
    }
    if (sent < script.size()) {
      error_code ec;
      auto n = s->write_some(asio::buffer(script.data() + sent, 1), ec);
      sent += n;
      if (ec && ec != asio::error::would_block && ec != asio::error::try_again) closed = true;
    }
  }
};

// Ticks every dripper every `period` until all are closed or `limit` passed; returns whether all
// were closed.
bool drip_until_closed(std::vector<dripper>& ds, std::chrono::milliseconds period,
                       std::chrono::seconds limit = std::chrono::seconds{15}) {
  auto until = std::chrono::steady_clock::now() + limit;
  for (;;) {
    bool all = true;
    for (auto& d : ds) {
      d.tick();
      all = all && d.closed;
    }
    if (all) return true;
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(period);
  }
}

// A legitimate session with ferry's FTP client: login, upload, download back. Empty on success.
std::string legitimate_transfer(std::uint16_t port, std::size_t size) {
  std::string failure = "did not finish";
  asio::io_context ioc;
  std::string up(size, '\0');
  for (std::size_t i = 0; i < size; ++i) up[i] = char(i * 131 + i / 7);
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        try {
          ftp::client c{ioc.get_executor(), ftp::client_options{}};
          co_await c.async_connect(tcp::endpoint{asio::ip::make_address("127.0.0.1"), port},
                                   asio::use_awaitable);
          co_await c.async_login("user", "secret", asio::use_awaitable);
          auto pos = std::make_shared<std::size_t>(0);
          ftp::data_source src = [&up, pos](mutable_byte_view b, error_code&) -> std::size_t {
            auto n = std::min(b.size(), up.size() - *pos);
            std::memcpy(b.data(), up.data() + *pos, n);
            *pos += n;
            return n;
          };
          co_await c.async_store("legit.bin", src, {}, asio::use_awaitable);
          std::string back;
          ftp::data_sink sink = [&back](byte_view b) -> error_code {
            back.append(as_chars(b));
            return {};
          };
          co_await c.async_retrieve("legit.bin", sink, {}, asio::use_awaitable);
          failure = back == up ? "" : "downloaded bytes differ";
          co_await c.async_quit(asio::use_awaitable);
        } catch (const std::exception& e) {
          failure = e.what();
        }
      },
      asio::detached);
  ioc.run_for(std::chrono::seconds{20});
  return failure;
}

bool starts_with_code(const std::string& text, std::string_view code) {
  return text.find(std::string{code} + " ") != std::string::npos;
}

}  // namespace

TEST(ftp_slowloris, byte_at_a_time_logins_are_dropped_by_the_login_timeout_while_a_client_transfers) {
  auto o = fast_options();
  o.login_timeout = std::chrono::milliseconds(1500);
  o.max_connections_per_ip = 64;
  running_server<fs::memory_filesystem> srv{memory_backend(), o};
  asio::io_context ioc;
  std::vector<dripper> slow;
  // Never finishing USER; finishing USER but never PASS; a long junk line with no end.
  for (int i = 0; i < 8; ++i) slow.emplace_back(ioc, srv.port(), "USER user");
  for (int i = 0; i < 8; ++i) slow.emplace_back(ioc, srv.port(), "USER user\r\nPASS secr");
  for (int i = 0; i < 4; ++i) slow.emplace_back(ioc, srv.port(), std::string(2000, 'A'));
  // The legitimate client works while they drip.
  std::string legit;
  std::thread t{[&] { legit = legitimate_transfer(srv.port(), 1 << 20); }};
  bool all_closed = drip_until_closed(slow, std::chrono::milliseconds{20});
  t.join();
  EXPECT_EQ(legit, "");
  ASSERT_TRUE(all_closed) << "slow connections outlived the login timeout";
  for (auto& d : slow) {
    EXPECT_TRUE(starts_with_code(d.got, "421")) << d.got;
    EXPECT_EQ(d.got.find("230"), std::string::npos) << "a slow client got logged in: " << d.got;
  }
  for (int i = 0; i < 500 && srv.server().connections() > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  EXPECT_EQ(srv.server().connections(), 0u);
}

TEST(ftp_slowloris, logged_in_clients_that_never_finish_a_command_are_dropped_by_the_idle_timeout) {
  auto o = fast_options();
  o.idle_timeout = std::chrono::milliseconds(1000);
  running_server<fs::memory_filesystem> srv{memory_backend(), o};
  asio::io_context ioc;
  std::vector<dripper> slow;
  // Log in at once, then drip a command that never ends (its bytes are no activity).
  for (int i = 0; i < 6; ++i) {
    slow.emplace_back(ioc, srv.port(), "");
    slow.back().s->non_blocking(false);
    std::string login = "USER user\r\nPASS secret\r\n";
    asio::write(*slow.back().s, asio::buffer(login));
    slow.back().s->non_blocking(true);
    slow.back().script = "RETR " + std::string(500, 'x');
  }
  std::string legit;
  std::thread t{[&] { legit = legitimate_transfer(srv.port(), 256 * 1024); }};
  bool all_closed = drip_until_closed(slow, std::chrono::milliseconds{20});
  t.join();
  EXPECT_EQ(legit, "");
  ASSERT_TRUE(all_closed) << "slow logged-in connections outlived the idle timeout";
  for (auto& d : slow) {
    EXPECT_TRUE(starts_with_code(d.got, "230")) << d.got;
    EXPECT_NE(d.got.find("421 Idle timeout"), std::string::npos) << d.got;
  }
}

TEST(ftp_slowloris, per_address_and_total_limits_refuse_the_surplus_until_the_slow_ones_are_gone) {
  auto o = fast_options();
  o.login_timeout = std::chrono::milliseconds(1500);
  o.max_connections_per_ip = 4;
  o.max_connections = 9;
  running_server<fs::memory_filesystem> srv{memory_backend(), o};
  asio::io_context ioc;
  std::vector<dripper> slow;
  // 6 from each of three addresses: 4 + 4 + 1 get in, the rest are refused.
  for (const char* from : {"127.0.0.2", "127.0.0.3", "127.0.0.4"}) {
    for (int i = 0; i < 6; ++i) {
      slow.emplace_back(ioc, srv.port(), "USER us", from);
      // Wait for its greeting (220 or 421) so the order of admission is the order above.
      for (int k = 0; k < 500 && slow.back().got.find("\r\n") == std::string::npos; ++k) {
        slow.back().tick();
        std::this_thread::sleep_for(std::chrono::milliseconds{2});
      }
    }
  }
  std::size_t admitted = 0, refused = 0;
  for (std::size_t i = 0; i < slow.size(); ++i) {
    auto& g = slow[i].got;
    if (g.rfind("220", 0) == 0) ++admitted;
    if (g.rfind("421", 0) == 0) ++refused;
    const bool expect_in = i < 4 || (i >= 6 && i < 10) || i == 12;
    EXPECT_EQ(g.rfind(expect_in ? "220" : "421", 0), 0u) << "connection " << i << ": " << g;
  }
  EXPECT_EQ(admitted, 9u);
  EXPECT_EQ(refused, 9u);
  // A legitimate client is refused by the total limit while they last...
  raw_control busy{srv.port()};
  EXPECT_EQ(busy.code(), 421);
  EXPECT_TRUE(busy.closed_by_peer());
  // ...and gets in once the login timeout dropped them.
  ASSERT_TRUE(drip_until_closed(slow, std::chrono::milliseconds{20}));
  for (int i = 0; i < 500 && srv.server().connections() > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  EXPECT_EQ(legitimate_transfer(srv.port(), 64 * 1024), "");
  auto refusals = srv.log.count(ftp::server_event::kind::refusal);
  EXPECT_GE(refusals, 10u);  // 9 slow ones and the busy one
}
