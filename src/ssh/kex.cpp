#include <ferry/crypto/hash.hpp>
#include <ferry/ssh/proto/host_key.hpp>
#include <ferry/ssh/proto/kex.hpp>
#include <ferry/ssh/proto/messages.hpp>

namespace ferry::ssh::proto {

namespace {

error_code protocol_error() { return make_error_code(disconnect_reason::protocol_error); }
error_code kex_failed() { return make_error_code(disconnect_reason::key_exchange_failed); }

const crypto::dh_group& group_of(modp_group g) {
  switch (g) {
    case modp_group::group16: return crypto::dh_group::group16();
    case modp_group::group18: return crypto::dh_group::group18();
    default: return crypto::dh_group::group14();
  }
}

// The DH exponent size: twice the 256-bit security level ferry aims at, as RFC 8268 §4 advises,
// but never more than the group allows.
std::size_t private_bits(const crypto::dh_group& g) {
  std::size_t bits = g.bits();
  return bits > 513 ? 512 : bits - 1;
}

// RFC 4419 §3 server: the smallest offered group at least as large as n within [min, max].
const crypto::dh_group* choose_gex_group(std::uint32_t min, std::uint32_t n, std::uint32_t max) {
  const crypto::dh_group* groups[] = {&crypto::dh_group::group14(), &crypto::dh_group::group16(),
                                      &crypto::dh_group::group18()};
  if (min > max || n > max) return nullptr;
  const crypto::dh_group* best = nullptr;
  for (auto* g : groups) {
    auto bits = g->bits();
    if (bits < min || bits > max || bits < limits::ssh_gex_min_bits ||
        bits > limits::ssh_gex_max_bits)
      continue;
    best = g;
    if (bits >= n) break;
  }
  return best;
}

}  // namespace

struct key_exchange::state {
  enum class step { start, wait_init, wait_gex_group, wait_gex_init, wait_reply, done } at =
      step::start;
  std::optional<crypto::x25519_keypair> x25519;
  std::optional<crypto::ecdh_keypair> ecdh;
  std::optional<crypto::dh_keypair> dh;
  crypto::dh_group gex_group;  // group exchange: the group in use
  bytes method_prefix;         // group exchange: min, n, max, p, g as they enter H
  bytes client_value;          // e or Q_C as it enters H
};

key_exchange::key_exchange(const kex_inputs& in) : in_(in), s_(std::make_unique<state>()) {}
key_exchange::~key_exchange() = default;
key_exchange::key_exchange(key_exchange&&) noexcept = default;
key_exchange& key_exchange::operator=(key_exchange&&) noexcept = default;

error_code key_exchange::start(bytes& out) {
  out.clear();
  const auto& alg = *in_.algorithms->kex;
  if (in_.local == role::server) {
    s_->at = alg.kind == kex_kind::dh_gex ? state::step::wait_gex_group : state::step::wait_init;
    return {};
  }
  switch (alg.kind) {
    case kex_kind::curve25519:
      s_->x25519.emplace(crypto::x25519_keypair::generate(*in_.rng));
      out = wire::encode(kex_ecdh_init{bytes(s_->x25519->public_key().begin(),
                                             s_->x25519->public_key().end())});
      break;
    case kex_kind::ecdh:
      s_->ecdh.emplace(crypto::ecdh_keypair::generate(alg.curve, *in_.rng));
      out = wire::encode(
          kex_ecdh_init{bytes(s_->ecdh->public_key().begin(), s_->ecdh->public_key().end())});
      break;
    case kex_kind::dh_group: {
      const auto& g = group_of(alg.group);
      s_->dh.emplace(crypto::dh_keypair::generate(g, private_bits(g), *in_.rng));
      auto e = s_->dh->public_value();
      out = wire::encode(kexdh_init{{bytes(e.begin(), e.end())}});
      break;
    }
    case kex_kind::dh_gex:
      out = wire::encode(kex_dh_gex_request{in_.gex_min, in_.gex_n, in_.gex_max});
      {
        wire::writer w{s_->method_prefix};
        w.u32(in_.gex_min);
        w.u32(in_.gex_n);
        w.u32(in_.gex_max);
      }
      s_->at = state::step::wait_gex_group;
      return {};
  }
  s_->at = state::step::wait_reply;
  return {};
}

error_code key_exchange::on_message(byte_view payload, bytes& out) {
  out.clear();
  if (payload.empty()) return protocol_error();
  const auto& alg = *in_.algorithms->kex;
  std::uint8_t id = payload[0];
  if (in_.local == role::client) {
    if (s_->at == state::step::wait_gex_group && id == msg::kex_dh_gex_group) {
      kex_dh_gex_group m;
      if (wire::decode(payload, m)) return protocol_error();
      crypto::dh_group g{m.p.magnitude, m.g.magnitude};
      auto bits = g.bits();
      // RFC 4419 §3: the group must be within what was asked for; g must be a proper generator.
      if (bits < in_.gex_min || bits > in_.gex_max || m.g.magnitude.empty() ||
          (m.g.magnitude.size() == 1 && m.g.magnitude[0] < 2) || m.g.magnitude.size() > m.p.magnitude.size())
        return kex_failed();
      s_->gex_group = std::move(g);
      {
        wire::writer w{s_->method_prefix};
        w.mpint_unsigned(s_->gex_group.p);
        w.mpint_unsigned(s_->gex_group.g);
      }
      s_->dh.emplace(crypto::dh_keypair::generate(s_->gex_group, private_bits(s_->gex_group),
                                                  *in_.rng));
      auto e = s_->dh->public_value();
      out = wire::encode(kex_dh_gex_init{{bytes(e.begin(), e.end())}});
      s_->at = state::step::wait_reply;
      return {};
    }
    std::uint8_t want = alg.kind == kex_kind::dh_gex ? msg::kex_dh_gex_reply : msg::kexdh_reply;
    if (s_->at != state::step::wait_reply || id != want) return protocol_error();
    return client_reply(payload);
  }
  // Server.
  if (s_->at == state::step::wait_gex_group && id == msg::kex_dh_gex_request) {
    kex_dh_gex_request m;
    if (wire::decode(payload, m)) return protocol_error();
    auto* g = choose_gex_group(m.min, m.n, m.max);
    if (!g) return kex_failed();
    s_->gex_group = *g;
    wire::writer w{s_->method_prefix};
    w.u32(m.min);
    w.u32(m.n);
    w.u32(m.max);
    w.mpint_unsigned(g->p);
    w.mpint_unsigned(g->g);
    out = wire::encode(kex_dh_gex_group{{g->p}, {g->g}});
    s_->at = state::step::wait_gex_init;
    return {};
  }
  std::uint8_t want = alg.kind == kex_kind::dh_gex ? msg::kex_dh_gex_init : msg::kexdh_init;
  auto expected = alg.kind == kex_kind::dh_gex ? state::step::wait_gex_init : state::step::wait_init;
  if (s_->at != expected || id != want) return protocol_error();
  return server_init(payload, out);
}

error_code key_exchange::client_reply(byte_view payload) {
  const auto& alg = *in_.algorithms->kex;
  secure_bytes shared;
  bytes k_s;
  bytes signature;
  bytes method;  // e/f or Q_C/Q_S as they enter H
  wire::writer w{method};
  if (alg.kind == kex_kind::curve25519 || alg.kind == kex_kind::ecdh) {
    kex_ecdh_reply m;
    if (wire::decode(payload, m)) return protocol_error();
    auto ec = alg.kind == kex_kind::curve25519 ? s_->x25519->derive(m.q_s, shared)
                                               : s_->ecdh->derive(m.q_s, shared);
    if (ec) return make_error_code(errc::invalid_public_value);
    auto q_c = alg.kind == kex_kind::curve25519 ? s_->x25519->public_key() : s_->ecdh->public_key();
    w.string(q_c);
    w.string(byte_view{m.q_s});
    k_s = std::move(m.host_key);
    signature = std::move(m.signature);
  } else {
    kexdh_reply m;  // kex_dh_gex_reply has the same fields
    if (alg.kind == kex_kind::dh_gex) {
      kex_dh_gex_reply g;
      if (wire::decode(payload, g)) return protocol_error();
      m.host_key = std::move(g.host_key);
      m.f = std::move(g.f);
      m.signature = std::move(g.signature);
    } else if (wire::decode(payload, m)) {
      return protocol_error();
    }
    if (s_->dh->derive(m.f.magnitude, shared)) return make_error_code(errc::invalid_public_value);
    w.raw(byte_view{s_->method_prefix});
    w.mpint_unsigned(s_->dh->public_value());
    w.mpint_unsigned(m.f.magnitude);
    k_s = std::move(m.host_key);
    signature = std::move(m.signature);
  }
  if (auto ec = finish(k_s, method, shared)) return ec;
  // RFC 4253 §8: the client verifies that K_S really is the server's key and the signature.
  const auto& hk = *in_.algorithms->host_key;
  crypto::public_key key;
  if (decode_public_key(k_s_, key) || key.type() != hk.key) return kex_failed();
  if (verify_blob(hk, key, h_, signature)) return make_error_code(errc::bad_signature);
  if (!in_.verify || !*in_.verify) return make_error_code(disconnect_reason::host_key_not_verifiable);
  if ((*in_.verify)(host_key_info{&hk, k_s_, &key}))
    return make_error_code(disconnect_reason::host_key_not_verifiable);
  done_ = true;
  s_->at = state::step::done;
  return {};
}

error_code key_exchange::server_init(byte_view payload, bytes& out) {
  const auto& alg = *in_.algorithms->kex;
  const auto& hk = *in_.algorithms->host_key;
  if (!in_.host_key || !in_.host_key->valid()) return kex_failed();
  bytes k_s = encode_public_key(in_.host_key->public_part());
  secure_bytes shared;
  bytes method;
  wire::writer w{method};
  bytes server_value;
  if (alg.kind == kex_kind::curve25519 || alg.kind == kex_kind::ecdh) {
    kex_ecdh_init m;
    if (wire::decode(payload, m)) return protocol_error();
    error_code ec;
    if (alg.kind == kex_kind::curve25519) {
      s_->x25519.emplace(crypto::x25519_keypair::generate(*in_.rng));
      ec = s_->x25519->derive(m.q_c, shared);
      auto q = s_->x25519->public_key();
      server_value.assign(q.begin(), q.end());
    } else {
      s_->ecdh.emplace(crypto::ecdh_keypair::generate(alg.curve, *in_.rng));
      ec = s_->ecdh->derive(m.q_c, shared);
      auto q = s_->ecdh->public_key();
      server_value.assign(q.begin(), q.end());
    }
    if (ec) return make_error_code(errc::invalid_public_value);
    w.string(byte_view{m.q_c});
    w.string(byte_view{server_value});
  } else {
    wire::mpint e;
    if (alg.kind == kex_kind::dh_gex) {
      kex_dh_gex_init m;
      if (wire::decode(payload, m)) return protocol_error();
      e = std::move(m.e);
    } else {
      kexdh_init m;
      if (wire::decode(payload, m)) return protocol_error();
      e = std::move(m.e);
    }
    const crypto::dh_group& g = alg.kind == kex_kind::dh_gex ? s_->gex_group : group_of(alg.group);
    s_->dh.emplace(crypto::dh_keypair::generate(g, private_bits(g), *in_.rng));
    if (s_->dh->derive(e.magnitude, shared)) return make_error_code(errc::invalid_public_value);
    auto f = s_->dh->public_value();
    server_value.assign(f.begin(), f.end());
    w.raw(byte_view{s_->method_prefix});
    w.mpint_unsigned(e.magnitude);
    w.mpint_unsigned(server_value);
  }
  if (auto ec = finish(k_s, method, shared)) return ec;
  bytes signature;
  if (auto ec = sign_blob(hk, *in_.host_key, h_, signature)) return kex_failed();
  switch (alg.kind) {
    case kex_kind::curve25519:
    case kex_kind::ecdh:
      out = wire::encode(kex_ecdh_reply{k_s_, std::move(server_value), std::move(signature)});
      break;
    case kex_kind::dh_group:
      out = wire::encode(kexdh_reply{k_s_, {std::move(server_value)}, std::move(signature)});
      break;
    case kex_kind::dh_gex:
      out = wire::encode(kex_dh_gex_reply{k_s_, {std::move(server_value)}, std::move(signature)});
      break;
  }
  done_ = true;
  s_->at = state::step::done;
  return {};
}

// RFC 4253 §8 (and its variants): H = HASH(V_C || V_S || I_C || I_S || K_S || method part || K).
error_code key_exchange::finish(byte_view k_s, byte_view method_part, const secure_bytes& shared) {
  k_s_.assign(k_s.begin(), k_s.end());
  k_.clear();
  k_.reserve(shared.size() + 5);
  wire::basic_writer<secure_bytes>{k_}.mpint_unsigned(shared);
  bytes prefix;
  wire::writer w{prefix};
  w.string(in_.v_c);
  w.string(in_.v_s);
  w.string(in_.i_c);
  w.string(in_.i_s);
  w.string(k_s);
  crypto::hasher hs{in_.algorithms->kex->hash};
  hs.update(prefix);
  hs.update(method_part);
  hs.update(k_);
  h_ = hs.final();
  return {};
}

secure_bytes derive_key(crypto::hash_alg hash, byte_view k, byte_view h, char letter,
                        byte_view session_id, std::size_t size) {
  secure_bytes out;
  out.reserve(size + crypto::max_digest_size);
  crypto::hasher base{hash};
  base.update(k);
  base.update(h);
  {
    auto first = base.copy();
    std::uint8_t x = static_cast<std::uint8_t>(letter);
    first.update(byte_view{&x, 1});
    first.update(session_id);
    auto d = first.final();
    out.insert(out.end(), d.begin(), d.end());
    secure_wipe(d.data(), d.size());
  }
  while (out.size() < size) {
    auto next = base.copy();
    next.update(byte_view{out.data(), out.size()});
    auto d = next.final();
    out.insert(out.end(), d.begin(), d.end());
    secure_wipe(d.data(), d.size());
  }
  out.resize(size);
  return out;
}

direction_keys make_direction_keys(const negotiated& alg, bool c2s, byte_view k, byte_view h,
                                   byte_view session_id) {
  direction_keys d;
  d.cipher = c2s ? alg.cipher_c2s : alg.cipher_s2c;
  d.mac = c2s ? alg.mac_c2s : alg.mac_s2c;
  d.compression = c2s ? alg.compression_c2s : alg.compression_s2c;
  auto hash = alg.kex->hash;
  d.iv = derive_key(hash, k, h, c2s ? 'A' : 'B', session_id, d.cipher->iv_size);
  d.key = derive_key(hash, k, h, c2s ? 'C' : 'D', session_id, d.cipher->key_size);
  if (d.mac) d.mac_key = derive_key(hash, k, h, c2s ? 'E' : 'F', session_id, d.mac->key_size);
  return d;
}

}  // namespace ferry::ssh::proto
