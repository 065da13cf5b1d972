// RFC 4253 §6 binary packet protocol, sans-I/O: seals and opens packets in place with one
// direction's negotiated cipher, MAC and compression.
//
//   uint32 packet_length | byte padding_length | payload | padding | mac (or AEAD tag)
//
// Three layouts share the code: encrypt-and-MAC (RFC 4253 §6.4: the MAC covers the plaintext and
// the whole packet is encrypted), encrypt-then-MAC (OpenSSH PROTOCOL §1.7: packet_length stays
// clear and the MAC covers the ciphertext) and AEAD (RFC 5647 §7.2 aes-gcm with packet_length as
// associated data; chacha20-poly1305@openssh.com with packet_length encrypted under its own key).
// Padding is at least 4 bytes and aligns to max(8, block size), counting packet_length only when
// it is encrypted with the rest (RFC 4253 §6, PROTOCOL §1.7, PROTOCOL.chacha20poly1305).
#pragma once

#include <ferry/core/bytes.hpp>
#include <ferry/core/limits.hpp>
#include <ferry/core/random.hpp>
#include <ferry/core/secure.hpp>
#include <ferry/crypto/cipher.hpp>
#include <ferry/crypto/hash.hpp>
#include <ferry/ssh/error.hpp>
#include <ferry/ssh/proto/algorithms.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <variant>

namespace ferry::ssh::proto {

class compressor;
class decompressor;

// A packet sealed in place starts with this many spare bytes (packet_length, padding_length)
// before its payload, and needs at most packet_tailroom more after it (padding and MAC).
inline constexpr std::size_t packet_headroom = 5;
inline constexpr std::size_t packet_tailroom = 2 * 32 + 64;

// Keys for one direction, as derived from the exchange (RFC 4253 §7.2).
struct direction_keys {
  const cipher_algorithm* cipher = nullptr;
  const mac_algorithm* mac = nullptr;  // null for AEAD ciphers
  const compression_algorithm* compression = nullptr;
  secure_bytes iv;
  secure_bytes key;
  secure_bytes mac_key;
};

// The crypto state of one direction.
class packet_crypto {
 public:
  packet_crypto();  // "none": the state before the first NEWKEYS
  explicit packet_crypto(const direction_keys& k);
  packet_crypto(packet_crypto&&) noexcept;
  packet_crypto& operator=(packet_crypto&&) noexcept;
  ~packet_crypto();

  const cipher_algorithm& cipher() const noexcept { return *cipher_; }
  std::size_t block_size() const noexcept { return cipher_->block_size < 8 ? 8 : cipher_->block_size; }
  // Bytes after the packet: the MAC or the AEAD tag.
  std::size_t trailer_size() const noexcept;
  // packet_length travels in the clear or under its own key (excluded from the padding sum).
  bool length_separate() const noexcept;

 protected:
  const cipher_algorithm* cipher_;
  const mac_algorithm* mac_ = nullptr;
  std::variant<std::monostate, crypto::aes_ctr, crypto::aes_gcm, crypto::chacha20_poly1305_openssh>
      impl_;
  std::optional<crypto::hmac> hmac_;
  std::array<std::uint8_t, 12> gcm_nonce_{};  // RFC 5647 §7.1: fixed field + invocation counter
  void gcm_next_nonce() noexcept;
  void compute_mac(std::uint32_t seq, byte_view data, mutable_byte_view out);
};

// Counters the rekey policy reads (RFC 4344 §3.1 counts blocks; OpenSSH also counts packets).
struct packet_counters {
  std::uint64_t packets = 0;
  std::uint64_t blocks = 0;
  std::uint64_t bytes = 0;
};

class packet_sealer : public packet_crypto {
 public:
  packet_sealer();
  ~packet_sealer();
  packet_sealer(packet_sealer&&) noexcept;
  packet_sealer& operator=(packet_sealer&&) noexcept;

  // Installs new keys (after sending NEWKEYS) and resets the counters.
  void set_keys(const direction_keys& k);
  // Starts delayed compression (zlib@openssh.com) when it was negotiated.
  void start_delayed_compression();
  bool compressing() const noexcept { return compressor_ != nullptr; }

  // Appends a packet to out: begin() reserves the header and returns its offset, the caller
  // appends the payload, end() compresses, pads, encrypts and appends the MAC in place.
  std::size_t begin(bytes& out) const;
  error_code end(bytes& out, std::size_t at, random_source& rng);
  error_code seal(byte_view payload, bytes& out, random_source& rng) {
    auto at = begin(out);
    out.insert(out.end(), payload.begin(), payload.end());
    return end(out, at, rng);
  }

  std::uint32_t sequence() const noexcept { return seq_; }
  void reset_sequence() noexcept { seq_ = 0; }
  const packet_counters& counters() const noexcept { return counters_; }

 private:
  std::uint32_t seq_ = 0;
  packet_counters counters_;
  const compression_algorithm* compression_ = nullptr;
  std::unique_ptr<compressor> compressor_;
  bytes scratch_;
};

class packet_opener : public packet_crypto {
 public:
  enum class status { need_more, packet, failed };

  explicit packet_opener(std::size_t max_packet = limits::max_packet);
  ~packet_opener();
  packet_opener(packet_opener&&) noexcept;
  packet_opener& operator=(packet_opener&&) noexcept;

  void set_keys(const direction_keys& k);
  void start_delayed_compression();
  bool decompressing() const noexcept { return decompressor_ != nullptr; }

  // Opens the packet at the start of in (decrypting in place). On status::packet, payload views
  // the payload (inside in, or inside an internal buffer when decompressing) and consumed is the
  // packet's size on the wire; the caller drops those bytes before the next call. On need_more,
  // needed is the number of bytes in must hold before the next call can progress. The view in
  // may move between calls (the caller's buffer may grow) as long as its contents are kept.
  status open(mutable_byte_view in, byte_view& payload, std::size_t& consumed,
              std::size_t& needed, error_code& ec);

  std::uint32_t sequence() const noexcept { return seq_; }  // of the next packet
  void reset_sequence() noexcept { seq_ = 0; }
  const packet_counters& counters() const noexcept { return counters_; }

 private:
  status fail(error_code& ec, disconnect_reason r) {
    ec = make_error_code(r);
    failed_ = true;
    return status::failed;
  }

  std::size_t max_packet_;
  std::uint32_t seq_ = 0;
  packet_counters counters_;
  bool header_done_ = false;  // the first block is decrypted and packet_length_ is known
  bool failed_ = false;
  std::uint32_t packet_length_ = 0;
  const compression_algorithm* compression_ = nullptr;
  std::unique_ptr<decompressor> decompressor_;
  bytes scratch_;
};

}  // namespace ferry::ssh::proto
