// The jail through SFTP: a server over fs::local rooted at a directory. Paths with "..",
// absolute paths, symlinks (absolute and relative) pointing out of the root, and symlinks a
// client creates itself never reach a file outside the root, for reading or writing.
#include "harness.hpp"

#include <ferry/fs/local.hpp>

#include <filesystem>
#include <fstream>

using namespace ferry;
using namespace ferry::sftp_server_test;
namespace asio = boost::asio;
namespace stdfs = std::filesystem;

namespace {

struct host_tree {
  stdfs::path base;
  stdfs::path root;
  stdfs::path outside;

  host_tree() {
    std::string tmpl = (stdfs::temp_directory_path() / "ferry-sftp-jail-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp");
    base = tmpl;
    root = base / "root";
    outside = base / "outside";
    stdfs::create_directories(root / "pub");
    stdfs::create_directories(outside);
    std::ofstream{outside / "secret.txt"} << "secret";
    std::ofstream{root / "pub/inside.txt"} << "inside";
    stdfs::create_symlink(outside, root / "abs_escape");               // absolute, out
    stdfs::create_symlink("../outside", root / "rel_escape");          // relative, out
    stdfs::create_symlink(outside / "secret.txt", root / "file_escape");
    stdfs::create_symlink("../../../../..", root / "pub/up");
  }
  ~host_tree() {
    std::error_code ec;
    stdfs::remove_all(base, ec);
  }
  std::size_t outside_entries() const {
    std::size_t n = 0;
    for ([[maybe_unused]] auto& e : stdfs::directory_iterator(outside)) ++n;
    return n;
  }
  std::size_t base_entries() const {
    std::size_t n = 0;
    for ([[maybe_unused]] auto& e : stdfs::directory_iterator(base)) ++n;
    return n;
  }
};

std::vector<std::string> read_attempts(const std::string& host_secret) {
  return {"../outside/secret.txt",           "/../outside/secret.txt",
          "/../../../../outside/secret.txt", "pub/../../outside/secret.txt",
          host_secret,                       "abs_escape/secret.txt",
          "rel_escape/secret.txt",           "pub/up/outside/secret.txt",
          "/etc/passwd",                     "pub/up/etc/passwd"};
}

std::vector<std::string> write_attempts() {
  return {"../created.txt", "/../../created2.txt", "abs_escape/created3.txt",
          "rel_escape/created4.txt", "pub/up/created5.txt"};
}

constexpr auto no_such_file = static_cast<std::uint32_t>(status::no_such_file);

}  // namespace

TEST(sftp_server_jail, nothing_outside_the_root_can_be_read_or_written) {
  host_tree t;
  asio::io_context ioc;
  error_code ec;
  auto files = fs::make_local_filesystem(ioc.get_executor(), t.root.string(), {}, ec, 2);
  ASSERT_FALSE(ec) << ec.message();
  auto result = serve_one(ioc, files, {}, [&](client& c) -> asio::awaitable<void> {
    const std::string host_secret = (t.outside / "secret.txt").string();
    std::vector<std::string> reads = read_attempts(host_secret);
    for (auto& p : reads) {
      c.send(open_request{c.next_id(), p, open_flags::read, {}});
      auto r = co_await c.recv();
      if (auto* h = std::get_if<handle_reply>(&*r)) {
        // Only something inside the root may open; it must not be the secret.
        c.send(read_request{c.next_id(), h->handle, 0, 100});
        auto d = co_await c.recv();
        if (auto* data = std::get_if<data_reply>(&*d)) {
          EXPECT_NE(std::string(data->data.begin(), data->data.end()), "secret") << p;
        }
        co_await c.close(h->handle);
      } else {
        EXPECT_EQ(std::get<status_reply>(*r).code, no_such_file) << p;
      }
      c.send(stat_request{c.next_id(), p});
      auto s = co_await c.recv();
      EXPECT_TRUE(std::holds_alternative<status_reply>(*s)) << "stat " << p;
    }
    // A symlink whose target escapes is still resolved inside the root.
    c.send(symlink_request{c.next_id(), host_secret, "mine"});
    EXPECT_EQ((co_await c.status_of()).code, 0u);
    c.send(open_request{c.next_id(), "mine", open_flags::read, {}});
    EXPECT_EQ((co_await c.status_of()).code, no_such_file);
    // The root is "/" and ".." of it is itself.
    c.send(realpath_request{c.next_id(), "../../.."});
    EXPECT_EQ((co_await c.recv_as<name_reply>()).names.entries.at(0).filename, "/");
    c.send(realpath_request{c.next_id(), "pub/up"});
    EXPECT_EQ((co_await c.recv_as<name_reply>()).names.entries.at(0).filename, "/");
    // Writes through the same tricks land inside the root, or nowhere.
    std::vector<std::string> writes = write_attempts();
    for (auto& p : writes) {
      c.send(open_request{c.next_id(), p, open_flags::write | open_flags::creat, {}});
      auto r = co_await c.recv();
      if (auto* h = std::get_if<handle_reply>(&*r)) {
        c.send(write_request{c.next_id(), h->handle, 0, as_bytes_of("x")});
        co_await c.status_of();
        co_await c.close(h->handle);
      }
    }
    c.send(mkdir_request{c.next_id(), "../../evil", {}});
    co_await c.status_of();
    c.send(rename_request{c.next_id(), "pub/inside.txt", "../moved.txt"});
    co_await c.status_of();
    c.send(remove_request{c.next_id(), "file_escape"});  // removes the link, not its target
    EXPECT_EQ((co_await c.status_of()).code, 0u);
    c.send(setstat_request{c.next_id(), "abs_escape/secret.txt", perms(0777)});
    EXPECT_NE((co_await c.status_of()).code, 0u);
  });
  ASSERT_TRUE(result);
  EXPECT_FALSE(*result);
  // Outside the root nothing changed.
  EXPECT_EQ(t.outside_entries(), 1u);
  EXPECT_EQ(t.base_entries(), 2u) << "only root/ and outside/ in the parent";
  std::ifstream in{t.outside / "secret.txt"};
  std::string secret;
  in >> secret;
  EXPECT_EQ(secret, "secret");
  EXPECT_EQ(stdfs::status(t.outside / "secret.txt").permissions() & stdfs::perms::others_write,
            stdfs::perms::none);
  // What was created went inside.
  EXPECT_TRUE(stdfs::exists(t.root / "created.txt"));
  EXPECT_TRUE(stdfs::exists(t.root / "moved.txt"));
  EXPECT_TRUE(stdfs::is_directory(t.root / "evil"));
}
