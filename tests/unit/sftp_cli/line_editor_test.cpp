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

}  // namespace
