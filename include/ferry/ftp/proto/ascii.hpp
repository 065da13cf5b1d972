// TYPE A (RFC 959 §3.1.1.1): on the wire every line ends in CR LF. These converters are streaming:
// a CR at the end of one buffer whose LF arrives in the next is still one line end.
//
// to_network turns every LF into CR LF and to_local every CR LF into LF, leaving any other CR
// alone, so to_local(to_network(x)) == x for every x (a local "\r\n" goes out as "\r\r\n").
#pragma once

#include <ferry/core/bytes.hpp>

namespace ferry::ftp {

class ascii_to_network {
 public:
  void convert(byte_view in, bytes& out) {
    out.reserve(out.size() + in.size() + in.size() / 16);
    for (auto b : in) {
      if (b == '\n') out.push_back('\r');
      out.push_back(b);
    }
  }
};

class ascii_to_local {
 public:
  // Appends the converted bytes of in to out. A trailing CR is held back until the next call
  // (or finish()) shows whether an LF follows it.
  void convert(byte_view in, bytes& out) {
    out.reserve(out.size() + in.size() + 1);
    for (auto b : in) {
      if (pending_cr_) {
        pending_cr_ = false;
        if (b == '\n') {
          out.push_back('\n');
          continue;
        }
        out.push_back('\r');
      }
      if (b == '\r') {
        pending_cr_ = true;
        continue;
      }
      out.push_back(b);
    }
  }

  // End of data: a CR held back is real data.
  void finish(bytes& out) {
    if (pending_cr_) out.push_back('\r');
    pending_cr_ = false;
  }

  bool holding_cr() const noexcept { return pending_cr_; }

 private:
  bool pending_cr_ = false;
};

}  // namespace ferry::ftp
