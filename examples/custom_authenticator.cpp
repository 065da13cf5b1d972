// Writing an Authenticator: decide who may log in, how, and with which view of the filesystem.
//
// An authenticator is any type with methods(request) -> method_set (auth::authenticator). The
// capabilities it wants to offer are plain const members, found by the concept checks:
//   check_password(request, password) -> auth::result
//   accept_public_key(request, algorithm, blob) -> bool    "would this key do?" (RFC 4252 §7)
//   authorize_public_key(request, algorithm, blob) -> auth::result   after the signature checked
//   start_keyboard_interactive / continue_keyboard_interactive       RFC 4256
// Whatever is missing is denied by the helpers (auth::check_password(a, ...) etc.), which is also
// how the servers call them: defaults deny. A result is an auth::grant (user, fs view, rights) or
// empty for "no".
//
// This one admits service accounts by one-time upload tokens ("drop boxes"), each good for one
// login, into a write-only view of their own directory; it sits beside a users file through
// auth::composite.
//
//   $ ./custom_authenticator
#include <ferry/auth/authenticator.hpp>
#include <ferry/auth/composite.hpp>
#include <ferry/auth/static_users.hpp>
#include <ferry/crypto/random.hpp>

#include <iostream>
#include <map>
#include <memory>
#include <mutex>

using namespace ferry;

class dropbox_tokens {
 public:
  // Tokens are random and compared in constant time; each is consumed by its first use.
  void issue(std::string user, std::string token) {
    std::lock_guard lock{state_->m};
    state_->tokens[std::move(user)] = std::move(token);
  }

  auth::method_set methods(const auth::request&) const {
    // Offered to everyone (telling who has a token would leak who exists).
    return {auth::method::password};
  }

  auth::result check_password(const auth::request& r, byte_view password) const {
    std::lock_guard lock{state_->m};
    auto it = state_->tokens.find(std::string{r.user});
    if (it == state_->tokens.end()) return std::nullopt;
    if (!crypto::constant_time_equal(as_bytes(it->second), password)) return std::nullopt;
    state_->tokens.erase(it);  // one login per token
    auth::grant g;
    g.user = std::string{r.user};
    g.view.root = "/dropbox/" + g.user;  // a directory of the server's filesystem
    g.perms.allowed = static_cast<std::uint32_t>(auth::operation::create) |
                      static_cast<std::uint32_t>(auth::operation::write);  // no reading back
    g.perms.pty = g.perms.port_forwarding = g.perms.agent_forwarding = false;
    return g;
  }

 private:
  // Shared so the authenticator can be copied into a composite and still be issued tokens.
  struct state {
    std::mutex m;
    std::map<std::string, std::string> tokens;
  };
  std::shared_ptr<state> state_ = std::make_shared<state>();
};

static_assert(auth::authenticator<dropbox_tokens> && auth::has_password<dropbox_tokens>);
static_assert(!auth::has_publickey<dropbox_tokens>);  // key logins: denied by default

int main() {
  dropbox_tokens tokens;
  tokens.issue("scanner-7", "tok-4f1c9a2e");

  auth::static_users staff;  // a users file; see auth/static_users.hpp for the format
  std::array<std::uint8_t, 16> pw{};
  crypto::system_random().fill(pw);
  staff.add(auth::user_entry{.name = "admin",
                             .password_hash = crypto::hash_password(pw, crypto::system_random())});

  auth::composite both{staff, tokens};
  auth::request r{.user = "scanner-7", .service = "ssh-connection", .remote_address = "192.0.2.7"};

  auto show = [](const char* what, const auth::result& g) {
    std::cout << what << ": " << (g ? "granted, root " + g->view.root : std::string{"denied"})
              << "\n";
  };
  show("scanner-7 with its token", auth::check_password(both, r, as_bytes("tok-4f1c9a2e")));
  show("scanner-7 again (token used)", auth::check_password(both, r, as_bytes("tok-4f1c9a2e")));
  show("scanner-7 with a key", auth::authorize_public_key(both, r, "ssh-ed25519", bytes(51)));
  auth::request who{.user = "nobody"};
  std::cout << "methods offered to an unknown user:";
  for (auto& m : auth::offered_methods(both, who).names()) std::cout << ' ' << m;
  std::cout << "\n";
}
