#include <ferry/crypto/x509.hpp>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <fstream>
#include <iterator>
#include <memory>

namespace ferry::crypto::x509 {

namespace {

struct bio_free {
  void operator()(BIO* p) const noexcept { BIO_free(p); }
};
struct pkey_free {
  void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
};
struct x509_free {
  void operator()(X509* p) const noexcept { X509_free(p); }
};
struct bn_free {
  void operator()(BIGNUM* p) const noexcept { BN_free(p); }
};
struct ext_free {
  void operator()(X509_EXTENSION* p) const noexcept { X509_EXTENSION_free(p); }
};

error_code failed() { return make_error_code(ferry::errc::crypto_failure); }

std::string_view bio_contents(BIO* b) {
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  return n > 0 ? std::string_view{data, std::size_t(n)} : std::string_view{};
}

bool add_extension(X509* cert, int nid, const char* value) {
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, cert, cert, nullptr, nullptr, 0);
  std::unique_ptr<X509_EXTENSION, ext_free> ext{X509V3_EXT_conf_nid(nullptr, &v3, nid, value)};
  return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

}  // namespace

error_code make_self_signed(std::string_view common_name, std::chrono::hours validity,
                            certificate_and_key& out) {
  std::unique_ptr<EVP_PKEY, pkey_free> key{EVP_EC_gen("P-256")};
  std::unique_ptr<X509, x509_free> cert{X509_new()};
  if (!key || !cert) return failed();
  // RFC 5280 §4.1.2.2: a positive serial of up to 20 octets; 128 random bits.
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return failed();
  serial[0] &= 0x7f;
  std::unique_ptr<BIGNUM, bn_free> bn{BN_bin2bn(serial, sizeof serial, nullptr)};
  std::string cn{common_name};
  X509_NAME* name = X509_get_subject_name(cert.get());
  bool ok = bn && X509_set_version(cert.get(), 2) == 1 &&
            BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get())) != nullptr &&
            X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) != nullptr &&
            X509_gmtime_adj(X509_getm_notAfter(cert.get()),
                            long(std::chrono::seconds(validity).count())) != nullptr &&
            X509_set_pubkey(cert.get(), key.get()) == 1 &&
            X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                       reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                                       0) == 1 &&
            X509_set_issuer_name(cert.get(), name) == 1;
  if (!ok) return failed();
  // A subjectAltName so that clients that check names against SAN only can be told to accept it.
  std::string san = "DNS:" + cn;
  if (!cn.empty() && (cn.find_first_not_of("0123456789.") == std::string::npos ||
                      cn.find(':') != std::string::npos))
    san = "IP:" + cn;
  if (!cn.empty() && !add_extension(cert.get(), NID_subject_alt_name, san.c_str())) return failed();
  if (!add_extension(cert.get(), NID_basic_constraints, "critical,CA:FALSE")) return failed();
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0) return failed();

  std::unique_ptr<BIO, bio_free> cb{BIO_new(BIO_s_mem())};
  std::unique_ptr<BIO, bio_free> kb{BIO_new(BIO_s_mem())};
  if (!cb || !kb || PEM_write_bio_X509(cb.get(), cert.get()) != 1 ||
      PEM_write_bio_PrivateKey(kb.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return failed();
  out.certificate_pem = std::string{bio_contents(cb.get())};
  auto k = bio_contents(kb.get());
  out.private_key_pem.assign(k.begin(), k.end());
  // The memory BIO's own copy of the key is released by BIO_free; wipe it first.
  if (!k.empty()) OPENSSL_cleanse(const_cast<char*>(k.data()), k.size());
  return {};
}

error_code read_file(const std::string& path, secure_bytes& out) {
  std::ifstream in{path, std::ios::binary};
  if (!in) return make_error_code(boost::system::errc::no_such_file_or_directory);
  in.seekg(0, std::ios::end);
  auto size = in.tellg();
  if (size < 0) return make_error_code(boost::system::errc::io_error);
  out.clear();
  out.resize(std::size_t(size));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(out.data()), size);
  if (!in) return make_error_code(boost::system::errc::io_error);
  return {};
}

error_code configure_server_context(ssl_ctx_st* ctx, std::string_view certificate_chain_pem,
                                    byte_view private_key_pem,
                                    std::string_view session_id_context) {
  if (!ctx) return make_error_code(boost::system::errc::invalid_argument);
  std::unique_ptr<BIO, bio_free> cb{
      BIO_new_mem_buf(certificate_chain_pem.data(), int(certificate_chain_pem.size()))};
  if (!cb) return failed();
  std::unique_ptr<X509, x509_free> leaf{PEM_read_bio_X509_AUX(cb.get(), nullptr, nullptr, nullptr)};
  if (!leaf || SSL_CTX_use_certificate(ctx, leaf.get()) != 1) return failed();
  SSL_CTX_clear_chain_certs(ctx);
  while (X509* extra = PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr)) {
    if (SSL_CTX_add0_chain_cert(ctx, extra) != 1) {
      X509_free(extra);
      return failed();
    }
  }
  std::unique_ptr<BIO, bio_free> kb{
      BIO_new_mem_buf(private_key_pem.data(), int(private_key_pem.size()))};
  if (!kb) return failed();
  std::unique_ptr<EVP_PKEY, pkey_free> key{
      PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr)};
  if (!key || SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1)
    return failed();
  // Resumption (RFC 4217 §10.2): the id context scopes cached sessions to this server's purpose;
  // OpenSSL refuses to resume a session from a cache entry whose context differs.
  auto idc = session_id_context.substr(0, SSL_MAX_SID_CTX_LENGTH);
  if (SSL_CTX_set_session_id_context(ctx, reinterpret_cast<const unsigned char*>(idc.data()),
                                     unsigned(idc.size())) != 1)
    return failed();
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
  SSL_CTX_sess_set_cache_size(ctx, 20000);
  SSL_CTX_set_timeout(ctx, 3600);
  SSL_CTX_clear_options(ctx, SSL_OP_NO_TICKET);
  return {};
}

}  // namespace ferry::crypto::x509
