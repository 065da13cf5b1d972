// Several authenticators as one: methods are the union; a check is passed to each part in order
// and the first that grants wins (so a users file for passwords and authorized_keys for keys can
// sit side by side). A part that lacks a capability is skipped; with no part granting, the
// composite denies.
#pragma once

#include <ferry/auth/authenticator.hpp>

#include <tuple>
#include <utility>

namespace ferry::auth {

template <authenticator... Parts>
class composite {
 public:
  explicit composite(Parts... parts) : parts_(std::move(parts)...) {}

  method_set methods(const request& r) const {
    method_set out;
    std::apply([&](const auto&... p) { ((out |= offered_methods(p, r)), ...); }, parts_);
    return out;
  }

  result check_password(const request& r, byte_view password) const {
    result out;
    std::apply([&](const auto&... p) {
      ((out = out ? out : auth::check_password(p, r, password)), ...);
    }, parts_);
    return out;
  }

  bool accept_public_key(const request& r, std::string_view alg, byte_view blob) const {
    return std::apply([&](const auto&... p) {
      return (auth::accept_public_key(p, r, alg, blob) || ...);
    }, parts_);
  }

  result authorize_public_key(const request& r, std::string_view alg, byte_view blob) const {
    result out;
    std::apply([&](const auto&... p) {
      ((out = out ? out : auth::authorize_public_key(p, r, alg, blob)), ...);
    }, parts_);
    return out;
  }

  // The first part that offers a challenge runs the whole exchange (it is found again the same
  // way for each round, so the composite keeps no per-login state).
  std::optional<challenge> start_keyboard_interactive(const request& r) const {
    std::optional<challenge> out;
    std::apply([&](const auto&... p) {
      ((out = out ? out : auth::start_keyboard_interactive(p, r)), ...);
    }, parts_);
    return out;
  }

  ki_step continue_keyboard_interactive(const request& r, std::size_t round,
                                        std::span<const secure_bytes> responses) const {
    ki_step out;
    bool found = false;
    std::apply([&](const auto&... p) {
      (([&] {
         if (found || !auth::start_keyboard_interactive(p, r)) return;
         found = true;
         out = auth::continue_keyboard_interactive(p, r, round, responses);
       }()),
       ...);
    }, parts_);
    return out;
  }

  template <std::size_t I>
  const auto& part() const noexcept {
    return std::get<I>(parts_);
  }

 private:
  std::tuple<Parts...> parts_;
};

}  // namespace ferry::auth
