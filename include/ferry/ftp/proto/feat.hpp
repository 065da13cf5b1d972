// FEAT (RFC 2389 §3): the server lists its extensions, one per line, each line starting with a
// space: " MDTM", " REST STREAM", " MLST type*;size*;modify*;", " AUTH TLS". The client parses the
// 211 reply; the server formats it.
#pragma once

#include <ferry/ftp/error.hpp>
#include <ferry/ftp/proto/reply.hpp>

#include <map>
#include <string>
#include <string_view>

namespace ferry::ftp {

struct features {
  // Feature name (upper case) → its parameters as sent ("" when none).
  std::map<std::string, std::string, std::less<>> items;

  bool has(std::string_view name) const { return items.find(name) != items.end(); }
  std::string_view params(std::string_view name) const {
    auto it = items.find(name);
    return it == items.end() ? std::string_view{} : std::string_view{it->second};
  }
  bool operator==(const features&) const = default;
};

// A reply other than 211 (500/502: FEAT not implemented) means no extensions. Lines that do not
// start with a space are the reply's own text and are skipped (RFC 2389 §3.2).
inline features parse_feat(const reply& r) {
  features f;
  if (r.code != 211) return f;
  for (std::size_t i = 1; i + 1 < r.lines.size(); ++i) {
    std::string_view l = r.lines[i];
    if (l.empty() || l[0] != ' ') continue;
    l.remove_prefix(1);
    auto sp = l.find(' ');
    std::string name;
    for (char c : l.substr(0, sp)) name += static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
    if (name.empty()) continue;
    f.items[name] = sp == std::string_view::npos ? std::string{} : std::string{l.substr(sp + 1)};
  }
  return f;
}

// The 211 reply a server sends (RFC 2389 §3.2); with no features, the single-line form.
inline std::string format_feat(const features& f) {
  error_code ec;
  if (f.items.empty()) return format_reply(211, "No features", ec);
  std::string text = "Features:";
  for (auto& [name, params] : f.items) {
    text += "\n ";
    text += name;
    if (!params.empty()) {
      text += ' ';
      text += params;
    }
  }
  text += "\nEnd";
  return format_reply(211, text, ec);
}

}  // namespace ferry::ftp
