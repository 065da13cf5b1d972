#include <ferry/crypto/random.hpp>
#include <ferry/ssh/proto/transport_machine.hpp>

#include <algorithm>
#include <cstring>

namespace ferry::ssh::proto {

namespace {

template <class T>
bool all_known(const std::vector<std::string>& names, const T* (*find)(std::string_view)) {
  if (names.empty()) return false;
  return std::all_of(names.begin(), names.end(), [&](const std::string& n) { return find(n) != nullptr; });
}

// RFC 4253 §4.2: printable US-ASCII; the version has no spaces or minus signs.
bool printable(std::string_view s, bool allow_space) {
  return std::all_of(s.begin(), s.end(), [&](char c) {
    return (c > 0x20 && c < 0x7f && c != '-') || (allow_space && (c == ' ' || c == '-'));
  });
}

}  // namespace

error_code validate(const transport_config& c) {
  auto bad = make_error_code(errc::bad_value);
  const auto& a = c.algorithms;
  if (!all_known(a.kex, &find_kex) || !all_known(a.host_key, &find_host_key) ||
      !all_known(a.cipher, &find_cipher) || !all_known(a.mac, &find_mac) ||
      !all_known(a.compression, &find_compression))
    return bad;
  if (c.software_version.empty() || !printable(c.software_version, false) ||
      !printable(c.comments, true) ||
      make_identification(c.software_version, c.comments).size() > limits::max_identification_line)
    return bad;
  if (c.max_packet < 35000 || c.max_packet > limits::max_packet) return bad;  // RFC 4253 §6.1
  if (c.local == role::server) {
    if (c.host_keys.empty()) return bad;
    for (const auto& k : c.host_keys)
      if (!k || !k->valid()) return bad;
  }
  return {};
}

transport_machine::transport_machine(transport_config config)
    : cfg_(std::move(config)),
      rng_(cfg_.rng ? cfg_.rng : &crypto::system_random()),
      ident_(cfg_.local),
      opener_(cfg_.max_packet) {}

transport_machine::~transport_machine() = default;

void transport_machine::start() {
  local_ident_ = make_identification(cfg_.software_version, cfg_.comments);
  out_.insert(out_.end(), local_ident_.begin(), local_ident_.end());
  local_ident_.resize(local_ident_.size() - 2);  // without CR LF, as it enters H
  send_kexinit();
}

// --- input ------------------------------------------------------------------------------------

mutable_byte_view transport_machine::input_space(std::size_t n, std::size_t preferred) {
  if (pending_consume_ == 0 && in_begin_ == in_end_) in_begin_ = in_end_ = 0;
  if (in_.size() - in_end_ < n) {
    // Drop what was consumed (at most a partial packet stays) before growing, so the buffer
    // stays about one read large; the payload of the last packet must stay where it is.
    if (in_begin_ > 0 && pending_consume_ == 0) {
      std::memmove(in_.data(), in_.data() + in_begin_, in_end_ - in_begin_);
      in_end_ -= in_begin_;
      in_begin_ = 0;
    }
    if (in_.size() < in_end_ + n) in_.resize(in_end_ + std::max(n, preferred));
  }
  return {in_.data() + in_end_, in_.size() - in_end_};
}

void transport_machine::commit_input(std::size_t n) { in_end_ += n; }

std::size_t transport_machine::input_wanted() const noexcept {
  auto have = in_end_ - in_begin_;
  return wanted_ > have ? wanted_ - have : 1;
}

transport_machine::event transport_machine::process(byte_view& payload) {
  in_begin_ += pending_consume_;
  pending_consume_ = 0;
  if (in_begin_ == in_end_) in_begin_ = in_end_ = 0;
  while (true) {
    if (closed_) return event::closed;
    if (!ident_done_) {
      std::size_t used = 0;
      auto st = ident_.feed({in_.data() + in_begin_, in_end_ - in_begin_}, used);
      in_begin_ += used;
      if (st == identification_parser::status::need_more) {
        wanted_ = 1;
        return event::need_input;
      }
      if (st == identification_parser::status::failed)
        return fail(ident_.error(), "invalid identification");
      ident_done_ = true;
    }
    std::size_t consumed = 0, needed = 0;
    error_code ec;
    auto seq = opener_.sequence();
    auto st = opener_.open({in_.data() + in_begin_, in_end_ - in_begin_}, payload, consumed,
                           needed, ec);
    if (st == packet_opener::status::need_more) {
      wanted_ = needed;
      return event::need_input;
    }
    if (st == packet_opener::status::failed)
      return fail(ec, ec == disconnect_reason::mac_error ? "message authentication failed"
                                                          : "bad packet");
    // The payload lives in the input buffer until the next call.
    pending_consume_ = consumed;
    wanted_ = 1;
    if (got_kexinit_ || payload[0] != msg::kexinit) {
      // nothing: peer_kexinit_seq_ only matters for the KEXINIT itself
    } else {
      peer_kexinit_seq_ = seq;
    }
    bool upper = handle(payload, ec);
    if (ec) {
      if (closed_) return event::closed;
      return fail(ec, "protocol error");
    }
    if (closed_) return event::closed;
    maybe_rekey();
    if (upper) return event::packet;
    in_begin_ += pending_consume_;
    pending_consume_ = 0;
  }
}

// --- failure ----------------------------------------------------------------------------------

transport_machine::event transport_machine::fail(disconnect_reason r, std::string_view text) {
  disconnect(r, text);
  return event::closed;
}

transport_machine::event transport_machine::fail(const error_code& ec, std::string_view text) {
  return fail(reason_for(ec), text);
}

void transport_machine::disconnect(disconnect_reason r, std::string_view description) {
  if (closed_) return;
  // RFC 4253 §11.1: tell the peer why, then close. Before our identification went out there is
  // no packet stream to put it in.
  if (!local_ident_.empty())
    seal_message(proto::disconnect{static_cast<std::uint32_t>(r), std::string{description}, ""});
  closed_ = true;
  error_ = make_error_code(r);
}

// --- output -----------------------------------------------------------------------------------

error_code transport_machine::seal(byte_view payload) { return sealer_.seal(payload, out_, *rng_); }

void transport_machine::swap_output(bytes& b) {
  b.clear();
  if (!chain_.empty()) {
    bytes all;
    all.reserve(chain_bytes_ + out_.size());
    for (auto& c : chain_) {
      all.insert(all.end(), c.begin(), c.end());
      recycle(std::move(c));
    }
    all.insert(all.end(), out_.begin(), out_.end());
    chain_.clear();
    chain_bytes_ = 0;
    out_.clear();
    out_.swap(all);
  }
  out_total_ += out_.size();
  out_.swap(b);
}

void transport_machine::take_output(std::vector<bytes>& segments) {
  for (auto& c : chain_) segments.push_back(std::move(c));
  out_total_ += chain_bytes_;
  chain_.clear();
  chain_bytes_ = 0;
  if (!out_.empty()) {
    out_total_ += out_.size();
    segments.push_back(std::move(out_));
    out_.clear();
    if (!spare_.empty()) {
      out_ = std::move(spare_.back());
      spare_.pop_back();
      out_.clear();
    }
  }
}

// Spare buffers keep their size (see connection_machine::pop_packet); whoever appends clears.
void transport_machine::recycle(bytes&& b) {
  if (spare_.size() >= 64 || b.capacity() == 0) return;
  spare_.push_back(std::move(b));
}

bool transport_machine::can_send() const noexcept {
  return !closed_ && first_kex_done_ && !(sent_kexinit_ && !sent_newkeys_);
}

namespace {

// Checks what an upper layer may send (RFC 4253 §6.1 size, RFC 4250 §4.1.2 numbers).
error_code check_upper(byte_view payload, std::size_t max_packet, role local) {
  if (payload.empty()) return make_error_code(errc::unexpected_message);
  // Room for the header, padding and MAC inside the packet limit (RFC 4253 §6.1).
  if (payload.size() + 64 > max_packet) return make_error_code(errc::length_limit);
  // Upper layers send only their own messages (RFC 4250 §4.1.2: 50 and above), plus IGNORE,
  // DEBUG and the UNIMPLEMENTED reply to a message of theirs they do not know (RFC 4253 §11.4).
  if (payload[0] < 50 && payload[0] != msg::service_request && payload[0] != msg::ignore &&
      payload[0] != msg::debug && payload[0] != msg::unimplemented)
    return make_error_code(errc::unexpected_message);
  if (payload[0] == msg::service_request && local != role::client)
    return make_error_code(errc::unexpected_message);
  return {};
}

}  // namespace

error_code transport_machine::send(byte_view payload) {
  if (closed_) return error_;
  if (!can_send()) return make_error_code(errc::unexpected_message);
  if (auto ec = check_upper(payload, cfg_.max_packet, cfg_.local)) return ec;
  if (auto ec = seal(payload)) {
    disconnect(disconnect_reason::compression_error);
    return ec;
  }
  after_send(payload[0]);
  return {};
}

error_code transport_machine::send_in_place(bytes& packet) {
  if (closed_) return error_;
  if (!can_send() || packet.size() < packet_headroom) return make_error_code(errc::unexpected_message);
  byte_view payload{packet.data() + packet_headroom, packet.size() - packet_headroom};
  if (auto ec = check_upper(payload, cfg_.max_packet, cfg_.local)) return ec;
  const auto id = payload[0];
  if (auto ec = sealer_.end(packet, 0, *rng_)) {
    disconnect(disconnect_reason::compression_error);
    return ec;
  }
  // A small packet joins the tail buffer (a copy is cheaper than one more piece of a gather
  // write, of which a writev takes only so many).
  if (packet.size() <= small_packet) {
    out_.insert(out_.end(), packet.begin(), packet.end());
    after_send(id);
    return {};
  }
  // What was sealed before goes out before this packet.
  if (!out_.empty()) {
    chain_bytes_ += out_.size();
    chain_.push_back(std::move(out_));
    out_.clear();
    if (!spare_.empty()) {
      out_ = std::move(spare_.back());
      spare_.pop_back();
      out_.clear();
    }
  }
  chain_bytes_ += packet.size();
  chain_.push_back(std::move(packet));
  packet.clear();
  if (!spare_.empty()) {
    packet = std::move(spare_.back());
    spare_.pop_back();
  }
  after_send(id);
  return {};
}

void transport_machine::after_send(std::uint8_t id) {
  // zlib@openssh.com: the server compresses from the packet after USERAUTH_SUCCESS on, and
  // expects the client to do the same once it has seen it.
  if (id == msg::userauth_success && cfg_.local == role::server) {
    sealer_.start_delayed_compression();
    opener_.start_delayed_compression();
  }
  maybe_rekey();
}

void transport_machine::rekey() {
  if (closed_ || !first_kex_done_ || kex_running_) return;
  send_kexinit();
}

std::uint64_t transport_machine::max_blocks(const packet_crypto& c) const noexcept {
  // RFC 4344 §3.2: rekey after 2^(L/4) blocks of an L-bit block cipher; for 64-bit blocks
  // (chacha20-poly1305 as SSH sees it) OpenSSH's 2^30 bytes.
  std::size_t bs = c.block_size();
  std::uint64_t blocks = bs >= 16 ? (std::uint64_t{1} << (bs * 2)) : (std::uint64_t{1} << 30) / bs;
  if (cfg_.rekey_bytes) blocks = std::min<std::uint64_t>(blocks, std::max<std::uint64_t>(cfg_.rekey_bytes / bs, 1));
  return blocks;
}

void transport_machine::maybe_rekey() {
  if (closed_ || !first_kex_done_ || kex_running_) return;
  bool due = sealer_.counters().blocks >= max_blocks(sealer_) ||
             opener_.counters().blocks >= max_blocks(opener_) ||
             // Sequence numbers must not wrap under one set of keys (RFC 4344 §3.1).
             sealer_.counters().packets >= (std::uint64_t{1} << 31) ||
             opener_.counters().packets >= (std::uint64_t{1} << 31) ||
             (cfg_.rekey_time.count() > 0 && now() - last_kex_ >= cfg_.rekey_time);
  if (due) send_kexinit();
}

// --- key exchange -----------------------------------------------------------------------------

void transport_machine::send_kexinit() {
  kexinit k;
  rng_->fill(k.cookie);
  const auto& a = cfg_.algorithms;
  k.kex_algorithms.names = a.kex;
  // The capability flags go in the first KEXINIT only (OpenSSH PROTOCOL §1.10, RFC 8308 §2.1).
  if (!first_kex_done_) {
    bool client = cfg_.local == role::client;
    if (cfg_.ext_info)
      k.kex_algorithms.names.emplace_back(client ? pseudo::ext_info_c : pseudo::ext_info_s);
    if (cfg_.strict_kex)
      k.kex_algorithms.names.emplace_back(client ? pseudo::strict_c : pseudo::strict_s);
  }
  if (cfg_.local == role::server) {
    for (const auto& n : a.host_key) {
      auto* h = find_host_key(n);
      // ssh-rsa signs with SHA-1: ferry verifies it (legacy list) but never signs with it.
      if (h && h->hash == crypto::hash_alg::sha1) continue;
      for (const auto& key : cfg_.host_keys)
        if (h && key && key->type() == h->key) {
          k.server_host_key_algorithms.names.push_back(n);
          break;
        }
    }
  } else {
    k.server_host_key_algorithms.names = a.host_key;
  }
  k.encryption_client_to_server.names = a.cipher;
  k.encryption_server_to_client.names = a.cipher;
  k.mac_client_to_server.names = a.mac;
  k.mac_server_to_client.names = a.mac;
  k.compression_client_to_server.names = a.compression;
  k.compression_server_to_client.names = a.compression;
  local_kexinit_ = wire::encode(k);
  kex_running_ = true;
  sent_kexinit_ = true;
  local_kexinit_seq_ = sealer_.sequence();
  seal(local_kexinit_);
}

error_code transport_machine::on_kexinit(byte_view payload) {
  if (got_kexinit_) return make_error_code(disconnect_reason::protocol_error);
  kexinit peer;
  if (wire::decode(payload, peer)) return make_error_code(disconnect_reason::protocol_error);
  peer_kexinit_.assign(payload.begin(), payload.end());
  got_kexinit_ = true;
  if (!sent_kexinit_) send_kexinit();
  kexinit local;
  wire::decode(local_kexinit_, local);
  bool client = cfg_.local == role::client;
  const kexinit& c = client ? local : peer;
  const kexinit& s = client ? peer : local;
  if (auto ec = negotiate(c, s, neg_)) return ec;
  if (!first_kex_done_) {
    strict_ = neg_.strict_kex;
    // OpenSSH PROTOCOL §1.10: with strict kex, KEXINIT must be the peer's very first packet.
    if (strict_ && peer_kexinit_seq_ != 0) return make_error_code(disconnect_reason::protocol_error);
  }
  // RFC 4253 §7: a wrongly guessed first kex packet is ignored.
  ignore_guess_ = peer.first_kex_packet_follows && !neg_.guess_matches;

  kex_inputs in;
  in.local = cfg_.local;
  in.algorithms = &neg_;
  const std::string& v_peer = ident_.identification();
  in.v_c = client ? std::string_view{local_ident_} : std::string_view{v_peer};
  in.v_s = client ? std::string_view{v_peer} : std::string_view{local_ident_};
  in.i_c = client ? byte_view{local_kexinit_} : byte_view{peer_kexinit_};
  in.i_s = client ? byte_view{peer_kexinit_} : byte_view{local_kexinit_};
  in.rng = rng_;
  in.verify = &cfg_.verify_host_key;
  if (!client) {
    for (const auto& key : cfg_.host_keys)
      if (key && key->type() == neg_.host_key->key) {
        in.host_key = key.get();
        break;
      }
  } else {
    // RFC 4419 §3: ask for a group that matches the strongest negotiated cipher.
    auto bits = std::max(neg_.cipher_c2s->key_size, neg_.cipher_s2c->key_size) * 8;
    in.gex_n = bits <= 128 ? 3072 : bits <= 192 ? 7680 : 8192;
  }
  kex_.emplace(in);
  bytes first;
  if (auto ec = kex_->start(first)) return ec;
  if (!first.empty()) seal(first);
  return {};
}

error_code transport_machine::on_kex_method(byte_view payload) {
  if (!got_kexinit_ || !kex_ || kex_->done()) return make_error_code(disconnect_reason::protocol_error);
  if (ignore_guess_) {
    ignore_guess_ = false;
    return {};
  }
  bytes reply;
  if (auto ec = kex_->on_message(payload, reply)) return ec;
  if (!reply.empty()) seal(reply);
  if (kex_->done()) return finish_exchange_output();
  return {};
}

// The exchange produced H and K: derive both directions' keys and send NEWKEYS (RFC 4253 §7.3).
error_code transport_machine::finish_exchange_output() {
  const auto& h = kex_->exchange_hash();
  if (session_id_.empty()) session_id_ = h;  // RFC 4253 §7.2: H of the first exchange
  byte_view k{kex_->shared_secret().data(), kex_->shared_secret().size()};
  bool client = cfg_.local == role::client;
  auto out_keys = make_direction_keys(neg_, client, k, h, session_id_);
  in_keys_ = make_direction_keys(neg_, !client, k, h, session_id_);
  seal_message(newkeys{});
  sealer_.set_keys(out_keys);
  if (strict_) sealer_.reset_sequence();  // OpenSSH PROTOCOL §1.10
  sent_newkeys_ = true;
  // RFC 8308 §2.4: the server's EXT_INFO is the packet right after its first NEWKEYS.
  if (!client && !first_kex_done_ && neg_.client_ext_info && cfg_.ext_info) {
    std::string algs;
    for (const auto& n : cfg_.algorithms.host_key) {
      if (!algs.empty()) algs += ',';
      algs += n;
    }
    ext_info e;
    e.extensions.items.push_back({"server-sig-algs", to_bytes(algs)});
    e.extensions.items.push_back({"ping@openssh.com", to_bytes("0")});
    seal_message(e);
  }
  if (got_newkeys_) return {};
  return {};
}

error_code transport_machine::on_newkeys() {
  if (!kex_ || !kex_->done() || !sent_newkeys_ || !in_keys_)
    return make_error_code(disconnect_reason::protocol_error);
  opener_.set_keys(*in_keys_);
  in_keys_.reset();
  if (strict_) opener_.reset_sequence();
  // Both directions switched: the exchange is over.
  kex_.reset();
  kex_running_ = sent_kexinit_ = got_kexinit_ = sent_newkeys_ = got_newkeys_ = false;
  ignore_guess_ = false;
  first_kex_done_ = true;
  ++kex_count_;
  last_kex_ = now();
  return {};
}

// --- dispatch ---------------------------------------------------------------------------------

bool transport_machine::handle(byte_view payload, error_code& ec) {
  auto protocol_error = [&] {
    ec = make_error_code(disconnect_reason::protocol_error);
    return false;
  };
  const std::uint8_t id = payload[0];
  const bool client = cfg_.local == role::client;
  // OpenSSH PROTOCOL §1.10: during the first exchange under strict kex only kex messages count;
  // anything else (even IGNORE) ends the connection.
  if (strict_ && !first_kex_done_ && got_kexinit_ && !msg::is_kex(id) && id != msg::disconnect)
    return protocol_error();
  // RFC 4253 §7.1: between the peer's KEXINIT and its NEWKEYS only transport messages come.
  if (got_kexinit_ && !(msg::is_kex(id) || msg::is_transport_generic(id))) return protocol_error();

  switch (id) {
    case msg::disconnect: {
      proto::disconnect d;
      wire::decode(payload, d);  // best effort: the connection ends either way
      peer_message_ = d.description;
      closed_ = true;
      auto r = d.reason_code;
      error_ = r >= 1 && r <= 15 ? make_error_code(static_cast<disconnect_reason>(r))
                                 : make_error_code(disconnect_reason::protocol_error);
      return false;
    }
    case msg::ignore:
    case msg::debug: return false;  // RFC 4253 §11.2, §11.3
    case msg::unimplemented: {
      // RFC 4253 §11.4. A peer that does not implement KEXINIT at this point (OpenSSH while
      // authenticating) would leave the exchange hanging: give up instead.
      proto::unimplemented u;
      if (wire::decode(payload, u)) return protocol_error();
      peer_unimplemented_ = u.sequence_number;
      if (kex_running_ && !got_kexinit_ && u.sequence_number == local_kexinit_seq_) {
        ec = make_error_code(disconnect_reason::key_exchange_failed);
        return false;
      }
      return false;
    }
    case msg::kexinit:
      ec = on_kexinit(payload);
      return false;
    case msg::newkeys:
      if (payload.size() != 1) return protocol_error();
      ec = on_newkeys();
      return false;
    case msg::service_request: {
      if (client || !first_kex_done_) return protocol_error();
      service_request r;
      if (wire::decode(payload, r)) return protocol_error();
      if (std::find(cfg_.services.begin(), cfg_.services.end(), r.service_name) ==
          cfg_.services.end()) {
        disconnect(disconnect_reason::service_not_available, "service not available");
        return false;
      }
      service_accepted_ = true;
      seal_message(service_accept{r.service_name});
      return false;
    }
    case msg::service_accept: {
      if (!client || !first_kex_done_) return protocol_error();
      service_accept a;
      if (wire::decode(payload, a)) return protocol_error();
      return true;
    }
    case msg::ext_info: {
      // RFC 8308 §2.4: only under keys (after the first NEWKEYS); an unauthenticated EXT_INFO
      // could downgrade server-sig-algs.
      if (!first_kex_done_) return protocol_error();
      ext_info e;
      if (wire::decode(payload, e)) return protocol_error();
      peer_ext_ = std::move(e.extensions.items);
      return false;
    }
    case msg::ping: {
      if (!first_kex_done_) return protocol_error();
      proto::ping p;
      if (wire::decode(payload, p)) return protocol_error();
      // PROTOCOL §1.9: answer after the exchange; a pong during one would break its rules.
      if (!kex_running_) seal_message(pong{std::move(p.data)});
      return false;
    }
    case msg::pong: return false;
    default: break;
  }
  if (msg::is_kex_method(id)) {
    ec = on_kex_method(payload);
    return false;
  }
  if (id < 50) {
    // RFC 4253 §11.4: an unknown transport message gets UNIMPLEMENTED with its sequence number.
    if (!first_kex_done_) return protocol_error();
    seal_message(unimplemented{opener_.sequence() - 1});
    return false;
  }
  if (!first_kex_done_) return protocol_error();
  // RFC 4253 §10: nothing above the transport runs before a service was requested.
  if (!client && !service_accepted_) return protocol_error();
  if (id == msg::userauth_success && client) {
    sealer_.start_delayed_compression();
    opener_.start_delayed_compression();
  }
  return true;
}

}  // namespace ferry::ssh::proto
