// Golden bytes for the userauth and agent messages (RFC 4252 §5-§8, RFC 4256 §3,
// draft-miller-ssh-agent §4), built by hand from the RFC layouts.
#include <ferry/ssh/proto/agent.hpp>
#include <ferry/ssh/proto/userauth.hpp>

#include <gtest/gtest.h>

namespace messages_test {
using namespace ferry;
using namespace ferry::ssh::proto;

namespace {

// Appends an SSH string.
void str(bytes& b, std::string_view s) {
  auto n = static_cast<std::uint32_t>(s.size());
  b.insert(b.end(), {std::uint8_t(n >> 24), std::uint8_t(n >> 16), std::uint8_t(n >> 8), std::uint8_t(n)});
  b.insert(b.end(), s.begin(), s.end());
}

}  // namespace

TEST(userauth_messages, password_request_matches_rfc4252_section_8) {
  password_tail t;
  t.password.value = secure_bytes{'p', 'w'};
  auto got = wire::encode(userauth_request<password_tail>{{"u", "ssh-connection", "password"}, std::move(t)});
  bytes want{50};
  str(want, "u");
  str(want, "ssh-connection");
  str(want, "password");
  want.push_back(0);
  str(want, "pw");
  EXPECT_EQ(got, want);
  wire::reader r{got};
  userauth_header h;
  ASSERT_FALSE(decode_header(r, h));
  password_tail back;
  ASSERT_FALSE(decode_tail(r, back));
  EXPECT_EQ(back.password.value, (secure_bytes{'p', 'w'}));
  EXPECT_FALSE(back.new_password);
}

TEST(userauth_messages, publickey_query_and_signed_data_match_rfc4252_section_7) {
  auto got = wire::encode(userauth_request<publickey_tail>{{"u", "s", "publickey"},
                                                           {false, "ssh-ed25519", bytes{1, 2}, std::nullopt}});
  bytes want{50};
  str(want, "u");
  str(want, "s");
  str(want, "publickey");
  want.push_back(0);
  str(want, "ssh-ed25519");
  str(want, "\x01\x02");
  EXPECT_EQ(got, want);

  auto sd = signed_data(bytes{9, 9}, "u", "s", "ssh-ed25519", bytes{1, 2});
  bytes wsd;
  str(wsd, "\x09\x09");
  wsd.push_back(50);
  str(wsd, "u");
  str(wsd, "s");
  str(wsd, "publickey");
  wsd.push_back(1);
  str(wsd, "ssh-ed25519");
  str(wsd, "\x01\x02");
  EXPECT_EQ(sd, wsd);
}

TEST(userauth_messages, failure_info_request_and_response_layouts) {
  auto f = wire::encode(userauth_failure{{{"publickey", "password"}}, true});
  bytes wf{51};
  str(wf, "publickey,password");
  wf.push_back(1);
  EXPECT_EQ(f, wf);

  userauth_info_request ir{"n", "i", "", {{{"P: ", false}}}};
  bytes wir{60};
  str(wir, "n");
  str(wir, "i");
  str(wir, "");
  wir.insert(wir.end(), {0, 0, 0, 1});
  str(wir, "P: ");
  wir.push_back(0);
  EXPECT_EQ(wire::encode(ir), wir);

  userauth_info_response resp;
  resp.responses.items.push_back({secure_bytes{'x'}});
  bytes wresp{61, 0, 0, 0, 1};
  str(wresp, "x");
  EXPECT_EQ(wire::encode(resp), wresp);
}

TEST(userauth_messages, over_limit_counts_and_names_are_refused) {
  bytes many{60};
  str(many, "");
  str(many, "");
  str(many, "");
  many.insert(many.end(), {0, 0, 1, 0});  // 256 prompts announced
  userauth_info_request ir;
  EXPECT_EQ(wire::decode(many, ir), errc::length_limit);

  bytes resp{61, 0xff, 0xff, 0xff, 0xff};
  userauth_info_response r;
  EXPECT_EQ(wire::decode(resp, r), errc::length_limit);

  bytes req{50};
  str(req, std::string(limits::ssh_auth_max_user + 1, 'u'));
  str(req, "ssh-connection");
  str(req, "none");
  wire::reader rd{req};
  userauth_header h;
  EXPECT_EQ(decode_header(rd, h), errc::length_limit);
}

TEST(userauth_messages, server_sig_algs_are_read_from_ext_info) {
  std::vector<extension> ext{{"other", to_bytes("x")}, {"server-sig-algs", to_bytes("ssh-ed25519,rsa-sha2-512")}};
  auto algs = server_sig_algs(ext);
  ASSERT_TRUE(algs);
  EXPECT_EQ(*algs, (std::vector<std::string>{"ssh-ed25519", "rsa-sha2-512"}));
  EXPECT_FALSE(server_sig_algs({}));
}

TEST(agent_messages, sign_request_and_identities_answer_layouts) {
  auto got = agent::frame(wire::encode(agent::sign_request{bytes{1}, bytes{2, 3}, agent::rsa_sha2_512}));
  bytes want{0, 0, 0, 16, 13, 0, 0, 0, 1, 1, 0, 0, 0, 2, 2, 3, 0, 0, 0, 4};
  EXPECT_EQ(got, want);

  bytes ans{12, 0, 0, 0, 2};
  str(ans, "\x01");
  str(ans, "first");
  str(ans, "\x02");
  str(ans, "second");
  agent::identities_answer a;
  ASSERT_FALSE(wire::decode(ans, a));
  ASSERT_EQ(a.identities.items.size(), 2u);
  EXPECT_EQ(a.identities.items[1].comment, "second");

  bytes too_many{12, 0xff, 0xff, 0xff, 0xff};
  EXPECT_EQ(wire::decode(too_many, a), errc::length_limit);
  std::size_t len = 0;
  EXPECT_EQ(agent::frame_length(bytes{0, 0x10, 0, 1}, len), errc::length_limit);
  EXPECT_EQ(agent::frame_length(bytes{0, 0, 0, 0}, len), errc::bad_value);
  EXPECT_FALSE(agent::frame_length(bytes{0, 0, 1, 0}, len));
  EXPECT_EQ(len, 256u);
}

}  // namespace messages_test
