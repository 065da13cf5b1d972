// Running authenticator calls off the network threads. Password checks cost tens of milliseconds
// on purpose (scrypt); a server posts them to a blocking executor (a thread pool) and gets the
// answer back on its own executor:
//
//   auto [ec, granted] = co_await auth::async_call(
//       co_await asio::this_coro::executor, pool.get_executor(),
//       [&] { return auth::check_password(authenticator, req, password); },
//       asio::as_tuple(asio::use_awaitable));
//
// Everything fn refers to must stay alive until the completion (true of a co_await).
#pragma once

#include <ferry/auth/authenticator.hpp>
#include <ferry/fs/detail/async.hpp>

#include <type_traits>

namespace ferry::auth {

template <class Fn, class Token>
auto async_call(boost::asio::any_io_executor io, boost::asio::any_io_executor blocking, Fn fn,
                Token&& token) {
  using value = std::invoke_result_t<Fn&>;
  return fs::detail::async_run<void(error_code, value)>(
      std::move(io), std::move(blocking), std::forward<Token>(token),
      [f = std::move(fn)]() mutable { return std::tuple<error_code, value>{error_code{}, f()}; });
}

}  // namespace ferry::auth
