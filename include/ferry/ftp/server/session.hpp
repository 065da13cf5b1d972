// One FTP control connection on the server (RFC 959 §5, with RFC 2228/4217 TLS, RFC 2389 FEAT,
// RFC 2428 EPSV/EPRT, RFC 3659 MLST/SIZE/MDTM/REST, RFC 2640 UTF8, RFC 7151 HOST).
//
// Three coroutines on one strand:
//   reader    reads the control connection, splits it into commands (proto/command.hpp) and
//             queues them as events; after AUTH it drops whatever else it had buffered (bytes
//             sent before the TLS handshake are not trusted, CVE-2011-0411) and waits until the
//             handshake is done;
//   main      takes events one at a time and answers them; it is the only writer of replies;
//   transfer  (while one runs) moves a file or a listing over the data connection and queues
//             its outcome as an event, after the data connection is closed, so that 226 always
//             follows the close (RFC 959 §3.2).
// While a transfer runs, ABOR and STAT are answered at once and other commands wait their turn.
// Every path goes through fs::path::normalize against the current directory and then through the
// Filesystem; the session never touches host paths.
#pragma once

#include <ferry/ftp/detail/coroutine_sanitize.hpp>

FERRY_COROUTINE_NO_SANITIZE_FUNCTION_BEGIN

#include <ferry/auth/authenticator.hpp>
#include <ferry/core/limits.hpp>
#include <ferry/core/secure.hpp>
#include <ferry/crypto/hash.hpp>
#include <ferry/crypto/random.hpp>
#include <ferry/fs/error.hpp>
#include <ferry/fs/filesystem.hpp>
#include <ferry/fs/operations.hpp>
#include <ferry/fs/path.hpp>
#include <ferry/ftp/proto/address.hpp>
#include <ferry/ftp/proto/ascii.hpp>
#include <ferry/ftp/proto/command.hpp>
#include <ferry/ftp/proto/listing.hpp>
#include <ferry/ftp/proto/reply.hpp>
#include <ferry/ftp/proto/server_arguments.hpp>
#include <ferry/ftp/proto/values.hpp>
#include <ferry/ftp/server/control.hpp>
#include <ferry/ftp/server/data_channel.hpp>
#include <ferry/ftp/server/options.hpp>
#include <ferry/ftp/server/replies.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace ferry::ftp {

// What every session of one server shares: configuration, storage, users, the executor that
// runs (slow) authenticator calls, and the connection accounting.
template <class Filesystem, class Authenticator>
struct server_state {
  server_state(Filesystem f, Authenticator a, server_options o, boost::asio::any_io_executor b)
      : fs(std::move(f)), auth(std::move(a)), opts(std::move(o)), blocking(std::move(b)) {}

  Filesystem fs;
  Authenticator auth;
  server_options opts;
  boost::asio::any_io_executor blocking;

  std::mutex m;
  std::size_t total = 0;
  std::map<boost::asio::ip::address, std::size_t> per_ip;

  void log(server_event e) const {
    if (opts.log) opts.log(e);
  }
};

template <fs::filesystem Filesystem, auth::authenticator Authenticator>
class session : public std::enable_shared_from_this<session<Filesystem, Authenticator>> {
 public:
  using state_type = server_state<Filesystem, Authenticator>;
  template <class T>
  using awaitable = boost::asio::awaitable<T>;

  // release: called once when the session ends (connection accounting).
  session(boost::asio::any_io_executor strand, std::shared_ptr<state_type> state,
          std::unique_ptr<control_channel> control, bool implicit_tls,
          std::function<void()> release = {})
      : strand_(strand),
        st_(std::move(state)),
        opts_(st_->opts),
        control_(std::move(control)),
        implicit_tls_(implicit_tls),
        release_(std::move(release)),
        events_(strand, 16),
        resume_(strand, 1),
        timer_(strand) {
    peer_ = control_->remote_address().to_string();
  }

  ~session() {
    if (release_) release_();
  }

  // Runs the session to its end on its strand.
  void start() {
    boost::asio::co_spawn(strand_, run(this->shared_from_this()), boost::asio::detached);
  }

  // Ends the session from any thread.
  void stop() {
    boost::asio::post(strand_, [self = this->shared_from_this()] { self->shutdown("server stop"); });
  }

 private:
  static constexpr auto nothrow = boost::asio::as_tuple(boost::asio::use_awaitable);
  using tcp = boost::asio::ip::tcp;

  struct transfer_outcome {
    int code = 226;
    std::string text = "Transfer complete.";
    std::uint64_t bytes = 0;
    bool ok = true;
  };

  struct event {
    enum kind_t { command, bad_line, closed, transfer_done, timeout } kind = closed;
    ftp::command cmd;
    error_code ec;
    transfer_outcome outcome;
    std::uint64_t generation = 0;
  };

  using event_channel = boost::asio::experimental::channel<void(error_code, event)>;
  using signal_channel = boost::asio::experimental::channel<void(error_code)>;

  // --- plumbing -------------------------------------------------------------------------------

  void shutdown(std::string_view why) {
    if (!quit_) {
      quit_ = true;
      if (disconnect_reason_.empty()) disconnect_reason_ = std::string{why};
    }
    control_->close();
    if (active_) active_->close();
    if (data_) data_->close();
    events_.close();
    resume_.close();
    timer_.cancel();
  }

  void log(server_event::kind k, std::string detail, std::string path = {}, std::uint64_t bytes = 0,
           double seconds = 0, bool ok = true) {
    server_event e;
    e.what = k;
    e.user = logged_in_ ? user_ : pending_user_;
    e.peer = peer_;
    e.path = std::move(path);
    e.bytes = bytes;
    e.seconds = seconds;
    e.ok = ok;
    e.detail = std::move(detail);
    st_->log(std::move(e));
  }

  awaitable<void> reply(int code, std::string_view text) {
    if (quit_) co_return;
    error_code fec;
    std::string out = format_reply(code, text, fec);
    if (fec) out = format_reply(code, "(reply text omitted)", fec);
    auto ec = co_await control_->write(boost::asio::buffer(out));
    if (ec) shutdown("control write failed");
  }

  awaitable<void> reply_raw(const std::string& formatted) {
    if (quit_) co_return;
    auto ec = co_await control_->write(boost::asio::buffer(formatted));
    if (ec) shutdown("control write failed");
  }

  awaitable<void> reply_fs_error(const error_code& ec) {
    auto r = fs_error_reply(ec);
    co_await reply(r.code, r.text);
  }

  // Runs f() (a synchronous, possibly slow call such as a password check) on the blocking
  // executor and resumes on the session's strand with its result.
  template <class F>
  awaitable<std::invoke_result_t<F>> run_blocking(F f) {
    using T = std::invoke_result_t<F>;
    // Named, not a temporary inside the co_await (g++ 12 destroys those twice).
    auto initiation = [blocking = st_->blocking, strand = strand_](auto handler, F fn) mutable {
      auto work = boost::asio::prefer(strand, boost::asio::execution::outstanding_work.tracked);
      boost::asio::post(blocking, [h = std::move(handler), fn = std::move(fn), work]() mutable {
        T r = fn();
        boost::asio::post(work, [h = std::move(h), r = std::move(r)]() mutable {
          std::move(h)(std::move(r));
        });
      });
    };
    T result = co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void(T)>(
        std::move(initiation), boost::asio::use_awaitable, std::move(f));
    co_return result;
  }

  // --- the reader -----------------------------------------------------------------------------

  // self keeps the session alive while the reader runs.
  awaitable<void> reader([[maybe_unused]] std::shared_ptr<session> self) {
    std::array<char, 4096> buf;
    command_reader cr;
    std::string pending;
    for (;;) {
      while (!pending.empty()) {
        error_code ec;
        auto used = cr.feed(pending, ec);
        pending.erase(0, used);
        if (ec) {
          event e;
          e.kind = ec == errc::line_too_long ? event::closed : event::bad_line;
          e.ec = ec;
          auto [sec] = co_await events_.async_send(error_code{}, std::move(e), nothrow);
          if (sec || ec == errc::line_too_long) co_return;
          continue;
        }
        if (!cr.has_command()) break;
        event e;
        e.kind = event::command;
        e.cmd = cr.take();
        bool changes_stream = e.cmd.verb == "AUTH";
        auto [sec] = co_await events_.async_send(error_code{}, std::move(e), nothrow);
        if (sec) co_return;
        if (changes_stream) {
          // RFC 4217 §6 / CVE-2011-0411: commands pipelined behind AUTH in plaintext were sent
          // before the handshake; executing them later as if protected is the STARTTLS
          // injection attack. Drop them, and read nothing until the handshake is done.
          pending.clear();
          cr = command_reader{};
          auto [rec] = co_await resume_.async_receive(nothrow);
          if (rec) co_return;
        }
      }
      auto [ec, n] = co_await control_->read_some(boost::asio::buffer(buf));
      if (ec || n == 0) {
        event e;
        e.kind = event::closed;
        e.ec = ec;
        co_await events_.async_send(error_code{}, std::move(e), nothrow);
        co_return;
      }
      pending += strip_telnet(std::string_view{buf.data(), n});
    }
  }

  // --- the main loop --------------------------------------------------------------------------

  // The next event. Without a running transfer, a timer queues a timeout event at the idle (or,
  // before login, the login) deadline; each call re-arms it, and a stale one is recognised by its
  // generation.
  awaitable<std::optional<event>> next_event() {
    ++timer_generation_;
    if (transfer_running_) {
      timer_.cancel();
    } else {
      auto deadline = std::chrono::steady_clock::now() + opts_.idle_timeout;
      if (!logged_in_) deadline = std::min(deadline, login_deadline_);
      timer_.expires_at(deadline);
      timer_.async_wait([w = this->weak_from_this(), gen = timer_generation_](error_code ec) {
        if (ec) return;
        if (auto self = w.lock()) {
          event t;
          t.kind = event::timeout;
          t.generation = gen;
          self->events_.try_send(error_code{}, std::move(t));
        }
      });
    }
    for (;;) {
      auto [ec, ev] = co_await events_.async_receive(nothrow);
      if (ec) co_return std::nullopt;
      if (ev.kind == event::timeout && ev.generation != timer_generation_) continue;
      co_return std::move(ev);
    }
  }

  awaitable<void> run(std::shared_ptr<session> self) {
    login_deadline_ = std::chrono::steady_clock::now() + opts_.login_timeout;
    if (implicit_tls_) {
      if (!opts_.tls_context) co_return shutdown("no TLS context for implicit FTPS");
      auto ec = co_await control_->start_tls(*opts_.tls_context, opts_.data_timeout);
      if (ec) co_return shutdown("TLS handshake failed");
    }
    co_await reply(220, opts_.banner);
    boost::asio::co_spawn(strand_, reader(self), boost::asio::detached);
    while (!quit_) {
      event ev;
      if (!deferred_.empty() && !transfer_running_) {
        ev.kind = event::command;
        ev.cmd = std::move(deferred_.front());
        deferred_.pop_front();
      } else {
        auto got = co_await next_event();
        if (!got) break;
        ev = std::move(*got);
      }
      switch (ev.kind) {
        case event::closed:
          if (ev.ec == errc::line_too_long) {
            co_await reply(500, "Command line too long.");
            log(server_event::kind::refusal, "command line too long");
          }
          shutdown("client closed the connection");
          break;
        case event::timeout:
          if (!logged_in_ && std::chrono::steady_clock::now() >= login_deadline_) {
            co_await reply(421, "Login timeout: closing control connection.");
            shutdown("login timeout");
          } else {
            co_await reply(421, "Idle timeout: closing control connection.");
            shutdown("idle timeout");
          }
          break;
        case event::transfer_done: co_await transfer_finished(std::move(ev.outcome)); break;
        case event::bad_line:
          if (co_await count_unknown()) break;
          co_await reply(ev.ec == errc::forbidden_character ? 501 : 500,
                         ev.ec == errc::forbidden_character
                             ? "CR, LF or NUL inside a command is not allowed."
                             : "Syntax error, command unrecognized.");
          break;
        case event::command:
          if (transfer_running_) {
            co_await during_transfer(ev.cmd);
          } else {
            co_await dispatch(ev.cmd);
          }
          break;
      }
    }
    // Let a running transfer end before the frame goes: it refers to this session.
    if (active_) active_->close();
    while (transfer_running_) {
      auto [ec, ev] = co_await events_.async_receive(nothrow);
      if (ec) break;
      if (ev.kind == event::transfer_done) transfer_running_ = false;
    }
    shutdown("session end");
    log(server_event::kind::disconnect, disconnect_reason_);
  }

  // Unknown or malformed commands before login: a few are tolerated, then the connection goes
  // (ALPACA-style cross-protocol requests). True if the session is closing.
  awaitable<bool> count_unknown() {
    if (logged_in_) co_return false;
    if (++unknown_before_login_ > opts_.max_unknown_commands_before_login) {
      co_await reply(421, "Too many unrecognized commands; closing.");
      log(server_event::kind::refusal, "too many unknown commands before login");
      shutdown("too many unknown commands before login");
      co_return true;
    }
    co_return false;
  }

  awaitable<void> during_transfer(ftp::command& c) {
    if (c.verb == "ABOR") {
      // RFC 959 §4.1.3: close the data connection, 426 for the transfer, then 226 for ABOR.
      abort_requested_ = true;
      if (active_) active_->close();
      co_return;
    }
    if (c.verb == "STAT" && c.argument.empty()) {
      auto n = active_ ? active_->bytes() : 0;
      co_await reply(213, "Status: " + std::to_string(n) + " bytes transferred.");
      co_return;
    }
    if (deferred_.size() >= limits::ftp_server_max_pipelined) {
      co_await reply(421, "Too many commands pipelined during a transfer; closing.");
      log(server_event::kind::refusal, "too many pipelined commands");
      shutdown("too many pipelined commands");
      co_return;
    }
    deferred_.push_back(std::move(c));
  }

  awaitable<void> transfer_finished(transfer_outcome o) {
    transfer_running_ = false;
    auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                                 transfer_started_)
                       .count();
    active_.reset();
    if (abort_requested_) {
      abort_requested_ = false;
      log(server_event::kind::transfer, transfer_verb_ + " aborted", transfer_path_, o.bytes,
          seconds, false);
      co_await reply(426, "Connection closed; transfer aborted.");
      co_await reply(226, "ABOR successful.");
      co_return;
    }
    log(server_event::kind::transfer, o.ok ? transfer_verb_ : transfer_verb_ + ": " + o.text,
        transfer_path_, o.bytes, seconds, o.ok);
    co_await reply(o.code, o.text);
  }

  // --- dispatch -------------------------------------------------------------------------------

  static bool allowed_before_login(std::string_view v) {
    for (auto a : {"USER", "PASS", "ACCT", "QUIT", "AUTH", "PBSZ", "PROT", "FEAT", "SYST", "HELP",
                   "NOOP", "OPTS", "HOST", "REIN", "STAT", "CCC"})
      if (v == a) return true;
    return false;
  }

  // By reference: the command lives in the caller's frame while this runs (and g++ 12 mishandles
  // class-type coroutine parameters passed by value from a switch in another coroutine).
  awaitable<void> dispatch(ftp::command& c) {
    const auto& v = c.verb;
    auto& a = c.argument;
    if (!logged_in_ && !allowed_before_login(v)) {
      if (!is_known(v)) {
        if (co_await count_unknown()) co_return;
        co_return co_await reply(500, "Unknown command.");
      }
      co_return co_await reply(530, "Please login with USER and PASS.");
    }
    if (v == "USER") co_return co_await cmd_user(a);
    if (v == "PASS") co_return co_await cmd_pass(a);
    if (v == "ACCT") co_return co_await reply(202, "ACCT not needed.");
    if (v == "QUIT") {
      co_await reply(221, "Goodbye.");
      co_return shutdown("QUIT");
    }
    if (v == "AUTH") co_return co_await cmd_auth(a);
    if (v == "PBSZ") co_return co_await cmd_pbsz(a);
    if (v == "PROT") co_return co_await cmd_prot(a);
    // CCC (RFC 4217 §6, optional) stays refused with 534 ("request denied for policy reasons").
    // Doing it right means: answer 200 in TLS, exchange close_notify, then read plaintext from
    // the same socket. A client may send its next command right behind its close_notify, and
    // those plaintext bytes can already sit in Asio's SSL engine input buffer (read ahead with
    // the alert), which the public ssl::stream API cannot hand back; recovering them needs a TLS
    // layer of our own. CCC also exposes every later command (and allows injection into the
    // clear control stream), so refusing it is the safer policy as well.
    if (v == "CCC") co_return co_await reply(534, "CCC not allowed: the control connection stays protected.");
    if (v == "FEAT")
      co_return co_await reply_raw(feat_reply(opts_.tls_context != nullptr, facts_, hash_));
    if (v == "SYST") co_return co_await reply(215, "UNIX Type: L8");
    if (v == "HELP") co_return co_await reply(214, help_text());
    if (v == "NOOP") co_return co_await reply(200, "NOOP ok.");
    if (v == "OPTS") co_return co_await cmd_opts(a);
    if (v == "HOST") {
      // RFC 7151 §3: before login only.
      if (logged_in_ || !pending_user_.empty()) co_return co_await reply(503, "HOST must precede USER.");
      co_return co_await reply(220, "Host accepted.");
    }
    if (v == "REIN") {
      logout();
      co_return co_await reply(220, "Service ready for new user.");
    }
    if (v == "STAT") co_return co_await cmd_stat(a);
    // --- logged in from here ---
    if (v == "PWD" || v == "XPWD")
      co_return co_await reply(257, format_pathname_reply_text(cwd_, "is the current directory"));
    if (v == "CWD" || v == "XCWD") co_return co_await cmd_cwd(a);
    if (v == "CDUP" || v == "XCUP") co_return co_await cmd_cwd("..");
    if (v == "TYPE") co_return co_await cmd_type(a);
    if (v == "STRU") {
      if (a == "F" || a == "f") co_return co_await reply(200, "Structure set to F.");
      co_return co_await reply(504, "Only STRU F is supported.");
    }
    if (v == "MODE") {
      if (a == "S" || a == "s") co_return co_await reply(200, "Mode set to S.");
      co_return co_await reply(504, "Only MODE S is supported.");
    }
    if (v == "ALLO") co_return co_await reply(202, "ALLO not needed.");
    if (v == "REST") co_return co_await cmd_rest(a);
    if (v == "RANG") co_return co_await cmd_rang(a);
    if (v == "PASV") co_return co_await cmd_pasv(false, a);
    if (v == "EPSV") co_return co_await cmd_pasv(true, a);
    if (v == "PORT") co_return co_await cmd_port(false, a);
    if (v == "EPRT") co_return co_await cmd_port(true, a);
    if (v == "ABOR") {
      if (data_) data_->close();
      data_.reset();
      co_return co_await reply(225, "No transfer to abort.");
    }
    if (v == "RETR") co_return co_await cmd_retr(a);
    if (v == "STOR") co_return co_await cmd_store(a, store_kind::stor);
    if (v == "APPE") co_return co_await cmd_store(a, store_kind::appe);
    if (v == "STOU") co_return co_await cmd_store(a, store_kind::stou);
    if (v == "LIST") co_return co_await cmd_list(a, listing_kind::list);
    if (v == "NLST") co_return co_await cmd_list(a, listing_kind::nlst);
    if (v == "MLSD") co_return co_await cmd_list(a, listing_kind::mlsd);
    if (v == "MLST") co_return co_await cmd_mlst(a);
    if (v == "SIZE") co_return co_await cmd_size(a);
    if (v == "MDTM") co_return co_await cmd_mdtm(a);
    if (v == "MFMT") co_return co_await cmd_mfmt(a);
    if (v == "DELE") co_return co_await cmd_simple(a, simple_kind::dele);
    if (v == "RMD" || v == "XRMD") co_return co_await cmd_simple(a, simple_kind::rmd);
    if (v == "MKD" || v == "XMKD") co_return co_await cmd_simple(a, simple_kind::mkd);
    if (v == "RNFR") co_return co_await cmd_rnfr(a);
    if (v == "RNTO") co_return co_await cmd_rnto(a);
    if (v == "SITE") co_return co_await cmd_site(a);
    if (v == "HASH") co_return co_await cmd_hash(a);
    co_return co_await reply(502, "Command not implemented.");
  }

  static bool is_known(std::string_view v) {
    for (auto k : {"USER", "PASS", "ACCT", "CWD",  "XCWD", "CDUP", "XCUP", "QUIT", "REIN", "PORT",
                   "PASV", "TYPE", "STRU", "MODE", "RETR", "STOR", "STOU", "APPE", "ALLO", "REST",
                   "RNFR", "RNTO", "ABOR", "DELE", "RMD",  "XRMD", "MKD",  "XMKD", "PWD",  "XPWD",
                   "LIST", "NLST", "SITE", "SYST", "STAT", "HELP", "NOOP", "FEAT", "OPTS", "AUTH",
                   "PBSZ", "PROT", "CCC",  "EPSV", "EPRT", "MLST", "MLSD", "SIZE", "MDTM", "MFMT",
                   "HOST", "HASH", "RANG"})
      if (v == k) return true;
    return false;
  }

  void logout() {
    logged_in_ = false;
    pending_user_.clear();
    user_.clear();
    fs_.reset();
    grant_ = {};
    cwd_ = "/";
    rename_from_.reset();
    rest_ = 0;
    if (data_) data_->close();
    data_.reset();
  }

  // --- login (RFC 959 §4.1.1) ------------------------------------------------------------------

  awaitable<void> cmd_user(const std::string& a) {
    if (logged_in_) co_return co_await reply(503, "Already logged in; use REIN first.");
    if (opts_.require_tls_login && !control_->encrypted()) {
      log(server_event::kind::refusal, "USER before AUTH TLS");
      co_return co_await reply(530, "Login requires TLS: use AUTH TLS first.");
    }
    if (a.empty()) co_return co_await reply(501, "USER needs a name.");
    pending_user_ = a;
    co_await reply(331, "Please specify the password.");
  }

  awaitable<void> cmd_pass(std::string& a) {
    secure_bytes password(a.begin(), a.end());
    secure_wipe(a.data(), a.size());
    if (logged_in_) co_return co_await reply(230, "Already logged in.");
    if (pending_user_.empty()) co_return co_await reply(503, "Login with USER first.");
    if (password.size() > limits::auth_max_password) password.resize(limits::auth_max_password);
    // A named closure: g++ 12 destroys closures built inside a co_await expression twice.
    auto check = [st = st_, user = pending_user_, peer = peer_, pw = std::move(password)]() {
      auth::request r;
      r.user = user;
      r.service = auth::ftp_service;
      r.remote_address = peer;
      return auth::check_password(st->auth, r, byte_view{pw.data(), pw.size()});
    };
    auth::result granted = co_await run_blocking(std::move(check));
    error_code vec;
    std::optional<Filesystem> user_fs;
    if (granted) {
      if constexpr (fs::has_user_views<Filesystem>) {
        user_fs.emplace(st_->fs.for_user(granted->view, vec));
      } else {
        if (granted->view.root != "/") vec = fs::unsupported();  // cannot confine this user
        user_fs.emplace(st_->fs);
      }
    }
    if (!granted || vec) {
      ++login_failures_;
      log(server_event::kind::login_failed, granted ? "user view unavailable" : "bad password");
      // A delay per failure slows guessing; after the last one the connection goes.
      timer_.expires_after(opts_.login_failure_delay);
      co_await timer_.async_wait(nothrow);
      if (login_failures_ >= opts_.max_login_failures) {
        co_await reply(421, "Too many failed logins; closing.");
        log(server_event::kind::refusal, "too many failed logins");
        co_return shutdown("too many failed logins");
      }
      pending_user_.clear();
      co_return co_await reply(530, "Login incorrect.");
    }
    fs_ = std::move(user_fs);
    grant_ = std::move(*granted);
    user_ = pending_user_;
    std::string home;
    if (fs::path::normalize(grant_.view.home, "/", home)) home = "/";
    cwd_ = home;
    logged_in_ = true;
    login_failures_ = 0;
    log(server_event::kind::login, "login");
    co_await reply(230, "Login successful.");
  }

  // --- TLS (RFC 4217) --------------------------------------------------------------------------

  awaitable<void> cmd_auth(const std::string& a) {
    std::string m;
    for (char ch : a) m += static_cast<char>(ch >= 'a' && ch <= 'z' ? ch - 32 : ch);
    auto resume = [&]() { resume_.try_send(error_code{}); };
    if (!opts_.tls_context) {
      resume();
      co_return co_await reply(502, "TLS is not configured.");
    }
    if (control_->encrypted()) {
      resume();
      co_return co_await reply(503, "Already using TLS.");
    }
    // RFC 4217 §4: "TLS"; "TLS-C" and "SSL" are old names for the same thing.
    if (m != "TLS" && m != "TLS-C" && m != "SSL") {
      resume();
      co_return co_await reply(504, "Unsupported security mechanism.");
    }
    co_await reply(234, "Proceed with negotiation.");
    if (quit_) co_return;
    auto ec = co_await control_->start_tls(*opts_.tls_context, opts_.data_timeout);
    if (ec) {
      log(server_event::kind::refusal, "TLS handshake failed: " + ec.message());
      co_return shutdown("TLS handshake failed");
    }
    // RFC 4217 §4: a new security state; anything negotiated before starts over.
    pbsz_ = false;
    prot_private_ = false;
    resume();
  }

  awaitable<void> cmd_pbsz(const std::string& a) {
    if (!control_->encrypted()) co_return co_await reply(503, "PBSZ needs AUTH TLS first.");
    std::uint64_t v = 0;
    if (!parse_offset_argument(a, v)) co_return co_await reply(501, "PBSZ needs a number.");
    pbsz_ = true;
    // RFC 4217 §8: for TLS the buffer size is 0; a larger value is answered with PBSZ=0.
    co_await reply(200, "PBSZ=0");
  }

  awaitable<void> cmd_prot(const std::string& a) {
    if (!control_->encrypted()) co_return co_await reply(503, "PROT needs AUTH TLS first.");
    if (!pbsz_) co_return co_await reply(503, "PROT needs PBSZ first.");  // RFC 4217 §9
    if (a == "P" || a == "p") {
      prot_private_ = true;
      co_return co_await reply(200, "PROT now Private.");
    }
    if (a == "C" || a == "c") {
      if (opts_.require_tls_data) co_return co_await reply(534, "Data connections must be protected.");
      prot_private_ = false;
      co_return co_await reply(200, "PROT now Clear.");
    }
    if (a == "S" || a == "E" || a == "s" || a == "e")
      co_return co_await reply(536, "PROT level not supported.");
    co_await reply(504, "PROT must be C or P.");
  }

  awaitable<void> cmd_opts(const std::string& a) {
    auto sp = a.find(' ');
    std::string name;
    for (char ch : a.substr(0, sp)) name += static_cast<char>(ch >= 'a' && ch <= 'z' ? ch - 32 : ch);
    std::string rest = sp == std::string::npos ? std::string{} : a.substr(sp + 1);
    if (name == "UTF8" || name == "UTF-8") {
      // RFC 2640 §3.1: paths are always UTF-8 here.
      co_return co_await reply(200, "Always in UTF8 mode.");
    }
    if (name == "MLST") {
      facts_ = parse_mlst_facts(rest);
      co_return co_await reply(200, "MLST OPTS " + format_mlst_facts(facts_, false));
    }
    if (name == "HASH") {
      if (rest.empty()) co_return co_await reply(200, hash_name_text(hash_));
      auto h = parse_hash_name(rest);
      if (!h) co_return co_await reply(501, "Unknown hash algorithm.");
      hash_ = *h;
      co_return co_await reply(200, hash_name_text(hash_));
    }
    co_await reply(501, "Option not understood.");
  }

  awaitable<void> cmd_stat(const std::string& a) {
    if (a.empty()) {
      std::string s = "FTP server status:\n     Connected to " + peer_;
      s += logged_in_ ? "\n     Logged in as " + user_ : std::string{"\n     Not logged in"};
      s += ascii_ ? "\n     TYPE: ASCII" : "\n     TYPE: BINARY";
      s += control_->encrypted() ? "\n     Control connection is protected (TLS)"
                                 : "\n     Control connection is plain text";
      s += prot_private_ ? "\n     Data connections are protected" : "\n     Data connections are plain";
      s += "\nEnd of status";
      co_return co_await reply(211, s);
    }
    if (!logged_in_) co_return co_await reply(530, "Please login with USER and PASS.");
    // STAT path: the listing over the control connection (RFC 959 §4.1.3), 213.
    if (!grant_.perms.allows(auth::operation::list)) co_return co_await reply(550, "Permission denied.");
    std::string path;
    if (!resolve(list_path_argument(a), path)) co_return co_await reply(553, "File name not allowed.");
    auto [ec, attrs] = co_await fs_->async_stat(path, nothrow);
    if (ec) co_return co_await reply_fs_error(ec);
    std::string text = "Status of " + std::string{list_path_argument(a)} + ":";
    if (!name_fits_line(text)) text = "Status:";
    auto now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    if (!attrs.is_directory()) {
      text += "\n" + format_list_line(to_entry(fs::path::split_last(path).second, attrs), now);
    } else {
      auto [oec, h] = co_await fs_->async_opendir(path, nothrow);
      if (oec) co_return co_await reply_fs_error(oec);
      std::size_t count = 0;
      for (bool more = true; more && count < limits::ftp_server_max_stat_entries;) {
        auto [rec, batch] = co_await fs_->async_readdir(h, nothrow);
        if (rec) break;
        for (auto& d : batch) {
          if (!name_fits_line(d.name) || ++count > limits::ftp_server_max_stat_entries) continue;
          text += "\n" + format_list_line(to_entry(d.name, d.attrs), now);
        }
        more = !batch.empty();
      }
      co_await fs_->async_close(h, nothrow);
    }
    text += "\nEnd of status";
    co_await reply(213, text);
  }

  // --- paths and navigation ---------------------------------------------------------------------

  bool resolve(std::string_view arg, std::string& out) const {
    return !fs::path::normalize(arg, cwd_, out);
  }

  awaitable<void> cmd_cwd(std::string_view a) {
    std::string path;
    if (!resolve(a, path)) co_return co_await reply(553, "File name not allowed.");
    auto [ec, attrs] = co_await fs_->async_stat(path, nothrow);
    if (ec) co_return co_await reply_fs_error(ec);
    if (!attrs.is_directory()) co_return co_await reply(550, "Not a directory.");
    cwd_ = path;
    co_await reply(250, "Directory successfully changed.");
  }

  awaitable<void> cmd_type(const std::string& a) {
    bool ascii = false;
    switch (parse_type_argument(a, ascii)) {
      case argument_status::ok:
        ascii_ = ascii;
        co_return co_await reply(200, ascii ? "Switching to ASCII mode." : "Switching to Binary mode.");
      case argument_status::unsupported: co_return co_await reply(504, "Type not supported.");
      case argument_status::syntax: break;
    }
    co_await reply(501, "Unrecognised TYPE.");
  }

  awaitable<void> cmd_rest(const std::string& a) {
    std::uint64_t v = 0;
    if (!parse_offset_argument(a, v)) co_return co_await reply(501, "REST needs a byte offset.");
    rest_ = v;
    co_await reply(350, "Restarting at " + std::to_string(v) + ". Send STOR or RETR.");
  }

  awaitable<void> cmd_rang(const std::string& a) {
    std::uint64_t s = 0, e = 0;
    if (!parse_rang_argument(a, s, e)) co_return co_await reply(501, "RANG needs start and end.");
    if (s == 1 && e == 0) {
      range_.reset();  // draft-bryan-ftp-range §3.2: reset
      co_return co_await reply(350, "Restarting at 0. End of file.");
    }
    if (e < s) co_return co_await reply(501, "RANG end before start.");
    range_ = std::pair{s, e};
    co_await reply(350, "Restarting at " + std::to_string(s) + ". Ending byte " + std::to_string(e) + ".");
  }

  // --- data connection setup (RFC 959 §4.1.2, RFC 2428) --------------------------------------------

  static boost::asio::ip::address plain_address(const boost::asio::ip::address& a) {
    if (a.is_v6() && a.to_v6().is_v4_mapped())
      return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a.to_v6());
    return a;
  }

  awaitable<void> cmd_pasv(bool extended, const std::string& a) {
    if (data_) data_->close();
    data_.reset();
    auto local = control_->local_address();
    auto plain_local = plain_address(local);
    if (extended) {
      if (a == "ALL" || a == "all") {
        epsv_all_ = true;  // RFC 2428 §4
        co_return co_await reply(200, "EPSV ALL ok.");
      }
      bool v4 = plain_local.is_v4();
      if (!a.empty() && a != (v4 ? "1" : "2"))
        co_return co_await reply(522, v4 ? "Network protocol not supported, use (1)"
                                         : "Network protocol not supported, use (2)");
    } else {
      if (epsv_all_) co_return co_await reply(503, "PASV not allowed after EPSV ALL.");
      if (!plain_local.is_v4()) co_return co_await reply(522, "PASV is IPv4 only; use EPSV.");
    }
    auto dc = std::make_shared<data_channel>(strand_, opts_.data_timeout);
    std::uint16_t port = 0;
    if (auto ec = dc->listen(local, opts_.passive_port_min, opts_.passive_port_max, port)) {
      log(server_event::kind::refusal, "no passive port free: " + ec.message());
      co_return co_await reply(425, "Cannot open passive connection.");
    }
    data_ = std::move(dc);
    if (extended) co_return co_await reply(229, format_epsv_reply_text(port));
    ipv4_endpoint e;
    auto announce = opts_.masquerade_address ? *opts_.masquerade_address : plain_local.to_v4();
    e.address = announce.to_bytes();
    e.port = port;
    co_await reply(227, format_pasv_reply_text(e));
  }

  awaitable<void> cmd_port(bool extended, const std::string& a) {
    if (data_) data_->close();
    data_.reset();
    if (epsv_all_) co_return co_await reply(503, "PORT/EPRT not allowed after EPSV ALL.");
    if (!opts_.allow_active) co_return co_await reply(502, "Active mode is disabled; use PASV or EPSV.");
    boost::asio::ip::address target;
    std::uint16_t port = 0;
    if (extended) {
      net_endpoint ne;
      if (auto ec = parse_eprt_argument(a, ne)) {
        // RFC 2428 §2: an unknown protocol is 522; a bad argument 501.
        if (a.size() > 2 && a[1] != '1' && a[1] != '2' && a[2] == a[0])
          co_return co_await reply(522, "Network protocol not supported, use (1,2)");
        co_return co_await reply(501, "Illegal EPRT command.");
      }
      if (ne.family == 1) {
        boost::asio::ip::address_v4::bytes_type b;
        std::copy_n(ne.address.begin(), 4, b.begin());
        target = boost::asio::ip::address_v4{b};
      } else {
        boost::asio::ip::address_v6::bytes_type b;
        std::copy_n(ne.address.begin(), 16, b.begin());
        target = boost::asio::ip::address_v6{b};
      }
      port = ne.port;
    } else {
      ipv4_endpoint e;
      if (parse_port_argument(a, e)) co_return co_await reply(501, "Illegal PORT command.");
      target = boost::asio::ip::address_v4{e.address};
      port = e.port;
    }
    // RFC 2577 §3: only the client's own address (no bounce to a third host) and no privileged
    // port (no bounce into a local service).
    if (plain_address(target) != plain_address(control_->remote_address())) {
      log(server_event::kind::refusal, "PORT bounce to " + target.to_string());
      co_return co_await reply(504, "PORT/EPRT to an address other than the client's is refused.");
    }
    if (port < 1024 && !opts_.allow_active_low_ports) {
      log(server_event::kind::refusal, "PORT to privileged port " + std::to_string(port));
      co_return co_await reply(504, "PORT/EPRT to a port below 1024 is refused.");
    }
    auto dc = std::make_shared<data_channel>(strand_, opts_.data_timeout);
    dc->set_active(tcp::endpoint{target, port}, control_->local_address());
    data_ = std::move(dc);
    co_await reply(200, extended ? "EPRT command successful." : "PORT command successful.");
  }

  // Establishes the prepared data connection and sends the 150 reply; false after a negative
  // reply (425/521). The data connection becomes the running transfer's.
  awaitable<bool> open_data(std::string text) {
    if (!data_) {
      co_await reply(425, "Use PORT/EPRT or PASV/EPSV first.");
      co_return false;
    }
    auto dc = std::move(data_);
    if (opts_.require_tls_data && !(prot_private_ && control_->encrypted())) {
      dc->close();
      co_await reply(521, "Data connections must be encrypted: use PROT P.");
      co_return false;
    }
    std::function<void(const tcp::endpoint&)> refused = [this](const tcp::endpoint& from) {
      log(server_event::kind::refusal,
          "passive connection from foreign address " + from.address().to_string());
    };
    auto ec = co_await dc->establish(control_->remote_address(), opts_.allow_foreign_passive,
                                     std::move(refused));
    if (ec) {
      dc->close();
      co_await reply(425, "Cannot open data connection.");
      co_return false;
    }
    co_await reply(150, text);
    if (prot_private_ && control_->encrypted()) {
      ec = co_await dc->handshake(*opts_.tls_context);
      if (ec) {
        dc->close();
        log(server_event::kind::refusal, "data TLS handshake failed: " + ec.message());
        co_await reply(425, "TLS handshake on the data connection failed.");
        co_return false;
      }
      if (opts_.require_session_reuse && !dc->reused()) {
        dc->close();
        log(server_event::kind::refusal, "data connection did not resume the TLS session");
        co_await reply(425, "Data connection must resume the control connection's TLS session.");
        co_return false;
      }
    }
    active_ = std::move(dc);
    co_return true;
  }

  template <class Body>
  void spawn_transfer(std::string verb, std::string path, Body body) {
    transfer_running_ = true;
    abort_requested_ = false;
    transfer_verb_ = std::move(verb);
    transfer_path_ = std::move(path);
    transfer_started_ = std::chrono::steady_clock::now();
    boost::asio::co_spawn(strand_,
                          transfer_task(this->shared_from_this(),
                                        std::function<awaitable<transfer_outcome>()>{std::move(body)}),
                          boost::asio::detached);
  }

  // A member coroutine rather than a coroutine lambda (whose captures live in a closure that
  // g++ 12 does not keep reliably).
  awaitable<void> transfer_task(std::shared_ptr<session> self,
                                std::function<awaitable<transfer_outcome>()> body) {
    event e;
    e.kind = event::transfer_done;
    e.outcome = co_await body();
    co_await self->events_.async_send(error_code{}, std::move(e), nothrow);
  }

  // --- RETR (RFC 959 §4.1.3, REST RFC 3659 §5) ----------------------------------------------

  awaitable<void> cmd_retr(const std::string& a) {
    auto offset = std::exchange(rest_, 0);
    auto range = std::exchange(range_, std::nullopt);
    if (!grant_.perms.allows(auth::operation::read)) co_return co_await reply(550, "Permission denied.");
    std::string path;
    if (a.empty() || !resolve(a, path)) co_return co_await reply(553, "File name not allowed.");
    auto [sec, attrs] = co_await fs_->async_stat(path, nothrow);
    if (sec) co_return co_await reply_fs_error(sec);
    if (!attrs.is_regular()) co_return co_await reply(550, "Not a plain file.");
    auto [oec, h] = co_await fs_->async_open(path, fs::open_mode::read_only(), nothrow);
    if (oec) co_return co_await reply_fs_error(oec);
    std::optional<std::uint64_t> end;
    if (range) {
      offset = range->first;
      end = range->second;
    }
    std::string text = std::string{ascii_ ? "Opening ASCII" : "Opening BINARY"} +
                       " mode data connection for " + (name_fits_line(a) ? a : "file") + " (" +
                       std::to_string(attrs.size) + " bytes).";
    if (!co_await open_data(std::move(text))) {
      co_await fs_->async_close(h, nothrow);
      co_return;
    }
    fs::handle file = h;  // (clang 14 cannot capture structured bindings)
    spawn_transfer("RETR", path, [self = this->shared_from_this(), dc = active_, file, offset, end]() {
      return self->send_file(dc, file, offset, end);
    });
  }

  awaitable<transfer_outcome> send_file(std::shared_ptr<data_channel> dc, fs::handle h,
                                        std::uint64_t offset, std::optional<std::uint64_t> end) {
    using namespace boost::asio::experimental::awaitable_operators;
    // Zero copy: a binary transfer of a local file over plain TCP goes file -> socket with
    // sendfile(2), as vsftpd does, instead of read() into a buffer and write() from it.
    if constexpr (requires(Filesystem& f, fs::handle fh) { { f.core().native_descriptor(fh) } -> std::same_as<int>; }) {
      int fd = ascii_ || dc->encrypted() ? -1 : fs_->core().native_descriptor(h);
      if (fd >= 0) {
        std::optional<std::uint64_t> count;
        if (end) count = *end >= offset ? *end - offset + 1 : 0;
        auto r = co_await dc->send_file(fd, offset, count);
        if (r.ec != boost::system::errc::not_supported || r.sent > 0) {
          co_await fs_->async_close(h, nothrow);
          transfer_outcome o;
          if (!r.ec) {
            co_await dc->finish();
            o.bytes = dc->bytes();
            o.text = "Transfer complete.";
          } else {
            dc->close();
            o = r.read_failed
                    ? transfer_outcome{451, "Local error reading the file; transfer aborted.", dc->bytes(), false}
                    : transfer_outcome{426, "Connection closed; transfer aborted.", dc->bytes(), false};
          }
          co_return o;
        }
      }
    }
    const std::size_t bs = std::max<std::size_t>(opts_.transfer_buffer_size, 4096);
    std::vector<std::uint8_t> cur(bs), next(bs);
    bytes converted;
    ascii_to_network to_net;
    bool ascii = ascii_;
    transfer_outcome o;
    std::uint64_t pos = offset;
    auto want = [&](std::uint64_t at) -> std::size_t {
      if (!end) return bs;
      if (at > *end) return 0;
      return std::size_t(std::min<std::uint64_t>(bs, *end - at + 1));
    };
    error_code rec;
    std::size_t n = 0;
    if (want(pos) > 0)
      std::tie(rec, n) = co_await fs_->async_read_at(h, pos, mutable_byte_view{cur.data(), want(pos)}, nothrow);
    for (;;) {
      if (rec == boost::asio::error::eof || (!rec && n == 0)) break;
      if (rec) {
        o = {451, "Local error reading the file; transfer aborted.", dc->bytes(), false};
        break;
      }
      pos += n;
      byte_view chunk{cur.data(), n};
      if (ascii) {
        converted.clear();
        to_net.convert(chunk, converted);
        chunk = converted;
      }
      // Overlap: the next block is read from storage while this one goes to the network.
      auto next_want = want(pos);
      error_code wec;
      std::size_t m = 0;
      if (next_want > 0) {
        auto [w, r] = co_await (dc->write(boost::asio::buffer(chunk.data(), chunk.size())) &&
                                fs_read(h, pos, mutable_byte_view{next.data(), next_want}));
        wec = w;
        std::tie(rec, m) = r;
      } else {
        wec = co_await dc->write(boost::asio::buffer(chunk.data(), chunk.size()));
        rec = {};
        m = 0;
      }
      if (wec) {
        o = {426, "Connection closed; transfer aborted.", dc->bytes(), false};
        break;
      }
      std::swap(cur, next);
      n = m;
    }
    co_await fs_->async_close(h, nothrow);
    if (o.ok) {
      co_await dc->finish();
      o.bytes = dc->bytes();
      o.text = "Transfer complete.";
    } else {
      dc->close();
    }
    co_return o;
  }

  // Storage calls as (error, count) pairs, so that they combine with network calls in `&&`.
  awaitable<std::pair<error_code, std::size_t>> fs_read(fs::handle h, std::uint64_t pos,
                                                        mutable_byte_view b) {
    auto [ec, n] = co_await fs_->async_read_at(h, pos, b, nothrow);
    co_return std::pair{ec, n};
  }
  awaitable<std::pair<error_code, std::size_t>> fs_write_all(fs::handle h, std::uint64_t pos,
                                                             byte_view b) {
    auto [ec, n] = co_await fs::async_write_all_at(*fs_, h, pos, b, nothrow);
    co_return std::pair{ec, n};
  }

  // --- STOR / APPE / STOU (RFC 959 §4.1.3) ----------------------------------------------------

  enum class store_kind { stor, appe, stou };

  awaitable<void> cmd_store(const std::string& a, store_kind kind) {
    auto offset = std::exchange(rest_, 0);
    range_.reset();
    std::string path;
    std::string arg = a;
    if (kind == store_kind::stou) {
      // RFC 959 §4.1.3 / RFC 1123 §4.1.2.9: a name unique in the directory, chosen here.
      std::array<std::uint8_t, 6> r;
      crypto::system_random().fill(r);
      static constexpr char hex[] = "0123456789abcdef";
      arg = (a.empty() ? std::string{"ferry"} : a) + ".";
      for (auto b : r) {
        arg += hex[b >> 4];
        arg += hex[b & 15];
      }
      offset = 0;
    }
    if (arg.empty() || !resolve(arg, path) || path == "/")
      co_return co_await reply(553, "File name not allowed.");
    auto [sec, attrs] = co_await fs_->async_stat(path, nothrow);
    bool exists = !sec;
    if (exists && !attrs.is_regular()) co_return co_await reply(550, "Not a plain file.");
    auto need = exists ? auth::operation::write : auth::operation::create;
    if (!grant_.perms.allows(need) || (!exists && !grant_.perms.allows(auth::operation::write)))
      co_return co_await reply(550, "Permission denied.");
    if (kind == store_kind::appe && exists) offset = attrs.size;
    if (kind == store_kind::appe && !exists) offset = 0;

    fs::open_mode mode;
    mode.write = true;
    mode.create = true;
    mode.permissions = opts_.upload_permissions;
    std::string target = path;  // what is opened
    bool atomic = kind == store_kind::stor && offset == 0 && opts_.atomic_upload &&
                  fs::has_posix_rename<Filesystem>;
    if (kind == store_kind::stou) {
      mode.exclusive = true;
    } else if (kind == store_kind::stor && offset == 0) {
      mode.truncate = true;
    }
    if (atomic) {
      // A temporary name in the same directory (the rename stays within one filesystem).
      std::array<std::uint8_t, 8> r;
      crypto::system_random().fill(r);
      static constexpr char hex[] = "0123456789abcdef";
      std::string tmp = ".ferry-upload-";
      for (auto b : r) {
        tmp += hex[b >> 4];
        tmp += hex[b & 15];
      }
      target = fs::path::join(fs::path::split_last(path).first, tmp);
      mode.exclusive = true;
      mode.truncate = false;
    }
    auto [oec, h] = co_await fs_->async_open(target, mode, nothrow);
    if (oec) co_return co_await reply_fs_error(oec);
    std::string text = kind == store_kind::stou
                           ? "FILE: " + std::string{fs::path::split_last(path).second}
                           : std::string{"Ok to send data."};
    if (!name_fits_line(text)) text = "Ok to send data.";
    if (!co_await open_data(std::move(text))) {
      co_await fs_->async_close(h, nothrow);
      if (atomic || (kind == store_kind::stou)) co_await fs_->async_remove(target, nothrow);
      co_return;
    }
    std::string verb = kind == store_kind::stor ? "STOR" : kind == store_kind::appe ? "APPE" : "STOU";
    spawn_transfer(verb, path,
                   [self = this->shared_from_this(), dc = active_, file = fs::handle{h}, offset,
                    target, path, atomic]() {
                     return self->receive_file(dc, file, offset, target, path, atomic);
                   });
  }

  awaitable<transfer_outcome> receive_file(std::shared_ptr<data_channel> dc, fs::handle h,
                                           std::uint64_t offset, std::string target,
                                           std::string final_path, bool atomic) {
    using namespace boost::asio::experimental::awaitable_operators;
    transfer_outcome o;
    std::uint64_t pos = offset;
    // Zero copy in user space: a binary upload over plain TCP to a local file goes socket ->
    // pipe -> file with splice(2) instead of recv() into a buffer and write() from it.
    if constexpr (requires(Filesystem& f, fs::handle fh) { { f.core().native_descriptor(fh) } -> std::same_as<int>; }) {
      int fd = ascii_ || dc->encrypted() ? -1 : fs_->core().native_descriptor(h);
      if (fd >= 0) {
        auto r = co_await dc->receive_file(fd, offset);
        pos += r.written;
        if (r.ec != boost::system::errc::not_supported || r.write_failed) {
          o = upload_outcome(r.ec, r.write_failed, dc->bytes());
          co_return co_await end_upload(dc, h, target, final_path, atomic, std::move(o));
        }
      }
    }
    const std::size_t bs = std::max<std::size_t>(opts_.transfer_buffer_size, 4096);
    std::vector<std::uint8_t> cur(bs), next(bs);
    bytes converted;
    ascii_to_local to_local;
    bool ascii = ascii_;
    auto [rec, n] = co_await dc->read(boost::asio::buffer(cur));
    for (;;) {
      byte_view chunk{cur.data(), n};
      bool last = rec.failed();
      if (ascii) {
        converted.clear();
        to_local.convert(chunk, converted);
        if (last) to_local.finish(converted);
        chunk = converted;
      }
      error_code wec;
      std::size_t written = 0;
      error_code next_ec;
      std::size_t m = 0;
      if (!last) {
        auto [w, r] = co_await (fs_write_all(h, pos, chunk) && dc->read(boost::asio::buffer(next)));
        std::tie(wec, written) = w;
        std::tie(next_ec, m) = r;
      } else if (!chunk.empty()) {
        std::tie(wec, written) = co_await fs::async_write_all_at(*fs_, h, pos, chunk, nothrow);
      }
      if (wec) {
        auto r = fs_error_reply(wec);
        o = {r.code == 452 ? 452 : 451, std::string{r.text} + " Transfer aborted.", dc->bytes(), false};
        break;
      }
      pos += chunk.size();
      if (last) {
        if (rec == boost::asio::error::eof) break;  // clean end (TLS: close_notify received)
        if (rec == boost::asio::ssl::error::stream_truncated) {
          // RFC 4217 §12.6: without close_notify the end of the data cannot be trusted.
          o = {426, "TLS data connection closed without close_notify; upload incomplete.",
               dc->bytes(), false};
        } else {
          o = {426, "Connection closed; transfer aborted.", dc->bytes(), false};
        }
        break;
      }
      std::swap(cur, next);
      rec = next_ec;
      n = m;
    }
    co_return co_await end_upload(dc, h, target, final_path, atomic, std::move(o));
  }

  // What a spliced upload that stopped with ec means for the client.
  transfer_outcome upload_outcome(const error_code& ec, bool write_failed, std::uint64_t n) {
    if (!ec) return {};
    if (write_failed) {
      auto r = fs_error_reply(ec);
      return {r.code == 452 ? 452 : 451, std::string{r.text} + " Transfer aborted.", n, false};
    }
    return {426, "Connection closed; transfer aborted.", n, false};
  }

  // Closes the file and the data connection; renames an atomic upload into place when it
  // completed, removes it when not.
  awaitable<transfer_outcome> end_upload(std::shared_ptr<data_channel> dc, fs::handle h,
                                         std::string target, std::string final_path, bool atomic,
                                         transfer_outcome o) {
    co_await fs_->async_close(h, nothrow);
    if (o.ok) {
      co_await dc->finish();
      if (atomic) {
        auto [ren] = co_await fs::async_posix_rename(*fs_, target, final_path, nothrow);
        if (ren) {
          co_await fs_->async_remove(target, nothrow);
          auto r = fs_error_reply(ren);
          o = {r.code, std::string{r.text}, dc->bytes(), false};
          co_return o;
        }
      }
      o.bytes = dc->bytes();
      o.text = "Transfer complete.";
    } else {
      dc->close();
      if (atomic) co_await fs_->async_remove(target, nothrow);
    }
    co_return o;
  }

  // --- listings (RFC 959 §4.1.3 LIST/NLST, RFC 3659 §7 MLSD) --------------------------------

  enum class listing_kind { list, nlst, mlsd };

  static entry_type type_of(const fs::attributes& a) {
    if (a.is_directory()) return entry_type::directory;
    if (a.is_regular()) return entry_type::file;
    if (a.is_symlink()) return entry_type::symlink;
    return entry_type::other;
  }

  entry to_entry(std::string_view name, const fs::attributes& a) const {
    entry e;
    e.name = std::string{name};
    e.type = type_of(a);
    e.size = a.size;
    e.modified = std::chrono::sys_seconds{std::chrono::seconds{a.mtime}};
    e.mode = a.permissions & 07777;
    e.owner = a.owner ? *a.owner : std::to_string(a.uid);
    e.group = a.group ? *a.group : std::to_string(a.gid);
    return e;
  }

  // RFC 3659 §7.5.5 perm fact, from what this user may do.
  std::string perm_fact(const fs::attributes& a) const {
    using op = auth::operation;
    auto& p = grant_.perms;
    std::string s;
    if (a.is_directory()) {
      if (p.allows(op::read)) s += 'e';
      if (p.allows(op::list)) s += 'l';
      if (p.allows(op::create)) s += 'c';
      if (p.allows(op::mkdir)) s += 'm';
      if (p.allows(op::rmdir)) s += 'd';
      if (p.allows(op::rename)) s += 'f';
      if (p.allows(op::remove)) s += 'p';
    } else {
      if (p.allows(op::write)) s += 'a';
      if (p.allows(op::remove)) s += 'd';
      if (p.allows(op::rename)) s += 'f';
      if (p.allows(op::read)) s += 'r';
      if (p.allows(op::write)) s += 'w';
    }
    return s;
  }

  std::string mlsx_line(std::string_view name, const fs::attributes& a) const {
    auto e = to_entry(name, a);
    if (!facts_.size) e.size.reset();
    if (!facts_.modify) e.modified.reset();
    if (!facts_.unix_mode) e.mode.reset();
    if (facts_.perm) e.facts.emplace_back("perm", perm_fact(a));
    return format_mlsx_line(e);
  }

  std::string listing_line(listing_kind k, std::string_view name, const fs::attributes& a,
                           std::chrono::sys_seconds now) const {
    switch (k) {
      case listing_kind::nlst: return std::string{name};
      case listing_kind::mlsd: return mlsx_line(name, a);
      case listing_kind::list: break;
    }
    return format_list_line(to_entry(name, a), now);
  }

  awaitable<void> cmd_list(const std::string& a, listing_kind kind) {
    range_.reset();
    rest_ = 0;
    if (!grant_.perms.allows(auth::operation::list)) co_return co_await reply(550, "Permission denied.");
    std::string_view arg = kind == listing_kind::mlsd ? std::string_view{a} : list_path_argument(a);
    std::string path;
    if (!resolve(arg, path)) co_return co_await reply(553, "File name not allowed.");
    auto [sec, attrs] = co_await fs_->async_stat(path, nothrow);
    if (sec) co_return co_await reply_fs_error(sec);
    std::optional<fs::handle> dir;
    std::string single;
    auto now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    if (attrs.is_directory()) {
      auto [oec, h] = co_await fs_->async_opendir(path, nothrow);
      if (oec) co_return co_await reply_fs_error(oec);
      dir = h;
    } else {
      // RFC 3659 §7.2: MLSD names a directory; LIST and NLST of a file list that file.
      if (kind == listing_kind::mlsd) co_return co_await reply(501, "MLSD needs a directory.");
      auto name = fs::path::split_last(path).second;
      if (name_fits_line(name)) single = listing_line(kind, name, attrs, now) + "\r\n";
    }
    if (!co_await open_data("Here comes the directory listing.")) {
      if (dir) co_await fs_->async_close(*dir, nothrow);
      co_return;
    }
    spawn_transfer(kind == listing_kind::mlsd ? "MLSD" : kind == listing_kind::nlst ? "NLST" : "LIST",
                   path,
                   [self = this->shared_from_this(), dc = active_, dir, single, kind, now]() {
                     return self->send_listing(dc, dir, single, kind, now);
                   });
  }

  awaitable<transfer_outcome> send_listing(std::shared_ptr<data_channel> dc,
                                           std::optional<fs::handle> dir, std::string text,
                                           listing_kind kind, std::chrono::sys_seconds now) {
    transfer_outcome o;
    error_code wec;
    if (dir) {
      // Streamed in blocks: a directory of any size costs a bounded amount of memory.
      for (;;) {
        auto [rec, batch] = co_await fs_->async_readdir(*dir, nothrow);
        if (rec == boost::asio::error::eof || (!rec && batch.empty())) break;
        if (rec) {
          o = {451, "Local error reading the directory.", dc->bytes(), false};
          break;
        }
        for (auto& d : batch) {
          // A name with CR or LF would forge listing lines; it is left out.
          if (!name_fits_line(d.name)) continue;
          text += listing_line(kind, d.name, d.attrs, now);
          text += "\r\n";
        }
        if (text.size() >= 64 * 1024) {
          if ((wec = co_await dc->write(boost::asio::buffer(text)))) break;
          text.clear();
        }
      }
      co_await fs_->async_close(*dir, nothrow);
    }
    if (!wec && o.ok && !text.empty()) wec = co_await dc->write(boost::asio::buffer(text));
    if (wec) o = {426, "Connection closed; transfer aborted.", dc->bytes(), false};
    if (o.ok) {
      co_await dc->finish();
      o.bytes = dc->bytes();
      o.text = "Directory send OK.";
    } else {
      dc->close();
    }
    co_return o;
  }

  awaitable<void> cmd_mlst(const std::string& a) {
    if (!grant_.perms.allows(auth::operation::read)) co_return co_await reply(550, "Permission denied.");
    std::string path;
    if (!resolve(a, path)) co_return co_await reply(553, "File name not allowed.");
    auto [ec, attrs] = co_await fs_->async_stat(path, nothrow);
    if (ec) co_return co_await reply_fs_error(ec);
    // RFC 3659 §7.2: "250-" text, one line " facts pathname", "250 End".
    co_await reply(250, "Listing " + path + "\n " + mlsx_line(path, attrs) + "\nEnd");
  }

  awaitable<void> cmd_size(const std::string& a) {
    if (!grant_.perms.allows(auth::operation::read)) co_return co_await reply(550, "Permission denied.");
    std::string path;
    if (a.empty() || !resolve(a, path)) co_return co_await reply(553, "File name not allowed.");
    auto [ec, attrs] = co_await fs_->async_stat(path, nothrow);
    if (ec) co_return co_await reply_fs_error(ec);
    if (!attrs.is_regular()) co_return co_await reply(550, "Could not get file size.");
    co_await reply(213, std::to_string(attrs.size));  // RFC 3659 §4.2
  }

  awaitable<void> cmd_mdtm(const std::string& a) {
    if (!grant_.perms.allows(auth::operation::read)) co_return co_await reply(550, "Permission denied.");
    std::string path;
    if (a.empty() || !resolve(a, path)) co_return co_await reply(553, "File name not allowed.");
    auto [ec, attrs] = co_await fs_->async_stat(path, nothrow);
    if (ec) co_return co_await reply_fs_error(ec);
    co_await reply(213, format_mlsx_time(std::chrono::sys_seconds{std::chrono::seconds{attrs.mtime}}));
  }

  awaitable<void> cmd_mfmt(const std::string& a) {
    std::chrono::sys_seconds when;
    std::string arg;
    if (!parse_mfmt_argument(a, when, arg)) co_return co_await reply(501, "MFMT needs a time and a path.");
    if (!grant_.perms.allows(auth::operation::write)) co_return co_await reply(550, "Permission denied.");
    std::string path;
    if (!resolve(arg, path)) co_return co_await reply(553, "File name not allowed.");
    fs::set_attributes s;
    s.mtime = when.time_since_epoch().count();
    auto [ec] = co_await fs::async_setstat(*fs_, path, s, nothrow);
    if (ec) co_return co_await reply_fs_error(ec);
    // (No conditional operator inside co_await: g++ 12 destroys such temporaries twice.)
    std::string shown = name_fits_line(arg) ? arg : std::string{};
    co_await reply(213, "Modify=" + format_mlsx_time(when) + "; " + shown);
  }

  enum class simple_kind { dele, rmd, mkd };

  awaitable<void> cmd_simple(const std::string& a, simple_kind k) {
    using op = auth::operation;
    auto need = k == simple_kind::dele ? op::remove : k == simple_kind::rmd ? op::rmdir : op::mkdir;
    if (!grant_.perms.allows(need)) co_return co_await reply(550, "Permission denied.");
    std::string path;
    if (a.empty() || !resolve(a, path) || path == "/")
      co_return co_await reply(553, "File name not allowed.");
    error_code ec;
    switch (k) {
      case simple_kind::dele: std::tie(ec) = co_await fs_->async_remove(path, nothrow); break;
      case simple_kind::rmd: std::tie(ec) = co_await fs_->async_rmdir(path, nothrow); break;
      case simple_kind::mkd:
        std::tie(ec) = co_await fs_->async_mkdir(path, opts_.mkdir_permissions, nothrow);
        break;
    }
    if (ec) co_return co_await reply_fs_error(ec);
    switch (k) {
      case simple_kind::dele: co_return co_await reply(250, "Delete operation successful.");
      case simple_kind::rmd: co_return co_await reply(250, "Remove directory operation successful.");
      case simple_kind::mkd: break;
    }
    co_await reply(257, format_pathname_reply_text(path, "created"));
  }

  awaitable<void> cmd_rnfr(const std::string& a) {
    rename_from_.reset();
    if (!grant_.perms.allows(auth::operation::rename)) co_return co_await reply(550, "Permission denied.");
    std::string path;
    if (a.empty() || !resolve(a, path) || path == "/")
      co_return co_await reply(553, "File name not allowed.");
    auto [ec, attrs] = co_await fs::async_lstat(*fs_, path, nothrow);
    if (ec == ferry::errc::unsupported) std::tie(ec, attrs) = co_await fs_->async_stat(path, nothrow);
    if (ec) co_return co_await reply_fs_error(ec);
    rename_from_ = path;
    co_await reply(350, "Ready for RNTO.");
  }

  awaitable<void> cmd_rnto(const std::string& a) {
    auto from = std::exchange(rename_from_, std::nullopt);
    if (!from) co_return co_await reply(503, "RNFR required first.");
    std::string path;
    if (a.empty() || !resolve(a, path) || path == "/")
      co_return co_await reply(553, "File name not allowed.");
    // rename(2) semantics (replace) where the backend has it, as other servers do.
    auto [ec] = co_await fs::async_posix_rename(*fs_, *from, path, nothrow);
    if (ec == ferry::errc::unsupported) std::tie(ec) = co_await fs_->async_rename(*from, path, nothrow);
    if (ec) co_return co_await reply_fs_error(ec);
    co_await reply(250, "Rename successful.");
  }

  awaitable<void> cmd_site(const std::string& a) {
    auto sp = a.find(' ');
    std::string sub;
    for (char ch : a.substr(0, sp)) sub += static_cast<char>(ch >= 'a' && ch <= 'z' ? ch - 32 : ch);
    if (sub == "HELP") co_return co_await reply(214, "SITE commands: CHMOD HELP");
    if (sub != "CHMOD") co_return co_await reply(504, "Unknown SITE command.");
    std::uint32_t mode = 0;
    std::string arg;
    if (sp == std::string::npos || !parse_chmod_argument(a.substr(sp + 1), mode, arg))
      co_return co_await reply(501, "SITE CHMOD needs an octal mode and a path.");
    if (!grant_.perms.allows(auth::operation::write)) co_return co_await reply(550, "Permission denied.");
    std::string path;
    if (!resolve(arg, path)) co_return co_await reply(553, "File name not allowed.");
    fs::set_attributes s;
    s.permissions = mode & 07777;
    auto [ec] = co_await fs::async_setstat(*fs_, path, s, nothrow);
    if (ec) co_return co_await reply_fs_error(ec);
    co_await reply(200, "SITE CHMOD command ok.");
  }

  // HASH (draft-bryan-ftpext-hash-02): the digest of a file, or of the RANG range.
  awaitable<void> cmd_hash(const std::string& a) {
    auto range = std::exchange(range_, std::nullopt);
    if (!grant_.perms.allows(auth::operation::read)) co_return co_await reply(550, "Permission denied.");
    std::string path;
    if (a.empty() || !resolve(a, path)) co_return co_await reply(553, "File name not allowed.");
    auto [sec, attrs] = co_await fs_->async_stat(path, nothrow);
    if (sec) co_return co_await reply_fs_error(sec);
    if (!attrs.is_regular()) co_return co_await reply(550, "Not a plain file.");
    auto [oec, h] = co_await fs_->async_open(path, fs::open_mode::read_only(), nothrow);
    if (oec) co_return co_await reply_fs_error(oec);
    crypto::hash_alg alg = crypto::hash_alg::sha256;
    switch (hash_) {
      case hash_name::sha1: alg = crypto::hash_alg::sha1; break;
      case hash_name::sha256: alg = crypto::hash_alg::sha256; break;
      case hash_name::sha512: alg = crypto::hash_alg::sha512; break;
      case hash_name::md5: alg = crypto::hash_alg::md5; break;
    }
    crypto::hasher hs{alg};
    std::uint64_t start = range ? range->first : 0;
    std::uint64_t stop = range ? std::min<std::uint64_t>(range->second + 1, attrs.size) : attrs.size;
    std::vector<std::uint8_t> buf(256 * 1024);
    std::uint64_t pos = start;
    error_code rec;
    while (pos < stop) {
      auto want = std::size_t(std::min<std::uint64_t>(buf.size(), stop - pos));
      std::size_t n = 0;
      std::tie(rec, n) = co_await fs_->async_read_at(h, pos, mutable_byte_view{buf.data(), want}, nothrow);
      if (rec == boost::asio::error::eof || (!rec && n == 0)) {
        rec = {};
        break;
      }
      if (rec) break;
      hs.update(byte_view{buf.data(), n});
      pos += n;
    }
    co_await fs_->async_close(h, nothrow);
    if (rec) co_return co_await reply(451, "Local error reading the file.");
    auto digest = hs.final();
    static constexpr char hex[] = "0123456789abcdef";
    std::string hx;
    for (auto b : digest) {
      hx += hex[b >> 4];
      hx += hex[b & 15];
    }
    std::uint64_t last = pos > start ? pos - 1 : start;
    std::string shown = name_fits_line(a) ? a : path;
    co_await reply(213, format_hash_reply_text(hash_, start, last, hx, shown));
  }

  // --- state ------------------------------------------------------------------------------------

  boost::asio::any_io_executor strand_;
  std::shared_ptr<state_type> st_;
  const server_options& opts_;
  std::unique_ptr<control_channel> control_;
  bool implicit_tls_;
  std::function<void()> release_;
  event_channel events_;
  signal_channel resume_;
  boost::asio::steady_timer timer_;
  std::string peer_;

  bool quit_ = false;
  std::string disconnect_reason_;
  std::chrono::steady_clock::time_point login_deadline_;
  std::uint64_t timer_generation_ = 0;
  unsigned unknown_before_login_ = 0;
  unsigned login_failures_ = 0;

  std::string pending_user_;
  std::string user_;
  bool logged_in_ = false;
  auth::grant grant_;
  std::optional<Filesystem> fs_;
  std::string cwd_ = "/";

  bool pbsz_ = false;
  bool prot_private_ = false;
  bool ascii_ = false;
  bool epsv_all_ = false;
  std::uint64_t rest_ = 0;
  std::optional<std::pair<std::uint64_t, std::uint64_t>> range_;
  std::optional<std::string> rename_from_;
  mlst_facts facts_;
  hash_name hash_ = hash_name::sha256;

  std::shared_ptr<data_channel> data_;    // prepared by PASV/EPSV/PORT/EPRT
  std::shared_ptr<data_channel> active_;  // the running transfer's
  bool transfer_running_ = false;
  bool abort_requested_ = false;
  std::string transfer_verb_;
  std::string transfer_path_;
  std::chrono::steady_clock::time_point transfer_started_;
  std::deque<ftp::command> deferred_;
};

}  // namespace ferry::ftp

FERRY_COROUTINE_NO_SANITIZE_FUNCTION_END
