// The route table (app/routes.h) is the one list of what the public listener serves: a path is
// served by one row only, and every row's requests show in the metrics under its label.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <utility>

#include "app/application.h"
#include "app/routes.h"
#include "unit/support/test_support.h"

namespace latchkey::app {
namespace {

// A path the row serves: its own for an exact row, one below it for a prefix row.
std::string path_of(const Route& route) {
  return std::string(route.path) + (route.match == Route::Match::prefix ? "x" : "");
}

http::Request get(std::string path) {
  http::Request r;
  r.method = "GET";
  r.path = std::move(path);
  r.target = r.path;
  r.remote_addr = "127.0.0.1";
  return r;
}

TEST(RouteTable, NoPathIsRoutedTwice) {
  std::set<std::pair<std::string_view, Route::Match>> seen;
  for (const Route& route : routes()) {
    EXPECT_TRUE(seen.emplace(route.path, route.match).second)
        << route.path << " has two rows of the same kind";
    // A row that another one hides would never serve anything.
    EXPECT_EQ(find_route(path_of(route)), &route) << path_of(route);
  }
}

// RFC 9110 §15.5.6: a 405 names the methods the resource takes; a path nothing serves is a 404
// whatever the method (docs/behaviour.md §4).
TEST(RouteTable, AWrongMethodIsToldWhichOnesTheRouteTakes) {
  testsupport::TestWorld world;
  AppOptions options;
  options.issuer = testsupport::kIssuer;
  Application app(world.db().stores(), world.random(), world.clock(), testsupport::test_sealer(),
                  std::move(options));
  http::Request post = get("/id/keys");
  post.method = "POST";
  const http::Response r = app.handle(post);
  EXPECT_EQ(r.status, 405u);
  EXPECT_EQ(r.header("allow").value_or(""), "GET, HEAD");
  post.path = post.target = "/no/such/path";
  EXPECT_EQ(app.handle(post).status, 404u);
}

TEST(RouteTable, EveryRouteIsCountedUnderItsLabel) {
  testsupport::TestWorld world;
  AppOptions options;
  options.issuer = testsupport::kIssuer;
  Application app(world.db().stores(), world.random(), world.clock(), testsupport::test_sealer(),
                  std::move(options));
  // Each row's request is answered with a status of its own, so each count names its row.
  const auto table = routes();
  for (std::size_t i = 0; i < table.size(); ++i) {
    app.observe(get(path_of(table[i])), static_cast<unsigned>(200 + i),
                std::chrono::microseconds(100));
  }
  app.observe(get("/no/such/path"), 404, std::chrono::microseconds(100));

  const std::string body = app.handle_metrics(get("/metrics")).body;
  for (std::size_t i = 0; i < table.size(); ++i) {
    const std::string line = "latchkey_http_requests_total{endpoint=\"" +
                             std::string(table[i].label) + "\",status=\"" +
                             std::to_string(200 + i) + "\"} 1";
    EXPECT_NE(body.find(line), std::string::npos) << line << "\n" << body;
  }
  EXPECT_NE(body.find("latchkey_http_requests_total{endpoint=\"other\",status=\"404\"} 1"),
            std::string::npos)
      << body;
}

}  // namespace
}  // namespace latchkey::app
