#include <ferry/ssh/error.hpp>
#include <ferry/ssh/proto/host_key.hpp>

namespace ferry::ssh::proto {

namespace {

struct curve_info {
  crypto::key_type type;
  crypto::curve curve;
  std::string_view blob_name;
  std::string_view id;  // RFC 5656 §6.1 curve identifier
};

constexpr curve_info curves[] = {
    {crypto::key_type::ecdsa_p256, crypto::curve::p256, "ecdsa-sha2-nistp256", "nistp256"},
    {crypto::key_type::ecdsa_p384, crypto::curve::p384, "ecdsa-sha2-nistp384", "nistp384"},
    {crypto::key_type::ecdsa_p521, crypto::curve::p521, "ecdsa-sha2-nistp521", "nistp521"},
};

const curve_info* curve_for(crypto::key_type t) {
  for (const auto& c : curves)
    if (c.type == t) return &c;
  return nullptr;
}

const curve_info* curve_for(std::string_view blob_name) {
  for (const auto& c : curves)
    if (c.blob_name == blob_name) return &c;
  return nullptr;
}

error_code bad_key() { return make_error_code(errc::bad_value); }

// Left-pads a big-endian magnitude to width bytes; false if it does not fit.
bool pad_to(byte_view in, std::size_t width, bytes& out) {
  while (!in.empty() && in[0] == 0) in = in.subspan(1);
  if (in.size() > width) return false;
  out.insert(out.end(), width - in.size(), 0);
  out.insert(out.end(), in.begin(), in.end());
  return true;
}

}  // namespace

std::string_view key_blob_name(crypto::key_type t) noexcept {
  switch (t) {
    case crypto::key_type::ed25519: return "ssh-ed25519";
    case crypto::key_type::rsa: return "ssh-rsa";
    default: return curve_for(t)->blob_name;
  }
}

bytes encode_public_key(const crypto::public_key& key) {
  switch (key.type()) {
    case crypto::key_type::ed25519:
      return wire::encode(ed25519_key_blob{"ssh-ed25519", key.ed25519_bytes()});
    case crypto::key_type::rsa:  // RFC 4253 §6.6: e before n
      return wire::encode(rsa_key_blob{"ssh-rsa", {key.rsa_e()}, {key.rsa_n()}});
    default: {
      auto* c = curve_for(key.type());
      return wire::encode(
          ecdsa_key_blob{std::string{c->blob_name}, std::string{c->id}, key.ecdsa_point()});
    }
  }
}

error_code decode_public_key(byte_view blob, crypto::public_key& key) {
  key_blob_header h;
  if (auto ec = wire::decode(blob, h)) return ec;
  if (h.name == "ssh-ed25519") {
    ed25519_key_blob b;
    if (auto ec = wire::decode(blob, b)) return ec;
    if (b.key.size() != 32) return bad_key();
    key = crypto::public_key::ed25519(b.key);
  } else if (h.name == "ssh-rsa") {
    rsa_key_blob b;
    if (auto ec = wire::decode(blob, b)) return ec;
    // OpenSSH's floor (SSH_RSA_MINIMUM_MODULUS_SIZE) for a key it accepts at all.
    if (b.n.magnitude.size() * 8 < 1024 || b.e.magnitude.empty()) return bad_key();
    key = crypto::public_key::rsa(b.n.magnitude, b.e.magnitude);
  } else if (auto* c = curve_for(h.name)) {
    ecdsa_key_blob b;
    if (auto ec = wire::decode(blob, b)) return ec;
    if (b.curve != c->id) return bad_key();
    key = crypto::public_key::ecdsa(c->curve, b.q);
  } else {
    return make_error_code(errc::unsupported);
  }
  return key.valid() ? error_code{} : bad_key();
}

error_code sign_blob(const host_key_algorithm& alg, const crypto::private_key& key, byte_view data,
                     bytes& blob) {
  if (!key.valid() || key.type() != alg.key) return make_error_code(errc::crypto_failure);
  bytes raw;
  if (auto ec = key.sign(alg.hash, data, raw)) return ec;
  signature_blob sb{std::string{alg.name}, {}};
  if (auto* c = curve_for(alg.key)) {
    // RFC 5656 §3.1.2: r and s as mpints inside the signature string.
    auto half = raw.size() / 2;
    ecdsa_signature es{{bytes(raw.begin(), raw.begin() + half)}, {bytes(raw.begin() + half, raw.end())}};
    auto strip = [](bytes& b) {
      std::size_t z = 0;
      while (z < b.size() && b[z] == 0) ++z;
      b.erase(b.begin(), b.begin() + z);
    };
    strip(es.r.magnitude);
    strip(es.s.magnitude);
    (void)c;
    sb.signature = wire::encode(es);
  } else {
    sb.signature = std::move(raw);
  }
  blob = wire::encode(sb);
  return {};
}

error_code verify_blob(const host_key_algorithm& alg, const crypto::public_key& key, byte_view data,
                       byte_view blob) {
  auto bad = make_error_code(errc::bad_signature);
  if (!key.valid() || key.type() != alg.key) return bad;
  signature_blob sb;
  if (wire::decode(blob, sb) || sb.algorithm != alg.name) return bad;
  bytes raw;
  switch (alg.key) {
    case crypto::key_type::ed25519:
      if (sb.signature.size() != 64) return bad;  // RFC 8709 §6
      raw = std::move(sb.signature);
      break;
    case crypto::key_type::rsa:
      // RFC 8332 §3: the signature is modulus-sized; OpenSSH also accepts a shorter one with its
      // leading zeros dropped, so pad it back.
      if (!pad_to(sb.signature, (key.bits() + 7) / 8, raw)) return bad;
      break;
    default: {
      ecdsa_signature es;
      if (wire::decode(sb.signature, es)) return bad;
      auto width = crypto::curve_size(curve_for(alg.key)->curve);
      if (!pad_to(es.r.magnitude, width, raw) || !pad_to(es.s.magnitude, width, raw)) return bad;
      break;
    }
  }
  if (key.verify(alg.hash, data, raw)) return bad;
  return {};
}

}  // namespace ferry::ssh::proto
