// SSH payload compression (RFC 4253 §6.2): one zlib stream per direction for the life of the keys,
// each packet ended with a partial flush so the peer can inflate it alone. zlib itself is only
// used in src/ssh/compression.cpp.
#pragma once

#include <ferry/core/bytes.hpp>
#include <ferry/core/error.hpp>

#include <memory>

namespace ferry::ssh::proto {

class compressor {
 public:
  compressor();
  ~compressor();
  compressor(const compressor&) = delete;
  compressor& operator=(const compressor&) = delete;
  // Replaces out with the compressed form of in.
  error_code compress(byte_view in, bytes& out);

 private:
  struct state;
  std::unique_ptr<state> s_;
};

class decompressor {
 public:
  decompressor();
  ~decompressor();
  decompressor(const decompressor&) = delete;
  decompressor& operator=(const decompressor&) = delete;
  // Replaces out with the inflated form of in; more than max_out bytes is an error (a
  // decompression bomb must not grow a buffer without bound).
  error_code decompress(byte_view in, bytes& out, std::size_t max_out);

 private:
  struct state;
  std::unique_ptr<state> s_;
};

}  // namespace ferry::ssh::proto
