#include <ferry/crypto/x509.hpp>
#include <ferry/ftp/server.hpp>

namespace ferry::ftp {

namespace ssl = boost::asio::ssl;

std::unique_ptr<ssl::context> make_tls_context(std::string_view certificate_chain_pem,
                                               byte_view private_key_pem, error_code& ec) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  // TLS 1.2 and 1.3 only.
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                       ssl::context::single_dh_use,
                   ec);
  if (ec) return nullptr;
  ec = crypto::x509::configure_server_context(ctx->native_handle(), certificate_chain_pem,
                                              private_key_pem, "ferry-ftp");
  if (ec) return nullptr;
  return ctx;
}

std::unique_ptr<ssl::context> make_tls_context_from_files(const std::string& certificate_file,
                                                          const std::string& key_file,
                                                          error_code& ec) {
  secure_bytes cert, key;
  if ((ec = crypto::x509::read_file(certificate_file, cert))) return nullptr;
  if ((ec = crypto::x509::read_file(key_file, key))) return nullptr;
  std::string chain(cert.begin(), cert.end());
  return make_tls_context(chain, byte_view{key.data(), key.size()}, ec);
}

std::unique_ptr<ssl::context> make_self_signed_tls_context(std::string_view common_name,
                                                           error_code& ec) {
  crypto::x509::certificate_and_key ck;
  if ((ec = crypto::x509::make_self_signed(common_name, std::chrono::hours(24 * 365), ck)))
    return nullptr;
  return make_tls_context(ck.certificate_pem,
                          byte_view{ck.private_key_pem.data(), ck.private_key_pem.size()}, ec);
}

}  // namespace ferry::ftp
