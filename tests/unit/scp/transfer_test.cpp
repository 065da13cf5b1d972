// A whole recursive transfer (scp -rp) with a source and a sink wired back to back, record by
// record, and the same with a sink that refuses one entry.
#include "harness.hpp"

#include <gtest/gtest.h>

using namespace ferry;
using namespace ferry::test_scp;

namespace {

struct wired {
  source src;
  sink snk;
  memory_target target;
  std::map<std::string, std::string> contents;  // what the source sends for each file name
  std::vector<std::string> log;
  std::vector<std::string> source_warnings;
  error_code source_failed;
  error_code sink_failed;
  bool source_done = false;
};

// Alternates between the two machines, moving bytes both ways, until neither can progress.
void run(wired& w, std::size_t chunk) {
  std::string to_sink, to_source;
  std::size_t sink_at = 0, source_at = 0;
  byte_view source_in;
  for (int guard = 0; guard < 100000; ++guard) {
    bool progressed = false;
    // Source side.
    while (!w.source_done && !w.source_failed) {
      auto a = w.src.next(source_in);
      using k = source_action::kind;
      if (a.type == k::need_more) {
        if (source_at == to_source.size()) break;
        source_in = as_bytes(std::string_view{to_source}.substr(source_at, chunk));
        source_at += source_in.size();
        continue;
      }
      progressed = true;
      if (a.type == k::send) to_sink += as_chars(a.data);
      if (a.type == k::send_file) {
        to_sink += w.contents.at(std::string{a.name});
        w.src.file_sent();
      }
      if (a.type == k::warning) w.source_warnings.emplace_back(a.message);
      if (a.type == k::done) w.source_done = true;
      if (a.type == k::failed) w.source_failed = a.ec;
      if (a.type == k::need_entries) ADD_FAILURE();
    }
    // Sink side: run_sink on the bytes not yet given to it.
    if (!w.sink_failed && sink_at < to_sink.size()) {
      auto part = std::string_view{to_sink}.substr(sink_at);
      sink_at = to_sink.size();
      auto r = run_sink(w.snk, part, w.target, chunk);
      w.log.insert(w.log.end(), r.log.begin(), r.log.end());
      to_source += r.sent;
      if (r.failed) w.sink_failed = r.failed;
      progressed = true;
    } else if (guard == 0) {
      auto r = run_sink(w.snk, "", w.target, chunk);  // the sink's first 0
      to_source += r.sent;
      progressed = true;
    }
    if (!progressed && source_at == to_source.size()) return;
  }
}

void add_tree(wired& w) {
  // top/
  //   a.txt        "hello"
  //   empty/
  //   sub/
  //     b.bin      3 bytes
  // c.txt          "last"
  w.src.add(source_entry::directory("top", 0750, times_record{1000, 0, 1001, 0}));
  w.src.add(source_entry::file("a.txt", 0640, 5, times_record{2000, 0, 2001, 0}));
  w.src.add(source_entry::directory("empty", 0700));
  w.src.add(source_entry::end_directory());
  w.src.add(source_entry::directory("sub", 0755));
  w.src.add(source_entry::file("b.bin", 0600, 3));
  w.src.add(source_entry::end_directory());
  w.src.add(source_entry::end_directory());
  w.src.add(source_entry::file("c.txt", 0644, 4));
  w.src.close();
  w.contents = {{"a.txt", "hello"}, {"b.bin", std::string("\0\1\n", 3)}, {"c.txt", "last"}};
}

}  // namespace

TEST(scp_transfer, a_recursive_preserving_copy_arrives_whole) {
  for (std::size_t chunk : {1, 3, 64, 4096}) {
    wired w{source{source_options{true}}, sink{opt("rpD")}, {}, {}, {}, {}, {}, {}, false};
    add_tree(w);
    run(w, chunk);
    EXPECT_FALSE(w.source_failed) << chunk;
    EXPECT_FALSE(w.sink_failed) << chunk;
    EXPECT_TRUE(w.source_done) << chunk;
    EXPECT_FALSE(w.snk.finish()) << chunk;
    EXPECT_EQ(w.target.files, (std::map<std::string, std::string>{
                                  {"top/a.txt", "hello"},
                                  {"top/sub/b.bin", std::string("\0\1\n", 3)},
                                  {"c.txt", "last"}}));
    EXPECT_EQ(w.target.dirs, (std::set<std::string>{"top", "top/empty", "top/sub"}));
    EXPECT_EQ(w.target.modes["top"], 0750u);
    EXPECT_EQ(w.target.modes["top/a.txt"], 0640u);
    EXPECT_EQ(w.target.times["top"].mtime, 1000u);  // applied when leaving the directory
    EXPECT_EQ(w.target.times["top/a.txt"].atime, 2001u);
    EXPECT_EQ(w.log, (std::vector<std::string>{"mkdir top", "open top/a.txt", "close top/a.txt",
                                                "mkdir top/empty", "leave top/empty",
                                                "mkdir top/sub", "open top/sub/b.bin",
                                                "close top/sub/b.bin", "leave top/sub",
                                                "leave top", "open c.txt", "close c.txt"}));
  }
}

TEST(scp_transfer, an_entry_the_sink_cannot_create_is_skipped_and_the_rest_arrives) {
  wired w{source{source_options{true}}, sink{opt("rpD")}, {}, {}, {}, {}, {}, {}, false};
  add_tree(w);
  w.target.fail_open = {"sub", "a.txt"};
  run(w, 7);
  EXPECT_FALSE(w.source_failed);
  EXPECT_FALSE(w.sink_failed);
  EXPECT_TRUE(w.source_done);
  EXPECT_FALSE(w.snk.finish());
  EXPECT_EQ(w.target.files, (std::map<std::string, std::string>{{"c.txt", "last"}}));
  EXPECT_EQ(w.target.dirs, (std::set<std::string>{"top", "top/empty"}));
  ASSERT_EQ(w.source_warnings.size(), 2u);
  EXPECT_EQ(w.source_warnings[0], "scp: a.txt: Permission denied");
  EXPECT_EQ(w.source_warnings[1], "scp: sub: Permission denied");
}
