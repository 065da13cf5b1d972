// The editing state machine of examples/cli/line_editor.hpp, fed bytes as a terminal sends them.
#include "../../../examples/cli/line_editor.hpp"

#include <gtest/gtest.h>

namespace {

using ferry::cli::line_state;
using result = line_state::result;

result feed(line_state& s, std::string_view bytes) {
  result r = result::more;
  for (char c : bytes) r = s.feed(static_cast<unsigned char>(c));
  return r;
}

TEST(LineEditor, TypesAndFinishesOnEnter) {
  line_state s;
  EXPECT_EQ(feed(s, "ls -l"), result::more);
  EXPECT_EQ(feed(s, "\r"), result::done);
  EXPECT_EQ(s.text(), "ls -l");
}

TEST(LineEditor, CursorMovesAndInsertsInTheMiddle) {
  line_state s;
  feed(s, "gt");
  feed(s, "\x1b[D");  // left
  feed(s, "e");
  EXPECT_EQ(s.text(), "get");
  EXPECT_EQ(s.cursor(), 2u);
  feed(s, "\x01X");   // ctrl-a, insert at start
  EXPECT_EQ(s.text(), "Xget");
  feed(s, "\x05!");   // ctrl-e, append
  EXPECT_EQ(s.text(), "Xget!");
  feed(s, "\x1b[H\x1b[3~");  // home, delete
  EXPECT_EQ(s.text(), "get!");
  feed(s, "\x1b[F\x7f");  // end, backspace
  EXPECT_EQ(s.text(), "get");
  feed(s, "\x1b[C\x1b[C\x1b[C\x1b[C");  // right past the end stays at the end
  EXPECT_EQ(s.cursor(), 3u);
}

TEST(LineEditor, KillCommands) {
  line_state s;
  feed(s, "put local remote");
  feed(s, "\x17");  // ctrl-w
  EXPECT_EQ(s.text(), "put local ");
  feed(s, "\x17");
  EXPECT_EQ(s.text(), "put ");
  feed(s, "x y\x02\x02\x0b");  // ctrl-b twice, ctrl-k
  EXPECT_EQ(s.text(), "put x");
  feed(s, "\x15");  // ctrl-u
  EXPECT_EQ(s.text(), "");
}

TEST(LineEditor, HistoryUpAndDownKeepsTheLineBeingTyped) {
  std::vector<std::string> h{"first", "second"};
  line_state s{&h};
  feed(s, "new");
  feed(s, "\x1b[A");
  EXPECT_EQ(s.text(), "second");
  feed(s, "\x1b[A");
  EXPECT_EQ(s.text(), "first");
  feed(s, "\x1b[A");  // past the oldest: stays
  EXPECT_EQ(s.text(), "first");
  feed(s, "\x1b[B\x1b[B");
  EXPECT_EQ(s.text(), "new");
  feed(s, "\x10");  // ctrl-p
  EXPECT_EQ(s.text(), "second");
}

TEST(LineEditor, CtrlDIsEofOnlyOnAnEmptyLineAndCtrlCCancels) {
  line_state s;
  EXPECT_EQ(feed(s, "\x04"), result::eof);
  line_state t;
  feed(t, "ab\x01");
  EXPECT_EQ(feed(t, "\x04"), result::more);
  EXPECT_EQ(t.text(), "b");
  EXPECT_EQ(feed(t, "\x03"), result::cancel);
}

TEST(LineEditor, IgnoresOtherControlBytesAndUnknownSequences) {
  line_state s;
  feed(s, "a\x07\x1b[5~\x1bOZb");
  EXPECT_EQ(s.text(), "ab");
}

TEST(LineEditor, TabAsksForCompletionAndInsertsNothing) {
  line_state s;
  feed(s, "ge");
  EXPECT_EQ(feed(s, "\t"), result::complete);
  EXPECT_EQ(s.text(), "ge");
}

TEST(LineCompletion, WordBeforeCursorUnescapesAndCountsWords) {
  using ferry::cli::word_before_cursor;
  auto w = word_before_cursor("get -p my\\ dir/fi", 18);
  EXPECT_EQ(w.index, 2u);
  EXPECT_EQ(w.text, "my dir/fi");
  EXPECT_EQ(w.start, 7u);
  ASSERT_EQ(w.before.size(), 2u);
  EXPECT_EQ(w.before[0], "get");
  EXPECT_EQ(w.before[1], "-p");
  auto q = word_before_cursor("put 'a b", 8);
  EXPECT_EQ(q.text, "a b");
  EXPECT_EQ(q.start, 4u);
  auto empty = word_before_cursor("cd ", 3);
  EXPECT_EQ(empty.index, 1u);
  EXPECT_EQ(empty.text, "");
  EXPECT_EQ(empty.start, 3u);
  auto first = word_before_cursor("", 0);
  EXPECT_EQ(first.index, 0u);
  // The cursor in the middle: only what is before it counts.
  auto mid = word_before_cursor("rm abc def", 5);
  EXPECT_EQ(mid.text, "ab");
  EXPECT_EQ(mid.index, 1u);
}

TEST(LineCompletion, OneCandidateReplacesTheWordSeveralGrowToTheirCommonPrefix) {
  using ferry::cli::apply_completion;
  using ferry::cli::word_before_cursor;
  line_state s;
  feed(s, "get do");
  auto shown = apply_completion(s, word_before_cursor(s.text(), s.cursor()), {"docs/"});
  EXPECT_TRUE(shown.empty());
  EXPECT_EQ(s.text(), "get docs/");  // a directory: no space, ready for the next component
  shown = apply_completion(s, word_before_cursor(s.text(), s.cursor()),
                           {"docs/report 2024.txt", "docs/report 2025.txt"});
  EXPECT_TRUE(shown.empty());
  EXPECT_EQ(s.text(), "get docs/report\\ 202");  // escaped as typed
  shown = apply_completion(s, word_before_cursor(s.text(), s.cursor()),
                           {"docs/report 2024.txt", "docs/report 2025.txt"});
  EXPECT_EQ(shown.size(), 2u);  // cannot grow: listed
  EXPECT_EQ(s.text(), "get docs/report\\ 202");
  feed(s, "4");
  shown = apply_completion(s, word_before_cursor(s.text(), s.cursor()), {"docs/report 2024.txt"});
  EXPECT_EQ(s.text(), "get docs/report\\ 2024.txt ");
  EXPECT_EQ(s.cursor(), s.text().size());
  // Nothing found leaves the line alone.
  line_state t;
  feed(t, "ls zz");
  EXPECT_TRUE(apply_completion(t, word_before_cursor(t.text(), t.cursor()), {}).empty());
  EXPECT_EQ(t.text(), "ls zz");
}

TEST(LineCompletion, CompletingInTheMiddleKeepsTheRestOfTheLine) {
  using ferry::cli::apply_completion;
  using ferry::cli::word_before_cursor;
  line_state s;
  feed(s, "pu x\x01\x06\x06");  // cursor after "pu"
  apply_completion(s, word_before_cursor(s.text(), s.cursor()), {"put"});
  EXPECT_EQ(s.text(), "put  x");
  EXPECT_EQ(s.cursor(), 4u);
}

}  // namespace
