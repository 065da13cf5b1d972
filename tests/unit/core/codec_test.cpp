// The generic message codec: golden bytes, round trips, optional trailing fields, custom types.
#include <ferry/core/codec.hpp>

#include <gtest/gtest.h>

using namespace ferry;

namespace {

struct sample_message {
  static constexpr std::uint8_t id = 42;
  bool flag = false;
  std::uint32_t number = 0;
  std::string text;
  wire::name_list names;
  wire::mpint value;
  std::array<std::uint8_t, 4> cookie{};
  std::optional<std::uint32_t> trailing;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.flag, s.number, s.text, s.names, s.value, s.cookie, s.trailing);
  }
  bool operator==(const sample_message&) const = default;
};

struct with_rest {
  static constexpr std::uint8_t id = 50;
  std::string method;
  wire::remainder rest;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.method, s.rest);
  }
};

// A type with conditional fields, encoded through the ADL hooks.
struct flagged {
  std::optional<std::uint64_t> size;
  bool operator==(const flagged&) const = default;
};
void wire_encode(wire::writer& w, const flagged& f) {
  w.u32(f.size ? 1 : 0);
  if (f.size) w.u64(*f.size);
}
void wire_decode(wire::reader& r, flagged& f) {
  auto flags = r.u32();
  if (flags & ~1u) return r.fail(errc::bad_value);
  if (flags & 1) f.size = r.u64();
}

struct uses_custom {
  std::uint32_t request_id = 0;
  flagged attrs;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.request_id, s.attrs);
  }
};

}  // namespace

TEST(codec, encodes_fields_in_wire_order_after_the_id) {
  sample_message m{true, 258, "hi", {{"a", "b"}}, {{0x80}}, {1, 2, 3, 4}, std::nullopt};
  bytes expected = {42, 1, 0, 0, 1, 2, 0, 0, 0, 2, 'h', 'i', 0, 0, 0, 3, 'a', ',', 'b',
                    0,  0, 0, 2, 0, 0x80, 1, 2, 3, 4};
  EXPECT_EQ(wire::encode(m), expected);
}

TEST(codec, round_trips_with_and_without_trailing_optional) {
  sample_message m{false, 7, "text", {{"x"}}, {{1, 2, 3}}, {9, 9, 9, 9}, 77u};
  sample_message back;
  ASSERT_FALSE(wire::decode(wire::encode(m), back));
  EXPECT_EQ(back, m);
  m.trailing.reset();
  ASSERT_FALSE(wire::decode(wire::encode(m), back));
  EXPECT_EQ(back, m);
}

TEST(codec, refuses_a_different_id_and_trailing_bytes) {
  sample_message m;
  auto enc = wire::encode(m);
  enc[0] = 43;
  sample_message back;
  EXPECT_EQ(wire::decode(enc, back), errc::unexpected_message);

  with_rest w{"x", {}};
  auto wenc = wire::encode(w);
  with_rest wback;
  EXPECT_FALSE(wire::decode(wenc, wback));
  sample_message other;
  auto senc = wire::encode(other);
  senc.push_back(0);
  senc.push_back(0);
  senc.push_back(0);
  senc.push_back(0);
  senc.push_back(0);  // one byte more than the optional trailing u32 can take
  EXPECT_EQ(wire::decode(senc, back), errc::trailing_data);
}

TEST(codec, remainder_keeps_method_specific_bytes_for_a_second_decode) {
  bytes in = {50, 0, 0, 0, 1, 'p', 1, 2, 3};
  with_rest m;
  ASSERT_FALSE(wire::decode(in, m));
  EXPECT_EQ(m.method, "p");
  EXPECT_EQ(m.rest.data, (bytes{1, 2, 3}));
  EXPECT_EQ(wire::encode(m), in);
}

TEST(codec, custom_types_use_their_adl_hooks) {
  uses_custom m{5, flagged{1234}};
  auto enc = wire::encode(m);
  EXPECT_EQ(enc, (bytes{0, 0, 0, 5, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x04, 0xd2}));
  uses_custom back;
  ASSERT_FALSE(wire::decode(enc, back));
  EXPECT_EQ(back.attrs, m.attrs);
  enc[7] = 3;  // an unknown flag bit
  EXPECT_EQ(wire::decode(enc, back), errc::bad_value);
}

TEST(codec, truncated_messages_fail_at_every_length) {
  sample_message m{true, 1, "abc", {{"n"}}, {{5}}, {1, 2, 3, 4}, std::nullopt};
  auto enc = wire::encode(m);
  for (std::size_t cut = 0; cut < enc.size(); ++cut) {
    sample_message back;
    auto ec = wire::decode(byte_view{enc}.first(cut), back);
    EXPECT_TRUE(ec) << "cut at " << cut;
  }
}
