// authorized_keys text from arbitrary bytes: parsing never crashes; the authenticator built from
// the same text accepts every listed key that carries no from= or expiry-time= restriction (never
// silently dropped), and never lets in a key listed only as a cert-authority.
#include <ferry/auth/authorized_keys.hpp>

#include <algorithm>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ferry;
  std::string_view text{reinterpret_cast<const char*>(data), size};
  std::vector<std::pair<std::size_t, error_code>> errors;
  auto keys = auth::parse_authorized_keys(text, &errors);

  auth::authorized_keys_authenticator a;
  a.add_user("u", auth::grant{"u", {}, {}}, text);
  auth::request r;
  r.user = "u";
  r.service = "ssh-connection";
  r.remote_address = "192.0.2.7";
  r.remote_host = "client.example.org";

  auto listed_plainly = [&](const bytes& blob) {
    return std::any_of(keys.begin(), keys.end(), [&](const auth::authorized_key& k) {
      return !k.options.cert_authority && k.blob == blob;
    });
  };
  for (const auto& k : keys) {
    if (k.type.empty() || k.blob.empty()) std::abort();
    (void)auth::match_from(k.options.from, r.remote_address, r.remote_host);
    for (const auto& p : k.options.from) (void)auth::valid_cidr(p);
    const std::string alg = k.type == "ssh-rsa" ? "rsa-sha2-256" : k.type;
    if (auth::key_type_of_algorithm(alg) != k.type) continue;
    const bool accepted = a.accept_public_key(r, alg, k.blob);
    if (k.options.cert_authority) {
      if (accepted && !listed_plainly(k.blob)) std::abort();
    } else if (k.options.from.empty() && !k.options.expiry && !accepted) {
      std::abort();
    }
  }
  return 0;
}
