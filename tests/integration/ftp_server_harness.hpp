// An ftp::server running on its own io_context thread for tests, over the memory or the local
// backend, with a fixed set of users; plus small raw-socket helpers for speaking FTP by hand.
#pragma once

#include <ferry/fs/local.hpp>
#include <ferry/fs/memory.hpp>
#include <ferry/ftp/client.hpp>
#include <ferry/ftp/server.hpp>
#include <ferry/test/random.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>

#include <atomic>
#include <cstring>
#include <memory>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace ferry::test::ftpd {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// "user"/"secret": everything; "reader"/"secret": read-only; "jail"/"secret": rooted at /jail.
struct test_users {
  auth::method_set methods(const auth::request&) const { return {auth::method::password}; }
  auth::result check_password(const auth::request& r, byte_view pw) const {
    if (as_chars(pw) != "secret") return std::nullopt;
    auth::grant g;
    g.user = std::string{r.user};
    if (r.user == "user") return g;
    if (r.user == "reader") {
      g.perms.read_only = true;
      g.view.read_only = true;
      return g;
    }
    if (r.user == "jail") {
      g.view.root = "/jail";
      return g;
    }
    return std::nullopt;
  }
};

// Records what the log hook reports.
struct event_log {
  std::mutex m;
  std::vector<ftp::server_event> events;
  void operator()(const ftp::server_event& e) {
    std::lock_guard lk{m};
    events.push_back(e);
  }
  std::size_t count(ftp::server_event::kind k) {
    std::lock_guard lk{m};
    std::size_t n = 0;
    for (auto& e : events) n += e.what == k;
    return n;
  }
  std::vector<ftp::server_event> snapshot() {
    std::lock_guard lk{m};
    return events;
  }
};

inline ftp::server_options fast_options() {
  ftp::server_options o;
  o.login_failure_delay = std::chrono::milliseconds(50);
  o.data_timeout = std::chrono::seconds(5);
  return o;
}

template <class Filesystem>
class running_server {
 public:
  // tls: build a self-signed TLS context and allow AUTH TLS and implicit FTPS.
  running_server(std::function<Filesystem(asio::any_io_executor)> make_fs, ftp::server_options opts,
                 bool tls = false, unsigned threads = 2)
      : work_(asio::make_work_guard(ioc_)) {
    if (tls) {
      error_code ec;
      tls_ = ftp::make_self_signed_tls_context("127.0.0.1", ec);
      if (ec) throw system_error(ec, "TLS context");
      opts.tls_context = tls_.get();
    }
    opts.log = std::ref(log);
    files_.emplace(make_fs(ioc_.get_executor()));
    srv_.emplace(ioc_.get_executor(), *files_, test_users{}, std::move(opts));
    if (auto ec = srv_->listen({asio::ip::make_address("127.0.0.1"), 0}))
      throw system_error(ec, "listen");
    if (tls) {
      if (auto ec = srv_->listen_implicit({asio::ip::make_address("127.0.0.1"), 0}))
        throw system_error(ec, "listen implicit");
    }
    srv_->start();
    for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { ioc_.run(); });
  }
  ~running_server() {
    asio::post(ioc_, [this] { srv_->stop(); });
    work_.reset();
    // Sessions end on their own once stopped; bound the wait.
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!ioc_.stopped() && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ioc_.stop();
    for (auto& t : threads_) t.join();
  }

  std::uint16_t port() const { return srv_->local_endpoint().port(); }
  std::uint16_t implicit_port() const { return srv_->implicit_endpoint().port(); }
  Filesystem& files() { return *files_; }
  ftp::server<Filesystem, test_users>& server() { return *srv_; }

  event_log log;

 private:
  asio::io_context ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::unique_ptr<asio::ssl::context> tls_;
  std::optional<Filesystem> files_;
  std::optional<ftp::server<Filesystem, test_users>> srv_;
  std::vector<std::thread> threads_;
};

inline std::function<fs::memory_filesystem(asio::any_io_executor)> memory_backend(
    std::shared_ptr<fs::memory_core>* keep = nullptr) {
  return [keep](asio::any_io_executor ex) {
    auto core = fs::memory_core::create();
    if (keep) *keep = core;
    return fs::memory_filesystem{ex, core};
  };
}

// A blocking FTP conversation over a plain socket, for the hostile tests.
class raw_control {
 public:
  explicit raw_control(std::uint16_t port, const char* from = nullptr) : socket_(ioc_) {
    socket_.open(tcp::v4());
    if (from) socket_.bind({asio::ip::make_address(from), 0});
    socket_.connect({asio::ip::make_address("127.0.0.1"), port});
  }

  void send(std::string_view text) { asio::write(socket_, asio::buffer(text)); }

  // One complete reply ("ddd text"; multi-line replies up to their "ddd " line), or "" on EOF.
  std::string reply() {
    error_code ec;
    std::string all;
    for (;;) {
      auto n = asio::read_until(socket_, asio::dynamic_buffer(buf_), "\r\n", ec);
      if (ec) return all;
      std::string line = buf_.substr(0, n);
      buf_.erase(0, n);
      all += line;
      if (line.size() >= 4 && line[3] == ' ' && (all.size() == line.size() || all.substr(0, 3) == line.substr(0, 3)))
        return all;
      if (line.size() >= 4 && line[3] == ' ' && all.size() != line.size() && all[3] == '-' &&
          all.substr(0, 3) == line.substr(0, 3))
        return all;
    }
  }

  int code() {
    auto r = reply();
    return r.size() >= 3 ? std::stoi(r.substr(0, 3)) : 0;
  }

  int command(std::string_view line) {
    send(std::string{line} + "\r\n");
    return code();
  }

  std::string command_text(std::string_view line) {
    send(std::string{line} + "\r\n");
    return reply();
  }

  void login(std::string_view user = "user") {
    if (code() != 220) throw std::runtime_error("no greeting");
    if (command("USER " + std::string{user}) != 331) throw std::runtime_error("USER");
    if (command("PASS secret") != 230) throw std::runtime_error("PASS");
  }

  // PASV, returning the port.
  std::uint16_t pasv() {
    auto r = command_text("PASV");
    auto open = r.find('(');
    int h1, h2, h3, h4, p1, p2;
    if (r.substr(0, 3) != "227" ||
        std::sscanf(r.c_str() + open + 1, "%d,%d,%d,%d,%d,%d", &h1, &h2, &h3, &h4, &p1, &p2) != 6)
      throw std::runtime_error("PASV: " + r);
    return std::uint16_t(p1 * 256 + p2);
  }

  // True if the server closed the connection (EOF on read).
  bool closed_by_peer(std::chrono::milliseconds wait = std::chrono::seconds(5)) {
    socket_.non_blocking(false);
    timeval tv{};
    tv.tv_sec = long(wait.count() / 1000);
    tv.tv_usec = long((wait.count() % 1000) * 1000);
    ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char c;
    for (;;) {
      if (!buf_.empty()) {
        buf_.clear();
        continue;
      }
      auto n = ::recv(socket_.native_handle(), &c, 1, 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;
    }
  }

  tcp::socket& socket() { return socket_; }
  asio::io_context& context() { return ioc_; }
  std::string& buffered() { return buf_; }

 private:
  asio::io_context ioc_;
  tcp::socket socket_;
  std::string buf_;
};

inline std::string read_all(tcp::socket& s) {
  std::string out;
  error_code ec;
  asio::read(s, asio::dynamic_buffer(out), ec);
  return out;
}

// n bytes from a seeded generator: the same seed gives the same bytes.
inline std::string payload(std::size_t n, std::uint64_t seed) {
  test::fixed_random rng{seed};
  std::string s(n, '\0');
  rng.fill({reinterpret_cast<std::uint8_t*>(s.data()), s.size()});
  return s;
}

// A client upload source reading `in` (which must outlive the transfer).
inline ftp::data_source from_string(const std::string& in) {
  auto pos = std::make_shared<std::size_t>(0);
  return [&in, pos](mutable_byte_view b, error_code&) -> std::size_t {
    auto n = std::min(b.size(), in.size() - *pos);
    std::memcpy(b.data(), in.data() + *pos, n);
    *pos += n;
    return n;
  };
}

// A client download sink appending to `out`.
inline ftp::data_sink to_string(std::string& out) {
  return [&out](byte_view b) -> error_code {
    out.append(as_chars(b));
    return {};
  };
}

}  // namespace ferry::test::ftpd
