// io::pipe_stream over a real child process: bytes written reach `cat` and come back, and
// shutdown_send() gives the child EOF while the read side stays usable.
#include <ferry/io/pipe_stream.hpp>

#include <support/process.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <string>

namespace {

using namespace ferry_test_support;

TEST(PipeStream, RoundTripsThroughCatAndSeesEofAfterShutdownSend) {
  temp_dir dir{"ferry-pipe-"};
  piped_process child{{"cat"}, dir / "stderr.log"};
  boost::asio::io_context io;
  ferry::io::pipe_stream s{io.get_executor(), child.release_from_child(), child.release_to_child()};

  std::string sent(100000, '\0');
  for (std::size_t i = 0; i < sent.size(); ++i) sent[i] = static_cast<char>(i * 7 + 3);
  std::string got(sent.size() + 1, '\0');
  ferry::error_code write_ec, read_ec;
  std::size_t read_n = 0;
  boost::asio::async_write(s, boost::asio::buffer(sent), [&](ferry::error_code ec, std::size_t) {
    write_ec = ec;
    ferry::error_code ignored;
    s.shutdown_send(ignored);
  });
  boost::asio::async_read(s, boost::asio::buffer(got), [&](ferry::error_code ec, std::size_t n) {
    read_ec = ec;
    read_n = n;
  });
  io.run();
  EXPECT_FALSE(write_ec);
  EXPECT_EQ(read_ec, boost::asio::error::eof);  // cat exits after our EOF: the read ends short
  ASSERT_EQ(read_n, sent.size());
  got.resize(read_n);
  EXPECT_EQ(got, sent);
  EXPECT_EQ(child.wait(std::chrono::seconds{5}), 0);
}

}  // namespace
