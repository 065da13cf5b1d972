// RFC 4251 §5 data types: a bounds-checked reader over a byte view and an appending writer.
//
// The reader is sticky: the first failure (input too short, a length over its limit, a forbidden
// value) is recorded, every later read returns an empty value, and the caller checks ok()/error()
// once at the end. Nothing is allocated on behalf of a length before that length has been checked
// against both the remaining input and a named limit, and nothing throws.
#pragma once

#include <ferry/core/bytes.hpp>
#include <ferry/core/error.hpp>
#include <ferry/core/limits.hpp>

#include <array>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::wire {

class reader {
 public:
  explicit reader(byte_view data) noexcept : data_(data) {}

  bool ok() const noexcept { return !ec_; }
  error_code error() const noexcept { return ec_; }
  std::size_t remaining() const noexcept { return data_.size() - pos_; }
  bool empty() const noexcept { return remaining() == 0; }
  std::size_t position() const noexcept { return pos_; }

  // Records a failure (the first one wins) so a caller's own checks share the reader's error path.
  void fail(errc e) noexcept {
    if (!ec_) ec_ = make_error_code(e);
    pos_ = data_.size();
  }

  // Succeeds only if every read succeeded and nothing is left over.
  error_code finish() noexcept {
    if (!ec_ && !empty()) fail(errc::trailing_data);
    return ec_;
  }

  std::uint8_t u8() noexcept {
    auto b = raw(1);
    return b.empty() ? 0 : b[0];
  }

  // RFC 4251 §5: any non-zero value is true.
  bool boolean() noexcept { return u8() != 0; }

  std::uint32_t u32() noexcept {
    auto b = raw(4);
    if (b.empty()) return 0;
    return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) |
           std::uint32_t{b[3]};
  }

  std::uint64_t u64() noexcept {
    std::uint64_t hi = u32();
    std::uint64_t lo = u32();
    return (hi << 32) | lo;
  }

  // Exactly n bytes, as a view into the input.
  byte_view raw(std::size_t n) noexcept {
    if (ec_) return {};
    if (n > remaining()) {
      fail(errc::truncated);
      return {};
    }
    auto v = data_.subspan(pos_, n);
    pos_ += n;
    return v;
  }

  // A length-prefixed string, as a view; the length must be at most max_len.
  byte_view string(std::size_t max_len = limits::max_string) noexcept {
    auto len = u32();
    if (ec_) return {};
    if (len > max_len) {
      fail(errc::length_limit);
      return {};
    }
    return raw(len);
  }

  std::string_view string_view(std::size_t max_len = limits::max_string) noexcept {
    return as_chars(string(max_len));
  }

  // A non-negative mpint, returned as its magnitude without leading zero bytes (so "0" is empty).
  // Negative values and non-minimal encodings are refused (RFC 4251 §5: "unnecessary leading bytes
  // with the value 0 or 255 MUST NOT be included").
  byte_view mpint_unsigned(std::size_t max_len = limits::max_mpint) noexcept {
    auto v = string(max_len);
    if (ec_ || v.empty()) return {};
    if (v[0] & 0x80) {
      fail(errc::bad_value);
      return {};
    }
    if (v[0] == 0) {
      if (v.size() == 1 || !(v[1] & 0x80)) {
        fail(errc::bad_value);
        return {};
      }
      v = v.subspan(1);
    }
    return v;
  }

  // RFC 4251 §5 name-list: comma-separated, no empty names, no NUL, each name at most 64 chars.
  std::vector<std::string_view> name_list(std::size_t max_len = limits::max_name_list) {
    std::vector<std::string_view> names;
    auto s = string_view(max_len);
    if (ec_ || s.empty()) return names;
    while (true) {
      auto comma = s.find(',');
      auto name = s.substr(0, comma);
      if (name.empty() || name.size() > limits::max_name_length ||
          name.find('\0') != std::string_view::npos || names.size() == limits::max_names) {
        fail(errc::bad_value);
        return {};
      }
      names.push_back(name);
      if (comma == std::string_view::npos) break;
      s.remove_prefix(comma + 1);
    }
    return names;
  }

  // Everything not read yet.
  byte_view rest() noexcept { return raw(remaining()); }

 private:
  byte_view data_;
  std::size_t pos_ = 0;
  error_code ec_;
};

// Appends wire types to a byte container (bytes, or secure_bytes for secrets).
template <class Container = bytes>
class basic_writer {
 public:
  explicit basic_writer(Container& out) noexcept : out_(&out) {}

  Container& buffer() noexcept { return *out_; }

  void u8(std::uint8_t v) { out_->push_back(v); }
  void boolean(bool v) { u8(v ? 1 : 0); }

  void u32(std::uint32_t v) {
    std::uint8_t b[4] = {std::uint8_t(v >> 24), std::uint8_t(v >> 16), std::uint8_t(v >> 8),
                         std::uint8_t(v)};
    append(b, 4);
  }

  void u64(std::uint64_t v) {
    u32(std::uint32_t(v >> 32));
    u32(std::uint32_t(v));
  }

  void raw(byte_view v) { append(v.data(), v.size()); }
  void raw(std::string_view v) { raw(as_bytes(v)); }

  void string(byte_view v) {
    u32(static_cast<std::uint32_t>(v.size()));
    raw(v);
  }
  void string(std::string_view v) { string(as_bytes(v)); }

  // Writes a non-negative integer given as a big-endian magnitude (leading zeros allowed in the
  // input; the encoding is minimal, with a 0x00 byte added when the top bit is set).
  void mpint_unsigned(byte_view magnitude) {
    while (!magnitude.empty() && magnitude[0] == 0) magnitude = magnitude.subspan(1);
    bool pad = !magnitude.empty() && (magnitude[0] & 0x80);
    u32(static_cast<std::uint32_t>(magnitude.size() + (pad ? 1 : 0)));
    if (pad) u8(0);
    raw(magnitude);
  }

  template <class Range>
  void name_list(const Range& names) {
    auto at = begin_string();
    bool first = true;
    for (const auto& n : names) {
      if (!first) u8(',');
      first = false;
      raw(std::string_view{n});
    }
    end_string(at);
  }

  // A string whose contents are written in place: begin_string() reserves the length field,
  // end_string() fills it in. Used for nested encodings (signature blobs, key blobs).
  std::size_t begin_string() {
    auto at = out_->size();
    u32(0);
    return at;
  }
  void end_string(std::size_t at) {
    auto len = static_cast<std::uint32_t>(out_->size() - at - 4);
    auto* p = out_->data() + at;
    p[0] = std::uint8_t(len >> 24);
    p[1] = std::uint8_t(len >> 16);
    p[2] = std::uint8_t(len >> 8);
    p[3] = std::uint8_t(len);
  }

 private:
  // resize + memcpy rather than insert(): g++ 12 misreports insert() into an empty vector at -O2
  // as an overflow (-Wstringop-overflow), and this is no slower.
  void append(const std::uint8_t* p, std::size_t n) {
    if (n == 0) return;
    auto at = out_->size();
    out_->resize(at + n);
    std::memcpy(out_->data() + at, p, n);
  }

  Container* out_;
};

using writer = basic_writer<bytes>;

}  // namespace ferry::wire
