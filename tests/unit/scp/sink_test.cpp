// The SCP sink (scp -t, and a downloading client): what it creates, what it acknowledges, and
// every record it must refuse, including hostile servers aimed at a downloading client.
#include "harness.hpp"

#include <gtest/gtest.h>

using namespace ferry;
using namespace ferry::test_scp;
using E = ferry::scp::errc;

TEST(scp_sink, receives_one_file_and_acknowledges_each_step) {
  sink s{opt("")};
  memory_target t;
  auto run = run_sink(s, "C0644 5 a.txt\nhello" + nul(), t);
  EXPECT_FALSE(run.failed);
  EXPECT_EQ(t.files["a.txt"], "hello");
  EXPECT_EQ(t.modes["a.txt"], 0644u);
  // Start, after the C record, after the data.
  EXPECT_EQ(run.sent, nul() + nul() + nul());
  EXPECT_FALSE(s.finish());
}

TEST(scp_sink, gives_the_same_result_fed_byte_by_byte) {
  std::string script = "C0600 3 x\nabc" + nul() + "C0644 0 empty\n" + nul();
  for (std::size_t chunk : {1, 2, 5, 100}) {
    sink s{opt("D")};
    memory_target t;
    auto run = run_sink(s, script, t, chunk);
    EXPECT_FALSE(run.failed) << chunk;
    EXPECT_EQ(t.files["x"], "abc");
    EXPECT_EQ(t.files.count("empty"), 1u);
    EXPECT_EQ(run.sent, std::string(5, '\0'));
    EXPECT_FALSE(s.finish());
  }
}

TEST(scp_sink, preserves_times_and_full_modes_only_with_p) {
  sink s{opt("p")};
  memory_target t;
  auto run = run_sink(s, "T100 0 200 0\nC4755 1 f\nx" + nul(), t);
  EXPECT_FALSE(run.failed);
  EXPECT_EQ(t.modes["f"], 04755u);
  EXPECT_EQ(t.times["f"].mtime, 100u);
  EXPECT_EQ(t.times["f"].atime, 200u);

  sink plain{opt("")};
  memory_target t2;
  run = run_sink(plain, "C4755 1 f\nx" + nul(), t2);
  EXPECT_EQ(t2.modes["f"], 0755u);  // no setuid from the peer without -p
}

TEST(scp_sink, refuses_a_t_record_without_p) {
  sink s{opt("")};
  memory_target t;
  auto run = run_sink(s, "T100 0 200 0\nC0644 1 f\nx" + nul(), t);
  EXPECT_EQ(run.failed, E::unexpected_record);
  EXPECT_TRUE(t.files.empty());
  // The peer is told, fatally, after the initial 0.
  EXPECT_EQ(run.sent, nul() + "\2scp: protocol error: unexpected SCP record\n");
}

TEST(scp_sink, refuses_a_t_record_not_followed_by_c_or_d) {
  sink s{opt("rp")};
  memory_target t;
  auto run = run_sink(s, "D0755 0 d\nT1 0 1 0\nE\n", t);
  EXPECT_EQ(run.failed, E::unexpected_record);
  sink s2{opt("p")};
  run = run_sink(s2, "T1 0 1 0\nT1 0 1 0\n", t);
  EXPECT_EQ(run.failed, E::unexpected_record);
}

TEST(scp_sink, refuses_a_d_record_without_r) {
  sink s{opt("")};
  memory_target t;
  auto run = run_sink(s, "D0755 0 dir\n", t);
  EXPECT_EQ(run.failed, E::unexpected_record);
  EXPECT_TRUE(t.dirs.empty());
}

TEST(scp_sink, refuses_an_e_record_at_depth_zero) {
  sink s{opt("r")};
  memory_target t;
  auto run = run_sink(s, "E\n", t);
  EXPECT_EQ(run.failed, E::unexpected_record);
}

TEST(scp_sink, refuses_file_data_longer_than_declared) {
  sink s{opt("")};
  memory_target t;
  auto run = run_sink(s, "C0644 3 f\nabcdef\n", t);
  EXPECT_EQ(run.failed, E::bad_ack);
  EXPECT_EQ(t.files["f"], "abc");  // exactly the declared size was written, nothing more
}

TEST(scp_sink, refuses_to_start_when_the_target_must_be_a_directory_and_is_not) {
  sink s{opt("d")};
  memory_target t;
  auto run = run_sink(s, "C0644 1 f\nx" + nul(), t);
  EXPECT_EQ(run.failed, E::target_not_directory);
  EXPECT_TRUE(t.files.empty());
  EXPECT_EQ(run.sent, "\2scp: SCP target is not a directory\n");
  sink ok{opt("dD")};
  EXPECT_FALSE(run_sink(ok, "C0644 1 f\nx" + nul(), t).failed);
}

TEST(scp_sink, a_failed_open_is_a_warning_to_the_peer_and_the_transfer_goes_on) {
  sink s{opt("")};
  memory_target t;
  t.fail_open = {"locked"};
  // The source skips a refused file's data (scp.c source(): response() < 0 -> next).
  auto run = run_sink(s, "C0644 3 locked\nC0644 2 ok\nhi" + nul(), t);
  EXPECT_FALSE(run.failed);
  EXPECT_EQ(t.files.count("locked"), 0u);
  EXPECT_EQ(t.files["ok"], "hi");
  EXPECT_EQ(run.sent.substr(0, 2), nul() + "\1");
  EXPECT_NE(run.sent.find("scp: locked: Permission denied\n"), std::string::npos);
}

TEST(scp_sink, a_warning_from_the_source_is_reported_and_the_transfer_goes_on) {
  sink s{opt("")};
  memory_target t;
  auto run = run_sink(s, "\1scp: secret: Permission denied\nC0644 1 f\nx" + nul(), t);
  EXPECT_FALSE(run.failed);
  ASSERT_EQ(run.warnings.size(), 1u);
  EXPECT_EQ(run.warnings[0], "scp: secret: Permission denied");
  EXPECT_EQ(t.files["f"], "x");
}

TEST(scp_sink, a_read_error_after_the_data_still_closes_the_file) {
  sink s{opt("")};
  memory_target t;
  auto run = run_sink(s, "C0644 2 f\nxx\1scp: f: Input/output error\n", t);
  EXPECT_FALSE(run.failed);
  EXPECT_EQ(run.warnings.size(), 1u);
  EXPECT_EQ(run.log.back(), "close f");
}

TEST(scp_sink, a_fatal_error_from_the_source_ends_the_transfer) {
  sink s{opt("")};
  memory_target t;
  auto run = run_sink(s, "\2scp: gone\n", t);
  EXPECT_EQ(run.failed, E::peer_error);
  EXPECT_EQ(run.sent, nul());  // nothing more is sent to a peer that gave up
}

TEST(scp_sink, eof_inside_a_file_or_a_directory_is_truncation) {
  memory_target t;
  sink mid_file{opt("")};
  run_sink(mid_file, "C0644 5 f\nhel", t);
  EXPECT_EQ(mid_file.finish(), E::truncated);
  sink mid_dir{opt("r")};
  run_sink(mid_dir, "D0755 0 d\n", t);
  EXPECT_EQ(mid_dir.finish(), E::truncated);
  sink mid_line{opt("")};
  run_sink(mid_line, "C06", t);
  EXPECT_EQ(mid_line.finish(), E::truncated);
}

TEST(scp_sink, directories_nest_up_to_the_depth_limit) {
  std::string deep;
  for (std::size_t i = 0; i < limits::scp_max_depth; ++i) deep += "D0755 0 d\n";
  sink s{opt("r")};
  memory_target t;
  EXPECT_FALSE(run_sink(s, deep, t).failed);
  EXPECT_EQ(s.depth(), limits::scp_max_depth);
  sink s2{opt("r")};
  memory_target t2;
  EXPECT_EQ(run_sink(s2, deep + "D0755 0 d\n", t2).failed, E::too_deep);
}

TEST(scp_sink, a_line_without_a_newline_is_capped) {
  sink s{opt("")};
  memory_target t;
  auto run = run_sink(s, "C0644 1 " + std::string(5000, 'a'), t);
  EXPECT_EQ(run.failed, E::line_too_long);
}

// --- hostile servers against a downloading client (scp -O host:file target) ----------------

TEST(scp_sink_client, refuses_absolute_paths) {
  sink s{opt("D", "file")};
  memory_target t;
  auto run = run_sink(s, "C0644 4 /etc/passwd\nroot" + nul(), t);
  EXPECT_EQ(run.failed, E::bad_name);
  EXPECT_TRUE(t.files.empty());
  EXPECT_TRUE(run.log == std::vector<std::string>{"failed"});
}

TEST(scp_sink_client, refuses_parent_directory_escapes) {
  for (std::string rec : {"C0644 1 ../x\n", "C0644 1 ..\n", "D0755 0 ..\n", "C0644 1 a/../../x\n"}) {
    sink s{opt("rD")};
    memory_target t;
    auto run = run_sink(s, rec + "x" + nul(), t);
    EXPECT_EQ(run.failed, E::bad_name) << rec;
    EXPECT_TRUE(t.files.empty() && t.dirs.empty()) << rec;
  }
}

TEST(scp_sink_client, refuses_d0555_dot_and_leaves_the_target_mode_alone) {
  // CVE-2018-20685: "D0555 0 ." would chmod the target directory itself.
  sink s{opt("rD", "dir")};
  memory_target t;
  auto run = run_sink(s, "D0555 0 .\nE\n", t);
  EXPECT_EQ(run.failed, E::bad_name);
  EXPECT_TRUE(t.modes.empty());
  EXPECT_TRUE(t.dirs.empty());
}

TEST(scp_sink_client, refuses_a_name_other_than_the_one_requested) {
  // CVE-2019-6111: the server picks the name.
  sink s{opt("D", "report.pdf")};
  memory_target t;
  auto run = run_sink(s, "C0644 4 .bashrc\nevil" + nul(), t);
  EXPECT_EQ(run.failed, E::unrequested_name);
  EXPECT_TRUE(t.files.empty());
}

TEST(scp_sink_client, refuses_an_unrequested_extra_file) {
  sink s{opt("D", "a")};
  memory_target t;
  auto run = run_sink(s, "C0644 1 a\nx" + nul() + "C0644 4 a\nevil" + nul(), t);
  EXPECT_EQ(run.failed, E::unrequested_name);
  EXPECT_EQ(t.files["a"], "x");  // the requested file arrived, the second one did not
  EXPECT_EQ(t.files.size(), 1u);
}

TEST(scp_sink_client, accepts_any_safe_name_inside_a_requested_directory) {
  sink s{opt("rD", "dir")};
  memory_target t;
  auto run = run_sink(s, "D0755 0 dir\nC0644 1 inner\nx" + nul() + "E\n", t);
  EXPECT_FALSE(run.failed);
  EXPECT_EQ(t.files["dir/inner"], "x");
  EXPECT_FALSE(s.finish());
}

TEST(scp_sink_client, a_download_that_received_nothing_is_not_a_success) {
  sink s{opt("D", "a")};
  memory_target t;
  auto run = run_sink(s, "", t);
  EXPECT_FALSE(run.failed);
  EXPECT_EQ(s.finish(), E::truncated);
}

TEST(scp_sink_client, a_download_answered_by_a_warning_ends_with_that_warning) {
  // scp -f reports a missing source as a warning line and exits: the request was answered.
  sink s{opt("D", "a")};
  memory_target t;
  auto run = run_sink(s, "\1scp: a: No such file or directory\n", t);
  EXPECT_FALSE(run.failed);
  ASSERT_EQ(run.warnings.size(), 1u);
  EXPECT_EQ(run.warnings[0], "scp: a: No such file or directory");
  EXPECT_FALSE(s.finish());
}

TEST(scp_sink_client, several_requested_names_arrive_in_order_each_once) {
  sink_options o = opt("D");
  o.expected_names = {"a", "b", "c"};
  {
    sink s{o};
    memory_target t;
    auto run = run_sink(s, "C0644 1 a\nx" + nul() + "C0644 1 c\ny" + nul(), t);  // b skipped (a warning, say)
    EXPECT_FALSE(run.failed);
    EXPECT_FALSE(s.finish());
    EXPECT_EQ(t.files.size(), 2u);
  }
  {
    sink s{o};
    memory_target t;
    auto run = run_sink(s, "C0644 1 b\nx" + nul() + "C0644 1 a\ny" + nul(), t);  // a after b: out of order
    EXPECT_EQ(run.failed, E::unrequested_name);
    EXPECT_EQ(t.files.size(), 1u);
  }
  {
    sink s{o};
    memory_target t;
    auto run = run_sink(s, "C0644 1 a\nx" + nul() + "C0644 1 a\ny" + nul(), t);  // a twice
    EXPECT_EQ(run.failed, E::unrequested_name);
  }
}
