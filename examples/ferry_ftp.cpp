// ferry-ftp: an FTP/FTPS command-line client on ftp::client.
//
//   ferry-ftp [--tls] [--insecure | --cacert FILE] [--active] [-C] [-q] COMMAND
//     get URL [LOCAL]          download a file (LOCAL: a file or a directory; default: its name)
//     put LOCAL URL            upload a file (a URL ending in '/' names a directory)
//     ls URL                   list a directory
//     mirror URL LOCALDIR      download a directory tree
//     mirror -R LOCALDIR URL   upload a directory tree
//
// URLs are ftp://[user[:password]@]host[:port]/path (ftp/proto/url.hpp); ftps:// is implicit FTPS
// (port 990), --tls asks for explicit AUTH TLS on ftp:// and fails if the server refuses it. The
// certificate is checked against the system's CAs and the host name unless --cacert FILE names
// the CA to trust, or --insecure skips the check. The password comes from the URL or the
// FERRY_PASSWORD environment variable; with no user, or user "anonymous"/"ftp", the login is
// anonymous. -C resumes (get: from the local file's size; put: from the remote file's size).
// On a TTY each transfer shows a progress line on stderr (-q: none; --progress: even without a
// TTY). An error is one line on stderr and exit status 1; a usage error exits with 2.
#include <ferry/cli/progress.hpp>
#include <ferry/ftp/client.hpp>
#include <ferry/ftp/proto/url.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace stdfs = std::filesystem;
using namespace ferry;
using asio::use_awaitable;

namespace {

constexpr std::size_t max_mirror_depth = 64;
constexpr auto nothrow = asio::as_tuple(use_awaitable);

struct options {
  bool explicit_tls = false;
  bool insecure = false;
  std::string cacert;
  bool active = false;
  bool resume = false;
  bool quiet = false;
  bool force_progress = false;
};

// A failure with the one line the user sees (after "ferry-ftp: ").
struct failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

int usage() {
  std::fputs(
      "usage: ferry-ftp [--tls] [--insecure | --cacert FILE] [--active] [-C] [-q] COMMAND\n"
      "  get URL [LOCAL]        download a file\n"
      "  put LOCAL URL          upload a file\n"
      "  ls URL                 list a directory\n"
      "  mirror URL LOCALDIR    download a directory tree\n"
      "  mirror -R LOCALDIR URL upload a directory tree\n"
      "URL: ftp://[user[:password]@]host[:port]/path or ftps://... (implicit TLS);\n"
      "the password may also come from FERRY_PASSWORD.\n",
      stderr);
  return 2;
}

// "remote/dir" + "name"; an empty base is the login directory.
std::string join_remote(std::string_view base, std::string_view name) {
  std::string s{base};
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  if (s.empty()) return std::string{name};
  if (s.back() != '/') s += '/';
  return s + std::string{name};
}

std::size_t terminal_width() {
  winsize ws{};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

// Draws one transfer's progress line on stderr ("\r" + line, then a newline when done).
class progress_line {
 public:
  progress_line(bool enabled, std::string name, std::optional<std::uint64_t> total,
                std::uint64_t offset)
      : enabled_(enabled),
        width_(enabled ? terminal_width() : 80),
        meter_(std::move(name), total, offset, cli::progress_meter::clock::now()) {}

  void update(std::uint64_t done) {
    if (!enabled_) return;
    if (auto line = meter_.update(done, cli::progress_meter::clock::now(), width_ - 1))
      std::fprintf(stderr, "\r%s", line->c_str());
  }
  void finish(std::uint64_t done) {
    if (!enabled_) return;
    auto line = meter_.finish(done, cli::progress_meter::clock::now(), width_ - 1);
    std::fprintf(stderr, "\r%s\n", line.c_str());
  }
  // A failed transfer: end the line so the error starts on its own.
  void abandon() {
    if (enabled_) std::fputc('\n', stderr);
  }

 private:
  bool enabled_;
  std::size_t width_;
  cli::progress_meter meter_;
};

// A local file as a descriptor (large writes straight to the kernel, no stream buffer).
class local_file {
 public:
  local_file(const std::string& path, int flags, mode_t mode = 0644) : fd_(::open(path.c_str(), flags | O_CLOEXEC, mode)) {
    if (fd_ < 0) throw failure(path + ": " + std::strerror(errno));
  }
  ~local_file() {
    if (fd_ >= 0) ::close(fd_);
  }
  local_file(const local_file&) = delete;
  local_file& operator=(const local_file&) = delete;
  int fd() const noexcept { return fd_; }

 private:
  int fd_;
};

class program {
 public:
  program(asio::io_context& ioc, options o) : ioc_(ioc), opts_(std::move(o)) {
    show_progress_ = !opts_.quiet && (opts_.force_progress || ::isatty(STDERR_FILENO));
  }

  asio::awaitable<void> run(std::vector<std::string> args) {
    const auto& cmd = args[0];
    if (cmd == "get") {
      auto u = parse(args[1]);
      co_await connect(u);
      std::string local = args.size() > 2 ? args[2] : std::string{};
      co_await get(u.path, local);
    } else if (cmd == "put") {
      auto u = parse(args[2]);
      co_await connect(u);
      std::string remote = u.path;
      if (u.names_directory()) remote = join_remote(remote, stdfs::path(args[1]).filename().string());
      co_await put(args[1], remote);
    } else if (cmd == "ls") {
      auto u = parse(args[1]);
      co_await connect(u);
      co_await ls(u.path);
    } else if (cmd == "mirror" && args[1] == "-R") {
      auto u = parse(args[3]);
      co_await connect(u);
      co_await mirror_up(args[2], u.path, 0);
    } else {
      auto u = parse(args[1]);
      co_await connect(u);
      co_await mirror_down(u.path, args[2], 0);
    }
    auto [ec] = co_await client_->async_quit(nothrow);
    (void)ec;  // the work is done; a server that drops the connection at QUIT changes nothing
  }

  // The one line for an error_code: a server's reply as it said it, else the error's message.
  std::string describe(const error_code& ec) const {
    if (client_ && ec.category() == ftp::ftp_reply_category() &&
        client_->last_reply().code == ec.value()) {
      auto text = client_->last_reply().text();
      for (auto& c : text)
        if (c == '\n') c = ' ';
      return std::to_string(ec.value()) + " " + text;
    }
    return ec.message();
  }

 private:
  ftp::url parse(const std::string& text) {
    ftp::url u;
    if (auto ec = ftp::parse_url(text, u)) throw failure("bad URL: " + ec.message());
    return u;
  }

  // Runs an operation; a failure becomes "what: reason".
  template <class T>
  T check(std::pair<error_code, T> r, const std::string& what) {
    if (r.first) throw failure(what + ": " + describe(r.first));
    return std::move(r.second);
  }
  void check(error_code ec, const std::string& what) {
    if (ec) throw failure(what + ": " + describe(ec));
  }

  asio::awaitable<void> connect(const ftp::url& u) {
    ftp::client_options co;
    bool tls = u.scheme == ftp::url_scheme::ftps || opts_.explicit_tls;
    if (u.scheme == ftp::url_scheme::ftps)
      co.tls = ftp::tls_mode::implicit_tls;
    else if (opts_.explicit_tls)
      co.tls = ftp::tls_mode::explicit_tls;
    co.passive = !opts_.active;
    if (tls) {
      tls_.emplace(ssl::context::tls_client);
      error_code ec;
      tls_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                            ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                            ssl::context::no_tlsv1_1,
                        ec);
      if (opts_.insecure) {
        tls_->set_verify_mode(ssl::verify_none);
      } else {
        if (opts_.cacert.empty())
          tls_->set_default_verify_paths(ec);
        else
          tls_->load_verify_file(opts_.cacert, ec);
        if (ec) throw failure((opts_.cacert.empty() ? "system CAs" : opts_.cacert) + ": " + ec.message());
        tls_->set_verify_mode(ssl::verify_peer);
      }
      co.tls_context = &*tls_;
    }
    client_.emplace(ioc_.get_executor(), co);
    std::string where = u.ipv6_literal ? "[" + u.host + "]:" + std::to_string(u.port)
                                       : u.host + ":" + std::to_string(u.port);
    auto [cec] = co_await client_->async_connect(u.host, u.port, nothrow);
    check(cec, "connect to " + where);

    std::string user = u.user ? *u.user : "anonymous";
    bool anonymous = user == "anonymous" || user == "ftp";
    std::string password;
    if (u.password)
      password = *u.password;
    else if (const char* env = std::getenv("FERRY_PASSWORD"))
      password = env;
    else if (anonymous)
      password = "ferry@";  // RFC 1635: anonymous logins give an address or anything
    else
      throw failure("no password for " + user + ": put it in the URL or in FERRY_PASSWORD");
    auto [lec] = co_await client_->async_login(user, password, nothrow);
    check(lec, "login as " + user);
  }

  // --- get / put ----------------------------------------------------------------------------

  asio::awaitable<void> get(const std::string& remote, std::string local) {
    auto name = std::string{stdfs::path(remote).filename().string()};
    if (remote.empty() || remote.back() == '/' || name.empty())
      throw failure("get: " + (remote.empty() ? std::string{"/"} : remote) + " names a directory");
    std::error_code fec;
    if (local.empty())
      local = name;
    else if (stdfs::is_directory(local, fec))
      local = (stdfs::path(local) / name).string();
    co_await download(remote, local, name);
  }

  asio::awaitable<void> download(const std::string& remote, const std::string& local,
                                 const std::string& label) {
    auto sized = co_await client_->async_size(remote, nothrow);
    std::optional<std::uint64_t> total;
    if (!std::get<0>(sized)) total = std::get<1>(sized);
    std::uint64_t offset = 0;
    std::error_code fec;
    if (opts_.resume) {
      auto have = stdfs::file_size(local, fec);
      if (!fec) offset = have;
      if (total && offset > *total)
        throw failure(local + ": the local file is larger than " + remote + "; cannot resume");
      if (total && offset == *total) {
        progress_line p{show_progress_, label, total, offset};
        p.finish(0);
        co_return;
      }
    }
    local_file out{local, O_WRONLY | O_CREAT | (offset > 0 ? 0 : O_TRUNC)};
    if (offset > 0 && ::lseek(out.fd(), off_t(offset), SEEK_SET) < 0)
      throw failure(local + ": " + std::strerror(errno));
    int fd = out.fd();
    std::string write_error;
    ftp::data_sink sink = [fd, &write_error, &local](byte_view chunk) -> error_code {
      while (!chunk.empty()) {
        auto n = ::write(fd, chunk.data(), chunk.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          write_error = local + ": " + std::strerror(errno);
          return make_error_code(boost::system::errc::io_error);
        }
        chunk = chunk.subspan(std::size_t(n));
      }
      return {};
    };
    progress_line p{show_progress_, label, total, offset};
    ftp::transfer_options to;
    to.offset = offset;
    to.progress = [&p](std::uint64_t n) { p.update(n); };
    p.update(0);
    auto r = co_await client_->async_retrieve(remote, std::move(sink), std::move(to),
                                              nothrow);
    auto [ec, n] = r;
    if (ec) {
      p.abandon();
      if (!write_error.empty()) throw failure(write_error);
      throw failure("get " + remote + ": " + describe(ec));
    }
    p.finish(n);
  }

  asio::awaitable<void> put(const std::string& local, const std::string& remote) {
    std::error_code fec;
    if (!stdfs::is_regular_file(local, fec)) throw failure(local + ": not a regular file");
    co_await upload(local, remote, stdfs::path(local).filename().string());
  }

  asio::awaitable<void> upload(const std::string& local, const std::string& remote,
                               const std::string& label) {
    local_file in{local, O_RDONLY};
    struct stat st {};
    if (::fstat(in.fd(), &st) != 0) throw failure(local + ": " + std::strerror(errno));
    std::uint64_t total = std::uint64_t(st.st_size);
    std::uint64_t offset = 0;
    if (opts_.resume) {
      auto [sec, have] = co_await client_->async_size(remote, nothrow);
      if (!sec)
        offset = have;
      else if (sec != ftp::reply_class::permanent)  // 550: not there yet, start at 0
        throw failure("size " + remote + ": " + describe(sec));
      if (offset > total)
        throw failure(remote + ": the remote file is larger than " + local + "; cannot resume");
      if (offset == total) {
        progress_line p{show_progress_, label, total, offset};
        p.finish(0);
        co_return;
      }
      if (offset > 0 && ::lseek(in.fd(), off_t(offset), SEEK_SET) < 0)
        throw failure(local + ": " + std::strerror(errno));
    }
    int fd = in.fd();
    std::string read_error;
    ftp::data_source source = [fd, &read_error, &local](mutable_byte_view buf,
                                                        error_code& ec) -> std::size_t {
      for (;;) {
        auto n = ::read(fd, buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
          read_error = local + ": " + std::strerror(errno);
          ec = make_error_code(boost::system::errc::io_error);
          return 0;
        }
        return std::size_t(n);
      }
    };
    progress_line p{show_progress_, label, total, offset};
    ftp::transfer_options to;
    to.offset = offset;
    to.progress = [&p](std::uint64_t n) { p.update(n); };
    p.update(0);
    auto r = co_await client_->async_store(remote, std::move(source), std::move(to),
                                           nothrow);
    auto [ec, n] = r;
    if (ec) {
      p.abandon();
      if (!read_error.empty()) throw failure(read_error);
      throw failure("put " + remote + ": " + describe(ec));
    }
    p.finish(n);
  }

  // --- ls -------------------------------------------------------------------------------------

  asio::awaitable<void> ls(const std::string& remote) {
    auto r = co_await client_->async_list(remote, nothrow);
    auto entries = check(std::pair{std::get<0>(r), std::move(std::get<1>(r))},
                         "ls " + (remote.empty() ? std::string{"/"} : remote));
    for (auto& e : entries) {
      char type = e.type == ftp::entry_type::directory ? 'd'
                  : e.type == ftp::entry_type::symlink ? 'l'
                  : e.type == ftp::entry_type::file    ? '-'
                                                       : '?';
      char when[32] = "                ";
      if (e.modified) {
        auto dp = std::chrono::floor<std::chrono::days>(*e.modified);
        std::chrono::year_month_day ymd{dp};
        std::chrono::hh_mm_ss hms{*e.modified - dp};
        std::snprintf(when, sizeof when, "%04d-%02u-%02u %02d:%02d", int(ymd.year()),
                      unsigned(ymd.month()), unsigned(ymd.day()), int(hms.hours().count()),
                      int(hms.minutes().count()));
      }
      std::string size = e.size ? std::to_string(*e.size) : std::string{"-"};
      std::printf("%c %12s %s %s%s%s\n", type, size.c_str(), when, e.name.c_str(),
                  e.link_target.empty() ? "" : " -> ", e.link_target.c_str());
    }
    std::fflush(stdout);
  }

  // --- mirror ---------------------------------------------------------------------------------

  asio::awaitable<void> mirror_down(const std::string& remote, const std::string& local,
                                    std::size_t depth) {
    if (depth > max_mirror_depth) throw failure(remote + ": directories nested too deep");
    std::error_code fec;
    stdfs::create_directories(local, fec);
    if (fec) throw failure(local + ": " + fec.message());
    auto r = co_await client_->async_list(remote, nothrow);
    auto entries = check(std::pair{std::get<0>(r), std::move(std::get<1>(r))},
                         "ls " + (remote.empty() ? std::string{"/"} : remote));
    for (auto& e : entries) {
      // A name with a separator or a dot-dot would leave the local directory.
      if (e.name.empty() || e.name == "." || e.name == ".." ||
          e.name.find('/') != std::string::npos)
        continue;
      auto rpath = join_remote(remote, e.name);
      auto lpath = (stdfs::path(local) / e.name).string();
      if (e.type == ftp::entry_type::directory)
        co_await mirror_down(rpath, lpath, depth + 1);
      else if (e.type == ftp::entry_type::file)
        co_await download(rpath, lpath, rpath);
      // symbolic links and special files are not followed
    }
  }

  asio::awaitable<void> mirror_up(const std::string& local, const std::string& remote,
                                  std::size_t depth) {
    if (depth > max_mirror_depth) throw failure(local + ": directories nested too deep");
    std::error_code fec;
    if (!stdfs::is_directory(local, fec)) throw failure(local + ": not a directory");
    if (!remote.empty()) co_await make_remote_dir(remote);
    std::vector<stdfs::directory_entry> children;
    for (auto it = stdfs::directory_iterator(local, fec); !fec && it != stdfs::directory_iterator();
         it.increment(fec))
      children.push_back(*it);
    if (fec) throw failure(local + ": " + fec.message());
    std::sort(children.begin(), children.end());
    for (auto& child : children) {
      auto name = child.path().filename().string();
      auto rpath = join_remote(remote, name);
      auto st = child.symlink_status(fec);
      if (fec) throw failure(child.path().string() + ": " + fec.message());
      if (stdfs::is_directory(st))
        co_await mirror_up(child.path().string(), rpath, depth + 1);
      else if (stdfs::is_regular_file(st))
        co_await upload(child.path().string(), rpath, rpath);
    }
  }

  // MKD; a directory that is already there is fine (servers say 550 for both cases, so look).
  asio::awaitable<void> make_remote_dir(const std::string& remote) {
    auto [ec, created] = co_await client_->async_mkdir(remote, nothrow);
    (void)created;
    if (!ec) co_return;
    auto why = describe(ec);
    auto [lec, entries] = co_await client_->async_list(remote, nothrow);
    (void)entries;
    if (lec) throw failure("mkdir " + remote + ": " + why);
  }

  asio::io_context& ioc_;
  options opts_;
  bool show_progress_ = false;
  std::optional<ssl::context> tls_;
  std::optional<ftp::client> client_;
};

}  // namespace

int main(int argc, char** argv) {
  options o;
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (!args.empty()) {  // after the command everything is an argument (mirror's -R included)
      args.push_back(a);
      continue;
    }
    if (a == "--tls") o.explicit_tls = true;
    else if (a == "--insecure" || a == "-k") o.insecure = true;
    else if (a == "--cacert" && i + 1 < argc) o.cacert = argv[++i];
    else if (a == "--active") o.active = true;
    else if (a == "-C" || a == "--continue") o.resume = true;
    else if (a == "-q" || a == "--quiet") o.quiet = true;
    else if (a == "--progress") o.force_progress = true;
    else if (a == "-h" || a == "--help") return usage(), 0;
    else if (!a.empty() && a[0] == '-') return usage();
    else args.push_back(a);
  }
  if (args.empty()) return usage();
  const auto& cmd = args[0];
  bool ok = (cmd == "get" && (args.size() == 2 || args.size() == 3)) ||
            (cmd == "put" && args.size() == 3) || (cmd == "ls" && args.size() == 2) ||
            (cmd == "mirror" && args.size() == 3 && args[1] != "-R") ||
            (cmd == "mirror" && args.size() == 4 && args[1] == "-R");
  if (!ok) return usage();
  if (o.insecure && !o.cacert.empty()) return usage();

  asio::io_context ioc{1};
  program prog{ioc, o};
  int status = 0;
  asio::co_spawn(ioc, prog.run(args), [&](std::exception_ptr e) {
    if (!e) return;
    status = 1;
    try {
      std::rethrow_exception(e);
    } catch (const failure& f) {
      std::fprintf(stderr, "ferry-ftp: %s\n", f.what());
    } catch (const boost::system::system_error& se) {
      std::fprintf(stderr, "ferry-ftp: %s\n", prog.describe(se.code()).c_str());
    } catch (const std::exception& x) {
      std::fprintf(stderr, "ferry-ftp: %s\n", x.what());
    }
  });
  ioc.run();
  return status;
}
