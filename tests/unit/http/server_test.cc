// The server as an HTTP/1.1 peer: responses, keep-alive, pipelining, limits on what a request
// may be, and the access log.
#include <gtest/gtest.h>

#include "unit/http/server_fixture.h"

namespace latchkey::http {
namespace {

using namespace test;  // NOLINT(google-build-using-namespace)

TEST(Server, DeliversHandlerResponseWithHeaders) {
  RunningServer server({}, echo);
  Client client(server.port());
  ASSERT_FALSE(client.send(
      "POST /token?a=1&b=2 HTTP/1.1\r\nHost: t\r\nUser-Agent: UA/1\r\nX-Mixed-Case: v\r\n"
      "Content-Length: 5\r\n\r\nhello"));
  auto res = client.read();
  ASSERT_TRUE(res) << client.last_error().message();
  EXPECT_EQ(res->result_int(), 200u);
  EXPECT_EQ(res->body(), R"({"ok":true})");
  EXPECT_EQ((*res)[bhttp::field::content_type], "application/json;charset=UTF-8");
  EXPECT_EQ((*res)[bhttp::field::content_length], "11");
  EXPECT_EQ((*res)[bhttp::field::server], "latchkey");
  EXPECT_EQ((*res)["X-Method"], "POST");
  EXPECT_EQ((*res)["X-Path"], "/token");
  EXPECT_EQ((*res)["X-Query"], "a=1&b=2");
  EXPECT_EQ((*res)["X-Body"], "hello");
  EXPECT_EQ((*res)["X-Remote"], "127.0.0.1");
  EXPECT_EQ((*res)["X-Agent"], "UA/1");
  EXPECT_EQ((*res)["X-Names"], "host,user-agent,x-mixed-case,content-length,");
  EXPECT_TRUE(res->keep_alive());
}

// A response that awaits a write is sent only once the write is released: as is on success,
// or the response released instead (a 503 when the write failed); the connection stays usable
// either way.
TEST(Server, SendsAnAwaitingResponseOnlyOnceReleased) {
  std::mutex mu;
  std::vector<Response::Release> releases;
  Handler handler = [&](const Request&) {
    Response r = Response::json(200, R"({"token":"t"})");
    r.await = [&](Response::Release release) {
      std::lock_guard lock(mu);
      releases.push_back(std::move(release));
    };
    return r;
  };
  ServerOptions options;
  options.run_inline = [](const Request&) { return true; };
  RunningServer server(options, handler);
  Client client(server.port());
  const std::string get = "GET /x HTTP/1.1\r\nHost: t\r\n\r\n";
  ASSERT_FALSE(client.send(get));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(client.available(), 0u) << "sent before its write was released";
  {
    std::lock_guard lock(mu);
    ASSERT_EQ(releases.size(), 1u);
  }
  // Released from another thread, as the database writer does.
  std::thread([&] { releases[0](std::nullopt); }).join();
  auto ok = client.read();
  ASSERT_TRUE(ok) << client.last_error().message();
  EXPECT_EQ(ok->result_int(), 200u);
  EXPECT_EQ(ok->body(), R"({"token":"t"})");

  ASSERT_FALSE(client.send(get));
  for (int i = 0; i < 200; ++i) {
    {
      std::lock_guard lock(mu);
      if (releases.size() == 2) break;
    }
    std::this_thread::sleep_for(10ms);
  }
  std::thread([&] {
    releases.at(1)(Response::json(503, R"({"error":"temporarily_unavailable"})"));
  }).join();
  auto failed = client.read();
  ASSERT_TRUE(failed) << client.last_error().message();
  EXPECT_EQ(failed->result_int(), 503u);
  EXPECT_NE(failed->body().find("temporarily_unavailable"), std::string::npos) << failed->body();
  EXPECT_EQ(failed->body().find("token"), std::string::npos) << "the unreleased answer leaked";
}

// ServerOptions::on_response (what /metrics counts): an awaiting response is reported once,
// when released, with the status it was released with and the wait included; a handler that
// throws is reported as its 500; a request refused before the handler is not reported.
TEST(Server, ReportsEachAnsweredRequestOnceWithItsFinalStatusAndTime) {
  struct Reported {
    std::string path;
    unsigned status;
    std::chrono::microseconds elapsed;
  };
  std::mutex mu;
  std::vector<Reported> reported;
  std::promise<Response::Release> awaiting;
  Handler handler = [&](const Request& req) -> Response {
    if (req.path == "/boom") throw std::runtime_error("boom");
    Response r = Response::json(200, R"({"token":"t"})");
    r.await = [&](Response::Release release) { awaiting.set_value(std::move(release)); };
    return r;
  };
  ServerOptions options;
  options.on_response = [&](const Request& req, unsigned status, std::chrono::microseconds us) {
    std::lock_guard lock(mu);
    reported.push_back({req.path, status, us});
  };
  RunningServer server(options, handler);
  auto reports = [&] {
    std::lock_guard lock(mu);
    return reported;
  };

  Client client(server.port());
  ASSERT_FALSE(client.send(get("/token")));
  auto future = awaiting.get_future();
  ASSERT_EQ(future.wait_for(5s), std::future_status::ready);
  Response::Release release = future.get();
  std::this_thread::sleep_for(200ms);
  EXPECT_TRUE(reports().empty()) << "reported before the response was released";
  // The write decided a refusal, as for a replayed authorization code.
  std::thread([&] { release(Response::json(400, R"({"error":"invalid_grant"})")); }).join();
  auto refused = client.read();
  ASSERT_TRUE(refused) << client.last_error().message();
  EXPECT_EQ(refused->result_int(), 400u);
  ASSERT_EQ(reports().size(), 1u);
  EXPECT_EQ(reports()[0].path, "/token");
  EXPECT_EQ(reports()[0].status, 400u) << "the provisional 200 was reported";
  EXPECT_GE(reports()[0].elapsed, 200ms) << "the wait for the write was left out";

  ASSERT_FALSE(client.send(get("/boom")));
  ASSERT_TRUE(client.read());
  ASSERT_EQ(reports().size(), 2u);
  EXPECT_EQ(reports()[1].path, "/boom");
  EXPECT_EQ(reports()[1].status, 500u);

  Client garbage(server.port());
  ASSERT_FALSE(garbage.send("NOT HTTP\r\n\r\n"));
  auto bad = garbage.read();
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->result_int(), 400u);
  EXPECT_EQ(reports().size(), 2u) << "a request the handler never saw was reported";
}

TEST(Server, ServesTwoRequestsOnOneKeepAliveConnection) {
  std::atomic<int> calls{0};
  RunningServer server({}, [&](const Request& req) {
    ++calls;
    return Response::json(200, "\"" + req.path + "\"");
  });
  Client client(server.port());
  ASSERT_FALSE(client.send(get("/one")));
  auto first = client.read();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->body(), "\"/one\"");
  ASSERT_FALSE(client.send(get("/two")));
  auto second = client.read();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->body(), "\"/two\"");
  EXPECT_EQ(calls.load(), 2);
}

// The request handed to the handler is reused on a connection: the second request sees its own
// fields only, not the first one's, with their own values.
TEST(Server, EachRequestOnAConnectionSeesOnlyItsOwnFields) {
  RunningServer server({}, echo);
  Client client(server.port());
  ASSERT_FALSE(client.send(get("/one",
                               "User-Agent: first-agent-with-a-long-name/1.0\r\n"
                               "X-Only-First: 1\r\nX-Third: a\r\n")));
  auto first = client.read();
  ASSERT_TRUE(first);
  EXPECT_EQ((*first)["X-Names"], "host,user-agent,x-only-first,x-third,");
  EXPECT_EQ((*first)["X-Agent"], "first-agent-with-a-long-name/1.0");
  ASSERT_FALSE(client.send(get("/two", "User-Agent: b\r\n")));
  auto second = client.read();
  ASSERT_TRUE(second);
  EXPECT_EQ((*second)["X-Names"], "host,user-agent,");
  EXPECT_EQ((*second)["X-Agent"], "b");
  ASSERT_FALSE(client.send(get("/three")));
  auto third = client.read();
  ASSERT_TRUE(third);
  EXPECT_EQ((*third)["X-Names"], "host,");
  EXPECT_EQ((*third)["X-Agent"], "") << "a field of an earlier request";
}

TEST(Server, AnswersPipelinedRequestsInOrder) {
  RunningServer server({}, [](const Request& req) { return Response::json(200, req.path); });
  Client client(server.port());
  ASSERT_FALSE(client.send(get("/a") + get("/b") + get("/c", "Connection: close\r\n")));
  for (const char* path : {"/a", "/b", "/c"}) {
    auto res = client.read();
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->body(), path);
  }
  EXPECT_TRUE(client.closed_within(5s));
}

TEST(Server, ClosesAfterResponseWhenClientAsks) {
  RunningServer server({}, echo);
  Client client(server.port());
  ASSERT_FALSE(client.send(get("/", "Connection: close\r\n")));
  auto res = client.read();
  ASSERT_TRUE(res);
  EXPECT_FALSE(res->keep_alive());
  EXPECT_TRUE(client.closed_within(5s));
}

// RFC 9110 §9.3.2: HEAD gets GET's header fields, Content-Length included, and no content.
TEST(Server, AnswersHeadWithoutBody) {
  RunningServer server({}, [](const Request&) { return Response::json(200, "0123456789"); });
  Client client(server.port());
  ASSERT_FALSE(client.send("HEAD / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
  const std::string raw = client.read_all(5s);
  EXPECT_NE(raw.find("Content-Length: 10\r\n"), std::string::npos) << raw;
  EXPECT_EQ(raw.substr(raw.size() - 4), "\r\n\r\n") << raw;
}

// The response as it goes on the wire: status line, each field once, Content-Length framing the
// body exactly, nothing after it.
TEST(Server, SendsTheResponseBytesAsHttp11Frames) {
  RunningServer server(
      {}, [](const Request&) { return Response::json(201, "{\"a\":1}").set("X-Test", "v"); });
  Client client(server.port());
  ASSERT_FALSE(client.send(get("/", "Connection: close\r\n")));
  const std::string raw = client.read_all(5s);
  EXPECT_EQ(raw.rfind("HTTP/1.1 201 Created\r\n", 0), 0u) << raw;
  const std::size_t end = raw.find("\r\n\r\n");
  ASSERT_NE(end, std::string::npos) << raw;
  const std::string head = raw.substr(0, end + 2);
  EXPECT_EQ(raw.substr(end + 4), "{\"a\":1}");
  for (const char* field : {"X-Test: v\r\n", "Content-Length: 7\r\n", "Connection: close\r\n",
                            "Server: latchkey\r\n"}) {
    const std::size_t at = head.find(field);
    EXPECT_NE(at, std::string::npos) << field << " in " << head;
    EXPECT_EQ(head.find(field, at + 1), std::string::npos) << field << " twice in " << head;
  }
}

// RFC 9110 §6.4.1: a 204 carries no content and no Content-Length. An HTTP/1.0 request is
// answered as HTTP/1.0 and closed, having not asked to be kept alive.
TEST(Server, Answers204WithoutContentLengthAndHttp10AsHttp10) {
  RunningServer server({}, [](const Request&) {
    Response r;
    r.status = 204;
    return r;
  });
  {
    Client client(server.port());
    ASSERT_FALSE(client.send(get("/", "Connection: close\r\n")));
    const std::string raw = client.read_all(5s);
    EXPECT_EQ(raw.rfind("HTTP/1.1 204 No Content\r\n", 0), 0u) << raw;
    EXPECT_EQ(raw.find("Content-Length"), std::string::npos) << raw;
    EXPECT_EQ(raw.substr(raw.size() - 4), "\r\n\r\n") << raw;
  }
  {
    Client client(server.port());
    ASSERT_FALSE(client.send("GET / HTTP/1.0\r\nHost: t\r\n\r\n"));
    auto res = client.read();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->version(), 10u);
    EXPECT_EQ(res->result_int(), 204u);
    EXPECT_TRUE(client.closed_within(5s));
  }
}

TEST(Server, HandlesExpect100Continue) {
  RunningServer server({}, echo);
  Client client(server.port());
  ASSERT_FALSE(client.send(
      "POST /t HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n"));
  auto interim = client.read();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->result_int(), 100u);
  ASSERT_FALSE(client.send("abc"));
  auto res = client.read();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 200u);
  EXPECT_EQ((*res)["X-Body"], "abc");
}

// docs/behaviour.md §6: request line and headers are limited to 16 KiB.
TEST(Server, Answers431ForOversizedHeaders) {
  RunningServer server({}, echo);
  Client client(server.port());
  ASSERT_FALSE(client.send(get("/", "X-Big: " + std::string(17 * 1024, 'a') + "\r\n")));
  auto res = client.read();
  ASSERT_TRUE(res) << client.last_error().message();
  expect_oauth_error(*res, 431, "invalid_request");
  EXPECT_TRUE(client.closed_within(5s));
}

// docs/behaviour.md §6: bodies are limited to 64 KiB.
TEST(Server, Answers413ForOversizedBody) {
  RunningServer server({}, echo);
  Client client(server.port());
  const std::string body(65 * 1024, 'x');
  ASSERT_FALSE(client.send("POST /token HTTP/1.1\r\nHost: t\r\nContent-Length: " +
                           std::to_string(body.size()) + "\r\n\r\n" + body));
  auto res = client.read();
  ASSERT_TRUE(res) << client.last_error().message();
  expect_oauth_error(*res, 413, "invalid_request");
  EXPECT_TRUE(client.closed_within(5s));
}

TEST(Server, Answers413ForOversizedChunkedBody) {
  RunningServer server({}, echo);
  Client client(server.port());
  std::string request = "POST /token HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 17; ++i) request += "1000\r\n" + std::string(4096, 'x') + "\r\n";
  request += "0\r\n\r\n";
  ASSERT_FALSE(client.send(request));
  auto res = client.read();
  ASSERT_TRUE(res) << client.last_error().message();
  expect_oauth_error(*res, 413, "invalid_request");
}

TEST(Server, AcceptsBodyAtTheLimit) {
  RunningServer server(
      {}, [](const Request& req) { return Response::json(200, std::to_string(req.body.size())); });
  Client client(server.port());
  const std::string body(64 * 1024, 'x');
  ASSERT_FALSE(client.send("POST /t HTTP/1.1\r\nHost: t\r\nContent-Length: " +
                           std::to_string(body.size()) + "\r\n\r\n" + body));
  auto res = client.read();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 200u);
  EXPECT_EQ(res->body(), "65536");
}

TEST(Server, Answers400ForGarbageRequestLine) {
  RunningServer server({}, echo);
  Client client(server.port());
  ASSERT_FALSE(client.send("THIS IS NOT HTTP AT ALL\r\n\r\n"));
  auto res = client.read();
  ASSERT_TRUE(res) << client.last_error().message();
  expect_oauth_error(*res, 400, "invalid_request");
  EXPECT_TRUE(client.closed_within(5s));
}

TEST(Server, Answers400ForConflictingContentLength) {
  RunningServer server({}, echo);
  Client client(server.port());
  ASSERT_FALSE(client.send(
      "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"));
  auto res = client.read();
  ASSERT_TRUE(res) << client.last_error().message();
  expect_oauth_error(*res, 400, "invalid_request");
}

TEST(Server, Answers500WithoutExceptionTextWhenHandlerThrows) {
  std::ostringstream log_text;
  auto log = std::make_shared<spdlog::logger>(
      "test", std::make_shared<spdlog::sinks::ostream_sink_mt>(log_text));
  ServerOptions options;
  options.log = log;
  RunningServer server(options, [](const Request&) -> Response {
    throw std::runtime_error("db password is hunter2");
  });
  Client client(server.port());
  ASSERT_FALSE(client.send(get("/boom")));
  auto res = client.read();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 500u);
  EXPECT_EQ(res->body(), R"({"error":"server_error","error_description":"internal error"})");
  EXPECT_EQ((*res)[bhttp::field::cache_control], "no-store");
  EXPECT_EQ(res->body().find("hunter2"), std::string::npos);
  // The server keeps serving on the same connection.
  ASSERT_FALSE(client.send(get("/again")));
  auto again = client.read();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->result_int(), 500u);
  server.stop();
  log->flush();
  EXPECT_NE(log_text.str().find("hunter2"), std::string::npos) << "the log keeps the detail";
}

TEST(Server, DropsResponseHeadersThatWouldSplitTheResponse) {
  RunningServer server({}, [](const Request&) {
    Response r = Response::json(200, "{}");
    r.set("X-Evil", "a\r\nSet-Cookie: stolen=1");
    r.set("X-Good", "fine");
    return r;
  });
  Client client(server.port());
  ASSERT_FALSE(client.send(get("/")));
  auto res = client.read();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->count("X-Evil"), 0u);
  EXPECT_EQ(res->count(bhttp::field::set_cookie), 0u);
  EXPECT_EQ((*res)["X-Good"], "fine");
}

TEST(Server, AccessLogOmitsQueryString) {
  std::ostringstream log_text;
  auto log = std::make_shared<spdlog::logger>(
      "test", std::make_shared<spdlog::sinks::ostream_sink_mt>(log_text));
  ServerOptions options;
  options.log = log;
  RunningServer server(options, echo);
  Client client(server.port());
  ASSERT_FALSE(client.send(get("/authorize?code=SECRETCODE&state=x")));
  ASSERT_TRUE(client.read());
  server.stop();
  log->flush();
  const std::string text = log_text.str();
  EXPECT_NE(text.find("method=GET path=/authorize status=200 "), std::string::npos) << text;
  EXPECT_NE(text.find("addr=127.0.0.1"), std::string::npos) << text;
  EXPECT_EQ(text.find("SECRETCODE"), std::string::npos) << text;
}

}  // namespace
}  // namespace latchkey::http
