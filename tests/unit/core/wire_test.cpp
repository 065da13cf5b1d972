// The RFC 4251 §5 reader and writer: values, the sticky error, limits, and refusals.
#include <ferry/core/wire.hpp>

#include <gtest/gtest.h>

#include <string>

using namespace ferry;

namespace {

bytes encode_with(auto&& fn) {
  bytes out;
  wire::writer w{out};
  fn(w);
  return out;
}

}  // namespace

TEST(wire_writer, encodes_rfc4251_mpint_examples) {
  // RFC 4251 §5: 0 → 00000000; 9a378f9b2e332a7 → 00000008 09a378f9b2e332a7; 80 → 00000002 0080.
  EXPECT_EQ(encode_with([](auto& w) { w.mpint_unsigned(byte_view{}); }), (bytes{0, 0, 0, 0}));
  bytes big = {0x09, 0xa3, 0x78, 0xf9, 0xb2, 0xe3, 0x32, 0xa7};
  EXPECT_EQ(encode_with([&](auto& w) { w.mpint_unsigned(big); }),
            (bytes{0, 0, 0, 8, 0x09, 0xa3, 0x78, 0xf9, 0xb2, 0xe3, 0x32, 0xa7}));
  bytes x80 = {0x00, 0x00, 0x80};  // leading zeros in the input are dropped
  EXPECT_EQ(encode_with([&](auto& w) { w.mpint_unsigned(x80); }), (bytes{0, 0, 0, 2, 0x00, 0x80}));
}

TEST(wire_writer, encodes_integers_big_endian_and_name_lists) {
  auto out = encode_with([](auto& w) {
    w.u8(0xab);
    w.boolean(true);
    w.u32(0x01020304);
    w.u64(0x0102030405060708ull);
    w.name_list(std::vector<std::string>{"zlib", "none"});
    w.name_list(std::vector<std::string>{});
  });
  bytes expected = {0xab, 1, 1, 2, 3, 4, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 9, 'z', 'l',
                    'i', 'b', ',', 'n', 'o', 'n', 'e', 0, 0, 0, 0};
  EXPECT_EQ(out, expected);
}

TEST(wire_reader, round_trips_every_type) {
  auto out = encode_with([](auto& w) {
    w.u8(7);
    w.boolean(false);
    w.u32(0xfffffffe);
    w.u64(~0ull);
    w.string(std::string_view{"hello"});
    w.name_list(std::vector<std::string>{"a", "bc"});
  });
  wire::reader r{out};
  EXPECT_EQ(r.u8(), 7);
  EXPECT_FALSE(r.boolean());
  EXPECT_EQ(r.u32(), 0xfffffffeu);
  EXPECT_EQ(r.u64(), ~0ull);
  EXPECT_EQ(r.string_view(), "hello");
  auto names = r.name_list();
  ASSERT_EQ(names.size(), 2u);
  EXPECT_EQ(names[0], "a");
  EXPECT_EQ(names[1], "bc");
  EXPECT_FALSE(r.finish());
}

TEST(wire_reader, boolean_treats_any_nonzero_as_true) {
  bytes in = {0x02};
  wire::reader r{in};
  EXPECT_TRUE(r.boolean());  // RFC 4251 §5
}

TEST(wire_reader, every_truncation_point_is_an_error_not_a_read_past_the_end) {
  auto full = encode_with([](auto& w) {
    w.u32(1);
    w.u64(2);
    w.string(std::string_view{"abcdef"});
    w.mpint_unsigned(bytes{0x80, 1});
  });
  for (std::size_t cut = 0; cut < full.size(); ++cut) {
    bytes part(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(cut));
    wire::reader r{part};
    r.u32();
    r.u64();
    r.string();
    r.mpint_unsigned();
    EXPECT_EQ(r.error(), errc::truncated) << "cut at " << cut;
  }
}

TEST(wire_reader, failure_is_sticky_and_later_reads_are_empty) {
  bytes in = {0, 0, 0, 9, 'x'};  // claims 9 bytes, has 1
  wire::reader r{in};
  EXPECT_TRUE(r.string().empty());
  EXPECT_EQ(r.error(), errc::truncated);
  EXPECT_EQ(r.u32(), 0u);
  EXPECT_EQ(r.error(), errc::truncated);
  EXPECT_TRUE(r.empty());
}

TEST(wire_reader, string_longer_than_its_limit_is_refused_before_reading) {
  bytes in = {0xff, 0xff, 0xff, 0xff};  // 4 GiB claimed: refused by the limit, nothing allocated
  wire::reader r{in};
  r.string();
  EXPECT_EQ(r.error(), errc::length_limit);

  auto out = encode_with([](auto& w) { w.string(std::string_view{"12345"}); });
  wire::reader r2{out};
  r2.string(4);
  EXPECT_EQ(r2.error(), errc::length_limit);
}

TEST(wire_reader, negative_and_non_minimal_mpints_are_refused) {
  for (bytes in : {bytes{0, 0, 0, 1, 0x80},         // negative
                   bytes{0, 0, 0, 2, 0xed, 0xcc},   // RFC 4251 example -1234 (negative)
                   bytes{0, 0, 0, 1, 0x00},         // zero must be empty
                   bytes{0, 0, 0, 2, 0x00, 0x7f}}) {  // unnecessary leading zero
    wire::reader r{in};
    r.mpint_unsigned();
    EXPECT_EQ(r.error(), errc::bad_value);
  }
}

TEST(wire_reader, name_lists_with_empty_names_nul_or_long_names_are_refused) {
  for (std::string s : {std::string{","}, std::string{"a,"}, std::string{",a"},
                        std::string{"a,,b"}, std::string{"a\0b", 3}, std::string(65, 'x')}) {
    auto in = encode_with([&](auto& w) { w.string(std::string_view{s}); });
    wire::reader r{in};
    r.name_list();
    EXPECT_EQ(r.error(), errc::bad_value) << s;
  }
  auto ok = encode_with([](auto& w) { w.string(std::string_view{std::string(64, 'x')}); });
  wire::reader r{ok};
  EXPECT_EQ(r.name_list().size(), 1u);
  EXPECT_TRUE(r.ok());
}

TEST(wire_reader, name_list_with_too_many_names_is_refused) {
  std::string s = "a";
  for (std::size_t i = 0; i < limits::max_names; ++i) s += ",a";
  auto in = encode_with([&](auto& w) { w.string(std::string_view{s}); });
  wire::reader r{in};
  r.name_list();
  EXPECT_EQ(r.error(), errc::bad_value);
}

TEST(wire_reader, finish_refuses_trailing_bytes) {
  bytes in = {0, 0, 0, 1, 0xaa};
  wire::reader r{in};
  r.u32();
  EXPECT_EQ(r.finish(), errc::trailing_data);
}

TEST(wire_writer, nested_string_length_is_patched) {
  bytes out;
  wire::writer w{out};
  auto at = w.begin_string();
  w.string(std::string_view{"ssh-ed25519"});
  w.u32(5);
  w.end_string(at);
  wire::reader r{out};
  auto inner = r.string();
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(inner.size(), 4u + 11u + 4u);
  wire::reader ri{inner};
  EXPECT_EQ(ri.string_view(), "ssh-ed25519");
  EXPECT_EQ(ri.u32(), 5u);
  EXPECT_FALSE(ri.finish());
}
