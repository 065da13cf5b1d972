// The SCP source (scp -f, and an uploading client): records in order, waits for each ack, and
// turns 1/2 acks into typed errors carrying the peer's message.
#include "harness.hpp"

#include <gtest/gtest.h>

using namespace ferry;
using namespace ferry::test_scp;
using E = ferry::scp::errc;

namespace {

struct source_run {
  std::string sent;
  std::vector<std::string> events;
  error_code failed;
  bool done = false;
};

// Drives the source against a scripted peer: `acks` is everything the sink answers, fed as the
// source asks for it. Files' contents are their name repeated to their size.
source_run run_source(source& src, std::string_view acks) {
  source_run run;
  byte_view in = as_bytes(acks);
  for (int guard = 0; guard < 100000; ++guard) {
    auto a = src.next(in);
    using k = source_action::kind;
    switch (a.type) {
      case k::need_more:
        run.events.push_back("need_more");
        return run;
      case k::need_entries:
        run.events.push_back("need_entries");
        return run;
      case k::send: run.sent += as_chars(a.data); break;
      case k::send_file: {
        std::string body;
        while (body.size() < a.size) body += std::string{a.name};
        body.resize(a.size);
        run.sent += body;
        run.events.push_back("file " + std::string{a.name});
        src.file_sent();
        break;
      }
      case k::warning:
        run.events.push_back("warning " + std::string{a.name} + ": " + std::string{a.message} +
                             (a.skip_directory ? " (skip)" : ""));
        break;
      case k::done: run.done = true; return run;
      case k::failed:
        run.failed = a.ec;
        run.events.push_back("failed " + std::string{a.message});
        return run;
    }
  }
  ADD_FAILURE() << "source did not settle";
  return run;
}

}  // namespace

TEST(scp_source, waits_for_the_sinks_first_ack_before_sending) {
  source src;
  src.add(source_entry::file("a", 0644, 1));
  src.close();
  auto run = run_source(src, "");
  EXPECT_TRUE(run.sent.empty());
  EXPECT_EQ(run.events.back(), "need_more");
}

TEST(scp_source, sends_golden_records_and_file_bytes_between_acks) {
  source src{source_options{true}};
  src.add(source_entry::file("a", 0644, 3, times_record{100, 0, 200, 0}));
  src.add(source_entry::directory("d", 0755));
  src.add(source_entry::file("b", 0600, 0));
  src.add(source_entry::end_directory());
  src.close();
  // Acks: start, T, C, after data, D, C(b), after data, E.
  auto run = run_source(src, std::string(8, '\0'));
  EXPECT_FALSE(run.failed);
  EXPECT_TRUE(run.done);
  EXPECT_EQ(run.sent, "T100 0 200 0\nC0644 3 a\naaa" + nul() + "D0755 0 d\nC0600 0 b\n" + nul() +
                          "E\n");
}

TEST(scp_source, stops_at_each_ack_it_has_not_received) {
  source src;
  src.add(source_entry::file("a", 0644, 1));
  src.close();
  auto run = run_source(src, nul());
  EXPECT_EQ(run.sent, "C0644 1 a\n");
  EXPECT_EQ(run.events.back(), "need_more");
  run = run_source(src, nul());
  EXPECT_EQ(run.sent, "a" + nul());
  run = run_source(src, nul());
  EXPECT_TRUE(run.done);
}

TEST(scp_source, a_warning_ack_skips_the_file_with_the_peers_message) {
  source src;
  src.add(source_entry::file("denied", 0644, 5));
  src.add(source_entry::file("ok", 0644, 2));
  src.close();
  auto run = run_source(src, nul() + "\1scp: denied: Permission denied\n" + nul() + nul());
  EXPECT_FALSE(run.failed);
  EXPECT_TRUE(run.done);
  EXPECT_EQ(run.events[0], "warning denied: scp: denied: Permission denied");
  EXPECT_EQ(run.sent, "C0644 5 denied\nC0644 2 ok\nok" + nul());  // no bytes of "denied"
}

TEST(scp_source, a_warning_ack_to_a_directory_skips_everything_inside_it) {
  source src;
  src.add(source_entry::directory("locked", 0755));
  src.add(source_entry::file("inner", 0644, 1));
  src.add(source_entry::directory("sub", 0755));
  src.add(source_entry::end_directory());
  src.add(source_entry::end_directory());
  src.add(source_entry::file("after", 0644, 1));
  src.close();
  auto run = run_source(src, nul() + "\1no\n" + nul() + nul());
  EXPECT_TRUE(run.done);
  EXPECT_EQ(run.events[0], "warning locked: no (skip)");
  EXPECT_EQ(run.sent, "D0755 0 locked\nC0644 1 after\na" + nul());
}

TEST(scp_source, a_fatal_ack_is_a_typed_error_with_the_message) {
  source src;
  src.add(source_entry::file("a", 0644, 1));
  src.close();
  auto run = run_source(src, nul() + "\2scp: disk full\n");
  EXPECT_EQ(run.failed, E::peer_error);
  EXPECT_EQ(run.events.back(), "failed scp: disk full");
}

TEST(scp_source, a_byte_that_is_not_an_ack_is_refused) {
  source src;
  src.add(source_entry::file("a", 0644, 1));
  src.close();
  auto run = run_source(src, "C");
  EXPECT_EQ(run.failed, E::bad_ack);
}

TEST(scp_source, a_read_error_is_reported_after_the_padded_data) {
  source src;
  src.add(source_entry::file("f", 0644, 2));
  src.close();
  byte_view in;
  std::string start = nul() + nul();
  in = as_bytes(start);
  auto a = src.next(in);  // C record
  ASSERT_EQ(a.type, source_action::kind::send);
  a = src.next(in);
  ASSERT_EQ(a.type, source_action::kind::send_file);
  src.file_sent(make_error_code(boost::system::errc::io_error), "Input/output error");
  a = src.next(in);
  ASSERT_EQ(a.type, source_action::kind::send);
  EXPECT_EQ(as_chars(a.data), "\1scp: f: Input/output error\n");
}

TEST(scp_source, entries_it_cannot_describe_are_refused_before_sending) {
  for (auto e : {source_entry::file("a/b", 0644, 1), source_entry::file("..", 0644, 1),
                 source_entry::file("", 0644, 1), source_entry::directory(".", 0755),
                 source_entry::file("m", 010000, 1), source_entry::end_directory()}) {
    source src;
    src.add(e);
    src.close();
    auto run = run_source(src, nul());
    EXPECT_EQ(run.failed, E::bad_entry) << e.name;
    EXPECT_TRUE(run.sent.empty()) << e.name;
  }
}

TEST(scp_source, asks_for_entries_until_closed) {
  source src;
  auto run = run_source(src, nul());
  EXPECT_EQ(run.events.back(), "need_entries");
  src.add(source_entry::file("a", 0644, 0));
  run = run_source(src, nul() + nul());
  EXPECT_EQ(run.events.back(), "need_entries");
  src.close();
  run = run_source(src, "");
  EXPECT_TRUE(run.done);
}

TEST(scp_source, a_directory_left_open_at_the_end_is_refused) {
  source src;
  src.add(source_entry::directory("d", 0755));
  src.close();
  auto run = run_source(src, nul() + nul());
  EXPECT_EQ(run.sent, "D0755 0 d\n");
  EXPECT_EQ(run.failed, E::bad_entry);
  EXPECT_FALSE(run.done);
}

TEST(scp_source, an_entry_that_cannot_be_sent_is_a_warning_line_with_no_ack_awaited) {
  // scp.c source(): run_err("%s: %s", name, strerror(errno)) and on to the next argument.
  source src;
  src.add(source_entry::error("missing: No such file or directory"));
  src.add(source_entry::file("a", 0644, 1));
  src.close();
  auto run = run_source(src, nul() + nul() + nul());
  EXPECT_FALSE(run.failed);
  EXPECT_TRUE(run.done);
  EXPECT_EQ(run.sent, "\1scp: missing: No such file or directory\nC0644 1 a\na" + nul());
}

TEST(scp_source, a_refusal_of_the_start_ends_the_copy) {
  // scp.c toremote(): the sink refused to start (-d and the target is not a directory).
  source src;
  src.add(source_entry::file("a", 0644, 1));
  src.close();
  auto run = run_source(src, "\1scp: x: Not a directory\n");
  EXPECT_EQ(run.failed, E::peer_error);
  EXPECT_EQ(run.events.back(), "failed scp: x: Not a directory");
  EXPECT_TRUE(run.sent.empty());
}
