#include <ferry/core/text.hpp>

namespace ferry::text {
namespace {

constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int value_of(char c) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

bool is_space_or_eol(char c) noexcept { return is_blank(c) || c == '\r' || c == '\n'; }

char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

}  // namespace

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_space_or_eol(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space_or_eol(s.back())) s.remove_suffix(1);
  return s;
}

std::string_view next_field(std::string_view& s) noexcept {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  std::size_t n = 0;
  while (n < s.size() && !is_blank(s[n])) ++n;
  auto field = s.substr(0, n);
  s.remove_prefix(n);
  return field;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string base64_encode(byte_view data, bool pad) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    std::uint32_t v = (std::uint32_t{data[i]} << 16) | (std::uint32_t{data[i + 1]} << 8) | data[i + 2];
    out += alphabet[v >> 18];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  if (i < data.size()) {
    bool two = i + 1 < data.size();
    std::uint32_t v = std::uint32_t{data[i]} << 16;
    if (two) v |= std::uint32_t{data[i + 1]} << 8;
    out += alphabet[v >> 18];
    out += alphabet[(v >> 12) & 63];
    if (two) out += alphabet[(v >> 6) & 63];
    if (pad) out.append(two ? 1 : 2, '=');
  }
  return out;
}

bool base64_decode(std::string_view text, bytes& out) {
  out.clear();
  std::size_t pad = 0;
  while (!text.empty() && text.back() == '=' && pad < 2) {
    text.remove_suffix(1);
    ++pad;
  }
  if (pad && (text.size() + pad) % 4 != 0) return false;
  if (text.size() % 4 == 1) return false;
  out.reserve(text.size() / 4 * 3 + 2);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = value_of(c);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(std::uint8_t(acc >> bits));
    }
  }
  return (acc & ((1u << bits) - 1)) == 0;  // unused trailing bits zero: canonical
}

}  // namespace ferry::text
