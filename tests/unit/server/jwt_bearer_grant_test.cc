// The JWT bearer grant's single-use jti (RFC 7523 §3 item 7), recorded in the database
// (store::ReplayStore): kept while the assertion could still be accepted, shared by every
// grant over the same database, and limited per client.
#include "oauth/grants/jwt_bearer_grant.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

#include "crypto/jose.h"
#include "unit/server/test_support.h"

namespace latchkey::oauth {
namespace {

using testsupport::kIssuer;
using testsupport::params;
using testsupport::post_request;
using testsupport::TestWorld;

const crypto::SigningKey& app_key() {
  static const crypto::SigningKey k = crypto::SigningKey::generate_rs256("bearer-app");
  return k;
}

class JwtBearerGrantTest : public ::testing::Test {
 protected:
  JwtBearerGrantTest() : stack_(world_, kIssuer) {
    app_ = approved_app();
    other_ = approved_app();
  }

  // An app with a certificate that the world's user has approved.
  store::App approved_app() {
    auto app = world_.add_app(
        [](store::App& a) { a.cert_pem = testsupport::self_signed_cert_pem(app_key()); });
    world_.db().save_consent({world_.user().id, app.client_id, {"api"}, world_.clock().now_ms()});
    return app;
  }

  std::string assertion(const store::App& app, const std::string& jti, int64_t exp_in_s = 120) {
    int64_t now = world_.clock().now_s();
    return crypto::sign_jwt(app_key(), {{"iss", app.client_id},
                                        {"sub", world_.user().username},
                                        {"aud", kIssuer},
                                        {"exp", now + exp_in_s},
                                        {"jti", jti}});
  }

  static Result<boost::json::object> redeem(JwtBearerGrant& grant, const std::string& jwt) {
    http::Params p = params({{"grant_type", std::string(kJwtBearerGrant)}, {"assertion", jwt}});
    http::Request req = post_request();
    ClientAuth none;
    return testsupport::answer_of(grant.handle(TokenRequest{req, p, none}));
  }

  JwtBearerGrant make_grant(int64_t max_live_per_client = 10'000) {
    return JwtBearerGrant(world_.db(), world_.db(), world_.db(), world_.db(), stack_.issuer,
                          world_.clock(), kIssuer, max_live_per_client);
  }

  TestWorld world_;
  testsupport::IssuerStack stack_;
  store::App app_;
  store::App other_;
};

TEST_F(JwtBearerGrantTest, AJtiStaysUsedWhileTheAssertionIsStillAcceptedWithinTheSkew) {
  JwtBearerGrant grant = make_grant();
  const std::string jwt = assertion(app_, "jti-skew", 60);
  auto first = redeem(grant, jwt);
  ASSERT_TRUE(first.ok()) << first.error().description() << " " << first.error().debug();
  // Past exp, but within the 30 s of clock skew the grant allows: the assertion itself would
  // still pass, so its jti must still be remembered.
  world_.clock().advance_s(60 + 20);
  auto replay = redeem(grant, jwt);
  ASSERT_FALSE(replay.ok());
  EXPECT_EQ(replay.error().code(), "invalid_grant");
  EXPECT_EQ(replay.error().debug(), "jti replayed");
}

TEST_F(JwtBearerGrantTest, AnotherGrantOnTheSameDatabaseRefusesTheReplay) {
  JwtBearerGrant grant = make_grant();
  const std::string jwt = assertion(app_, "jti-restart");
  ASSERT_TRUE(redeem(grant, jwt).ok());
  JwtBearerGrant restarted = make_grant();
  auto replay = redeem(restarted, jwt);
  ASSERT_FALSE(replay.ok());
  EXPECT_EQ(replay.error().code(), "invalid_grant");
}

TEST_F(JwtBearerGrantTest, OneClientAtItsQuotaDoesNotBlockAnother) {
  JwtBearerGrant grant = make_grant(2);
  ASSERT_TRUE(redeem(grant, assertion(app_, "q-1")).ok());
  ASSERT_TRUE(redeem(grant, assertion(app_, "q-2")).ok());
  auto full = redeem(grant, assertion(app_, "q-3"));
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().code(), "invalid_grant");
  EXPECT_EQ(full.error().description(), "too many assertions; try again once earlier ones expire");
  EXPECT_TRUE(redeem(grant, assertion(other_, "q-1")).ok());
}

}  // namespace
}  // namespace latchkey::oauth
