#include <ferry/crypto/random.hpp>
#include <ferry/ssh/proto/compression.hpp>
#include <ferry/ssh/proto/packet.hpp>

#include <cstring>

namespace ferry::ssh::proto {

namespace {

const cipher_algorithm& none_cipher() { return *find_cipher("none"); }

void put_u32(std::uint8_t* p, std::uint32_t v) noexcept {
  p[0] = std::uint8_t(v >> 24);
  p[1] = std::uint8_t(v >> 16);
  p[2] = std::uint8_t(v >> 8);
  p[3] = std::uint8_t(v);
}

std::uint32_t get_u32(const std::uint8_t* p) noexcept {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

}  // namespace

// --- packet_crypto ---------------------------------------------------------------------------

packet_crypto::packet_crypto() : cipher_(&none_cipher()) {}

packet_crypto::packet_crypto(const direction_keys& k) : cipher_(k.cipher), mac_(k.mac) {
  switch (cipher_->kind) {
    case cipher_kind::none: break;
    case cipher_kind::aes_ctr: impl_.emplace<crypto::aes_ctr>(k.key, k.iv); break;
    case cipher_kind::aes_gcm:
      impl_.emplace<crypto::aes_gcm>(k.key);
      std::memcpy(gcm_nonce_.data(), k.iv.data(), gcm_nonce_.size());
      break;
    case cipher_kind::chacha20_poly1305:
      impl_.emplace<crypto::chacha20_poly1305_openssh>(k.key);
      break;
  }
  if (!cipher_->aead() && mac_) hmac_.emplace(mac_->hash, k.mac_key);
}

packet_crypto::packet_crypto(packet_crypto&&) noexcept = default;
packet_crypto& packet_crypto::operator=(packet_crypto&&) noexcept = default;
packet_crypto::~packet_crypto() = default;

std::size_t packet_crypto::trailer_size() const noexcept {
  if (cipher_->aead()) return cipher_->tag_size;
  return hmac_ ? mac_->mac_size : 0;
}

bool packet_crypto::length_separate() const noexcept {
  return cipher_->aead() || (hmac_ && mac_->etm);
}

// RFC 5647 §7.1: the 64-bit invocation counter (the nonce's last 8 bytes) counts packets.
void packet_crypto::gcm_next_nonce() noexcept {
  for (int i = 11; i >= 4; --i)
    if (++gcm_nonce_[i] != 0) break;
}

// RFC 4253 §6.4: mac = MAC(key, sequence_number || data).
void packet_crypto::compute_mac(std::uint32_t seq, byte_view data, mutable_byte_view out) {
  std::uint8_t s[4];
  put_u32(s, seq);
  hmac_->update(byte_view{s, 4});
  hmac_->update(data);
  hmac_->final(out);
}

// --- packet_sealer ---------------------------------------------------------------------------

packet_sealer::packet_sealer() = default;
packet_sealer::~packet_sealer() = default;
packet_sealer::packet_sealer(packet_sealer&&) noexcept = default;
packet_sealer& packet_sealer::operator=(packet_sealer&&) noexcept = default;

void packet_sealer::set_keys(const direction_keys& k) {
  static_cast<packet_crypto&>(*this) = packet_crypto{k};
  counters_ = {};
  compression_ = k.compression;
  compressor_.reset();
  if (compression_ && compression_->kind == compression_kind::zlib)
    compressor_ = std::make_unique<compressor>();
}

void packet_sealer::start_delayed_compression() {
  if (compression_ && compression_->kind == compression_kind::zlib_delayed && !compressor_)
    compressor_ = std::make_unique<compressor>();
}

std::size_t packet_sealer::begin(bytes& out) const {
  auto at = out.size();
  out.resize(at + 5);
  return at;
}

error_code packet_sealer::end(bytes& out, std::size_t at, random_source& rng) {
  if (compressor_) {
    byte_view payload{out.data() + at + 5, out.size() - at - 5};
    if (auto ec = compressor_->compress(payload, scratch_)) return ec;
    out.resize(at + 5);
    out.insert(out.end(), scratch_.begin(), scratch_.end());
  }
  const std::size_t payload_len = out.size() - at - 5;
  const std::size_t block = block_size();
  const bool separate = length_separate();
  // RFC 4253 §6: at least 4 bytes of padding; the padded part is a multiple of the block size.
  std::size_t covered = (separate ? 1 : 5) + payload_len;
  std::size_t pad = block - covered % block;
  if (pad < 4) pad += block;
  const std::size_t packet_length = 1 + payload_len + pad;
  out.resize(out.size() + pad);
  rng.fill(mutable_byte_view{out.data() + out.size() - pad, pad});
  std::uint8_t* p = out.data() + at;
  put_u32(p, static_cast<std::uint32_t>(packet_length));
  p[4] = static_cast<std::uint8_t>(pad);
  const std::size_t total = 4 + packet_length;
  const std::size_t trailer = trailer_size();
  out.resize(out.size() + trailer);
  p = out.data() + at;  // the resize may have moved the buffer
  mutable_byte_view packet{p, total};
  mutable_byte_view tail{p + total, trailer};

  switch (cipher_->kind) {
    case cipher_kind::none:
      if (hmac_) compute_mac(seq_, packet, tail);
      break;
    case cipher_kind::aes_ctr: {
      auto& ctr = std::get<crypto::aes_ctr>(impl_);
      if (mac_->etm) {
        ctr.apply(packet.subspan(4));
        compute_mac(seq_, packet, tail);
      } else {
        compute_mac(seq_, packet, tail);
        ctr.apply(packet);
      }
      break;
    }
    case cipher_kind::aes_gcm:
      std::get<crypto::aes_gcm>(impl_).seal(gcm_nonce_, packet.first(4), packet.subspan(4), tail);
      gcm_next_nonce();
      break;
    case cipher_kind::chacha20_poly1305:
      std::get<crypto::chacha20_poly1305_openssh>(impl_).seal(seq_, packet, tail);
      break;
  }
  ++seq_;  // RFC 4253 §6.4: wraps around after 2^32 packets
  ++counters_.packets;
  counters_.blocks += total / block;
  counters_.bytes += total + trailer;
  return {};
}

// --- packet_opener ---------------------------------------------------------------------------

packet_opener::packet_opener(std::size_t max_packet) : max_packet_(max_packet) {}
packet_opener::~packet_opener() = default;
packet_opener::packet_opener(packet_opener&&) noexcept = default;
packet_opener& packet_opener::operator=(packet_opener&&) noexcept = default;

void packet_opener::set_keys(const direction_keys& k) {
  static_cast<packet_crypto&>(*this) = packet_crypto{k};
  counters_ = {};
  header_done_ = false;
  compression_ = k.compression;
  decompressor_.reset();
  if (compression_ && compression_->kind == compression_kind::zlib)
    decompressor_ = std::make_unique<decompressor>();
}

void packet_opener::start_delayed_compression() {
  if (compression_ && compression_->kind == compression_kind::zlib_delayed && !decompressor_)
    decompressor_ = std::make_unique<decompressor>();
}

packet_opener::status packet_opener::open(mutable_byte_view in, byte_view& payload,
                                          std::size_t& consumed, std::size_t& needed,
                                          error_code& ec) {
  consumed = 0;
  if (failed_) return fail(ec, disconnect_reason::protocol_error);
  const std::size_t block = block_size();
  const bool separate = length_separate();

  if (!header_done_) {
    // Encrypt-and-MAC needs the first whole block to learn the length; the other layouts keep
    // the 4 length bytes apart.
    std::size_t head = separate ? 4 : block;
    if (in.size() < head) {
      needed = head;
      return status::need_more;
    }
    switch (cipher_->kind) {
      case cipher_kind::none:
      case cipher_kind::aes_gcm: packet_length_ = get_u32(in.data()); break;
      case cipher_kind::aes_ctr:
        if (!mac_->etm) std::get<crypto::aes_ctr>(impl_).apply(in.first(block));
        packet_length_ = get_u32(in.data());
        break;
      case cipher_kind::chacha20_poly1305:
        packet_length_ =
            std::get<crypto::chacha20_poly1305_openssh>(impl_).decrypt_length(seq_, in.first(4));
        break;
    }
    // RFC 4253 §6.1 and §6: a bounded length whose padded part is a whole number of blocks
    // (packet_length itself counts when it is encrypted with the rest).
    std::size_t aligned = separate ? packet_length_ : std::size_t{packet_length_} + 4;
    if (packet_length_ < 5 || packet_length_ > max_packet_ || aligned % block != 0)
      return fail(ec, disconnect_reason::protocol_error);
    header_done_ = true;
  }

  const std::size_t total = 4 + std::size_t{packet_length_};
  const std::size_t trailer = trailer_size();
  if (in.size() < total + trailer) {
    needed = total + trailer;
    return status::need_more;
  }
  mutable_byte_view packet = in.first(total);
  byte_view tail{in.data() + total, trailer};
  std::array<std::uint8_t, crypto::max_digest_size> mac{};

  switch (cipher_->kind) {
    case cipher_kind::none:
      if (hmac_) {
        compute_mac(seq_, packet, mac);
        if (!crypto::constant_time_equal(byte_view{mac.data(), trailer}, tail))
          return fail(ec, disconnect_reason::mac_error);
      }
      break;
    case cipher_kind::aes_ctr: {
      auto& ctr = std::get<crypto::aes_ctr>(impl_);
      if (mac_->etm) {
        // PROTOCOL §1.7: verify before decrypting anything.
        compute_mac(seq_, packet, mac);
        if (!crypto::constant_time_equal(byte_view{mac.data(), trailer}, tail))
          return fail(ec, disconnect_reason::mac_error);
        ctr.apply(packet.subspan(4));
      } else {
        ctr.apply(packet.subspan(block));
        compute_mac(seq_, packet, mac);
        if (!crypto::constant_time_equal(byte_view{mac.data(), trailer}, tail))
          return fail(ec, disconnect_reason::mac_error);
      }
      break;
    }
    case cipher_kind::aes_gcm:
      if (std::get<crypto::aes_gcm>(impl_).open(gcm_nonce_, packet.first(4), packet.subspan(4), tail))
        return fail(ec, disconnect_reason::mac_error);
      gcm_next_nonce();
      break;
    case cipher_kind::chacha20_poly1305:
      if (std::get<crypto::chacha20_poly1305_openssh>(impl_).open(seq_, packet, tail))
        return fail(ec, disconnect_reason::mac_error);
      break;
  }

  // RFC 4253 §6: at least 4 bytes of padding, and a payload left over (the message number).
  const std::size_t pad = packet[4];
  if (pad < 4 || pad + 1 >= packet_length_) return fail(ec, disconnect_reason::protocol_error);
  payload = byte_view{packet.data() + 5, packet_length_ - 1 - pad};
  if (decompressor_) {
    if (decompressor_->decompress(payload, scratch_, max_packet_))
      return fail(ec, disconnect_reason::compression_error);
    payload = scratch_;
    if (payload.empty()) return fail(ec, disconnect_reason::protocol_error);
  }
  consumed = total + trailer;
  needed = 0;
  header_done_ = false;
  ++seq_;
  ++counters_.packets;
  counters_.blocks += total / block;
  counters_.bytes += total + trailer;
  return status::packet;
}

}  // namespace ferry::ssh::proto
