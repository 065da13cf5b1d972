// Post-authentication connection-protocol messages from a client into a server's connection
// machine (each message prefixed by a 2-byte length; the first byte picks how the "application"
// answers). The server accepts or refuses opens, reads some of the data, answers requests and
// sends data back, as a real server does. The machine must never crash; limits must hold (channel
// table, sessions, window: what it accepted per channel never exceeds what it offered); once it
// reports an error it stays failed; and it never queues more than a bounded amount of output.
#include <ferry/ssh/proto/connection_machine.hpp>

#include <cstdlib>
#include <map>

using namespace ferry;
using namespace ferry::ssh::proto;
using kind = connection_machine::event_kind;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t mode = data[0];
  connection_config c;
  c.local = role::server;
  c.window = 64 * 1024;
  c.max_packet = 16 * 1024;
  c.max_channels = 8;
  c.max_sessions = 3;
  c.max_pending_opens = 4;
  connection_machine m{c};
  std::map<std::uint32_t, std::uint64_t> unread;  // per channel: received, not consumed
  std::size_t i = 1;
  bytes out;
  while (i + 2 <= size) {
    std::size_t len = (std::size_t{data[i]} << 8) | data[i + 1];
    i += 2;
    if (len > size - i) len = size - i;
    byte_view msg{data + i, len};
    i += len;
    const bool was_failed = m.failed();
    auto e = m.process(msg);
    if (was_failed && e.kind != kind::error) std::abort();
    if (e.kind == kind::error) {
      if (!m.failed()) std::abort();
      break;
    }
    switch (e.kind) {
      case kind::open_request:
        if (mode & 1)
          m.accept_open(e.channel);
        else
          m.reject_open(e.channel, open_failure_reason::administratively_prohibited, "no");
        break;
      case kind::data:
      case kind::extended_data: {
        if (e.data.size() > c.max_packet) std::abort();
        auto& u = unread[e.channel];
        u += e.data.size();
        if (u > c.window) std::abort();  // accepted beyond the window it offered
        // Read half of it (or all, in mode 2), which may re-open the window.
        auto take = (mode & 2) ? u : u / 2;
        m.consume(e.channel, take);
        u -= take;
        if ((mode & 4) && m.sendable(e.channel) > 0) {
          auto n = std::min<std::size_t>(m.sendable(e.channel), e.data.size());
          if (m.send_data(e.channel, e.data.first(n))) std::abort();
        }
        break;
      }
      case kind::close: unread.erase(e.channel); break;
      case kind::channel_request:
        if (e.want_reply && m.reply_request(e.channel, (mode & 8) != 0)) std::abort();
        if (mode & 16) m.send_eof(e.channel);
        if (mode & 32) m.send_close(e.channel);
        break;
      case kind::global_request:
        if (e.want_reply && m.reply_global((mode & 8) != 0)) std::abort();
        break;
      default: break;
    }
    if (m.channel_count() > c.max_channels || m.session_count() > c.max_sessions) std::abort();
    // Each input message causes a bounded amount of output (replies, adjusts, one echo).
    if (m.output_bytes() > 64 * 1024 * 1024) std::abort();
    if (mode & 64)
      while (m.pop_output(out)) {
      }
  }
  return 0;
}
