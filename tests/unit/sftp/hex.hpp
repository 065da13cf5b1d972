// Golden bytes in tests are written as hex with spaces and "quoted ASCII" for readability:
//   hex("00000003 'abc'") == {0,0,0,3,'a','b','c'}
#pragma once

#include <ferry/core/bytes.hpp>

#include <stdexcept>
#include <string_view>

namespace ferry::test_sftp {

inline bytes hex(std::string_view s) {
  bytes out;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    throw std::invalid_argument("bad hex");
  };
  for (std::size_t i = 0; i < s.size();) {
    char c = s[i];
    if (c == ' ' || c == '\n') {
      ++i;
    } else if (c == '\'') {
      auto end = s.find('\'', i + 1);
      for (auto k = i + 1; k < end; ++k) out.push_back(static_cast<std::uint8_t>(s[k]));
      i = end + 1;
    } else {
      out.push_back(static_cast<std::uint8_t>(nibble(s[i]) * 16 + nibble(s[i + 1])));
      i += 2;
    }
  }
  return out;
}

}  // namespace ferry::test_sftp
