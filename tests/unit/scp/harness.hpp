// Test drivers for the SCP state machines: a sink applied to an in-memory tree, with every action
// logged, and hostile-input checks on every name the sink hands out.
#pragma once

#include <ferry/scp/proto/sink.hpp>
#include <ferry/scp/proto/source.hpp>

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace ferry::test_scp {

using namespace ferry::scp::proto;

inline std::string nul() { return std::string(1, '\0'); }

// Sink options from scp's letters: r = -r, p = -p, d = -d, D = the target is a directory;
// `expected` is the name a download asked for.
inline sink_options opt(std::string_view flags,
                        std::optional<std::string> expected = std::nullopt) {
  sink_options o;
  o.recursive = flags.find('r') != std::string_view::npos;
  o.preserve = flags.find('p') != std::string_view::npos;
  o.target_should_be_directory = flags.find('d') != std::string_view::npos;
  o.target_is_directory = flags.find('D') != std::string_view::npos;
  if (expected) o.expected_names.push_back(std::move(*expected));
  return o;
}

// What a sink wrote, as paths relative to the target directory ("a", "dir/b").
struct memory_target {
  std::map<std::string, std::string> files;
  std::map<std::string, std::uint32_t> modes;  // files and directories
  std::set<std::string> dirs;
  std::map<std::string, times_record> times;
  std::vector<std::string> cwd;  // components below the target
  std::string open;              // path of the open file
  std::set<std::string> fail_open;  // names whose open is reported as failed

  std::string path_of(std::string_view name) const {
    std::string p;
    for (const auto& c : cwd) p += c + "/";
    return p + std::string{name};
  }
};

struct sink_run {
  std::vector<std::string> log;  // one line per action
  std::string sent;              // everything the sink sent to the peer
  error_code failed;             // set when the sink failed
  std::vector<std::string> warnings;
};

// Names must be single safe components; checked on every action that carries one.
inline void expect_safe_name(std::string_view n) {
  EXPECT_FALSE(n.empty());
  EXPECT_EQ(n.find('/'), std::string_view::npos) << n;
  EXPECT_NE(n, ".");
  EXPECT_NE(n, "..");
}

// Feeds `input` to the sink `chunk` bytes at a time and applies its actions to `t`.
inline sink_run run_sink(sink& s, std::string_view input, memory_target& t,
                         std::size_t chunk = 1 << 20) {
  sink_run run;
  std::size_t at = 0;
  byte_view in;
  for (int guard = 0; guard < 1000000; ++guard) {
    auto a = s.next(in);
    using k = sink_action::kind;
    switch (a.type) {
      case k::need_more:
        if (at == input.size()) return run;
        in = as_bytes(input.substr(at, chunk));
        at += in.size();
        break;
      case k::send: run.sent += as_chars(a.data); break;
      case k::create_directory: {
        expect_safe_name(a.name);
        auto p = t.path_of(a.name);
        run.log.push_back("mkdir " + p);
        if (t.fail_open.count(std::string{a.name})) {
          s.report(make_error_code(boost::system::errc::permission_denied));
          break;
        }
        t.dirs.insert(p);
        t.modes[p] = a.mode;
        t.cwd.emplace_back(a.name);
        break;
      }
      case k::open_file: {
        expect_safe_name(a.name);
        auto p = t.path_of(a.name);
        run.log.push_back("open " + p);
        if (t.fail_open.count(std::string{a.name})) {
          s.report(make_error_code(boost::system::errc::permission_denied));
          break;
        }
        t.files[p].clear();
        t.modes[p] = a.mode;
        t.open = p;
        break;
      }
      case k::write:
        EXPECT_FALSE(t.open.empty());
        t.files[t.open] += as_chars(a.data);
        break;
      case k::close_file:
        run.log.push_back("close " + t.open);
        if (a.times) t.times[t.open] = *a.times;
        t.open.clear();
        break;
      case k::leave_directory: {
        EXPECT_FALSE(t.cwd.empty());
        auto p = t.path_of("");
        p.pop_back();
        if (a.times) t.times[p] = *a.times;
        run.log.push_back("leave " + p);
        t.cwd.pop_back();
        break;
      }
      case k::warning:
        run.warnings.emplace_back(a.message);
        run.log.push_back("warning " + std::string{a.message});
        break;
      case k::failed:
        run.sent += as_chars(a.data);
        run.failed = a.ec;
        run.log.push_back("failed");
        return run;
    }
  }
  ADD_FAILURE() << "sink did not settle";
  return run;
}

}  // namespace ferry::test_scp
