// In-process SCP over SFTP: ferry's scp::sftp_mode_client on an sftp::client, ferry's
// sftp::server on the other end of a test::stream pair; the client's local files and the
// server's files are two memory filesystems (helpers from the legacy SCP harness).
#pragma once

#include "integration/scp/harness.hpp"

#include <ferry/scp/sftp_mode.hpp>
#include <ferry/sftp/server.hpp>

#include <memory>
#include <optional>

namespace ferry::test_scp_sftp {

namespace asio = boost::asio;
using namespace ferry::test_scp;
using sftp_client = sftp::client<test::stream>;
using mode_client = scp::sftp_mode_client<test::stream>;
inline constexpr auto tuple = asio::as_tuple(asio::use_awaitable);

struct session {
  explicit session(asio::io_context& ioc, sftp::server_options so = {})
      : local(fs::make_memory_filesystem(ioc.get_executor())),
        remote(fs::make_memory_filesystem(ioc.get_executor())),
        server(remote, std::move(so)) {
    auto [a, b] = test::make_stream_pair(ioc.get_executor());
    server_end.emplace(std::move(b));
    client.emplace(std::move(a));
    // The run ends after the test body (when the client's end closes) and so after this session:
    // its outcome goes to a state the handler shares.
    server.async_run(*server_end, [r = server_run](error_code ec) {
      r->ec = ec;
      r->done = true;
    });
  }

  asio::awaitable<void> init() { co_await client->async_init(asio::use_awaitable); }

  fs::memory_filesystem local;
  fs::memory_filesystem remote;
  sftp::server<fs::memory_filesystem> server;
  std::optional<test::stream> server_end;
  std::optional<sftp_client> client;
  struct run_outcome {
    error_code ec;
    bool done = false;
  };
  std::shared_ptr<run_outcome> server_run = std::make_shared<run_outcome>();
};

// Every event of a transfer, as text ("begin /a 3", "end /a 3", "dir /d", "warn ...").
struct event_log {
  std::vector<std::string> lines;
  scp::event_handler handler() {
    return [this](const scp::event& e) {
      switch (e.type) {
        case scp::event::kind::file_begin:
          lines.push_back("begin " + std::string{e.path} + " " + std::to_string(e.size));
          break;
        case scp::event::kind::file_end:
          lines.push_back("end " + std::string{e.path} + " " + std::to_string(e.bytes));
          break;
        case scp::event::kind::directory: lines.push_back("dir " + std::string{e.path}); break;
        case scp::event::kind::warning: lines.push_back("warn " + std::string{e.message}); break;
        case scp::event::kind::progress: break;
      }
    };
  }
  bool has(const std::string& line) const {
    return std::find(lines.begin(), lines.end(), line) != lines.end();
  }
};

inline bool mentions(const scp::transfer_summary& s, std::string_view text) {
  for (const auto& m : s.messages)
    if (m.find(text) != std::string::npos) return true;
  return false;
}

inline std::string joined(const scp::transfer_summary& s) {
  std::string out;
  for (const auto& m : s.messages) out += m + "\n";
  return out;
}

}  // namespace ferry::test_scp_sftp
