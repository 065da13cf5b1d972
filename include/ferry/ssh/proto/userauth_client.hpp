// The client side of SSH user authentication (RFC 4252, RFC 4256, RFC 8332 §3.2 algorithm
// choice) as a sans-I/O state machine. Callbacks (password, prompts, banner, signing) are
// synchronous; the Asio layer (ssh/userauth.hpp) only moves messages.
//
//   userauth_client_machine m{config, session_id, server_sig_algs(transport.peer_extensions())};
//   m.start();
//   loop: send m.take_output(); ev = m.process(next payload); until success or failure.
//
// Methods are tried in config.methods order among those the server lists as able to continue;
// publickey tries each identity once (a query, then the signed request after PK_OK); password
// asks its callback once and answers a change request through new_password; keyboard-interactive
// answers each INFO_REQUEST through its callback. A FAILURE with partial success continues with
// the methods the server lists next.
#pragma once

#include <ferry/auth/authenticator.hpp>
#include <ferry/crypto/sign.hpp>
#include <ferry/ssh/error.hpp>
#include <ferry/ssh/proto/userauth.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ferry::ssh::proto {

// A key the client can prove possession of: its public blob and a way to sign.
struct client_identity {
  bytes public_blob;  // RFC 4253 §6.6
  crypto::key_type type = crypto::key_type::ed25519;
  std::string comment;
  // Signs data with the named algorithm; returns the RFC 4253 §6.6 signature blob.
  std::function<error_code(std::string_view algorithm, byte_view data, bytes& signature_blob)> sign;
};

// An identity backed by a private key in memory.
client_identity identity_from_key(std::shared_ptr<const crypto::private_key> key,
                                  std::string comment = {});

struct userauth_client_config {
  std::string user;
  std::string service = "ssh-connection";
  std::vector<std::string> methods{"publickey", "keyboard-interactive", "password"};
  std::vector<client_identity> identities;
  // Asked once when the password method is tried; nullopt skips the method.
  std::function<std::optional<secure_bytes>()> password;
  // RFC 4252 §8 PASSWD_CHANGEREQ: the new password for the prompt; nullopt gives up on password.
  std::function<std::optional<secure_bytes>(std::string_view prompt)> new_password;
  // RFC 4256 §3.3: one response per prompt; nullopt abandons keyboard-interactive.
  std::function<std::optional<std::vector<secure_bytes>>(const auth::challenge&)>
      keyboard_interactive;
  // RFC 4252 §5.4 banners, as sent (a caller that prints them should strip control characters).
  std::function<void(std::string_view)> banner;
};

class userauth_client_machine {
 public:
  enum class event { none, success, failure };

  // server_sig_algs: from the server's EXT_INFO (RFC 8308 §3.1); nullopt when it sent none.
  userauth_client_machine(userauth_client_config config, byte_view session_id,
                          std::optional<std::vector<std::string>> server_sig_algs = std::nullopt);

  // Queues the first request (method "none", which lists the methods that can continue).
  void start();
  event process(byte_view payload);

  std::vector<bytes> take_output() { return std::exchange(out_, {}); }
  bool has_output() const noexcept { return !out_.empty(); }

  // After failure: no_more_auth_methods_available, or protocol_error for a misbehaving server.
  error_code error() const noexcept { return error_; }
  bool succeeded() const noexcept { return state_ == state::success; }
  // The last FAILURE's "authentications that can continue".
  const std::vector<std::string>& server_methods() const noexcept { return server_methods_; }
  bool partial_success() const noexcept { return partial_; }
  // The method and (publickey) algorithm that succeeded or was last tried.
  const std::string& method() const noexcept { return method_; }
  const std::string& algorithm() const noexcept { return algorithm_; }

  // RFC 8332 §3.2: the signature algorithm for an identity (rsa-sha2-512, then -256, from
  // server-sig-algs; rsa-sha2-256 when the server sent none).
  std::string algorithm_for(const client_identity& id) const;

 private:
  enum class state {
    idle,
    none_sent,
    pk_query,
    pk_signed,
    password,
    password_change,
    keyboard_interactive,
    success,
    failed
  };

  event next_attempt();
  event fail(disconnect_reason r);
  bool try_publickey();
  bool try_password();
  bool try_keyboard_interactive();
  bool server_allows(std::string_view m) const;
  template <class Tail>
  void send_request(std::string_view method, Tail t) {
    userauth_request<Tail> req{{cfg_.user, cfg_.service, std::string{method}}, std::move(t)};
    out_.push_back(wire::encode(req));
  }

  userauth_client_config cfg_;
  bytes session_id_;
  std::optional<std::vector<std::string>> sig_algs_;
  state state_ = state::idle;
  std::vector<bytes> out_;
  std::vector<std::string> server_methods_;
  bool partial_ = false;
  std::size_t next_identity_ = 0;
  bool password_tried_ = false;
  bool ki_tried_ = false;
  std::string method_, algorithm_;
  error_code error_;
};

}  // namespace ferry::ssh::proto
