// The JWT bearer grant's tolerances for what Salesforce's own tools send (docs/behaviour.md
// §5.6): exp in milliseconds or as a numeric string, aud with a trailing slash or an alias,
// and no client_id beside the assertion. Each tolerance is accepted, and each converted value
// still meets the same rule as before: not expired, at most 3 minutes (plus 30 s of skew) ahead.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "crypto/jose.h"
#include "oauth/grants/jwt_bearer_grant.h"
#include "unit/support/test_support.h"

namespace latchkey::oauth {
namespace {

using testsupport::kIssuer;
using testsupport::params;
using testsupport::post_request;
using testsupport::TestWorld;

const crypto::SigningKey& app_key() {
  static const crypto::SigningKey k = crypto::SigningKey::generate_rs256("tolerant-app");
  return k;
}

class JwtBearerTolerancesTest : public ::testing::Test {
 protected:
  JwtBearerTolerancesTest() : stack_(world_, kIssuer) {
    app_ = world_.add_app(
        [](store::App& a) { a.cert_pem = testsupport::self_signed_cert_pem(app_key()); });
    world_.db().save_consent({world_.user().id, app_.client_id, {"api"}, world_.clock().now_ms()});
  }

  // The claims the Salesforce CLI sends (no jti), with `edit` applied.
  boost::json::object claims() {
    int64_t now = world_.clock().now_s();
    return {{"iss", app_.client_id},
            {"sub", world_.user().username},
            {"aud", std::string(kIssuer) + "/"},
            {"exp", now * 1000 + 300},
            {"iat", now}};
  }
  int64_t now_s() { return world_.clock().now_s(); }
  int64_t now_ms() { return world_.clock().now_s() * 1000; }

  Result<boost::json::object> redeem(const boost::json::object& c,
                                     const std::vector<std::string>& aliases = {}) {
    JwtBearerGrant grant(world_.db(), world_.db(), world_.db(), world_.db(), stack_.issuer,
                         world_.clock(), kIssuer, 10'000, aliases);
    // Only grant_type and assertion, as the CLI posts them: the app is the one iss names.
    http::Params p = params({{"grant_type", std::string(kJwtBearerGrant)},
                             {"assertion", crypto::sign_jwt(app_key(), c)}});
    http::Request req = post_request();
    ClientAuth none;
    return testsupport::answer_of(grant.handle(TokenRequest{req, p, none}));
  }

  void expect_accepted(const boost::json::object& c, const std::vector<std::string>& aliases = {}) {
    auto r = redeem(c, aliases);
    ASSERT_TRUE(r.ok()) << boost::json::serialize(c) << ": " << r.error().description() << " "
                        << r.error().debug();
    EXPECT_TRUE(r->contains("access_token"));
    EXPECT_EQ(r->at("id").as_string(),
              std::string(kIssuer) + "/id/" + world_.org().id + "/" + world_.user().id);
  }

  void expect_refused(const boost::json::object& c, const std::string& description,
                      const std::vector<std::string>& aliases = {}) {
    auto r = redeem(c, aliases);
    ASSERT_FALSE(r.ok()) << boost::json::serialize(c);
    EXPECT_EQ(r.error().code(), "invalid_grant") << boost::json::serialize(c);
    EXPECT_EQ(r.error().description(), description) << boost::json::serialize(c);
  }

  TestWorld world_;
  testsupport::IssuerStack stack_;
  store::App app_;
};

TEST_F(JwtBearerTolerancesTest, TheSalesforceClisAssertionIsAcceptedOnTheFirstTry) {
  expect_accepted(claims());
}

TEST_F(JwtBearerTolerancesTest, ExpInMillisecondsWithinThreeMinutesIsAccepted) {
  auto c = claims();
  c["exp"] = now_ms() + 170'000;
  expect_accepted(c);
}

TEST_F(JwtBearerTolerancesTest, ExpInMillisecondsFarInTheFutureIsStillRefused) {
  auto c = claims();
  c["exp"] = now_ms() + 3'600'000;
  expect_refused(c, "invalid assertion");
  // Just beyond 3 minutes and the 30 s of skew.
  c["exp"] = now_ms() + 211'000;
  expect_refused(c, "invalid assertion");
}

TEST_F(JwtBearerTolerancesTest, AnExpiredExpInMillisecondsIsRefused) {
  auto c = claims();
  c["exp"] = now_ms() - 60'000;
  expect_refused(c, "expired authorization code");
}

TEST_F(JwtBearerTolerancesTest, ExpAsANumericStringIsAcceptedInSecondsOrMilliseconds) {
  auto c = claims();
  c["exp"] = std::to_string(now_s() + 120);
  expect_accepted(c);
  c["exp"] = std::to_string(now_ms() + 120'000);
  expect_accepted(c);
}

TEST_F(JwtBearerTolerancesTest, ExpAsANumericStringMeetsTheSameRule) {
  auto c = claims();
  c["exp"] = std::to_string(now_s() + 3600);
  expect_refused(c, "invalid assertion");
  c["exp"] = std::to_string(now_s() - 60);
  expect_refused(c, "expired authorization code");
}

TEST_F(JwtBearerTolerancesTest, ExpAsAStringThatIsNotDigitsIsRefused) {
  auto c = claims();
  for (const std::string& s :
       std::vector<std::string>{std::to_string(now_s() + 120) + ".5", "in two minutes", ""}) {
    c["exp"] = s;
    expect_refused(c, "invalid assertion");
  }
}

TEST_F(JwtBearerTolerancesTest, NbfInMillisecondsOrAsAStringIsHonoured) {
  auto c = claims();
  c["nbf"] = now_ms() + 120'000;
  expect_refused(c, "invalid assertion");
  c["nbf"] = std::to_string(now_s() + 120);
  expect_refused(c, "invalid assertion");
  c["nbf"] = "soon";
  expect_refused(c, "invalid assertion");
  c["nbf"] = std::to_string(now_ms() - 1000);
  expect_accepted(c);
}

TEST_F(JwtBearerTolerancesTest, AudIsTheIssuerWithOrWithoutOneTrailingSlash) {
  auto c = claims();
  c["aud"] = kIssuer;
  expect_accepted(c);
  c["aud"] = std::string(kIssuer) + "/";
  expect_accepted(c);
  c["aud"] = boost::json::array{"https://elsewhere.example", std::string(kIssuer) + "/"};
  expect_accepted(c);
}

TEST_F(JwtBearerTolerancesTest, OtherSpellingsOfTheIssuerAreRefused) {
  auto c = claims();
  for (std::string aud : {std::string(kIssuer) + "//", std::string(kIssuer) + "/services",
                          std::string(kIssuer) + ":443", std::string("HTTPS://login.example.test"),
                          std::string("https://login.salesforce.com")}) {
    c["aud"] = aud;
    expect_refused(c, "audience is invalid");
  }
}

TEST_F(JwtBearerTolerancesTest, AnAudienceAliasIsAcceptedWithOrWithoutATrailingSlash) {
  const std::vector<std::string> aliases = {"https://login.salesforce.com",
                                            "https://test.salesforce.com/"};
  auto c = claims();
  for (const char* aud : {"https://login.salesforce.com", "https://login.salesforce.com/",
                          "https://test.salesforce.com", "https://test.salesforce.com/"}) {
    c["aud"] = aud;
    expect_accepted(c, aliases);
  }
  c["aud"] = kIssuer;
  expect_accepted(c, aliases);
  c["aud"] = "https://gs1.salesforce.com";
  expect_refused(c, "audience is invalid", aliases);
}

TEST(JwtBearerAudiences, EachAcceptedUrlComesWithAndWithoutOneSlash) {
  EXPECT_EQ(
      JwtBearerGrant::accepted_audiences("http://127.0.0.1:8080",
                                         {"https://login.salesforce.com/"}),
      (std::vector<std::string>{"http://127.0.0.1:8080", "http://127.0.0.1:8080/",
                                "https://login.salesforce.com", "https://login.salesforce.com/"}));
}

}  // namespace
}  // namespace latchkey::oauth
