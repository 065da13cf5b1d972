// The client's userauth machine: RSA algorithm choice from server-sig-algs (RFC 8332 §3.3),
// method order, PK_OK checks, password change, keyboard-interactive, and the message x state
// table (only USERAUTH_SUCCESS ends in success; nothing crashes).
#include "auth_test_util.hpp"

#include <ferry/ssh/proto/userauth_client.hpp>

#include <gtest/gtest.h>

namespace client_machine_test {
using namespace ferry;
using namespace ferry::ssh;
using namespace ferry::ssh::proto;
using namespace ferry::ssh_auth_test;
using event = userauth_client_machine::event;

namespace {

const bytes session_id = bytes(32, 0x11);

userauth_client_config config() {
  userauth_client_config c;
  c.user = "alice";
  c.identities.push_back(identity_from_key(key(crypto::key_type::rsa)));
  c.password = [] { return std::optional{secret("pw")}; };
  c.keyboard_interactive = [](const auth::challenge& ch) {
    return std::optional{std::vector<secure_bytes>(ch.prompts.size(), secret("pw"))};
  };
  return c;
}

bytes failure(std::vector<std::string> methods, bool partial = false) {
  return wire::encode(userauth_failure{{std::move(methods)}, partial});
}

// The header and method of a request the machine sent.
userauth_header header_of(const bytes& p) {
  wire::reader r{p};
  userauth_header h;
  EXPECT_FALSE(decode_header(r, h));
  return h;
}

publickey_tail pk_tail_of(const bytes& p) {
  wire::reader r{p};
  userauth_header h;
  EXPECT_FALSE(decode_header(r, h));
  publickey_tail t;
  EXPECT_FALSE(decode_tail(r, t));
  return t;
}

}  // namespace

TEST(userauth_client, rsa_algorithm_follows_server_sig_algs) {
  auto id = identity_from_key(key(crypto::key_type::rsa));
  userauth_client_machine none_sent{config(), session_id};
  EXPECT_EQ(none_sent.algorithm_for(id), "rsa-sha2-256");
  userauth_client_machine both{config(), session_id,
                               std::vector<std::string>{"ssh-ed25519", "rsa-sha2-256", "rsa-sha2-512"}};
  EXPECT_EQ(both.algorithm_for(id), "rsa-sha2-512");
  userauth_client_machine only256{config(), session_id, std::vector<std::string>{"rsa-sha2-256"}};
  EXPECT_EQ(only256.algorithm_for(id), "rsa-sha2-256");
  EXPECT_EQ(both.algorithm_for(identity_from_key(key(crypto::key_type::ecdsa_p384))),
            "ecdsa-sha2-nistp384");
}

TEST(userauth_client, publickey_query_then_signature_that_the_server_can_verify) {
  userauth_client_machine m{config(), session_id, std::vector<std::string>{"rsa-sha2-512"}};
  m.start();
  auto out = m.take_output();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(header_of(out[0]).method, "none");
  EXPECT_EQ(m.process(failure({"publickey", "password"})), event::none);
  out = m.take_output();
  ASSERT_EQ(out.size(), 1u);
  auto q = pk_tail_of(out[0]);
  EXPECT_FALSE(q.has_signature);
  EXPECT_EQ(q.algorithm, "rsa-sha2-512");
  EXPECT_EQ(m.process(wire::encode(userauth_pk_ok{q.algorithm, q.key_blob})), event::none);
  out = m.take_output();
  ASSERT_EQ(out.size(), 1u);
  auto s = pk_tail_of(out[0]);
  ASSERT_TRUE(s.has_signature && s.signature);
  crypto::public_key pub;
  ASSERT_FALSE(decode_public_key(s.key_blob, pub));
  EXPECT_FALSE(verify_blob(*find_host_key("rsa-sha2-512"), pub,
                           signed_data(session_id, "alice", "ssh-connection", "rsa-sha2-512", s.key_blob),
                           *s.signature));
  EXPECT_EQ(m.process(wire::encode(userauth_success{})), event::success);
  EXPECT_EQ(m.method(), "publickey");
}

TEST(userauth_client, pk_ok_for_another_key_is_a_protocol_error) {
  userauth_client_machine m{config(), session_id};
  m.start();
  m.take_output();
  m.process(failure({"publickey"}));
  auto q = pk_tail_of(m.take_output().at(0));
  EXPECT_EQ(m.process(wire::encode(userauth_pk_ok{q.algorithm, blob_of(*key(crypto::key_type::rsa, 2))})),
            event::failure);
  EXPECT_EQ(m.error(), disconnect_reason::protocol_error);
}

TEST(userauth_client, methods_follow_the_configured_order_among_those_the_server_lists) {
  auto c = config();
  c.methods = {"password", "keyboard-interactive", "publickey"};
  userauth_client_machine m{c, session_id};
  m.start();
  m.take_output();
  m.process(failure({"keyboard-interactive", "publickey"}));
  EXPECT_EQ(header_of(m.take_output().at(0)).method, "keyboard-interactive");
  // INFO_REQUEST with two prompts: two answers.
  userauth_info_request ir{"", "", "", {{{"A: ", true}, {"B: ", false}}}};
  EXPECT_EQ(m.process(wire::encode(ir)), event::none);
  userauth_info_response resp;
  ASSERT_FALSE(wire::decode(m.take_output().at(0), resp));
  EXPECT_EQ(resp.responses.items.size(), 2u);
  m.process(failure({"keyboard-interactive", "publickey"}));
  EXPECT_EQ(header_of(m.take_output().at(0)).method, "publickey");
  m.process(failure({"keyboard-interactive", "publickey"}));
  EXPECT_TRUE(m.take_output().empty());
  EXPECT_EQ(m.error(), disconnect_reason::no_more_auth_methods_available);
}

TEST(userauth_client, password_change_request_sends_old_and_new_password) {
  auto c = config();
  c.methods = {"password"};
  c.new_password = [](std::string_view prompt) {
    EXPECT_EQ(prompt, "expired");
    return std::optional{secret("new pw")};
  };
  userauth_client_machine m{c, session_id};
  m.start();
  m.take_output();
  m.process(failure({"password"}));
  m.take_output();
  EXPECT_EQ(m.process(wire::encode(userauth_passwd_changereq{"expired", ""})), event::none);
  auto out = m.take_output();
  ASSERT_EQ(out.size(), 1u);
  wire::reader r{out[0]};
  userauth_header h;
  ASSERT_FALSE(decode_header(r, h));
  password_tail t;
  ASSERT_FALSE(decode_tail(r, t));
  EXPECT_TRUE(t.change);
  EXPECT_EQ(t.password.value, secret("pw"));
  ASSERT_TRUE(t.new_password);
  EXPECT_EQ(t.new_password->value, secret("new pw"));
  EXPECT_EQ(m.process(wire::encode(userauth_success{})), event::success);
}

TEST(userauth_client, banners_reach_the_callback_before_success) {
  auto c = config();
  std::vector<std::string> banners;
  c.banner = [&](std::string_view b) { banners.emplace_back(b); };
  userauth_client_machine m{c, session_id};
  m.start();
  EXPECT_EQ(m.process(wire::encode(userauth_banner{"welcome", ""})), event::none);
  EXPECT_EQ(m.process(wire::encode(userauth_success{})), event::success);
  EXPECT_EQ(banners, std::vector<std::string>{"welcome"});
}

TEST(userauth_client, every_message_number_in_every_state_is_handled) {
  // States: after start (none sent), after a publickey query, in password, in keyboard-interactive.
  std::vector<std::pair<std::string, std::vector<bytes>>> states = {
      {"none sent", {}},
      {"publickey query", {failure({"publickey"})}},
      {"password", {failure({"password"})}},
      {"keyboard-interactive", {failure({"keyboard-interactive"})}},
  };
  for (const auto& [name, prefix] : states) {
    for (int id = 0; id < 256; ++id) {
      for (const auto& body : {bytes{}, bytes{0, 0, 0, 1, 'x', 1}, bytes(40, 0xff)}) {
        SCOPED_TRACE(name + " id " + std::to_string(id));
        userauth_client_machine m{config(), session_id};
        m.start();
        for (const auto& p : prefix) ASSERT_EQ(m.process(p), event::none);
        bytes msg{static_cast<std::uint8_t>(id)};
        msg.insert(msg.end(), body.begin(), body.end());
        auto ev = m.process(msg);
        if (id == msg::userauth_success && body.empty()) {
          EXPECT_EQ(ev, event::success);
        } else {
          EXPECT_NE(ev, event::success);
          EXPECT_FALSE(m.succeeded());
        }
        // 0..49 and 62 and above are never valid replies.
        if ((id < 50 || id > 61) && ev != event::success) {
          EXPECT_EQ(ev, event::failure);
        }
      }
    }
  }
}

}  // namespace client_machine_test
