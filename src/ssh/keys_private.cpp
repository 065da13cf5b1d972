// openssh-key-v1 private keys (OpenSSH PROTOCOL.key), read and written; other armours go to
// crypto::read_pem_private_key.
#include <ferry/core/limits.hpp>
#include <ferry/crypto/bcrypt_pbkdf.hpp>
#include <ferry/crypto/cipher.hpp>
#include <ferry/crypto/pem.hpp>
#include <ferry/crypto/random.hpp>
#include <ferry/ssh/keys/private_key.hpp>
#include <ferry/ssh/keys/proto/openssh_key.hpp>
#include <ferry/ssh/keys/public_key.hpp>
#include <ferry/ssh/proto/host_key.hpp>

#include <fstream>
#include <iterator>

namespace ferry::ssh::keys {
namespace {

constexpr std::string_view begin_armour = "-----BEGIN OPENSSH PRIVATE KEY-----";
constexpr std::string_view end_armour = "-----END OPENSSH PRIVATE KEY-----";

struct cipher_info {
  std::string_view name;
  std::size_t key_len;
  std::size_t block;  // also the padding unit of the private section
};

// PROTOCOL.key: "none" pads to 8; the AES-CTR ciphers to their 16-byte block. ssh-keygen writes
// aes256-ctr; the other CTR widths are accepted on read.
constexpr cipher_info ciphers[] = {
    {"none", 0, 8}, {"aes128-ctr", 16, 16}, {"aes192-ctr", 24, 16}, {"aes256-ctr", 32, 16}};
constexpr std::size_t iv_len = 16;

const cipher_info* find_cipher(std::string_view n) {
  for (const auto& c : ciphers)
    if (c.name == n) return &c;
  return nullptr;
}

struct curve_id {
  crypto::key_type type;
  crypto::curve curve;
  std::string_view blob_name;
  std::string_view id;
};
constexpr curve_id curves[] = {
    {crypto::key_type::ecdsa_p256, crypto::curve::p256, "ecdsa-sha2-nistp256", "nistp256"},
    {crypto::key_type::ecdsa_p384, crypto::curve::p384, "ecdsa-sha2-nistp384", "nistp384"},
    {crypto::key_type::ecdsa_p521, crypto::curve::p521, "ecdsa-sha2-nistp521", "nistp521"},
};

// The base64 body between the armour lines, decoded.
error_code unarmour(std::string_view text, bytes& blob) {
  auto b = text.find(begin_armour);
  if (b == std::string_view::npos) return errc::not_a_key;
  auto body = text.substr(b + begin_armour.size());
  auto e = body.find(end_armour);
  if (e == std::string_view::npos) return errc::malformed;
  body = body.substr(0, e);
  std::string compact;
  compact.reserve(body.size());
  for (char c : body)
    if (c != '\n' && c != '\r' && c != ' ' && c != '\t') compact += c;
  bool ok = base64_decode(compact, blob);
  secure_wipe(compact.data(), compact.size());  // an unencrypted key, base64-encoded
  if (!ok) return errc::bad_base64;
  return {};
}

// Wipes a buffer that held key material when the scope ends, however it ends.
struct wipe_on_exit {
  bytes& b;
  ~wipe_on_exit() { secure_wipe(b.data(), b.size()); }
};

bool is_one_or_zero(const secure_bytes& m) { return m.empty() || (m.size() == 1 && m[0] == 1); }

error_code parse_private_key(wire::reader& r, const std::string& type, crypto::private_key& key) {
  if (type == "ssh-ed25519") {
    proto::ed25519_private p;
    wire::decode_fields(r, p);
    if (!r.ok()) return errc::malformed;
    // PROTOCOL.key / RFC 8709: the secret is seed || public key.
    if (p.public_key.size() != 32 || p.secret.value.size() != 64 ||
        !std::equal(p.public_key.begin(), p.public_key.end(), p.secret.value.begin() + 32))
      return errc::malformed;
    key = crypto::private_key::ed25519_from_seed(byte_view{p.secret.value.data(), 32});
  } else if (type == "ssh-rsa") {
    proto::rsa_private p;
    wire::decode_fields(r, p);
    if (!r.ok()) return errc::malformed;
    if (is_one_or_zero(p.p.magnitude) || is_one_or_zero(p.q.magnitude) || p.d.magnitude.empty() ||
        p.iqmp.magnitude.empty() || p.e.magnitude.empty())
      return errc::malformed;
    auto v = [](const secure_bytes& b) { return byte_view{b.data(), b.size()}; };
    key = crypto::private_key::rsa_from_components(p.n.magnitude, p.e.magnitude, v(p.d.magnitude),
                                                   v(p.p.magnitude), v(p.q.magnitude),
                                                   v(p.iqmp.magnitude));
  } else {
    const curve_id* c = nullptr;
    for (const auto& k : curves)
      if (k.blob_name == type) c = &k;
    if (!c) return errc::unsupported_key_type;
    proto::ecdsa_private p;
    wire::decode_fields(r, p);
    if (!r.ok()) return errc::malformed;
    if (p.curve != c->id) return errc::malformed;
    key = crypto::private_key::ecdsa_from_scalar(
        c->curve, byte_view{p.d.magnitude.data(), p.d.magnitude.size()});
    if (key.valid() && key.public_part().ecdsa_point() != p.q) return errc::public_mismatch;
  }
  return key.valid() ? error_code{} : make_error_code(errc::malformed);
}

error_code parse_openssh(std::string_view text, byte_view passphrase, key_file& out) {
  if (text.size() > limits::ssh_key_max_file) return errc::too_large;
  bytes blob;
  wipe_on_exit wipe_blob{blob};
  if (auto ec = unarmour(text, blob)) return ec;
  proto::container c;
  wipe_on_exit wipe_section{c.private_section};
  if (wire::decode(blob, c)) return errc::malformed;
  if (c.magic_bytes != proto::magic) return errc::not_a_key;
  if (c.number_of_keys != 1) return errc::malformed;  // OpenSSH writes and reads exactly one
  const auto* cipher = find_cipher(c.cipher_name);
  if (!cipher) return errc::unsupported_cipher;
  const bool encrypted = cipher->key_len != 0;

  secure_bytes section(c.private_section.begin(), c.private_section.end());
  if (section.size() % cipher->block != 0) return errc::malformed;

  if (c.kdf_name == "none") {
    if (encrypted || !c.kdf_options.empty()) return errc::malformed;
  } else if (c.kdf_name == "bcrypt") {
    if (!encrypted) return errc::malformed;
    proto::bcrypt_options k;
    wire::reader kr{c.kdf_options};
    wire::decode_fields(kr, k);
    if (kr.finish()) return errc::malformed;
    if (k.salt.empty() || k.salt.size() > limits::ssh_key_max_salt || k.rounds == 0 ||
        k.rounds > limits::ssh_key_max_kdf_rounds)
      return errc::malformed;
    if (passphrase.empty()) return errc::passphrase_required;
    secure_bytes derived(cipher->key_len + iv_len);
    if (crypto::bcrypt_pbkdf(passphrase, k.salt, k.rounds, {derived.data(), derived.size()}))
      return errc::malformed;
    crypto::aes_ctr ctr{byte_view{derived.data(), cipher->key_len},
                        byte_view{derived.data() + cipher->key_len, iv_len}};
    ctr.apply({section.data(), section.size()});
  } else {
    return errc::unsupported_kdf;
  }

  wire::reader r{byte_view{section.data(), section.size()}};
  proto::private_header h;
  wire::decode_fields(r, h);
  // PROTOCOL.key: the two check integers match only when decryption was right.
  if (!r.ok() || h.check1 != h.check2)
    return encrypted ? errc::wrong_passphrase : errc::malformed;
  crypto::private_key key;
  if (auto ec = parse_private_key(r, h.key_type, key)) return ec;
  proto::private_trailer t;
  wire::decode_fields(r, t);
  if (!r.ok() || t.comment.size() > limits::ssh_key_max_comment) return errc::malformed;
  // Padding: 1, 2, 3, ... shorter than one block.
  auto pad = r.rest();
  if (pad.size() >= cipher->block) return errc::malformed;
  for (std::size_t i = 0; i < pad.size(); ++i)
    if (pad[i] != std::uint8_t(i + 1)) return errc::malformed;
  if (ssh::proto::encode_public_key(key.public_part()) != c.public_key) return errc::public_mismatch;
  out.key = std::move(key);
  out.comment = std::move(t.comment);
  return {};
}

template <class W>
void write_private_fields(W& w, const crypto::private_key& key) {
  using namespace ssh::proto;
  switch (key.type()) {
    case crypto::key_type::ed25519: {
      auto pub = key.public_part().ed25519_bytes();
      proto::ed25519_private p;
      p.public_key = pub;
      p.secret.value = key.ed25519_seed();
      p.secret.value.insert(p.secret.value.end(), pub.begin(), pub.end());
      wire::encode_fields(w, p);
      break;
    }
    case crypto::key_type::rsa: {
      auto parts = key.rsa_components();
      proto::rsa_private p{{parts.n}, {parts.e}, {parts.d}, {parts.iqmp}, {parts.p}, {parts.q}};
      wire::encode_fields(w, p);
      break;
    }
    default: {
      const curve_id* c = nullptr;
      for (const auto& k : curves)
        if (k.type == key.type()) c = &k;
      proto::ecdsa_private p{std::string{c->id}, key.public_part().ecdsa_point(),
                             {key.ecdsa_scalar()}};
      wire::encode_fields(w, p);
      break;
    }
  }
}

}  // namespace

error_code read_openssh_private_key(std::string_view text, byte_view passphrase, key_file& out) {
  try {
    return parse_openssh(text, passphrase, out);
  } catch (...) {
    // A primitive refused the parts (OpenSSL arithmetic on hostile values): not a usable key.
    return errc::malformed;
  }
}

bool openssh_key_encrypted(std::string_view text) {
  bytes blob;
  wipe_on_exit wipe_blob{blob};
  proto::container c;
  wipe_on_exit wipe_section{c.private_section};
  if (text.size() > limits::ssh_key_max_file || unarmour(text, blob) || wire::decode(blob, c))
    return false;
  return c.cipher_name != "none";
}

error_code read_private_key(std::string_view text, byte_view passphrase, key_file& out) {
  if (text.size() > limits::ssh_key_max_file) return errc::too_large;
  if (text.find(begin_armour) != std::string_view::npos)
    return read_openssh_private_key(text, passphrase, out);
  try {
    crypto::private_key k;
    switch (crypto::read_pem_private_key(text, passphrase, k)) {
      case crypto::pem_status::ok:
        out.key = std::move(k);
        out.comment.clear();
        return {};
      case crypto::pem_status::passphrase_required: return errc::passphrase_required;
      case crypto::pem_status::wrong_passphrase: return errc::wrong_passphrase;
      case crypto::pem_status::unsupported_key: return errc::unsupported_key_type;
      case crypto::pem_status::invalid_key: return errc::malformed;
      case crypto::pem_status::not_pem: return errc::not_a_key;
    }
  } catch (...) {
    return errc::malformed;
  }
  return errc::not_a_key;
}

error_code read_private_key_file(const std::filesystem::path& path, byte_view passphrase,
                                 key_file& out) {
  std::ifstream in{path, std::ios::binary};
  if (!in) return make_error_code(boost::system::errc::no_such_file_or_directory);
  std::string text;
  text.resize(limits::ssh_key_max_file + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  auto ec = read_private_key(text, passphrase, out);
  secure_wipe(text.data(), text.size());
  return ec;
}

std::string write_openssh_private_key(const crypto::private_key& key, const write_options& o) {
  auto& rng = o.rng ? *o.rng : crypto::system_random();
  const bool encrypt = !o.passphrase.empty();
  const auto* cipher = find_cipher(encrypt ? "aes256-ctr" : "none");

  secure_bytes section;
  section.reserve(16 * 1024);
  wire::basic_writer<secure_bytes> w{section};
  std::uint8_t check_bytes[4];
  rng.fill(check_bytes);
  std::uint32_t check = (std::uint32_t{check_bytes[0]} << 24) | (std::uint32_t{check_bytes[1]} << 16) |
                        (std::uint32_t{check_bytes[2]} << 8) | check_bytes[3];
  w.u32(check);
  w.u32(check);
  w.string(ssh::proto::key_blob_name(key.type()));
  write_private_fields(w, key);
  w.string(std::string_view{o.comment});
  for (std::uint8_t i = 1; section.size() % cipher->block != 0; ++i) w.u8(i);

  proto::container c;
  c.magic_bytes = proto::magic;
  c.cipher_name = std::string{cipher->name};
  c.public_key = ssh::proto::encode_public_key(key.public_part());
  if (encrypt) {
    proto::bcrypt_options k;
    k.salt.resize(16);
    rng.fill(k.salt);
    k.rounds = o.rounds;
    c.kdf_name = "bcrypt";
    c.kdf_options = wire::encode(k);
    secure_bytes derived(cipher->key_len + iv_len);
    if (crypto::bcrypt_pbkdf(o.passphrase, k.salt, k.rounds, {derived.data(), derived.size()}))
      throw std::invalid_argument("bcrypt_pbkdf parameters");
    crypto::aes_ctr ctr{byte_view{derived.data(), cipher->key_len},
                        byte_view{derived.data() + cipher->key_len, iv_len}};
    ctr.apply({section.data(), section.size()});
  } else {
    c.kdf_name = "none";
  }
  c.private_section.assign(section.begin(), section.end());
  auto blob = wire::encode(c);
  secure_wipe(c.private_section.data(), c.private_section.size());
  auto b64 = base64_encode(blob);
  secure_wipe(blob.data(), blob.size());
  std::string out{begin_armour};
  out += '\n';
  for (std::size_t i = 0; i < b64.size(); i += 70) {
    out.append(b64, i, 70);
    out += '\n';
  }
  secure_wipe(b64.data(), b64.size());
  out += end_armour;
  out += '\n';
  return out;
}

crypto::private_key generate_key(crypto::key_type type, unsigned rsa_bits) {
  return crypto::private_key::generate(type, crypto::system_random(), rsa_bits);
}

}  // namespace ferry::ssh::keys
