// The server side of SSH user authentication (RFC 4252, RFC 4256) as a sans-I/O state machine:
// payloads in, reply messages and a decision out. Decisions come from an Authenticator (the
// concept in auth/authenticator.hpp) through the type-erased backend below.
//
//   userauth_server_machine m{config, make_backend(authenticator), session_id};
//   loop: ev = m.process(payload); send every m.take_output(); until ev is success or disconnect.
//
// Rules enforced here:
//  - the methods offered in FAILURE are the same for every user name (config ∩ what the
//    authenticator can check), so replies do not reveal which users exist;
//  - MaxAuthTries: the max_auth_tries-th failed request (method "none" and accepted publickey
//    queries do not count) ends in DISCONNECT instead of FAILURE, as sshd;
//  - publickey: the signature is verified over the RFC 4252 §7 data with this session's id, and
//    the grant is asked for the key that signed, in the same request — never for a key only
//    queried earlier (CVE-2024-45337);
//  - USERAUTH_SUCCESS from the client, any connection-protocol message (80 and above) and any
//    message not valid in the current state disconnect (CVE-2018-10933, CVE-2025-32433);
//  - a changed user or service between requests disconnects (sshd does the same);
//  - required_chains give partial success (RFC 4252 §5.1), e.g. {{publickey, password}}.
#pragma once

#include <ferry/auth/authenticator.hpp>
#include <ferry/ssh/error.hpp>
#include <ferry/ssh/proto/userauth.hpp>

#include <functional>
#include <optional>
#include <span>
#include <utility>
#include <string>
#include <vector>

namespace ferry::ssh::proto {

// An Authenticator behind std::function, with the capability set it provides.
struct auth_backend {
  auth::method_set capabilities;
  std::function<auth::result(const auth::request&, byte_view)> check_password;
  std::function<bool(const auth::request&, std::string_view, byte_view)> accept_public_key;
  std::function<auth::result(const auth::request&, std::string_view, byte_view)>
      authorize_public_key;
  std::function<std::optional<auth::challenge>(const auth::request&)> start_keyboard_interactive;
  std::function<auth::ki_step(const auth::request&, std::size_t, std::span<const secure_bytes>)>
      continue_keyboard_interactive;
};

// Wraps a (by reference: it must outlive the backend) Authenticator; calls go through the
// auth:: helpers, so a method the user may not use is denied.
template <auth::authenticator A>
auth_backend make_backend(const A& a) {
  auth_backend b;
  if constexpr (auth::has_password<A>) b.capabilities |= {auth::method::password};
  if constexpr (auth::has_publickey<A>) b.capabilities |= {auth::method::publickey};
  if constexpr (auth::has_keyboard_interactive<A>)
    b.capabilities |= {auth::method::keyboard_interactive};
  const A* p = &a;
  b.check_password = [p](const auth::request& r, byte_view pw) {
    return auth::check_password(*p, r, pw);
  };
  b.accept_public_key = [p](const auth::request& r, std::string_view alg, byte_view blob) {
    return auth::accept_public_key(*p, r, alg, blob);
  };
  b.authorize_public_key = [p](const auth::request& r, std::string_view alg, byte_view blob) {
    return auth::authorize_public_key(*p, r, alg, blob);
  };
  b.start_keyboard_interactive = [p](const auth::request& r) {
    return auth::start_keyboard_interactive(*p, r);
  };
  b.continue_keyboard_interactive = [p](const auth::request& r, std::size_t round,
                                        std::span<const secure_bytes> responses) {
    return auth::continue_keyboard_interactive(*p, r, round, responses);
  };
  return b;
}

struct userauth_server_config {
  // Offered to everyone (less what the authenticator cannot check).
  auth::method_set methods{auth::method::publickey, auth::method::password,
                           auth::method::keyboard_interactive};
  // Each chain lists methods that must all succeed, in order (sshd's AuthenticationMethods);
  // empty: any one offered method suffices.
  std::vector<std::vector<auth::method>> required_chains;
  unsigned max_auth_tries = 6;  // sshd's MaxAuthTries
  std::string banner;           // RFC 4252 §5.4, sent before the first reply when not empty
  std::string service = "ssh-connection";
  // Signature algorithms accepted for publickey (RFC 8332: ssh-rsa with SHA-1 is not offered).
  std::vector<std::string> publickey_algorithms{"ssh-ed25519", "ecdsa-sha2-nistp256",
                                                "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
                                                "rsa-sha2-512", "rsa-sha2-256"};
  // Passed to the authenticator in auth::request.
  std::string remote_address;
  std::string remote_host;
  // Rounds of keyboard-interactive challenges before the attempt fails.
  std::size_t max_ki_rounds = 8;
};

class userauth_server_machine {
 public:
  enum class event { none, success, disconnect };

  userauth_server_machine(userauth_server_config config, auth_backend backend,
                          byte_view session_id);

  // Handles one upper-layer message from the client.
  event process(byte_view payload);

  // Replies to send, in order (moved out; the machine keeps nothing).
  std::vector<bytes> take_output() { return std::exchange(out_, {}); }
  bool has_output() const noexcept { return !out_.empty(); }

  bool done() const noexcept { return state_ == state::success; }
  bool closed() const noexcept { return state_ == state::closed; }
  // After success: the grant of the last method of the completed chain.
  const auth::grant& granted() const noexcept { return grant_; }
  // After disconnect: the reason and text to send in DISCONNECT.
  disconnect_reason reason() const noexcept { return reason_; }
  const std::string& description() const noexcept { return description_; }
  // Whether the last process() ended a real attempt in failure (a server delays such replies).
  bool last_failed() const noexcept { return last_failed_; }
  unsigned failures() const noexcept { return failures_; }
  const std::string& user() const noexcept { return user_; }
  // The methods that can continue now (the FAILURE list).
  auth::method_set next_methods() const;

 private:
  enum class state { idle, keyboard_interactive, success, closed };

  event on_request(byte_view payload);
  event on_info_response(byte_view payload);
  event on_password(wire::reader& r, const auth::request& req);
  event on_publickey(wire::reader& r, const auth::request& req);
  event on_keyboard_interactive(wire::reader& r, const auth::request& req);
  event succeeded(auth::method m, auth::grant g);
  event failed(bool counted);
  event fail_protocol(std::string_view text,
                      disconnect_reason r = disconnect_reason::protocol_error);
  void send_banner_once();
  template <class M>
  void send(const M& m) {
    out_.push_back(wire::encode(m));
  }
  auth::request make_request() const;

  userauth_server_config cfg_;
  auth_backend backend_;
  bytes session_id_;
  state state_ = state::idle;
  std::vector<bytes> out_;
  std::vector<auth::method> completed_;
  auth::grant grant_;
  std::string user_, service_;
  bool have_user_ = false;
  bool banner_sent_ = false;
  bool last_failed_ = false;
  unsigned failures_ = 0;
  std::size_t ki_round_ = 0;
  std::size_t ki_prompts_ = 0;
  disconnect_reason reason_ = disconnect_reason::protocol_error;
  std::string description_;
};

}  // namespace ferry::ssh::proto
