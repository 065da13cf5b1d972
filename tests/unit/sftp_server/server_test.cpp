// sftp::server over test::stream and the memory filesystem: the requests, their replies, the
// limits and policies (read clamp, READDIR batches, handles, read-only, allow/deny, umask) and the
// per-handle ordering of pipelined requests.
#include "harness.hpp"

#include <set>

using namespace ferry;
using namespace ferry::sftp_server_test;
namespace asio = boost::asio;

namespace {

sftp::server_options defaults() { return {}; }

fs::memory_options no_umask() {
  fs::memory_options m;
  m.umask = 0;
  return m;
}

}  // namespace

TEST(sftp_server, version_announces_extensions_and_eof_ends_session_cleanly) {
  fixture f;
  f.run(defaults(), [&](client& c) -> asio::awaitable<void> {
    c.send(limits_request{c.next_id(), {}});
    auto r = co_await c.recv_as<extended_reply>();
    limits_reply l;
    EXPECT_FALSE(decode_extended_reply(r, l));
    EXPECT_EQ(l.max_packet_length, 256u * 1024);
    EXPECT_EQ(l.max_read_length, 255u * 1024);
    EXPECT_EQ(l.max_write_length, 255u * 1024);
    EXPECT_EQ(l.max_open_handles, 256u);
  });
  EXPECT_FALSE(*f.result) << f.result->message();
}

TEST(sftp_server, handshake_lists_every_known_extension) {
  fixture f;
  f.run(defaults(), [&](client& c) -> asio::awaitable<void> {
    c.send(init_request{3, {}});
    auto v = co_await c.recv_as<version_reply>();
    EXPECT_EQ(v.version, 3u);
    for (auto n : {"posix-rename@openssh.com", "statvfs@openssh.com", "fstatvfs@openssh.com",
                   "hardlink@openssh.com", "fsync@openssh.com", "lsetstat@openssh.com",
                   "limits@openssh.com", "expand-path@openssh.com", "copy-data",
                   "home-directory", "users-groups-by-id@openssh.com"})
      EXPECT_TRUE(v.extension(n).has_value()) << n;
  }, false);
  EXPECT_FALSE(*f.result);
}

TEST(sftp_server, write_read_stat_close_round_trip) {
  fixture f;
  f.run(defaults(), [&](client& c) -> asio::awaitable<void> {
    auto h = co_await c.open("/a.txt", open_flags::write | open_flags::creat | open_flags::trunc);
    c.send(write_request{c.next_id(), h, 0, as_bytes_of("hello world")});
    EXPECT_EQ((co_await c.status_of()).code, 0u);
    c.send(fstat_request{c.next_id(), h});
    auto a = co_await c.recv_as<attrs_reply>();
    EXPECT_EQ(a.attrs.size, 11u);
    EXPECT_EQ((co_await c.close(h)).code, 0u);

    auto r = co_await c.open("a.txt", open_flags::read);
    c.send(read_request{c.next_id(), r, 6, 100});
    auto d = co_await c.recv_as<data_reply>();
    EXPECT_EQ(std::string(d.data.begin(), d.data.end()), "world");
    c.send(read_request{c.next_id(), r, 11, 100});
    auto eof = co_await c.status_of();
    EXPECT_EQ(eof.code, static_cast<std::uint32_t>(status::eof));
    EXPECT_EQ((co_await c.close(r)).code, 0u);

    c.send(stat_request{c.next_id(), "/a.txt"});
    auto st = co_await c.recv_as<attrs_reply>();
    EXPECT_EQ(st.attrs.size, 11u);
    CO_ASSERT(st.attrs.permissions);
    EXPECT_EQ(*st.attrs.permissions & 0170000, 0100000u);
  });
  EXPECT_FALSE(*f.result);
  EXPECT_EQ(f.core().open_handles(), 0u);
}

TEST(sftp_server, missing_file_gets_no_such_file_with_a_clear_message) {
  fixture f;
  f.run(defaults(), [&](client& c) -> asio::awaitable<void> {
    c.send(open_request{c.next_id(), "/nope", open_flags::read, {}});
    auto s = co_await c.status_of();
    EXPECT_EQ(s.code, static_cast<std::uint32_t>(status::no_such_file));
    EXPECT_EQ(s.message.value_or(""), "No such file or directory");
    c.send(rmdir_request{c.next_id(), "/"});
    auto s2 = co_await c.status_of();
    EXPECT_NE(s2.code, 0u);
    EXPECT_FALSE(s2.message.value_or("").empty());
  });
}

TEST(sftp_server, pipelined_requests_on_one_handle_keep_their_order) {
  fixture f;
  f.run(defaults(), [&](client& c) -> asio::awaitable<void> {
    auto h = co_await c.open("/f", open_flags::read | open_flags::write | open_flags::creat);
    // Everything below is sent before any reply is read: each READ must see the WRITEs sent
    // before it, and the final CLOSE must come after all of them.
    std::vector<std::uint32_t> ids;
    for (int round = 0; round < 20; ++round) {
      std::string v(1000, static_cast<char>('a' + round));
      write_request w{c.next_id(), h, 0, as_bytes_of(v)};
      ids.push_back(w.request_id);
      c.send(w);
      read_request rd{c.next_id(), h, 0, 1000};
      ids.push_back(rd.request_id);
      c.send(rd);
    }
    close_request cl{c.next_id(), h};
    c.send(cl);
    std::map<std::uint32_t, reply> got;
    for (std::size_t i = 0; i < ids.size() + 1; ++i) {
      auto r = co_await c.recv();
      if (!r) throw std::runtime_error("eof");
      got.emplace(*request_id_of(*r), std::move(*r));
    }
    for (int round = 0; round < 20; ++round) {
      auto& w = std::get<status_reply>(got.at(ids[2 * round]));
      EXPECT_EQ(w.code, 0u);
      auto& d = std::get<data_reply>(got.at(ids[2 * round + 1]));
      CO_ASSERT(d.data.size() == 1000u);
      EXPECT_EQ(d.data[0], 'a' + round) << "round " << round;
      EXPECT_EQ(d.data[999], 'a' + round);
    }
    EXPECT_EQ(std::get<status_reply>(got.at(cl.request_id)).code, 0u);
    // The handle is gone after the close.
    c.send(read_request{c.next_id(), h, 0, 10});
    EXPECT_EQ((co_await c.status_of()).code, static_cast<std::uint32_t>(status::failure));
  });
  EXPECT_FALSE(*f.result);
}

TEST(sftp_server, reads_are_clamped_to_the_advertised_length) {
  fixture f;
  f.run(defaults(), [&](client& c) -> asio::awaitable<void> {
    auto h = co_await c.open("/big", open_flags::write | open_flags::creat);
    bytes block(200 * 1024, 0x5a);
    for (int i = 0; i < 3; ++i) {
      c.send(write_request{c.next_id(), h, std::uint64_t(i) * block.size(), block});
      EXPECT_EQ((co_await c.status_of()).code, 0u);
    }
    co_await c.close(h);
    auto r = co_await c.open("/big", open_flags::read);
    c.send(read_request{c.next_id(), r, 0, 1024 * 1024});
    auto d = co_await c.recv_as<data_reply>();
    EXPECT_EQ(d.data.size(), 255u * 1024);
    co_await c.close(r);
  });
}

TEST(sftp_server, readdir_returns_every_entry_in_batches_then_eof) {
  fixture f;
  f.run(defaults(), [&](client& c) -> asio::awaitable<void> {
    c.send(mkdir_request{c.next_id(), "/d", {}});
    EXPECT_EQ((co_await c.status_of()).code, 0u);
    for (int i = 0; i < 300; ++i) {
      auto h = co_await c.open("/d/file" + std::to_string(i), open_flags::write | open_flags::creat);
      co_await c.close(h);
    }
    c.send(opendir_request{c.next_id(), "/d"});
    auto dh = (co_await c.recv_as<handle_reply>()).handle;
    std::set<std::string> names;
    int batches = 0;
    for (;;) {
      c.send(readdir_request{c.next_id(), dh});
      auto r = co_await c.recv();
      if (auto* s = std::get_if<status_reply>(&*r)) {
        EXPECT_EQ(s->code, static_cast<std::uint32_t>(status::eof));
        break;
      }
      auto& n = std::get<name_reply>(*r);
      ++batches;
      for (auto& e : n.names.entries) {
        EXPECT_NE(e.longname.find(e.filename), std::string::npos);
        EXPECT_EQ(e.longname[0], '-');
        names.insert(e.filename);
      }
    }
    EXPECT_EQ(names.size(), 300u);
    EXPECT_GE(batches, 2);
    EXPECT_EQ((co_await c.close(dh)).code, 0u);
  });
}

TEST(sftp_server, handle_limit_refuses_more_opens_and_recovers_after_close) {
  fixture f;
  sftp::server_options o;
  o.max_handles = 4;
  f.run(o, [&](client& c) -> asio::awaitable<void> {
    std::vector<handle> hs;
    for (int i = 0; i < 4; ++i)
      hs.push_back(co_await c.open("/h" + std::to_string(i), open_flags::write | open_flags::creat));
    c.send(open_request{c.next_id(), "/h9", open_flags::write | open_flags::creat, {}});
    auto s = co_await c.status_of();
    EXPECT_EQ(s.code, static_cast<std::uint32_t>(status::failure));
    EXPECT_NE(s.message->find("too many open handles"), std::string::npos);
    c.send(opendir_request{c.next_id(), "/"});
    EXPECT_EQ((co_await c.status_of()).code, static_cast<std::uint32_t>(status::failure));
    co_await c.close(hs[0]);
    auto again = co_await c.open("/h9", open_flags::write | open_flags::creat);
    EXPECT_EQ((co_await c.close(again)).code, 0u);
  });
  EXPECT_EQ(f.core().open_handles(), 0u) << "handles left open are closed when the session ends";
}

TEST(sftp_server, session_end_closes_handles_left_open) {
  fixture f;
  f.run(defaults(), [&](client& c) -> asio::awaitable<void> {
    co_await c.open("/x", open_flags::write | open_flags::creat);
    c.send(opendir_request{c.next_id(), "/"});
    co_await c.recv_as<handle_reply>();
  });
  EXPECT_EQ(f.core().open_handles(), 0u);
}

TEST(sftp_server, read_only_refuses_every_change_and_serves_reads) {
  fixture f;
  // Prepare content with a writable session first.
  f.run(defaults(), [&](client& c) -> asio::awaitable<void> {
    auto h = co_await c.open("/keep", open_flags::write | open_flags::creat);
    c.send(write_request{c.next_id(), h, 0, as_bytes_of("data")});
    co_await c.status_of();
    co_await c.close(h);
  });
  sftp::server_options o;
  o.read_only = true;
  f.run(o, [&](client& c) -> asio::awaitable<void> {
    auto denied = static_cast<std::uint32_t>(status::permission_denied);
    c.send(open_request{c.next_id(), "/new", open_flags::write | open_flags::creat, {}});
    EXPECT_EQ((co_await c.status_of()).code, denied);
    c.send(mkdir_request{c.next_id(), "/dir", {}});
    EXPECT_EQ((co_await c.status_of()).code, denied);
    c.send(remove_request{c.next_id(), "/keep"});
    EXPECT_EQ((co_await c.status_of()).code, denied);
    c.send(rename_request{c.next_id(), "/keep", "/other"});
    EXPECT_EQ((co_await c.status_of()).code, denied);
    c.send(setstat_request{c.next_id(), "/keep", perms(0600)});
    EXPECT_EQ((co_await c.status_of()).code, denied);
    c.send(posix_rename_request{c.next_id(), {}, "/keep", "/other"});
    EXPECT_EQ((co_await c.status_of()).code, denied);
    auto h = co_await c.open("/keep", open_flags::read);
    c.send(read_request{c.next_id(), h, 0, 10});
    auto d = co_await c.recv_as<data_reply>();
    EXPECT_EQ(std::string(d.data.begin(), d.data.end()), "data");
    co_await c.close(h);
  });
}

TEST(sftp_server, deny_and_allow_lists_refuse_by_request_name) {
  fixture f;
  sftp::server_options o;
  o.denied_requests = {"remove", "statvfs"};
  f.run(o, [&](client& c) -> asio::awaitable<void> {
    auto denied = static_cast<std::uint32_t>(status::permission_denied);
    auto h = co_await c.open("/x", open_flags::write | open_flags::creat);
    co_await c.close(h);
    c.send(remove_request{c.next_id(), "/x"});
    EXPECT_EQ((co_await c.status_of()).code, denied);
    c.send(statvfs_request{c.next_id(), {}, "/"});
    EXPECT_EQ((co_await c.status_of()).code, denied);
    c.send(stat_request{c.next_id(), "/x"});
    co_await c.recv_as<attrs_reply>();
  });
  sftp::server_options a;
  a.allowed_requests = {"stat", "lstat", "realpath"};
  f.run(a, [&](client& c) -> asio::awaitable<void> {
    c.send(stat_request{c.next_id(), "/x"});
    co_await c.recv_as<attrs_reply>();
    c.send(open_request{c.next_id(), "/x", open_flags::read, {}});
    EXPECT_EQ((co_await c.status_of()).code, static_cast<std::uint32_t>(status::permission_denied));
  });
}

TEST(sftp_server, umask_applies_to_created_files_and_directories) {
  fixture f{no_umask()};
  sftp::server_options o;
  o.umask = 027;
  f.run(o, [&](client& c) -> asio::awaitable<void> {
    c.send(mkdir_request{c.next_id(), "/d", perms(0777)});
    co_await c.status_of();
    c.send(stat_request{c.next_id(), "/d"});
    EXPECT_EQ(*(co_await c.recv_as<attrs_reply>()).attrs.permissions & 07777, 0750u);
    auto h = co_await c.open("/f", open_flags::write | open_flags::creat, perms(0666));
    co_await c.close(h);
    c.send(stat_request{c.next_id(), "/f"});
    EXPECT_EQ(*(co_await c.recv_as<attrs_reply>()).attrs.permissions & 07777, 0640u);
    // setstat is not creation: no umask
    c.send(setstat_request{c.next_id(), "/f", perms(0666)});
    EXPECT_EQ((co_await c.status_of()).code, 0u);
    c.send(stat_request{c.next_id(), "/f"});
    EXPECT_EQ(*(co_await c.recv_as<attrs_reply>()).attrs.permissions & 07777, 0666u);
  });
}

TEST(sftp_server, unknown_extension_and_unknown_type_are_op_unsupported) {
  fixture f;
  f.run(defaults(), [&](client& c) -> asio::awaitable<void> {
    auto unsupported = static_cast<std::uint32_t>(status::op_unsupported);
    c.send(extended_request{c.next_id(), "nonsense@example.com", {{1, 2, 3}}});
    EXPECT_EQ((co_await c.status_of()).code, unsupported);
    c.send_raw(as_bytes_of(std::string_view{"\0\0\0\5\x63\0\0\0\x4d", 9}));  // type 99, id 77
    auto s = co_await c.status_of();
    EXPECT_EQ(s.request_id, 77u);
    EXPECT_EQ(s.code, unsupported);
  });
}

TEST(sftp_server, paths_and_links) {
  fixture f;
  f.run(defaults(), [&](client& c) -> asio::awaitable<void> {
    auto h = co_await c.open("/t", open_flags::write | open_flags::creat);
    c.send(write_request{c.next_id(), h, 0, as_bytes_of("0123456789")});
    co_await c.status_of();
    co_await c.close(h);
    c.send(symlink_request{c.next_id(), "/t", "/link"});
    EXPECT_EQ((co_await c.status_of()).code, 0u);
    c.send(readlink_request{c.next_id(), "/link"});
    EXPECT_EQ((co_await c.recv_as<name_reply>()).names.entries.at(0).filename, "/t");
    c.send(lstat_request{c.next_id(), "/link"});
    EXPECT_EQ(*(co_await c.recv_as<attrs_reply>()).attrs.permissions & 0170000, 0120000u);
    c.send(hardlink_request{c.next_id(), {}, "/t", "/hard"});
    EXPECT_EQ((co_await c.status_of()).code, 0u);
    c.send(rename_request{c.next_id(), "/hard", "/t"});
    EXPECT_EQ((co_await c.status_of()).code, static_cast<std::uint32_t>(status::failure))
        << "v3 RENAME does not replace";
    c.send(posix_rename_request{c.next_id(), {}, "/hard", "/t2"});
    EXPECT_EQ((co_await c.status_of()).code, 0u);
    c.send(realpath_request{c.next_id(), "/a/../t2/."});
    EXPECT_EQ((co_await c.recv_as<name_reply>()).names.entries.at(0).filename, "/t2");
    c.send(realpath_request{c.next_id(), "not-yet"});
    EXPECT_EQ((co_await c.recv_as<name_reply>()).names.entries.at(0).filename, "/not-yet");
    c.send(realpath_request{c.next_id(), "."});
    EXPECT_EQ((co_await c.recv_as<name_reply>()).names.entries.at(0).filename, "/");
    c.send(expand_path_request{c.next_id(), {}, "~/t2"});
    EXPECT_EQ((co_await c.recv_as<name_reply>()).names.entries.at(0).filename, "/t2");
    c.send(home_directory_request{c.next_id(), {}, ""});
    EXPECT_EQ((co_await c.recv_as<name_reply>()).names.entries.at(0).filename, "/");
    c.send(home_directory_request{c.next_id(), {}, "someone-else"});
    EXPECT_EQ((co_await c.status_of()).code, static_cast<std::uint32_t>(status::no_such_file));
    c.send(remove_request{c.next_id(), "/link"});
    EXPECT_EQ((co_await c.status_of()).code, 0u);
    c.send(stat_request{c.next_id(), "/t"});
    EXPECT_EQ((co_await c.recv_as<attrs_reply>()).attrs.size, 10u);
  });
}

TEST(sftp_server, copy_data_fsync_statvfs_and_lsetstat) {
  fixture f;
  f.run(defaults(), [&](client& c) -> asio::awaitable<void> {
    auto src = co_await c.open("/src", open_flags::read | open_flags::write | open_flags::creat);
    bytes data(200000);
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 7);
    c.send(write_request{c.next_id(), src, 0, data});
    EXPECT_EQ((co_await c.status_of()).code, 0u);
    auto dst = co_await c.open("/dst", open_flags::write | open_flags::creat);
    c.send(copy_data_request{c.next_id(), {}, src, 0, 0, dst, 10});
    EXPECT_EQ((co_await c.status_of()).code, 0u);
    c.send(fsync_request{c.next_id(), {}, dst});
    EXPECT_EQ((co_await c.status_of()).code, 0u);
    // Overlapping copy within one file is refused.
    c.send(copy_data_request{c.next_id(), {}, src, 0, 100, src, 50});
    EXPECT_EQ((co_await c.status_of()).code, static_cast<std::uint32_t>(status::failure));
    co_await c.close(dst);
    co_await c.close(src);
    auto r = co_await c.open("/dst", open_flags::read);
    c.send(read_request{c.next_id(), r, 10, 1000});
    auto d = co_await c.recv_as<data_reply>();
    CO_ASSERT(d.data.size() == 1000u);
    EXPECT_TRUE(std::equal(d.data.begin(), d.data.end(), data.begin()));
    c.send(fstat_request{c.next_id(), r});
    EXPECT_EQ((co_await c.recv_as<attrs_reply>()).attrs.size, 200010u);
    c.send(fstatvfs_request{c.next_id(), {}, r});
    statvfs_reply sv;
    EXPECT_FALSE(decode_extended_reply(co_await c.recv_as<extended_reply>(), sv));
    co_await c.close(r);
    c.send(statvfs_request{c.next_id(), {}, "/"});
    EXPECT_FALSE(decode_extended_reply(co_await c.recv_as<extended_reply>(), sv));
    c.send(lsetstat_request{c.next_id(), {}, "/dst", perms(0600)});
    EXPECT_EQ((co_await c.status_of()).code, 0u);
    c.send(symlink_request{c.next_id(), "/dst", "/ln"});
    co_await c.status_of();
    c.send(lsetstat_request{c.next_id(), {}, "/ln", perms(0600)});
    EXPECT_EQ((co_await c.status_of()).code, static_cast<std::uint32_t>(status::op_unsupported));
  });
}

TEST(sftp_server, users_groups_by_id_uses_the_configured_names) {
  fixture f;
  sftp::server_options o;
  o.user_name = [](std::uint32_t id) -> std::optional<std::string> {
    if (id == 0) return "root";
    return std::nullopt;
  };
  o.group_name = [](std::uint32_t id) -> std::optional<std::string> {
    return "g" + std::to_string(id);
  };
  f.run(o, [&](client& c) -> asio::awaitable<void> {
    users_groups_by_id_request r{c.next_id(), {}, {{0, 5}}, {{7}}};
    c.send(r);
    users_groups_by_id_reply out;
    EXPECT_FALSE(decode_extended_reply(co_await c.recv_as<extended_reply>(), out));
    EXPECT_EQ(out.usernames.names, (std::vector<std::string>{"root", ""}));
    EXPECT_EQ(out.groupnames.names, (std::vector<std::string>{"g7"}));
    // ls -l owners come from the same lookup
    c.send(opendir_request{c.next_id(), "/"});
    auto h = (co_await c.recv_as<handle_reply>()).handle;
    c.send(readdir_request{c.next_id(), h});
    co_await c.recv();
    co_await c.close(h);
  });
}

TEST(sftp_server, many_sessions_share_one_server_object) {
  asio::io_context ioc;
  auto files = fs::make_memory_filesystem(ioc.get_executor());
  sftp::server<fs::memory_filesystem> srv{files, {}};
  constexpr int sessions = 4;
  std::vector<std::pair<test::stream, test::stream>> pairs;
  for (int i = 0; i < sessions; ++i) pairs.push_back(test::make_stream_pair(ioc.get_executor()));
  int completed = 0, clients_done = 0;
  for (int i = 0; i < sessions; ++i) {
    srv.async_run(pairs[i].second, [&, i](error_code ec) {
      EXPECT_FALSE(ec);
      ++completed;
      pairs[i].second.shutdown_send();
    });
    asio::co_spawn(
        ioc,
        [&, i]() -> asio::awaitable<void> {
          client c{pairs[i].first};
          co_await c.handshake();
          std::string name = "/s" + std::to_string(i);
          auto h = co_await c.open(name, open_flags::write | open_flags::creat);
          c.send(write_request{c.next_id(), h, 0, as_bytes_of(name)});
          co_await c.status_of();
          co_await c.close(h);
          c.send(stat_request{c.next_id(), name});
          EXPECT_EQ((co_await c.recv_as<attrs_reply>()).attrs.size, name.size());
          co_await c.flush();
          pairs[i].first.shutdown_send();
          while (co_await c.recv()) {
          }
          ++clients_done;
        },
        asio::detached);
  }
  ioc.run_for(std::chrono::seconds(20));
  EXPECT_EQ(completed, sessions);
  EXPECT_EQ(clients_done, sessions);
}
