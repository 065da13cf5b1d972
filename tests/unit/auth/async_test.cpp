// auth::async_call runs a check on the blocking executor and answers on the caller's.
#include <ferry/auth/async.hpp>
#include <ferry/auth/static_users.hpp>
#include <ferry/test/random.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include "test_constants.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace ferry::auth {
namespace {

TEST(async_call, the_check_runs_on_the_pool_and_completes_on_the_io_thread) {
  using fixtures::fast;
  static_users users{fast};
  test::fixed_random rng;
  ASSERT_FALSE(users.add(user_entry{
      .name = "alice", .password_hash = crypto::hash_password(as_bytes("pw"), rng, fast)}));
  boost::asio::io_context ioc;
  boost::asio::thread_pool pool{1};
  std::thread::id checked_on, completed_on;
  result granted;
  bool done = false;
  request r{.user = "alice"};
  async_call(
      ioc.get_executor(), pool.get_executor(),
      [&] {
        checked_on = std::this_thread::get_id();
        return check_password(users, r, as_bytes("pw"));
      },
      [&](error_code ec, result g) {
        completed_on = std::this_thread::get_id();
        done = !ec;
        granted = std::move(g);
      });
  ioc.run();  // returns only once the completion has run: the pending check counts as work
  pool.join();
  EXPECT_TRUE(done);
  ASSERT_TRUE(granted);
  EXPECT_EQ(granted->user, "alice");
  EXPECT_EQ(completed_on, std::this_thread::get_id());
  EXPECT_NE(checked_on, std::this_thread::get_id());
}

}  // namespace
}  // namespace ferry::auth
