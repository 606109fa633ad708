#include "oauth/grants/refresh_token_grant.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "crypto/crypto.h"
#include "oauth/token_issuer.h"
#include "oidc/id_token.h"
#include "keys/key_ring.h"
#include "token/opaque_tokens.h"
#include "unit/support/test_support.h"

namespace latchkey::oauth {
namespace {

using testsupport::kIssuer;
using testsupport::params;
using testsupport::post_request;
using testsupport::TestWorld;

constexpr const char* kExpired = "expired access/refresh token";

using testsupport::str;

class RefreshTokenGrantTest : public ::testing::Test {
 protected:
  RefreshTokenGrantTest()
      : stack_(world_, kIssuer),
        grant_(world_.db(), world_.db(), world_.db(), issuer_, world_.clock()) {}

  // What a code exchange would have given: an access and a refresh token of a new family.
  Issued initial(const store::App& app,
                 std::vector<std::string> scopes = {"api", "refresh_token", "openid"}) {
    GrantInput in(app, world_.user(), std::move(scopes));
    in.issue_refresh = true;
    return testsupport::durable(issuer_.issue(in));
  }

  static ClientAuth confidential(const store::App& app) {
    return testsupport::client_auth(app, AuthMethod::client_secret_post, TestWorld::secret());
  }
  static ClientAuth public_client(const store::App& app) {
    return testsupport::client_auth(app, AuthMethod::none);
  }

  Result<boost::json::object> refresh(const ClientAuth& client, const std::string& refresh_token,
                                      const char* scope = nullptr) {
    http::Params p = params({{"grant_type", "refresh_token"}, {"refresh_token", refresh_token}});
    if (scope) p.add("scope", scope);
    http::Request req = post_request();
    return testsupport::answer_of(grant_.handle(TokenRequest{req, p, client}));
  }

  std::optional<store::Token> token(const std::string& value) {
    return world_.db().find_token(token::ref_of(value));
  }

  store::App app_with(store::RefreshPolicy policy, int64_t ttl_s = 0) {
    return world_.add_app([&](store::App& a) {
      a.refresh_policy = policy;
      a.refresh_ttl_s = ttl_s;
    });
  }

  TestWorld world_;
  testsupport::IssuerStack stack_;
  TokenIssuer& issuer_ = stack_.issuer;
  RefreshTokenGrant grant_;
};

TEST_F(RefreshTokenGrantTest, ServesRefreshTokenGrantType) {
  EXPECT_EQ(grant_.grant_type(), "refresh_token");
}

TEST_F(RefreshTokenGrantTest, UntilRevokedTokenWorksRepeatedly) {
  auto app = app_with(store::RefreshPolicy::until_revoked);
  auto first = initial(app);
  std::string previous = first.access_token;
  for (int i = 0; i < 3; ++i) {
    world_.clock().advance_s(24 * 3600);  // days later still fine
    auto r = refresh(confidential(app), first.refresh_token);
    ASSERT_TRUE(r.ok()) << "use " << i << ": " << r.error().description();
    std::string access = str(r.value(), "access_token");
    EXPECT_FALSE(access.empty());
    EXPECT_NE(access, previous);
    EXPECT_FALSE(r.value().contains("refresh_token"));  // the same one stays valid
    auto row = token(access);
    ASSERT_TRUE(row.has_value());
    EXPECT_EQ(row->family_id, first.family_id);
    previous = access;
  }
}

TEST_F(RefreshTokenGrantTest, ResponseCarriesSignatureAndIdToken) {
  auto app = app_with(store::RefreshPolicy::until_revoked);
  auto r = refresh(confidential(app), initial(app).refresh_token);
  ASSERT_TRUE(r.ok()) << r.error().description();
  const auto& b = r.value();
  EXPECT_EQ(str(b, "signature"),
            TokenIssuer::signature(TestWorld::secret(), str(b, "id"), str(b, "issued_at")));
  EXPECT_FALSE(str(b, "id_token").empty());  // openid was granted
  EXPECT_EQ(str(b, "scope"), "api refresh_token openid");
}

// OIDC Core §12.2: an ID token minted by a refresh carries the auth_time of the original
// login (with its acr and amr), not the time of the refresh; under rotation the new refresh
// token keeps it for the next one.
TEST_F(RefreshTokenGrantTest, IdTokenKeepsTheOriginalAuthTime) {
  for (auto policy : {store::RefreshPolicy::until_revoked, store::RefreshPolicy::rotate}) {
    auto app = app_with(policy);
    const int64_t login_s = world_.clock().now_s() - 30;
    GrantInput in(app, world_.user(), {"api", "refresh_token", "openid"});
    in.issue_refresh = true;
    in.auth_time_s = login_s;
    std::string refresh_token = testsupport::durable(issuer_.issue(in)).refresh_token;
    for (int i = 0; i < 2; ++i) {
      world_.clock().advance_s(3600);
      auto r = refresh(confidential(app), refresh_token);
      ASSERT_TRUE(r.ok()) << r.error().description();
      auto jwt = crypto::decode_jwt(str(r.value(), "id_token"));
      ASSERT_TRUE(jwt.ok());
      const auto& c = jwt->claims;
      ASSERT_TRUE(c.contains("auth_time")) << "refresh " << i;
      EXPECT_EQ(c.at("auth_time").to_number<int64_t>(), login_s);
      EXPECT_EQ(c.at("iat").to_number<int64_t>(), world_.clock().now_s());
      EXPECT_EQ(str(c, "acr"), token::kPasswordAcr);
      if (policy == store::RefreshPolicy::rotate) refresh_token = str(r.value(), "refresh_token");
    }
  }
}

TEST_F(RefreshTokenGrantTest, IdTokenHasNoAuthTimeWhenNoUserSignedIn) {
  // A grant without an interactive login (JWT bearer, client credentials) has none to carry.
  auto app = app_with(store::RefreshPolicy::until_revoked);
  auto r = refresh(confidential(app), initial(app).refresh_token);
  ASSERT_TRUE(r.ok()) << r.error().description();
  auto jwt = crypto::decode_jwt(str(r.value(), "id_token"));
  ASSERT_TRUE(jwt.ok());
  EXPECT_FALSE(jwt->claims.contains("auth_time"));
  EXPECT_FALSE(jwt->claims.contains("acr"));
}

TEST_F(RefreshTokenGrantTest, RotateReturnsNewRefreshToken) {
  auto app = app_with(store::RefreshPolicy::rotate);
  auto first = initial(app);
  auto r = refresh(confidential(app), first.refresh_token);
  ASSERT_TRUE(r.ok()) << r.error().description();
  std::string next = str(r.value(), "refresh_token");
  ASSERT_FALSE(next.empty());
  EXPECT_NE(next, first.refresh_token);
  EXPECT_EQ(token(next)->family_id, first.family_id);
  // The new one works in turn and gives yet another.
  auto r2 = refresh(confidential(app), next);
  ASSERT_TRUE(r2.ok()) << r2.error().description();
  EXPECT_NE(str(r2.value(), "refresh_token"), next);
}

TEST_F(RefreshTokenGrantTest, RotateReuseOfOldTokenRevokesTheFamily) {
  // RFC 9700 §4.14.2 and docs/behaviour.md §5.4: reuse of a rotated token revokes the whole family.
  auto app = app_with(store::RefreshPolicy::rotate);
  auto first = initial(app);
  auto r = refresh(confidential(app), first.refresh_token);
  ASSERT_TRUE(r.ok());
  std::string next_refresh = str(r.value(), "refresh_token");
  std::string next_access = str(r.value(), "access_token");

  auto reuse = refresh(confidential(app), first.refresh_token);
  ASSERT_FALSE(reuse.ok());
  EXPECT_EQ(reuse.error().code(), "invalid_grant");
  EXPECT_EQ(reuse.error().description(), kExpired);

  EXPECT_TRUE(token(next_refresh)->revoked);
  EXPECT_TRUE(token(next_access)->revoked);
  EXPECT_TRUE(token(first.access_token)->revoked);
  auto with_new = refresh(confidential(app), next_refresh);
  ASSERT_FALSE(with_new.ok());
  EXPECT_EQ(with_new.error().code(), "invalid_grant");
}

// docs/behaviour.md §5.4, serve --refresh-reuse-grace: a client that lost the response to its
// refresh may retry with the same token within the window, and gets a new pair each time; the
// pairs it got before stay valid. After the window (counted from the first use, not from the
// retries) a reuse revokes the family as without the window.
TEST_F(RefreshTokenGrantTest, WithinTheGraceWindowARotatedTokenBuysANewPairAgain) {
  RefreshTokenGrant graceful(world_.db(), world_.db(), world_.db(), issuer_, world_.clock(),
                             10'000);
  auto use = [&](const store::App& app, const std::string& refresh_token) {
    http::Params p = params({{"grant_type", "refresh_token"}, {"refresh_token", refresh_token}});
    http::Request req = post_request();
    return testsupport::answer_of(graceful.handle(TokenRequest{req, p, confidential(app)}));
  };
  auto app = app_with(store::RefreshPolicy::rotate);
  auto first = initial(app);
  auto r1 = use(app, first.refresh_token);
  ASSERT_TRUE(r1.ok()) << r1.error().description();
  world_.clock().advance_s(6);
  auto retry = use(app, first.refresh_token);
  ASSERT_TRUE(retry.ok()) << retry.error().description();
  const std::string lost = str(r1.value(), "refresh_token");
  const std::string kept = str(retry.value(), "refresh_token");
  EXPECT_NE(kept, lost);
  EXPECT_EQ(token(kept)->family_id, first.family_id);
  EXPECT_FALSE(token(lost)->revoked);

  // 11 s after the first use, 5 s after the retry: the window is over.
  world_.clock().advance_s(5);
  auto late = use(app, first.refresh_token);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().description(), kExpired);
  EXPECT_TRUE(token(kept)->revoked);
  EXPECT_TRUE(token(lost)->revoked);
  EXPECT_TRUE(token(str(retry.value(), "access_token"))->revoked);
}

// Without the window (the default), the reuse one second later is refused: the previous test's
// retry is the window's doing.
TEST_F(RefreshTokenGrantTest, WithoutTheGraceWindowAnImmediateReuseRevokesTheFamily) {
  auto app = app_with(store::RefreshPolicy::rotate);
  auto first = initial(app);
  auto r1 = refresh(confidential(app), first.refresh_token);
  ASSERT_TRUE(r1.ok());
  world_.clock().advance_s(1);
  ASSERT_FALSE(refresh(confidential(app), first.refresh_token).ok());
  EXPECT_TRUE(token(str(r1.value(), "refresh_token"))->revoked);
}

TEST_F(RefreshTokenGrantTest, ExpireAfterWorksUntilTheTtlThenExpires) {
  auto app = app_with(store::RefreshPolicy::expire_after, 3600);
  auto first = initial(app);
  world_.clock().advance_s(3599);
  auto ok = refresh(confidential(app), first.refresh_token);
  ASSERT_TRUE(ok.ok()) << ok.error().description();
  EXPECT_FALSE(ok.value().contains("refresh_token"));
  world_.clock().advance_s(1);
  auto late = refresh(confidential(app), first.refresh_token);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code(), "invalid_grant");
  EXPECT_EQ(late.error().description(), kExpired);
}

TEST_F(RefreshTokenGrantTest, ImmediatelyPolicyRefusesRefresh) {
  // A token made before the app switched to "immediately" no longer refreshes.
  auto app = app_with(store::RefreshPolicy::until_revoked);
  auto first = initial(app);
  store::App changed = app;
  changed.refresh_policy = store::RefreshPolicy::immediately;
  auto r = refresh(confidential(changed), first.refresh_token);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_grant");
}

TEST_F(RefreshTokenGrantTest, RequireSecretRefreshRefusesUnauthenticatedClient) {
  // docs/behaviour.md §5.4: client secret required while --require-secret-refresh is on.
  auto app = world_.add_app([](store::App& a) { a.require_secret_refresh = true; });
  auto first = initial(app);
  auto r = refresh(public_client(app), first.refresh_token);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_client");
  // The token is not spent by the refusal.
  EXPECT_TRUE(refresh(confidential(app), first.refresh_token).ok());
}

TEST_F(RefreshTokenGrantTest, RequireSecretRefreshOffAllowsPublicClient) {
  auto app = world_.add_app([](store::App& a) {
    a.require_secret_refresh = false;
    a.require_secret_web_server = false;
  });
  auto r = refresh(public_client(app), initial(app).refresh_token);
  ASSERT_TRUE(r.ok()) << r.error().description();
  EXPECT_FALSE(r.value().contains("signature"));  // no secret presented
}

TEST_F(RefreshTokenGrantTest, NarrowerScopeIsGranted) {
  // RFC 6749 §6: the scope may be narrowed.
  auto app = app_with(store::RefreshPolicy::until_revoked);
  auto r = refresh(confidential(app), initial(app).refresh_token, "api");
  ASSERT_TRUE(r.ok()) << r.error().description();
  EXPECT_EQ(str(r.value(), "scope"), "api");
  EXPECT_FALSE(r.value().contains("id_token"));
  EXPECT_EQ(token(str(r.value(), "access_token"))->scopes, std::vector<std::string>{"api"});
}

// Regression: under the rotate policy a narrowed refresh request must not narrow the new
// refresh token. RFC 6749 §6: "If a new refresh
// token is issued, the refresh token scope MUST be identical to that of the refresh token
// included by the client in the request."
TEST_F(RefreshTokenGrantTest, RotateWithNarrowerScopeKeepsRefreshTokenScope) {
  auto app = app_with(store::RefreshPolicy::rotate);
  auto first = initial(app, {"api", "refresh_token", "openid"});
  auto r = refresh(confidential(app), first.refresh_token, "api");
  ASSERT_TRUE(r.ok()) << r.error().description();
  EXPECT_EQ(str(r.value(), "scope"), "api");
  std::string next = str(r.value(), "refresh_token");
  ASSERT_FALSE(next.empty());
  ASSERT_TRUE(token(next).has_value());
  EXPECT_EQ(token(next)->scopes, (std::vector<std::string>{"api", "refresh_token", "openid"}));
  auto wide_again = refresh(confidential(app), next, "api openid");
  EXPECT_TRUE(wide_again.ok()) << wide_again.error().description();
}

TEST_F(RefreshTokenGrantTest, WiderScopeIsInvalidScope) {
  // RFC 6749 §6: never a scope not originally granted, even one the app has.
  auto app = app_with(store::RefreshPolicy::until_revoked);
  auto first = initial(app, {"api", "refresh_token"});
  auto r = refresh(confidential(app), first.refresh_token, "api profile");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_scope");
}

TEST_F(RefreshTokenGrantTest, RevokedTokenIsRefused) {
  auto app = app_with(store::RefreshPolicy::until_revoked);
  auto first = initial(app);
  ASSERT_EQ(world_.db().revoke_token(token::ref_of(first.refresh_token)), 1);
  auto r = refresh(confidential(app), first.refresh_token);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_grant");
  EXPECT_EQ(r.error().description(), kExpired);
}

TEST_F(RefreshTokenGrantTest, UnknownTokenIsRefused) {
  auto app = app_with(store::RefreshPolicy::until_revoked);
  auto r = refresh(confidential(app), "5Aepnot-a-real-token");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_grant");
}

TEST_F(RefreshTokenGrantTest, AccessTokenIsNotARefreshToken) {
  auto app = app_with(store::RefreshPolicy::until_revoked);
  auto r = refresh(confidential(app), initial(app).access_token);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_grant");
}

TEST_F(RefreshTokenGrantTest, TokenOfAnotherClientIsRefused) {
  // RFC 6749 §6: the refresh token must have been issued to the authenticated client.
  auto owner = app_with(store::RefreshPolicy::until_revoked);
  auto thief = app_with(store::RefreshPolicy::until_revoked);
  auto r = refresh(confidential(thief), initial(owner).refresh_token);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_grant");
}

// The user is re-checked at every refresh: deactivation stops a refresh token even when its
// tokens were not revoked along with it.
TEST_F(RefreshTokenGrantTest, InactiveUserIsRefused) {
  auto app = app_with(store::RefreshPolicy::until_revoked);
  auto first = initial(app);
  ASSERT_TRUE(refresh(confidential(app), first.refresh_token).ok());
  ASSERT_TRUE(world_.db().set_user_active(world_.user().id, false));
  auto r = refresh(confidential(app), first.refresh_token);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_grant");
}

// Issue 3 (approval model): for an admin-approved app "a user not covered cannot use the app in
// any flow", so a refresh token stops working once its user is no longer pre-authorized.
class RefreshTokenGrantApprovalTest : public RefreshTokenGrantTest {
 protected:
  static constexpr const char* kNotApproved = "user hasn't approved this consumer";

  store::App admin_approved(store::RefreshPolicy policy = store::RefreshPolicy::until_revoked) {
    return world_.add_app([&](store::App& a) {
      a.admin_approved_only = true;
      a.refresh_policy = policy;
    });
  }
  void expect_not_approved(const Result<boost::json::object>& r) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), "invalid_grant");
    EXPECT_EQ(r.error().description(), kNotApproved);
  }
};

TEST_F(RefreshTokenGrantApprovalTest, WithdrawnProfilePreauthorizationIsRefused) {
  auto app = admin_approved();
  store::Preauthorization pre{app.client_id, store::Preauthorization::Kind::profile,
                              world_.user().profile};
  world_.db().add_preauthorization(pre);
  auto first = initial(app);
  ASSERT_TRUE(refresh(confidential(app), first.refresh_token).ok());
  ASSERT_TRUE(world_.db().remove_preauthorization(pre));  // app unpreauthorize
  expect_not_approved(refresh(confidential(app), first.refresh_token));
}

TEST_F(RefreshTokenGrantApprovalTest, UserMovedToAnotherProfileIsRefused) {
  auto app = admin_approved();
  world_.db().add_preauthorization(
      {app.client_id, store::Preauthorization::Kind::profile, world_.user().profile});
  auto first = initial(app);
  ASSERT_TRUE(refresh(confidential(app), first.refresh_token).ok());
  // user update --profile
  ASSERT_TRUE(world_.db().update_user_access(world_.user().id, "Read Only", {}));
  expect_not_approved(refresh(confidential(app), first.refresh_token));
}

TEST_F(RefreshTokenGrantApprovalTest, PermissionSetTakenAwayIsRefused) {
  auto app = admin_approved();
  world_.db().add_preauthorization(
      {app.client_id, store::Preauthorization::Kind::permission_set, "API Only"});
  ASSERT_TRUE(
      world_.db().update_user_access(world_.user().id, world_.user().profile, {"API Only"}));
  auto first = initial(app);
  ASSERT_TRUE(refresh(confidential(app), first.refresh_token).ok());
  // user update --clear-permission-sets
  ASSERT_TRUE(world_.db().update_user_access(world_.user().id, world_.user().profile, {}));
  expect_not_approved(refresh(confidential(app), first.refresh_token));
}

TEST_F(RefreshTokenGrantApprovalTest, RefusalUnderRotateSpendsNothing) {
  // Checked before the rotation is written: once the user is covered again, the same refresh
  // token still works and no family was revoked.
  auto app = admin_approved(store::RefreshPolicy::rotate);
  store::Preauthorization pre{app.client_id, store::Preauthorization::Kind::profile,
                              world_.user().profile};
  world_.db().add_preauthorization(pre);
  auto first = initial(app);
  ASSERT_TRUE(world_.db().remove_preauthorization(pre));
  expect_not_approved(refresh(confidential(app), first.refresh_token));
  world_.db().add_preauthorization(pre);
  auto again = refresh(confidential(app), first.refresh_token);
  ASSERT_TRUE(again.ok()) << again.error().description();
  EXPECT_FALSE(token(first.access_token)->revoked);
}

TEST_F(RefreshTokenGrantTest, MissingRefreshTokenIsInvalidRequest) {
  auto app = app_with(store::RefreshPolicy::until_revoked);
  http::Params p = params({{"grant_type", "refresh_token"}});
  http::Request req = post_request();
  ClientAuth client = confidential(app);
  auto r = testsupport::answer_of(grant_.handle(TokenRequest{req, p, client}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_request");
}

}  // namespace
}  // namespace latchkey::oauth
