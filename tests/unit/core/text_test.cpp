#include <ferry/core/text.hpp>

#include <gtest/gtest.h>

using namespace ferry;

TEST(base64, encodes_the_rfc4648_section10_vectors) {
  // RFC 4648 §10.
  EXPECT_EQ(text::base64_encode(as_bytes("")), "");
  EXPECT_EQ(text::base64_encode(as_bytes("f")), "Zg==");
  EXPECT_EQ(text::base64_encode(as_bytes("fo")), "Zm8=");
  EXPECT_EQ(text::base64_encode(as_bytes("foo")), "Zm9v");
  EXPECT_EQ(text::base64_encode(as_bytes("foob")), "Zm9vYg==");
  EXPECT_EQ(text::base64_encode(as_bytes("fooba")), "Zm9vYmE=");
  EXPECT_EQ(text::base64_encode(as_bytes("foobar")), "Zm9vYmFy");
  EXPECT_EQ(text::base64_encode(as_bytes("fo"), false), "Zm8");
}

TEST(base64, decodes_the_rfc4648_section10_vectors_with_and_without_padding) {
  bytes out;
  for (auto [enc, dec] : {std::pair{"Zg==", "f"}, {"Zm8=", "fo"}, {"Zm9v", "foo"},
                          {"Zm9vYg==", "foob"}, {"Zm9vYmE=", "fooba"}, {"Zm9vYmFy", "foobar"},
                          {"Zg", "f"}, {"Zm8", "fo"}}) {
    ASSERT_TRUE(text::base64_decode(enc, out)) << enc;
    EXPECT_EQ(as_chars(out), dec);
  }
}

TEST(base64, refuses_non_canonical_and_malformed_text) {
  bytes out;
  for (auto bad : {"Zh==",    // trailing bits not zero
                   "Z===",    // three pad characters
                   "Zm9=v",   // padding in the middle
                   "Zm9v Yg", // a space
                   "Zm9v-_",  // the URL alphabet
                   "Z",       // one character cannot encode a byte
                   "Zm8==",   // more padding than the length needs
                   "Zm9vY"}) {
    EXPECT_FALSE(text::base64_decode(bad, out)) << bad;
  }
}

TEST(text_fields, next_field_splits_on_blanks_and_trim_drops_line_ends) {
  std::string_view s = "  ssh-ed25519\tAAAA  comment here\r\n";
  s = text::trim(s);
  EXPECT_EQ(text::next_field(s), "ssh-ed25519");
  EXPECT_EQ(text::next_field(s), "AAAA");
  EXPECT_EQ(text::trim(s), "comment here");
  EXPECT_TRUE(text::iequals("MLSD", "mlsd"));
  EXPECT_FALSE(text::iequals("MLSD", "MLST"));
}
