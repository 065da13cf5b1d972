// ATTRS (draft-ietf-secsh-filexfer-02 §5): flag-driven fields, unknown flags refused, caps.
#include "hex.hpp"

#include <ferry/sftp/proto/attrs.hpp>

#include <gtest/gtest.h>

using namespace ferry;
using namespace ferry::sftp::proto;
using ferry::test_sftp::hex;

namespace {

struct holder {
  attrs a;
  template <class S>
  static auto fields(S& s) {
    return std::tie(s.a);
  }
};

error_code decode_attrs(byte_view in, attrs& out) {
  holder h;
  auto ec = wire::decode(in, h);
  out = h.a;
  return ec;
}

bytes encode_attrs(const attrs& a) { return wire::encode(holder{a}); }

}  // namespace

TEST(sftp_attrs, empty_attrs_are_a_zero_flags_word) {
  EXPECT_EQ(encode_attrs({}), hex("00000000"));
}

TEST(sftp_attrs, each_field_follows_its_flag_in_draft_order) {
  attrs a;
  a.size = 0x0102030405060708;
  EXPECT_EQ(encode_attrs(a), hex("00000001 0102030405060708"));
  a = {};
  a.ids = owner_ids{1, 2};
  EXPECT_EQ(encode_attrs(a), hex("00000002 00000001 00000002"));
  a = {};
  a.permissions = 040755;
  EXPECT_EQ(encode_attrs(a), hex("00000004 000041ed"));
  a = {};
  a.times = file_times{10, 20};
  EXPECT_EQ(encode_attrs(a), hex("00000008 0000000a 00000014"));
  a = {};
  a.extended = std::vector<extension_pair>{{"n@x", "d"}};
  EXPECT_EQ(encode_attrs(a), hex("80000000 00000001 00000003 'n@x' 00000001 'd'"));
}

TEST(sftp_attrs, all_fields_round_trip_and_fail_at_every_truncation) {
  attrs a;
  a.size = 99;
  a.ids = owner_ids{1000, 100};
  a.permissions = 0100600;
  a.times = file_times{1700000000, 1700000001};
  a.extended = std::vector<extension_pair>{{"a@b", "1"}, {"c@d", ""}};
  auto enc = encode_attrs(a);
  EXPECT_EQ(enc, hex("8000000f 0000000000000063 000003e8 00000064 00008180 6553f100 6553f101"
                     " 00000002 00000003 'a@b' 00000001 '1' 00000003 'c@d' 00000000"));
  attrs back;
  ASSERT_FALSE(decode_attrs(enc, back));
  EXPECT_EQ(back, a);
  for (std::size_t cut = 0; cut < enc.size(); ++cut)
    EXPECT_TRUE(decode_attrs(byte_view{enc}.first(cut), back)) << cut;
}

TEST(sftp_attrs, an_extended_flag_with_no_pairs_round_trips) {
  attrs back;
  ASSERT_FALSE(decode_attrs(hex("80000000 00000000"), back));
  ASSERT_TRUE(back.extended);
  EXPECT_TRUE(back.extended->empty());
  EXPECT_EQ(encode_attrs(back), hex("80000000 00000000"));
}

TEST(sftp_attrs, unknown_flag_bits_are_refused) {
  attrs back;
  for (std::uint32_t bit = 0; bit < 32; ++bit) {
    std::uint32_t flag = 1u << bit;
    if (flag & attr_flags::known) continue;
    bytes in = {std::uint8_t(flag >> 24), std::uint8_t(flag >> 16), std::uint8_t(flag >> 8),
                std::uint8_t(flag), 0, 0, 0, 0, 0, 0, 0, 0};
    EXPECT_EQ(decode_attrs(in, back), errc::bad_value) << bit;
  }
}

TEST(sftp_attrs, extended_counts_above_the_limit_are_refused_before_reading) {
  attrs back;
  EXPECT_EQ(decode_attrs(hex("80000000 00000041"), back), errc::length_limit);  // 65 pairs
  EXPECT_EQ(decode_attrs(hex("80000000 ffffffff"), back), errc::length_limit);
}
