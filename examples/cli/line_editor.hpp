// A small line editor for interactive prompts (ferry-sftp): no readline, only termios.
//
//   cli::line_editor ed;                       // history kept across calls
//   while (auto line = ed.read_line("sftp> ")) run(*line);   // nullopt at EOF (ctrl-d)
//
// On a TTY the terminal goes to raw mode for the duration of one read and back after; keys:
// left/right (and ctrl-b/ctrl-f), home/end (ctrl-a/ctrl-e), backspace, delete, ctrl-d (delete, or
// EOF on an empty line), ctrl-u (erase to start), ctrl-k (erase to end), ctrl-w (erase the word
// before the cursor), up/down (ctrl-p/ctrl-n) through the history, ctrl-c (drop the line), ctrl-l
// (redraw). Not a TTY: plain getline. The editing itself is line_state, a pure state machine fed
// byte by byte, so it is tested without a terminal.
#pragma once

#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

namespace ferry::cli {

// The text being edited, the cursor and the history; feed() takes one input byte.
class line_state {
 public:
  enum class result { more, done, eof, cancel };

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
        if (c >= 0x20 || c == '\t') {
          buf_.insert(pos_, 1, c == '\t' ? ' ' : char(c));
          ++pos_;
        }
        break;
    }
    return result::more;
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

class line_editor {
 public:
  explicit line_editor(int in_fd = STDIN_FILENO, int out_fd = STDOUT_FILENO)
      : in_(in_fd), out_(out_fd), tty_(::isatty(in_fd) && ::isatty(out_fd)) {}

  bool is_tty() const noexcept { return tty_; }
  const std::vector<std::string>& history() const noexcept { return history_; }

  // One line without its newline; nullopt at end of input.
  std::optional<std::string> read_line(const std::string& prompt) {
    if (!tty_) return plain(prompt);
    termios saved{};
    if (::tcgetattr(in_, &saved) != 0) return plain(prompt);
    termios raw = saved;
    raw.c_lflag &= ~tcflag_t(ECHO | ICANON | IEXTEN | ISIG);
    raw.c_iflag &= ~tcflag_t(IXON | ICRNL | INLCR);
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    ::tcsetattr(in_, TCSADRAIN, &raw);
    struct restore {
      int fd;
      termios& t;
      ~restore() { ::tcsetattr(fd, TCSADRAIN, &t); }
    } guard{in_, saved};

    line_state st{&history_};
    draw(prompt, st);
    while (true) {
      unsigned char c = 0;
      auto n = ::read(in_, &c, 1);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        write("\r\n");
        return std::nullopt;
      }
      auto r = st.feed(c);
      if (r == line_state::result::more) {
        if (c == 0x0c) write("\x1b[H\x1b[2J");  // ctrl-l: clear the screen, then redraw
        draw(prompt, st);
        continue;
      }
      write("\r\n");
      if (r == line_state::result::eof) return std::nullopt;
      if (r == line_state::result::cancel) {
        st = line_state{&history_};
        draw(prompt, st);
        continue;
      }
      auto line = st.text();
      if (!line.empty() && (history_.empty() || history_.back() != line)) history_.push_back(line);
      return line;
    }
  }

 private:
  std::optional<std::string> plain(const std::string& prompt) {
    if (::isatty(out_)) {
      write(prompt);
    }
    std::string line;
    if (!std::getline(std::cin, line)) return std::nullopt;
    return line;
  }

  void draw(const std::string& prompt, const line_state& st) {
    std::string s = "\r" + prompt + st.text() + "\x1b[K\r";
    auto col = prompt.size() + st.cursor();
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
};

}  // namespace ferry::cli
