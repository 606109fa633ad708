// /metrics is served on the metrics listener only (`serve --metrics-listen`): the public
// listener answers 404 for it, so request counts, failed logins and latencies are not shown to
// anyone who can reach the authorization server.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "app/application.h"
#include "unit/support/test_support.h"

namespace latchkey::app {
namespace {

using testsupport::TestWorld;

http::Request get(std::string path, std::string method = "GET") {
  http::Request r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.target = r.path;
  r.remote_addr = "127.0.0.1";
  return r;
}

class MetricsRoutes : public ::testing::Test {
 protected:
  MetricsRoutes() {
    AppOptions options;
    options.issuer = testsupport::kIssuer;
    app_ = std::make_unique<Application>(world_.db().stores(), world_.random(), world_.clock(),
                                         testsupport::test_sealer(), std::move(options));
  }

  TestWorld world_;
  std::unique_ptr<Application> app_;
};

TEST_F(MetricsRoutes, ThePublicListenerHasNoMetrics) {
  http::Response r = testsupport::released(app_->handle(get("/metrics")));
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(r.body.find("latchkey_"), std::string::npos) << r.body;
  EXPECT_EQ(testsupport::released(app_->handle(get("/healthz"))).status, 200u);
}

// behaviour §4: readiness on both listeners, never cached on the way.
TEST_F(MetricsRoutes, BothListenersAnswerReadinessWhileTheDatabaseAnswers) {
  for (const http::Response& r : {testsupport::released(app_->handle(get("/readyz"))),
                                  app_->handle_metrics(get("/readyz"))}) {
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(r.body, R"({"status":"ready"})");
    EXPECT_EQ(r.header("Cache-Control"), "no-store");
  }
}

// docs/operations.md "Draining": from SIGTERM on, readiness fails on both listeners, so load
// balancers stop sending requests, while liveness and everything else are served as before.
TEST_F(MetricsRoutes, ReadinessFailsOnBothListenersOnceDraining) {
  app_->start_draining();
  for (const http::Response& r : {testsupport::released(app_->handle(get("/readyz"))),
                                  app_->handle_metrics(get("/readyz"))}) {
    EXPECT_EQ(r.status, 503u);
    EXPECT_EQ(r.body, R"({"status":"unavailable","reason":"draining"})");
    EXPECT_EQ(r.header("Cache-Control"), "no-store");
  }
  EXPECT_EQ(testsupport::released(app_->handle(get("/healthz"))).status, 200u);
  EXPECT_EQ(app_->handle_metrics(get("/healthz")).status, 200u);
  EXPECT_EQ(testsupport::released(app_->handle(get("/id/keys"))).status, 200u);
}

TEST_F(MetricsRoutes, TheMetricsListenerServesMetricsAndHealthOnly) {
  app_->observe(get("/services/oauth2/token"), 200, std::chrono::microseconds(1500));
  http::Response r = app_->handle_metrics(get("/metrics"));
  EXPECT_EQ(r.status, 200u);
  EXPECT_NE(r.body.find("latchkey_http_requests_total{endpoint=\"token\",status=\"200\"} 1"),
            std::string::npos)
      << r.body;
  EXPECT_EQ(app_->handle_metrics(get("/healthz")).status, 200u);
  for (const char* path : {"/", "/services/oauth2/token", "/.well-known/openid-configuration",
                           "/id/keys", "/metrics/", "/static/style.css"}) {
    EXPECT_EQ(app_->handle_metrics(get(path)).status, 404u) << path;
  }
  http::Response post = app_->handle_metrics(get("/metrics", "POST"));
  EXPECT_EQ(post.status, 405u);
  EXPECT_EQ(post.header("Allow"), "GET, HEAD");
}

}  // namespace
}  // namespace latchkey::app
