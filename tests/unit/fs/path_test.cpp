// fs::path: the lexical half of the path policy.
#include <ferry/core/limits.hpp>
#include <ferry/fs/error.hpp>
#include <ferry/fs/path.hpp>

#include <gtest/gtest.h>

namespace ferry::fs {
namespace {

using boost::system::errc::errc_t;

std::string norm(std::string_view p, std::string_view home = "/") {
  std::string out;
  auto ec = path::normalize(p, home, out);
  return ec ? "error:" + ec.message() : out;
}

TEST(path_normalize, absolute_paths_ignore_the_home) {
  EXPECT_EQ(norm("/a/b", "/home/u"), "/a/b");
  EXPECT_EQ(norm("/", "/home/u"), "/");
}

TEST(path_normalize, relative_and_empty_paths_start_at_the_home) {
  EXPECT_EQ(norm("x", "/home/u"), "/home/u/x");
  EXPECT_EQ(norm("", "/home/u"), "/home/u");
  EXPECT_EQ(norm(".", "/home/u"), "/home/u");
}

TEST(path_normalize, dot_dot_never_climbs_above_the_root) {
  EXPECT_EQ(norm("/.."), "/");
  EXPECT_EQ(norm("../../../etc/passwd", "/home/u"), "/etc/passwd");
  EXPECT_EQ(norm("/a/../../b"), "/b");
  EXPECT_EQ(norm("a/./b//c/", "/"), "/a/b/c");
}

TEST(path_normalize, nul_bytes_are_refused) {
  std::string out;
  EXPECT_EQ(path::normalize(std::string_view("a\0b", 3), "/", out), errc_t::invalid_argument);
  EXPECT_EQ(path::normalize("a", std::string_view("/h\0", 3), out), errc_t::invalid_argument);
}

TEST(path_normalize, over_long_paths_and_names_are_refused) {
  std::string out;
  EXPECT_EQ(path::normalize(std::string(limits::fs_max_path + 1, 'a'), "/", out),
            errc_t::filename_too_long);
  EXPECT_EQ(path::normalize("/" + std::string(limits::fs_max_name + 1, 'a'), "/", out),
            errc_t::filename_too_long);
  EXPECT_FALSE(path::normalize("/" + std::string(limits::fs_max_name, 'a'), "/", out));
}

TEST(path_split, last_component_and_its_directory) {
  EXPECT_EQ(path::split_last("/a/b"), (std::pair<std::string_view, std::string_view>{"/a", "b"}));
  EXPECT_EQ(path::split_last("/a"), (std::pair<std::string_view, std::string_view>{"/", "a"}));
  EXPECT_EQ(path::split_last("/"), (std::pair<std::string_view, std::string_view>{"/", ""}));
  EXPECT_EQ(path::join("/", "x"), "/x");
  EXPECT_EQ(path::join("/a", "x"), "/a/x");
  EXPECT_EQ(path::components("/a/b").size(), 2u);
  EXPECT_TRUE(path::components("/").empty());
}

TEST(path_names, plain_names_exclude_dots_slashes_and_nul) {
  EXPECT_TRUE(path::is_plain_name("file.txt"));
  EXPECT_FALSE(path::is_plain_name(""));
  EXPECT_FALSE(path::is_plain_name("."));
  EXPECT_FALSE(path::is_plain_name(".."));
  EXPECT_FALSE(path::is_plain_name("a/b"));
  EXPECT_FALSE(path::is_plain_name(std::string_view("a\0", 2)));
}

TEST(error_kinds, errno_values_map_to_protocol_classes_in_one_place) {
  EXPECT_EQ(kind_of({}), error_kind::ok);
  EXPECT_EQ(kind_of(from_errno(ENOENT)), error_kind::no_such_file);
  EXPECT_EQ(kind_of(from_errno(EACCES)), error_kind::permission_denied);
  EXPECT_EQ(kind_of(from_errno(EEXIST)), error_kind::already_exists);
  EXPECT_EQ(kind_of(from_errno(ENOSPC)), error_kind::no_space);
  EXPECT_EQ(kind_of(from_errno(EROFS)), error_kind::read_only);
  EXPECT_EQ(kind_of(from_errno(EIO)), error_kind::failure);
  EXPECT_EQ(kind_of(unsupported()), error_kind::unsupported);
  EXPECT_EQ(kind_of(make_error_code(ferry::errc::injected_failure)), error_kind::failure);
  EXPECT_EQ(from_errno(ENOENT), std::errc::no_such_file_or_directory);
}

}  // namespace
}  // namespace ferry::fs
