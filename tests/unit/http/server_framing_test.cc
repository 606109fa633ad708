// Request framing and request smuggling (RFC 9112 §6.1, §6.3, §3.2, §5.2): a request whose body
// length the server cannot determine the way every other reader of the stream would is answered
// once with an error and its connection closed, so the bytes after its head are never taken for
// the next request.
#include <gtest/gtest.h>

#include "unit/http/server_fixture.h"

namespace latchkey::http {
namespace {

using namespace test;  // NOLINT(google-build-using-namespace)

// A request hidden where the server must not look for one: in the body of the request before
// it, as a front-end proxy framing that body differently would forward it.
const std::string kSmuggled = "GET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n";

// Counts the responses in what the server sent: each carries one Server field, and the bodies
// here are short JSON that cannot contain one.
std::size_t responses_in(const std::string& raw) {
  std::size_t n = 0;
  for (std::size_t at = raw.find("\r\nServer: "); at != std::string::npos;
       at = raw.find("\r\nServer: ", at + 1)) {
    ++n;
  }
  return n;
}

// A server whose handler records the path of every request it is given.
class FramingTest : public ::testing::Test {
 protected:
  FramingTest()
      : server_({}, [this](const Request& req) {
          std::lock_guard lock(mu_);
          paths_.push_back(req.path);
          return Response::json(200, "\"" + req.body + "\"");
        }) {}

  std::vector<std::string> paths() {
    std::lock_guard lock(mu_);
    return paths_;
  }

  // Sends `raw` followed by kSmuggled on one connection and reads until the server closes it:
  // exactly one answer, `status` with the JSON invalid_request error and Connection: close, and
  // the handler never saw the smuggled request.
  void expect_refused_alone(const std::string& raw, unsigned status, std::string_view reason) {
    SCOPED_TRACE(raw);
    Client client(server_.port());
    ASSERT_FALSE(client.send(raw + kSmuggled));
    std::string answer;
    const beast::error_code why = client.drain(3s, &answer);
    EXPECT_TRUE(why && why != beast::error::timeout) << "the connection stayed open";
    EXPECT_EQ(responses_in(answer), 1u) << answer;
    EXPECT_EQ(answer.rfind("HTTP/1.1 " + std::to_string(status) + " ", 0), 0u) << answer;
    EXPECT_NE(answer.find("\r\nConnection: close\r\n"), std::string::npos) << answer;
    EXPECT_NE(answer.find("\r\nContent-Type: application/json;charset=UTF-8\r\n"),
              std::string::npos)
        << answer;
    EXPECT_NE(answer.find("\r\nCache-Control: no-store\r\n"), std::string::npos) << answer;
    EXPECT_NE(answer.find(R"({"error":"invalid_request","error_description":")"), std::string::npos)
        << answer;
    EXPECT_NE(answer.find(reason), std::string::npos) << answer;
    const auto seen = paths();
    EXPECT_EQ(std::count(seen.begin(), seen.end(), "/smuggled"), 0) << "smuggled request served";
    EXPECT_EQ(std::count(seen.begin(), seen.end(), "/token"), 0) << "unframable request served";
  }

  std::mutex mu_;
  std::vector<std::string> paths_;
  RunningServer server_;
};

std::string post_with(std::string_view fields) {
  return "POST /token HTTP/1.1\r\nHost: t\r\n" + std::string(fields) + "\r\n";
}

// RFC 9112 §6.3: Transfer-Encoding whose final coding is not chunked leaves the body length
// unknown. Beast treated such a request as having no body, so its body was parsed as the next
// request.
TEST_F(FramingTest, Answers400WhenTheFinalTransferCodingIsNotChunked) {
  for (const char* coding :
       {"xchunked", "identity", "gzip", "chunked, identity", "chunked;a=b", "", " , "}) {
    expect_refused_alone(post_with("Transfer-Encoding: " + std::string(coding) + "\r\n"), 400,
                         "Transfer-Encoding must end in chunked");
  }
}

// RFC 9110 §5.3: several Transfer-Encoding fields are one list. "chunked" then "gzip" ends in
// gzip (400); "gzip" then "chunked" ends in chunked but asks for gzip, which we do not decode:
// RFC 9112 §6.1, 501.
TEST_F(FramingTest, CombinesTransferEncodingFieldsIntoOneList) {
  expect_refused_alone(
      post_with("Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n") + "0\r\n\r\n", 400,
      "malformed HTTP request");
  expect_refused_alone(
      post_with("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n") + "0\r\n\r\n", 501,
      "transfer coding not implemented");
  expect_refused_alone(post_with("Transfer-Encoding: gzip, chunked\r\n") + "0\r\n\r\n", 501,
                       "transfer coding not implemented");
  expect_refused_alone(post_with("Transfer-Encoding: chunked, chunked\r\n") + "0\r\n\r\n", 400,
                       "chunked applied more than once");
}

// RFC 9112 §6.1: an HTTP/1.0 request with Transfer-Encoding has faulty framing.
TEST_F(FramingTest, Answers400ForTransferEncodingInHttp10) {
  expect_refused_alone(
      "POST /token HTTP/1.0\r\nHost: t\r\nConnection: keep-alive\r\n"
      "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      400, "HTTP/1.0");
}

// RFC 9112 §6.1: both Transfer-Encoding and Content-Length, in either order, is refused rather
// than framed by one of them (a front end may have used the other).
TEST_F(FramingTest, Answers400ForTransferEncodingWithContentLength) {
  const std::string body = "0\r\n\r\n";
  expect_refused_alone(post_with("Transfer-Encoding: identity\r\nContent-Length: 5\r\n") + body,
                       400, "both Transfer-Encoding and Content-Length");
  expect_refused_alone(post_with("Transfer-Encoding: gzip\r\nContent-Length: 5\r\n") + body, 400,
                       "both Transfer-Encoding and Content-Length");
  // Beast refuses a Transfer-Encoding after a Content-Length itself.
  expect_refused_alone(post_with("Content-Length: 5\r\nTransfer-Encoding: gzip\r\n") + body, 400,
                       "malformed HTTP request");
}

// RFC 9112 §3.2: an HTTP/1.1 request without Host, or any request with two, is 400.
TEST_F(FramingTest, Answers400UnlessTheRequestHasExactlyOneHost) {
  expect_refused_alone("POST /token HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 400,
                       "missing Host header field");
  expect_refused_alone(post_with("Host: u\r\nContent-Length: 0\r\n"), 400,
                       "more than one Host header field");
  expect_refused_alone(
      "POST /token HTTP/1.0\r\nHost: t\r\nhost: t\r\nConnection: keep-alive\r\n\r\n", 400,
      "more than one Host header field");
}

// RFC 9112 §5.2: obs-fold is refused, wherever the folded line is.
TEST_F(FramingTest, Answers400ForObsoleteLineFolding) {
  expect_refused_alone(post_with("X-Folded: a\r\n b\r\nContent-Length: 0\r\n"), 400,
                       "obsolete line folding");
  expect_refused_alone(post_with("X-Folded: a\r\n\tb\r\nContent-Length: 0\r\n"), 400,
                       "obsolete line folding");
  // A folded Transfer-Encoding, the classic way to hide it from one reader of the stream.
  expect_refused_alone(post_with("Transfer-Encoding:\r\n chunked\r\n") + "0\r\n\r\n", 400,
                       "obsolete line folding");
}

// The same, with the head arriving a byte at a time: the parser consumes it in pieces, and a
// fold across two of them is still seen.
TEST_F(FramingTest, SeesObsoleteLineFoldingInAHeadSentByteByByte) {
  Client client(server_.port());
  const std::string raw = post_with("X-Folded: a\r\n b\r\nContent-Length: 0\r\n") + kSmuggled;
  for (char c : raw) {
    if (client.send(std::string(1, c))) break;  // the server may close once it has seen enough
  }
  const std::string answer = client.read_all(3s);
  EXPECT_EQ(responses_in(answer), 1u) << answer;
  EXPECT_EQ(answer.rfind("HTTP/1.1 400 ", 0), 0u) << answer;
  EXPECT_TRUE(paths().empty());
}

// Legitimate framing still works: chunked in any letter case, pipelined after and before other
// requests, and an HTTP/1.0 request without Host (RFC 9112 §3.2 requires it only of HTTP/1.1).
TEST_F(FramingTest, ServesChunkedBodiesInAnyCaseAndHttp10WithoutHost) {
  Client client(server_.port());
  ASSERT_FALSE(client.send(post_with("Transfer-Encoding: ChUnKeD\r\n") +
                           "3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\n\r\n" +
                           post_with("Transfer-Encoding: , chunked\r\n") + "1\r\nf\r\n0\r\n\r\n" +
                           post_with("Content-Length: 2\r\n") + "gh"));
  for (const char* body : {"\"abcde\"", "\"f\"", "\"gh\""}) {
    auto res = client.read();
    ASSERT_TRUE(res) << client.last_error().message();
    EXPECT_EQ(res->result_int(), 200u);
    EXPECT_EQ(res->body(), body);
  }
  Client old(server_.port());
  ASSERT_FALSE(old.send("GET /old HTTP/1.0\r\n\r\n"));
  auto res = old.read();
  ASSERT_TRUE(res) << old.last_error().message();
  EXPECT_EQ(res->result_int(), 200u);
  EXPECT_EQ(paths(), (std::vector<std::string>{"/token", "/token", "/token", "/old"}));
}

}  // namespace
}  // namespace latchkey::http
