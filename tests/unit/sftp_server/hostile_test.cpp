// A hostile or broken client: truncated and oversized packets of every request type, bogus and
// closed handles, opening until the handle limit, a client that does not read its replies,
// failing storage. Each gets a status for its request id (or, when there is no id to answer,
// nothing) and the session goes on serving; only a packet before INIT ends it.
#include "harness.hpp"

#include <ferry/sftp/proto/server_io.hpp>

using namespace ferry;
using namespace ferry::sftp_server_test;
namespace asio = boost::asio;

namespace {

constexpr auto bad_message = static_cast<std::uint32_t>(status::bad_message);
constexpr auto failure = static_cast<std::uint32_t>(status::failure);

handle some_handle() { return handle{std::string(8, 'h')}; }

// One valid packet body (type byte first) of every request type, each with request id `id`.
std::vector<std::pair<std::string, bytes>> every_request(std::uint32_t id) {
  std::vector<std::pair<std::string, bytes>> out;
  auto add = [&](std::string n, const auto& m) { out.emplace_back(std::move(n), wire::encode(m)); };
  attrs a = perms(0644);
  a.size = 10;
  add("open", open_request{id, "/f", open_flags::read, a});
  add("close", close_request{id, some_handle()});
  add("read", read_request{id, some_handle(), 0, 100});
  add("write", write_request{id, some_handle(), 0, as_bytes_of("data")});
  add("lstat", lstat_request{id, "/f"});
  add("fstat", fstat_request{id, some_handle()});
  add("setstat", setstat_request{id, "/f", a});
  add("fsetstat", fsetstat_request{id, some_handle(), a});
  add("opendir", opendir_request{id, "/"});
  add("readdir", readdir_request{id, some_handle()});
  add("remove", remove_request{id, "/f"});
  add("mkdir", mkdir_request{id, "/d", a});
  add("rmdir", rmdir_request{id, "/d"});
  add("realpath", realpath_request{id, "."});
  add("stat", stat_request{id, "/f"});
  add("rename", rename_request{id, "/f", "/g"});
  add("readlink", readlink_request{id, "/l"});
  add("symlink", symlink_request{id, "/f", "/l"});
  add("posix-rename", posix_rename_request{id, {}, "/f", "/g"});
  add("statvfs", statvfs_request{id, {}, "/"});
  add("fstatvfs", fstatvfs_request{id, {}, some_handle()});
  add("hardlink", hardlink_request{id, {}, "/f", "/h"});
  add("fsync", fsync_request{id, {}, some_handle()});
  add("lsetstat", lsetstat_request{id, {}, "/f", a});
  add("limits", limits_request{id, {}});
  add("expand-path", expand_path_request{id, {}, "~"});
  add("copy-data", copy_data_request{id, {}, some_handle(), 0, 0, some_handle(), 0});
  add("home-directory", home_directory_request{id, {}, ""});
  add("users-groups-by-id", users_groups_by_id_request{id, {}, {{0}}, {{0}}});
  return out;
}

std::vector<handle> bogus_handles() {
  return {handle{""}, handle{"x"}, handle{std::string(8, '\0')}, handle{std::string(8, '\xff')},
          handle{std::string(256, 'a')}};
}

bytes framed(const bytes& body, std::uint32_t length) {
  bytes out;
  wire::writer w{out};
  w.u32(length);
  w.raw(byte_view{body});
  return out;
}

}  // namespace

TEST(sftp_server_hostile, truncated_packets_of_every_type_get_bad_message_for_their_id) {
  fixture f;
  f.run({}, [&](client& c) -> asio::awaitable<void> {
    std::uint32_t id = 1000;
    for (auto& [name, body] : every_request(0)) {
      // Every cut from just after the request id to one byte short of the whole packet.
      for (std::size_t len = 5; len < body.size(); ++len) {
        bytes cut(body.begin(), body.begin() + static_cast<std::ptrdiff_t>(len));
        ++id;
        cut[1] = std::uint8_t(id >> 24);
        cut[2] = std::uint8_t(id >> 16);
        cut[3] = std::uint8_t(id >> 8);
        cut[4] = std::uint8_t(id);
        c.send_raw(framed(cut, static_cast<std::uint32_t>(cut.size())));
        auto s = co_await c.status_of();
        EXPECT_EQ(s.request_id, id) << name << " cut at " << len;
        EXPECT_EQ(s.code, bad_message) << name << " cut at " << len;
        EXPECT_FALSE(s.message.value_or("").empty());
      }
      // Too short to carry an id: nothing to answer, and the next request is still served.
      bytes head(body.begin(), body.begin() + 3);
      c.send_raw(framed(head, 3));
      c.send(realpath_request{++id, "."});
      auto n = co_await c.recv_as<name_reply>();
      EXPECT_EQ(n.request_id, id) << name;
    }
  });
  EXPECT_FALSE(*f.result) << f.result->message();
}

TEST(sftp_server_hostile, oversized_packets_of_every_type_are_refused_and_skipped) {
  fixture f;
  f.run({}, [&](client& c) -> asio::awaitable<void> {
    std::uint32_t id = 5000;
    for (auto& [name, body] : every_request(0)) {
      ++id;
      bytes big = body;
      big[1] = std::uint8_t(id >> 24);
      big[2] = std::uint8_t(id >> 16);
      big[3] = std::uint8_t(id >> 8);
      big[4] = std::uint8_t(id);
      big.resize(300 * 1024, 0xab);  // over the 256 KiB message limit
      c.send_raw(framed(big, static_cast<std::uint32_t>(big.size())));
      auto s = co_await c.status_of();
      EXPECT_EQ(s.request_id, id) << name;
      EXPECT_EQ(s.code, bad_message) << name;
      EXPECT_NE(s.message.value_or("").find("exceeds"), std::string::npos);
      c.send(stat_request{++id, "/"});
      auto a = co_await c.recv_as<attrs_reply>();
      EXPECT_EQ(a.request_id, id) << "served after an oversized " << name;
    }
    // A length of 4 GiB - 1 is refused the same way (nothing is allocated for it).
    c.send_raw(as_bytes_of(std::string_view{"\xff\xff\xff\xff\x11\0\0\0\x2a", 9}));
    auto s = co_await c.status_of();
    EXPECT_EQ(s.request_id, 42u);
    EXPECT_EQ(s.code, bad_message);
  }, true);
  // The client ended inside the skipped 4 GiB packet: the session reports the truncation.
  EXPECT_EQ(*f.result, make_error_code(errc::truncated));
}

TEST(sftp_server_hostile, bogus_and_closed_handles_get_failure) {
  fixture f;
  f.run({}, [&](client& c) -> asio::awaitable<void> {
    std::vector<handle> bogus = bogus_handles();
    auto h = co_await c.open("/f", open_flags::read | open_flags::write | open_flags::creat);
    auto closed = h;
    co_await c.close(h);
    bogus.push_back(closed);
    for (auto& b : bogus) {
      c.send(read_request{c.next_id(), b, 0, 10});
      EXPECT_EQ((co_await c.status_of()).code, failure);
      c.send(write_request{c.next_id(), b, 0, as_bytes_of("x")});
      EXPECT_EQ((co_await c.status_of()).code, failure);
      c.send(readdir_request{c.next_id(), b});
      EXPECT_EQ((co_await c.status_of()).code, failure);
      c.send(fstat_request{c.next_id(), b});
      EXPECT_EQ((co_await c.status_of()).code, failure);
      c.send(close_request{c.next_id(), b});
      EXPECT_EQ((co_await c.status_of()).code, failure);
      c.send(fsync_request{c.next_id(), {}, b});
      EXPECT_EQ((co_await c.status_of()).code, failure);
    }
    // A new handle reusing the closed one's slot does not answer to the old value.
    auto h2 = co_await c.open("/f", open_flags::read);
    EXPECT_NE(h2.value, closed.value);
    c.send(read_request{c.next_id(), closed, 0, 10});
    EXPECT_EQ((co_await c.status_of()).code, failure);
    // Kinds do not mix: READ on a directory, READDIR on a file.
    c.send(opendir_request{c.next_id(), "/"});
    auto dh = (co_await c.recv_as<handle_reply>()).handle;
    c.send(read_request{c.next_id(), dh, 0, 10});
    EXPECT_EQ((co_await c.status_of()).code, failure);
    c.send(readdir_request{c.next_id(), h2});
    EXPECT_EQ((co_await c.status_of()).code, failure);
    // WRITE on a handle opened only for reading.
    c.send(write_request{c.next_id(), h2, 0, as_bytes_of("x")});
    EXPECT_EQ((co_await c.status_of()).code, static_cast<std::uint32_t>(status::permission_denied));
    // Requests behind a CLOSE on the same handle are refused, the CLOSE itself succeeds.
    close_request cl{c.next_id(), h2};
    c.send(cl);
    read_request after{c.next_id(), h2, 0, 1};
    c.send(after);
    std::map<std::uint32_t, std::uint32_t> codes;
    for (int i = 0; i < 2; ++i) {
      auto s = co_await c.status_of();
      codes[s.request_id] = s.code;
    }
    EXPECT_EQ(codes[cl.request_id], 0u);
    EXPECT_EQ(codes[after.request_id], failure);
  });
  EXPECT_FALSE(*f.result);
}

TEST(sftp_server_hostile, opening_until_the_limit_fails_cleanly_and_service_goes_on) {
  fixture f;
  f.run({}, [&](client& c) -> asio::awaitable<void> {
    // Pipelined: 300 opens at once against the default limit of 256.
    std::vector<std::uint32_t> ids;
    for (int i = 0; i < 300; ++i) {
      open_request o{c.next_id(), "/f" + std::to_string(i), open_flags::write | open_flags::creat, {}};
      ids.push_back(o.request_id);
      c.send(o);
    }
    int handles = 0, refused = 0;
    for (int i = 0; i < 300; ++i) {
      auto r = co_await c.recv();
      if (!r) throw std::runtime_error("eof");
      if (std::holds_alternative<handle_reply>(*r)) ++handles;
      else if (std::get<status_reply>(*r).code == failure) ++refused;
    }
    EXPECT_EQ(handles, 256);
    EXPECT_EQ(refused, 44);
    c.send(stat_request{c.next_id(), "/f0"});
    co_await c.recv_as<attrs_reply>();
  });
  EXPECT_EQ(f.core().open_handles(), 0u);
}

TEST(sftp_server_hostile, a_client_that_does_not_read_stalls_only_itself) {
  fixture f;
  auto setup = [](test::stream& client_end, test::stream&) {
    client_end.set_receive_capacity(64 * 1024);  // the server can queue little towards us
  };
  auto result = serve_one(
      f.ioc, f.files, {},
      [&](client& c) -> asio::awaitable<void> {
        auto h = co_await c.open("/big", open_flags::write | open_flags::read | open_flags::creat);
        bytes block(200 * 1024, 7);
        c.send(write_request{c.next_id(), h, 0, block});
        co_await c.status_of();
        // 2000 reads of 200 KiB = 400 MB of replies requested before reading any of them.
        for (int i = 0; i < 2000; ++i) c.send(read_request{c.next_id(), h, 0, 200 * 1024});
        co_await c.flush();
        int got = 0;
        while (got < 2000) {
          auto d = co_await c.recv_as<data_reply>();
          EXPECT_EQ(d.data.size(), 200u * 1024);
          ++got;
        }
        co_await c.close(h);
      },
      true, setup);
  ASSERT_TRUE(result);
  EXPECT_FALSE(*result);
}

TEST(sftp_server_hostile, storage_failures_are_statuses_and_the_session_continues) {
  fixture f;
  f.run({}, [&](client& c) -> asio::awaitable<void> {
    auto h = co_await c.open("/f", open_flags::write | open_flags::creat);
    f.core().faults().fail_nth(0, make_error_code(boost::system::errc::io_error));
    c.send(write_request{c.next_id(), h, 0, as_bytes_of("abc")});
    auto s = co_await c.status_of();
    EXPECT_EQ(s.code, failure);
    EXPECT_FALSE(s.message.value_or("").empty());
    f.core().faults().fail_nth(0, make_error_code(boost::system::errc::no_space_on_device));
    c.send(mkdir_request{c.next_id(), "/d", {}});
    EXPECT_EQ((co_await c.status_of()).code, failure);
    f.core().faults().clear();
    c.send(write_request{c.next_id(), h, 0, as_bytes_of("abc")});
    EXPECT_EQ((co_await c.status_of()).code, 0u);
    co_await c.close(h);
  });
  EXPECT_FALSE(*f.result);
}

TEST(sftp_server_hostile, packet_before_init_ends_the_session) {
  fixture f;
  f.run({}, [&](client& c) -> asio::awaitable<void> {
    c.send(stat_request{1, "/"});
    auto r = co_await c.recv();
    EXPECT_FALSE(r.has_value()) << "no reply, the session ends";
  }, false);
  EXPECT_EQ(*f.result, make_error_code(errc::unexpected_message));
}

TEST(sftp_server_hostile, empty_frames_and_a_second_init_are_ignored) {
  fixture f;
  f.run({}, [&](client& c) -> asio::awaitable<void> {
    c.send_raw(bytes(4, 0));
    c.send(init_request{3, {}});
    c.send(realpath_request{77, "."});
    auto n = co_await c.recv_as<name_reply>();
    EXPECT_EQ(n.request_id, 77u);
  });
  EXPECT_FALSE(*f.result);
}

TEST(sftp_server_hostile, eof_inside_a_packet_is_reported_as_truncated) {
  fixture f;
  f.run({}, [&](client& c) -> asio::awaitable<void> {
    c.send_raw(as_bytes_of(std::string_view{"\0\0\0\x32\x11\0\0", 7}));
    co_return;
  });
  EXPECT_EQ(*f.result, make_error_code(errc::truncated));
}
