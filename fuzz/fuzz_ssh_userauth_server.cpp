// The server's userauth state machine over a whole session of client messages (each prefixed by
// a 2-byte length): it must never crash, never grant to a request that did not carry the right
// password or a valid signature by the authorised key, and never reply after it closed.
#include <ferry/ssh/proto/userauth_server.hpp>
#include <ferry/ssh/proto/host_key.hpp>
#include <ferry/test/random.hpp>

#include <cstdlib>

namespace {

using namespace ferry;

const crypto::private_key& user_key() {
  static const auto k = [] {
    test::fixed_random rng{42};
    return crypto::private_key::generate(crypto::key_type::ed25519, rng);
  }();
  return k;
}

struct fuzz_authenticator {
  auth::method_set methods(const auth::request&) const {
    return {auth::method::publickey, auth::method::password, auth::method::keyboard_interactive};
  }
  auth::result check_password(const auth::request& r, byte_view pw) const {
    if (r.user == "u" && as_chars(pw) == "pw") return auth::grant{"u"};
    return std::nullopt;
  }
  bool accept_public_key(const auth::request&, std::string_view, byte_view) const { return true; }
  auth::result authorize_public_key(const auth::request& r, std::string_view, byte_view blob) const {
    static const auto mine = ssh::proto::encode_public_key(user_key().public_part());
    if (r.user == "u" && bytes(blob.begin(), blob.end()) == mine) return auth::grant{"u"};
    return std::nullopt;
  }
  std::optional<auth::challenge> start_keyboard_interactive(const auth::request&) const {
    return auth::challenge{"", "", {{"Password: ", false}}};
  }
  auth::ki_step continue_keyboard_interactive(const auth::request& r, std::size_t,
                                              std::span<const secure_bytes> resp) const {
    auth::ki_step s;
    if (r.user == "u" && resp.size() == 1 && as_chars({resp[0].data(), resp[0].size()}) == "pw") {
      s.what = auth::ki_step::kind::success;
      s.granted = auth::grant{"u"};
    }
    return s;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz_authenticator a;
  ssh::proto::userauth_server_config cfg;
  cfg.max_auth_tries = 20;
  cfg.required_chains = {};
  if (size > 0 && (data[0] & 1)) cfg.required_chains = {{auth::method::publickey, auth::method::password}};
  ssh::proto::userauth_server_machine m{cfg, ssh::proto::make_backend(a), bytes(32, 7)};
  std::size_t i = size > 0 ? 1 : 0;
  while (i + 2 <= size) {
    std::size_t len = (std::size_t{data[i]} << 8) | data[i + 1];
    i += 2;
    if (len > size - i) len = size - i;
    byte_view msg{data + i, len};
    i += len;
    bool was_closed = m.closed() || m.done();
    auto ev = m.process(msg);
    auto out = m.take_output();
    if (was_closed && (ev != ssh::proto::userauth_server_machine::event::disconnect || !out.empty()))
      std::abort();
    if (ev == ssh::proto::userauth_server_machine::event::success) {
      // Only "u" can be granted, and only through a request of method 50.
      if (m.granted().user != "u" || msg.empty() ||
          (msg[0] != ssh::proto::msg::userauth_request && msg[0] != ssh::proto::msg::userauth_info_response))
        std::abort();
      if (out.empty() || out.back().at(0) != ssh::proto::msg::userauth_success) std::abort();
    } else {
      for (const auto& o : out)
        if (o.at(0) == ssh::proto::msg::userauth_success) std::abort();
    }
    if (ev == ssh::proto::userauth_server_machine::event::disconnect) break;
  }
  return 0;
}
