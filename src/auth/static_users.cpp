#include <ferry/auth/static_users.hpp>
#include <ferry/core/text.hpp>
#include <ferry/core/limits.hpp>
#include <ferry/crypto/random.hpp>

#include <array>

namespace ferry::auth {

namespace {

bool password_disabled(std::string_view h) { return h.empty() || h == "*" || h.front() == '!'; }

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (true) {
    auto i = s.find(sep);
    out.push_back(s.substr(0, i));
    if (i == std::string_view::npos) break;
    s.remove_prefix(i + 1);
  }
  return out;
}

bool parse_methods(std::string_view v, method_set& out) {
  out = {};
  for (auto m : split(v, '+')) {
    if (m == "password") out |= method_set{method::password};
    else if (m == "publickey") out |= method_set{method::publickey};
    else if (m == "keyboard-interactive") out |= method_set{method::keyboard_interactive};
    else return false;
  }
  return true;
}

bool parse_ops(std::string_view v, std::uint32_t& out) {
  static constexpr std::array<std::pair<std::string_view, operation>, 9> names{{
      {"read", operation::read},
      {"list", operation::list},
      {"write", operation::write},
      {"create", operation::create},
      {"remove", operation::remove},
      {"rename", operation::rename},
      {"mkdir", operation::mkdir},
      {"rmdir", operation::rmdir},
      {"symlink", operation::symlink},
  }};
  out = 0;
  for (auto o : split(v, '+')) {
    bool found = false;
    for (const auto& [n, op] : names) {
      if (o == n) {
        out |= static_cast<std::uint32_t>(op);
        found = true;
      }
    }
    if (!found) return false;
  }
  return true;
}

}  // namespace

static_users::static_users(crypto::scrypt_params dummy_params) {
  // Any password hashed with the same cost: what matters is the time a check takes.
  std::array<std::uint8_t, 16> pw{};
  crypto::system_random().fill(pw);
  dummy_ = crypto::hash_password(pw, crypto::system_random(), dummy_params);
}

error_code static_users::parse_line(std::string_view line, user_entry& out, bool& empty) {
  out = {};
  empty = false;
  if (line.size() > limits::auth_max_line) return errc::line_too_long;
  line = text::trim(line);
  if (line.empty() || line.front() == '#') {
    empty = true;
    return {};
  }
  auto f = split(line, ':');
  if (f.size() < 2 || f.size() > 5) return errc::malformed_line;
  out.name = std::string{f[0]};
  if (out.name.empty() || out.name.find_first_of(" \t") != std::string::npos) {
    return errc::malformed_line;
  }
  out.password_hash = std::string{f[1]};
  if (!password_disabled(out.password_hash) &&
      !crypto::password_hash_supported(out.password_hash)) {
    return errc::bad_password_hash;
  }
  if (f.size() > 2 && !f[2].empty()) out.view.root = std::string{f[2]};
  if (f.size() > 3 && !f[3].empty()) out.view.home = std::string{f[3]};
  if (out.view.root.front() != '/' || out.view.home.front() != '/' ||
      out.view.root.find('\0') != std::string::npos) {
    return errc::malformed_line;
  }
  if (f.size() > 4 && !f[4].empty()) {
    for (auto opt : split(f[4], ',')) {
      if (opt == "read-only") {
        out.perms.read_only = out.view.read_only = true;
      } else if (opt.substr(0, 8) == "methods=") {
        if (!parse_methods(opt.substr(8), out.methods)) return errc::bad_option_value;
      } else if (opt.substr(0, 4) == "ops=") {
        if (!parse_ops(opt.substr(4), out.perms.allowed)) return errc::bad_option_value;
      } else {
        return errc::unknown_option;
      }
    }
  }
  return {};
}

error_code static_users::load(std::string_view text,
                              std::vector<std::pair<std::size_t, error_code>>* errors) {
  error_code first;
  std::size_t number = 0;
  for (auto line : split(text, '\n')) {
    ++number;
    user_entry e;
    bool empty = false;
    auto ec = parse_line(line, e, empty);
    if (!ec && !empty) ec = add(std::move(e));
    if (ec) {
      if (!first) first = ec;
      if (errors) errors->emplace_back(number, ec);
    }
  }
  return first;
}

error_code static_users::add(user_entry e) {
  if (!password_disabled(e.password_hash) && !crypto::password_hash_supported(e.password_hash)) {
    return errc::bad_password_hash;
  }
  if (users_.count(e.name)) return errc::duplicate_user;
  e.view.read_only = e.view.read_only || e.perms.read_only;
  e.perms.read_only = e.view.read_only;
  auto name = e.name;
  users_.emplace(std::move(name), std::move(e));
  return {};
}

method_set static_users::methods(const request& r) const {
  auto it = users_.find(r.user);
  // Unknown users are offered what a default user is, so the answer reveals nothing.
  if (it == users_.end()) return {method::password, method::keyboard_interactive};
  return it->second.methods;
}

result static_users::check_password(const request& r, byte_view password) const {
  auto it = users_.find(r.user);
  bool usable = it != users_.end() && !password_disabled(it->second.password_hash) &&
                it->second.methods.contains(method::password);
  if (!usable) {
    // Same work as a real check, then deny.
    (void)crypto::verify_password(password, dummy_);
    return std::nullopt;
  }
  if (!crypto::verify_password(password, it->second.password_hash)) return std::nullopt;
  const auto& e = it->second;
  return grant{e.name, e.view, e.perms};
}

std::optional<challenge> static_users::start_keyboard_interactive(const request& r) const {
  auto it = users_.find(r.user);
  if (it != users_.end() && !it->second.methods.contains(method::keyboard_interactive)) {
    return std::nullopt;
  }
  // RFC 4256 §3.2: one prompt, not echoed. Unknown users get the same prompt.
  return challenge{"", "", {prompt{"Password: ", false}}};
}

ki_step static_users::continue_keyboard_interactive(const request& r, std::size_t round,
                                                    std::span<const secure_bytes> responses) const {
  ki_step step;
  if (round != 0 || responses.size() != 1) return step;
  auto it = users_.find(r.user);
  bool usable = it != users_.end() && !password_disabled(it->second.password_hash) &&
                it->second.methods.contains(method::keyboard_interactive);
  const auto& pw = responses[0];
  if (!usable) {
    (void)crypto::verify_password(pw, dummy_);
    return step;
  }
  if (!crypto::verify_password(pw, it->second.password_hash)) return step;
  const auto& e = it->second;
  step.what = ki_step::kind::success;
  step.granted = grant{e.name, e.view, e.perms};
  return step;
}

}  // namespace ferry::auth
