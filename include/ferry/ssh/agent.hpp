// A client for ssh-agent over its unix socket (SSH_AUTH_SOCK; draft-miller-ssh-agent): list the
// identities and sign with them, with the RFC 8332 RSA flags. Its identities plug into the
// publickey method of ssh::async_authenticate:
//
//   auto agent = std::make_shared<ssh::agent_client>();
//   if (!agent->connect()) options.identities = agent->client_identities();
//
// The socket is local and the agent answers at once, so calls are blocking (each bounded by a
// 10-second socket timeout); one call at a time per client (calls are serialised).
#pragma once

#include <ferry/core/bytes.hpp>
#include <ferry/core/error.hpp>
#include <ferry/ssh/proto/agent.hpp>
#include <ferry/ssh/proto/userauth_client.hpp>

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::ssh {

struct agent_identity {
  bytes key_blob;
  std::string comment;
};

class agent_client : public std::enable_shared_from_this<agent_client> {
 public:
  agent_client() = default;
  ~agent_client();
  agent_client(const agent_client&) = delete;
  agent_client& operator=(const agent_client&) = delete;

  // Connects to the unix socket at path (empty: $SSH_AUTH_SOCK).
  error_code connect(std::string_view path = {});
  bool connected() const noexcept { return fd_ >= 0; }
  void close() noexcept;

  // §4.4; keys of types ferry does not know (certificates, sk-*) are left out.
  error_code list_identities(std::vector<agent_identity>& out);
  // §4.5: signs data with the key whose blob is given; flags as proto::agent::rsa_sha2_*.
  // Returns the signature blob (RFC 4253 §6.6); SSH_AGENT_FAILURE gives errc::crypto_failure.
  error_code sign(byte_view key_blob, byte_view data, std::uint32_t flags, bytes& signature_blob);

  // The agent's identities as publickey identities (the client must be owned by a shared_ptr:
  // each identity keeps it alive). The signature algorithm asked for picks the RSA flag.
  std::vector<proto::client_identity> client_identities();

 private:
  error_code call(byte_view request, bytes& reply);
  int fd_ = -1;
  std::mutex m_;
};

}  // namespace ferry::ssh
