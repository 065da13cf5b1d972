#include <ferry/cli/progress.hpp>

#include <gtest/gtest.h>

using namespace ferry::cli;
using namespace std::chrono_literals;

TEST(cli_progress, sizes_keep_four_digits_like_openssh) {
  EXPECT_EQ(format_size(0), "   0B");
  EXPECT_EQ(format_size(999), " 999B");
  EXPECT_EQ(format_size(9999), "9999B");
  EXPECT_EQ(format_size(10000), "  10KB");
  EXPECT_EQ(format_size(1023 * 1024), "1023KB");
  EXPECT_EQ(format_size(57 * 1024 * 1024), "  57MB");
  EXPECT_EQ(format_size(1024ull * 1024 * 1024), "1024MB");
  EXPECT_EQ(format_size(100ull * 1024 * 1024 * 1024), " 100GB");
}

TEST(cli_progress, rates_and_durations) {
  EXPECT_EQ(format_rate(0), "  0.0B/s");
  EXPECT_EQ(format_rate(-5), "  0.0B/s");
  EXPECT_EQ(format_rate(512), "512.0B/s");
  EXPECT_EQ(format_rate(229.4 * 1024 * 1024), "229.4MB/s");
  EXPECT_EQ(format_rate(1.1 * 1024 * 1024 * 1024), "  1.1GB/s");
  EXPECT_EQ(format_duration(0s), "00:00");
  EXPECT_EQ(format_duration(62s), "01:02");
  EXPECT_EQ(format_duration(3723s), "01:02:03");
  EXPECT_EQ(format_duration(std::chrono::seconds(1000000)), "99:59:59");
}

TEST(cli_progress, line_has_name_percent_bytes_rate_and_eta) {
  progress_snapshot s;
  s.name = "big.iso";
  s.done = 512ull * 1024 * 1024;
  s.total = 1024ull * 1024 * 1024;
  s.bytes_per_second = 256.0 * 1024 * 1024;
  auto line = format_progress_line(s, 80);
  EXPECT_EQ(line.size(), 80u);
  EXPECT_EQ(line.rfind("big.iso ", 0), 0u);
  EXPECT_NE(line.find(" 50%  512MB 256.0MB/s   00:02 ETA"), std::string::npos) << line;
}

TEST(cli_progress, finished_line_shows_elapsed_time_and_unknown_total_has_no_percent) {
  progress_snapshot s;
  s.name = "f";
  s.done = 100;
  s.total = 100;
  s.finished = true;
  s.elapsed = 75s;
  auto line = format_progress_line(s, 60);
  EXPECT_EQ(line.size(), 60u);
  EXPECT_NE(line.find("100%  100B"), std::string::npos) << line;
  EXPECT_NE(line.find("01:15    "), std::string::npos) << line;
  EXPECT_EQ(line.find("ETA"), std::string::npos);
  s.total.reset();
  s.finished = false;
  line = format_progress_line(s, 60);
  EXPECT_EQ(line.find('%'), std::string::npos) << line;
  EXPECT_NE(line.find("--:-- ETA"), std::string::npos) << line;
  // An empty file is complete.
  s.total = 0;
  s.done = 0;
  EXPECT_NE(format_progress_line(s, 60).find("100%"), std::string::npos);
}

TEST(cli_progress, long_names_are_cut_at_the_front_and_width_has_a_floor) {
  progress_snapshot s;
  std::string name(200, 'x');
  name += "tail.bin";
  s.name = name;
  s.total = 10;
  auto line = format_progress_line(s, 80);
  EXPECT_EQ(line.size(), 80u);
  EXPECT_EQ(line.rfind("..", 0), 0u);
  EXPECT_NE(line.find("tail.bin "), std::string::npos);
  EXPECT_EQ(format_progress_line(s, 5).size(), 40u);
}

TEST(cli_progress, meter_throttles_redraws_and_counts_resume_offset_for_percent_only) {
  auto t0 = progress_meter::clock::time_point{} + 100s;
  progress_meter m{"f.bin", 2000, 1000, t0, 250ms};
  auto first = m.update(0, t0);
  ASSERT_TRUE(first);
  EXPECT_NE(first->find(" 50% "), std::string::npos) << *first;
  EXPECT_FALSE(m.update(100, t0 + 100ms));  // too soon
  auto later = m.update(500, t0 + 1s);
  ASSERT_TRUE(later);
  EXPECT_NE(later->find(" 75% "), std::string::npos) << *later;
  EXPECT_NE(later->find("500.0B/s"), std::string::npos) << *later;  // 500 bytes in 1 s
  auto done = m.finish(1000, t0 + 2s);
  EXPECT_NE(done.find("100% 2000B 500.0B/s   00:02    "), std::string::npos) << done;
}
