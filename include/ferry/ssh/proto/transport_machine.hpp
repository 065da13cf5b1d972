// The SSH transport as a sans-I/O state machine (RFC 4253 §4-§11): version exchange, binary
// packets, key exchange and re-exchange, NEWKEYS, strict kex, ext-info, service requests and the
// generic messages. The Asio layer (ssh::transport) only moves bytes:
//
//   machine.start();                                 // queues our identification and KEXINIT
//   loop: write whatever swap_output() hands out;    // always flush before waiting for input
//         read into input_space() / commit_input();
//         process() -> need_input | packet (an upper-layer payload) | closed (error())
//   once can_send(): send(payload) seals an upper-layer message.
//
// Messages 1..49 and ping/pong are handled here; upper-layer messages (50 and above, and
// SERVICE_ACCEPT for a client) come out of process(). A failure queues SSH_MSG_DISCONNECT with the
// matching RFC 4253 §11.1 reason and closes the machine.
#pragma once

#include <ferry/core/random.hpp>
#include <ferry/crypto/sign.hpp>
#include <ferry/ssh/error.hpp>
#include <ferry/ssh/proto/algorithms.hpp>
#include <ferry/ssh/proto/identification.hpp>
#include <ferry/ssh/proto/kex.hpp>
#include <ferry/ssh/proto/messages.hpp>
#include <ferry/ssh/proto/negotiate.hpp>
#include <ferry/ssh/proto/packet.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ferry::ssh::proto {

struct transport_config {
  role local = role::client;
  algorithm_preferences algorithms = default_preferences();
  // RFC 4253 §4.2 "SSH-2.0-<software_version> <comments>".
  std::string software_version = "ferry_0.1";
  std::string comments;
  std::size_t max_packet = limits::max_packet;
  // Rekey after this many bytes in either direction (0: the cipher's RFC 4344 §3.2 limit) or this
  // much time since the last exchange (zero: never).
  std::uint64_t rekey_bytes = 0;
  std::chrono::seconds rekey_time{3600};
  bool strict_kex = true;  // offer kex-strict-*-v00@openssh.com (Terrapin, CVE-2023-48795)
  bool ext_info = true;    // offer ext-info-c / send server-sig-algs (RFC 8308)
  // Server: services accepted in SERVICE_REQUEST (RFC 4253 §10); others are refused.
  std::vector<std::string> services{"ssh-userauth"};
  // Server: host keys, one per type (the negotiated algorithm picks the key).
  std::vector<std::shared_ptr<const crypto::private_key>> host_keys;
  // Client: called with the server's key once its signature verified; it must accept the key.
  host_key_verifier verify_host_key;
  // Randomness for cookies, padding and ephemeral keys; null: crypto::system_random().
  random_source* rng = nullptr;
  // The clock rekey_time is measured with (tests replace it).
  std::function<std::chrono::steady_clock::time_point()> clock;
};

// Checks a configuration before use: every name in the registry, non-empty lists, a host key
// for a server, a printable identification that fits RFC 4253 §4.2.
error_code validate(const transport_config& c);

}  // namespace ferry::ssh::proto

namespace ferry::test {
// Defined only by tests: lets a test peer seal any message under its current keys (the message
// table test plays a peer that sends what a real one never would).
struct transport_machine_access;
}  // namespace ferry::test

namespace ferry::ssh::proto {

class transport_machine {
  friend struct ::ferry::test::transport_machine_access;

 public:
  enum class event { need_input, packet, closed };

  explicit transport_machine(transport_config config);
  ~transport_machine();
  transport_machine(const transport_machine&) = delete;
  transport_machine& operator=(const transport_machine&) = delete;

  // Queues our identification line and first KEXINIT.
  void start();

  // --- input --------------------------------------------------------------------------------
  // Space for at least n more bytes (the whole free tail, which may be more); when the buffer
  // must be compacted or grown, it makes room for `preferred` bytes (a reader's usual read size).
  // commit_input() says how many were written.
  mutable_byte_view input_space(std::size_t n, std::size_t preferred = 0);
  void commit_input(std::size_t n);
  // How many more bytes the next step needs at least (a read hint).
  std::size_t input_wanted() const noexcept;
  // Runs the protocol over buffered input. On event::packet, payload is an upper-layer message,
  // valid until the next call to process() or input_space().
  event process(byte_view& payload);

  // --- output -------------------------------------------------------------------------------
  // Output is a chain of buffers in sealing order: packets sealed in place (send_in_place) join
  // it as they are, everything else is appended to the current tail buffer.
  bool has_output() const noexcept { return !out_.empty() || !chain_.empty(); }
  // Hands the pending output to the writer as one buffer in exchange for an empty one.
  void swap_output(bytes& b);
  // Moves the pending output, in order, to the end of segments (a writer gathers them into one
  // write); give the buffers back with recycle() once written.
  void take_output(std::vector<bytes>& segments);
  void recycle(bytes&& b);
  // Bytes queued since start (a writer compares it with what it wrote).
  std::uint64_t output_total() const noexcept { return out_total_ + chain_bytes_ + out_.size(); }

  // --- upper layer --------------------------------------------------------------------------
  // True once the first exchange finished and no exchange holds our direction (RFC 4253 §7.1:
  // after sending KEXINIT only kex messages go out until NEWKEYS).
  bool can_send() const noexcept;
  // Seals an upper-layer message (may start a rekey first when a limit is reached).
  error_code send(byte_view payload);
  // The same without copying the payload: packet holds packet_headroom spare bytes, then the
  // payload; it is sealed in place (padding and MAC appended; reserve packet_tailroom to avoid a
  // reallocation) and joins the output. packet comes back as an empty recycled buffer.
  error_code send_in_place(bytes& packet);
  // Queues a DISCONNECT and closes.
  void disconnect(disconnect_reason r, std::string_view description = {});
  // Starts a key re-exchange now (RFC 4253 §9); no-op while one is running.
  void rekey();

  // --- state --------------------------------------------------------------------------------
  bool handshake_done() const noexcept { return first_kex_done_; }
  bool kex_in_progress() const noexcept { return kex_running_; }
  bool closed() const noexcept { return closed_; }
  error_code error() const noexcept { return error_; }
  const std::string& peer_disconnect_message() const noexcept { return peer_message_; }
  const std::string& peer_identification() const noexcept { return ident_.identification(); }
  const std::string& local_identification() const noexcept { return local_ident_; }
  const bytes& session_id() const noexcept { return session_id_; }
  const negotiated& algorithms() const noexcept { return neg_; }
  bool strict_kex() const noexcept { return strict_; }
  std::size_t kex_count() const noexcept { return kex_count_; }
  // Extensions the peer announced in EXT_INFO (RFC 8308), e.g. server-sig-algs.
  const std::vector<extension>& peer_extensions() const noexcept { return peer_ext_; }
  const packet_counters& sent_counters() const noexcept { return sealer_.counters(); }
  const packet_counters& received_counters() const noexcept { return opener_.counters(); }
  // The sequence number of the packet process() returned last (RFC 4253 §6.4).
  std::uint32_t received_sequence() const noexcept { return opener_.sequence() - 1; }
  // The sequence number the next packet we seal gets.
  std::uint32_t next_sent_sequence() const noexcept { return sealer_.sequence(); }
  // The sequence number the peer's last SSH_MSG_UNIMPLEMENTED quoted (none yet: nullopt).
  std::optional<std::uint32_t> peer_unimplemented() const noexcept { return peer_unimplemented_; }
  role local_role() const noexcept { return cfg_.local; }

 private:
  event fail(disconnect_reason r, std::string_view text);
  event fail(const error_code& ec, std::string_view text);
  error_code seal(byte_view payload);
  template <class M>
  error_code seal_message(const M& m) {
    scratch_.clear();
    wire::encode(scratch_, m);
    return seal(scratch_);
  }
  void send_kexinit();
  error_code on_kexinit(byte_view payload);
  error_code on_kex_method(byte_view payload);
  error_code on_newkeys();
  error_code finish_exchange_output();
  // Returns true when payload is for the upper layer.
  bool handle(byte_view payload, error_code& ec);
  void maybe_rekey();
  void after_send(std::uint8_t id);
  std::uint64_t max_blocks(const packet_crypto& c) const noexcept;
  std::chrono::steady_clock::time_point now() const {
    return cfg_.clock ? cfg_.clock() : std::chrono::steady_clock::now();
  }

  transport_config cfg_;
  random_source* rng_;
  identification_parser ident_;
  std::string local_ident_;
  bool ident_done_ = false;

  bytes in_;
  std::size_t in_begin_ = 0;
  std::size_t in_end_ = 0;
  std::size_t pending_consume_ = 0;
  std::size_t wanted_ = 1;

  static constexpr std::size_t small_packet = 4096;
  bytes out_;
  std::vector<bytes> chain_;  // sealed before out_'s contents
  std::vector<bytes> spare_;  // written buffers for reuse
  std::uint64_t chain_bytes_ = 0;
  std::uint64_t out_total_ = 0;
  bytes scratch_;

  packet_sealer sealer_;
  std::optional<std::uint32_t> peer_unimplemented_;
  packet_opener opener_;

  // Key exchange state (RFC 4253 §7).
  bool kex_running_ = false;
  bool sent_kexinit_ = false;
  bool got_kexinit_ = false;
  bool sent_newkeys_ = false;
  bool got_newkeys_ = false;
  bool ignore_guess_ = false;
  bool first_kex_done_ = false;
  bool strict_ = false;
  std::uint32_t peer_kexinit_seq_ = 0;
  std::uint32_t local_kexinit_seq_ = 0;
  bytes local_kexinit_;
  bytes peer_kexinit_;
  negotiated neg_;
  std::optional<key_exchange> kex_;
  std::optional<direction_keys> in_keys_;
  bytes session_id_;
  std::size_t kex_count_ = 0;
  std::chrono::steady_clock::time_point last_kex_{};

  bool service_accepted_ = false;
  std::vector<extension> peer_ext_;

  bool closed_ = false;
  error_code error_;
  std::string peer_message_;
};

}  // namespace ferry::ssh::proto
