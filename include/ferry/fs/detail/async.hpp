// How ferry's filesystem backends complete: a call's result is delivered to the handler on its
// associated executor (the backend's I/O executor by default), never inline, with outstanding work
// counted on that executor while a blocking call runs elsewhere.
#pragma once

#include <ferry/core/error.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>

#include <optional>
#include <tuple>
#include <utility>

namespace ferry::fs::detail {

// A handler type used only to ask, in a concept, whether an initiating function accepts a
// completion of signature Sig.
template <class Sig>
struct probe_handler;
template <class... Args>
struct probe_handler<void(Args...)> {
  void operator()(Args...) const {}
};

// The default values that follow the error_code in a completion (for failures).
template <class Sig>
struct completion_args;
template <class... Args>
struct completion_args<void(error_code, Args...)> {
  static std::tuple<error_code, Args...> failed(error_code ec) { return {ec, Args{}...}; }
};

// Runs fn (returning the completion's arguments as a tuple) on work, or right away when work is
// empty, and delivers the result through a post to the handler's executor.
template <class Sig, class Token, class Fn>
auto async_run(boost::asio::any_io_executor io, std::optional<boost::asio::any_io_executor> work,
               Token&& token, Fn fn) {
  return boost::asio::async_initiate<Token, Sig>(
      [](auto handler, boost::asio::any_io_executor io_ex,
         std::optional<boost::asio::any_io_executor> work_ex, Fn f) {
        auto target = boost::asio::prefer(boost::asio::get_associated_executor(handler, io_ex),
                                          boost::asio::execution::outstanding_work.tracked);
        auto deliver = [](auto h, auto ex, auto result) {
          boost::asio::post(ex, [h = std::move(h), r = std::move(result)]() mutable {
            std::apply(std::move(h), std::move(r));
          });
        };
        if (!work_ex) {
          deliver(std::move(handler), std::move(target), f());
          return;
        }
        boost::asio::post(*work_ex, [h = std::move(handler), t = std::move(target),
                                     f = std::move(f), deliver]() mutable {
          deliver(std::move(h), std::move(t), f());
        });
      },
      token, std::move(io), std::move(work), std::move(fn));
}

}  // namespace ferry::fs::detail
