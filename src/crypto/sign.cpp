// Signature keys: Ed25519 (RFC 8032, RFC 8709), ECDSA on the NIST curves (RFC 5656 §3.1.2) and RSA
// PKCS#1 v1.5 (RFC 8017 §8.2, RFC 8332). ECDSA signatures cross the interface as r || s (each
// curve_size() bytes) and are converted to and from DER with ECDSA_SIG here.
#include <ferry/crypto/sign.hpp>

#include "ossl.hpp"

#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <utility>

namespace ferry::crypto {
namespace {

constexpr bool is_ecdsa(key_type t) noexcept {
  return t == key_type::ecdsa_p256 || t == key_type::ecdsa_p384 || t == key_type::ecdsa_p521;
}

curve curve_of(key_type t) noexcept {
  switch (t) {
    case key_type::ecdsa_p384: return curve::p384;
    case key_type::ecdsa_p521: return curve::p521;
    default: return curve::p256;
  }
}

key_type type_of(curve c) noexcept {
  switch (c) {
    case curve::p256: return key_type::ecdsa_p256;
    case curve::p384: return key_type::ecdsa_p384;
    case curve::p521: return key_type::ecdsa_p521;
  }
  return key_type::ecdsa_p256;
}

// OpenSSH refuses RSA keys below 1024 bits (SSH_RSA_MINIMUM_MODULUS_SIZE); so does ferry.
constexpr int min_rsa_bits = 1024;

struct param_bld_free {
  void operator()(OSSL_PARAM_BLD* p) const noexcept { OSSL_PARAM_BLD_free(p); }
};
struct param_free {
  void operator()(OSSL_PARAM* p) const noexcept { OSSL_PARAM_free(p); }
};
struct ecdsa_sig_free {
  void operator()(ECDSA_SIG* p) const noexcept { ECDSA_SIG_free(p); }
};

detail::pkey_ptr rsa_fromdata(OSSL_PARAM_BLD* bld, int selection) {
  std::unique_ptr<OSSL_PARAM, param_free> params{OSSL_PARAM_BLD_to_param(bld)};
  detail::check(params != nullptr, "OSSL_PARAM_BLD_to_param");
  detail::pkey_ctx_ptr ctx{EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr)};
  detail::check(ctx != nullptr && EVP_PKEY_fromdata_init(ctx.get()) == 1, "EVP_PKEY_fromdata_init");
  EVP_PKEY* key = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &key, selection, params.get()) != 1) return nullptr;
  return detail::pkey_ptr{key};
}

// The digest for EVP_DigestSign/Verify: none for Ed25519 (PureEdDSA hashes internally).
const char* md_name(key_type t, hash_alg h) {
  if (t == key_type::ed25519) return nullptr;
  return EVP_MD_get0_name(detail::md(h));
}

detail::md_ctx_ptr new_md_ctx() {
  detail::md_ctx_ptr ctx{EVP_MD_CTX_new()};
  detail::check(ctx != nullptr, "EVP_MD_CTX_new");
  return ctx;
}

}  // namespace

// ---- public_key -----------------------------------------------------------------------------

public_key public_key::ed25519(byte_view pub32) {
  if (pub32.size() != 32) return {};
  EVP_PKEY* k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, pub32.data(), 32);
  return k != nullptr ? public_key{k, key_type::ed25519} : public_key{};
}

public_key public_key::ecdsa(curve c, byte_view point) {
  auto k = detail::ec_public(c, point);
  return k != nullptr ? public_key{k.release(), type_of(c)} : public_key{};
}

public_key public_key::rsa(byte_view n, byte_view e) {
  auto bn_n = detail::bn_from(n);
  auto bn_e = detail::bn_from(e);
  // e must be odd and > 1 (RFC 8017 §3.1); the modulus at least min_rsa_bits.
  if (BN_num_bits(bn_n.get()) < min_rsa_bits || !BN_is_odd(bn_e.get()) || BN_is_one(bn_e.get()) ||
      BN_cmp(bn_e.get(), bn_n.get()) >= 0)
    return {};
  std::unique_ptr<OSSL_PARAM_BLD, param_bld_free> bld{OSSL_PARAM_BLD_new()};
  detail::check(bld != nullptr &&
                    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) == 1 &&
                    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) == 1,
                "OSSL_PARAM_BLD_push_BN");
  auto k = rsa_fromdata(bld.get(), EVP_PKEY_PUBLIC_KEY);
  return k != nullptr ? public_key{k.release(), key_type::rsa} : public_key{};
}

std::size_t public_key::bits() const noexcept {
  return key_ != nullptr ? static_cast<std::size_t>(EVP_PKEY_get_bits(key_)) : 0;
}

error_code public_key::verify(hash_alg hash, byte_view data, byte_view signature) const {
  const auto bad = make_error_code(errc::bad_signature);
  if (key_ == nullptr) return bad;
  bytes der_or_padded;
  byte_view sig = signature;
  if (type_ == key_type::ed25519) {
    if (signature.size() != 64) return bad;  // RFC 8032 §5.1.6
  } else if (is_ecdsa(type_)) {
    // r || s, each curve_size() bytes (the SSH layer's mpints, left-padded) -> DER.
    const auto n = curve_size(curve_of(type_));
    if (signature.size() != 2 * n) return bad;
    std::unique_ptr<ECDSA_SIG, ecdsa_sig_free> s{ECDSA_SIG_new()};
    detail::check(s != nullptr, "ECDSA_SIG_new");
    BIGNUM* r = BN_bin2bn(signature.data(), static_cast<int>(n), nullptr);
    BIGNUM* sv = BN_bin2bn(signature.data() + n, static_cast<int>(n), nullptr);
    if (r == nullptr || sv == nullptr || ECDSA_SIG_set0(s.get(), r, sv) != 1) {
      BN_free(r);
      BN_free(sv);
      detail::throw_crypto("ECDSA_SIG_set0");
    }
    int len = i2d_ECDSA_SIG(s.get(), nullptr);
    detail::check(len > 0, "i2d_ECDSA_SIG");
    der_or_padded.resize(static_cast<std::size_t>(len));
    auto* out = der_or_padded.data();
    i2d_ECDSA_SIG(s.get(), &out);
    sig = der_or_padded;
  } else {
    // RFC 8332 §3: the signature is modulus-sized; OpenSSH also accepts a shorter one (leading
    // zeros dropped) and left-pads it, so ferry does the same. Longer is refused.
    const auto mod = static_cast<std::size_t>(EVP_PKEY_get_size(key_));
    if (signature.size() > mod || signature.empty()) return bad;
    if (signature.size() < mod) {
      der_or_padded.assign(mod - signature.size(), 0);
      der_or_padded.insert(der_or_padded.end(), signature.begin(), signature.end());
      sig = der_or_padded;
    }
  }
  auto ctx = new_md_ctx();
  EVP_PKEY_CTX* pctx = nullptr;
  if (EVP_DigestVerifyInit_ex(ctx.get(), &pctx, md_name(type_, hash), nullptr, nullptr, key_,
                              nullptr) != 1)
    return make_error_code(errc::crypto_failure);
  if (type_ == key_type::rsa) EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING);
  if (EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), data.data(), data.size()) != 1) return bad;
  return {};
}

bytes public_key::ed25519_bytes() const {
  if (key_ == nullptr || type_ != key_type::ed25519) return {};
  bytes out(32);
  std::size_t len = out.size();
  detail::check(EVP_PKEY_get_raw_public_key(key_, out.data(), &len) == 1 && len == 32,
                "EVP_PKEY_get_raw_public_key");
  return out;
}

bytes public_key::ecdsa_point() const {
  if (key_ == nullptr || !is_ecdsa(type_)) return {};
  return detail::ec_point_of(key_);
}

bytes public_key::rsa_n() const {
  if (key_ == nullptr || type_ != key_type::rsa) return {};
  auto n = detail::pkey_bn(key_, OSSL_PKEY_PARAM_RSA_N);
  return n ? detail::bn_to_bytes(n.get()) : bytes{};
}

bytes public_key::rsa_e() const {
  if (key_ == nullptr || type_ != key_type::rsa) return {};
  auto e = detail::pkey_bn(key_, OSSL_PKEY_PARAM_RSA_E);
  return e ? detail::bn_to_bytes(e.get()) : bytes{};
}

public_key::~public_key() { EVP_PKEY_free(key_); }

// A public key is immutable once built, so copies share the EVP_PKEY (reference counted).
public_key::public_key(const public_key& o) : key_(o.key_), type_(o.type_) {
  if (key_ != nullptr) EVP_PKEY_up_ref(key_);
}

public_key& public_key::operator=(const public_key& o) {
  if (this != &o) {
    if (o.key_ != nullptr) EVP_PKEY_up_ref(o.key_);
    EVP_PKEY_free(key_);
    key_ = o.key_;
    type_ = o.type_;
  }
  return *this;
}

public_key::public_key(public_key&& o) noexcept
    : key_(std::exchange(o.key_, nullptr)), type_(o.type_) {}

public_key& public_key::operator=(public_key&& o) noexcept {
  if (this != &o) {
    EVP_PKEY_free(key_);
    key_ = std::exchange(o.key_, nullptr);
    type_ = o.type_;
  }
  return *this;
}

// ---- private_key ----------------------------------------------------------------------------

private_key private_key::ed25519_from_seed(byte_view seed32) {
  if (seed32.size() != 32) return {};
  EVP_PKEY* k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed32.data(), 32);
  return k != nullptr ? private_key{k, key_type::ed25519} : private_key{};
}

private_key private_key::ecdsa_from_scalar(curve c, byte_view d) {
  // Key files carry d as an mpint, which may have a leading zero byte (RFC 4251 §5).
  while (!d.empty() && d.front() == 0) d = d.subspan(1);
  if (d.empty() || d.size() > curve_size(c)) return {};
  auto bn = detail::bn_from(d);
  BN_set_flags(bn.get(), BN_FLG_CONSTTIME);
  bytes point;
  if (!detail::ec_public_from_scalar(c, bn.get(), point)) return {};
  return private_key{detail::ec_keypair(c, bn.get(), point).release(), type_of(c)};
}

private_key private_key::rsa_from_components(byte_view n, byte_view e, byte_view d, byte_view p,
                                             byte_view q, byte_view iqmp) {
  auto bn_n = detail::bn_from(n), bn_e = detail::bn_from(e), bn_d = detail::bn_from(d);
  auto bn_p = detail::bn_from(p), bn_q = detail::bn_from(q), bn_iqmp = detail::bn_from(iqmp);
  BN_set_flags(bn_d.get(), BN_FLG_CONSTTIME);
  detail::bn_ctx_ptr bctx{BN_CTX_secure_new()};
  detail::bn_ptr pq{BN_new()}, pm1{BN_dup(bn_p.get())}, qm1{BN_dup(bn_q.get())};
  detail::bn_ptr dmp1{BN_secure_new()}, dmq1{BN_secure_new()};
  detail::check(bctx && pq && pm1 && qm1 && dmp1 && dmq1, "BN_new");
  // The CRT exponents are not in OpenSSH key files (only iqmp is): d mod (p-1), d mod (q-1).
  detail::check(BN_mul(pq.get(), bn_p.get(), bn_q.get(), bctx.get()) == 1, "BN_mul");
  if (BN_num_bits(bn_n.get()) < min_rsa_bits || BN_cmp(pq.get(), bn_n.get()) != 0) return {};
  detail::check(BN_sub_word(pm1.get(), 1) == 1 && BN_sub_word(qm1.get(), 1) == 1 &&
                    BN_mod(dmp1.get(), bn_d.get(), pm1.get(), bctx.get()) == 1 &&
                    BN_mod(dmq1.get(), bn_d.get(), qm1.get(), bctx.get()) == 1,
                "rsa crt exponents");
  std::unique_ptr<OSSL_PARAM_BLD, param_bld_free> bld{OSSL_PARAM_BLD_new()};
  detail::check(bld != nullptr, "OSSL_PARAM_BLD_new");
  auto* b = bld.get();
  detail::check(OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_N, bn_n.get()) == 1 &&
                    OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_E, bn_e.get()) == 1 &&
                    OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_D, bn_d.get()) == 1 &&
                    OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_FACTOR1, bn_p.get()) == 1 &&
                    OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_FACTOR2, bn_q.get()) == 1 &&
                    OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_EXPONENT1, dmp1.get()) == 1 &&
                    OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_EXPONENT2, dmq1.get()) == 1 &&
                    OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, bn_iqmp.get()) == 1,
                "OSSL_PARAM_BLD_push_BN");
  auto k = rsa_fromdata(b, EVP_PKEY_KEYPAIR);
  if (k == nullptr) return {};
  // A key whose parts do not fit together would sign garbage; check it once here.
  detail::pkey_ctx_ptr check_ctx{EVP_PKEY_CTX_new_from_pkey(nullptr, k.get(), nullptr)};
  if (check_ctx == nullptr || EVP_PKEY_pairwise_check(check_ctx.get()) != 1) return {};
  return private_key{k.release(), key_type::rsa};
}

private_key private_key::generate(key_type t, random_source& rng, unsigned rsa_bits) {
  if (t == key_type::ed25519) {
    // RFC 8032 §5.1.5: the private key is 32 random bytes.
    secure_bytes seed(32);
    rng.fill(mutable_byte_view{seed});
    return ed25519_from_seed(seed);
  }
  if (is_ecdsa(t)) {
    const curve c = curve_of(t);
    auto group = detail::new_group(c);
    const BIGNUM* n = EC_GROUP_get0_order(group.get());
    const int bits = BN_num_bits(n);
    secure_bytes buf(static_cast<std::size_t>((bits + 7) / 8));
    const int excess = static_cast<int>(buf.size() * 8) - bits;
    // Rejection sampling into [1, n-1], as for ECDH.
    for (;;) {
      rng.fill(mutable_byte_view{buf});
      buf[0] &= static_cast<std::uint8_t>(0xff >> excess);
      auto d = detail::bn_from(buf);
      if (BN_is_zero(d.get()) || BN_cmp(d.get(), n) >= 0) continue;
      return ecdsa_from_scalar(c, buf);
    }
  }
  if (rsa_bits < static_cast<unsigned>(min_rsa_bits)) return {};
  detail::pkey_ctx_ptr ctx{EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr)};
  detail::check(ctx != nullptr && EVP_PKEY_keygen_init(ctx.get()) == 1 &&
                    EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), static_cast<int>(rsa_bits)) == 1,
                "rsa keygen init");
  EVP_PKEY* k = nullptr;
  detail::check(EVP_PKEY_generate(ctx.get(), &k) == 1, "EVP_PKEY_generate");
  return private_key{k, key_type::rsa};
}

public_key private_key::public_part() const {
  if (key_ == nullptr) return {};
  if (type_ == key_type::ed25519) {
    std::uint8_t pub[32];
    std::size_t len = sizeof pub;
    detail::check(EVP_PKEY_get_raw_public_key(key_, pub, &len) == 1, "EVP_PKEY_get_raw_public_key");
    return public_key::ed25519(byte_view{pub, len});
  }
  if (is_ecdsa(type_)) return public_key::ecdsa(curve_of(type_), detail::ec_point_of(key_));
  auto n = detail::pkey_bn(key_, OSSL_PKEY_PARAM_RSA_N);
  auto e = detail::pkey_bn(key_, OSSL_PKEY_PARAM_RSA_E);
  detail::check(n && e, "rsa public components");
  return public_key::rsa(detail::bn_to_bytes(n.get()), detail::bn_to_bytes(e.get()));
}

error_code private_key::sign(hash_alg hash, byte_view data, bytes& signature) const {
  signature.clear();
  if (key_ == nullptr) return make_error_code(errc::crypto_failure);
  auto ctx = new_md_ctx();
  EVP_PKEY_CTX* pctx = nullptr;
  if (EVP_DigestSignInit_ex(ctx.get(), &pctx, md_name(type_, hash), nullptr, nullptr, key_,
                            nullptr) != 1)
    return make_error_code(errc::crypto_failure);
  if (type_ == key_type::rsa && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
    return make_error_code(errc::crypto_failure);
  std::size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, data.data(), data.size()) != 1)
    return make_error_code(errc::crypto_failure);
  bytes out(len);
  if (EVP_DigestSign(ctx.get(), out.data(), &len, data.data(), data.size()) != 1)
    return make_error_code(errc::crypto_failure);
  out.resize(len);
  if (is_ecdsa(type_)) {
    // DER -> r || s, each left-padded to the curve size (RFC 5656 §3.1.2 carries them as mpints).
    const auto n = curve_size(curve_of(type_));
    const std::uint8_t* p = out.data();
    std::unique_ptr<ECDSA_SIG, ecdsa_sig_free> s{
        d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(out.size()))};
    if (s == nullptr) return make_error_code(errc::crypto_failure);
    bytes raw(2 * n);
    if (BN_bn2binpad(ECDSA_SIG_get0_r(s.get()), raw.data(), static_cast<int>(n)) < 0 ||
        BN_bn2binpad(ECDSA_SIG_get0_s(s.get()), raw.data() + n, static_cast<int>(n)) < 0)
      return make_error_code(errc::crypto_failure);
    out = std::move(raw);
  }
  signature = std::move(out);
  return {};
}

secure_bytes private_key::ed25519_seed() const {
  if (key_ == nullptr || type_ != key_type::ed25519) return {};
  secure_bytes out(32);
  std::size_t len = out.size();
  detail::check(EVP_PKEY_get_raw_private_key(key_, out.data(), &len) == 1 && len == 32,
                "EVP_PKEY_get_raw_private_key");
  return out;
}

namespace {

secure_bytes secret_bn(const EVP_PKEY* key, const char* param, std::size_t pad = 0) {
  auto n = detail::pkey_bn(key, param);
  detail::check(n != nullptr, param);
  const auto size = std::max(pad, static_cast<std::size_t>(BN_num_bytes(n.get())));
  secure_bytes out(size);
  detail::check(BN_bn2binpad(n.get(), out.data(), static_cast<int>(size)) >= 0, "BN_bn2binpad");
  return out;
}

}  // namespace

secure_bytes private_key::ecdsa_scalar() const {
  if (key_ == nullptr || !is_ecdsa(type_)) return {};
  return secret_bn(key_, OSSL_PKEY_PARAM_PRIV_KEY, curve_size(curve_of(type_)));
}

private_key::rsa_parts private_key::rsa_components() const {
  if (key_ == nullptr || type_ != key_type::rsa) return {};
  rsa_parts parts;
  auto n = detail::pkey_bn(key_, OSSL_PKEY_PARAM_RSA_N);
  auto e = detail::pkey_bn(key_, OSSL_PKEY_PARAM_RSA_E);
  detail::check(n && e, "rsa public components");
  parts.n = detail::bn_to_bytes(n.get());
  parts.e = detail::bn_to_bytes(e.get());
  parts.d = secret_bn(key_, OSSL_PKEY_PARAM_RSA_D);
  parts.p = secret_bn(key_, OSSL_PKEY_PARAM_RSA_FACTOR1);
  parts.q = secret_bn(key_, OSSL_PKEY_PARAM_RSA_FACTOR2);
  parts.iqmp = secret_bn(key_, OSSL_PKEY_PARAM_RSA_COEFFICIENT1);
  return parts;
}

private_key::~private_key() { EVP_PKEY_free(key_); }

private_key::private_key(private_key&& o) noexcept
    : key_(std::exchange(o.key_, nullptr)), type_(o.type_) {}

private_key& private_key::operator=(private_key&& o) noexcept {
  if (this != &o) {
    EVP_PKEY_free(key_);
    key_ = std::exchange(o.key_, nullptr);
    type_ = o.type_;
  }
  return *this;
}

}  // namespace ferry::crypto
