// ssh_config(5) parsing and per-host resolution (see include/ferry/ssh/proto/ssh_config.hpp).
#include <ferry/ssh/proto/ssh_config.hpp>

#include <algorithm>
#include <cctype>

namespace ferry::ssh::proto {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

std::string to_lower(std::string_view s) {
  std::string out{s};
  for (auto& c : out) c = lower(c);
  return out;
}

// Iterative glob with one backtrack point (the last '*'), linear in practice.
bool glob(std::string_view p, std::string_view t) {
  std::size_t pi = 0, ti = 0, star = std::string_view::npos, mark = 0;
  while (ti < t.size()) {
    if (pi < p.size() && (p[pi] == '?' || lower(p[pi]) == lower(t[ti]))) {
      ++pi;
      ++ti;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = ti;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

}  // namespace

error_code split_ssh_config_line(std::string_view line, std::vector<std::string>& words) {
  words.clear();
  if (line.size() > limits::ssh_config_max_line) return make_error_code(errc::length_limit);
  std::size_t i = 0;
  auto skip_space = [&] {
    while (i < line.size() && is_space(line[i])) ++i;
  };
  skip_space();
  if (i == line.size() || line[i] == '#') return {};
  // The keyword ends at whitespace or '='; one '=' may follow (with whitespace around it).
  std::size_t k = i;
  while (i < line.size() && !is_space(line[i]) && line[i] != '=') ++i;
  if (i == k) return make_error_code(errc::bad_value);
  words.emplace_back(line.substr(k, i - k));
  skip_space();
  if (i < line.size() && line[i] == '=') {
    ++i;
    skip_space();
  }
  while (i < line.size()) {
    if (line[i] == '#') break;  // a comment starts at an unquoted word
    std::string w;
    bool quoted_any = false;
    while (i < line.size() && !is_space(line[i])) {
      if (line[i] == '"') {
        quoted_any = true;
        auto end = line.find('"', i + 1);
        if (end == std::string_view::npos) return make_error_code(errc::bad_value);
        w.append(line.substr(i + 1, end - i - 1));
        i = end + 1;
      } else {
        w += line[i++];
      }
    }
    if (!w.empty() || quoted_any) {
      if (words.size() >= limits::ssh_config_max_args) return make_error_code(errc::length_limit);
      words.push_back(std::move(w));
    }
    skip_space();
  }
  return {};
}

error_code parse_ssh_config(std::string_view text, ssh_config_file& out, std::size_t* error_line) {
  out.sections.clear();
  out.sections.push_back({});
  out.sections.back().all = true;
  if (error_line) *error_line = 0;
  if (text.size() > limits::ssh_config_max_file) return make_error_code(errc::length_limit);
  std::vector<std::string> words;
  std::size_t lineno = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    auto line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++lineno;
    auto fail = [&](errc e) {
      if (error_line) *error_line = lineno;
      return make_error_code(e);
    };
    if (line.find('\0') != std::string_view::npos) return fail(errc::bad_value);
    if (auto ec = split_ssh_config_line(line, words)) {
      if (error_line) *error_line = lineno;
      return ec;
    }
    if (words.empty()) continue;
    auto keyword = to_lower(words[0]);
    if (keyword == "host") {
      if (words.size() < 2) return fail(errc::bad_value);
      ssh_config_section s;
      s.line = lineno;
      s.patterns.assign(words.begin() + 1, words.end());
      for (auto& p : s.patterns)
        if (p.empty() || p == "!") return fail(errc::bad_value);
      out.sections.push_back(std::move(s));
    } else if (keyword == "match") {
      // Only "all" and "host PATTERN,..." (comma-separated, as Match writes them).
      ssh_config_section s;
      s.line = lineno;
      if (words.size() == 2 && to_lower(words[1]) == "all") {
        s.all = true;
      } else if (words.size() == 3 && to_lower(words[1]) == "host") {
        std::string_view list = words[2];
        while (!list.empty()) {
          auto c = list.find(',');
          auto p = list.substr(0, c);
          if (p.empty() || p == "!") return fail(errc::bad_value);
          s.patterns.emplace_back(p);
          list = c == std::string_view::npos ? std::string_view{} : list.substr(c + 1);
        }
        if (s.patterns.empty()) return fail(errc::bad_value);
      } else {
        return fail(errc::unsupported);
      }
      out.sections.push_back(std::move(s));
    } else {
      if (words.size() < 2) return fail(errc::bad_value);  // every keyword takes an argument
      ssh_config_entry e;
      e.keyword = std::move(keyword);
      e.args.assign(words.begin() + 1, words.end());
      e.line = lineno;
      out.sections.back().entries.push_back(std::move(e));
    }
  }
  return {};
}

bool ssh_config_glob(std::string_view pattern, std::string_view text) { return glob(pattern, text); }

bool ssh_config_host_matches(const std::vector<std::string>& patterns, std::string_view host) {
  bool matched = false;
  for (const auto& p : patterns) {
    if (!p.empty() && p[0] == '!') {
      if (glob(std::string_view{p}.substr(1), host)) return false;
    } else if (glob(p, host)) {
      matched = true;
    }
  }
  return matched;
}

bool ssh_config_cumulative(std::string_view keyword) {
  static constexpr std::string_view names[] = {"identityfile", "certificatefile", "localforward",
                                               "remoteforward", "dynamicforward", "sendenv",
                                               "setenv"};
  return std::find(std::begin(names), std::end(names), keyword) != std::end(names);
}

void ssh_config_options::apply(const ssh_config_entry& e) {
  auto& v = values_[e.keyword];
  if (v.empty() || ssh_config_cumulative(e.keyword)) v.push_back(e.args);
}

void ssh_config_options::set(std::string keyword, std::vector<std::string> args) {
  keyword = to_lower(keyword);
  auto& v = values_[keyword];
  if (v.empty() || ssh_config_cumulative(keyword)) v.push_back(std::move(args));
}

bool ssh_config_options::has(std::string_view keyword) const {
  return values_.find(to_lower(keyword)) != values_.end();
}

std::optional<std::string> ssh_config_options::value(std::string_view keyword) const {
  auto a = args(keyword);
  if (!a || a->empty()) return std::nullopt;
  return a->front();
}

const std::vector<std::string>* ssh_config_options::args(std::string_view keyword) const {
  auto it = values_.find(to_lower(keyword));
  if (it == values_.end() || it->second.empty()) return nullptr;
  return &it->second.front();
}

std::vector<std::string> ssh_config_options::all(std::string_view keyword) const {
  std::vector<std::string> out;
  auto it = values_.find(to_lower(keyword));
  if (it == values_.end()) return out;
  for (const auto& v : it->second) out.insert(out.end(), v.begin(), v.end());
  return out;
}

error_code resolve_ssh_config(const ssh_config_file& f, std::string_view host,
                              ssh_config_options& out, const ssh_config_loader& loader,
                              unsigned depth) {
  if (depth > limits::ssh_config_max_include_depth) return make_error_code(errc::length_limit);
  for (const auto& s : f.sections) {
    if (!s.all && !ssh_config_host_matches(s.patterns, host)) continue;
    for (const auto& e : s.entries) {
      if (e.keyword != "include") {
        out.apply(e);
        continue;
      }
      if (!loader) continue;
      for (const auto& arg : e.args) {
        std::vector<ssh_config_file> files;
        if (auto ec = loader(arg, files)) return ec;
        for (const auto& inc : files)
          if (auto ec = resolve_ssh_config(inc, host, out, loader, depth + 1)) return ec;
      }
    }
  }
  return {};
}

}  // namespace ferry::ssh::proto
