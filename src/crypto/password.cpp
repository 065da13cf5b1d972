#include <ferry/core/limits.hpp>
#include <ferry/core/secure.hpp>
#include <ferry/crypto/password.hpp>
#include <ferry/crypto/random.hpp>

#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <array>
#include <charconv>
#include <memory>
#include <stdexcept>
#include <vector>

#ifdef FERRY_HAVE_CRYPT_R
#include <crypt.h>
#endif

namespace ferry::crypto {

namespace {

constexpr std::size_t salt_size = 16;
constexpr std::size_t hash_size = 32;
constexpr char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// RFC 4648 §4 base64 without padding (PHC string format).
std::string encode64(byte_view in) {
  std::string out;
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    std::uint32_t v = (std::uint32_t{in[i]} << 16) | (std::uint32_t{in[i + 1]} << 8) | in[i + 2];
    for (int s = 18; s >= 0; s -= 6) out += b64[(v >> s) & 63];
  }
  if (auto rest = in.size() - i) {
    std::uint32_t v = std::uint32_t{in[i]} << 16;
    if (rest == 2) v |= std::uint32_t{in[i + 1]} << 8;
    out += b64[(v >> 18) & 63];
    out += b64[(v >> 12) & 63];
    if (rest == 2) out += b64[(v >> 6) & 63];
  }
  return out;
}

bool decode64(std::string_view in, bytes& out) {
  out.clear();
  if (in.size() % 4 == 1) return false;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const char* p = std::char_traits<char>::find(b64, 64, c);
    if (!p) return false;
    acc = (acc << 6) | static_cast<std::uint32_t>(p - b64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>(acc >> bits));
    }
  }
  // Unused low bits must be zero, so each hash has exactly one spelling.
  return (acc & ((1u << bits) - 1)) == 0;
}

bool parse_uint(std::string_view s, unsigned& v) {
  if (s.empty() || s.size() > 9 || s[0] == '0') return s == "0" && (v = 0, true);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc{} && p == s.data() + s.size();
}

bool params_allowed(const scrypt_params& sp) {
  if (sp.ln < 1 || sp.ln > limits::auth_scrypt_max_ln || sp.r == 0 || sp.p == 0) return false;
  if (sp.r > limits::auth_scrypt_max_rp || sp.p > limits::auth_scrypt_max_rp ||
      sp.r * sp.p > limits::auth_scrypt_max_rp) {
    return false;
  }
  return std::uint64_t{128} * sp.r * (std::uint64_t{1} << sp.ln) <= limits::auth_scrypt_max_memory;
}

struct parsed_scrypt {
  scrypt_params params;
  bytes salt;
  bytes hash;
};

// "$scrypt$ln=15,r=8,p=1$<salt>$<hash>"
bool parse_scrypt(std::string_view s, parsed_scrypt& out) {
  constexpr std::string_view prefix = "$scrypt$";
  if (s.substr(0, prefix.size()) != prefix) return false;
  s.remove_prefix(prefix.size());
  auto next = [&s](std::string_view& field) {
    auto d = s.find('$');
    field = s.substr(0, d);
    s = d == std::string_view::npos ? std::string_view{} : s.substr(d + 1);
    return d != std::string_view::npos;
  };
  std::string_view params, salt, hash;
  if (!next(params) || !next(salt)) return false;
  hash = s;
  if (hash.find('$') != std::string_view::npos) return false;
  std::array<std::string_view, 3> keys{"ln=", "r=", "p="};
  std::array<unsigned*, 3> values{&out.params.ln, &out.params.r, &out.params.p};
  for (std::size_t i = 0; i < 3; ++i) {
    auto comma = params.find(',');
    auto item = params.substr(0, comma);
    if ((comma == std::string_view::npos) != (i == 2)) return false;
    if (item.substr(0, keys[i].size()) != keys[i]) return false;
    if (!parse_uint(item.substr(keys[i].size()), *values[i])) return false;
    params = comma == std::string_view::npos ? std::string_view{} : params.substr(comma + 1);
  }
  if (!params_allowed(out.params)) return false;
  if (!decode64(salt, out.salt) || !decode64(hash, out.hash)) return false;
  return out.salt.size() >= 8 && out.salt.size() <= 64 && out.hash.size() >= 16 &&
         out.hash.size() <= 64;
}

bool scrypt(byte_view password, byte_view salt, const scrypt_params& sp, mutable_byte_view out) {
  std::unique_ptr<EVP_KDF, decltype(&EVP_KDF_free)> kdf{EVP_KDF_fetch(nullptr, "SCRYPT", nullptr),
                                                       &EVP_KDF_free};
  if (!kdf) return false;
  std::unique_ptr<EVP_KDF_CTX, decltype(&EVP_KDF_CTX_free)> ctx{EVP_KDF_CTX_new(kdf.get()),
                                                               &EVP_KDF_CTX_free};
  if (!ctx) return false;
  std::uint8_t empty = 0;  // OpenSSL wants a pointer even for an empty password
  std::uint64_t n = std::uint64_t{1} << sp.ln;
  std::uint32_t r = sp.r;
  std::uint32_t p = sp.p;
  std::uint64_t maxmem = limits::auth_scrypt_max_memory + 1024 * 1024;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(
          OSSL_KDF_PARAM_PASSWORD,
          password.empty() ? &empty : const_cast<std::uint8_t*>(password.data()),
          password.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<std::uint8_t*>(salt.data()),
                                        salt.size()),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
      OSSL_PARAM_construct_end(),
  };
  return EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) == 1;
}

#ifdef FERRY_HAVE_CRYPT_R
bool is_crypt_string(std::string_view s) {
  // crypt(3) prefixes ($id$...); DES-style strings without a prefix are not accepted.
  return s.size() > 3 && s[0] == '$' && s.substr(0, 8) != "$scrypt$";
}

bool verify_crypt(byte_view password, std::string_view encoded) {
  if (encoded.size() >= CRYPT_OUTPUT_SIZE) return false;
  for (auto b : password) {
    if (b == 0) return false;  // crypt(3) takes a C string
  }
  secure_bytes phrase;
  phrase.reserve(password.size() + 1);
  phrase.assign(password.begin(), password.end());
  phrase.push_back(0);
  std::string setting{encoded};
  auto data = std::make_unique<crypt_data>();  // zeroed, as crypt_r(3) requires
  const char* out = ::crypt_r(reinterpret_cast<const char*>(phrase.data()), setting.c_str(),
                              data.get());
  bool ok = out && out[0] != '*' &&
            constant_time_equal(as_bytes(std::string_view{out}), as_bytes(encoded));
  secure_wipe(data.get(), sizeof(crypt_data));
  return ok;
}
#endif

}  // namespace

bool crypt_supported() noexcept {
#ifdef FERRY_HAVE_CRYPT_R
  return true;
#else
  return false;
#endif
}

std::string hash_password(byte_view password, random_source& rng, scrypt_params params) {
  if (!params_allowed(params)) throw std::invalid_argument("scrypt parameters over the limits");
  std::array<std::uint8_t, salt_size> salt{};
  rng.fill(salt);
  secure_bytes out(hash_size);
  if (!scrypt(password, salt, params, out)) throw std::runtime_error("scrypt failed");
  return "$scrypt$ln=" + std::to_string(params.ln) + ",r=" + std::to_string(params.r) +
         ",p=" + std::to_string(params.p) + "$" + encode64(salt) + "$" + encode64(out);
}

bool verify_password(byte_view password, std::string_view encoded) {
  if (password.size() > limits::auth_max_password) return false;
  parsed_scrypt ps;
  if (parse_scrypt(encoded, ps)) {
    secure_bytes out(ps.hash.size());
    if (!scrypt(password, ps.salt, ps.params, out)) return false;
    return constant_time_equal(out, ps.hash);
  }
#ifdef FERRY_HAVE_CRYPT_R
  if (is_crypt_string(encoded)) return verify_crypt(password, encoded);
#endif
  return false;
}

bool password_hash_supported(std::string_view encoded) {
  parsed_scrypt ps;
  if (parse_scrypt(encoded, ps)) return true;
#ifdef FERRY_HAVE_CRYPT_R
  // crypt_checksalt(3) (libxcrypt) says whether the method is known and enabled.
  if (is_crypt_string(encoded)) {
    std::string s{encoded};
#ifdef CRYPT_SALT_OK
    return ::crypt_checksalt(s.c_str()) == CRYPT_SALT_OK;
#else
    return true;
#endif
  }
#endif
  return false;
}

}  // namespace ferry::crypto
