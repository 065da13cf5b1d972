// ftp::server: an FTP/FTPS server on Boost.Asio over any Filesystem and Authenticator.
//
//   asio::io_context ioc;
//   auto files = fs::make_local_filesystem(ioc.get_executor(), "/srv/ftp", {}, ec);
//   auth::static_users users;  users.load(text);
//   error_code ec;
//   auto tls = ftp::make_self_signed_tls_context("ftp.example.org", ec);   // or from PEM files
//   ftp::server<fs::local_filesystem, auth::static_users> srv{
//       ioc.get_executor(), files, users, {.tls_context = tls.get()}};
//   srv.listen({asio::ip::make_address("0.0.0.0"), 21}, ec);          // plain + AUTH TLS
//   srv.listen_implicit({asio::ip::make_address("0.0.0.0"), 990}, ec); // implicit FTPS
//   srv.start();
//   run ioc on N threads;  srv.stop() to end.
//
// Each connection is a session (ftp/server/session.hpp) on its own strand; a hostile or slow
// client holds only its own strand. Connection limits (total and per address) are checked at
// accept: over the limit, the client reads 421 and is closed.
#pragma once

#include <ferry/ftp/detail/coroutine_sanitize.hpp>

FERRY_COROUTINE_NO_SANITIZE_FUNCTION_BEGIN

#include <ferry/auth/authenticator.hpp>
#include <ferry/fs/filesystem.hpp>
#include <ferry/ftp/server/control.hpp>
#include <ferry/ftp/server/options.hpp>
#include <ferry/ftp/server/session.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace ferry::ftp {

// A TLS server context (TLS 1.2 and 1.3) with the certificate chain and key given as PEM, and
// resumption on (data connections resume the control session, RFC 4217 §10.2).
std::unique_ptr<boost::asio::ssl::context> make_tls_context(std::string_view certificate_chain_pem,
                                                            byte_view private_key_pem,
                                                            error_code& ec);
// The same from PEM files.
std::unique_ptr<boost::asio::ssl::context> make_tls_context_from_files(
    const std::string& certificate_file, const std::string& key_file, error_code& ec);
// The same with a fresh self-signed certificate for common_name (the embedded default).
std::unique_ptr<boost::asio::ssl::context> make_self_signed_tls_context(
    std::string_view common_name, error_code& ec);

template <fs::filesystem Filesystem, auth::authenticator Authenticator>
class server {
 public:
  using tcp = boost::asio::ip::tcp;
  using session_type = session<Filesystem, Authenticator>;
  using state_type = server_state<Filesystem, Authenticator>;

  server(boost::asio::any_io_executor ex, Filesystem files, Authenticator users,
         server_options opts = {}, std::size_t auth_threads = 2)
      : ex_(ex), pool_(std::make_shared<boost::asio::thread_pool>(auth_threads)) {
    state_ = std::make_shared<state_type>(std::move(files), std::move(users), std::move(opts),
                                          pool_->get_executor());
  }
  ~server() { stop(); }
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // Opens a listening socket: plain FTP with AUTH TLS (if a TLS context is set).
  error_code listen(const tcp::endpoint& ep) { return open(plain_, ep); }
  // Opens a listening socket for implicit FTPS (TLS from the first byte).
  error_code listen_implicit(const tcp::endpoint& ep) {
    if (!state_->opts.tls_context) return make_error_code(boost::system::errc::invalid_argument);
    return open(implicit_, ep);
  }
  tcp::endpoint local_endpoint() const { return endpoint_of(plain_); }
  tcp::endpoint implicit_endpoint() const { return endpoint_of(implicit_); }

  // Starts accepting on the listening sockets.
  void start() {
    if (plain_) boost::asio::co_spawn(ex_, accept_loop(&*plain_, false, alive_), boost::asio::detached);
    if (implicit_)
      boost::asio::co_spawn(ex_, accept_loop(&*implicit_, true, alive_), boost::asio::detached);
  }

  // Closes the listening sockets and ends every session. Sessions finish on their strands; run
  // the executor until they have (io_context::run returns).
  void stop() {
    error_code ignored;
    if (plain_) plain_->close(ignored);
    if (implicit_) implicit_->close(ignored);
    std::lock_guard lk{m_};
    for (auto& w : sessions_)
      if (auto s = w.lock()) s->stop();
    sessions_.clear();
  }

  // Serves one connection that is already open (tests, fuzzing, inetd-style use); no limits.
  void serve(std::unique_ptr<control_channel> control, bool implicit_tls = false) {
    auto strand = boost::asio::make_strand(ex_);
    auto s = std::make_shared<session_type>(strand, state_, std::move(control), implicit_tls);
    remember(s);
    s->start();
  }

  std::size_t connections() const {
    std::lock_guard lk{state_->m};
    return state_->total;
  }

  const server_options& options() const noexcept { return state_->opts; }

 private:
  static constexpr auto nothrow = boost::asio::as_tuple(boost::asio::use_awaitable);

  error_code open(std::optional<tcp::acceptor>& a, const tcp::endpoint& ep) {
    error_code ec;
    a.emplace(ex_);
    a->open(ep.protocol(), ec);
    if (!ec) a->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) a->bind(ep, ec);
    if (!ec) a->listen(boost::asio::socket_base::max_listen_connections, ec);
    if (ec) a.reset();
    return ec;
  }

  static tcp::endpoint endpoint_of(const std::optional<tcp::acceptor>& a) {
    error_code ec;
    return a ? a->local_endpoint(ec) : tcp::endpoint{};
  }

  void remember(const std::shared_ptr<session_type>& s) {
    std::lock_guard lk{m_};
    // Forget sessions that ended, so the list stays as long as the live ones.
    sessions_.remove_if([](const std::weak_ptr<session_type>& w) { return w.expired(); });
    sessions_.push_back(s);
  }

  boost::asio::awaitable<void> accept_loop(tcp::acceptor* acceptor, bool implicit_tls,
                                           [[maybe_unused]] std::shared_ptr<int> alive) {
    auto st = state_;
    for (;;) {
      auto strand = boost::asio::make_strand(ex_);
      auto [ec, socket] = co_await acceptor->async_accept(strand, nothrow);
      if (ec == boost::asio::error::operation_aborted || ec == boost::asio::error::bad_descriptor ||
          !acceptor->is_open())
        co_return;
      if (ec) continue;  // EMFILE and friends: keep serving the others
      error_code pec;
      auto peer = socket.remote_endpoint(pec).address();
      if (pec) continue;
      bool over = false;
      {
        std::lock_guard lk{st->m};
        auto& n = st->per_ip[peer];
        if (st->total >= st->opts.max_connections || n >= st->opts.max_connections_per_ip) {
          over = true;
          if (n == 0) st->per_ip.erase(peer);
        } else {
          ++n;
          ++st->total;
        }
      }
      if (over) {
        server_event e;
        e.what = server_event::kind::refusal;
        e.peer = peer.to_string();
        e.detail = "connection limit";
        st->log(e);
        if (!implicit_tls) {
          // RFC 959 §5.4: 421 is the reply for a server that cannot serve now.
          static constexpr std::string_view busy = "421 Too many connections; try again later.\r\n";
          error_code ignored;
          socket.non_blocking(true, ignored);
          socket.write_some(boost::asio::buffer(busy), ignored);
        }
        error_code ignored;
        socket.close(ignored);
        continue;
      }
      auto release = [st, peer] {
        std::lock_guard lk{st->m};
        --st->total;
        auto it = st->per_ip.find(peer);
        if (it != st->per_ip.end() && --it->second == 0) st->per_ip.erase(it);
      };
      auto s = std::make_shared<session_type>(strand, st,
                                              std::make_unique<tcp_control>(std::move(socket)),
                                              implicit_tls, std::move(release));
      remember(s);
      s->start();
    }
  }

  boost::asio::any_io_executor ex_;
  std::shared_ptr<boost::asio::thread_pool> pool_;
  std::shared_ptr<state_type> state_;
  std::optional<tcp::acceptor> plain_;
  std::optional<tcp::acceptor> implicit_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
  mutable std::mutex m_;
  std::list<std::weak_ptr<session_type>> sessions_;
};

}  // namespace ferry::ftp

FERRY_COROUTINE_NO_SANITIZE_FUNCTION_END
