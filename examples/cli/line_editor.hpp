// A small line editor for interactive prompts (ferry-sftp): no readline, only termios.
//
//   cli::line_editor ed;                       // history kept across calls
//   while (auto line = ed.read_line("sftp> ")) run(*line);   // nullopt at EOF (ctrl-d)
//
// On a TTY the terminal goes to raw mode for the duration of one read and back after; keys:
// left/right (and ctrl-b/ctrl-f), home/end (ctrl-a/ctrl-e), backspace, delete, ctrl-d (delete, or
// EOF on an empty line), ctrl-u (erase to start), ctrl-k (erase to end), ctrl-w (erase the word
// before the cursor), up/down (ctrl-p/ctrl-n) through the history, ctrl-c (drop the line), ctrl-l
// (redraw), Tab (completion). Not a TTY: plain getline. The editing itself is line_state, a pure
// state machine fed byte by byte, so it is tested without a terminal.
//
// Completion that needs I/O (remote listings) runs between keys, so the caller's coroutine does it:
//
//   ed.begin("sftp> ");
//   while ((k = ed.next()) == line_editor::key::complete) {
//     auto w = word_before_cursor(ed.state().text(), ed.state().cursor());
//     ed.offer(w, co_await candidates_for(w));    // full words; directories end in '/'
//   }
//   if (k == line_editor::key::line) run(ed.take_line());
#pragma once

#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ferry::cli {

// The text being edited, the cursor and the history; feed() takes one input byte.
class line_state {
 public:
  enum class result { more, done, eof, cancel, complete };

  explicit line_state(const std::vector<std::string>* history = nullptr)
      : history_(history), hist_pos_(history ? history->size() : 0) {}

  const std::string& text() const noexcept { return buf_; }
  std::size_t cursor() const noexcept { return pos_; }

  result feed(unsigned char c) {
    if (esc_ == 1) {  // after ESC: '[' or 'O' starts a sequence
      esc_ = (c == '[' || c == 'O') ? 2 : 0;
      seq_.clear();
      return result::more;
    }
    if (esc_ == 2) {
      if (c >= '0' && c <= '9') {
        seq_ += char(c);
        return result::more;
      }
      esc_ = 0;
      switch (c) {
        case 'A': history_step(-1); break;
        case 'B': history_step(+1); break;
        case 'C': if (pos_ < buf_.size()) ++pos_; break;
        case 'D': if (pos_ > 0) --pos_; break;
        case 'H': pos_ = 0; break;
        case 'F': pos_ = buf_.size(); break;
        case '~':
          if (seq_ == "3") erase_at_cursor();
          else if (seq_ == "1" || seq_ == "7") pos_ = 0;
          else if (seq_ == "4" || seq_ == "8") pos_ = buf_.size();
          break;
        default: break;
      }
      return result::more;
    }
    switch (c) {
      case 0x1b: esc_ = 1; return result::more;
      case '\r':
      case '\n': return result::done;
      case '\t': return result::complete;
      case 0x01: pos_ = 0; break;                            // ctrl-a
      case 0x05: pos_ = buf_.size(); break;                  // ctrl-e
      case 0x02: if (pos_ > 0) --pos_; break;                // ctrl-b
      case 0x06: if (pos_ < buf_.size()) ++pos_; break;      // ctrl-f
      case 0x03: return result::cancel;                      // ctrl-c
      case 0x04:                                             // ctrl-d
        if (buf_.empty()) return result::eof;
        erase_at_cursor();
        break;
      case 0x7f:
      case 0x08:
        if (pos_ > 0) buf_.erase(--pos_, 1);
        break;
      case 0x15: buf_.erase(0, pos_); pos_ = 0; break;       // ctrl-u
      case 0x0b: buf_.erase(pos_); break;                    // ctrl-k
      case 0x17: {                                           // ctrl-w
        std::size_t start = pos_;
        while (start > 0 && buf_[start - 1] == ' ') --start;
        while (start > 0 && buf_[start - 1] != ' ') --start;
        buf_.erase(start, pos_ - start);
        pos_ = start;
        break;
      }
      case 0x10: history_step(-1); break;                    // ctrl-p
      case 0x0e: history_step(+1); break;                    // ctrl-n
      default:
        if (c >= 0x20) {
          buf_.insert(pos_, 1, char(c));
          ++pos_;
        }
        break;
    }
    return result::more;
  }

  // Replaces the text from start to the cursor (a word being completed).
  void replace_before_cursor(std::size_t start, std::string_view text) {
    start = std::min(start, pos_);
    buf_.replace(start, pos_ - start, text);
    pos_ = start + text.size();
  }

 private:
  void erase_at_cursor() {
    if (pos_ < buf_.size()) buf_.erase(pos_, 1);
  }
  void history_step(int dir) {
    if (!history_ || history_->empty()) return;
    if (dir < 0 && hist_pos_ == 0) return;
    if (dir > 0 && hist_pos_ >= history_->size()) return;
    if (hist_pos_ == history_->size()) saved_ = buf_;  // leaving the line being typed
    hist_pos_ = dir < 0 ? hist_pos_ - 1 : hist_pos_ + 1;
    buf_ = hist_pos_ == history_->size() ? saved_ : (*history_)[hist_pos_];
    pos_ = buf_.size();
  }

  const std::vector<std::string>* history_;
  std::size_t hist_pos_;
  std::string buf_, saved_, seq_;
  std::size_t pos_ = 0;
  int esc_ = 0;
};

// --- completion --------------------------------------------------------------------------------

// The word the cursor ends: where it starts in the line, its position among the words (0 is the
// command) and its text with backslash escapes and quotes removed.
struct completion_word {
  std::size_t start = 0;
  std::size_t index = 0;
  std::string text;
  std::vector<std::string> before;  // the words before it, unescaped
};

inline completion_word word_before_cursor(std::string_view line, std::size_t cursor) {
  completion_word w;
  std::string cur;
  bool in_word = false;
  char quote = 0;
  cursor = std::min(cursor, line.size());
  for (std::size_t i = 0; i < cursor; ++i) {
    char c = line[i];
    if (!quote && (c == ' ' || c == '\t')) {
      if (in_word) w.before.push_back(std::exchange(cur, {}));
      in_word = false;
      continue;
    }
    if (!in_word) {
      in_word = true;
      w.start = i;
    }
    if (quote) {
      if (c == quote) quote = 0;
      else cur += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '\\' && i + 1 < cursor) {
      cur += line[++i];
    } else {
      cur += c;
    }
  }
  if (!in_word) w.start = cursor;
  w.text = cur;
  w.index = w.before.size();
  return w;
}

// A word as typed: blanks, quotes, backslashes and glob characters escaped with a backslash.
inline std::string escape_word(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\'' || c == '"' || c == '\\' || c == '*' || c == '?' ||
        c == '[' || c == ']')
      out += '\\';
    out += c;
  }
  return out;
}

inline std::string common_prefix(const std::vector<std::string>& v) {
  if (v.empty()) return {};
  std::string p = v.front();
  for (const auto& s : v) {
    std::size_t n = 0;
    while (n < p.size() && n < s.size() && p[n] == s[n]) ++n;
    p.resize(n);
  }
  return p;
}

// Completes w in st with the candidates (whole words; a directory ends in '/'): one candidate
// replaces the word (a space follows unless it is a directory), several extend it to their common
// prefix. Returns the candidates to show when the word could not grow (empty otherwise).
inline std::vector<std::string> apply_completion(line_state& st, const completion_word& w,
                                                 std::vector<std::string> candidates) {
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
  if (candidates.empty()) return {};
  if (candidates.size() == 1) {
    const auto& c = candidates.front();
    st.replace_before_cursor(w.start, escape_word(c) + (c.ends_with('/') ? "" : " "));
    return {};
  }
  auto prefix = common_prefix(candidates);
  if (prefix.size() > w.text.size()) {
    st.replace_before_cursor(w.start, escape_word(prefix));
    return {};
  }
  return candidates;
}

class line_editor {
 public:
  explicit line_editor(int in_fd = STDIN_FILENO, int out_fd = STDOUT_FILENO)
      : in_(in_fd), out_(out_fd), tty_(::isatty(in_fd) && ::isatty(out_fd)) {}

  bool is_tty() const noexcept { return tty_; }
  const std::vector<std::string>& history() const noexcept { return history_; }

  // One line without its newline; nullopt at end of input. Tab completes nothing here.
  std::optional<std::string> read_line(const std::string& prompt) {
    begin(prompt);
    key k;
    while ((k = next()) == key::complete) offer(completion_word{}, {});
    if (k == key::eof) return std::nullopt;
    return take_line();
  }

  // --- one line, key by key (for completion that needs I/O) -----------------------------------
  enum class key { line, eof, complete };

  // Starts a line: the prompt is drawn and, on a TTY, the terminal is raw until the line ends.
  void begin(const std::string& prompt) {
    prompt_ = prompt;
    st_ = line_state{&history_};
    line_.clear();
    if (!tty_) return;
    raw_ = ::tcgetattr(in_, &saved_) == 0;
    if (!raw_) return;
    termios raw = saved_;
    raw.c_lflag &= ~tcflag_t(ECHO | ICANON | IEXTEN | ISIG);
    raw.c_iflag &= ~tcflag_t(IXON | ICRNL | INLCR);
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    ::tcsetattr(in_, TCSADRAIN, &raw);
    draw();
  }

  // Reads keys until the line is done (take_line), input ends, or Tab asks for completion.
  key next() {
    if (!raw_) {
      auto l = plain(prompt_);
      if (!l) return key::eof;
      line_ = std::move(*l);
      return key::line;
    }
    while (true) {
      unsigned char c = 0;
      auto n = ::read(in_, &c, 1);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        write("\r\n");
        finish();
        return key::eof;
      }
      auto r = st_.feed(c);
      if (r == line_state::result::complete) return key::complete;
      if (r == line_state::result::more) {
        if (c == 0x0c) write("\x1b[H\x1b[2J");  // ctrl-l: clear the screen, then redraw
        draw();
        continue;
      }
      write("\r\n");
      if (r == line_state::result::eof) {
        finish();
        return key::eof;
      }
      if (r == line_state::result::cancel) {
        st_ = line_state{&history_};
        draw();
        continue;
      }
      line_ = st_.text();
      if (!line_.empty() && (history_.empty() || history_.back() != line_)) history_.push_back(line_);
      finish();
      return key::line;
    }
  }

  const line_state& state() const noexcept { return st_; }
  std::string take_line() { return std::move(line_); }

  // After key::complete: applies the candidates for w; when they are ambiguous they are listed
  // under the line, and nothing found rings the bell.
  void offer(const completion_word& w, std::vector<std::string> candidates) {
    bool none = candidates.empty();
    auto show = apply_completion(st_, w, std::move(candidates));
    if (none) write("\a");
    if (!show.empty()) write("\r\n" + columns(show));
    draw();
  }

  ~line_editor() { finish(); }
  line_editor(const line_editor&) = delete;
  line_editor& operator=(const line_editor&) = delete;

 private:
  std::optional<std::string> plain(const std::string& prompt) {
    if (::isatty(out_)) {
      write(prompt);
    }
    std::string line;
    if (!std::getline(std::cin, line)) return std::nullopt;
    return line;
  }

  void finish() {
    if (raw_) ::tcsetattr(in_, TCSADRAIN, &saved_);
    raw_ = false;
  }

  // Names (their last path component) in columns at most 80 wide, a line each row.
  static std::string columns(const std::vector<std::string>& names) {
    std::vector<std::string> shown;
    std::size_t width = 0;
    for (const auto& n : names) {
      auto slash = n.find_last_of('/', n.size() >= 2 ? n.size() - 2 : 0);
      shown.push_back(slash == std::string::npos || slash + 1 >= n.size() ? n : n.substr(slash + 1));
      width = std::max(width, shown.back().size() + 2);
    }
    std::size_t per_row = std::max<std::size_t>(1, 80 / width), col = 0;
    std::string out;
    for (const auto& n : shown) {
      out += n;
      if (++col == per_row) {
        out += "\r\n";
        col = 0;
      } else {
        out += std::string(width - n.size(), ' ');
      }
    }
    if (col != 0) out += "\r\n";
    return out;
  }

  void draw() {
    std::string s = "\r" + prompt_ + st_.text() + "\x1b[K\r";
    auto col = prompt_.size() + st_.cursor();
    if (col > 0) s += "\x1b[" + std::to_string(col) + "C";
    write(s);
  }

  void write(const std::string& s) {
    std::size_t off = 0;
    while (off < s.size()) {
      auto n = ::write(out_, s.data() + off, s.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;
      off += std::size_t(n);
    }
  }

  int in_, out_;
  bool tty_;
  std::vector<std::string> history_;
  std::string prompt_, line_;
  line_state st_;
  termios saved_{};
  bool raw_ = false;
};

}  // namespace ferry::cli
