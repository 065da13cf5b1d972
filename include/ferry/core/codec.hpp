// The one message codec. A wire message is a plain struct with its fields in wire order:
//
//   struct service_request {
//     static constexpr std::uint8_t id = 5;          // optional: the leading message number
//     std::string service_name;
//     template <class S> static auto fields(S& s) { return std::tie(s.service_name); }
//   };
//
// encode() appends id then each field; decode() checks the id, reads each field and refuses
// trailing bytes. Field types: std::uint8_t, bool, std::uint32_t, std::uint64_t, std::string and
// bytes (SSH strings), name_list, mpint, std::array<std::uint8_t, N> (raw bytes), remainder (all
// bytes left), std::optional<T> (only as trailing fields: present when bytes remain), nested
// messages, and any type with ADL functions wire_encode(writer&, const T&) / wire_decode(reader&, T&)
// for formats with conditional fields (SFTP attributes, for one).
#pragma once

#include <ferry/core/wire.hpp>

#include <array>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace ferry::wire {

// RFC 4251 §5 name-list held as owned strings.
struct name_list {
  std::vector<std::string> names;
  bool operator==(const name_list&) const = default;
};

// A non-negative mpint held as its big-endian magnitude (no leading zeros; zero is empty).
struct mpint {
  bytes magnitude;
  bool operator==(const mpint&) const = default;
};

// The rest of the message, unparsed (method-specific data decoded by a second, nested decode).
struct remainder {
  bytes data;
  bool operator==(const remainder&) const = default;
};

template <class M>
concept message_with_fields = requires(M& m) { M::fields(m); };

template <class M>
concept message_with_id = requires { M::id; };

template <class T>
concept custom_wire_type = requires(writer& w, reader& r, const T& c, T& m) {
  wire_encode(w, c);
  wire_decode(r, m);
};

namespace detail {

template <class T>
struct is_std_array : std::false_type {};
template <std::size_t N>
struct is_std_array<std::array<std::uint8_t, N>> : std::true_type {};

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

}  // namespace detail

template <class T, class Container>
void encode_field(basic_writer<Container>& w, const T& v);
template <class T>
void decode_field(reader& r, T& v);

template <class Container, message_with_fields M>
void encode_fields(basic_writer<Container>& w, const M& m) {
  std::apply([&](const auto&... f) { (encode_field(w, f), ...); }, M::fields(m));
}

template <message_with_fields M>
void decode_fields(reader& r, M& m) {
  std::apply([&](auto&... f) { (decode_field(r, f), ...); }, M::fields(m));
}

template <class T, class Container>
void encode_field(basic_writer<Container>& w, const T& v) {
  if constexpr (std::is_same_v<T, bool>) {
    w.boolean(v);
  } else if constexpr (std::is_same_v<T, std::uint8_t>) {
    w.u8(v);
  } else if constexpr (std::is_same_v<T, std::uint32_t>) {
    w.u32(v);
  } else if constexpr (std::is_same_v<T, std::uint64_t>) {
    w.u64(v);
  } else if constexpr (std::is_same_v<T, std::string>) {
    w.string(std::string_view{v});
  } else if constexpr (std::is_same_v<T, bytes>) {
    w.string(byte_view{v});
  } else if constexpr (std::is_same_v<T, name_list>) {
    w.name_list(v.names);
  } else if constexpr (std::is_same_v<T, mpint>) {
    w.mpint_unsigned(v.magnitude);
  } else if constexpr (std::is_same_v<T, remainder>) {
    w.raw(byte_view{v.data});
  } else if constexpr (detail::is_std_array<T>::value) {
    w.raw(byte_view{v});
  } else if constexpr (detail::is_optional<T>::value) {
    if (v) encode_field(w, *v);
  } else if constexpr (message_with_fields<T>) {
    encode_fields(w, v);
  } else {
    wire_encode(w, v);
  }
}

template <class T>
void decode_field(reader& r, T& v) {
  if constexpr (std::is_same_v<T, bool>) {
    v = r.boolean();
  } else if constexpr (std::is_same_v<T, std::uint8_t>) {
    v = r.u8();
  } else if constexpr (std::is_same_v<T, std::uint32_t>) {
    v = r.u32();
  } else if constexpr (std::is_same_v<T, std::uint64_t>) {
    v = r.u64();
  } else if constexpr (std::is_same_v<T, std::string>) {
    v = std::string{r.string_view()};
  } else if constexpr (std::is_same_v<T, bytes>) {
    auto s = r.string();
    v.assign(s.begin(), s.end());
  } else if constexpr (std::is_same_v<T, name_list>) {
    v.names.clear();
    for (auto n : r.name_list()) v.names.emplace_back(n);
  } else if constexpr (std::is_same_v<T, mpint>) {
    auto m = r.mpint_unsigned();
    v.magnitude.assign(m.begin(), m.end());
  } else if constexpr (std::is_same_v<T, remainder>) {
    auto rest = r.rest();
    v.data.assign(rest.begin(), rest.end());
  } else if constexpr (detail::is_std_array<T>::value) {
    auto b = r.raw(v.size());
    if (r.ok()) std::copy(b.begin(), b.end(), v.begin());
  } else if constexpr (detail::is_optional<T>::value) {
    if (r.ok() && !r.empty()) {
      v.emplace();
      decode_field(r, *v);
    } else {
      v.reset();
    }
  } else if constexpr (message_with_fields<T>) {
    decode_fields(r, v);
  } else {
    wire_decode(r, v);
  }
}

// Appends the message (id byte first, if it has one) to out.
template <class M, class Container>
void encode(Container& out, const M& m) {
  basic_writer<Container> w{out};
  if constexpr (message_with_id<M>) w.u8(static_cast<std::uint8_t>(M::id));
  encode_fields(w, m);
}

template <class M>
bytes encode(const M& m) {
  bytes out;
  encode(out, m);
  return out;
}

// Decodes one whole message; the id must match and nothing may follow the last field.
template <class M>
error_code decode(byte_view in, M& m) {
  reader r{in};
  if constexpr (message_with_id<M>) {
    if (r.u8() != static_cast<std::uint8_t>(M::id) && r.ok()) r.fail(errc::unexpected_message);
  }
  decode_fields(r, m);
  return r.finish();
}

}  // namespace ferry::wire
