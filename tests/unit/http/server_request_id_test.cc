// Request ids at the server (http/request_id.h): an acceptable X-Request-Id is the request's id,
// anything else is replaced by a new one; either way the handler sees it, the response carries
// it and the access line names it.
#include <gtest/gtest.h>

#include "unit/http/server_fixture.h"

namespace latchkey::http {
namespace {

using namespace test;  // NOLINT(google-build-using-namespace)

// Answers with the id the handler saw, in the body.
Response id_echo(const Request& req) { return Response::json(200, req.request_id); }

std::string with_id(std::string_view id) {
  return get("/x", "X-Request-Id: " + std::string(id) + "\r\n");
}

TEST(ServerRequestId, AnAcceptableIdComesBackAndReachesTheHandler) {
  RunningServer server({}, id_echo);
  Client client(server.port());
  ASSERT_FALSE(client.send(with_id("f47ac10b-58cc-4372-a567-0e02b2c3d479")));
  auto res = client.read();
  ASSERT_TRUE(res) << client.last_error().message();
  EXPECT_EQ((*res)["X-Request-Id"], "f47ac10b-58cc-4372-a567-0e02b2c3d479");
  EXPECT_EQ(res->body(), "f47ac10b-58cc-4372-a567-0e02b2c3d479");
}

TEST(ServerRequestId, WithoutOneEachRequestGetsANewId) {
  RunningServer server({}, id_echo);
  Client client(server.port());
  ASSERT_FALSE(client.send(get("/x") + get("/y")));
  auto first = client.read();
  auto second = client.read();
  ASSERT_TRUE(first && second) << client.last_error().message();
  const std::string a((*first)["X-Request-Id"]);
  const std::string b((*second)["X-Request-Id"]);
  EXPECT_EQ(a.size(), 22u) << a;
  EXPECT_EQ(first->body(), a);
  EXPECT_EQ(second->body(), b);
  EXPECT_NE(a, b);
}

TEST(ServerRequestId, TooLongOrWithASpaceIsReplaced) {
  RunningServer server({}, id_echo);
  for (const std::string& bad :
       {std::string(200, 'a'), std::string("two words"), std::string("caf\xc3\xa9")}) {
    Client client(server.port());
    ASSERT_FALSE(client.send(with_id(bad)));
    auto res = client.read();
    ASSERT_TRUE(res) << client.last_error().message();
    const std::string id((*res)["X-Request-Id"]);
    EXPECT_EQ(id.size(), 22u) << id;
    EXPECT_NE(id, bad);
    EXPECT_EQ(res->body(), id) << "the handler sees the id the client is told";
  }
}

TEST(ServerRequestId, AControlCharacterIsNeverReflected) {
  RunningServer server({}, id_echo);
  Client client(server.port());
  // Whether the parser refuses the field (400) or the request is served, the id that comes
  // back is one of ours.
  ASSERT_FALSE(
      client.send(with_id("abc\x01"
                          "def")));
  auto res = client.read();
  ASSERT_TRUE(res) << client.last_error().message();
  const std::string id((*res)["X-Request-Id"]);
  EXPECT_EQ(id.size(), 22u) << id;
  EXPECT_EQ(id.find("abc"), std::string::npos);
}

TEST(ServerRequestId, TheHandlersOwnFieldDoesNotReplaceIt) {
  RunningServer server({}, [](const Request&) {
    Response r = Response::json(200, "{}");
    r.set("X-Request-Id", "from-the-handler");
    return r;
  });
  Client client(server.port());
  ASSERT_FALSE(client.send(with_id("from-the-client")));
  auto res = client.read();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->count("X-Request-Id"), 1u);
  EXPECT_EQ((*res)["X-Request-Id"], "from-the-client");
}

TEST(ServerRequestId, ARequestRefusedBeforeTheHandlerCarriesOneToo) {
  std::ostringstream log_text;
  auto log = std::make_shared<spdlog::logger>(
      "test", std::make_shared<spdlog::sinks::ostream_sink_mt>(log_text));
  ServerOptions options;
  options.log = log;
  RunningServer server(options, id_echo);
  Client client(server.port());
  ASSERT_FALSE(client.send("GARBAGE\r\n\r\n"));
  auto res = client.read();
  ASSERT_TRUE(res) << client.last_error().message();
  expect_oauth_error(*res, 400, "invalid_request");
  const std::string id((*res)["X-Request-Id"]);
  EXPECT_EQ(id.size(), 22u) << id;
  server.stop();
  log->flush();
  EXPECT_NE(log_text.str().find("request_id=" + id), std::string::npos) << log_text.str();
}

TEST(ServerRequestId, TheAccessLineNamesIt) {
  std::ostringstream log_text;
  auto log = std::make_shared<spdlog::logger>(
      "test", std::make_shared<spdlog::sinks::ostream_sink_mt>(log_text));
  ServerOptions options;
  options.log = log;
  RunningServer server(options, id_echo);
  Client client(server.port());
  ASSERT_FALSE(client.send(with_id("trace-42") + get("/y")));
  auto given = client.read();
  auto made = client.read();
  ASSERT_TRUE(given && made);
  server.stop();
  log->flush();
  const std::string text = log_text.str();
  EXPECT_NE(text.find("path=/x status=200 "), std::string::npos) << text;
  EXPECT_NE(text.find(" request_id=trace-42\n"), std::string::npos) << text;
  EXPECT_NE(text.find(" request_id=" + std::string((*made)["X-Request-Id"]) + "\n"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace latchkey::http
