#include <ferry/ftp/detail/coroutine_sanitize.hpp>

FERRY_COROUTINE_NO_SANITIZE_FUNCTION_BEGIN

#include <ferry/crypto/tls.hpp>
#include <ferry/ftp/client.hpp>
#include <ferry/ftp/proto/address.hpp>
#include <ferry/ftp/proto/ascii.hpp>
#include <ferry/ftp/proto/command.hpp>
#include <ferry/ftp/proto/values.hpp>
#include <ferry/io/tls_stream.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>

namespace ferry::ftp {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;

namespace {

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable_t<client::executor_type>{});
// Data connections move this much per read or write; downloads fill the whole buffer (async_read)
// before handing it on, whatever one read returns (with TLS, the records that have arrived).
constexpr std::size_t data_buffer_size = 256 * 1024;

bool end_of_stream(const error_code& ec) {
  return ec == asio::error::eof || ec == ssl::error::stream_truncated;
}

// A negative or otherwise unwanted reply as an error_code (value = the reply code).
error_code unwanted(const reply& r) { return make_reply_error(r.code); }

// Cancels whatever waits on `target` when the timer fires first; harmless once it is destroyed.
template <class Cancellable>
void arm(asio::steady_timer& t, std::chrono::milliseconds d, Cancellable& target) {
  t.expires_after(d);
  t.async_wait([&target](error_code ec) {
    if (!ec) target.cancel();
  });
}

}  // namespace

struct client::data_connection {
  explicit data_connection(executor_type ex) : socket(ex), timer(ex) {}
  tcp::socket socket;
  std::optional<tcp::acceptor> acceptor;  // active mode: where the server connects
  // TLS on data connections reads the socket directly, many records per recv() (bulk data).
  std::unique_ptr<io::tls_stream> tls;
  asio::steady_timer timer;
  bool ascii = false;
  bool started = false;  // the transfer command got its 1yz: a final reply will follow

  tcp::socket& lowest() { return tls ? tls->next_layer() : socket; }
  void close() {
    error_code ignored;
    lowest().close(ignored);
    if (acceptor) acceptor->close(ignored);
  }
};

client::client(executor_type ex, client_options opts)
    : ex_(ex), opts_(std::move(opts)), control_(ex), reply_timer_(ex) {}

client::~client() { close(); }

client::tcp::socket& client::control_socket() noexcept {
  return control_tls_ ? control_tls_->next_layer() : control_;
}

void client::close() noexcept {
  error_code ignored;
  control_socket().close(ignored);
  logged_in_ = false;
}

// --- control connection ---------------------------------------------------------------------

client::awaitable<error_code> client::send_command(std::string_view verb,
                                                   std::string_view argument) {
  std::string line;
  if (auto ec = serialize_command(verb, argument, line)) co_return ec;
  error_code ec;
  if (control_tls_)
    std::tie(ec, std::ignore) = co_await asio::async_write(*control_tls_, asio::buffer(line), nothrow);
  else
    std::tie(ec, std::ignore) = co_await asio::async_write(control_, asio::buffer(line), nothrow);
  co_return ec;
}

client::awaitable<error_code> client::read_reply(reply& r) {
  std::array<char, 4096> buf;
  for (;;) {
    error_code ec;
    auto used = parser_.feed(rbuf_, ec);
    rbuf_.erase(0, used);
    if (ec) co_return ec;
    if (parser_.has_reply()) {
      r = parser_.take();
      last_ = r;
      co_return error_code{};
    }
    std::size_t n = 0;
    auto generation = ++read_generation_;
    reply_timed_out_ = false;
    if (opts_.reply_timeout.count() > 0) {
      reply_timer_.expires_after(opts_.reply_timeout);
      reply_timer_.async_wait([this, generation](error_code tec) {
        if (tec || generation != read_generation_) return;
        reply_timed_out_ = true;
        error_code ignored;
        control_socket().cancel(ignored);
      });
    }
    if (control_tls_)
      std::tie(ec, n) = co_await control_tls_->async_read_some(asio::buffer(buf), nothrow);
    else
      std::tie(ec, n) = co_await control_.async_read_some(asio::buffer(buf), nothrow);
    ++read_generation_;
    reply_timer_.cancel();
    if (ec && reply_timed_out_) co_return make_error_code(asio::error::timed_out);
    if (ec) co_return end_of_stream(ec) ? make_error_code(errc::connection_closed) : ec;
    rbuf_.append(buf.data(), n);
  }
}

client::awaitable<error_code> client::command(std::string_view verb, std::string_view argument,
                                              reply& r) {
  if (auto ec = co_await send_command(verb, argument)) co_return ec;
  co_return co_await read_reply(r);
}

void client::reset_session() {
  close();
  control_tls_.reset();
  control_ = tcp::socket{ex_};
  rbuf_.clear();
  parser_ = reply_parser{};
  last_ = reply{};
  feat_ = features{};
  epsv_refused_ = eprt_refused_ = mlsd_refused_ = binary_ = last_data_reused_ = false;
}

client::awaitable<error_code> client::do_connect(std::string host, std::uint16_t port) {
  reset_session();
  tcp::resolver resolver{ex_};
  auto [ec, results] = co_await resolver.async_resolve(host, std::to_string(port), nothrow);
  if (ec) co_return ec;
  std::tie(ec, std::ignore) = co_await asio::async_connect(control_, results, nothrow);
  if (ec) co_return ec;
  co_return co_await greet(std::move(host));
}

client::awaitable<error_code> client::do_connect_endpoint(tcp::endpoint ep, std::string host) {
  reset_session();
  auto [ec] = co_await control_.async_connect(ep, nothrow);
  if (ec) co_return ec;
  co_return co_await greet(std::move(host));
}

client::awaitable<error_code> client::greet(std::string host) {
  error_code ec;
  // Commands and replies are small and strictly alternate: Nagle would delay every one of them.
  control_.set_option(tcp::no_delay(true), ec);
  peer_name_ = opts_.server_name.empty() ? host : opts_.server_name;
  server_name_.clear();
  if (!peer_name_.empty()) {
    error_code not_ip;
    asio::ip::make_address(peer_name_, not_ip);
    if (not_ip) server_name_ = peer_name_;
  }
  if (opts_.tls == tls_mode::implicit_tls) {
    if (!opts_.tls_context) co_return make_error_code(boost::system::errc::invalid_argument);
    control_tls_ = std::make_unique<tls_stream>(std::move(control_), *opts_.tls_context);
    prepare_tls(control_tls_->native_handle());
    std::tie(ec) = co_await control_tls_->async_handshake(ssl::stream_base::client, nothrow);
    if (ec) co_return ec;
  }
  reply r;
  // RFC 959 §5.4: 120 (ready in nnn minutes) may precede 220.
  do {
    if ((ec = co_await read_reply(r))) co_return ec;
  } while (r.code == 120);
  if (r.code != 220) co_return unwanted(r);
  if (opts_.tls == tls_mode::explicit_tls) co_return co_await start_tls_control();
  co_return error_code{};
}

client::awaitable<error_code> client::start_tls_control() {
  if (!opts_.tls_context) co_return make_error_code(boost::system::errc::invalid_argument);
  reply r;
  if (auto ec = co_await command("AUTH", "TLS", r)) co_return ec;
  if (r.code != 234) co_return unwanted(r);
  // RFC 4217 §6 / STARTTLS injection (CVE-2011-0411 class): anything that arrived with the 234 in
  // plaintext was sent before the handshake and must not be read as if it were protected.
  if (!rbuf_.empty() || parser_.mid_reply()) {
    close();
    co_return make_error_code(errc::pipelined_after_tls);
  }
  control_tls_ = std::make_unique<tls_stream>(std::move(control_), *opts_.tls_context);
  prepare_tls(control_tls_->native_handle());
  auto [ec] = co_await control_tls_->async_handshake(ssl::stream_base::client, nothrow);
  co_return ec;
}

void client::prepare_tls(ssl_st* ssl) {
  if (!server_name_.empty()) crypto::tls::set_server_name(ssl, server_name_.c_str());
  if (opts_.verify_server_name && !peer_name_.empty()) crypto::tls::expect_peer_name(ssl, peer_name_.c_str());
}

client::awaitable<error_code> client::do_login(std::string user, std::string password) {
  reply r;
  if (auto ec = co_await command("USER", user, r)) co_return ec;
  if (r.code == 331 || r.code == 332) {
    if (auto ec = co_await command("PASS", password, r)) co_return ec;
  }
  // 332 after PASS would need ACCT (RFC 959 §4.1.1), which nobody uses any more.
  if (r.code != 230 && r.code != 202) co_return unwanted(r);
  if (control_tls_) {
    // RFC 4217 §9: PBSZ 0 must precede PROT.
    if (auto ec = co_await command("PBSZ", "0", r)) co_return ec;
    if (!r.completion()) co_return unwanted(r);
    if (auto ec = co_await command("PROT", opts_.protect_data ? "P" : "C", r)) co_return ec;
    if (!r.completion()) co_return unwanted(r);
  }
  if (auto ec = co_await command("FEAT", "", r)) co_return ec;
  feat_ = parse_feat(r);
  if (feat_.has("UTF8")) {
    // RFC 2640 §3.2; a refusal changes nothing for us.
    if (auto ec = co_await command("OPTS", "UTF8 ON", r)) co_return ec;
  }
  binary_ = false;
  if (auto ec = co_await set_type(false)) co_return ec;
  logged_in_ = true;
  co_return error_code{};
}

client::awaitable<error_code> client::set_type(bool ascii) {
  if (binary_ == !ascii) co_return error_code{};
  reply r;
  if (auto ec = co_await command("TYPE", ascii ? "A" : "I", r)) co_return ec;
  if (!r.completion()) co_return unwanted(r);
  binary_ = !ascii;
  co_return error_code{};
}

// --- data connections -----------------------------------------------------------------------

client::awaitable<error_code> client::open_data(data_connection& dc) {
  error_code ec;
  auto peer = control_socket().remote_endpoint(ec);
  if (ec) co_return ec;
  reply r;
  if (opts_.passive) {
    std::optional<std::uint16_t> port;
    if (opts_.extended && !epsv_refused_) {
      if ((ec = co_await command("EPSV", "", r))) co_return ec;
      if (r.code == 229) {
        std::uint16_t p = 0;
        if ((ec = parse_epsv_reply(r.text(), p))) co_return ec;
        port = p;
      } else if (r.permanent_negative()) {
        epsv_refused_ = true;  // RFC 2428 §3: fall back to PASV from now on
      } else {
        co_return unwanted(r);
      }
    }
    if (!port) {
      if (!peer.address().is_v4()) co_return make_error_code(errc::bad_address);
      if ((ec = co_await command("PASV", "", r))) co_return ec;
      if (r.code != 227) co_return unwanted(r);
      ipv4_endpoint announced;
      if ((ec = parse_pasv_reply(r.text(), announced))) co_return ec;
      // The announced address is ignored on purpose: connect where the control connection goes.
      port = announced.port;
    }
    arm(dc.timer, opts_.data_timeout, dc.socket);
    std::tie(ec) = co_await dc.socket.async_connect(tcp::endpoint{peer.address(), *port}, nothrow);
    dc.timer.cancel();
    co_return ec;
  }

  // Active: listen on the control connection's local address; the server connects to us.
  auto local = control_socket().local_endpoint(ec);
  if (ec) co_return ec;
  dc.acceptor.emplace(ex_);
  dc.acceptor->open(local.protocol(), ec);
  if (!ec) dc.acceptor->bind(tcp::endpoint{local.address(), 0}, ec);
  if (!ec) dc.acceptor->listen(1, ec);
  if (ec) co_return ec;
  auto port = dc.acceptor->local_endpoint(ec).port();
  if (ec) co_return ec;
  bool v4 = local.address().is_v4();
  if (opts_.extended && !(eprt_refused_ && v4)) {
    net_endpoint ne;
    ne.family = v4 ? 1 : 2;
    ne.port = port;
    if (v4) {
      auto b = local.address().to_v4().to_bytes();
      std::copy(b.begin(), b.end(), ne.address.begin());
    } else {
      auto b = local.address().to_v6().to_bytes();
      std::copy(b.begin(), b.end(), ne.address.begin());
    }
    if ((ec = co_await command("EPRT", format_eprt_argument(ne), r))) co_return ec;
    if (r.completion()) co_return error_code{};
    if (!r.permanent_negative() || !v4) co_return unwanted(r);
    eprt_refused_ = true;
  }
  ipv4_endpoint e;
  e.address = local.address().to_v4().to_bytes();
  e.port = port;
  if ((ec = co_await command("PORT", format_port_argument(e), r))) co_return ec;
  if (!r.completion()) co_return unwanted(r);
  co_return error_code{};
}

client::awaitable<error_code> client::start_transfer(data_connection& dc, std::string_view verb,
                                                     std::string_view argument) {
  reply r;
  if (auto ec = co_await command(verb, argument, r)) co_return ec;
  // RFC 959 §5.4: 125 (connection already open) or 150 (about to open) precede the transfer.
  if (!r.preliminary()) co_return unwanted(r);
  dc.started = true;
  error_code ec;
  if (dc.acceptor) {
    arm(dc.timer, opts_.data_timeout, *dc.acceptor);
    tcp::endpoint from;
    std::tie(ec) = co_await dc.acceptor->async_accept(dc.socket, from, nothrow);
    dc.timer.cancel();
    error_code ignored;
    dc.acceptor->close(ignored);
    if (ec) co_return ec;
    // Only the server we talk to may connect (the mirror of ignoring a 227's address).
    auto peer = control_socket().remote_endpoint(ec);
    if (ec) co_return ec;
    if (from.address() != peer.address()) co_return make_error_code(errc::bad_address);
  }
  if (control_tls_ && opts_.protect_data) {
    dc.tls = std::make_unique<io::tls_stream>(std::move(dc.socket), *opts_.tls_context,
                                              io::tls_stream::role::client);
    // RFC 4217 §10.2: resume the control connection's session so the server knows the data
    // connection comes from the same client (vsftpd require_ssl_reuse).
    if (opts_.reuse_tls_session) {
      auto session = crypto::tls::current_session(control_tls_->native_handle());
      if (session) crypto::tls::offer_session(dc.tls->native_handle(), session);
    }
    prepare_tls(dc.tls->native_handle());
    arm(dc.timer, opts_.data_timeout, dc.tls->next_layer());
    std::tie(ec) = co_await dc.tls->async_handshake(nothrow);
    dc.timer.cancel();
    if (ec) co_return ec;
    last_data_reused_ = crypto::tls::session_reused(dc.tls->native_handle());
  }
  co_return error_code{};
}

client::awaitable<error_code> client::finish_transfer(data_connection& dc,
                                                      error_code transfer_ec) {
  dc.close();
  reply r;
  auto ec = co_await read_reply(r);
  if (transfer_ec) co_return transfer_ec;
  if (ec) co_return ec;
  // 226/250 close the transfer (RFC 959 §4.2.2).
  if (!r.completion()) co_return unwanted(r);
  co_return error_code{};
}

client::awaitable<error_code> client::abandon_transfer(data_connection& dc, error_code setup_ec) {
  dc.close();
  if (!dc.started) co_return setup_ec;
  // The server answered 1yz, so a final reply (425/426/522...) is on its way: read it, so the
  // next command does not get it, and report it when it says why (its text is last_reply()).
  reply r;
  if (auto ec = co_await read_reply(r)) co_return ec;
  if (r.transient_negative() || r.permanent_negative()) co_return unwanted(r);
  co_return setup_ec;
}

client::awaitable<client::result<std::uint64_t>> client::receive(data_connection& dc,
                                                                 const data_sink& sink,
                                                                 const progress_handler& progress) {
  std::vector<std::uint8_t> buf(data_buffer_size);
  bytes converted;
  ascii_to_local ascii;
  std::uint64_t total = 0;
  error_code ec;
  for (;;) {
    std::size_t n = 0;
    if (dc.tls)
      std::tie(ec, n) = co_await asio::async_read(*dc.tls, asio::buffer(buf), nothrow);
    else
      std::tie(ec, n) = co_await dc.socket.async_read_some(asio::buffer(buf), nothrow);
    if (n > 0) {
      byte_view chunk{buf.data(), n};
      if (dc.ascii) {
        converted.clear();
        ascii.convert(chunk, converted);
        chunk = converted;
      }
      if (auto sec = sink(chunk)) co_return result<std::uint64_t>{sec, total};
      total += n;
      if (progress) progress(total);
    }
    if (ec) break;
  }
  if (dc.ascii) {
    converted.clear();
    ascii.finish(converted);
    if (!converted.empty())
      if (auto sec = sink(converted)) co_return result<std::uint64_t>{sec, total};
  }
  if (!end_of_stream(ec)) co_return result<std::uint64_t>{ec, total};
  if (dc.tls && ec == asio::error::eof) {
    // The server's close_notify arrived; answer it so the server sees a clean TLS close.
    arm(dc.timer, opts_.data_timeout, dc.tls->next_layer());
    co_await dc.tls->async_shutdown(nothrow);
    dc.timer.cancel();
  }
  co_return result<std::uint64_t>{error_code{}, total};
}

client::awaitable<client::result<std::uint64_t>> client::send(data_connection& dc,
                                                              const data_source& source,
                                                              const progress_handler& progress) {
  std::vector<std::uint8_t> buf(data_buffer_size);
  bytes converted;
  ascii_to_network ascii;
  std::uint64_t total = 0;
  error_code ec;
  for (;;) {
    error_code sec;
    auto n = source(mutable_byte_view{buf.data(), buf.size()}, sec);
    if (sec) co_return result<std::uint64_t>{sec, total};
    if (n == 0) break;
    byte_view chunk{buf.data(), n};
    if (dc.ascii) {
      converted.clear();
      ascii.convert(chunk, converted);
      chunk = converted;
    }
    if (dc.tls)
      std::tie(ec, std::ignore) = co_await asio::async_write(*dc.tls, asio::buffer(chunk.data(), chunk.size()), nothrow);
    else
      std::tie(ec, std::ignore) = co_await asio::async_write(dc.socket, asio::buffer(chunk.data(), chunk.size()), nothrow);
    if (ec) co_return result<std::uint64_t>{ec, total};
    total += n;
    if (progress) progress(total);
  }
  if (dc.tls) {
    // close_notify marks the true end of the file (RFC 4217 §12.6: without it, a truncated
    // upload cannot be told from a complete one). The server's answer is not needed; bounded.
    arm(dc.timer, opts_.data_timeout, dc.tls->next_layer());
    co_await dc.tls->async_shutdown(nothrow);
    dc.timer.cancel();
  } else {
    dc.socket.shutdown(tcp::socket::shutdown_send, ec);
  }
  co_return result<std::uint64_t>{error_code{}, total};
}

client::awaitable<client::result<bytes>> client::receive_all(std::string_view verb,
                                                             std::string_view argument) {
  bytes data;
  data_connection dc{ex_};
  if (auto ec = co_await open_data(dc)) co_return result<bytes>{ec, {}};
  if (auto ec = co_await start_transfer(dc, verb, argument))
    co_return result<bytes>{co_await abandon_transfer(dc, ec), {}};
  data_sink sink = [&](byte_view chunk) -> error_code {
    if (data.size() + chunk.size() > limits::ftp_max_listing_bytes)
      return make_error_code(ferry::errc::length_limit);
    data.insert(data.end(), chunk.begin(), chunk.end());
    return {};
  };
  auto [tec, n] = co_await receive(dc, sink, {});
  (void)n;
  auto ec = co_await finish_transfer(dc, tec);
  co_return result<bytes>{ec, std::move(data)};
}

// --- operations -----------------------------------------------------------------------------

namespace {

template <class F>
void for_each_line(const bytes& data, F f) {
  std::string_view all = as_chars(data);
  while (!all.empty()) {
    auto lf = all.find('\n');
    auto line = all.substr(0, lf);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    f(line);
    if (lf == std::string_view::npos) break;
    all.remove_prefix(lf + 1);
  }
}

bool not_implemented(const error_code& ec) {
  // RFC 959 §4.2.1 500/502 (unknown command), 504 (parameter); some servers say 501 or 550.
  return ec.category() == ftp_reply_category() &&
         (ec.value() == 500 || ec.value() == 501 || ec.value() == 502 || ec.value() == 504);
}

}  // namespace

client::awaitable<client::result<std::vector<entry>>> client::do_list(std::string path) {
  using R = result<std::vector<entry>>;
  std::vector<entry> out;
  if (!mlsd_refused_ && feat_.has("MLST")) {
    auto [ec, data] = co_await receive_all("MLSD", path);
    if (!ec) {
      error_code perr;
      for_each_line(data, [&](std::string_view line) {
        if (line.empty() || perr) return;
        entry e;
        if (auto lec = parse_mlsx_line(line, e)) {
          perr = lec;  // MLSD is machine-readable by definition: a bad line is an error
          return;
        }
        if (e.type == entry_type::current_dir || e.type == entry_type::parent_dir) return;
        if (out.size() == limits::ftp_max_listing_entries) {
          perr = make_error_code(ferry::errc::length_limit);
          return;
        }
        out.push_back(std::move(e));
      });
      co_return R{perr, std::move(out)};
    }
    if (!not_implemented(ec)) co_return R{ec, {}};
    mlsd_refused_ = true;
  }
  auto [ec, data] = co_await receive_all("LIST", path);
  if (ec) co_return R{ec, {}};
  auto today = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
  error_code perr;
  for_each_line(data, [&](std::string_view line) {
    std::optional<entry> e;
    // LIST is free-form (RFC 959 §4.1.3): lines we cannot read are skipped, not fatal.
    if (parse_list_line(line, today, e) || !e) return;
    if (e->name == "." || e->name == "..") return;
    if (out.size() == limits::ftp_max_listing_entries) {
      perr = make_error_code(ferry::errc::length_limit);
      return;
    }
    out.push_back(std::move(*e));
  });
  co_return R{perr, std::move(out)};
}

client::awaitable<client::result<std::vector<std::string>>> client::do_name_list(std::string path) {
  using R = result<std::vector<std::string>>;
  auto [ec, data] = co_await receive_all("NLST", path);
  if (ec) co_return R{ec, {}};
  std::vector<std::string> names;
  error_code perr;
  for_each_line(data, [&](std::string_view line) {
    if (line.empty()) return;
    if (names.size() == limits::ftp_max_listing_entries) {
      perr = make_error_code(ferry::errc::length_limit);
      return;
    }
    names.emplace_back(line);
  });
  co_return R{perr, std::move(names)};
}

client::awaitable<client::result<std::uint64_t>> client::do_retrieve(std::string path,
                                                                     data_sink sink,
                                                                     transfer_options opts) {
  using R = result<std::uint64_t>;
  if (auto ec = co_await set_type(opts.ascii)) co_return R{ec, 0};
  data_connection dc{ex_};
  dc.ascii = opts.ascii;
  if (auto ec = co_await open_data(dc)) co_return R{ec, 0};
  if (opts.offset > 0) {
    // RFC 3659 §5.3: REST right before the transfer command; 350 means "send RETR now".
    reply r;
    if (auto ec = co_await command("REST", std::to_string(opts.offset), r)) co_return R{ec, 0};
    if (r.code != 350) {
      dc.close();
      co_return R{unwanted(r), 0};
    }
  }
  if (auto ec = co_await start_transfer(dc, "RETR", path))
    co_return R{co_await abandon_transfer(dc, ec), 0};
  auto [tec, n] = co_await receive(dc, sink, opts.progress);
  auto ec = co_await finish_transfer(dc, tec);
  co_return R{ec, n};
}

client::awaitable<client::result<std::uint64_t>> client::do_store(const char* verb,
                                                                  std::string path,
                                                                  data_source source,
                                                                  transfer_options opts) {
  using R = result<std::uint64_t>;
  if (auto ec = co_await set_type(opts.ascii)) co_return R{ec, 0};
  data_connection dc{ex_};
  dc.ascii = opts.ascii;
  if (auto ec = co_await open_data(dc)) co_return R{ec, 0};
  if (opts.offset > 0) {
    reply r;
    if (auto ec = co_await command("REST", std::to_string(opts.offset), r)) co_return R{ec, 0};
    if (r.code != 350) {
      dc.close();
      co_return R{unwanted(r), 0};
    }
  }
  if (auto ec = co_await start_transfer(dc, verb, path))
    co_return R{co_await abandon_transfer(dc, ec), 0};
  auto [tec, n] = co_await send(dc, source, opts.progress);
  auto ec = co_await finish_transfer(dc, tec);
  co_return R{ec, n};
}

client::awaitable<client::result<std::uint64_t>> client::do_download(std::string remote,
                                                                     std::string local,
                                                                     bool resume,
                                                                     progress_handler progress) {
  using R = result<std::uint64_t>;
  std::uint64_t offset = 0;
  std::error_code fec;
  if (resume) {
    auto size = std::filesystem::file_size(local, fec);
    if (!fec) offset = size;
  }
  std::ofstream out{local, std::ios::binary | (offset > 0 ? std::ios::app : std::ios::trunc)};
  if (!out) co_return R{make_error_code(boost::system::errc::io_error), 0};
  data_sink sink = [&](byte_view chunk) -> error_code {
    out.write(reinterpret_cast<const char*>(chunk.data()), std::streamsize(chunk.size()));
    return out ? error_code{} : make_error_code(boost::system::errc::io_error);
  };
  transfer_options opts;
  opts.offset = offset;
  opts.progress = std::move(progress);
  auto r = co_await do_retrieve(std::move(remote), std::move(sink), std::move(opts));
  out.close();
  if (!r.first && !out) r.first = make_error_code(boost::system::errc::io_error);
  co_return r;
}

client::awaitable<client::result<std::uint64_t>> client::do_upload(std::string local,
                                                                   std::string remote, bool resume,
                                                                   progress_handler progress) {
  using R = result<std::uint64_t>;
  std::uint64_t offset = 0;
  if (resume) {
    auto [ec, size] = co_await do_size(remote);
    if (!ec)
      offset = size;
    else if (ec != reply_class::permanent)  // 550: nothing there yet, start from 0
      co_return R{ec, 0};
  }
  std::ifstream in{local, std::ios::binary};
  if (!in) co_return R{make_error_code(boost::system::errc::no_such_file_or_directory), 0};
  if (offset > 0) in.seekg(std::streamoff(offset));
  if (!in) co_return R{make_error_code(boost::system::errc::io_error), 0};
  data_source source = [&](mutable_byte_view buf, error_code& ec) -> std::size_t {
    in.read(reinterpret_cast<char*>(buf.data()), std::streamsize(buf.size()));
    if (in.bad()) ec = make_error_code(boost::system::errc::io_error);
    return std::size_t(in.gcount());
  };
  transfer_options opts;
  opts.offset = offset;
  opts.progress = std::move(progress);
  co_return co_await do_store("STOR", std::move(remote), std::move(source), std::move(opts));
}

client::awaitable<client::result<std::uint64_t>> client::do_size(std::string path) {
  using R = result<std::uint64_t>;
  // RFC 3659 §4: the size depends on TYPE; ours is always the octet count (TYPE I), which is also
  // what REST offsets count.
  if (auto ec = co_await set_type(false)) co_return R{ec, 0};
  reply r;
  if (auto ec = co_await command("SIZE", path, r)) co_return R{ec, 0};
  if (r.code != 213) co_return R{unwanted(r), 0};
  std::uint64_t n = 0;
  if (auto ec = parse_size_reply(r.text(), n)) co_return R{ec, 0};
  co_return R{error_code{}, n};
}

client::awaitable<client::result<std::chrono::sys_seconds>> client::do_mdtm(std::string path) {
  using R = result<std::chrono::sys_seconds>;
  reply r;
  if (auto ec = co_await command("MDTM", path, r)) co_return R{ec, {}};
  if (r.code != 213) co_return R{unwanted(r), {}};
  std::chrono::sys_seconds t{};
  if (auto ec = parse_mdtm_reply(r.text(), t)) co_return R{ec, {}};
  co_return R{error_code{}, t};
}

client::awaitable<client::result<std::string>> client::do_mkd(std::string path) {
  using R = result<std::string>;
  reply r;
  if (auto ec = co_await command("MKD", path, r)) co_return R{ec, {}};
  if (r.code != 257) co_return R{r.completion() ? error_code{} : unwanted(r), path};
  std::string created;
  if (parse_pathname_reply(r.text(), created)) created = path;
  co_return R{error_code{}, std::move(created)};
}

client::awaitable<client::result<std::string>> client::do_pwd() {
  using R = result<std::string>;
  reply r;
  if (auto ec = co_await command("PWD", "", r)) co_return R{ec, {}};
  if (r.code != 257) co_return R{unwanted(r), {}};
  std::string dir;
  if (auto ec = parse_pathname_reply(r.text(), dir)) co_return R{ec, {}};
  co_return R{error_code{}, std::move(dir)};
}

client::awaitable<error_code> client::do_rename(std::string from, std::string to) {
  reply r;
  if (auto ec = co_await command("RNFR", from, r)) co_return ec;
  if (r.code != 350) co_return unwanted(r);  // RFC 959 §4.1.3: RNFR wants 350
  if (auto ec = co_await command("RNTO", to, r)) co_return ec;
  if (!r.completion()) co_return unwanted(r);
  co_return error_code{};
}

client::awaitable<error_code> client::do_simple(const char* verb, std::string argument,
                                                int want_kind) {
  reply r;
  if (auto ec = co_await command(verb, argument, r)) co_return ec;
  if (r.kind() != want_kind) co_return unwanted(r);
  co_return error_code{};
}

client::awaitable<error_code> client::do_quit() {
  reply r;
  auto ec = co_await command("QUIT", "", r);
  if (!ec && r.code != 221) ec = unwanted(r);
  close();
  co_return ec;
}

client::awaitable<client::result<reply>> client::do_raw(std::string verb, std::string argument) {
  reply r;
  auto ec = co_await command(verb, argument, r);
  co_return result<reply>{ec, std::move(r)};
}

client::awaitable<client::result<hash_reply>> client::do_hash(std::string path, hash_options opts) {
  using R = result<hash_reply>;
  reply r;
  if (opts.algorithm) {
    // draft-bryan-ftpext-hash-02 §4: OPTS HASH <name> selects the algorithm, 200 on success.
    std::string arg = "HASH " + std::string{hash_name_text(*opts.algorithm)};
    if (auto ec = co_await command("OPTS", arg, r)) co_return R{ec, {}};
    if (!r.completion()) co_return R{unwanted(r), {}};
  }
  if (opts.range) {
    // draft-bryan-ftp-range: RANG <start> <end>, 350 when accepted.
    std::string arg = std::to_string(opts.range->first) + " " + std::to_string(opts.range->second);
    if (auto ec = co_await command("RANG", arg, r)) co_return R{ec, {}};
    if (r.code != 350) co_return R{unwanted(r), {}};
  }
  if (auto ec = co_await command("HASH", path, r)) co_return R{ec, {}};
  if (r.code != 213) co_return R{unwanted(r), {}};
  hash_reply h;
  if (!parse_hash_reply(r.text(), h)) co_return R{make_error_code(errc::bad_reply), {}};
  if (opts.algorithm && h.algorithm != *opts.algorithm)
    co_return R{make_error_code(errc::unexpected_reply), {}};
  co_return R{error_code{}, std::move(h)};
}

}  // namespace ferry::ftp

FERRY_COROUTINE_NO_SANITIZE_FUNCTION_END
