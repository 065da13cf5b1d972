// ftp::client: an FTP/FTPS client on Boost.Asio (RFC 959, 2228, 2389, 2428, 3659, 4217).
//
//   asio::ssl::context tls{asio::ssl::context::tls_client};
//   tls.set_default_verify_paths();
//   tls.set_verify_mode(asio::ssl::verify_peer);   // the certificate must also name the host
//   ftp::client_options opts;
//   opts.tls = ftp::tls_mode::explicit_tls;
//   opts.tls_context = &tls;
//   ftp::client c{ioc.get_executor(), opts};
//   co_await c.async_connect("ftp.example.org", 21, asio::use_awaitable);
//   co_await c.async_login("user", "secret", asio::use_awaitable);
//   auto entries = co_await c.async_list("pub", asio::use_awaitable);
//   co_await c.async_download("pub/file", "file", /*resume=*/true, asio::use_awaitable);
//   co_await c.async_quit(asio::use_awaitable);
//
// Every initiating function takes any completion token. Failures are error_codes: ftp::errc for
// protocol violations, the reply category (value = the reply code, conditions reply_class::transient
// / permanent) for negative replies, whose full text is last_reply(). Operations run one at a time
// on one control connection; cancelling one (per-operation cancellation slot) leaves the connection
// in an unknown state, so close it.
//
// Data connections are passive by default: EPSV, and PASV if the server refuses EPSV; the address
// in a 227 reply is ignored and the control connection's peer used instead (a 227 that points
// elsewhere is how FTP bounce and NAT confusion happen). Active mode (EPRT, PORT for IPv4 servers
// that refuse EPRT) accepts only a connection from the control connection's peer. With TLS, every
// data connection resumes the control connection's TLS session (RFC 4217 §10.2) and ends with
// close_notify.
#pragma once

#include <ferry/core/bytes.hpp>
#include <ferry/ftp/error.hpp>
#include <ferry/ftp/proto/feat.hpp>
#include <ferry/ftp/proto/listing.hpp>
#include <ferry/ftp/proto/reply.hpp>
#include <ferry/ftp/proto/server_arguments.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ferry::ftp {

enum class tls_mode {
  none,
  explicit_tls,  // AUTH TLS on the plain control connection (RFC 4217 §4)
  implicit_tls,  // TLS from the first byte (port 990 by convention)
};

struct client_options {
  tls_mode tls = tls_mode::none;
  // Required unless tls is none; the caller sets verification (the tests use verify_none against a
  // self-signed certificate). Must outlive the client.
  boost::asio::ssl::context* tls_context = nullptr;
  // Server name for SNI and certificate checks; empty: the host passed to async_connect.
  std::string server_name;
  // Check that the server certificate names that host (a DNS name, or an IP address against the
  // certificate's IP SANs). Effective when tls_context verifies peers (ssl::verify_peer).
  bool verify_server_name = true;
  bool passive = true;
  // Try EPSV / EPRT (RFC 2428) before PASV / PORT.
  bool extended = true;
  // PROT P (private data connections) when TLS is on; PROT C leaves them in plaintext.
  bool protect_data = true;
  // Offer the control connection's TLS session on data connections (RFC 4217 §10.2). Servers
  // like vsftpd (require_ssl_reuse) refuse data connections without it; turn off only to test.
  bool reuse_tls_session = true;
  // How long to wait for each reply on the control connection; zero waits forever. A timeout
  // fails the operation with asio::error::timed_out (close the client then).
  std::chrono::milliseconds reply_timeout{std::chrono::seconds{60}};
  // How long to wait for a data connection (connect or accept) and for a TLS close_notify.
  std::chrono::milliseconds data_timeout{std::chrono::seconds{30}};
};

// Called with each chunk of a download; an error aborts the transfer.
using data_sink = std::function<error_code(byte_view)>;
// Fills the buffer with upload data, returns the count; 0 means end of data.
using data_source = std::function<std::size_t(mutable_byte_view, error_code&)>;
// Called after each chunk with the bytes moved so far in this transfer (offset not included).
using progress_handler = std::function<void(std::uint64_t)>;

struct transfer_options {
  std::uint64_t offset = 0;  // REST offset (RFC 3659 §5): resume from here
  bool ascii = false;        // TYPE A with CR LF <-> LF conversion (RFC 959 §3.1.1.1)
  progress_handler progress;
};

// What HASH asks for: the algorithm (OPTS HASH; empty: the server's current one) and an inclusive
// byte range (RANG; empty: the whole file).
struct hash_options {
  std::optional<hash_name> algorithm;
  std::optional<std::pair<std::uint64_t, std::uint64_t>> range;
};

class client {
 public:
  using executor_type = boost::asio::any_io_executor;
  using tcp = boost::asio::ip::tcp;
  using tls_stream = boost::asio::ssl::stream<tcp::socket>;

  explicit client(executor_type ex, client_options opts = {});
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  executor_type get_executor() const noexcept { return ex_; }

  // The last reply read on the control connection (for the text of a negative reply).
  const reply& last_reply() const noexcept { return last_; }
  // FEAT as read after login (RFC 2389).
  const features& server_features() const noexcept { return feat_; }
  // Whether the control connection runs TLS, and whether the last TLS data connection resumed it.
  bool control_encrypted() const noexcept { return control_tls_ != nullptr; }
  bool last_data_session_reused() const noexcept { return last_data_reused_; }
  // The control connection's socket (e.g. to read its endpoints or set options).
  tcp::socket& control_socket() noexcept;
  void close() noexcept;

  // Connects, reads the greeting and, for explicit TLS, negotiates AUTH TLS.
  template <class Token>
  auto async_connect(std::string host, std::uint16_t port, Token&& token) {
    return launch(do_connect(std::move(host), port), std::forward<Token>(token));
  }
  // Connects to one endpoint (no resolver). There is no host name here: set
  // client_options::server_name for SNI and the certificate name check.
  template <class Token>
  auto async_connect(tcp::endpoint ep, Token&& token) {
    return launch(do_connect_endpoint(ep, {}), std::forward<Token>(token));
  }
  // USER/PASS, then PBSZ 0 and PROT P with TLS, TYPE I, FEAT.
  template <class Token>
  auto async_login(std::string user, std::string password, Token&& token) {
    return launch(do_login(std::move(user), std::move(password)), std::forward<Token>(token));
  }

  // Directory listing: MLSD (RFC 3659 §7) when offered, LIST otherwise or if MLSD is refused.
  // "." and ".." are left out.
  template <class Token>
  auto async_list(std::string path, Token&& token) {
    return launch<std::vector<entry>>(do_list(std::move(path)), std::forward<Token>(token));
  }
  // NLST (RFC 959 §4.1.3): names only.
  template <class Token>
  auto async_name_list(std::string path, Token&& token) {
    return launch<std::vector<std::string>>(do_name_list(std::move(path)),
                                            std::forward<Token>(token));
  }

  // Streaming RETR / STOR; complete with the number of bytes moved.
  template <class Token>
  auto async_retrieve(std::string path, data_sink sink, transfer_options opts, Token&& token) {
    return launch<std::uint64_t>(do_retrieve(std::move(path), std::move(sink), std::move(opts)),
                                 std::forward<Token>(token));
  }
  template <class Token>
  auto async_store(std::string path, data_source source, transfer_options opts, Token&& token) {
    return launch<std::uint64_t>(
        do_store("STOR", std::move(path), std::move(source), std::move(opts)),
        std::forward<Token>(token));
  }
  // APPE (RFC 959 §4.1.3): append to the remote file.
  template <class Token>
  auto async_append(std::string path, data_source source, transfer_options opts, Token&& token) {
    return launch<std::uint64_t>(
        do_store("APPE", std::move(path), std::move(source), std::move(opts)),
        std::forward<Token>(token));
  }
  // Local file <-> remote file. resume: download continues from the local file's size; upload
  // asks SIZE and continues from there with REST + STOR.
  template <class Token>
  auto async_download(std::string remote, std::string local, bool resume, Token&& token) {
    return launch<std::uint64_t>(do_download(std::move(remote), std::move(local), resume, {}),
                                 std::forward<Token>(token));
  }
  template <class Token>
  auto async_upload(std::string local, std::string remote, bool resume, Token&& token) {
    return launch<std::uint64_t>(do_upload(std::move(local), std::move(remote), resume, {}),
                                 std::forward<Token>(token));
  }

  template <class Token>
  auto async_size(std::string path, Token&& token) {
    return launch<std::uint64_t>(do_size(std::move(path)), std::forward<Token>(token));
  }
  // MDTM (RFC 3659 §3): modification time, UTC.
  template <class Token>
  auto async_modified(std::string path, Token&& token) {
    return launch<std::chrono::sys_seconds>(do_mdtm(std::move(path)), std::forward<Token>(token));
  }
  // MKD; completes with the created directory's name from the 257 reply (or path if absent).
  template <class Token>
  auto async_mkdir(std::string path, Token&& token) {
    return launch<std::string>(do_mkd(std::move(path)), std::forward<Token>(token));
  }
  template <class Token>
  auto async_rmdir(std::string path, Token&& token) {
    return launch(do_simple("RMD", std::move(path), 2), std::forward<Token>(token));
  }
  template <class Token>
  auto async_remove(std::string path, Token&& token) {
    return launch(do_simple("DELE", std::move(path), 2), std::forward<Token>(token));
  }
  template <class Token>
  auto async_rename(std::string from, std::string to, Token&& token) {
    return launch(do_rename(std::move(from), std::move(to)), std::forward<Token>(token));
  }
  template <class Token>
  auto async_cwd(std::string path, Token&& token) {
    return launch(do_simple("CWD", std::move(path), 2), std::forward<Token>(token));
  }
  template <class Token>
  auto async_pwd(Token&& token) {
    return launch<std::string>(do_pwd(), std::forward<Token>(token));
  }
  template <class Token>
  auto async_noop(Token&& token) {
    return launch(do_simple("NOOP", {}, 2), std::forward<Token>(token));
  }
  // QUIT, then closes the connection.
  template <class Token>
  auto async_quit(Token&& token) {
    return launch(do_quit(), std::forward<Token>(token));
  }
  // HASH (draft-bryan-ftpext-hash-02): the server computes the digest of a file (SHA-1,
  // SHA-256, SHA-512 or MD5), or of a byte range, and says which bytes it hashed.
  template <class Token>
  auto async_hash(std::string path, hash_options opts, Token&& token) {
    return launch<hash_reply>(do_hash(std::move(path), std::move(opts)), std::forward<Token>(token));
  }
  // Any command; completes with the reply, whatever its code (error only for I/O and protocol).
  template <class Token>
  auto async_command(std::string verb, std::string argument, Token&& token) {
    return launch<reply>(do_raw(std::move(verb), std::move(argument)), std::forward<Token>(token));
  }

 private:
  template <class T>
  using result = std::pair<error_code, T>;
  template <class T>
  using awaitable = boost::asio::awaitable<T, executor_type>;

  struct data_connection;

  // Runs body on the client's executor and completes token with (error_code[, T]). Cancellation
  // and the handler's executor carry over (co_spawn binds the handler's cancellation slot).
  template <class Token>
  auto launch(awaitable<error_code> body, Token&& token) {
    return boost::asio::async_initiate<Token, void(error_code)>(
        [ex = ex_](auto handler, awaitable<error_code> b) {
          auto slot = boost::asio::get_associated_cancellation_slot(handler);
          auto hex = boost::asio::get_associated_executor(handler, ex);
          boost::asio::co_spawn(
              ex, std::move(b),
              boost::asio::bind_cancellation_slot(
                  slot, boost::asio::bind_executor(
                            hex, [h = std::move(handler)](std::exception_ptr e,
                                                          error_code ec) mutable {
                              if (e) std::rethrow_exception(e);
                              std::move(h)(ec);
                            })));
        },
        token, std::move(body));
  }

  template <class T, class Token>
  auto launch(awaitable<result<T>> body, Token&& token) {
    return boost::asio::async_initiate<Token, void(error_code, T)>(
        [ex = ex_](auto handler, awaitable<result<T>> b) {
          auto slot = boost::asio::get_associated_cancellation_slot(handler);
          auto hex = boost::asio::get_associated_executor(handler, ex);
          boost::asio::co_spawn(
              ex, std::move(b),
              boost::asio::bind_cancellation_slot(
                  slot, boost::asio::bind_executor(
                            hex, [h = std::move(handler)](std::exception_ptr e,
                                                          result<T> r) mutable {
                              if (e) std::rethrow_exception(e);
                              std::move(h)(r.first, std::move(r.second));
                            })));
        },
        token, std::move(body));
  }

  // Operation bodies (src/ftp/client.cpp).
  awaitable<error_code> do_connect(std::string host, std::uint16_t port);
  awaitable<error_code> do_connect_endpoint(tcp::endpoint ep, std::string host);
  awaitable<error_code> greet(std::string host);
  awaitable<error_code> do_login(std::string user, std::string password);
  awaitable<result<std::vector<entry>>> do_list(std::string path);
  awaitable<result<std::vector<std::string>>> do_name_list(std::string path);
  awaitable<result<std::uint64_t>> do_retrieve(std::string path, data_sink sink,
                                               transfer_options opts);
  awaitable<result<std::uint64_t>> do_store(const char* verb, std::string path,
                                            data_source source, transfer_options opts);
  awaitable<result<std::uint64_t>> do_download(std::string remote, std::string local, bool resume,
                                               progress_handler progress);
  awaitable<result<std::uint64_t>> do_upload(std::string local, std::string remote, bool resume,
                                             progress_handler progress);
  awaitable<result<std::uint64_t>> do_size(std::string path);
  awaitable<result<std::chrono::sys_seconds>> do_mdtm(std::string path);
  awaitable<result<std::string>> do_mkd(std::string path);
  awaitable<result<std::string>> do_pwd();
  awaitable<error_code> do_rename(std::string from, std::string to);
  awaitable<error_code> do_simple(const char* verb, std::string argument, int want_kind);
  awaitable<error_code> do_quit();
  awaitable<result<reply>> do_raw(std::string verb, std::string argument);
  awaitable<result<hash_reply>> do_hash(std::string path, hash_options opts);

  // Forgets everything about a previous connection (a client may connect again).
  void reset_session();
  // SNI and the certificate name check on a control or data connection's SSL handle.
  void prepare_tls(ssl_st* ssl);

  // Control-connection steps.
  awaitable<error_code> send_command(std::string_view verb, std::string_view argument);
  awaitable<error_code> read_reply(reply& r);
  awaitable<error_code> command(std::string_view verb, std::string_view argument, reply& r);
  awaitable<error_code> start_tls_control();
  awaitable<error_code> set_type(bool ascii);

  // Data-connection steps: open (EPSV/PASV or EPRT/PORT), send the transfer command and read its
  // preliminary reply, then accept/handshake; the final reply is read by finish_transfer.
  awaitable<error_code> open_data(data_connection& dc);
  awaitable<error_code> start_transfer(data_connection& dc, std::string_view verb,
                                       std::string_view argument);
  awaitable<error_code> finish_transfer(data_connection& dc, error_code transfer_ec);
  awaitable<error_code> abandon_transfer(data_connection& dc, error_code setup_ec);
  awaitable<result<std::uint64_t>> receive(data_connection& dc, const data_sink& sink,
                                           const progress_handler& progress);
  awaitable<result<std::uint64_t>> send(data_connection& dc, const data_source& source,
                                        const progress_handler& progress);
  awaitable<result<bytes>> receive_all(std::string_view verb, std::string_view argument);

  executor_type ex_;
  client_options opts_;
  tcp::socket control_;
  std::unique_ptr<tls_stream> control_tls_;
  boost::asio::steady_timer reply_timer_;
  std::uint64_t read_generation_ = 0;  // tells a late timer from the current read's
  bool reply_timed_out_ = false;
  std::string rbuf_;  // control bytes read but not parsed yet
  reply_parser parser_;
  reply last_;
  features feat_;
  std::string server_name_;  // for SNI (never an IP literal, RFC 6066 §3)
  std::string peer_name_;    // what the certificate must name
  bool epsv_refused_ = false;
  bool eprt_refused_ = false;
  bool mlsd_refused_ = false;
  bool binary_ = false;
  bool logged_in_ = false;
  bool last_data_reused_ = false;
};

}  // namespace ferry::ftp
