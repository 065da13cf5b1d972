// Client-side user authentication state machine (RFC 4252, RFC 4256, RFC 8332).
#include <ferry/ssh/proto/algorithms.hpp>
#include <ferry/ssh/proto/host_key.hpp>
#include <ferry/ssh/proto/userauth_client.hpp>

#include <algorithm>

namespace ferry::ssh::proto {

client_identity identity_from_key(std::shared_ptr<const crypto::private_key> key,
                                  std::string comment) {
  client_identity id;
  id.public_blob = encode_public_key(key->public_part());
  id.type = key->type();
  id.comment = std::move(comment);
  id.sign = [key](std::string_view algorithm, byte_view data, bytes& blob) -> error_code {
    const auto* alg = find_host_key(algorithm);
    if (!alg) return make_error_code(errc::unsupported);
    return sign_blob(*alg, *key, data, blob);
  };
  return id;
}

userauth_client_machine::userauth_client_machine(
    userauth_client_config config, byte_view session_id,
    std::optional<std::vector<std::string>> server_sig_algs)
    : cfg_(std::move(config)),
      session_id_(session_id.begin(), session_id.end()),
      sig_algs_(std::move(server_sig_algs)) {}

std::string userauth_client_machine::algorithm_for(const client_identity& id) const {
  if (id.type != crypto::key_type::rsa) return std::string{key_blob_name(id.type)};
  if (sig_algs_) {
    for (std::string_view a : {"rsa-sha2-512", "rsa-sha2-256"})
      if (std::find(sig_algs_->begin(), sig_algs_->end(), a) != sig_algs_->end())
        return std::string{a};
  }
  return "rsa-sha2-256";
}

void userauth_client_machine::start() {
  if (state_ != state::idle) return;
  method_ = "none";
  send_request("none", none_tail{});
  state_ = state::none_sent;
}

userauth_client_machine::event userauth_client_machine::fail(disconnect_reason r) {
  state_ = state::failed;
  error_ = make_error_code(r);
  return event::failure;
}

bool userauth_client_machine::server_allows(std::string_view m) const {
  return std::find(server_methods_.begin(), server_methods_.end(), m) != server_methods_.end();
}

bool userauth_client_machine::try_publickey() {
  while (next_identity_ < cfg_.identities.size()) {
    const auto& id = cfg_.identities[next_identity_];
    if (!id.sign || id.public_blob.empty()) {
      ++next_identity_;
      continue;
    }
    method_ = "publickey";
    algorithm_ = algorithm_for(id);
    send_request("publickey", publickey_tail{false, algorithm_, id.public_blob, std::nullopt});
    state_ = state::pk_query;
    return true;
  }
  return false;
}

bool userauth_client_machine::try_password() {
  if (password_tried_ || !cfg_.password) return false;
  password_tried_ = true;
  auto pw = cfg_.password();
  if (!pw) return false;
  method_ = "password";
  algorithm_.clear();
  password_tail t;
  t.password.value = std::move(*pw);
  send_request("password", std::move(t));
  state_ = state::password;
  return true;
}

bool userauth_client_machine::try_keyboard_interactive() {
  if (ki_tried_ || !cfg_.keyboard_interactive) return false;
  ki_tried_ = true;
  method_ = "keyboard-interactive";
  algorithm_.clear();
  send_request("keyboard-interactive", keyboard_interactive_tail{});
  state_ = state::keyboard_interactive;
  return true;
}

userauth_client_machine::event userauth_client_machine::next_attempt() {
  for (const auto& m : cfg_.methods) {
    if (!server_allows(m)) continue;
    if (m == "publickey" && try_publickey()) return event::none;
    if (m == "password" && try_password()) return event::none;
    if (m == "keyboard-interactive" && try_keyboard_interactive()) return event::none;
  }
  return fail(disconnect_reason::no_more_auth_methods_available);
}

userauth_client_machine::event userauth_client_machine::process(byte_view payload) {
  if (state_ == state::success || state_ == state::failed || state_ == state::idle ||
      payload.empty())
    return fail(disconnect_reason::protocol_error);
  const auto id = payload[0];
  switch (id) {
    case msg::userauth_success:
      if (userauth_success s; !wire::decode(payload, s)) {
        state_ = state::success;
        return event::success;
      }
      return fail(disconnect_reason::protocol_error);
    case msg::userauth_banner: {
      userauth_banner b;
      if (wire::decode(payload, b) || b.message.size() > limits::ssh_auth_max_banner)
        return fail(disconnect_reason::protocol_error);
      if (cfg_.banner) cfg_.banner(b.message);
      return event::none;
    }
    case msg::userauth_failure: {
      userauth_failure f;
      if (wire::decode(payload, f)) return fail(disconnect_reason::protocol_error);
      server_methods_ = std::move(f.methods.names);
      partial_ = f.partial_success;
      // A failed signed publickey request or query moves on to the next identity.
      if (state_ == state::pk_query || state_ == state::pk_signed) ++next_identity_;
      if (partial_) {
        // RFC 4252 §5.1: that method worked; the next one may be any the server lists.
        password_tried_ = false;
        ki_tried_ = false;
      }
      return next_attempt();
    }
    case 60: {
      if (state_ == state::pk_query) {
        userauth_pk_ok ok;
        const auto& idn = cfg_.identities[next_identity_];
        if (wire::decode(payload, ok) || ok.algorithm != algorithm_ || ok.key_blob != idn.public_blob)
          return fail(disconnect_reason::protocol_error);
        auto data = signed_data(session_id_, cfg_.user, cfg_.service, algorithm_, idn.public_blob);
        bytes sig;
        if (idn.sign(algorithm_, data, sig)) {
          // This identity cannot sign (agent refused, key gone): try the next one.
          ++next_identity_;
          return next_attempt();
        }
        send_request("publickey", publickey_tail{true, algorithm_, idn.public_blob, std::move(sig)});
        state_ = state::pk_signed;
        return event::none;
      }
      if (state_ == state::password) {
        userauth_passwd_changereq c;
        if (wire::decode(payload, c)) return fail(disconnect_reason::protocol_error);
        std::optional<secure_bytes> np;
        if (cfg_.new_password) np = cfg_.new_password(c.prompt);
        if (!np) return next_attempt();
        // The old password is needed again: ask the callback once more.
        auto old = cfg_.password ? cfg_.password() : std::nullopt;
        if (!old) return next_attempt();
        password_tail t;
        t.change = true;
        t.password.value = std::move(*old);
        t.new_password.emplace();
        t.new_password->value = std::move(*np);
        send_request("password", std::move(t));
        state_ = state::password_change;
        return event::none;
      }
      if (state_ == state::keyboard_interactive) {
        userauth_info_request ir;
        if (wire::decode(payload, ir) || ir.name.size() > limits::ssh_auth_max_banner ||
            ir.instruction.size() > limits::ssh_auth_max_banner)
          return fail(disconnect_reason::protocol_error);
        auth::challenge c{ir.name, ir.instruction, {}};
        for (auto& p : ir.prompts.items) c.prompts.push_back({std::move(p.text), p.echo});
        auto answers = cfg_.keyboard_interactive(c);
        if (!answers || answers->size() != c.prompts.size()) return next_attempt();
        userauth_info_response resp;
        for (auto& a : *answers) resp.responses.items.push_back({std::move(a)});
        out_.push_back(wire::encode(resp));
        return event::none;
      }
      return fail(disconnect_reason::protocol_error);
    }
    default: break;
  }
  // Anything else (a client's message numbers, connection messages before success) is a
  // protocol error from the server.
  return fail(disconnect_reason::protocol_error);
}

}  // namespace ferry::ssh::proto
