// Runs a test coroutine, f(io_context&) -> awaitable<void>, on its own io_context for at most
// `limit`; a coroutine that does not finish, or ends with an exception (a failed operation under
// use_awaitable), fails the test with the exception's message.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <exception>

namespace ferry_test_support {

template <class F>
void run_coroutine(F f, std::chrono::seconds limit = std::chrono::seconds(20)) {
  boost::asio::io_context ioc;
  std::exception_ptr ep;
  bool done = false;
  boost::asio::co_spawn(ioc, f(ioc), [&](std::exception_ptr e) {
    ep = e;
    done = true;
  });
  ioc.run_for(limit);
  ASSERT_TRUE(done) << "test coroutine did not finish in time";
  if (ep) {
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      FAIL() << "exception: " << e.what();
    }
  }
}

}  // namespace ferry_test_support
