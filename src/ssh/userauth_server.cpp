// Server-side user authentication state machine (RFC 4252, RFC 4256).
#include <ferry/ssh/proto/algorithms.hpp>
#include <ferry/ssh/proto/host_key.hpp>
#include <ferry/ssh/proto/userauth_server.hpp>

#include <algorithm>

namespace ferry::ssh::proto {
namespace {

std::optional<auth::method> method_of(std::string_view n) {
  if (n == "password") return auth::method::password;
  if (n == "publickey") return auth::method::publickey;
  if (n == "keyboard-interactive") return auth::method::keyboard_interactive;
  return std::nullopt;
}

}  // namespace

userauth_server_machine::userauth_server_machine(userauth_server_config config,
                                                 auth_backend backend, byte_view session_id)
    : cfg_(std::move(config)),
      backend_(std::move(backend)),
      session_id_(session_id.begin(), session_id.end()) {}

auth::request userauth_server_machine::make_request() const {
  auth::request r;
  r.user = user_;
  r.service = service_;
  r.remote_address = cfg_.remote_address;
  r.remote_host = cfg_.remote_host;
  r.now = std::chrono::system_clock::now();
  return r;
}

auth::method_set userauth_server_machine::next_methods() const {
  auth::method_set offered = cfg_.methods & backend_.capabilities;
  if (cfg_.required_chains.empty()) return offered;
  auth::method_set next;
  for (const auto& chain : cfg_.required_chains) {
    if (chain.size() <= completed_.size()) continue;
    if (!std::equal(completed_.begin(), completed_.end(), chain.begin())) continue;
    next |= {chain[completed_.size()]};
  }
  return next & offered;
}

userauth_server_machine::event userauth_server_machine::fail_protocol(std::string_view text,
                                                                       disconnect_reason r) {
  state_ = state::closed;
  reason_ = r;
  description_ = std::string{text};
  return event::disconnect;
}

void userauth_server_machine::send_banner_once() {
  if (banner_sent_) return;
  banner_sent_ = true;
  if (!cfg_.banner.empty()) send(userauth_banner{cfg_.banner, ""});
}

userauth_server_machine::event userauth_server_machine::failed(bool counted) {
  state_ = state::idle;
  if (counted) {
    last_failed_ = true;
    // sshd: the failure that reaches MaxAuthTries disconnects instead of replying.
    if (++failures_ >= cfg_.max_auth_tries)
      return fail_protocol("too many authentication failures",
                           disconnect_reason::no_more_auth_methods_available);
  }
  userauth_failure f;
  f.methods.names = next_methods().names();
  f.partial_success = false;
  send(f);
  return event::none;
}

userauth_server_machine::event userauth_server_machine::succeeded(auth::method m, auth::grant g) {
  completed_.push_back(m);
  grant_ = std::move(g);
  bool complete = cfg_.required_chains.empty();
  for (const auto& chain : cfg_.required_chains)
    if (chain == completed_) complete = true;
  if (complete) {
    state_ = state::success;
    send(userauth_success{});
    return event::success;
  }
  // RFC 4252 §5.1: the method worked but more are needed.
  state_ = state::idle;
  userauth_failure f;
  f.methods.names = next_methods().names();
  f.partial_success = true;
  if (f.methods.names.empty()) return fail_protocol("no more authentication methods",
                                                    disconnect_reason::no_more_auth_methods_available);
  send(f);
  return event::none;
}

userauth_server_machine::event userauth_server_machine::process(byte_view payload) {
  last_failed_ = false;
  if (state_ == state::closed || state_ == state::success)
    return fail_protocol("message after authentication ended");
  if (payload.empty()) return fail_protocol("empty message");
  const auto id = payload[0];
  if (id == msg::userauth_request) return on_request(payload);
  if (id == msg::userauth_info_response && state_ == state::keyboard_interactive)
    return on_info_response(payload);
  // CVE-2018-10933 (a client's USERAUTH_SUCCESS) and CVE-2025-32433 (connection messages before
  // authentication): nothing but requests and expected responses is accepted here.
  if (id == msg::userauth_success) return fail_protocol("USERAUTH_SUCCESS from the client");
  if (msg::is_connection(id)) return fail_protocol("connection message before authentication");
  return fail_protocol("unexpected message during authentication");
}

userauth_server_machine::event userauth_server_machine::on_request(byte_view payload) {
  wire::reader r{payload};
  userauth_header h;
  if (decode_header(r, h)) return fail_protocol("malformed USERAUTH_REQUEST");
  if (!have_user_) {
    have_user_ = true;
    user_ = h.user;
    service_ = h.service;
  } else if (h.user != user_ || h.service != service_) {
    return fail_protocol("change of user or service during authentication");
  }
  if (service_ != cfg_.service)
    return fail_protocol("service not available", disconnect_reason::service_not_available);
  // A new request abandons a keyboard-interactive exchange (RFC 4256 §3.4).
  state_ = state::idle;
  send_banner_once();
  const auto req = make_request();
  auto m = method_of(h.method);
  if (h.method == "none") {
    if (r.finish()) return fail_protocol("malformed none request");
    return failed(false);
  }
  if (!m || !next_methods().contains(*m)) {
    // Unknown or not offered now: the tail is not looked at, the attempt counts (as sshd).
    return failed(true);
  }
  switch (*m) {
    case auth::method::password: return on_password(r, req);
    case auth::method::publickey: return on_publickey(r, req);
    case auth::method::keyboard_interactive: return on_keyboard_interactive(r, req);
  }
  return failed(true);
}

userauth_server_machine::event userauth_server_machine::on_password(wire::reader& r,
                                                                    const auth::request& req) {
  password_tail t;
  if (decode_tail(r, t) || t.change != t.new_password.has_value())
    return fail_protocol("malformed password request");
  // Changing an expired password is not offered (no PASSWD_CHANGEREQ is ever sent).
  if (t.change) return failed(true);
  // sshd caps passwords too; an over-long one is a failure, not a hash of megabytes.
  if (t.password.value.size() > limits::auth_max_password) return failed(true);
  auto g = backend_.check_password(req, {t.password.value.data(), t.password.value.size()});
  if (!g) return failed(true);
  return succeeded(auth::method::password, std::move(*g));
}

userauth_server_machine::event userauth_server_machine::on_publickey(wire::reader& r,
                                                                     const auth::request& req) {
  publickey_tail t;
  if (decode_tail(r, t) || t.has_signature != t.signature.has_value())
    return fail_protocol("malformed publickey request");
  if (t.key_blob.size() > limits::ssh_auth_max_blob ||
      (t.signature && t.signature->size() > limits::ssh_auth_max_blob))
    return failed(true);
  const host_key_algorithm* alg = nullptr;
  if (std::find(cfg_.publickey_algorithms.begin(), cfg_.publickey_algorithms.end(), t.algorithm) !=
      cfg_.publickey_algorithms.end())
    alg = find_host_key(t.algorithm);
  crypto::public_key key;
  // The blob must parse, and be of the type the algorithm signs with.
  if (!alg || decode_public_key(t.key_blob, key) || key.type() != alg->key) return failed(true);
  if (!t.has_signature) {
    // RFC 4252 §7: "would this key do?" — no signature yet, nothing granted.
    if (!backend_.accept_public_key(req, t.algorithm, t.key_blob)) return failed(true);
    send(userauth_pk_ok{t.algorithm, t.key_blob});
    return event::none;
  }
  auto data = signed_data(session_id_, user_, service_, t.algorithm, t.key_blob);
  if (verify_blob(*alg, key, data, *t.signature)) return failed(true);
  // The grant is decided for this blob, the one whose signature was just verified.
  auto g = backend_.authorize_public_key(req, t.algorithm, t.key_blob);
  if (!g) return failed(true);
  return succeeded(auth::method::publickey, std::move(*g));
}

userauth_server_machine::event userauth_server_machine::on_keyboard_interactive(
    wire::reader& r, const auth::request& req) {
  keyboard_interactive_tail t;
  if (decode_tail(r, t)) return fail_protocol("malformed keyboard-interactive request");
  auto c = backend_.start_keyboard_interactive(req);
  if (!c || c->prompts.size() > limits::ssh_auth_max_prompts) return failed(true);
  userauth_info_request ir{c->name, c->instruction, "", {}};
  for (const auto& p : c->prompts) ir.prompts.items.push_back({p.text, p.echo});
  ki_round_ = 0;
  ki_prompts_ = c->prompts.size();
  state_ = state::keyboard_interactive;
  send(ir);
  return event::none;
}

userauth_server_machine::event userauth_server_machine::on_info_response(byte_view payload) {
  userauth_info_response resp;
  if (wire::decode(payload, resp)) return fail_protocol("malformed INFO_RESPONSE");
  // RFC 4256 §3.4: as many responses as prompts.
  if (resp.responses.items.size() != ki_prompts_)
    return fail_protocol("INFO_RESPONSE does not answer the prompts");
  std::vector<secure_bytes> answers;
  answers.reserve(resp.responses.items.size());
  for (auto& s : resp.responses.items) answers.push_back(std::move(s.value));
  const auto req = make_request();
  auto step = backend_.continue_keyboard_interactive(req, ki_round_, answers);
  switch (step.what) {
    case auth::ki_step::kind::success:
      if (step.granted) return succeeded(auth::method::keyboard_interactive, std::move(*step.granted));
      return failed(true);
    case auth::ki_step::kind::challenge: {
      if (++ki_round_ >= cfg_.max_ki_rounds ||
          step.next.prompts.size() > limits::ssh_auth_max_prompts)
        return failed(true);
      userauth_info_request ir{step.next.name, step.next.instruction, "", {}};
      for (const auto& p : step.next.prompts) ir.prompts.items.push_back({p.text, p.echo});
      ki_prompts_ = step.next.prompts.size();
      send(ir);
      return event::none;
    }
    case auth::ki_step::kind::failure: break;
  }
  return failed(true);
}

}  // namespace ferry::ssh::proto
