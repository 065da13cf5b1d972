// A scripted SFTP server for client tests, on the far end of a test::stream: it answers INIT with
// a VERSION of its choosing and hands every request to a script that appends the reply bytes (any
// bytes at all: that is how the hostile tests lie to the client). A small in-memory file store
// answers OPEN/READ/WRITE/FSTAT/STAT/CLOSE for the scripts that want a well-behaved server.
#pragma once

#include <ferry/sftp/proto/decode.hpp>
#include <ferry/sftp/proto/frame.hpp>
#include <ferry/sftp/proto/session.hpp>
#include <ferry/test/stream.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <functional>
#include <map>
#include <string>

namespace ferry::test_sftp_client {

namespace proto = ferry::sftp::proto;
namespace asio = boost::asio;

// Files by path; handles are "h<n>".
struct memory_store {
  std::map<std::string, bytes> files;
  std::map<std::string, std::string> handles;  // handle -> path
  int next = 0;
  std::size_t max_read = 1 << 20;  // the most a READ returns (a short-reading server sets less)

  // Appends the well-behaved answer to a request; false if it is not one this store knows.
  bool answer(const proto::request& req, bytes& out) {
    if (auto* o = std::get_if<proto::open_request>(&req)) {
      if (!files.count(o->filename)) {
        if (!(o->pflags & proto::open_flags::creat)) {
          proto::encode_packet(out, proto::make_status(o->request_id, sftp::status::no_such_file));
          return true;
        }
        files[o->filename];
      }
      if (o->pflags & proto::open_flags::trunc) files[o->filename].clear();
      auto h = "h" + std::to_string(next++);
      handles[h] = o->filename;
      proto::encode_packet(out, proto::handle_reply{o->request_id, {h}});
      return true;
    }
    if (auto* c = std::get_if<proto::close_request>(&req)) {
      handles.erase(c->handle.value);
      proto::encode_packet(out, proto::make_status(c->request_id, sftp::status::ok));
      return true;
    }
    if (auto* r = std::get_if<proto::read_request>(&req)) {
      auto& f = files[handles[r->handle.value]];
      if (r->offset >= f.size()) {
        proto::encode_packet(out, proto::make_status(r->request_id, sftp::status::eof));
        return true;
      }
      auto n = std::min<std::size_t>({r->length, f.size() - r->offset, max_read});
      proto::data_reply d{r->request_id,
                          bytes(f.begin() + static_cast<std::ptrdiff_t>(r->offset),
                                f.begin() + static_cast<std::ptrdiff_t>(r->offset + n))};
      proto::encode_packet(out, d);
      return true;
    }
    if (auto* w = std::get_if<proto::write_request>(&req)) {
      auto& f = files[handles[w->handle.value]];
      if (f.size() < w->offset + w->data.size()) f.resize(w->offset + w->data.size());
      std::copy(w->data.begin(), w->data.end(), f.begin() + static_cast<std::ptrdiff_t>(w->offset));
      proto::encode_packet(out, proto::make_status(w->request_id, sftp::status::ok));
      return true;
    }
    auto attrs_of = [&](const std::string& path, std::uint32_t id) {
      if (!files.count(path)) {
        proto::encode_packet(out, proto::make_status(id, sftp::status::no_such_file));
        return;
      }
      proto::attrs a;
      a.size = files[path].size();
      a.permissions = 0100644;
      proto::encode_packet(out, proto::attrs_reply{id, a});
    };
    if (auto* f = std::get_if<proto::fstat_request>(&req)) {
      attrs_of(handles[f->handle.value], f->request_id);
      return true;
    }
    if (auto* s = std::get_if<proto::stat_request>(&req)) {
      attrs_of(s->path, s->request_id);
      return true;
    }
    return false;
  }
};

struct scripted_server {
  using script = std::function<void(const proto::request&, bytes& out)>;

  test::stream stream;
  proto::version_reply hello{3, {}};
  script on_request;
  std::size_t requests = 0;
  bool stop_reading = false;

  // Serves until the client goes away (or a script sets stop_reading), then closes its end as
  // a server process that exits would.
  asio::awaitable<void> run() {
    co_await serve();
    stream.close();
  }

  asio::awaitable<void> serve() {
    proto::frame_splitter split;
    bytes buf(64 * 1024);
    bool greeted = false;
    while (!stop_reading) {
      error_code ec;
      auto n = co_await stream.async_read_some(asio::buffer(buf),
                                               asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      byte_view in{buf.data(), n};
      bytes out;
      while (!in.empty()) {
        byte_view packet;
        auto r = split.next(in, packet, ec);
        if (r == proto::frame_splitter::result::failed) co_return;
        if (r == proto::frame_splitter::result::need_more) break;
        proto::request req;
        if (decode_request(packet, req)) co_return;
        if (!greeted) {
          greeted = true;
          proto::encode_packet(out, hello);
          continue;
        }
        ++requests;
        on_request(req, out);
      }
      if (!out.empty()) {
        co_await asio::async_write(stream, asio::buffer(out),
                                   asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return;
      }
    }
  }
};

}  // namespace ferry::test_sftp_client
