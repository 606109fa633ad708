// The REST sliver the Salesforce CLI calls after a login (oidc/data_resources.h): the versions
// it picks from, the SOQL subset over the token's org and users, one user as an sobject, and
// Salesforce's error arrays for everything else.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "http/params.h"
#include "oauth/token_issuer.h"
#include "oidc/data_resources.h"
#include "unit/support/test_support.h"

namespace latchkey::oidc {
namespace {

using testsupport::kIssuer;
using testsupport::TestWorld;

class DataQueryTest : public ::testing::Test {
 protected:
  DataQueryTest()
      : stack_(world_, kIssuer), data_(stack_.opaque, world_.db(), world_.db(), kIssuer) {
    app_ = world_.add_app([](store::App& a) { a.scopes = {"api", "web", "openid"}; });
    token_ = issue(world_.user(), {"api"});
    // Another org, with a user of its own.
    other_org_.id = "00D000000000002AAA";
    other_org_.name = "other";
    world_.db().create_org(other_org_);
    other_user_ = world_.user();
    other_user_.id = "005000000000002AAA";
    other_user_.org_id = other_org_.id;
    other_user_.username = "bob@other";
    EXPECT_TRUE(world_.db().create_user(other_user_));
  }

  std::string issue(const store::User& user, std::vector<std::string> scopes) {
    oauth::GrantInput in(app_, user, std::move(scopes));
    in.with_id_token = false;
    return testsupport::durable(stack_.issuer.issue(in)).access_token;
  }

  http::Response get(const std::string& path, const std::string& query = {},
                     const std::string& token = {}) {
    http::Request req;
    req.method = "GET";
    req.path = path;
    req.query = query;
    req.target = query.empty() ? path : path + "?" + query;
    req.remote_addr = "127.0.0.1";
    req.headers.emplace_back("authorization", "Bearer " + (token.empty() ? token_ : token));
    return path == "/services/data" ? data_.versions(req) : data_.resource(req);
  }
  http::Response soql(const std::string& q, const std::string& token = {}) {
    return get("/services/data/v62.0/query", "q=" + http::form_encode(q), token);
  }

  static boost::json::value json(const http::Response& r) { return boost::json::parse(r.body); }

  // Salesforce's error array: one {message, errorCode}.
  static void expect_error(const http::Response& r, unsigned status, const std::string& code) {
    EXPECT_EQ(r.status, status) << r.body;
    auto v = json(r);
    ASSERT_TRUE(v.is_array()) << r.body;
    ASSERT_EQ(v.as_array().size(), 1u) << r.body;
    EXPECT_EQ(v.as_array()[0].at("errorCode").as_string(), code) << r.body;
    EXPECT_FALSE(v.as_array()[0].at("message").as_string().empty()) << r.body;
  }

  TestWorld world_;
  testsupport::IssuerStack stack_;
  DataResources data_;
  store::App app_;
  std::string token_;
  store::Org other_org_;
  store::User other_user_;
};

TEST_F(DataQueryTest, VersionsAreAnArrayTheCliAccepts) {
  http::Response r = get("/services/data");
  ASSERT_EQ(r.status, 200u);
  const boost::json::value body = json(r);
  const auto& a = body.as_array();
  ASSERT_FALSE(a.empty());
  const std::regex shape(R"(^[1-9]\d\.0$)");
  for (const auto& v : a) {
    std::string version(v.at("version").as_string());
    EXPECT_TRUE(std::regex_match(version, shape)) << version;
    EXPECT_EQ(v.at("url").as_string(), "/services/data/v" + version);
    EXPECT_FALSE(v.at("label").as_string().empty());
  }
  EXPECT_EQ(a.back().at("version").as_string(), "62.0");
}

TEST_F(DataQueryTest, EveryListedVersionHasAResourceMap) {
  const boost::json::value versions = json(get("/services/data"));
  for (const auto& v : versions.as_array()) {
    std::string base = "/services/data/v" + std::string(v.at("version").as_string());
    http::Response r = get(base);
    ASSERT_EQ(r.status, 200u) << base << ": " << r.body;
    const boost::json::value body = json(r);
    const auto& o = body.as_object();
    EXPECT_EQ(o.at("query").as_string(), base + "/query");
    EXPECT_EQ(o.at("sobjects").as_string(), base + "/sobjects");
    EXPECT_EQ(o.at("identity").as_string(),
              std::string(kIssuer) + "/id/" + world_.org().id + "/" + world_.user().id);
  }
  // The CLI's Dev Hub probe asks v51.0.
  EXPECT_EQ(get("/services/data/v51.0/").status, 200u);
  expect_error(get("/services/data/v30.0"), 404, "NOT_FOUND");
  expect_error(get("/services/data/v99.0"), 404, "NOT_FOUND");
}

TEST_F(DataQueryTest, TheOrganizationQueryReturnsTheTokensOrg) {
  http::Response r = soql(
      "SELECT Name, InstanceName, IsSandbox, TrialExpirationDate, NamespacePrefix, "
      "OrganizationType FROM Organization");
  ASSERT_EQ(r.status, 200u) << r.body;
  const boost::json::value body = json(r);
  const auto& o = body.as_object();
  EXPECT_EQ(o.at("totalSize").as_int64(), 1);
  EXPECT_TRUE(o.at("done").as_bool());
  const auto& rec = o.at("records").as_array().at(0).as_object();
  EXPECT_EQ(rec.at("attributes").at("type").as_string(), "Organization");
  EXPECT_EQ(rec.at("attributes").at("url").as_string(),
            "/services/data/v62.0/sobjects/Organization/" + world_.org().id);
  EXPECT_EQ(rec.at("Name").as_string(), "unit");
  EXPECT_FALSE(rec.at("InstanceName").as_string().empty());
  EXPECT_FALSE(rec.at("IsSandbox").as_bool());
  EXPECT_TRUE(rec.at("TrialExpirationDate").is_null());
  EXPECT_TRUE(rec.at("NamespacePrefix").is_null());
  EXPECT_FALSE(rec.at("OrganizationType").as_string().empty());
  // Only what was selected (and the attributes).
  EXPECT_EQ(rec.size(), 7u) << r.body;
  EXPECT_FALSE(rec.contains("Id"));
}

TEST_F(DataQueryTest, FieldsAreMatchedInAnyCaseAndAnsweredByTheirApiNames) {
  http::Response r = soql("select id, NAME from organization where id = '" + world_.org().id + "'");
  ASSERT_EQ(r.status, 200u) << r.body;
  const boost::json::value body = json(r);
  const auto& rec = body.at("records").as_array().at(0).as_object();
  EXPECT_EQ(rec.at("Id").as_string(), world_.org().id);
  EXPECT_EQ(rec.at("Name").as_string(), "unit");
}

TEST_F(DataQueryTest, AUserOfTheTokensOrgById) {
  const store::User& u = world_.user();
  http::Response r = soql(
      "SELECT Id, Username, Email, Name, FirstName, LastName FROM User WHERE Id = '" + u.id + "'");
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(json(r).at("totalSize").as_int64(), 1);
  const boost::json::value body = json(r);
  const auto& rec = body.at("records").as_array().at(0).as_object();
  EXPECT_EQ(rec.at("attributes").at("type").as_string(), "User");
  EXPECT_EQ(rec.at("Id").as_string(), u.id);
  EXPECT_EQ(rec.at("Username").as_string(), "alice@localhost");
  EXPECT_EQ(rec.at("Email").as_string(), "alice@example.test");
  EXPECT_EQ(rec.at("Name").as_string(), "Alice Liddell");
  EXPECT_EQ(rec.at("FirstName").as_string(), "Alice");
  EXPECT_EQ(rec.at("LastName").as_string(), "Liddell");
}

TEST_F(DataQueryTest, AnotherOrgsUserOrAnUnknownIdMatchesNothing) {
  for (const std::string& id :
       {other_user_.id, std::string("005000000000999AAA"), std::string("005000000000001")}) {
    http::Response r = soql("SELECT Id FROM User WHERE Id = '" + id + "'");
    ASSERT_EQ(r.status, 200u) << r.body;
    EXPECT_EQ(json(r).at("totalSize").as_int64(), 0) << id;
    EXPECT_TRUE(json(r).at("records").as_array().empty()) << id;
  }
  http::Response none = soql("SELECT Id FROM Organization WHERE Id = '" + other_org_.id + "'");
  EXPECT_EQ(json(none).at("totalSize").as_int64(), 0) << none.body;
  http::Response limited = soql("SELECT Id FROM Organization LIMIT 0");
  EXPECT_EQ(json(limited).at("totalSize").as_int64(), 0) << limited.body;
}

TEST_F(DataQueryTest, OtherObjectsAreInvalidTypeSoTheOrgIsNoDevHub) {
  expect_error(
      get("/services/data/v51.0/query", "q=SELECT%20Id%20FROM%20ScratchOrgInfo%20limit%201"), 400,
      "INVALID_TYPE");
  expect_error(soql("SELECT Id FROM Account WHERE Name = 'x' AND Id = 'y'"), 400, "INVALID_TYPE");
}

TEST_F(DataQueryTest, QueriesOutsideTheSubsetAreMalformed) {
  expect_error(soql("SELECT Id FROM User"), 400, "MALFORMED_QUERY");
  expect_error(soql("SELECT Id FROM User WHERE Username = 'alice@localhost'"), 400,
               "MALFORMED_QUERY");
  expect_error(soql("SELECT Id FROM Organization ORDER BY Name"), 400, "MALFORMED_QUERY");
  expect_error(soql("SELECT COUNT() FROM Organization"), 400, "MALFORMED_QUERY");
  expect_error(soql("SELECT Id FROM User WHERE Id = '005"), 400, "MALFORMED_QUERY");
  expect_error(get("/services/data/v62.0/query"), 400, "MALFORMED_QUERY");
}

TEST_F(DataQueryTest, AnUnknownFieldIsInvalidField) {
  expect_error(soql("SELECT Id, Password FROM User WHERE Id = '" + world_.user().id + "'"), 400,
               "INVALID_FIELD");
  expect_error(soql("SELECT Secret FROM Organization"), 400, "INVALID_FIELD");
}

TEST_F(DataQueryTest, OneUserAsAnSobject) {
  const store::User& u = world_.user();
  http::Response r = get("/services/data/v62.0/sobjects/User/" + u.id);
  ASSERT_EQ(r.status, 200u) << r.body;
  const boost::json::value body = json(r);
  const auto& o = body.as_object();
  EXPECT_EQ(o.at("attributes").at("url").as_string(), "/services/data/v62.0/sobjects/User/" + u.id);
  EXPECT_EQ(o.at("Id").as_string(), u.id);
  EXPECT_EQ(o.at("Username").as_string(), u.username);
  EXPECT_EQ(o.at("Email").as_string(), u.email);
  EXPECT_EQ(o.at("Name").as_string(), "Alice Liddell");
  EXPECT_TRUE(o.at("IsActive").as_bool());
  EXPECT_EQ(o.find("password_hash"), o.end());
  EXPECT_EQ(r.body.find("argon2"), std::string::npos);
}

TEST_F(DataQueryTest, AnotherOrgsUserOrAnUnknownIdIsNotFound) {
  for (const std::string& id :
       {other_user_.id, std::string("005000000000999AAA"), std::string("nonsense")}) {
    expect_error(get("/services/data/v62.0/sobjects/User/" + id), 404, "NOT_FOUND");
  }
  expect_error(get("/services/data/v62.0/sobjects/Account/001000000000001AAA"), 404, "NOT_FOUND");
  expect_error(get("/services/data/v62.0/sobjects/User/" + world_.user().id + "/x"), 404,
               "NOT_FOUND");
  expect_error(get("/services/data/v62.0/limits"), 404, "NOT_FOUND");
}

TEST_F(DataQueryTest, ABadTokenIsInvalidSessionIdEverywhere) {
  const std::string q = "q=" + http::form_encode("SELECT Id FROM Organization");
  for (const std::string& path :
       {std::string("/services/data/v62.0"), std::string("/services/data/v62.0/query"),
        "/services/data/v62.0/sobjects/User/" + world_.user().id}) {
    http::Response r = get(path, q, "00Dnot!atoken");
    EXPECT_EQ(r.status, 401u) << path;
    EXPECT_EQ(r.body,
              R"([{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}])")
        << path;
  }
}

TEST_F(DataQueryTest, QueriesNeedTheApiScope) {
  std::string openid_only = issue(world_.user(), {"openid"});
  http::Response r = soql("SELECT Id FROM Organization", openid_only);
  EXPECT_EQ(r.status, 403u) << r.body;
}

}  // namespace
}  // namespace latchkey::oidc
