// ssh-audit (the Debian package) against a ferry-server with its default algorithms (issue #12):
// no [fail] finding anywhere, and the only [warn] is ssh-audit not knowing OpenSSH's strict-kex
// marker. ssh-audit 2.5.0's JSON output carries no levels, so the text output (-n) is parsed.
#include "support/ferry_server.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace ferry_test_support;

struct finding {
  std::string section;    // kex, key, enc, mac, ...
  std::string algorithm;  // the algorithm the finding belongs to
  std::string level;      // info, warn, fail
  std::string text;
};

// Findings of lines "(sec) algorithm  -- [level] text" and their continuation lines
// "   `- [level] text", which belong to the algorithm above.
std::vector<finding> parse(const std::string& out, std::vector<std::string>& sections) {
  std::vector<finding> found;
  std::istringstream in{out};
  std::string line, section, algorithm;
  while (std::getline(in, line)) {
    std::string level_part;
    if (line.size() > 6 && line[0] == '(' && line[4] == ')') {
      section = line.substr(1, 3);
      sections.push_back(section);
      auto rest = line.substr(6);
      auto dash = rest.find(" -- ");
      algorithm = rest.substr(0, rest.find(' '));
      if (dash == std::string::npos) continue;
      level_part = rest.substr(dash + 4);
    } else if (auto tick = line.find("`- "); tick != std::string::npos && !section.empty()) {
      level_part = line.substr(tick + 3);
    } else {
      continue;
    }
    if (level_part.size() < 3 || level_part[0] != '[') continue;
    auto close = level_part.find(']');
    if (close == std::string::npos) continue;
    auto text = level_part.substr(close + 1);
    if (!text.empty() && text[0] == ' ') text.erase(0, 1);
    found.push_back({section, algorithm, level_part.substr(1, close - 1), text});
  }
  return found;
}

bool tolerated(const finding& f) {
  return f.level == "warn" && f.section == "kex" && f.algorithm == "kex-strict-s-v00@openssh.com" &&
         f.text == "unknown algorithm";
}

TEST(ssh_audit, ferry_server_defaults_have_no_failures_and_no_warnings_but_the_strict_kex_marker) {
  server_fixture server;
  auto r = run_shell(server.dir(), "ssh-audit -n -t 30 -p " + std::to_string(server.ssh_port()) +
                                       " 127.0.0.1 2>&1");
  const auto& out = r.output;
  ASSERT_NE(out.find("(gen) banner: SSH-2.0-ferry"), std::string::npos) << "status " << r.status << "\n" << out;

  std::vector<std::string> sections;
  auto findings = parse(out, sections);
  for (const char* s : {"kex", "key", "enc", "mac"})
    EXPECT_NE(std::find(sections.begin(), sections.end(), s), sections.end()) << "no (" << s << ") lines\n" << out;

  int warned_strict = 0;
  for (const auto& f : findings) {
    if (tolerated(f)) {
      ++warned_strict;
      continue;
    }
    EXPECT_NE(f.level, "fail") << "(" << f.section << ") " << f.algorithm << ": " << f.text << "\n" << out;
    EXPECT_NE(f.level, "warn") << "(" << f.section << ") " << f.algorithm << ": " << f.text << "\n" << out;
  }
  // The marker is offered (strict kex is on) and is all ssh-audit does not know.
  EXPECT_EQ(warned_strict, 1) << out;
  EXPECT_EQ(std::count(sections.begin(), sections.end(), "rec"), 0) << "ssh-audit recommends changes\n" << out;
  auto unknown = out.find("unknown algorithm(s) found!:");
  if (unknown != std::string::npos) {
    auto list = out.substr(unknown, out.find('\n', unknown) - unknown);
    EXPECT_NE(list.find("found!: kex-strict-s-v00@openssh.com."), std::string::npos) << out;
  }
}

}  // namespace
