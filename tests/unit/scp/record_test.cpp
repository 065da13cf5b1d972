// SCP records (OpenSSH scp.c): golden lines, round trips and every refusal of the strict parser.
#include <ferry/scp/proto/record.hpp>

#include <gtest/gtest.h>

using namespace ferry;
using namespace ferry::scp::proto;
using E = ferry::scp::errc;

namespace {

std::string format(const record& r) {
  std::string out;
  EXPECT_FALSE(format_record(r, out));
  return out;
}

error_code parse(std::string_view line) {
  record r;
  return parse_record(line, r);
}

}  // namespace

TEST(scp_record, formats_golden_lines_as_openssh_sends_them) {
  EXPECT_EQ(format(file_record{0644, 1234, "notes.txt"}), "C0644 1234 notes.txt\n");
  EXPECT_EQ(format(file_record{04755, 0, "x"}), "C4755 0 x\n");
  EXPECT_EQ(format(directory_record{0755, "dir"}), "D0755 0 dir\n");
  EXPECT_EQ(format(end_directory_record{}), "E\n");
  EXPECT_EQ(format(times_record{1700000000, 0, 1700000001, 0}), "T1700000000 0 1700000001 0\n");
  EXPECT_EQ(format(file_record{0, 7, "a b"}), "C0000 7 a b\n");
}

TEST(scp_record, parses_what_it_formats) {
  for (record r : {record{file_record{0600, 18446744073709551615ull >> 1, "big file"}},
                   record{directory_record{01777, "tmp"}}, record{end_directory_record{}},
                   record{times_record{0, 999999, 253402300799, 5}}}) {
    auto line = format(r);
    ASSERT_EQ(line.back(), '\n');
    record back;
    ASSERT_FALSE(parse_record(std::string_view{line}.substr(0, line.size() - 1), back)) << line;
    EXPECT_EQ(back, r) << line;
  }
}

TEST(scp_record, names_that_could_leave_the_target_are_refused) {
  EXPECT_EQ(parse("C0644 1 "), E::bad_name);
  EXPECT_EQ(parse("C0644 1 ."), E::bad_name);
  EXPECT_EQ(parse("C0644 1 .."), E::bad_name);
  EXPECT_EQ(parse("C0644 1 ../x"), E::bad_name);
  EXPECT_EQ(parse("C0644 1 /etc/passwd"), E::bad_name);
  EXPECT_EQ(parse("C0644 1 a/b"), E::bad_name);
  EXPECT_EQ(parse(std::string_view{"C0644 1 a\0b", 11}), E::bad_name);
  EXPECT_EQ(parse("D0555 0 ."), E::bad_name);
  EXPECT_EQ(parse("D0755 0 .."), E::bad_name);
  EXPECT_EQ(parse("C0644 1 " + std::string(256, 'n')), E::bad_name);
  EXPECT_FALSE(parse("C0644 1 " + std::string(255, 'n')));
  EXPECT_FALSE(parse("C0644 1 ..."));  // an ordinary name
  EXPECT_FALSE(parse("C0644 1 .hidden"));
}

TEST(scp_record, modes_must_be_exactly_four_octal_digits) {
  EXPECT_EQ(parse("C644 1 a"), E::bad_mode);
  EXPECT_EQ(parse("C00644 1 a"), E::bad_mode);
  EXPECT_EQ(parse("C0648 1 a"), E::bad_mode);
  EXPECT_EQ(parse("C+644 1 a"), E::bad_mode);
  EXPECT_EQ(parse("C 0644 1 a"), E::bad_mode);
  EXPECT_EQ(parse("D07777"), E::bad_mode);
  EXPECT_FALSE(parse("C7777 1 a"));
  std::string out;
  EXPECT_EQ(format_record(file_record{010000, 1, "a"}, out), E::bad_mode);
  EXPECT_TRUE(out.empty());
}

TEST(scp_record, sizes_must_be_decimal_and_bounded) {
  EXPECT_EQ(parse("C0644 -1 a"), E::bad_size);
  EXPECT_EQ(parse("C0644 +1 a"), E::bad_size);
  EXPECT_EQ(parse("C0644 0x10 a"), E::bad_size);
  EXPECT_EQ(parse("C0644  1 a"), E::bad_size);
  EXPECT_EQ(parse("C0644 1"), E::bad_size);
  EXPECT_EQ(parse("C0644 a"), E::bad_size);
  EXPECT_EQ(parse("C0644 9223372036854775808 a"), E::bad_size);  // 2^63
  EXPECT_EQ(parse("C0644 99999999999999999999999 a"), E::bad_size);
  EXPECT_FALSE(parse("C0644 9223372036854775807 a"));
  EXPECT_FALSE(parse("C0644 007 a"));
}

TEST(scp_record, times_must_be_four_decimal_fields_in_range) {
  EXPECT_FALSE(parse("T1 0 2 0"));
  EXPECT_EQ(parse("T1 0 2"), E::bad_time);
  EXPECT_EQ(parse("T1 0 2 0 "), E::bad_time);
  EXPECT_EQ(parse("T1 1000000 2 0"), E::bad_time);  // microseconds
  EXPECT_EQ(parse("T253402300800 0 2 0"), E::bad_time);
  EXPECT_EQ(parse("T-1 0 2 0"), E::bad_time);
  EXPECT_EQ(parse("T1 0 2 0x"), E::bad_time);
  EXPECT_EQ(parse("T"), E::bad_time);
}

TEST(scp_record, other_lines_are_not_records) {
  EXPECT_EQ(parse(""), E::bad_record);
  EXPECT_EQ(parse("X0644 1 a"), E::bad_record);
  EXPECT_EQ(parse("E "), E::bad_record);
  EXPECT_EQ(parse("c0644 1 a"), E::bad_record);
  EXPECT_EQ(parse("C0644 1 " + std::string(3000, 'a')), E::line_too_long);
}

TEST(scp_record, the_line_reader_stops_at_the_newline_and_caps_the_line) {
  line_reader lr;
  std::string stream = "E\nC0644 3 a\nabc";
  byte_view in = as_bytes(stream);
  std::string_view line;
  error_code ec;
  ASSERT_EQ(lr.next(in, line, ec), line_reader::result::line);
  EXPECT_EQ(line, "E");
  ASSERT_EQ(lr.next(in, line, ec), line_reader::result::line);
  EXPECT_EQ(line, "C0644 3 a");
  EXPECT_EQ(as_chars(in), "abc");  // file data stays for the caller

  line_reader big;
  std::string longline(limits::scp_max_line, 'x');
  byte_view in2 = as_bytes(longline);
  EXPECT_EQ(big.next(in2, line, ec), line_reader::result::failed);
  EXPECT_EQ(ec, E::line_too_long);
  // A line of exactly the cap (newline included) is fine.
  line_reader ok;
  std::string fits(limits::scp_max_line - 1, 'x');
  fits += '\n';
  byte_view in3 = as_bytes(fits);
  EXPECT_EQ(ok.next(in3, line, ec), line_reader::result::line);
}

TEST(scp_record, acks_are_a_zero_byte_or_a_message_line) {
  ack_reader ar;
  std::string stream = std::string("\0", 1) + "\1scp: a: denied\n" + "\2fatal\n" + "x";
  byte_view in = as_bytes(stream);
  std::string_view msg;
  error_code ec;
  EXPECT_EQ(ar.next(in, msg, ec), ack_reader::result::ok);
  EXPECT_EQ(ar.next(in, msg, ec), ack_reader::result::warning);
  EXPECT_EQ(msg, "scp: a: denied");
  EXPECT_EQ(ar.next(in, msg, ec), ack_reader::result::fatal);
  EXPECT_EQ(msg, "fatal");
  EXPECT_EQ(ar.next(in, msg, ec), ack_reader::result::failed);
  EXPECT_EQ(ec, E::bad_ack);
}

TEST(scp_record, error_acks_are_one_line_whatever_the_message) {
  std::string out;
  format_error_ack(true, "bad\nthing", out);
  EXPECT_EQ(out, "\2bad thing\n");
  out.clear();
  format_error_ack(false, std::string(5000, 'm'), out);
  EXPECT_EQ(out.size(), limits::scp_max_line);
  EXPECT_EQ(out.front(), '\1');
  EXPECT_EQ(out.back(), '\n');
}
