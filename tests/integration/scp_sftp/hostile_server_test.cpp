// scp::sftp_mode_client against a lying SFTP server (the scripted server of the sftp::client
// tests): listings that name "../evil", "a/b", "" or "/abs" must not make a download write
// anywhere but below the target, for -r trees and for glob matches alike.
#include "integration/scp_sftp/harness.hpp"
#include "support/run_coroutine.hpp"
#include "unit/sftp_client/scripted_server.hpp"

#include <boost/asio/detached.hpp>
#include <gtest/gtest.h>

#include <memory>

using namespace ferry;
using namespace ferry::test_scp_sftp;
using ferry::test_sftp_client::memory_store;
using ferry::test_sftp_client::scripted_server;
using ferry_test_support::run_coroutine;
namespace proto = ferry::sftp::proto;

namespace {

proto::attrs regular(std::uint64_t size) {
  proto::attrs a;
  a.size = size;
  a.permissions = 0100644;
  return a;
}

proto::attrs directory() {
  proto::attrs a;
  a.permissions = 040755;
  return a;
}

// Serves "/d" as a directory whose listing names unsafe entries next to one good file "ok";
// the unsafe names exist in the store, so a client that asked for them would get data.
struct hostile {
  explicit hostile(asio::io_context& ioc) : local(fs::make_memory_filesystem(ioc.get_executor())) {
    auto [a, b] = test::make_stream_pair(ioc.get_executor());
    client.emplace(std::move(a));
    server = std::make_shared<scripted_server>(scripted_server{std::move(b), {}, {}});
    for (auto* name : {"/d/ok", "/d/../evil", "/d/a/b", "/d/", "/abs", "/d//abs"})
      store.files[name] = bytes{'x', 'y'};
    server->on_request = [this](const proto::request& r, bytes& out) { answer(r, out); };
    // The server sees the client's end close after the test body, when this object is gone: its
    // coroutine keeps the server alive (the script is not called again by then).
    asio::co_spawn(
        ioc, [s = server]() { return s->run(); }, asio::detached);
  }

  void answer(const proto::request& r, bytes& out) {
    if (auto* s = std::get_if<proto::stat_request>(&r)) {
      if (s->path == "/d" || s->path == "/d/") {
        proto::encode_packet(out, proto::attrs_reply{s->request_id, directory()});
        return;
      }
    }
    if (auto* o = std::get_if<proto::opendir_request>(&r)) {
      proto::encode_packet(out, proto::handle_reply{o->request_id, {"dir"}});
      listed = 0;
      return;
    }
    if (auto* rd = std::get_if<proto::readdir_request>(&r)) {
      if (listed++ > 0) {
        proto::encode_packet(out, proto::make_status(rd->request_id, sftp::status::eof));
        return;
      }
      proto::name_reply n;
      n.request_id = rd->request_id;
      for (auto* name : {"ok", "../evil", "a/b", "", "/abs", ".", ".."})
        n.names.entries.push_back(proto::name_entry{name, name, regular(2)});
      proto::encode_packet(out, n);
      return;
    }
    if (auto* c = std::get_if<proto::close_request>(&r); c && c->handle.value == "dir") {
      proto::encode_packet(out, proto::make_status(c->request_id, sftp::status::ok));
      return;
    }
    if (!store.answer(r, out))
      proto::encode_packet(out, proto::make_status(0, sftp::status::op_unsupported));
  }

  fs::memory_filesystem local;
  memory_store store;
  int listed = 0;
  std::optional<sftp_client> client;
  std::shared_ptr<scripted_server> server;
};

// Every path in the local filesystem, depth first.
void walk(fs::memory_filesystem& f, const std::string& dir, std::vector<std::string>& out) {
  fs::handle h;
  if (f.core().opendir(dir, h)) return;
  std::vector<fs::dir_entry> batch;
  while (!f.core().readdir(h, batch) && !batch.empty()) {
    for (auto& e : batch) {
      auto p = (dir == "/" ? "" : dir) + "/" + e.name;
      out.push_back(p);
      if (e.attrs.is_directory()) walk(f, p, out);
    }
    batch.clear();
  }
  (void)f.core().close(h);
}

}  // namespace

TEST(scp_sftp_hostile, a_recursive_download_takes_only_safe_names_below_the_target) {
  run_coroutine([](asio::io_context& ioc) -> asio::awaitable<void> {
    hostile h{ioc};
    co_await h.client->async_init(asio::use_awaitable);
    mkdir(h.local, "/t");
    scp::client_options o;
    o.recursive = true;
    mode_client c{*h.client, o};
    std::vector<std::string> src{"/d"};
    auto [ec, sum] = co_await c.async_download(src, h.local, "/t", tuple);
    EXPECT_EQ(ec, scp::errc::partial);
    EXPECT_EQ(sum.files, 1u);
    EXPECT_EQ(sum.errors, 4u) << joined(sum);  // "../evil", "a/b", "", "/abs"
    EXPECT_TRUE(mentions(sum, "server listed an unsafe name")) << joined(sum);
    std::vector<std::string> all;
    walk(h.local, "/", all);
    std::sort(all.begin(), all.end());
    EXPECT_EQ(all, (std::vector<std::string>{"/t", "/t/d", "/t/d/ok"}));
    EXPECT_EQ(get(h.local, "/t/d/ok"), "xy");
  });
}

TEST(scp_sftp_hostile, glob_matches_are_single_safe_names) {
  run_coroutine([](asio::io_context& ioc) -> asio::awaitable<void> {
    hostile h{ioc};
    co_await h.client->async_init(asio::use_awaitable);
    mkdir(h.local, "/g");
    mode_client c{*h.client};
    // Without FNM_PATHNAME "*" would match "../evil" and "a/b": they must still be refused.
    std::vector<std::string> src{"/d/*"};
    auto [ec, sum] = co_await c.async_download(src, h.local, "/g", tuple);
    EXPECT_FALSE(ec) << joined(sum);
    EXPECT_EQ(sum.files, 1u);
    std::vector<std::string> all;
    walk(h.local, "/", all);
    std::sort(all.begin(), all.end());
    EXPECT_EQ(all, (std::vector<std::string>{"/g", "/g/ok"}));
  });
}
