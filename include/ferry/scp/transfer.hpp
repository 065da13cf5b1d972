// What the SCP server and client share: the progress/logging hook and the summary of a transfer.
//
//   scp::event_handler log = [](const scp::event& e) {
//     if (e.type == scp::event::kind::file_end) std::cout << e.path << " " << e.bytes << "\n";
//   };
//
// Events are delivered on the transfer's executor, in order; views in an event are valid only
// during the call.
#pragma once

#include <ferry/core/limits.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::scp {

struct event {
  enum class kind {
    file_begin,  // a file starts: `path`, `size`
    progress,    // `bytes` of `size` of `path` moved so far
    file_end,    // the file is complete: `bytes` moved
    directory,   // a directory was entered (created or sent): `path`
    warning,     // an entry failed, on either side; the transfer goes on: `message`
  };
  kind type = kind::progress;
  std::string_view path;  // the local (client) or served (server) filesystem path
  std::uint64_t bytes = 0;
  std::uint64_t size = 0;
  std::string_view message;
};

using event_handler = std::function<void(const event&)>;

struct transfer_summary {
  std::uint64_t files = 0;        // files completely moved
  std::uint64_t directories = 0;  // directories created or sent
  std::uint64_t bytes = 0;        // file bytes moved
  std::uint64_t errors = 0;       // entries that failed, on this side or the peer's
  std::vector<std::string> messages;  // their messages (the first limits::scp_max_warnings)

  void note(std::string_view message) {
    ++errors;
    if (messages.size() < limits::scp_max_warnings) messages.emplace_back(message);
  }
};

}  // namespace ferry::scp
