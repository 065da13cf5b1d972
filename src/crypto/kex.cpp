// Key agreement: X25519 (RFC 7748, RFC 8731), ECDH on the NIST curves (RFC 5656 §4, SEC1) and
// finite-field DH (RFC 4253 §8, RFC 4419, RFC 8268). Private values come from the caller's
// random_source so that a fixed source replays a session; public values are checked before use.
#include <ferry/crypto/kex.hpp>

#include "dh_groups.hpp"
#include "ossl.hpp"

#include <openssl/core_names.h>
#include <openssl/param_build.h>

#include <cstring>
#include <utility>

namespace ferry::crypto {

std::size_t curve_size(curve c) noexcept {
  switch (c) {
    case curve::p256: return 32;
    case curve::p384: return 48;
    case curve::p521: return 66;
  }
  return 0;
}

// ---- X25519 ---------------------------------------------------------------------------------

x25519_keypair x25519_keypair::from_private(byte_view scalar32) {
  if (scalar32.size() != 32) detail::throw_crypto("x25519: private key must be 32 bytes");
  x25519_keypair kp;
  kp.key_ = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, scalar32.data(), 32);
  detail::check(kp.key_ != nullptr, "EVP_PKEY_new_raw_private_key");
  std::size_t len = sizeof kp.pub_;
  detail::check(EVP_PKEY_get_raw_public_key(kp.key_, kp.pub_, &len) == 1 && len == 32,
                "EVP_PKEY_get_raw_public_key");
  return kp;
}

x25519_keypair x25519_keypair::generate(random_source& rng) {
  std::uint8_t k[32];
  rng.fill(mutable_byte_view{k});
  auto kp = from_private(byte_view{k});
  secure_wipe(k, sizeof k);
  return kp;
}

error_code x25519_keypair::derive(byte_view peer, secure_bytes& shared) const {
  shared.clear();
  if (peer.size() != 32) return make_error_code(errc::invalid_public_value);
  detail::pkey_ptr p{EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, peer.data(), 32)};
  if (p == nullptr) return make_error_code(errc::invalid_public_value);
  if (auto ec = detail::derive(key_, p.get(), shared)) return ec;
  // RFC 7748 §6.1, RFC 8731 §3: an all-zero result means a low-order peer point; refuse it
  // (checked here too, whatever the library does), in time independent of the value.
  std::uint8_t acc = 0;
  for (auto b : shared) acc |= b;
  if (shared.size() != 32 || acc == 0) {
    shared.clear();
    return make_error_code(errc::invalid_public_value);
  }
  return {};
}

x25519_keypair::~x25519_keypair() { EVP_PKEY_free(key_); }

x25519_keypair::x25519_keypair(x25519_keypair&& o) noexcept : key_(std::exchange(o.key_, nullptr)) {
  std::memcpy(pub_, o.pub_, sizeof pub_);
}

x25519_keypair& x25519_keypair::operator=(x25519_keypair&& o) noexcept {
  if (this != &o) {
    EVP_PKEY_free(key_);
    key_ = std::exchange(o.key_, nullptr);
    std::memcpy(pub_, o.pub_, sizeof pub_);
  }
  return *this;
}

// ---- ECDH -----------------------------------------------------------------------------------

ecdh_keypair ecdh_keypair::from_scalar(curve c, byte_view d) {
  auto bn = detail::bn_from(d);
  BN_set_flags(bn.get(), BN_FLG_CONSTTIME);
  ecdh_keypair kp;
  kp.curve_ = c;
  if (!detail::ec_public_from_scalar(c, bn.get(), kp.pub_))
    detail::throw_crypto("ecdh: private scalar out of range");
  kp.key_ = detail::ec_keypair(c, bn.get(), kp.pub_).release();
  return kp;
}

ecdh_keypair ecdh_keypair::generate(curve c, random_source& rng) {
  // Rejection sampling (FIPS 186-4 B.4.2 style): draw the order's bit length, keep 1 <= d < n.
  // Unbiased, and a fixed random_source still yields a fixed key.
  auto group = detail::new_group(c);
  const BIGNUM* n = EC_GROUP_get0_order(group.get());
  const int bits = BN_num_bits(n);
  secure_bytes buf(static_cast<std::size_t>((bits + 7) / 8));
  const int excess = static_cast<int>(buf.size() * 8) - bits;
  for (;;) {
    rng.fill(mutable_byte_view{buf});
    buf[0] &= static_cast<std::uint8_t>(0xff >> excess);
    auto d = detail::bn_from(buf);
    if (BN_is_zero(d.get()) || BN_cmp(d.get(), n) >= 0) continue;
    return from_scalar(c, buf);
  }
}

error_code ecdh_keypair::derive(byte_view peer_point, secure_bytes& shared) const {
  shared.clear();
  auto peer = detail::ec_public(curve_, peer_point);
  if (peer == nullptr) return make_error_code(errc::invalid_public_value);
  if (auto ec = detail::derive(key_, peer.get(), shared)) return ec;
  // OpenSSL returns the X coordinate padded to the field size (SEC1 §3.3.1, RFC 5656 §4).
  if (shared.size() != curve_size(curve_)) {
    shared.clear();
    return make_error_code(errc::crypto_failure);
  }
  return {};
}

ecdh_keypair::~ecdh_keypair() { EVP_PKEY_free(key_); }

ecdh_keypair::ecdh_keypair(ecdh_keypair&& o) noexcept
    : curve_(o.curve_), key_(std::exchange(o.key_, nullptr)), pub_(std::move(o.pub_)) {}

ecdh_keypair& ecdh_keypair::operator=(ecdh_keypair&& o) noexcept {
  if (this != &o) {
    EVP_PKEY_free(key_);
    curve_ = o.curve_;
    key_ = std::exchange(o.key_, nullptr);
    pub_ = std::move(o.pub_);
  }
  return *this;
}

// ---- finite-field DH ------------------------------------------------------------------------

std::size_t dh_group::bits() const noexcept {
  std::size_t i = 0;
  while (i < p.size() && p[i] == 0) ++i;
  if (i == p.size()) return 0;
  std::size_t b = (p.size() - i) * 8;
  for (std::uint8_t top = p[i]; (top & 0x80) == 0; top = static_cast<std::uint8_t>(top << 1)) --b;
  return b;
}

namespace {

dh_group from_hex(const char* hex) {
  dh_group g;
  auto nibble = [](char c) {
    return static_cast<std::uint8_t>(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
  };
  for (std::size_t i = 0; hex[i] != '\0' && hex[i + 1] != '\0'; i += 2)
    g.p.push_back(static_cast<std::uint8_t>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
  g.g = {2};  // RFC 3526: generator 2 for every group
  return g;
}

struct param_bld_free {
  void operator()(OSSL_PARAM_BLD* p) const noexcept { OSSL_PARAM_BLD_free(p); }
};
struct param_free {
  void operator()(OSSL_PARAM* p) const noexcept { OSSL_PARAM_free(p); }
};

// A DH EVP_PKEY from (p, g) and the public value, plus the private exponent when given.
detail::pkey_ptr dh_key(const BIGNUM* p, const BIGNUM* g, const BIGNUM* pub, const BIGNUM* priv) {
  std::unique_ptr<OSSL_PARAM_BLD, param_bld_free> bld{OSSL_PARAM_BLD_new()};
  detail::check(bld != nullptr, "OSSL_PARAM_BLD_new");
  detail::check(OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_FFC_P, p) == 1 &&
                    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_FFC_G, g) == 1 &&
                    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, pub) == 1 &&
                    (priv == nullptr ||
                     OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, priv) == 1),
                "OSSL_PARAM_BLD_push_BN");
  std::unique_ptr<OSSL_PARAM, param_free> params{OSSL_PARAM_BLD_to_param(bld.get())};
  detail::check(params != nullptr, "OSSL_PARAM_BLD_to_param");
  detail::pkey_ctx_ptr ctx{EVP_PKEY_CTX_new_from_name(nullptr, "DH", nullptr)};
  detail::check(ctx != nullptr && EVP_PKEY_fromdata_init(ctx.get()) == 1, "EVP_PKEY_fromdata_init");
  EVP_PKEY* key = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &key, priv != nullptr ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
                        params.get()) != 1)
    return nullptr;
  return detail::pkey_ptr{key};
}

// RFC 4253 §8: values outside [1, p-1] are refused; RFC 8268 §4 / NIST SP 800-56A 5.6.2.3.1
// also exclude 1 and p-1 (they force the secret into a subgroup of order 1 or 2).
bool in_open_range(const BIGNUM* f, const BIGNUM* p) {
  detail::bn_ptr pm1{BN_dup(p)};
  detail::check(pm1 != nullptr && BN_sub_word(pm1.get(), 1) == 1, "BN_sub_word");
  return !BN_is_negative(f) && BN_cmp(f, BN_value_one()) > 0 && BN_cmp(f, pm1.get()) < 0;
}

}  // namespace

const dh_group& dh_group::group14() {
  static const dh_group g = from_hex(detail::modp_2048_hex);
  return g;
}
const dh_group& dh_group::group16() {
  static const dh_group g = from_hex(detail::modp_4096_hex);
  return g;
}
const dh_group& dh_group::group18() {
  static const dh_group g = from_hex(detail::modp_8192_hex);
  return g;
}

dh_keypair dh_keypair::from_private(const dh_group& group, byte_view x) {
  auto p = detail::bn_from(group.p);
  auto g = detail::bn_from(group.g);
  auto priv = detail::bn_from(x);
  if (BN_is_zero(p.get()) || !in_open_range(priv.get(), p.get()))
    detail::throw_crypto("dh: private exponent out of range");
  BN_set_flags(priv.get(), BN_FLG_CONSTTIME);
  detail::bn_ptr pub{BN_new()};
  detail::bn_ctx_ptr bctx{BN_CTX_secure_new()};
  detail::check(pub != nullptr && bctx != nullptr, "BN_new");
  // e = g^x mod p (RFC 4253 §8), with the constant-time exponentiation.
  detail::check(
      BN_mod_exp_mont_consttime(pub.get(), g.get(), priv.get(), p.get(), bctx.get(), nullptr) == 1,
      "BN_mod_exp_mont_consttime");
  dh_keypair kp;
  auto key = dh_key(p.get(), g.get(), pub.get(), priv.get());
  detail::check(key != nullptr, "EVP_PKEY_fromdata (DH)");
  kp.key_ = key.release();
  kp.pub_ = detail::bn_to_bytes(pub.get());
  return kp;
}

dh_keypair dh_keypair::generate(const dh_group& group, std::size_t private_bits, random_source& rng) {
  const std::size_t pbits = group.bits();
  if (pbits < 2 || private_bits < 2) detail::throw_crypto("dh: bad group or exponent size");
  // The exponent has at most private_bits bits and must satisfy 1 < x < p-1 (rejection sampling).
  const std::size_t bits = std::min(private_bits, pbits);
  secure_bytes buf((bits + 7) / 8);
  const auto excess = static_cast<int>(buf.size() * 8 - bits);
  auto p = detail::bn_from(group.p);
  for (;;) {
    rng.fill(mutable_byte_view{buf});
    buf[0] &= static_cast<std::uint8_t>(0xff >> excess);
    auto x = detail::bn_from(buf);
    if (!in_open_range(x.get(), p.get())) continue;
    return from_private(group, buf);
  }
}

error_code dh_keypair::derive(byte_view peer_value, secure_bytes& shared) const {
  shared.clear();
  auto p = detail::pkey_bn(key_, OSSL_PKEY_PARAM_FFC_P);
  auto g = detail::pkey_bn(key_, OSSL_PKEY_PARAM_FFC_G);
  detail::check(p != nullptr && g != nullptr, "dh parameters");
  if (peer_value.size() > static_cast<std::size_t>(BN_num_bytes(p.get())) + 1)
    return make_error_code(errc::invalid_public_value);
  auto f = detail::bn_from(peer_value);
  if (!in_open_range(f.get(), p.get())) return make_error_code(errc::invalid_public_value);
  auto peer = dh_key(p.get(), g.get(), f.get(), nullptr);
  if (peer == nullptr) return make_error_code(errc::invalid_public_value);
  if (auto ec = detail::derive(key_, peer.get(), shared)) return ec;
  // K as a magnitude (RFC 4253 §8 sends it as an mpint): no leading zero bytes.
  std::size_t zeros = 0;
  while (zeros < shared.size() && shared[zeros] == 0) ++zeros;
  shared.erase(shared.begin(), shared.begin() + static_cast<std::ptrdiff_t>(zeros));
  return {};
}

dh_keypair::~dh_keypair() { EVP_PKEY_free(key_); }

dh_keypair::dh_keypair(dh_keypair&& o) noexcept
    : key_(std::exchange(o.key_, nullptr)), pub_(std::move(o.pub_)) {}

dh_keypair& dh_keypair::operator=(dh_keypair&& o) noexcept {
  if (this != &o) {
    EVP_PKEY_free(key_);
    key_ = std::exchange(o.key_, nullptr);
    pub_ = std::move(o.pub_);
  }
  return *this;
}

}  // namespace ferry::crypto
