// Small pieces the SCP drivers share: the coroutine types, writing a whole buffer to a stream, and
// joining a checked name onto a Filesystem path.
#pragma once

#include <ferry/core/bytes.hpp>
#include <ferry/core/error.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <string>
#include <string_view>

namespace ferry::scp::detail {

template <class T>
using awaitable = boost::asio::awaitable<T>;

inline constexpr auto nothrow = boost::asio::as_tuple(boost::asio::use_awaitable);

template <class Stream>
awaitable<error_code> write_all(Stream& s, byte_view data) {
  auto buffer = boost::asio::buffer(data.data(), data.size());
  auto [ec, n] = co_await boost::asio::async_write(s, buffer, nothrow);
  (void)n;
  co_return ec;
}

// dir + "/" + name; name is one component already checked (proto::check_name).
inline std::string join(std::string_view dir, std::string_view name) {
  std::string out{dir};
  if (out.empty()) return std::string{name};
  if (out.back() != '/') out += '/';
  out += name;
  return out;
}

// The last component of a path as given ("a/b/" -> "b", "/" -> "", "a" -> "a").
inline std::string_view last_component(std::string_view p) {
  while (p.size() > 1 && p.back() == '/') p.remove_suffix(1);
  if (p == "/") return {};
  auto slash = p.rfind('/');
  return slash == std::string_view::npos ? p : p.substr(slash + 1);
}

}  // namespace ferry::scp::detail
