// SFTP v3 requests on open files and directories (draft-ietf-secsh-filexfer-02 §6.3-§6.5, §6.7,
// §6.9): OPEN, CLOSE, READ, WRITE, FSTAT, FSETSTAT, OPENDIR, READDIR. Every request starts with
// its uint32 request id; the reply carries the same id.
#pragma once

#include <ferry/sftp/proto/attrs.hpp>
#include <ferry/sftp/proto/types.hpp>

#include <cstdint>
#include <string>

namespace ferry::sftp::proto {

// §6.3. pflags are open_flags::*; attrs are the initial attributes of a created file.
struct open_request {
  static constexpr std::uint8_t id = packet_type::open;
  std::uint32_t request_id = 0;
  std::string filename;
  std::uint32_t pflags = 0;
  proto::attrs attrs;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.request_id, s.filename, s.pflags, s.attrs);
  }
  bool operator==(const open_request&) const = default;
};

// §6.3: closes a file or a directory handle.
struct close_request {
  static constexpr std::uint8_t id = packet_type::close;
  std::uint32_t request_id = 0;
  proto::handle handle;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.request_id, s.handle);
  }
  bool operator==(const close_request&) const = default;
};

// §6.4: the server may return fewer bytes than asked for; length is the client's wish, capped by
// the server, so it is not a buffer size to trust.
struct read_request {
  static constexpr std::uint8_t id = packet_type::read;
  std::uint32_t request_id = 0;
  proto::handle handle;
  std::uint64_t offset = 0;
  std::uint32_t length = 0;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.request_id, s.handle, s.offset, s.length);
  }
  bool operator==(const read_request&) const = default;
};

struct write_request {
  static constexpr std::uint8_t id = packet_type::write;
  std::uint32_t request_id = 0;
  proto::handle handle;
  std::uint64_t offset = 0;
  bytes data;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.request_id, s.handle, s.offset, s.data);
  }
  bool operator==(const write_request&) const = default;
};

// §6.8
struct fstat_request {
  static constexpr std::uint8_t id = packet_type::fstat;
  std::uint32_t request_id = 0;
  proto::handle handle;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.request_id, s.handle);
  }
  bool operator==(const fstat_request&) const = default;
};

// §6.9
struct fsetstat_request {
  static constexpr std::uint8_t id = packet_type::fsetstat;
  std::uint32_t request_id = 0;
  proto::handle handle;
  proto::attrs attrs;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.request_id, s.handle, s.attrs);
  }
  bool operator==(const fsetstat_request&) const = default;
};

// §6.7
struct opendir_request {
  static constexpr std::uint8_t id = packet_type::opendir;
  std::uint32_t request_id = 0;
  std::string path;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.request_id, s.path);
  }
  bool operator==(const opendir_request&) const = default;
};

// §6.7: answered with NAME (some entries) or STATUS eof when the listing is done.
struct readdir_request {
  static constexpr std::uint8_t id = packet_type::readdir;
  std::uint32_t request_id = 0;
  proto::handle handle;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.request_id, s.handle);
  }
  bool operator==(const readdir_request&) const = default;
};

}  // namespace ferry::sftp::proto
