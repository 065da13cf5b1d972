// A ferry client connection and a ferry server connection joined by test::stream, handshaken
// (no user authentication: the connection layer does not need it) and running.
#pragma once

#include "support/run_coroutine.hpp"

#include <ferry/ssh/connection.hpp>
#include <ferry/test/random.hpp>
#include <ferry/test/stream.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <gtest/gtest.h>

#include <memory>

namespace ssh_connection_test {

namespace asio = boost::asio;
using namespace ferry;
using namespace ferry::ssh;
using conn_t = ssh::connection<test::stream>;
using ferry_test_support::run_coroutine;

constexpr auto tok = asio::as_tuple(asio::use_awaitable);

inline std::shared_ptr<const crypto::private_key> host_key() {
  static auto k = [] {
    test::fixed_random rng{77};
    return std::make_shared<const crypto::private_key>(
        crypto::private_key::generate(crypto::key_type::ed25519, rng));
  }();
  return k;
}

inline transport_options client_transport() {
  transport_options o;
  o.verify_host_key = [](const host_key_info&) { return error_code{}; };
  return o;
}

inline transport_options server_transport() {
  transport_options o;
  o.host_keys.push_back(host_key());
  return o;
}

// Sleeps on the current executor.
inline asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer t{co_await asio::this_coro::executor};
  t.expires_after(d);
  co_await t.async_wait(tok);
}

struct conn_pair {
  std::unique_ptr<conn_t> client, server;
  std::optional<error_code> client_run, server_run;

  conn_pair(asio::io_context& ioc, connection_options co = {}, connection_options so = {},
            std::size_t capacity = 0) {
    auto [a, b] = test::make_stream_pair(ioc.get_executor());
    if (capacity) {
      a.set_receive_capacity(capacity);
      b.set_receive_capacity(capacity);
    }
    client = std::make_unique<conn_t>(role::client, client_transport(), co, std::move(a));
    server = std::make_unique<conn_t>(role::server, server_transport(), so, std::move(b));
  }

  // Handshake both transports, then run both connections.
  asio::awaitable<void> start() {
    using namespace asio::experimental::awaitable_operators;
    auto hs = client->transport().async_handshake(asio::use_awaitable) &&
              server->transport().async_handshake(asio::use_awaitable);
    co_await std::move(hs);
    // RFC 4253 §10: a server transport passes nothing up before a service request.
    server->async_run([this](error_code ec) { server_run = ec; });
    co_await client->transport().async_request_service("ssh-userauth", asio::use_awaitable);
    client->async_run([this](error_code ec) { client_run = ec; });
  }

  // Waits (bounded) until both runs completed.
  asio::awaitable<bool> wait_ended(std::chrono::milliseconds limit = std::chrono::seconds{10}) {
    auto until = std::chrono::steady_clock::now() + limit;
    while ((!client_run || !server_run) && std::chrono::steady_clock::now() < until)
      co_await sleep_for(std::chrono::milliseconds{2});
    co_return client_run && server_run;
  }

  // The client disconnects; both runs end.
  asio::awaitable<void> finish() {
    co_await client->async_disconnect(tok);
    EXPECT_TRUE(co_await wait_ended());
    EXPECT_FALSE(client_run.value_or(error_code{})) << client_run.value_or(error_code{}).message();
  }
};

// Reads a stream to EOF (bounded by limit).
template <class Stream>
asio::awaitable<std::pair<error_code, std::string>> read_all(Stream& s,
                                                             std::size_t limit = 1 << 30) {
  std::string out;
  std::array<char, 65536> buf;
  for (;;) {
    auto [ec, n] = co_await s.async_read_some(asio::buffer(buf), tok);
    out.append(buf.data(), n);
    if (ec == asio::error::eof) co_return std::pair{error_code{}, std::move(out)};
    if (ec) co_return std::pair{ec, std::move(out)};
    if (out.size() > limit) co_return std::pair{make_error_code(errc::length_limit), std::move(out)};
  }
}

}  // namespace ssh_connection_test
