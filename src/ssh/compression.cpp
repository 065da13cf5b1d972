#include <ferry/ssh/error.hpp>
#include <ferry/ssh/proto/compression.hpp>

#include <zlib.h>

#include <cstring>

namespace ferry::ssh::proto {

struct compressor::state {
  z_stream z{};
  bool ok = false;
};

compressor::compressor() : s_(std::make_unique<state>()) {
  s_->ok = deflateInit(&s_->z, Z_DEFAULT_COMPRESSION) == Z_OK;
}

compressor::~compressor() {
  if (s_->ok) deflateEnd(&s_->z);
}

error_code compressor::compress(byte_view in, bytes& out) {
  if (!s_->ok) return make_error_code(disconnect_reason::compression_error);
  out.clear();
  auto& z = s_->z;
  z.next_in = const_cast<Bytef*>(in.data());
  z.avail_in = static_cast<uInt>(in.size());
  // RFC 4253 §6.2: each packet ends with a partial flush.
  do {
    auto at = out.size();
    out.resize(at + in.size() / 2 + 64);
    z.next_out = out.data() + at;
    z.avail_out = static_cast<uInt>(out.size() - at);
    int rc = deflate(&z, Z_PARTIAL_FLUSH);
    if (rc != Z_OK && rc != Z_BUF_ERROR) return make_error_code(disconnect_reason::compression_error);
    out.resize(out.size() - z.avail_out);
  } while (z.avail_out == 0 || z.avail_in != 0);
  return {};
}

struct decompressor::state {
  z_stream z{};
  bool ok = false;
};

decompressor::decompressor() : s_(std::make_unique<state>()) {
  s_->ok = inflateInit(&s_->z) == Z_OK;
}

decompressor::~decompressor() {
  if (s_->ok) inflateEnd(&s_->z);
}

error_code decompressor::decompress(byte_view in, bytes& out, std::size_t max_out) {
  auto err = make_error_code(disconnect_reason::compression_error);
  if (!s_->ok) return err;
  out.clear();
  auto& z = s_->z;
  z.next_in = const_cast<Bytef*>(in.data());
  z.avail_in = static_cast<uInt>(in.size());
  while (true) {
    auto at = out.size();
    if (at >= max_out) return err;
    out.resize(std::min(max_out, at + in.size() * 4 + 256));
    z.next_out = out.data() + at;
    z.avail_out = static_cast<uInt>(out.size() - at);
    int rc = inflate(&z, Z_SYNC_FLUSH);
    out.resize(out.size() - z.avail_out);
    if (rc == Z_BUF_ERROR && z.avail_in == 0) break;  // all input consumed, nothing pending
    if (rc != Z_OK) return err;
    if (z.avail_in == 0 && z.avail_out != 0) break;
  }
  return {};
}

}  // namespace ferry::ssh::proto
