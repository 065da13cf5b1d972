// SFTP packet framing (draft-ietf-secsh-filexfer-02 §3): uint32 length, then that many bytes of
// type byte + body. frame_splitter turns a byte stream into whole packets; the length is checked
// against the message limit as soon as its 4 bytes are known, before any body byte is buffered.
#pragma once

#include <ferry/core/bytes.hpp>
#include <ferry/core/codec.hpp>
#include <ferry/core/error.hpp>
#include <ferry/core/limits.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

namespace ferry::sftp::proto {

// Appends one framed packet (length, type, body) to out.
template <class M>
void encode_packet(bytes& out, const M& m) {
  wire::writer w{out};
  auto at = w.begin_string();
  wire::encode(out, m);
  w.end_string(at);
}

template <class M>
bytes encode_packet(const M& m) {
  bytes out;
  encode_packet(out, m);
  return out;
}

class frame_splitter {
 public:
  enum class result { need_more, packet, failed };

  explicit frame_splitter(std::size_t max_message = limits::sftp_max_message) noexcept
      : max_(max_message) {}

  // Consumes bytes from the front of `in` (advancing it), never past the end of one packet. On
  // result::packet, `packet` views the type byte and body: inside the caller's input when the
  // packet arrived in one piece, else inside an internal buffer; either way it stays valid until
  // the next call (and for as long as the caller's input does). On result::need_more every byte
  // of `in` was taken. After a failure (a length of 0 or above the limit) every call fails.
  result next(byte_view& in, byte_view& packet, error_code& ec) {
    if (failed_) {
      ec = failed_ec_;
      return result::failed;
    }
    if (body_done_) {  // the previous packet came from the buffer; release it now
      body_.clear();
      body_done_ = false;
    }
    if (header_len_ < 4) {
      // Fast path: a whole packet at the front of the input, nothing buffered.
      if (header_len_ == 0 && in.size() >= 4) {
        auto len = read_length(in.data());
        if (!check_length(len, ec)) return result::failed;
        if (in.size() - 4 >= len) {
          packet = in.subspan(4, len);
          in = in.subspan(4 + len);
          return result::packet;
        }
      }
      while (header_len_ < 4 && !in.empty()) {
        header_[header_len_++] = in[0];
        in = in.subspan(1);
      }
      if (header_len_ < 4) return result::need_more;
      length_ = read_length(header_.data());
      if (!check_length(length_, ec)) return result::failed;
      // No reserve(length_): memory grows with the bytes that actually arrive, so a peer that
      // announces 256 KiB and sends 4 bytes costs 4 bytes.
    }
    auto take = std::min<std::size_t>(length_ - body_.size(), in.size());
    body_.insert(body_.end(), in.begin(), in.begin() + static_cast<std::ptrdiff_t>(take));
    in = in.subspan(take);
    if (body_.size() < length_) return result::need_more;
    header_len_ = 0;
    body_done_ = true;
    packet = byte_view{body_};
    return result::packet;
  }

  // Bytes of an incomplete packet held (0 at a packet boundary: a clean place for EOF).
  std::size_t buffered() const noexcept { return body_done_ ? 0 : header_len_ + body_.size(); }

 private:
  static std::uint32_t read_length(const std::uint8_t* p) noexcept {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           std::uint32_t{p[3]};
  }

  bool check_length(std::uint32_t len, error_code& ec) noexcept {
    if (len == 0) failed_ec_ = make_error_code(errc::bad_value);  // no room for the type byte
    else if (len > max_) failed_ec_ = make_error_code(errc::length_limit);
    else return true;
    failed_ = true;
    ec = failed_ec_;
    return false;
  }

  std::size_t max_;
  std::array<std::uint8_t, 4> header_{};
  std::size_t header_len_ = 0;
  std::uint32_t length_ = 0;
  bytes body_;
  bool body_done_ = false;
  bool failed_ = false;
  error_code failed_ec_;
};

// Framing in place over a buffer this object owns, for a reader that takes many packets per read:
// the caller reads into space(), commit()s what arrived, and takes whole packets with next(),
// which views them where they were read (no copy per packet, unlike frame_splitter). A packet
// that has begun near the end of the buffer is moved to the front once, when its remainder would
// not fit after it. The buffer holds at least one packet of the maximum size, so every packet
// completes. Lengths are checked as soon as their 4 bytes are there.
class frame_buffer {
 public:
  enum class result { need_more, packet, failed };

  explicit frame_buffer(std::size_t capacity, std::size_t max_message = limits::sftp_max_message)
      : max_(max_message),
        cap_(std::max(capacity, max_message + 4)),
        buf_(std::make_unique_for_overwrite<std::uint8_t[]>(cap_)) {}

  // Where the next read goes: never empty while no packet is pending. Invalidates the views
  // next() returned.
  mutable_byte_view space() {
    if (b_ == e_) {
      b_ = e_ = 0;
    } else if (b_ > 0) {
      std::size_t need = 4;
      if (e_ - b_ >= 4) need += read_length(buf_.get() + b_);
      // Move the partial packet to the front when the rest of it would not fit, or when the
      // room left is too small for a useful read.
      if (cap_ - b_ < need || cap_ - e_ < min_read) {
        std::memmove(buf_.get(), buf_.get() + b_, e_ - b_);
        e_ -= b_;
        b_ = 0;
      }
    }
    return {buf_.get() + e_, cap_ - e_};
  }

  void commit(std::size_t n) noexcept { e_ += std::min(n, cap_ - e_); }

  // The next whole packet (type byte + body) if it is there; it stays valid until space().
  // After a failure (a length of 0 or above the limit) every call fails.
  result next(byte_view& packet, error_code& ec) {
    if (failed_) {
      ec = failed_ec_;
      return result::failed;
    }
    if (e_ - b_ < 4) return result::need_more;
    auto len = read_length(buf_.get() + b_);
    if (len == 0 || len > max_) {
      failed_ = true;
      failed_ec_ = make_error_code(len == 0 ? errc::bad_value : errc::length_limit);
      ec = failed_ec_;
      return result::failed;
    }
    if (e_ - b_ - 4 < len) return result::need_more;
    packet = byte_view{buf_.get() + b_ + 4, len};
    b_ += 4 + std::size_t{len};
    return result::packet;
  }

  // Bytes of an incomplete packet held (0 at a packet boundary: a clean place for EOF).
  std::size_t buffered() const noexcept { return e_ - b_; }
  std::size_t capacity() const noexcept { return cap_; }

 private:
  static constexpr std::size_t min_read = 16 * 1024;

  static std::uint32_t read_length(const std::uint8_t* p) noexcept {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           std::uint32_t{p[3]};
  }

  std::size_t max_;
  std::size_t cap_;
  std::unique_ptr<std::uint8_t[]> buf_;
  std::size_t b_ = 0;
  std::size_t e_ = 0;
  bool failed_ = false;
  error_code failed_ec_;
};

}  // namespace ferry::sftp::proto
