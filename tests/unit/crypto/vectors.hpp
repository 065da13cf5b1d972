// Reads the known-answer files in tests/vectors/crypto/. The format: records of `name = value`
// lines separated by blank lines; `#` starts a comment line. A value is hex, or "text" in quotes
// (its ASCII bytes), or a bare word when read with text().
#pragma once

#include "support/vectors_dir.hpp"
#include <ferry/core/bytes.hpp>
#include <ferry/crypto/kex.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace ferry::crypto_test {

inline bytes hex(std::string_view s) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    throw std::invalid_argument("bad hex digit");
  };
  bytes out;
  int hi = -1;
  for (char c : s) {
    if (c == ' ' || c == '\n' || c == ':') continue;
    if (hi < 0) {
      hi = nibble(c);
    } else {
      out.push_back(static_cast<std::uint8_t>(hi * 16 + nibble(c)));
      hi = -1;
    }
  }
  if (hi >= 0) throw std::invalid_argument("odd number of hex digits");
  return out;
}

inline std::string to_hex(byte_view b) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (auto v : b) {
    s += digits[v >> 4];
    s += digits[v & 15];
  }
  return s;
}

struct record {
  std::map<std::string, std::string> fields;
  int line = 0;

  bool has(const std::string& k) const { return fields.count(k) != 0; }
  const std::string& text(const std::string& k) const {
    auto it = fields.find(k);
    if (it == fields.end()) throw std::runtime_error("missing field " + k);
    return it->second;
  }
  bytes data(const std::string& k) const {
    const auto& v = text(k);
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') return to_bytes(v.substr(1, v.size() - 2));
    return hex(v);
  }
};

inline std::vector<record> load(const std::string& file) {
  std::ifstream in(std::string(FERRY_VECTORS_DIR) + "/crypto/" + file);
  if (!in) throw std::runtime_error("cannot open vector file " + file);
  std::vector<record> out;
  record cur;
  std::string line;
  int n = 0;
  auto flush = [&] {
    if (!cur.fields.empty()) out.push_back(std::move(cur));
    cur = record{};
  };
  while (std::getline(in, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) {
      flush();
      continue;
    }
    if (line[0] == '#') continue;
    auto eq = line.find(" = ");
    if (eq == std::string::npos) throw std::runtime_error(file + ": bad line " + std::to_string(n));
    if (cur.fields.empty()) cur.line = n;
    cur.fields[line.substr(0, eq)] = line.substr(eq + 3);
  }
  flush();
  return out;
}

// "p256", "p384", "p521" as the vector files name the NIST curves.
inline crypto::curve curve_named(const std::string& s) {
  if (s == "p256") return crypto::curve::p256;
  if (s == "p384") return crypto::curve::p384;
  if (s == "p521") return crypto::curve::p521;
  throw std::invalid_argument(s);
}

}  // namespace ferry::crypto_test
