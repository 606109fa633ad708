// What the server tests share: a Server running on 127.0.0.1 in its own thread, a raw
// HTTP/1.1 client over a Beast tcp_stream, and an echo handler.
#pragma once

#include "http/server.h"

#include <gtest/gtest.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/ostream_sink.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <csignal>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace latchkey::http::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Runs a Server on 127.0.0.1, port 0, in its own thread; stops it when destroyed.
class RunningServer {
 public:
  RunningServer(ServerOptions options, Handler handler) {
    options.host = "127.0.0.1";
    options.port = 0;
    if (options.workers == 0) options.workers = 2;
    server_ = std::make_unique<Server>(std::move(options), std::move(handler));
    port_ = server_->listen();
    thread_ = std::thread([this] {
      server_->run();
      done_.set_value();
    });
  }
  ~RunningServer() { stop(); }

  unsigned short port() const { return port_; }
  Server& server() { return *server_; }

  // Stops the server and returns how long run() took to return (or 10 s if it did not).
  Clock::duration stop() {
    if (!thread_.joinable()) return {};
    const auto start = Clock::now();
    server_->stop();
    if (done_.get_future().wait_for(10s) != std::future_status::ready) {
      ADD_FAILURE() << "run() did not return after stop()";
      thread_.detach();  // leaking beats hanging the whole suite
      return 10s;
    }
    thread_.join();
    return Clock::now() - start;
  }

 private:
  std::unique_ptr<Server> server_;
  unsigned short port_ = 0;
  std::thread thread_;
  std::promise<void> done_;
};

// A raw HTTP client on its own io_context; every operation has a deadline so a server bug
// fails the test instead of hanging it.
class Client {
 public:
  // Connects from `source` when given: on Linux all of 127.0.0.0/8 is loopback, so clients
  // from 127.0.0.2, 127.0.0.3, ... are distinct client addresses to the server.
  explicit Client(unsigned short port, const char* source = nullptr) : stream_(ioc_) {
    stream_.expires_after(5s);
    if (source != nullptr) {
      stream_.socket().open(asio::ip::tcp::v4());
      stream_.socket().bind(asio::ip::tcp::endpoint(asio::ip::make_address(source), 0));
    }
    stream_.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }

  beast::error_code send(const std::string& data, std::chrono::seconds deadline = 5s) {
    beast::error_code result;
    stream_.expires_after(deadline);
    asio::async_write(stream_, asio::buffer(data),
                      [&](beast::error_code ec, std::size_t) { result = ec; });
    run();
    return result;
  }

  std::optional<bhttp::response<bhttp::string_body>> read(std::chrono::seconds deadline = 5s) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(1024 * 1024);
    beast::error_code result;
    stream_.expires_after(deadline);
    bhttp::async_read(stream_, buffer_, parser,
                      [&](beast::error_code ec, std::size_t) { result = ec; });
    run();
    if (result) {
      last_error_ = result;
      return std::nullopt;
    }
    return parser.release();
  }

  // Bytes the server has sent that are waiting to be read.
  std::size_t available() { return stream_.socket().available(); }

  // True when the server has closed the connection (EOF or reset) by now; unlike a read with
  // a deadline, leaves the connection open when it has not.
  bool closed_now() {
    char byte;
    const ssize_t n = ::recv(stream_.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
  }

  // True when the server closes (EOF or reset) within the deadline. A deadline that passes
  // closes the client's end.
  bool closed_within(std::chrono::milliseconds deadline) {
    beast::error_code why = drain(deadline, nullptr);
    return why && why != beast::error::timeout;
  }

  // Everything the server sends until it closes the connection.
  std::string read_all(std::chrono::milliseconds deadline) {
    std::string out = beast::buffers_to_string(buffer_.data());
    buffer_.clear();
    drain(deadline, &out);
    return out;
  }

  // Reads until the connection ends or the deadline passes, appending to `out` if given;
  // returns why reading stopped (EOF, reset, timeout).
  beast::error_code drain(std::chrono::milliseconds deadline, std::string* out) {
    beast::error_code result;
    char scratch[4096];
    stream_.expires_after(deadline);
    for (;;) {
      std::size_t got = 0;
      stream_.async_read_some(asio::buffer(scratch), [&](beast::error_code ec, std::size_t n) {
        result = ec;
        got = n;
      });
      run();
      if (out) out->append(scratch, got);
      if (result || got == 0) return result;
    }
  }

  beast::error_code last_error() const { return last_error_; }

 private:
  void run() {
    ioc_.restart();
    ioc_.run();
  }

  asio::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  beast::error_code last_error_;
};

inline Response echo(const Request& req) {
  Response r = Response::json(200, R"({"ok":true})");
  r.set("X-Method", req.method);
  r.set("X-Path", req.path);
  r.set("X-Query", req.query);
  r.set("X-Body", req.body);
  r.set("X-Remote", req.remote_addr);
  if (auto agent = req.header("user-agent")) r.set("X-Agent", std::string(*agent));
  std::string names;
  for (const auto& [name, value] : req.headers) names += name + ",";
  r.set("X-Names", names);
  return r;
}

inline std::string get(std::string_view target, std::string_view extra = "") {
  return std::string("GET ") + std::string(target) + " HTTP/1.1\r\nHost: t\r\n" +
         std::string(extra) + "\r\n";
}

// An RFC 6749 error answer from the server itself: JSON, no-store, and the connection closed.
inline void expect_oauth_error(const bhttp::response<bhttp::string_body>& res, unsigned status,
                               std::string_view error) {
  EXPECT_EQ(res.result_int(), status);
  EXPECT_EQ(res[bhttp::field::content_type], "application/json;charset=UTF-8");
  EXPECT_EQ(res[bhttp::field::cache_control], "no-store");
  EXPECT_NE(res.body().find(std::string(R"("error":")") + std::string(error) + "\""),
            std::string::npos)
      << res.body();
  EXPECT_NE(res.body().find("\"error_description\":\""), std::string::npos) << res.body();
  EXPECT_FALSE(res.keep_alive());
}

}  // namespace latchkey::http::test
