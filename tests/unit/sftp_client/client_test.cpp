// sftp::client against a scripted in-memory server over test::stream: the handshake, every
// well-behaved path of the pipelines, and a server that lies (unknown ids, wrong types, oversized
// lengths, short or long DATA, errors, a closed stream): typed error_codes, never a crash or hang.
#include "scripted_server.hpp"

#include <ferry/sftp/client.hpp>
#include <ferry/test/stream.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include "support/process.hpp"
#include "support/run_coroutine.hpp"

#include <functional>
#include <random>

namespace {

namespace asio = boost::asio;
namespace sftp = ferry::sftp;
namespace proto = ferry::sftp::proto;
using ferry::bytes;
using ferry::error_code;
using ferry::test_sftp_client::memory_store;
using ferry::test_sftp_client::scripted_server;
using ferry_test_support::run_coroutine;
using ferry_test_support::temp_dir;
using client_t = sftp::client<ferry::test::stream>;

bytes random_bytes(std::size_t n, unsigned seed = 1) {
  std::mt19937 rng{seed};
  bytes b(n);
  for (auto& x : b) x = static_cast<std::uint8_t>(rng());
  return b;
}

std::string as_string(const bytes& b) { return {b.begin(), b.end()}; }

std::uint32_t id_of(const proto::request& r) {
  return std::visit(
      [](const auto& m) -> std::uint32_t {
        if constexpr (requires { m.request_id; }) return m.request_id;
        else return 0;
      },
      r);
}

proto::extension_pair ext(std::string_view name) { return {std::string{name}, "1"}; }

// A pair, a server on one end running the script, a client on the other.
struct fixture {
  explicit fixture(asio::io_context& ioc, ferry::test::fail_count* fc = nullptr) {
    auto [a, b] = ferry::test::make_stream_pair(ioc.get_executor(), fc);
    client.emplace(std::move(a));
    server = std::make_shared<scripted_server>(scripted_server{std::move(b), {}, {}});
    server->on_request = [this](const proto::request& r, bytes& out) {
      if (!store.answer(r, out)) proto::encode_packet(out, proto::make_status(0, sftp::status::op_unsupported));
    };
  }
  // The server's coroutine keeps the server alive: it may still be unwinding after the test body
  // (and this fixture) ended.
  void start() {
    asio::co_spawn(client->get_executor(), [s = server]() { return s->run(); }, asio::detached);
  }

  memory_store store;
  std::optional<client_t> client;
  std::shared_ptr<scripted_server> server;
};

TEST(SftpClient, InitReadsVersionAndLimits) {
  run_coroutine([](asio::io_context& ioc) -> asio::awaitable<void> {
    fixture f{ioc};
    f.server->hello.extensions.pairs = {ext("limits@openssh.com"), ext("fsync@openssh.com")};
    auto inner = f.server->on_request;
    f.server->on_request = [inner](const proto::request& r, bytes& out) {
      if (auto* l = std::get_if<proto::limits_request>(&r)) {
        proto::limits_reply rep{l->request_id, 65536, 4000, 5000, 10};
        proto::encode_packet(out, rep);
      } else {
        inner(r, out);
      }
    };
    f.start();
    co_await f.client->async_init(asio::use_awaitable);
    EXPECT_EQ(f.client->limits().max_packet_length, 65536u);
    EXPECT_EQ(f.client->limits().max_read_length, 4000u);
    EXPECT_EQ(f.client->read_block(), 4000u);
    EXPECT_TRUE(f.client->supports("fsync@openssh.com"));
    EXPECT_FALSE(f.client->supports("hardlink@openssh.com"));
  });
}

TEST(SftpClient, ReadAtAndWriteAtSpanManyRequests) {
  run_coroutine([](asio::io_context& ioc) -> asio::awaitable<void> {
    fixture f{ioc};
    f.start();
    co_await f.client->async_init(asio::use_awaitable);
    auto data = random_bytes(300'000);  // ten blocks of 32 KiB, all in flight at once
    auto file = co_await f.client->async_open(
        "/a", sftp::open_mode::write | sftp::open_mode::create, asio::use_awaitable);
    auto n = co_await file.async_write_at(0, data, asio::use_awaitable);
    EXPECT_EQ(n, data.size());
    EXPECT_EQ(f.store.files["/a"], data);
    bytes back(400'000);
    n = co_await file.async_read_at(0, back, asio::use_awaitable);
    EXPECT_EQ(n, data.size());
    back.resize(n);
    EXPECT_EQ(back, data);
    auto [ec, none] = co_await file.async_read_at(data.size(), back, asio::as_tuple(asio::use_awaitable));
    EXPECT_EQ(ec, sftp::status::eof);
    EXPECT_EQ(none, 0u);
    auto st = co_await file.async_stat(asio::use_awaitable);
    EXPECT_EQ(st.size, data.size());
    co_await file.async_close(asio::use_awaitable);
  });
}

TEST(SftpClient, DownloadAndUploadRoundTrip) {
  run_coroutine([](asio::io_context& ioc) -> asio::awaitable<void> {
    temp_dir dir{"ferry-sftpc-"};
    fixture f{ioc};
    f.start();
    co_await f.client->async_init(asio::use_awaitable);
    auto data = random_bytes(1'000'003);
    f.store.files["/src"] = data;
    std::vector<std::uint64_t> seen;
    sftp::transfer_options t;
    t.on_progress = [&](const sftp::transfer_progress& p) { seen.push_back(p.file_bytes); };
    auto local = (dir / "got").string();
    auto n = co_await f.client->async_download("/src", local, t, asio::use_awaitable);
    EXPECT_EQ(n, data.size());
    EXPECT_EQ(ferry_test_support::read_file(local), as_string(data));
    EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
    EXPECT_EQ(seen.empty() ? 0 : seen.back(), data.size());

    n = co_await f.client->async_upload(local, "/dst", t, asio::use_awaitable);
    EXPECT_EQ(n, data.size());
    EXPECT_EQ(f.store.files["/dst"], data);
  });
}

// A download to a character device (sftp's "get FILE /dev/null") writes without truncating it at
// the end, as OpenSSH's sftp does; ftruncate on it would fail with EINVAL.
TEST(SftpClient, DownloadToDevNull) {
  run_coroutine([](asio::io_context& ioc) -> asio::awaitable<void> {
    fixture f{ioc};
    f.start();
    co_await f.client->async_init(asio::use_awaitable);
    f.store.files["/src"] = random_bytes(300'007);
    auto [ec, n] = co_await f.client->async_download("/src", "/dev/null", {},
                                                     asio::as_tuple(asio::use_awaitable));
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(n, 300'007u);
    sftp::transfer_options resume;
    resume.resume = true;
    auto [rec, rn] = co_await f.client->async_download("/src", "/dev/null", resume,
                                                       asio::as_tuple(asio::use_awaitable));
    EXPECT_FALSE(rec) << rec.message();
    EXPECT_EQ(rn, 300'007u);
  });
}

TEST(SftpClient, ConcurrentTransfersShareOneSession) {
  run_coroutine([](asio::io_context& ioc) -> asio::awaitable<void> {
    temp_dir dir{"ferry-sftpc-"};
    fixture f{ioc};
    f.start();
    co_await f.client->async_init(asio::use_awaitable);
    f.store.files["/one"] = random_bytes(500'000, 11);
    f.store.files["/two"] = random_bytes(700'000, 12);
    int done = 0;
    error_code e1, e2;
    auto one = (dir / "one").string();
    auto two = (dir / "two").string();
    f.client->async_download("/one", one, {}, [&](error_code ec, std::uint64_t) {
      e1 = ec;
      ++done;
    });
    f.client->async_download("/two", two, {}, [&](error_code ec, std::uint64_t) {
      e2 = ec;
      ++done;
    });
    asio::steady_timer t{ioc};
    while (done < 2) {
      t.expires_after(std::chrono::milliseconds(1));
      co_await t.async_wait(asio::use_awaitable);
    }
    EXPECT_FALSE(e1);
    EXPECT_FALSE(e2);
    EXPECT_EQ(ferry_test_support::read_file(one), as_string(f.store.files["/one"]));
    EXPECT_EQ(ferry_test_support::read_file(two), as_string(f.store.files["/two"]));
  });
}

TEST(SftpClient, CancelledReadAbandonsItsRequestsAndTheSessionGoesOn) {
  run_coroutine([](asio::io_context& ioc) -> asio::awaitable<void> {
    fixture f{ioc};
    f.store.files["/x"] = random_bytes(1000);
    bool hold = true;
    std::vector<proto::read_request> held;
    auto inner = f.server->on_request;
    f.server->on_request = [&, inner](const proto::request& r, bytes& out) {
      if (auto* rd = std::get_if<proto::read_request>(&r); rd && hold) held.push_back(*rd);
      else inner(r, out);
    };
    f.start();
    co_await f.client->async_init(asio::use_awaitable);
    auto file = co_await f.client->async_open("/x", sftp::open_mode::read, asio::use_awaitable);
    asio::cancellation_signal cancel;
    bytes buf(1000);
    error_code got;
    bool completed = false;
    file.async_read_at(0, buf, asio::bind_cancellation_slot(cancel.slot(), [&](error_code ec, std::size_t) {
                         got = ec;
                         completed = true;
                       }));
    asio::steady_timer t{ioc};
    while (held.empty()) {
      t.expires_after(std::chrono::milliseconds(1));
      co_await t.async_wait(asio::use_awaitable);
    }
    cancel.emit(asio::cancellation_type::terminal);
    while (!completed) {
      t.expires_after(std::chrono::milliseconds(1));
      co_await t.async_wait(asio::use_awaitable);
    }
    EXPECT_EQ(got, asio::error::operation_aborted);
    // The late reply to the abandoned request is read and dropped; the session still works.
    bytes late;
    f.store.answer(held.front(), late);
    co_await asio::async_write(f.server->stream, asio::buffer(late), asio::use_awaitable);
    hold = false;
    auto n = co_await file.async_read_at(0, buf, asio::use_awaitable);
    EXPECT_EQ(n, 1000u);
  });
}

TEST(SftpClient, ShortDataIsAskedAgainForTheRest) {
  run_coroutine([](asio::io_context& ioc) -> asio::awaitable<void> {
    temp_dir dir{"ferry-sftpc-"};
    fixture f{ioc};
    f.store.max_read = 1000;  // the server returns at most 1000 bytes per READ
    f.start();
    co_await f.client->async_init(asio::use_awaitable);
    auto data = random_bytes(200'000, 7);
    f.store.files["/src"] = data;
    auto local = (dir / "got").string();
    co_await f.client->async_download("/src", local, {}, asio::use_awaitable);
    EXPECT_EQ(ferry_test_support::read_file(local), as_string(data));
  });
}

// A server whose answer to READ (after the handshake) is the given bytes, whatever they are.
template <class Lie>
void expect_read_error(Lie lie, error_code want) {
  run_coroutine([&](asio::io_context& ioc) -> asio::awaitable<void> {
    fixture f{ioc};
    f.store.files["/src"] = random_bytes(100);
    auto inner = f.server->on_request;
    f.server->on_request = [&, inner](const proto::request& r, bytes& out) {
      if (auto* rd = std::get_if<proto::read_request>(&r)) lie(*rd, out);
      else inner(r, out);
    };
    f.start();
    co_await f.client->async_init(asio::use_awaitable);
    auto file = co_await f.client->async_open("/src", sftp::open_mode::read, asio::use_awaitable);
    bytes buf(100);
    auto [ec, n] = co_await file.async_read_at(0, buf, asio::as_tuple(asio::use_awaitable));
    EXPECT_EQ(ec, want) << ec.message();
    EXPECT_EQ(n, 0u);
  });
}

TEST(SftpClientHostile, ReplyWithUnknownIdEndsTheSession) {
  expect_read_error(
      [](const proto::read_request& r, bytes& out) {
        proto::encode_packet(out, proto::make_status(r.request_id + 1000, sftp::status::ok));
      },
      ferry::make_error_code(ferry::errc::unexpected_message));
}

TEST(SftpClientHostile, ReplyOfAWrongTypeIsRefused) {
  expect_read_error(
      [](const proto::read_request& r, bytes& out) {
        proto::encode_packet(out, proto::handle_reply{r.request_id, {"x"}});
      },
      ferry::make_error_code(ferry::errc::unexpected_message));
}

TEST(SftpClientHostile, OversizedLengthIsRefused) {
  expect_read_error(
      [](const proto::read_request&, bytes& out) {
        bytes huge = {0x7f, 0xff, 0xff, 0xff, 103};
        out.insert(out.end(), huge.begin(), huge.end());
      },
      ferry::make_error_code(ferry::errc::length_limit));
}

TEST(SftpClientHostile, MoreDataThanAskedIsRefused) {
  expect_read_error(
      [](const proto::read_request& r, bytes& out) {
        proto::encode_packet(out, proto::data_reply{r.request_id, bytes(r.length + 1, 1)});
      },
      ferry::make_error_code(ferry::errc::bad_value));
}

TEST(SftpClientHostile, EmptyDataIsRefused) {
  expect_read_error(
      [](const proto::read_request& r, bytes& out) {
        proto::encode_packet(out, proto::data_reply{r.request_id, {}});
      },
      ferry::make_error_code(ferry::errc::bad_value));
}

TEST(SftpClientHostile, TruncatedDataIsRefused) {
  expect_read_error(
      [](const proto::read_request& r, bytes& out) {
        // DATA whose string says 50 bytes but the packet holds 10.
        bytes body;
        ferry::wire::writer w{body};
        w.u8(103);
        w.u32(r.request_id);
        w.u32(50);
        w.raw(ferry::byte_view{bytes(10, 2)});
        ferry::wire::writer framed{out};
        framed.string(ferry::byte_view{body});
      },
      ferry::make_error_code(ferry::errc::truncated));
}

TEST(SftpClientHostile, ServerClosingIsConnectionLost) {
  run_coroutine([](asio::io_context& ioc) -> asio::awaitable<void> {
    fixture f{ioc};
    f.store.files["/src"] = random_bytes(100);
    f.server->on_request = [&](const proto::request& r, bytes& out) {
      if (std::holds_alternative<proto::read_request>(r)) {
        f.server->stream.close();
        f.server->stop_reading = true;
      } else {
        f.store.answer(r, out);
      }
    };
    f.start();
    co_await f.client->async_init(asio::use_awaitable);
    auto file = co_await f.client->async_open("/src", sftp::open_mode::read, asio::use_awaitable);
    bytes buf(100);
    auto [ec, n] = co_await file.async_read_at(0, buf, asio::as_tuple(asio::use_awaitable));
    EXPECT_EQ(ec, sftp::status::connection_lost) << ec.message();
    // Every later operation fails the same way, without waiting.
    auto [ec2, a] = co_await f.client->async_stat("/src", asio::as_tuple(asio::use_awaitable));
    EXPECT_EQ(ec2, sftp::status::connection_lost);
  });
}

TEST(SftpClientHostile, StatusErrorsAreTypedWithTheServersMessage) {
  run_coroutine([](asio::io_context& ioc) -> asio::awaitable<void> {
    fixture f{ioc};
    f.server->on_request = [](const proto::request& r, bytes& out) {
      auto id = id_of(r);
      proto::encode_packet(out, proto::make_status(id, sftp::status::permission_denied, "go away"));
    };
    f.start();
    co_await f.client->async_init(asio::use_awaitable);
    auto [ec, a] = co_await f.client->async_stat("/x", asio::as_tuple(asio::use_awaitable));
    EXPECT_EQ(ec, sftp::status::permission_denied);
    EXPECT_EQ(ec.category(), sftp::sftp_category());
    EXPECT_EQ(ec, boost::system::errc::permission_denied);  // the errno condition
    EXPECT_EQ(f.client->last_status().message.value_or(""), "go away");
    // The session goes on after an error status.
    auto [ec2, p] = co_await f.client->async_realpath(".", asio::as_tuple(asio::use_awaitable));
    EXPECT_EQ(ec2, sftp::status::permission_denied);
  });
}

TEST(SftpClientHostile, WrongVersionIsRefused) {
  run_coroutine([](asio::io_context& ioc) -> asio::awaitable<void> {
    fixture f{ioc};
    f.server->hello.version = 6;
    f.start();
    auto [ec] = co_await f.client->async_init(asio::as_tuple(asio::use_awaitable));
    EXPECT_EQ(ec, ferry::make_error_code(ferry::errc::unsupported));
  });
}

TEST(SftpClientHostile, MalformedNameReplyFailsOnlyThatRequest) {
  run_coroutine([](asio::io_context& ioc) -> asio::awaitable<void> {
    fixture f{ioc};
    f.server->on_request = [&](const proto::request& r, bytes& out) {
      if (auto* rp = std::get_if<proto::realpath_request>(&r)) {
        bytes body{104, 0, 0, 0, 0, 0, 0, 0, 9};  // NAME with count 9 and no entries
        body[4] = static_cast<std::uint8_t>(rp->request_id);
        ferry::wire::writer w{out};
        w.string(ferry::byte_view{body});
      } else {
        f.store.answer(r, out);
      }
    };
    f.store.files["/x"] = bytes(5);
    f.start();
    co_await f.client->async_init(asio::use_awaitable);
    auto [ec, p] = co_await f.client->async_realpath(".", asio::as_tuple(asio::use_awaitable));
    EXPECT_EQ(ec, ferry::make_error_code(ferry::errc::truncated));
    auto a = co_await f.client->async_stat("/x", asio::use_awaitable);
    EXPECT_EQ(a.size, 5u);
  });
}

TEST(SftpClient, UnannouncedExtensionFailsWithoutARoundTrip) {
  run_coroutine([](asio::io_context& ioc) -> asio::awaitable<void> {
    fixture f{ioc};
    f.start();
    co_await f.client->async_init(asio::use_awaitable);
    auto before = f.server->requests;
    auto [ec] = co_await f.client->async_hardlink("a", "b", asio::as_tuple(asio::use_awaitable));
    EXPECT_EQ(ec, sftp::status::op_unsupported);
    auto [ec2, s] = co_await f.client->async_statvfs("/", asio::as_tuple(asio::use_awaitable));
    EXPECT_EQ(ec2, sftp::status::op_unsupported);
    EXPECT_EQ(f.server->requests, before);
  });
}

// Every I/O operation of both ends is made to fail in turn: the client completes every operation
// with an error or success, and nothing hangs or crashes.
// Downloads with the n-th I/O operation failing with `injected`, for n = 0, 1, ... until a run
// gets past the last operation. What is on disk is always a prefix of the source; on_failure sees
// the error of each run that failed.
void failure_sweep(error_code injected, const std::function<void(std::size_t, error_code)>& on_failure) {
  bool succeeded = false;
  for (std::size_t n = 0; n < 2000 && !succeeded; ++n) {
    temp_dir dir{"ferry-sftpc-"};
    ferry::test::fail_count fc{n, injected};
    bool finished = false;
    run_coroutine([&](asio::io_context& ioc) -> asio::awaitable<void> {
      fixture f{ioc, &fc};
      f.store.files["/src"] = random_bytes(200'000, 3);
      f.start();
      auto [ec] = co_await f.client->async_init(asio::as_tuple(asio::use_awaitable));
      if (ec) {
        on_failure(n, ec);
      } else {
        auto local = (dir / "got").string();
        auto [dec, got] = co_await f.client->async_download("/src", local, {},
                                                          asio::as_tuple(asio::use_awaitable));
        // Never a hole: what is on disk is a prefix of the source.
        auto have = ferry_test_support::read_file(local);
        auto src = as_string(f.store.files["/src"]);
        EXPECT_EQ(have, src.substr(0, have.size()));
        if (!dec) {
          EXPECT_EQ(have, src);
          succeeded = true;
        } else {
          on_failure(n, dec);
        }
      }
      finished = true;
    });
    EXPECT_TRUE(finished) << n;
  }
  EXPECT_TRUE(succeeded);  // the sweep went past the last I/O operation
}

TEST(SftpClientHostile, FailureSweep) {
  failure_sweep(make_error_code(ferry::errc::injected_failure), [](std::size_t, error_code) {});
}

// A server that dies shows as a write failing with EPIPE as often as a read seeing EOF, whichever
// the client does first (an OpenSSH sftp-server killed mid-download did both): either way, at
// every I/O point, the client reports connection_lost.
TEST(SftpClientHostile, BrokenPipeAtAnyPointIsConnectionLost) {
  failure_sweep(make_error_code(asio::error::broken_pipe), [](std::size_t n, error_code ec) {
    EXPECT_EQ(ec, sftp::status::connection_lost) << n << ": " << ec.message();
  });
}

TEST(SftpClientProto, ViewsEncodeAsTheOwningStructs) {
  bytes data = random_bytes(100);
  proto::write_request owned{7, {"hh"}, 1234, data};
  proto::write_request_view view;
  view.request_id = 7;
  view.handle = {"hh"};
  view.offset = 1234;
  view.data.value = data;
  EXPECT_EQ(ferry::wire::encode(owned), ferry::wire::encode(view));

  proto::data_reply d{9, data};
  auto packet = ferry::wire::encode(d);
  proto::data_reply_view dv;
  ASSERT_FALSE(ferry::wire::decode(packet, dv));
  EXPECT_EQ(dv.request_id, 9u);
  EXPECT_TRUE(std::equal(dv.data.value.begin(), dv.data.value.end(), data.begin(), data.end()));

  proto::reply_header h;
  EXPECT_FALSE(proto::peek_reply_header(packet, h));
  EXPECT_EQ(h.type, proto::packet_type::data);
  EXPECT_EQ(h.request_id, 9u);
  auto v = ferry::wire::encode(proto::version_reply{});
  EXPECT_EQ(proto::peek_reply_header(v, h), ferry::make_error_code(ferry::errc::unexpected_message));
  bytes cut{101, 0, 0};
  EXPECT_EQ(proto::peek_reply_header(cut, h), ferry::make_error_code(ferry::errc::truncated));
  bytes init_like{1, 0, 0, 0, 3};
  EXPECT_EQ(proto::peek_reply_header(init_like, h),
            ferry::make_error_code(ferry::errc::unexpected_message));
  EXPECT_EQ(proto::reply_kind::of_type(proto::packet_type::attrs), proto::reply_kind::attrs);
  EXPECT_EQ(proto::reply_kind::of_type(proto::packet_type::open), 0u);
}

TEST(SftpClientProto, WriteHeadAndDataEncodeAsAWriteRequest) {
  bytes data = random_bytes(1000);
  proto::write_request owned{7, {"handle-1"}, 1234, data};
  proto::write_request_head head;
  head.request_id = 7;
  head.handle = {"handle-1"};
  head.offset = 1234;
  head.data_length = 1000;
  bytes framed;
  proto::encode_write_head(framed, head);
  EXPECT_EQ(framed.size(), proto::write_packet_head_size(8));
  framed.insert(framed.end(), data.begin(), data.end());
  EXPECT_EQ(framed, proto::encode_packet(owned));
}

TEST(SftpClientProto, FrameBufferFramesInPlaceAcrossReads) {
  // Packets of many sizes, cut into reads of awkward sizes: each comes out whole and in order,
  // and a bad length fails for good.
  std::mt19937 rng{3};
  std::vector<bytes> packets;
  bytes stream;
  for (int i = 0; i < 60; ++i) {
    std::size_t n = 1 + rng() % (i % 7 == 0 ? ferry::limits::sftp_max_message : 3000);
    bytes p = random_bytes(n, static_cast<unsigned>(i));
    packets.push_back(p);
    proto::string_view_field f{p};
    ferry::wire::writer w{stream};
    w.string(f.value);
  }
  proto::frame_buffer fb{300 * 1024};
  std::size_t at = 0, next = 0;
  while (next < packets.size()) {
    ferry::byte_view packet;
    error_code ec;
    auto r = fb.next(packet, ec);
    ASSERT_NE(r, proto::frame_buffer::result::failed) << ec.message();
    if (r == proto::frame_buffer::result::packet) {
      ASSERT_TRUE(std::equal(packet.begin(), packet.end(), packets[next].begin(), packets[next].end()))
          << "packet " << next;
      ++next;
      continue;
    }
    auto space = fb.space();
    ASSERT_FALSE(space.empty());
    std::size_t n = std::min<std::size_t>({space.size(), stream.size() - at, 1 + rng() % 70000});
    ASSERT_GT(n, 0u);
    std::copy_n(stream.begin() + static_cast<std::ptrdiff_t>(at), n, space.begin());
    fb.commit(n);
    at += n;
  }
  EXPECT_EQ(fb.buffered(), 0u);

  proto::frame_buffer bad{1024};
  bytes big{0x00, 0x04, 0x00, 0x01};  // one byte over the limit
  auto space = bad.space();
  std::copy(big.begin(), big.end(), space.begin());
  bad.commit(big.size());
  ferry::byte_view packet;
  error_code ec;
  EXPECT_EQ(bad.next(packet, ec), proto::frame_buffer::result::failed);
  EXPECT_EQ(ec, ferry::make_error_code(ferry::errc::length_limit));
  EXPECT_EQ(bad.next(packet, ec), proto::frame_buffer::result::failed);
}

TEST(SftpClientProto, TrackerCompletesByIdAndKind) {
  proto::request_tracker t;
  auto a = t.add(proto::reply_kind::status | proto::reply_kind::data);
  auto b = t.add(proto::reply_kind::status);
  EXPECT_TRUE(t.is_outstanding(a));
  EXPECT_FALSE(t.complete(a, proto::reply_kind::data));
  EXPECT_FALSE(t.is_outstanding(a));
  EXPECT_EQ(t.complete(a, proto::reply_kind::data),
            ferry::make_error_code(ferry::errc::unexpected_message));
  EXPECT_EQ(t.complete(b, proto::reply_kind::handle),
            ferry::make_error_code(ferry::errc::unexpected_message));
  EXPECT_EQ(t.outstanding(), 0u);
}

}  // namespace
