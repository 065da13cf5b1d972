// Streams recorded from OpenSSH 9.2's scp -O (through a tee standing in for ssh): an upload of a
// small tree with -r -p, where the remote end ran `scp -r -p -t`, and a download of one file with
// -p, where the remote end ran `scp -p -f`. The sink must accept them and answer exactly as
// OpenSSH's sink did; the source must produce the same bytes OpenSSH's source did.
#include "harness.hpp"

#include <gtest/gtest.h>

using namespace ferry;
using namespace ferry::test_scp;

namespace {

const std::string upload_stream = std::string(
    "T1795273141 0 1795273141 0\n"
    "D0755 0 src\n"
    "T1795273141 0 1795273141 0\n"
    "D0755 0 sub\n"
    "T1795273141 0 1795273141 0\n"
    "C0644 3 b.bin\n"
    "abc\0"
    "T1795273141 0 1795273141 0\n"
    "C0644 0 empty\n"
    "\0"
    "E\n"
    "T1577934245 0 1577934245 0\n"
    "C0644 10 a.txt\n"
    "hello scp\n\0"
    "E\n",
    222);

// What OpenSSH's `scp -t` answered to it: one 0 byte per step.
const std::string upload_acks(16, '\0');

const std::string download_stream = std::string(
    "T1577934245 0 1795273141 0\n"
    "C0644 10 a.txt\n"
    "hello scp\n\0",
    53);

}  // namespace

TEST(scp_openssh, the_sink_accepts_an_openssh_upload_and_acks_as_openssh_does) {
  sink s{opt("rpD")};
  memory_target t;
  auto run = run_sink(s, upload_stream, t);
  EXPECT_FALSE(run.failed);
  EXPECT_FALSE(s.finish());
  EXPECT_EQ(run.sent, upload_acks);
  EXPECT_EQ(t.files, (std::map<std::string, std::string>{{"src/sub/b.bin", "abc"},
                                                          {"src/sub/empty", ""},
                                                          {"src/a.txt", "hello scp\n"}}));
  EXPECT_EQ(t.times["src/a.txt"].mtime, 1577934245u);
  EXPECT_EQ(t.times["src"].mtime, 1795273141u);
}

TEST(scp_openssh, the_source_sends_the_same_bytes_as_openssh_for_the_same_tree) {
  source src{source_options{true}};
  times_record now{1795273141, 0, 1795273141, 0};
  src.add(source_entry::directory("src", 0755, now));
  src.add(source_entry::directory("sub", 0755, now));
  src.add(source_entry::file("b.bin", 0644, 3, now));
  src.add(source_entry::file("empty", 0644, 0, now));
  src.add(source_entry::end_directory());
  src.add(source_entry::file("a.txt", 0644, 10, times_record{1577934245, 0, 1577934245, 0}));
  src.add(source_entry::end_directory());
  src.close();
  std::map<std::string, std::string> contents{{"b.bin", "abc"}, {"empty", ""},
                                              {"a.txt", "hello scp\n"}};
  std::string sent;
  byte_view in = as_bytes(upload_acks);
  for (int guard = 0; guard < 1000; ++guard) {
    auto a = src.next(in);
    if (a.type == source_action::kind::send) sent += as_chars(a.data);
    else if (a.type == source_action::kind::send_file) {
      sent += contents.at(std::string{a.name});
      src.file_sent();
    } else {
      EXPECT_EQ(a.type, source_action::kind::done);
      break;
    }
  }
  EXPECT_EQ(sent, upload_stream);
}

TEST(scp_openssh, a_downloading_client_accepts_the_file_it_asked_for) {
  sink s{opt("pD", "a.txt")};
  memory_target t;
  auto run = run_sink(s, download_stream, t);
  EXPECT_FALSE(run.failed);
  EXPECT_FALSE(s.finish());
  EXPECT_EQ(t.files["a.txt"], "hello scp\n");
  EXPECT_EQ(t.times["a.txt"].atime, 1795273141u);
  EXPECT_EQ(run.sent, std::string(4, '\0'));  // start, T, C, after the data (as recorded)
}
