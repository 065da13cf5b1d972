// The server's userauth machine driven message by message: the message x state table never
// authenticates, CVE rules (2018-10933, 2024-45337, 2025-32433), MaxAuthTries counting, equal
// replies for unknown users, password cap, signature bound to the session id.
#include "auth_test_util.hpp"

#include <ferry/ssh/proto/algorithms.hpp>
#include <ferry/ssh/proto/userauth_server.hpp>

#include <gtest/gtest.h>

namespace server_machine_test {
using namespace ferry;
using namespace ferry::ssh;
using namespace ferry::ssh::proto;
using namespace ferry::ssh_auth_test;
using event = userauth_server_machine::event;

namespace {

const bytes session_id = bytes(32, 0xab);

// Grants alice with the ed25519 #0 key or password "pw"; records every key it is asked about.
struct recording_authenticator {
  mutable std::vector<bytes> accepted_queries, authorize_calls;
  mutable int password_calls = 0;
  auth::method_set methods(const auth::request&) const {
    return {auth::method::publickey, auth::method::password, auth::method::keyboard_interactive};
  }
  bool accept_public_key(const auth::request& r, std::string_view, byte_view blob) const {
    accepted_queries.emplace_back(blob.begin(), blob.end());
    return r.user == "alice";  // a careless authenticator: any key "would do" for alice
  }
  auth::result authorize_public_key(const auth::request& r, std::string_view, byte_view blob) const {
    authorize_calls.emplace_back(blob.begin(), blob.end());
    if (r.user == "alice" && bytes(blob.begin(), blob.end()) == blob_of(*key(crypto::key_type::ed25519)))
      return auth::grant{"alice"};
    return std::nullopt;
  }
  auth::result check_password(const auth::request& r, byte_view pw) const {
    ++password_calls;
    if (r.user == "alice" && as_chars(pw) == "pw") return auth::grant{"alice"};
    return std::nullopt;
  }
  std::optional<auth::challenge> start_keyboard_interactive(const auth::request&) const {
    return auth::challenge{"", "", {{"Code: ", true}, {"Password: ", false}}};
  }
  auth::ki_step continue_keyboard_interactive(const auth::request& r, std::size_t,
                                              std::span<const secure_bytes> resp) const {
    auth::ki_step s;
    if (r.user == "alice" && resp.size() == 2 && as_chars({resp[1].data(), resp[1].size()}) == "pw") {
      s.what = auth::ki_step::kind::success;
      s.granted = auth::grant{"alice"};
    }
    return s;
  }
};

template <class Tail>
bytes request(std::string user, std::string method, Tail t) {
  return wire::encode(userauth_request<Tail>{{std::move(user), "ssh-connection", std::move(method)}, std::move(t)});
}

bytes none(std::string user = "alice") { return request(std::move(user), "none", none_tail{}); }

bytes password(std::string pw, std::string user = "alice") {
  password_tail t;
  t.password.value = secure_bytes(pw.begin(), pw.end());
  return request(std::move(user), "password", std::move(t));
}

bytes pk_query(const crypto::private_key& k, std::string user = "alice") {
  return request(std::move(user), "publickey",
                 publickey_tail{false, std::string{key_blob_name(k.type())}, blob_of(k), std::nullopt});
}

// A signed request for blob, signed by signer over the given session id.
bytes pk_signed(const crypto::private_key& signer, const bytes& blob, std::string user = "alice",
                const bytes& sid = session_id, std::string alg_name = {}) {
  if (alg_name.empty()) alg_name = std::string{key_blob_name(signer.type())};
  if (signer.type() == crypto::key_type::rsa && alg_name == "ssh-rsa") alg_name = "rsa-sha2-256";
  const auto* alg = find_host_key(alg_name);
  bytes sig;
  EXPECT_FALSE(sign_blob(*alg, signer, signed_data(sid, user, "ssh-connection", alg_name, blob), sig));
  return request(std::move(user), "publickey", publickey_tail{true, alg_name, blob, std::move(sig)});
}

struct harness {
  recording_authenticator a;
  userauth_server_config cfg;
  std::unique_ptr<userauth_server_machine> m;
  harness() { cfg.max_auth_tries = 6; }
  userauth_server_machine& make() {
    m = std::make_unique<userauth_server_machine>(cfg, make_backend(a), session_id);
    return *m;
  }
  std::vector<std::uint8_t> reply_ids() {
    std::vector<std::uint8_t> ids;
    for (auto& p : m->take_output()) ids.push_back(p.at(0));
    return ids;
  }
};

}  // namespace

TEST(userauth_server, every_message_number_in_every_state_never_authenticates) {
  // States reached by a prefix of valid messages; then one message 0..255 with a short body.
  std::vector<std::pair<std::string, std::vector<bytes>>> states = {
      {"fresh", {}},
      {"after none", {none()}},
      {"after a failed password", {password("wrong")}},
      {"after an accepted query", {pk_query(*key(crypto::key_type::ed25519, 4))}},
      {"in keyboard-interactive", {request("alice", "keyboard-interactive", keyboard_interactive_tail{})}},
  };
  for (const auto& [name, prefix] : states) {
    for (int id = 0; id < 256; ++id) {
      for (const auto& body : {bytes{}, bytes{0, 0, 0, 1, 'x', 1}, bytes(64, 0xff)}) {
        SCOPED_TRACE(name + " id " + std::to_string(id));
        harness h;
        auto& m = h.make();
        for (const auto& p : prefix) ASSERT_EQ(m.process(p), event::none);
        bytes msg{static_cast<std::uint8_t>(id)};
        msg.insert(msg.end(), body.begin(), body.end());
        auto ev = m.process(msg);
        EXPECT_NE(ev, event::success);
        EXPECT_FALSE(m.done());
        for (auto& out : m.take_output()) EXPECT_NE(out.at(0), msg::userauth_success);
        // Only requests (50) and, in keyboard-interactive, responses (61) are not fatal.
        if (id != msg::userauth_request &&
            !(id == msg::userauth_info_response && name == "in keyboard-interactive")) {
          EXPECT_EQ(ev, event::disconnect);
        }
      }
    }
  }
}

TEST(userauth_server, client_userauth_success_and_connection_messages_disconnect) {
  // CVE-2018-10933 and CVE-2025-32433: the server must not act on these before success.
  for (std::uint8_t id : {std::uint8_t{52}, std::uint8_t{80}, std::uint8_t{90}, std::uint8_t{94},
                          std::uint8_t{98}}) {
    harness h;
    auto& m = h.make();
    EXPECT_EQ(m.process(bytes{id, 0, 0, 0, 0}), event::disconnect);
    EXPECT_EQ(m.reason(), disconnect_reason::protocol_error);
    EXPECT_TRUE(m.closed());
  }
}

TEST(userauth_server, grant_is_decided_for_the_key_that_signed_not_an_earlier_query) {
  // CVE-2024-45337: query key A (the authenticator "accepts" any key for alice), then send a
  // request signed by key B. Only B is ever given to authorize_public_key, and B is not authorised.
  harness h;
  auto& m = h.make();
  const auto& granted = *key(crypto::key_type::ed25519);      // authorised
  const auto& other = *key(crypto::key_type::ed25519, 7);     // not authorised
  ASSERT_EQ(m.process(pk_query(granted)), event::none);
  EXPECT_EQ(h.reply_ids(), std::vector<std::uint8_t>{msg::userauth_pk_ok});
  EXPECT_EQ(m.process(pk_signed(other, blob_of(other))), event::none);
  EXPECT_EQ(h.reply_ids(), std::vector<std::uint8_t>{msg::userauth_failure});
  ASSERT_EQ(h.a.authorize_calls.size(), 1u);
  EXPECT_EQ(h.a.authorize_calls[0], blob_of(other));
  // Claiming the queried key's blob with the other key's signature fails verification.
  EXPECT_EQ(m.process(pk_signed(other, blob_of(granted))), event::none);
  EXPECT_EQ(h.reply_ids(), std::vector<std::uint8_t>{msg::userauth_failure});
  EXPECT_EQ(h.a.authorize_calls.size(), 1u);
  // The real key signing for itself succeeds.
  EXPECT_EQ(m.process(pk_signed(granted, blob_of(granted))), event::success);
  EXPECT_EQ(m.granted().user, "alice");
}

TEST(userauth_server, signature_over_another_session_id_is_refused) {
  harness h;
  auto& m = h.make();
  const auto& k = *key(crypto::key_type::ed25519);
  EXPECT_EQ(m.process(pk_signed(k, blob_of(k), "alice", bytes(32, 0xcd))), event::none);
  EXPECT_EQ(h.reply_ids(), std::vector<std::uint8_t>{msg::userauth_failure});
  EXPECT_TRUE(h.a.authorize_calls.empty());
}

TEST(userauth_server, rsa_sha1_is_refused_and_sha2_accepted_by_default) {
  harness h;
  auto& m = h.make();
  const auto& k = *key(crypto::key_type::rsa);
  const auto* sha1 = find_host_key("ssh-rsa");
  bytes sig;
  ASSERT_FALSE(sign_blob(*sha1, k, signed_data(session_id, "alice", "ssh-connection", "ssh-rsa", blob_of(k)), sig));
  EXPECT_EQ(m.process(request("alice", "publickey", publickey_tail{true, "ssh-rsa", blob_of(k), sig})),
            event::none);
  EXPECT_EQ(h.reply_ids(), std::vector<std::uint8_t>{msg::userauth_failure});
  EXPECT_TRUE(h.a.authorize_calls.empty());
  EXPECT_EQ(m.process(pk_signed(k, blob_of(k), "alice", session_id, "rsa-sha2-512")), event::none);
  ASSERT_EQ(h.a.authorize_calls.size(), 1u);  // verified, then asked (and denied: not alice's key)
}

TEST(userauth_server, max_auth_tries_counts_failures_but_not_none) {
  harness h;
  h.cfg.max_auth_tries = 3;
  auto& m = h.make();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(m.process(none()), event::none);
  EXPECT_EQ(m.process(password("a")), event::none);
  EXPECT_EQ(m.process(password("b")), event::none);
  EXPECT_EQ(m.failures(), 2u);
  EXPECT_EQ(m.process(password("pw")), event::success);  // right before the limit: still fine

}

TEST(userauth_server, the_limit_th_failure_disconnects_instead_of_replying) {
  harness h;
  h.cfg.max_auth_tries = 2;
  auto& m = h.make();
  EXPECT_EQ(m.process(password("a")), event::none);
  EXPECT_EQ(h.reply_ids(), std::vector<std::uint8_t>{msg::userauth_failure});
  EXPECT_EQ(m.process(password("b")), event::disconnect);
  EXPECT_EQ(m.reason(), disconnect_reason::no_more_auth_methods_available);
  EXPECT_TRUE(h.reply_ids().empty());
  EXPECT_EQ(m.process(password("pw")), event::disconnect);
  EXPECT_FALSE(m.done());
}

TEST(userauth_server, unknown_users_get_the_same_replies_as_known_ones) {
  auto a = make_authenticator();
  auto run = [&](std::string user) {
    userauth_server_machine m{{}, make_backend(a), session_id};
    std::vector<bytes> replies;
    for (const auto& p : {none(user), pk_query(*key(crypto::key_type::ed25519, 9), user), password("x", user),
                          request(user, "keyboard-interactive", keyboard_interactive_tail{})}) {
      m.process(p);
      for (auto& r : m.take_output()) replies.push_back(r);
    }
    return replies;
  };
  auto known = run("alice");
  EXPECT_EQ(known, run("nobody"));
  EXPECT_EQ(known, run("bob"));
  ASSERT_EQ(known.size(), 4u);
  userauth_failure f;
  ASSERT_FALSE(wire::decode(known[0], f));
  EXPECT_EQ(f.methods.names, (std::vector<std::string>{"publickey", "password", "keyboard-interactive"}));
}

TEST(userauth_server, over_long_password_fails_without_reaching_the_authenticator) {
  harness h;
  auto& m = h.make();
  EXPECT_EQ(m.process(password(std::string(limits::auth_max_password + 1, 'p'))), event::none);
  EXPECT_EQ(h.reply_ids(), std::vector<std::uint8_t>{msg::userauth_failure});
  EXPECT_EQ(h.a.password_calls, 0);
  EXPECT_EQ(m.process(password("pw")), event::success);
}

TEST(userauth_server, change_of_user_or_service_disconnects) {
  harness h;
  auto& m = h.make();
  EXPECT_EQ(m.process(none("alice")), event::none);
  EXPECT_EQ(m.process(password("pw", "root")), event::disconnect);
  harness h2;
  auto& m2 = h2.make();
  EXPECT_EQ(m2.process(wire::encode(userauth_request<none_tail>{{"alice", "ssh-other", "none"}, {}})),
            event::disconnect);
  EXPECT_EQ(m2.reason(), disconnect_reason::service_not_available);
}

TEST(userauth_server, keyboard_interactive_round_trip_and_response_count) {
  harness h;
  auto& m = h.make();
  EXPECT_EQ(m.process(request("alice", "keyboard-interactive", keyboard_interactive_tail{})), event::none);
  auto out = m.take_output();
  ASSERT_EQ(out.size(), 1u);
  userauth_info_request ir;
  ASSERT_FALSE(wire::decode(out[0], ir));
  ASSERT_EQ(ir.prompts.items.size(), 2u);
  EXPECT_EQ(ir.prompts.items[0], (info_prompt{"Code: ", true}));
  userauth_info_response one;
  one.responses.items.push_back({secret("x")});
  EXPECT_EQ(m.process(wire::encode(one)), event::disconnect);  // one answer for two prompts

  harness h2;
  auto& m2 = h2.make();
  m2.process(request("alice", "keyboard-interactive", keyboard_interactive_tail{}));
  userauth_info_response two;
  two.responses.items.push_back({secret("123")});
  two.responses.items.push_back({secret("pw")});
  EXPECT_EQ(m2.process(wire::encode(two)), event::success);
}

TEST(userauth_server, partial_success_lists_the_next_method) {
  harness h;
  h.cfg.required_chains = {{auth::method::password, auth::method::keyboard_interactive}};
  auto& m = h.make();
  EXPECT_EQ(m.process(pk_signed(*key(crypto::key_type::ed25519), blob_of(*key(crypto::key_type::ed25519)))),
            event::none);  // publickey is in no chain: a counted failure
  h.reply_ids();
  EXPECT_EQ(m.process(password("pw")), event::none);
  auto out = m.take_output();
  ASSERT_EQ(out.size(), 1u);
  userauth_failure f;
  ASSERT_FALSE(wire::decode(out[0], f));
  EXPECT_TRUE(f.partial_success);
  EXPECT_EQ(f.methods.names, std::vector<std::string>{"keyboard-interactive"});
  m.process(request("alice", "keyboard-interactive", keyboard_interactive_tail{}));
  m.take_output();
  userauth_info_response two;
  two.responses.items.push_back({secret("123")});
  two.responses.items.push_back({secret("pw")});
  EXPECT_EQ(m.process(wire::encode(two)), event::success);
}

TEST(userauth_server, banner_goes_out_once_before_the_first_reply) {
  harness h;
  h.cfg.banner = "hello\r\n";
  auto& m = h.make();
  m.process(none());
  EXPECT_EQ(h.reply_ids(), (std::vector<std::uint8_t>{msg::userauth_banner, msg::userauth_failure}));
  m.process(none());
  EXPECT_EQ(h.reply_ids(), std::vector<std::uint8_t>{msg::userauth_failure});
}

}  // namespace server_machine_test
