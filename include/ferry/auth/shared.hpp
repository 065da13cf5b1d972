// auth::shared<A>: one authenticator used by several servers (SSH and FTP in one process) without
// copying it: a cheap handle to an immutable A that forwards exactly the capabilities A has.
//
//   auto users = auth::make_shared_authenticator(auth::composite{std::move(passwords), std::move(keys)});
//   ftp::server<Fs, decltype(users)> ftp{ex, files, users, ...};
//   // ...and the SSH server gets the same handle.
#pragma once

#include <ferry/auth/authenticator.hpp>

#include <memory>
#include <utility>

namespace ferry::auth {

template <authenticator A>
class shared {
 public:
  explicit shared(std::shared_ptr<const A> a) : a_(std::move(a)) {}

  const A& get() const noexcept { return *a_; }

  method_set methods(const request& r) const { return a_->methods(r); }

  result check_password(const request& r, byte_view password) const
    requires has_password<A>
  {
    return a_->check_password(r, password);
  }

  bool accept_public_key(const request& r, std::string_view alg, byte_view blob) const
    requires has_publickey<A>
  {
    return a_->accept_public_key(r, alg, blob);
  }

  result authorize_public_key(const request& r, std::string_view alg, byte_view blob) const
    requires has_publickey<A>
  {
    return a_->authorize_public_key(r, alg, blob);
  }

  std::optional<challenge> start_keyboard_interactive(const request& r) const
    requires has_keyboard_interactive<A>
  {
    return a_->start_keyboard_interactive(r);
  }

  ki_step continue_keyboard_interactive(const request& r, std::size_t round,
                                        std::span<const secure_bytes> responses) const
    requires has_keyboard_interactive<A>
  {
    return a_->continue_keyboard_interactive(r, round, responses);
  }

 private:
  std::shared_ptr<const A> a_;
};

template <authenticator A>
shared<A> make_shared_authenticator(A a) {
  return shared<A>{std::make_shared<const A>(std::move(a))};
}

}  // namespace ferry::auth
