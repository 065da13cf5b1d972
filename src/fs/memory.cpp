#include <ferry/core/limits.hpp>
#include <ferry/fs/error.hpp>
#include <ferry/fs/memory.hpp>
#include <ferry/fs/path.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <deque>
#include <map>
#include <unordered_map>

namespace ferry::fs {

// --- fault injection -------------------------------------------------------------------------------

void fault_injection::fail_nth(std::size_t n, error_code ec, bool sticky) {
  std::lock_guard lock{m_};
  count_ = 0;
  fail_at_ = n;
  ec_ = ec;
  sticky_ = sticky;
}

void fault_injection::clear() {
  std::lock_guard lock{m_};
  count_ = 0;
  fail_at_ = std::numeric_limits<std::size_t>::max();
  sticky_ = false;
  ec_ = {};
}

std::size_t fault_injection::operations() const {
  std::lock_guard lock{m_};
  return count_;
}

error_code fault_injection::next() {
  std::lock_guard lock{m_};
  auto i = count_++;
  if (i == fail_at_ || (sticky_ && i > fail_at_)) return ec_;
  return {};
}

// --- the tree --------------------------------------------------------------------------------------

namespace {
constexpr std::uint64_t chunk_size = 64 * 1024;
std::int64_t now() { return static_cast<std::int64_t>(std::time(nullptr)); }
}  // namespace

struct memory_core::node {
  std::uint32_t mode = 0;
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::int64_t atime = 0;
  std::int64_t mtime = 0;
  std::uint64_t links = 1;                                   // names that refer to a file
  std::map<std::string, std::shared_ptr<node>> children;     // directory
  std::map<std::uint64_t, bytes> chunks;                     // regular file, sparse
  std::uint64_t size = 0;
  std::string target;                                        // symlink

  bool is_dir() const noexcept { return (mode & mode::type_mask) == mode::directory; }
  bool is_link() const noexcept { return (mode & mode::type_mask) == mode::symlink; }
  bool is_file() const noexcept { return (mode & mode::type_mask) == mode::regular; }

  attributes attrs() const {
    attributes a;
    a.permissions = mode;
    a.uid = uid;
    a.gid = gid;
    a.atime = atime;
    a.mtime = mtime;
    if (is_dir()) {
      a.size = children.size();
      a.link_count = 2 + static_cast<std::uint64_t>(std::count_if(
                             children.begin(), children.end(),
                             [](const auto& c) { return c.second->is_dir(); }));
    } else {
      a.size = is_link() ? target.size() : size;
      a.link_count = links;
    }
    return a;
  }

  void read(std::uint64_t offset, mutable_byte_view out) const {
    std::size_t done = 0;
    while (done < out.size()) {
      std::uint64_t pos = offset + done;
      std::uint64_t index = pos / chunk_size;
      std::uint64_t in = pos % chunk_size;
      std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(chunk_size - in,
                                                                          out.size() - done));
      auto it = chunks.find(index);
      if (it == chunks.end()) std::memset(out.data() + done, 0, take);
      else std::memcpy(out.data() + done, it->second.data() + in, take);
      done += take;
    }
  }

  void write(std::uint64_t offset, byte_view data) {
    std::size_t done = 0;
    while (done < data.size()) {
      std::uint64_t pos = offset + done;
      std::uint64_t index = pos / chunk_size;
      std::uint64_t in = pos % chunk_size;
      std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(chunk_size - in,
                                                                          data.size() - done));
      auto& c = chunks[index];
      if (c.empty()) c.assign(chunk_size, 0);
      std::memcpy(c.data() + in, data.data() + done, take);
      done += take;
    }
    size = std::max<std::uint64_t>(size, offset + data.size());
  }

  void truncate(std::uint64_t n) {
    if (n < size) {
      chunks.erase(chunks.lower_bound((n + chunk_size - 1) / chunk_size), chunks.end());
      auto it = chunks.find(n / chunk_size);
      if (it != chunks.end() && n % chunk_size != 0) {
        std::fill(it->second.begin() + static_cast<std::ptrdiff_t>(n % chunk_size),
                  it->second.end(), std::uint8_t{0});
      }
    }
    size = n;
  }
};

struct memory_core::open_entry {
  const memory_core* owner = nullptr;
  std::shared_ptr<node> target;
  bool read = false;
  bool write = false;
  bool append = false;
  std::vector<dir_entry> listing;  // directories: a snapshot taken by opendir
  std::size_t position = 0;
};

struct memory_core::store {
  explicit store(memory_options o) : opts(std::move(o)) {}
  memory_options opts;
  mutable std::mutex m;
  std::uint64_t used = 0;
  std::unordered_map<std::uint64_t, open_entry> handles;
  std::uint64_t next_handle = 1;
  fault_injection faults;

  std::shared_ptr<node> make(std::uint32_t type, std::uint32_t perms) const {
    auto n = std::make_shared<node>();
    n->mode = type | (perms & mode::permission_mask & ~opts.umask);
    n->uid = opts.uid;
    n->gid = opts.gid;
    n->atime = n->mtime = now();
    return n;
  }

  // A name went away: a file whose last name this was no longer counts towards the capacity.
  void unlinked(node& n) {
    if (n.is_file() && n.links > 0 && --n.links == 0) used -= std::min(used, n.size);
  }
};

// The outcome of a walk: the directory holding the last component, its name and what it names
// (null when missing), and the names that led there.
struct memory_core::resolved {
  std::shared_ptr<node> parent;
  std::string name;
  std::shared_ptr<node> target;
  std::vector<std::shared_ptr<node>> stack;  // directories from the root down to parent
  std::vector<std::string> names;
};

memory_core::memory_core(std::shared_ptr<store> s, std::shared_ptr<node> root, std::string home,
                         bool read_only)
    : store_(std::move(s)), root_(std::move(root)), home_(std::move(home)), read_only_(read_only) {}

memory_core::~memory_core() {
  std::lock_guard lock{store_->m};
  std::erase_if(store_->handles, [this](const auto& kv) { return kv.second.owner == this; });
}

std::shared_ptr<memory_core> memory_core::create(memory_options opts) {
  std::string home;
  if (path::normalize(opts.home, "/", home)) home = "/";
  bool ro = opts.read_only;
  auto s = std::make_shared<store>(std::move(opts));
  auto root = s->make(mode::directory, 0755);
  root->mode = mode::directory | 0755;  // the umask is for what clients create
  return std::make_shared<memory_core>(std::move(s), std::move(root), std::move(home), ro);
}

std::shared_ptr<memory_core> memory_core::for_user(const user_view& v, error_code& ec) const {
  std::string root;
  std::string home;
  if ((ec = path::normalize(v.root, "/", root))) return nullptr;
  if ((ec = path::normalize(v.home, "/", home))) return nullptr;
  std::lock_guard lock{store_->m};
  resolved r;
  if ((ec = walk(root, true, r))) return nullptr;
  if (!r.target->is_dir()) {
    ec = from_errno(ENOTDIR);
    return nullptr;
  }
  return std::make_shared<memory_core>(store_, r.target, std::move(home),
                                       read_only_ || v.read_only);
}

fault_injection& memory_core::faults() const noexcept { return store_->faults; }

std::uint64_t memory_core::used_bytes() const {
  std::lock_guard lock{store_->m};
  return store_->used;
}

std::size_t memory_core::open_handles() const {
  std::lock_guard lock{store_->m};
  return static_cast<std::size_t>(std::count_if(
      store_->handles.begin(), store_->handles.end(),
      [this](const auto& kv) { return kv.second.owner == this; }));
}

// Counts the operation for fault injection, checks the path and, for a change, read-only mode.
error_code memory_core::prepare(std::string_view p, std::string& canonical, bool mutating) {
  if (auto ec = store_->faults.next()) return ec;
  if (auto ec = path::normalize(p, home_, canonical)) return ec;
  if (mutating && read_only_) return make_error(boost::system::errc::read_only_file_system);
  return {};
}

// The same chroot rules as fs::path's walk: ".." stops at the root, an absolute symlink target
// starts again from the root, at most limits::fs_max_symlinks links per path.
error_code memory_core::walk(std::string_view canonical, bool follow_last, resolved& out) const {
  out = {};
  out.stack.push_back(root_);
  std::deque<std::string> todo;
  for (auto c : path::components(canonical)) todo.emplace_back(c);
  std::size_t links = 0;
  while (!todo.empty()) {
    std::string comp = std::move(todo.front());
    todo.pop_front();
    if (comp.empty() || comp == ".") continue;
    if (comp == "..") {
      if (out.stack.size() > 1) {
        out.stack.pop_back();
        out.names.pop_back();
      }
      continue;
    }
    auto& dir = out.stack.back();
    if (!dir->is_dir()) return from_errno(ENOTDIR);
    bool last = todo.empty();
    auto it = dir->children.find(comp);
    std::shared_ptr<node> child = it == dir->children.end() ? nullptr : it->second;
    if (last && (!follow_last || !child || !child->is_link())) {
      out.parent = dir;
      out.name = std::move(comp);
      out.target = child;
      if (!child) return from_errno(ENOENT);
      out.names.push_back(out.name);
      return {};
    }
    if (!child) return from_errno(ENOENT);
    if (child->is_link()) {
      if (++links > limits::fs_max_symlinks) return from_errno(ELOOP);
      if (!child->target.empty() && child->target.front() == '/') {
        out.stack.resize(1);
        out.names.clear();
      }
      auto parts = path::components(child->target);
      todo.insert(todo.begin(), parts.begin(), parts.end());
      continue;
    }
    if (!child->is_dir()) return from_errno(ENOTDIR);
    out.stack.push_back(child);
    out.names.push_back(std::move(comp));
  }
  // Everything consumed: the path named a directory on the stack ("/", or a trailing "..").
  out.target = out.stack.back();
  if (out.stack.size() > 1) {
    out.parent = out.stack[out.stack.size() - 2];
    out.name = out.names.back();
  }
  return {};
}

error_code memory_core::stat(std::string_view p, attributes& out) {
  std::string c;
  if (auto ec = prepare(p, c, false)) return ec;
  std::lock_guard lock{store_->m};
  resolved r;
  if (auto ec = walk(c, true, r)) return ec;
  out = r.target->attrs();
  return {};
}

error_code memory_core::lstat(std::string_view p, attributes& out) {
  std::string c;
  if (auto ec = prepare(p, c, false)) return ec;
  std::lock_guard lock{store_->m};
  resolved r;
  if (auto ec = walk(c, false, r)) return ec;
  out = r.target->attrs();
  return {};
}

error_code memory_core::open(std::string_view p, const open_mode& m, handle& out) {
  std::string c;
  bool changes = m.write || m.append || m.create || m.truncate;
  if (auto ec = prepare(p, c, changes)) return ec;
  std::lock_guard lock{store_->m};
  resolved r;
  error_code ec;
  if (m.create && m.exclusive) {
    // open(2): O_CREAT|O_EXCL fails on any existing name, a symlink included, and never follows.
    ec = walk(c, false, r);
    if (!ec) return from_errno(EEXIST);
  } else {
    ec = walk(c, true, r);
  }
  auto target = r.target;
  if (ec) {
    if (ec != boost::system::errc::no_such_file_or_directory || !m.create || !r.parent ||
        r.target) {
      return ec;
    }
    target = store_->make(mode::regular, m.permissions);
    r.parent->children.emplace(r.name, target);
    r.parent->mtime = now();
  } else if (target->is_dir()) {
    return from_errno(EISDIR);
  } else if (!target->is_file()) {
    return from_errno(EINVAL);
  }
  if (m.truncate && target->size > 0) {
    store_->used -= std::min(store_->used, target->size);
    target->truncate(0);
    target->mtime = now();
  }
  open_entry e;
  e.owner = this;
  e.target = std::move(target);
  e.read = m.read || !changes;
  e.write = m.write || m.append;
  e.append = m.append;
  out = handle{store_->next_handle++};
  store_->handles.emplace(out.id, std::move(e));
  return {};
}

error_code memory_core::fstat(handle h, attributes& out) {
  if (auto ec = store_->faults.next()) return ec;
  std::lock_guard lock{store_->m};
  auto it = store_->handles.find(h.id);
  if (it == store_->handles.end() || it->second.owner != this) return from_errno(EBADF);
  out = it->second.target->attrs();
  return {};
}

error_code memory_core::read_at(handle h, std::uint64_t offset, mutable_byte_view buf,
                                std::size_t& n) {
  n = 0;
  if (auto ec = store_->faults.next()) return ec;
  std::lock_guard lock{store_->m};
  auto it = store_->handles.find(h.id);
  if (it == store_->handles.end() || it->second.owner != this || !it->second.read ||
      !it->second.target->is_file()) {
    return from_errno(EBADF);
  }
  if (buf.empty()) return {};
  auto& f = *it->second.target;
  if (offset >= f.size) return boost::asio::error::eof;
  auto len = std::min<std::uint64_t>({buf.size(), f.size - offset, store_->faults.max_io()});
  f.read(offset, buf.first(static_cast<std::size_t>(len)));
  n = static_cast<std::size_t>(len);
  return {};
}

error_code memory_core::write_at(handle h, std::uint64_t offset, byte_view data, std::size_t& n) {
  n = 0;
  if (auto ec = store_->faults.next()) return ec;
  std::lock_guard lock{store_->m};
  auto it = store_->handles.find(h.id);
  if (it == store_->handles.end() || it->second.owner != this || !it->second.write) {
    return from_errno(EBADF);
  }
  if (data.empty()) return {};
  auto& f = *it->second.target;
  if (it->second.append) offset = f.size;  // O_APPEND: the offset is ignored (pwrite(2), Linux)
  auto len = std::min<std::uint64_t>(data.size(), store_->faults.max_io());
  if (offset > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) - len) {
    return from_errno(EFBIG);
  }
  std::uint64_t grow = offset + len > f.size ? offset + len - f.size : 0;
  if (grow > store_->opts.capacity - std::min(store_->opts.capacity, store_->used)) {
    return from_errno(ENOSPC);  // nothing written
  }
  f.write(offset, data.first(static_cast<std::size_t>(len)));
  store_->used += grow;
  f.mtime = now();
  n = static_cast<std::size_t>(len);
  return {};
}

error_code memory_core::close(handle h) {
  if (auto ec = store_->faults.next()) return ec;
  std::lock_guard lock{store_->m};
  auto it = store_->handles.find(h.id);
  if (it == store_->handles.end() || it->second.owner != this) return from_errno(EBADF);
  store_->handles.erase(it);
  return {};
}

error_code memory_core::fsync(handle h) {
  if (auto ec = store_->faults.next()) return ec;
  std::lock_guard lock{store_->m};
  auto it = store_->handles.find(h.id);
  if (it == store_->handles.end() || it->second.owner != this) return from_errno(EBADF);
  return {};
}

error_code memory_core::opendir(std::string_view p, handle& out) {
  std::string c;
  if (auto ec = prepare(p, c, false)) return ec;
  std::lock_guard lock{store_->m};
  resolved r;
  if (auto ec = walk(c, true, r)) return ec;
  if (!r.target->is_dir()) return from_errno(ENOTDIR);
  open_entry e;
  e.owner = this;
  e.target = r.target;
  for (const auto& [name, child] : r.target->children) e.listing.push_back({name, child->attrs()});
  out = handle{store_->next_handle++};
  store_->handles.emplace(out.id, std::move(e));
  return {};
}

error_code memory_core::readdir(handle h, std::vector<dir_entry>& out) {
  out.clear();
  if (auto ec = store_->faults.next()) return ec;
  std::lock_guard lock{store_->m};
  auto it = store_->handles.find(h.id);
  if (it == store_->handles.end() || it->second.owner != this || !it->second.target->is_dir()) {
    return from_errno(EBADF);
  }
  auto& e = it->second;
  if (e.position >= e.listing.size()) return boost::asio::error::eof;
  auto end = std::min(e.listing.size(), e.position + limits::fs_readdir_batch);
  for (; e.position < end; ++e.position) out.push_back(e.listing[e.position]);
  return {};
}

error_code memory_core::mkdir(std::string_view p, std::uint32_t perms) {
  std::string c;
  if (auto ec = prepare(p, c, true)) return ec;
  std::lock_guard lock{store_->m};
  resolved r;
  auto ec = walk(c, false, r);
  if (!ec || r.target) return from_errno(EEXIST);
  if (!r.parent) return ec;
  r.parent->children.emplace(r.name, store_->make(mode::directory, perms));
  r.parent->mtime = now();
  return {};
}

error_code memory_core::rmdir(std::string_view p) {
  std::string c;
  if (auto ec = prepare(p, c, true)) return ec;
  std::lock_guard lock{store_->m};
  resolved r;
  if (auto ec = walk(c, false, r)) return ec;
  if (!r.parent) return from_errno(EBUSY);
  if (!r.target->is_dir()) return from_errno(ENOTDIR);
  if (!r.target->children.empty()) return from_errno(ENOTEMPTY);
  r.parent->children.erase(r.name);
  r.parent->mtime = now();
  return {};
}

error_code memory_core::remove(std::string_view p) {
  std::string c;
  if (auto ec = prepare(p, c, true)) return ec;
  std::lock_guard lock{store_->m};
  resolved r;
  if (auto ec = walk(c, false, r)) return ec;
  if (!r.parent || r.target->is_dir()) return from_errno(EISDIR);  // as Linux unlink(2)
  store_->unlinked(*r.target);
  r.parent->children.erase(r.name);
  r.parent->mtime = now();
  return {};
}

error_code memory_core::rename_impl(std::string_view from, std::string_view to, bool replace) {
  std::string cf;
  std::string ct;
  if (auto ec = prepare(from, cf, true)) return ec;
  if (auto ec = path::normalize(to, home_, ct)) return ec;
  std::lock_guard lock{store_->m};
  resolved rf;
  resolved rt;
  if (auto ec = walk(cf, false, rf)) return ec;
  auto ect = walk(ct, false, rt);
  if (ect && (rt.target || !rt.parent)) return ect;
  if (!rf.parent || !rt.parent) return from_errno(EBUSY);
  auto src = rf.target;
  // A directory cannot move below itself (rename(2): EINVAL).
  if (src->is_dir()) {
    for (const auto& d : rt.stack) {
      if (d == src) return from_errno(EINVAL);
    }
  }
  if (rt.target) {
    if (!replace) return from_errno(EEXIST);
    if (rt.target == src) return {};  // the same file: rename(2) does nothing
    if (src->is_dir() && !rt.target->is_dir()) return from_errno(ENOTDIR);
    if (!src->is_dir() && rt.target->is_dir()) return from_errno(EISDIR);
    if (rt.target->is_dir() && !rt.target->children.empty()) return from_errno(ENOTEMPTY);
    store_->unlinked(*rt.target);
  }
  // One step under the lock: the new name appears and the old goes together.
  rt.parent->children[rt.name] = src;
  rf.parent->children.erase(rf.name);
  rf.parent->mtime = rt.parent->mtime = now();
  return {};
}

error_code memory_core::rename(std::string_view from, std::string_view to) {
  return rename_impl(from, to, false);
}

error_code memory_core::posix_rename(std::string_view from, std::string_view to) {
  return rename_impl(from, to, true);
}

error_code memory_core::symlink(std::string_view target, std::string_view link_path) {
  std::string c;
  if (auto ec = prepare(link_path, c, true)) return ec;
  if (target.empty()) return from_errno(ENOENT);
  if (target.size() > limits::fs_max_path) return from_errno(ENAMETOOLONG);
  if (target.find('\0') != std::string_view::npos) return from_errno(EINVAL);
  std::lock_guard lock{store_->m};
  resolved r;
  auto ec = walk(c, false, r);
  if (!ec || r.target) return from_errno(EEXIST);
  if (!r.parent) return ec;
  auto n = store_->make(mode::symlink, 0777);
  n->mode = mode::symlink | 0777;
  n->target = std::string{target};
  r.parent->children.emplace(r.name, std::move(n));
  r.parent->mtime = now();
  return {};
}

error_code memory_core::readlink(std::string_view p, std::string& out) {
  std::string c;
  if (auto ec = prepare(p, c, false)) return ec;
  std::lock_guard lock{store_->m};
  resolved r;
  if (auto ec = walk(c, false, r)) return ec;
  if (!r.target->is_link()) return from_errno(EINVAL);
  out = r.target->target;
  return {};
}

error_code memory_core::hardlink(std::string_view existing, std::string_view new_path) {
  std::string ce;
  std::string cn;
  if (auto ec = prepare(existing, ce, true)) return ec;
  if (auto ec = path::normalize(new_path, home_, cn)) return ec;
  std::lock_guard lock{store_->m};
  resolved re;
  resolved rn;
  if (auto ec = walk(ce, false, re)) return ec;
  if (re.target->is_dir()) return from_errno(EPERM);  // link(2): no hard links to directories
  auto ec = walk(cn, false, rn);
  if (!ec || rn.target) return from_errno(EEXIST);
  if (!rn.parent) return ec;
  rn.parent->children.emplace(rn.name, re.target);
  ++re.target->links;
  rn.parent->mtime = now();
  return {};
}

error_code memory_core::realpath(std::string_view p, std::string& out) {
  std::string c;
  if (auto ec = prepare(p, c, false)) return ec;
  std::lock_guard lock{store_->m};
  resolved r;
  if (auto ec = walk(c, true, r)) return ec;
  out.clear();
  for (const auto& n : r.names) {
    out += '/';
    out += n;
  }
  if (out.empty()) out = "/";
  return {};
}

namespace {

error_code apply_to(memory_core::node& n, const set_attributes& a, std::uint64_t& used,
                    std::uint64_t capacity);

}  // namespace

error_code memory_core::setstat(std::string_view p, const set_attributes& a) {
  std::string c;
  if (auto ec = prepare(p, c, true)) return ec;
  std::lock_guard lock{store_->m};
  resolved r;
  if (auto ec = walk(c, true, r)) return ec;
  return apply_to(*r.target, a, store_->used, store_->opts.capacity);
}

error_code memory_core::fsetstat(handle h, const set_attributes& a) {
  if (auto ec = store_->faults.next()) return ec;
  if (read_only_) return make_error(boost::system::errc::read_only_file_system);
  std::lock_guard lock{store_->m};
  auto it = store_->handles.find(h.id);
  if (it == store_->handles.end() || it->second.owner != this) return from_errno(EBADF);
  return apply_to(*it->second.target, a, store_->used, store_->opts.capacity);
}

namespace {

// Checks everything first, then changes: a refused setstat leaves the node as it was.
error_code apply_to(memory_core::node& n, const set_attributes& a, std::uint64_t& used,
                    std::uint64_t capacity) {
  if (a.size) {
    if (n.is_dir()) return from_errno(EISDIR);
    if (!n.is_file()) return from_errno(EINVAL);
    if (*a.size > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return from_errno(EINVAL);
    }
    if (*a.size > n.size && *a.size - n.size > capacity - std::min(capacity, used)) {
      return from_errno(ENOSPC);
    }
  }
  if (a.size && *a.size != n.size) {
    if (*a.size > n.size) used += *a.size - n.size;
    else used -= std::min(used, n.size - *a.size);
    n.truncate(*a.size);
    n.mtime = now();
  }
  if (a.uid) n.uid = *a.uid;
  if (a.gid) n.gid = *a.gid;
  if (a.permissions) n.mode = (n.mode & mode::type_mask) | (*a.permissions & mode::permission_mask);
  if (a.atime) n.atime = *a.atime;
  if (a.mtime) n.mtime = *a.mtime;
  return {};
}

}  // namespace

error_code memory_core::statvfs(std::string_view p, fs_stats& out) {
  std::string c;
  if (auto ec = prepare(p, c, false)) return ec;
  std::lock_guard lock{store_->m};
  resolved r;
  if (auto ec = walk(c, true, r)) return ec;
  constexpr std::uint64_t block = 4096;
  auto cap = store_->opts.capacity;
  out = {};
  out.block_size = out.fragment_size = block;
  out.blocks = cap / block;
  out.blocks_free = out.blocks_available = (cap - std::min(cap, store_->used)) / block;
  out.files = out.files_free = out.files_available = std::numeric_limits<std::uint32_t>::max();
  out.flags = read_only_ ? 1u : 0u;
  out.name_max = limits::fs_max_name;
  return {};
}

}  // namespace ferry::fs
