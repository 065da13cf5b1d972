// agent_client against a scripted agent on a unix socket: identities listed (unknown key types
// left out), sign requests carry the RSA SHA-2 flags, and hostile replies (failure, over-long
// frames, a signature of the wrong algorithm) are errors, never crashes.
#include "auth_test_util.hpp"

#include <ferry/ssh/agent.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <mutex>
#include <sys/socket.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

namespace agent_test {
using namespace ferry;
using namespace ferry::ssh;
using namespace ferry::ssh_auth_test;

namespace {

// Listens on a socket in a fresh temp dir; answers each request with the next scripted reply
// (raw bytes, framing included) and records the requests.
class fake_agent {
 public:
  explicit fake_agent(std::vector<bytes> replies) : replies_(std::move(replies)) {
    char tmpl[] = "/tmp/ferry-agent-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    path_ = dir_ + "/sock";
    fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path_.c_str());
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd_, 1), 0);
    thread_ = std::thread{[this] { serve(); }};
  }
  ~fake_agent() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
    ::unlink(path_.c_str());
    ::rmdir(dir_.c_str());
  }
  const std::string& path() const { return path_; }
  std::vector<bytes> requests() {
    std::lock_guard l{m_};
    return requests_;
  }

 private:
  void serve() {
    int c = ::accept(fd_, nullptr, nullptr);
    if (c < 0) return;
    for (const auto& reply : replies_) {
      std::uint8_t h[4];
      if (::recv(c, h, 4, MSG_WAITALL) != 4) break;
      std::size_t n = (std::size_t{h[0]} << 24) | (std::size_t{h[1]} << 16) | (std::size_t{h[2]} << 8) | h[3];
      bytes req(n);
      if (n && ::recv(c, req.data(), n, MSG_WAITALL) != static_cast<ssize_t>(n)) break;
      {
        std::lock_guard l{m_};
        requests_.push_back(req);
      }
      ::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
    }
    ::close(c);
  }
  std::vector<bytes> replies_;
  std::mutex m_;
  std::vector<bytes> requests_;
  std::string dir_, path_;
  int fd_ = -1;
  std::thread thread_;
};

bytes framed(const bytes& m) { return proto::agent::frame(m); }

bytes identities(std::vector<proto::agent::identity> ids) {
  return framed(wire::encode(proto::agent::identities_answer{{std::move(ids)}}));
}

}  // namespace

TEST(agent_client, lists_known_key_types_and_signs_with_the_rsa_sha2_flag) {
  const auto& rsa = *key(crypto::key_type::rsa);
  bytes data = to_bytes("to be signed");
  bytes sig;
  ASSERT_FALSE(proto::sign_blob(*proto::find_host_key("rsa-sha2-512"), rsa, data, sig));
  fake_agent fa{{identities({{blob_of(rsa), "rsa"}, {to_bytes("\0\0\0\x07ssh-dss"), "dsa"}}),
                 framed(wire::encode(proto::agent::sign_response{sig}))}};
  auto client = std::make_shared<agent_client>();
  ASSERT_FALSE(client->connect(fa.path()));
  auto ids = client->client_identities();
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_EQ(ids[0].comment, "rsa");
  bytes got;
  ASSERT_FALSE(ids[0].sign("rsa-sha2-512", data, got));
  EXPECT_EQ(got, sig);
  auto requests = fa.requests();
  ASSERT_EQ(requests.size(), 2u);
  proto::agent::sign_request req;
  ASSERT_FALSE(wire::decode(requests[1], req));
  EXPECT_EQ(req.flags, proto::agent::rsa_sha2_512);
  EXPECT_EQ(req.key_blob, blob_of(rsa));
  EXPECT_EQ(req.data, data);
}

TEST(agent_client, a_signature_of_another_algorithm_is_refused) {
  // An old agent answers ssh-rsa (SHA-1) when rsa-sha2-256 was asked for.
  const auto& rsa = *key(crypto::key_type::rsa);
  bytes sig;
  ASSERT_FALSE(proto::sign_blob(*proto::find_host_key("ssh-rsa"), rsa, to_bytes("d"), sig));
  fake_agent fa{{identities({{blob_of(rsa), "rsa"}}), framed(wire::encode(proto::agent::sign_response{sig}))}};
  auto client = std::make_shared<agent_client>();
  ASSERT_FALSE(client->connect(fa.path()));
  auto ids = client->client_identities();
  ASSERT_EQ(ids.size(), 1u);
  bytes got;
  EXPECT_EQ(ids[0].sign("rsa-sha2-256", to_bytes("d"), got), errc::bad_signature);
}

TEST(agent_client, failure_and_oversized_replies_are_errors) {
  fake_agent fa{{framed(bytes{proto::agent::msg::failure}), bytes{0x7f, 0, 0, 0}}};
  agent_client client;
  ASSERT_FALSE(client.connect(fa.path()));
  bytes sig;
  EXPECT_EQ(client.sign(bytes{1}, bytes{2}, 0, sig), errc::crypto_failure);
  std::vector<agent_identity> ids;
  EXPECT_EQ(client.list_identities(ids), errc::length_limit);
  EXPECT_FALSE(client.connected());  // the stream cannot be trusted after a bad frame
}

TEST(agent_client, connect_without_a_socket_fails_cleanly) {
  agent_client client;
  EXPECT_TRUE(client.connect("/nonexistent/ferry/agent.sock"));
  std::vector<agent_identity> ids;
  EXPECT_TRUE(client.list_identities(ids));
}

}  // namespace agent_test
