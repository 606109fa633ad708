// The admin API (app/admin_api.h): its credentials, its routing against the OpenAPI document,
// its pagination and what a change writes to the audit log.
#include "app/admin_api.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdio>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "app/admin_openapi.h"
#include "app/admin_pages.h"
#include "core/clock.h"
#include "crypto/crypto.h"
#include "store/open.h"
#include "unit/support/test_support.h"

namespace latchkey::app {
namespace {

// Keeps what the audit log would write of each event, the admin's name included.
class AdminEvents final : public EventSink {
 public:
  struct Recorded {
    std::string type, client_id, user, detail, admin;
  };
  void emit(const Event& e) override {
    all.push_back({std::string(names_of(e.type).audit), std::string(e.client_id),
                   std::string(e.user), std::string(e.detail), std::string(e.admin)});
  }
  std::vector<Recorded> all;
};

class AdminApiTest : public ::testing::Test {
 protected:
  AdminApiTest() : db_(store::open_database("sqlite::memory:")) {
    testsupport::seed_signing_keys(*db_, clock_.now_ms());
    AdminApiOptions o;
    o.events = &events_;
    o.openapi = admin_openapi_document();
    o.on_change = [this](const store::Change& c) { changes_.push_back(c); };
    api_ = std::make_unique<AdminApi>(*db_, random_, clock_, kek_, std::move(o));
    token_ =
        std::string(AdminTokens(*db_, random_, clock_).create("ops").value()["token"].as_string());
  }

  http::Response call(std::string method, std::string target, std::string body = "",
                      std::optional<std::string> token = std::nullopt) {
    http::Request r = testsupport::request_to(std::move(method), target, std::move(body));
    r.headers.emplace_back("authorization", "Bearer " + token.value_or(token_));
    return api_->handle(r);
  }

  static boost::json::object json(const http::Response& r) {
    return boost::json::parse(r.body).as_object();
  }

  FakeClock clock_;
  crypto::OsRandom random_;
  std::unique_ptr<store::Database> db_;
  KekSource kek_{testsupport::test_sealer()};
  AdminEvents events_;
  std::vector<store::Change> changes_;
  std::unique_ptr<AdminApi> api_;
  std::string token_;
};

std::string header(const http::Response& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

TEST_F(AdminApiTest, RequestWithoutTokenIsRefusedWithBearerChallenge) {
  http::Request r;
  r.method = "GET";
  r.path = r.target = "/admin/v1/apps";
  auto out = api_->handle(r);
  EXPECT_EQ(out.status, 401u);
  EXPECT_EQ(header(out, "WWW-Authenticate"), "Bearer realm=\"latchkey-admin\"");
  EXPECT_EQ(json(out)["error"], "invalid_token");
}

TEST_F(AdminApiTest, WrongOrRevokedTokenIsRefused) {
  for (const std::string& bad :
       std::vector<std::string>{"lka_" + std::string(43, 'A'), "nonsense", token_ + "x"}) {
    auto out = call("GET", "/admin/v1/apps", "", bad);
    EXPECT_EQ(out.status, 401u) << bad;
    EXPECT_EQ(header(out, "WWW-Authenticate"),
              "Bearer realm=\"latchkey-admin\", error=\"invalid_token\"");
  }
  EXPECT_EQ(call("GET", "/admin/v1/apps").status, 200u);
  ASSERT_TRUE(AdminTokens(*db_, random_, clock_).revoke("ops").ok());
  EXPECT_EQ(call("GET", "/admin/v1/apps").status, 401u);
}

TEST_F(AdminApiTest, TokenIsPrefixedRandomAndStoredOnlyAsItsHash) {
  ASSERT_EQ(token_.size(), 4u + 43u);
  EXPECT_TRUE(token_.starts_with("lka_"));
  auto stored = db_->list_admin_tokens();
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].token_hash, crypto::sha256_hex(token_));
  auto second = AdminTokens(*db_, random_, clock_).create("ops");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code(), "conflict");
}

TEST_F(AdminApiTest, EveryRouteIsInTheOpenApiDocumentAndEveryOperationIsRouted) {
  auto doc = boost::json::parse(admin_openapi_document()).as_object();
  std::set<std::string> documented, routed;
  for (const auto& [path, item] : doc["paths"].as_object()) {
    for (const auto& [method, operation] : item.as_object()) {
      std::string m(method);
      for (auto& c : m) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      documented.insert(m + " " + std::string(path) + " " +
                        std::string(operation.as_object().at("operationId").as_string()));
    }
  }
  for (const auto& r : admin_routes()) {
    routed.insert(std::string(r.method) + " " + std::string(r.pattern) + " " +
                  std::string(r.operation_id));
  }
  EXPECT_EQ(documented, routed);
}

TEST_F(AdminApiTest, RoutesDecodeSegmentsAndAnswer405WithAllowAnd404) {
  auto m = match_admin_route("DELETE", "/admin/v1/apps/Platform%2FCLI/approvals/a%40b.c");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->op, AdminOp::revoke_approval);
  EXPECT_EQ(m.params, (std::vector<std::string>{"Platform/CLI", "a@b.c"}));
  EXPECT_EQ(match_admin_route("GET", "/admin/v1/apps/%zz").route, nullptr);
  auto put = call("PUT", "/admin/v1/users");
  EXPECT_EQ(put.status, 405u);
  EXPECT_EQ(header(put, "Allow"), "GET, HEAD, POST");
  EXPECT_EQ(call("GET", "/admin/v1/nothing").status, 404u);
  EXPECT_EQ(call("GET", "/admin/v2/apps").status, 404u);
}

// "u00" … "u24": ids whose byte order is their numeric order.
std::string item_id(std::size_t i) {
  char id[24];
  std::snprintf(id, sizeof id, "u%02zu", i);
  return id;
}

TEST_F(AdminApiTest, PaginationWalksEveryItemOnceInKeyOrder) {
  boost::json::array items;
  for (std::size_t i = 25; i-- > 0;) items.push_back(boost::json::object{{"id", item_id(i)}});
  std::vector<std::string> seen;
  std::string cursor;
  int pages = 0;
  do {
    std::string query = "limit=10";
    if (!cursor.empty()) query += "&cursor=" + cursor;
    auto req = page_request(query);
    ASSERT_TRUE(req.ok());
    boost::json::object whole{{"items", items}};
    paginate(whole, "items", "id", *req);
    for (const auto& v : whole["items"].as_array()) seen.emplace_back(v.at("id").as_string());
    cursor = whole["next_cursor"].is_null() ? "" : std::string(whole["next_cursor"].as_string());
    ++pages;
  } while (!cursor.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(seen.size(), 25u);
  for (std::size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i], item_id(i));
  }
}

TEST_F(AdminApiTest, BadLimitOrCursorIsInvalidRequest) {
  EXPECT_FALSE(page_request("limit=0").ok());
  EXPECT_FALSE(page_request("limit=1001").ok());
  EXPECT_FALSE(page_request("limit=ten").ok());
  EXPECT_FALSE(page_request("cursor=%21%21").ok());
  EXPECT_FALSE(page_request("cursor=" + crypto::base64url_encode("x-not-ours")).ok());
  auto out = call("GET", "/admin/v1/users?limit=0");
  EXPECT_EQ(out.status, 400u);
  EXPECT_EQ(json(out)["error"], "invalid_request");
}

TEST_F(AdminApiTest, ChangesAreAuditedWithTheTokenNameAndDropCachedRecords) {
  auto created = call("POST", "/admin/v1/apps",
                      R"({"name":"Api App","callbacks":["https://app.example.test/cb"]})");
  ASSERT_EQ(created.status, 201u) << created.body;
  std::string client_id(json(created)["client_id"].as_string());
  EXPECT_FALSE(json(created)["client_secret"].as_string().empty());
  ASSERT_EQ(events_.all.size(), 1u);
  EXPECT_EQ(events_.all[0].type, "admin_change");
  EXPECT_EQ(events_.all[0].admin, "ops");
  EXPECT_EQ(events_.all[0].detail, "createApp");
  EXPECT_EQ(events_.all[0].client_id, client_id);
  ASSERT_EQ(changes_.size(), 1u);
  EXPECT_EQ(changes_[0], store::Change::app(client_id));
  // Reads are not recorded.
  EXPECT_EQ(call("GET", "/admin/v1/apps/" + client_id).status, 200u);
  EXPECT_EQ(events_.all.size(), 1u);
}

TEST_F(AdminApiTest, MissingResourcesAre404AndTakenNames409) {
  EXPECT_EQ(call("GET", "/admin/v1/apps/nope").status, 404u);
  EXPECT_EQ(call("GET", "/admin/v1/users/nobody@example.test").status, 404u);
  const std::string user = R"({"username":"ann@example.test","password":"pw-1234567"})";
  EXPECT_EQ(call("POST", "/admin/v1/users", user).status, 201u);
  auto again = call("POST", "/admin/v1/users", user);
  EXPECT_EQ(again.status, 409u);
  EXPECT_EQ(json(again)["error"], "conflict");
  auto typo = call("PATCH", "/admin/v1/users/ann@example.test", R"({"activ":false})");
  EXPECT_EQ(typo.status, 400u);
  EXPECT_NE(json(typo)["error_description"].as_string().find("activ"), std::string::npos);
}

}  // namespace
}  // namespace latchkey::app
