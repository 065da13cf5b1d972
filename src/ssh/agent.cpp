// ssh-agent client: blocking I/O on a local unix socket, messages through proto/agent.hpp.
#include <ferry/ssh/agent.hpp>
#include <ferry/ssh/proto/host_key.hpp>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

namespace ferry::ssh {
namespace {

error_code last_errno() { return {errno, boost::system::system_category()}; }

bool write_all(int fd, const std::uint8_t* p, std::size_t n) {
  while (n > 0) {
    auto w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

bool read_all(int fd, std::uint8_t* p, std::size_t n) {
  while (n > 0) {
    auto r = ::recv(fd, p, n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

}  // namespace

agent_client::~agent_client() { close(); }

void agent_client::close() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

error_code agent_client::connect(std::string_view path) {
  close();
  std::string p{path};
  if (p.empty()) {
    const char* env = std::getenv("SSH_AUTH_SOCK");
    if (!env || !*env) return make_error_code(boost::system::errc::no_such_file_or_directory);
    p = env;
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (p.size() >= sizeof addr.sun_path) return make_error_code(boost::system::errc::filename_too_long);
  std::memcpy(addr.sun_path, p.data(), p.size());
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return last_errno();
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    auto ec = last_errno();
    ::close(fd);
    return ec;
  }
  fd_ = fd;
  return {};
}

error_code agent_client::call(byte_view request, bytes& reply) {
  std::lock_guard lock{m_};
  if (fd_ < 0) return make_error_code(boost::system::errc::not_connected);
  auto framed = proto::agent::frame(request);
  if (!write_all(fd_, framed.data(), framed.size())) {
    close();
    return make_error_code(boost::system::errc::connection_reset);
  }
  std::uint8_t header[4];
  std::size_t len = 0;
  if (!read_all(fd_, header, 4)) {
    close();
    return make_error_code(boost::system::errc::connection_reset);
  }
  if (auto ec = proto::agent::frame_length(header, len)) {
    close();  // the stream cannot be resynchronised
    return ec;
  }
  reply.resize(len);
  if (!read_all(fd_, reply.data(), len)) {
    close();
    return make_error_code(boost::system::errc::connection_reset);
  }
  return {};
}

error_code agent_client::list_identities(std::vector<agent_identity>& out) {
  out.clear();
  bytes reply;
  if (auto ec = call(wire::encode(proto::agent::request_identities{}), reply)) return ec;
  proto::agent::identities_answer a;
  if (auto ec = wire::decode(reply, a)) return ec;
  for (auto& i : a.identities.items) {
    crypto::public_key k;
    if (proto::decode_public_key(i.key_blob, k)) continue;
    out.push_back({std::move(i.key_blob), std::move(i.comment)});
  }
  return {};
}

error_code agent_client::sign(byte_view key_blob, byte_view data, std::uint32_t flags,
                              bytes& signature_blob) {
  proto::agent::sign_request req;
  req.key_blob.assign(key_blob.begin(), key_blob.end());
  req.data.assign(data.begin(), data.end());
  req.flags = flags;
  bytes reply;
  if (auto ec = call(wire::encode(req), reply)) return ec;
  if (!reply.empty() && reply[0] == proto::agent::msg::failure)
    return make_error_code(errc::crypto_failure);
  proto::agent::sign_response r;
  if (auto ec = wire::decode(reply, r)) return ec;
  signature_blob = std::move(r.signature);
  return {};
}

std::vector<proto::client_identity> agent_client::client_identities() {
  std::vector<proto::client_identity> out;
  std::vector<agent_identity> ids;
  if (list_identities(ids)) return out;
  auto self = shared_from_this();
  for (auto& i : ids) {
    crypto::public_key k;
    if (proto::decode_public_key(i.key_blob, k)) continue;
    proto::client_identity ci;
    ci.public_blob = i.key_blob;
    ci.type = k.type();
    ci.comment = i.comment;
    ci.sign = [self, blob = i.key_blob](std::string_view algorithm, byte_view data,
                                         bytes& sig) -> error_code {
      std::uint32_t flags = 0;
      if (algorithm == "rsa-sha2-256") flags = proto::agent::rsa_sha2_256;
      if (algorithm == "rsa-sha2-512") flags = proto::agent::rsa_sha2_512;
      if (auto ec = self->sign(blob, data, flags, sig)) return ec;
      // The agent must have signed with the algorithm asked for (an old agent may answer
      // ssh-rsa for an RSA key): check the blob's name.
      proto::signature_blob sb;
      if (wire::decode(sig, sb) || sb.algorithm != algorithm)
        return make_error_code(errc::bad_signature);
      return {};
    };
    out.push_back(std::move(ci));
  }
  return out;
}

}  // namespace ferry::ssh
