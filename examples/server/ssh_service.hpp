// ferry-server's SSH side: an ssh::server whose connection handler serves the "sftp" subsystem
// with sftp::server and `scp -t/-f` exec requests with scp::server, both over the user's jailed
// view of the root. Other commands, shells and port forwarding are refused: ferry-server runs no
// programs (--allow-exec adds the real-command handler of ssh/process_handler.hpp).
//
// Limits come from ssh::server: pre-auth connections at once (MaxStartups), sessions per
// connection, login grace time, handshake timeout, and a graceful stop with a grace period.
#pragma once

#include "logging.hpp"

#include <ferry/fs/local.hpp>
#include <ferry/scp/server.hpp>
#include <ferry/sftp/server.hpp>
#include <ferry/ssh/process_handler.hpp>
#include <ferry/ssh/server.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace ferry_server {

namespace asio = boost::asio;

// One authenticated connection: what its user may reach and do.
class transfer_handler final : public ferry::ssh::connection_handler {
 public:
  transfer_handler(ferry::fs::local_filesystem files, std::string user, bool read_only,
                   bool allow_exec, const logger& log)
      : files_(std::move(files)), user_(std::move(user)), read_only_(read_only),
        allow_exec_(allow_exec), log_(log) {}

  ferry::ssh::session_task subsystem(ferry::ssh::session&, std::string_view name) override {
    if (name != "sftp") return {};
    return [this](ferry::ssh::session& s) { return serve_sftp(s); };
  }

  ferry::ssh::session_task exec(ferry::ssh::session& s, std::string_view command) override {
    if (command.substr(0, 4) == "scp ")
      return [this, c = std::string{command}](ferry::ssh::session& ss) { return serve_scp(ss, c); };
    if (allow_exec_) {
      log_.info("ssh exec user=" + user_ + " peer=" + s.remote_address() + " command=" + std::string{command});
      return ferry::ssh::run_process(std::string{command});
    }
    log_.refusal("ssh", s.remote_address(), "exec refused user=" + user_ + " command=" + std::string{command});
    return {};
  }

  ferry::ssh::session_task shell(ferry::ssh::session& s) override {
    if (allow_exec_) return ferry::ssh::run_process({});
    log_.refusal("ssh", s.remote_address(), "shell refused user=" + user_);
    return {};
  }

  bool pty(ferry::ssh::session&, const ferry::ssh::pty_request&) override { return allow_exec_; }
  // Clients send LANG and friends before their subsystem; accepted and unused.
  bool env(ferry::ssh::session&, std::string_view, std::string_view) override { return true; }

 private:
  static constexpr auto tok = asio::as_tuple(asio::use_awaitable);

  static ferry::ssh::session_exit exit_with(std::uint32_t status) {
    ferry::ssh::session_exit e;
    e.status = status;
    return e;
  }

  asio::awaitable<ferry::ssh::session_exit> serve_sftp(ferry::ssh::session& s) {
    ferry::sftp::server_options o;
    o.read_only = read_only_;
    o.user = user_;
    o.level = log_.verbosity() >= 2 ? ferry::sftp::log_level::verbose : ferry::sftp::log_level::info;
    std::string who = "sftp user=" + user_ + " peer=" + s.remote_address() + " ";
    o.log = [this, who](ferry::sftp::log_level, std::string_view text) { log_.detail(who + std::string{text}); };
    o.on_transfer = [this, peer = s.remote_address()](const ferry::sftp::transfer_record& t) {
      const bool upload = t.bytes_written > 0;
      log_.transfer("sftp", user_, peer, upload ? "upload" : "download", t.path,
                    upload ? t.bytes_written : t.bytes_read, t.seconds, t.completed);
    };
    ferry::sftp::server<ferry::fs::local_filesystem> srv{files_, std::move(o)};
    auto [ec] = co_await srv.async_run(s.channel(), tok);
    co_return exit_with(ec ? 1u : 0u);
  }

  asio::awaitable<ferry::ssh::session_exit> serve_scp(ferry::ssh::session& s, std::string command) {
    const bool upload = command.find(" -t") != std::string::npos;
    if (read_only_ && upload) {
      // scp -t writes: a read-only user gets a refusal in scp's own words.
      static constexpr char refusal[] = "\2scp: read-only: permission denied\n";
      co_await asio::async_write(s.channel(), asio::buffer(refusal, sizeof refusal - 1), tok);
      co_return exit_with(1);
    }
    auto start = std::make_shared<std::chrono::steady_clock::time_point>();
    std::string peer = s.remote_address();
    ferry::scp::server_options o;
    o.on_event = [this, start, upload, peer](const ferry::scp::event& e) {
      using kind = ferry::scp::event::kind;
      if (e.type == kind::file_begin) *start = std::chrono::steady_clock::now();
      if (e.type == kind::file_end) {
        double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - *start).count();
        log_.transfer("scp", user_, peer, upload ? "upload" : "download", e.path, e.bytes, secs, true);
      }
      if (e.type == kind::warning)
        log_.info("scp user=" + user_ + " peer=" + peer + " warning: " + std::string{e.message});
    };
    ferry::scp::server<ferry::fs::local_filesystem> srv{files_, std::move(o)};
    auto [ec, status] = co_await srv.async_run(s.channel(), std::move(command), tok);
    co_return exit_with(std::uint32_t(ec && status == 0 ? 1 : status));
  }

  ferry::fs::local_filesystem files_;
  std::string user_;
  bool read_only_;
  bool allow_exec_;
  const logger& log_;
};

template <class Users>
class ssh_service {
 public:
  ssh_service(asio::any_io_executor ex, ferry::fs::local_filesystem files, Users users,
              std::vector<std::shared_ptr<const ferry::crypto::private_key>> host_keys,
              bool allow_exec, bool read_only, std::chrono::seconds grace, const logger& log)
      : files_(std::move(files)),
        users_(std::move(users)),
        allow_exec_(allow_exec),
        read_only_(read_only),
        log_(log),
        server_(ex, options(std::move(host_keys), grace), users_,
                [this](const ferry::auth::grant& g) { return handler_for(g); }) {}

  ferry::error_code listen(const std::string& address, std::uint16_t port) {
    ferry::error_code ec;
    auto addr = asio::ip::make_address(address, ec);
    if (!ec) ec = server_.listen({addr, port});
    return ec;
  }
  std::uint16_t port() const { return server_.local_endpoint().port(); }

  // Serves until stop() has let every connection finish; then calls done.
  void start(std::function<void()> done) {
    server_.async_run([done = std::move(done)](ferry::error_code) { done(); });
  }
  // No new connections; open sessions get the grace period, then everything is disconnected.
  void stop() { server_.stop(); }

 private:
  static ferry::ssh::server_options options(
      std::vector<std::shared_ptr<const ferry::crypto::private_key>> host_keys, std::chrono::seconds grace) {
    ferry::ssh::server_options o;
    o.transport.host_keys = std::move(host_keys);
    o.transport.handshake_timeout = std::chrono::seconds{30};
    o.auth.login_grace_time = std::chrono::seconds{60};
    o.connection.window = 16 * 1024 * 1024;
    o.max_startups = 64;
    o.stop_grace = grace;
    return o;
  }

  std::unique_ptr<ferry::ssh::connection_handler> handler_for(const ferry::auth::grant& g) {
    ferry::error_code ec;
    auto view = files_.for_user(g.view, ec);
    if (ec) {
      log_.error("ssh user " + g.user + ": no view of the root: " + ec.message());
      return std::make_unique<ferry::ssh::connection_handler>();  // denies everything
    }
    log_.login("ssh", g.user, "", "");
    return std::make_unique<transfer_handler>(std::move(view), g.user, g.perms.read_only || read_only_,
                                              allow_exec_, log_);
  }

  ferry::fs::local_filesystem files_;
  Users users_;
  bool allow_exec_;
  bool read_only_;
  const logger& log_;
  ferry::ssh::server server_;
};

}  // namespace ferry_server
