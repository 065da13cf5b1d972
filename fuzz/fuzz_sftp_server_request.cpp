// Arbitrary bytes through the SFTP frame splitter and the server's request decoder, as a server
// reads them from a client. Every packet that decodes must re-encode to exactly its own bytes, and
// a packet that fails must still produce an answer the server can send.
#include <ferry/sftp/proto/decode.hpp>
#include <ferry/sftp/proto/frame.hpp>

#include <cstdlib>
#include <cstring>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ferry::sftp::proto;
  if (size == 0) return 0;
  // The first byte picks the chunk size the stream arrives in (1..256 bytes).
  std::size_t chunk = std::size_t{data[0]} + 1;
  ferry::byte_view stream{data + 1, size - 1};
  frame_splitter fs;
  while (!stream.empty()) {
    auto n = std::min(chunk, stream.size());
    ferry::byte_view in = stream.first(n);
    stream = stream.subspan(n);
    while (true) {
      ferry::byte_view packet;
      ferry::error_code ec;
      auto r = fs.next(in, packet, ec);
      if (r == frame_splitter::result::failed) return 0;
      if (r == frame_splitter::result::need_more) break;
      if (packet.empty() || packet.size() > ferry::limits::sftp_max_message) std::abort();
      request req;
      auto res = decode_request(packet, req);
      if (res) {
        auto answer = res.answer();
        if (answer != ferry::sftp::status::op_unsupported &&
            answer != ferry::sftp::status::bad_message)
          std::abort();
        if (res.request_id) {
          auto reply = encode_packet(make_status(*res.request_id, answer));
          if (reply.size() < 9) std::abort();
        }
        continue;
      }
      auto again = std::visit([](const auto& m) { return ferry::wire::encode(m); }, req);
      if (again.size() != packet.size() || std::memcmp(again.data(), packet.data(), again.size()))
        std::abort();
    }
  }
  return 0;
}
