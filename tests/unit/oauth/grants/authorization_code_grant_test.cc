#include "oauth/grants/authorization_code_grant.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <memory>
#include <string>
#include <vector>

#include "crypto/crypto.h"
#include "crypto/jose.h"
#include "oauth/grants/refresh_token_grant.h"
#include "oauth/token_issuer.h"
#include "oidc/id_token.h"
#include "keys/key_ring.h"
#include "token/opaque_tokens.h"
#include "unit/support/test_support.h"

namespace latchkey::oauth {
namespace {

using testsupport::kCallback;
using testsupport::kIssuer;
using testsupport::params;
using testsupport::post_request;
using testsupport::TestWorld;

// RFC 7636 Appendix B.
constexpr const char* kVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
constexpr const char* kChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
constexpr int64_t kCodeTtlS = 600;  // docs/behaviour.md §5.1: the code lives 10 minutes

using testsupport::str;

class AuthorizationCodeGrantTest : public ::testing::Test {
 protected:
  AuthorizationCodeGrantTest()
      : stack_(world_, kIssuer),
        grant_(world_.db(), world_.db(), world_.db(), issuer_, world_.clock()) {
    app_ = world_.add_app();
  }

  struct CodeOptions {
    std::string challenge;
    std::vector<std::string> scopes{"api", "refresh_token"};
    std::string nonce;
    std::string client_id;  // defaults to app_
  };

  // Saves a code as the authorize endpoint would: only its hash is stored.
  std::string save_code(const CodeOptions& o) {
    std::string code = crypto::random_token(world_.random());
    store::AuthCode rec;
    rec.code_hash = token::hash_of(code);
    rec.client_id = o.client_id.empty() ? app_.client_id : o.client_id;
    rec.user_id = world_.user().id;
    rec.redirect_uri = kCallback;
    rec.scopes = o.scopes;
    rec.code_challenge = o.challenge;
    rec.nonce = o.nonce;
    rec.auth_time_s = world_.clock().now_s();
    rec.expires_ms = world_.clock().now_ms() + kCodeTtlS * 1000;
    world_.db().save_code(rec);
    return code;
  }
  std::string save_code() { return save_code(CodeOptions{}); }

  static ClientAuth confidential(const store::App& app) {
    return testsupport::client_auth(app, AuthMethod::client_secret_basic, TestWorld::secret());
  }
  static ClientAuth public_client(const store::App& app) {
    return testsupport::client_auth(app, AuthMethod::none);
  }

  Result<boost::json::object> exchange(const ClientAuth& client, const http::Params& p) {
    http::Request req = post_request();
    return testsupport::answer_of(grant_.handle(TokenRequest{req, p, client}));
  }
  Result<boost::json::object> exchange(const ClientAuth& client, const std::string& code,
                                       const char* verifier = nullptr) {
    http::Params p =
        params({{"grant_type", "authorization_code"}, {"code", code}, {"redirect_uri", kCallback}});
    if (verifier) p.add("code_verifier", verifier);
    return exchange(client, p);
  }

  std::optional<store::Token> token(const std::string& value) {
    return world_.db().find_token(token::ref_of(value));
  }

  TestWorld world_;
  testsupport::IssuerStack stack_;
  TokenIssuer& issuer_ = stack_.issuer;
  AuthorizationCodeGrant grant_;
  store::App app_;
};

TEST_F(AuthorizationCodeGrantTest, ServesAuthorizationCodeGrantType) {
  EXPECT_EQ(grant_.grant_type(), "authorization_code");
}

TEST_F(AuthorizationCodeGrantTest, SuccessReturnsSalesforceShapedTokenResponse) {
  std::string code = save_code();
  auto r = exchange(confidential(app_), code);
  ASSERT_TRUE(r.ok()) << r.error().code() << ": " << r.error().description();
  const auto& b = r.value();
  EXPECT_FALSE(str(b, "access_token").empty());
  EXPECT_FALSE(str(b, "refresh_token").empty());
  EXPECT_EQ(str(b, "token_type"), "Bearer");
  EXPECT_EQ(str(b, "scope"), "api refresh_token");
  EXPECT_EQ(str(b, "instance_url"), kIssuer);
  EXPECT_EQ(str(b, "id"), std::string(kIssuer) + "/id/" + world_.org().id + "/" + world_.user().id);
  EXPECT_EQ(str(b, "issued_at"), std::to_string(world_.clock().now_ms()));  // ms, as a string
  ASSERT_TRUE(b.contains("expires_in"));
  EXPECT_TRUE(b.at("expires_in").is_number());
  EXPECT_EQ(b.at("expires_in").to_number<int64_t>(), app_.access_token_ttl_s);
  EXPECT_FALSE(b.contains("id_token"));  // no openid scope
}

TEST_F(AuthorizationCodeGrantTest, SignatureIsBase64HmacOfIdAndIssuedAt) {
  // docs/behaviour.md §5: base64(HMAC-SHA256(client secret, id + issued_at)), padded standard
  // base64.
  auto r = exchange(confidential(app_), save_code());
  ASSERT_TRUE(r.ok()) << r.error().description();
  const std::string id = str(r.value(), "id");
  const std::string issued_at = str(r.value(), "issued_at");
  const std::string expected =
      crypto::base64_encode(crypto::hmac_sha256(TestWorld::secret(), id + issued_at));
  EXPECT_EQ(str(r.value(), "signature"), expected);
  EXPECT_EQ(TokenIssuer::signature(TestWorld::secret(), id, issued_at), expected);
  EXPECT_EQ(expected.size(), 44u);  // 32 bytes, padded
  EXPECT_EQ(expected.back(), '=');
}

TEST_F(AuthorizationCodeGrantTest, NoSignatureWithoutClientSecret) {
  auto pub = world_.add_app([](store::App& a) {
    a.require_secret_web_server = false;
    a.secret_hash.clear();
  });
  auto r =
      exchange(public_client(pub), save_code({kChallenge, {"api"}, "", pub.client_id}), kVerifier);
  ASSERT_TRUE(r.ok()) << r.error().description();
  EXPECT_FALSE(r.value().contains("signature"));
}

TEST_F(AuthorizationCodeGrantTest, StoresOnlyHashesOfIssuedTokens) {
  // docs/behaviour.md §2: tokens are stored only as SHA-256 hashes.
  std::string code = save_code();
  auto r = exchange(confidential(app_), code);
  ASSERT_TRUE(r.ok());
  auto access = token(str(r.value(), "access_token"));
  ASSERT_TRUE(access.has_value());
  EXPECT_EQ(access->kind, store::TokenKind::access);
  EXPECT_EQ(access->client_id, app_.client_id);
  EXPECT_EQ(access->user_id, world_.user().id);
  EXPECT_EQ(access->code_key, std::to_string(world_.db().find_code(token::ref_of(code))->id));
  EXPECT_FALSE(access->revoked);
  EXPECT_EQ(access->expires_ms, world_.clock().now_ms() + app_.access_token_ttl_s * 1000);
  auto refresh = token(str(r.value(), "refresh_token"));
  ASSERT_TRUE(refresh.has_value());
  EXPECT_EQ(refresh->kind, store::TokenKind::refresh);
  EXPECT_EQ(refresh->family_id, access->family_id);
  EXPECT_EQ(refresh->expires_ms, 0);  // until revoked
  EXPECT_FALSE(world_.db()
                   .find_token(store::SecretRef::by_hash(str(r.value(), "access_token")))
                   .has_value());
}

TEST_F(AuthorizationCodeGrantTest, OpenidScopeAddsSignedIdTokenWithNonce) {
  std::string code = save_code({"", {"api", "openid", "profile"}, "n-0S6_WzA2Mj", ""});
  auto r = exchange(confidential(app_), code);
  ASSERT_TRUE(r.ok()) << r.error().description();
  std::string id_token = str(r.value(), "id_token");
  ASSERT_FALSE(id_token.empty());
  auto jwt = crypto::decode_jwt(id_token);
  ASSERT_TRUE(jwt.ok());
  EXPECT_TRUE(
      crypto::verify_jwt(jwt.value(), stack_.keys.current()->signing_key("RS256").public_key()));
  const auto& c = jwt->claims;
  EXPECT_EQ(str(c, "iss"), kIssuer);
  EXPECT_EQ(str(c, "aud"), app_.client_id);
  EXPECT_EQ(str(c, "nonce"), "n-0S6_WzA2Mj");  // OIDC Core §3.1.3.6
  EXPECT_EQ(str(c, "sub"), str(r.value(), "id"));
  EXPECT_EQ(str(c, "at_hash"), oidc::half_hash(str(r.value(), "access_token")));
  EXPECT_EQ(str(c, "preferred_username"), world_.user().username);
  // No refresh_token scope here: no refresh token.
  EXPECT_FALSE(r.value().contains("refresh_token"));
}

// OIDC Core §2: the code came from a password login at our login page, so the ID token says
// so: auth_time of that login, acr (the documented password URN) and amr ["pwd"] (RFC 8176).
TEST_F(AuthorizationCodeGrantTest, IdTokenStatesThePasswordLogin) {
  const int64_t login_s = world_.clock().now_s();
  std::string code = save_code({"", {"api", "openid"}, "n", ""});
  world_.clock().advance_s(5);
  auto r = exchange(confidential(app_), code);
  ASSERT_TRUE(r.ok()) << r.error().description();
  auto jwt = crypto::decode_jwt(str(r.value(), "id_token"));
  ASSERT_TRUE(jwt.ok());
  const auto& c = jwt->claims;
  EXPECT_EQ(str(c, "acr"), "urn:latchkey:acr:password");
  EXPECT_EQ(str(c, "acr"), token::kPasswordAcr);
  ASSERT_TRUE(c.contains("amr"));
  EXPECT_EQ(c.at("amr"), (boost::json::array{"pwd"}));
  ASSERT_TRUE(c.contains("auth_time"));
  EXPECT_EQ(c.at("auth_time").to_number<int64_t>(), login_s);
}

TEST_F(AuthorizationCodeGrantTest, ReplayedCodeIsInvalidGrantAndRevokesItsTokens) {
  // RFC 6749 §4.1.2 and docs/behaviour.md §5.1: single use; a replay revokes what the code gave.
  std::string code = save_code();
  auto first = exchange(confidential(app_), code);
  ASSERT_TRUE(first.ok());
  std::string access = str(first.value(), "access_token");
  std::string refresh = str(first.value(), "refresh_token");
  ASSERT_FALSE(token(access)->revoked);

  auto second = exchange(confidential(app_), code);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code(), "invalid_grant");
  ASSERT_TRUE(token(access).has_value());
  EXPECT_TRUE(token(access)->revoked);
  EXPECT_TRUE(token(refresh)->revoked);
}

// RFC 6749 §4.1.2: "all tokens previously issued based on that authorization code", which
// includes what the code's refresh token bought afterwards (same family, no code of its own).
TEST_F(AuthorizationCodeGrantTest, ReplayedCodeRevokesTheTokensRefreshedFromIt) {
  for (auto policy : {store::RefreshPolicy::until_revoked, store::RefreshPolicy::rotate}) {
    store::App app = world_.add_app([&](store::App& a) { a.refresh_policy = policy; });
    CodeOptions o;
    o.client_id = app.client_id;
    std::string code = save_code(o);
    auto first = exchange(confidential(app), code);
    ASSERT_TRUE(first.ok());
    RefreshTokenGrant refresher(world_.db(), world_.db(), world_.db(), issuer_, world_.clock());
    http::Request req = post_request();
    auto refreshed = testsupport::answer_of(refresher.handle(
        TokenRequest{req,
                     params({{"grant_type", "refresh_token"},
                             {"refresh_token", str(first.value(), "refresh_token")}}),
                     confidential(app)}));
    ASSERT_TRUE(refreshed.ok());
    std::string later_access = str(refreshed.value(), "access_token");
    ASSERT_FALSE(token(later_access)->revoked);

    auto replay = exchange(confidential(app), code);
    ASSERT_FALSE(replay.ok());
    EXPECT_EQ(replay.error().code(), "invalid_grant");
    EXPECT_TRUE(token(later_access)->revoked) << "policy " << static_cast<int>(policy);
    if (policy == store::RefreshPolicy::rotate) {
      EXPECT_TRUE(token(str(refreshed.value(), "refresh_token"))->revoked);
    }
  }
}

TEST_F(AuthorizationCodeGrantTest, CodeIsValidForTenMinutes) {
  std::string code = save_code();
  world_.clock().advance_s(kCodeTtlS - 1);
  auto r = exchange(confidential(app_), code);
  EXPECT_TRUE(r.ok()) << r.error().description();
}

TEST_F(AuthorizationCodeGrantTest, ExpiredCodeIsRefused) {
  std::string code = save_code();
  world_.clock().advance_s(kCodeTtlS + 1);
  auto r = exchange(confidential(app_), code);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_grant");
  EXPECT_EQ(r.error().description(), "expired authorization code");
}

TEST_F(AuthorizationCodeGrantTest, UnknownCodeIsInvalidGrant) {
  auto r = exchange(confidential(app_), "never-issued");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_grant");
}

TEST_F(AuthorizationCodeGrantTest, MissingCodeIsInvalidRequest) {
  auto r = exchange(confidential(app_),
                    params({{"grant_type", "authorization_code"}, {"redirect_uri", kCallback}}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_request");
}

TEST_F(AuthorizationCodeGrantTest, RedirectUriMismatchIsInvalidGrant) {
  // RFC 6749 §4.1.3: redirect_uri must be identical to the authorize request's.
  std::string code = save_code();
  auto r = exchange(confidential(app_), params({{"grant_type", "authorization_code"},
                                                {"code", code},
                                                {"redirect_uri", "https://app.example.test/x"}}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_grant");
}

TEST_F(AuthorizationCodeGrantTest, MissingRedirectUriIsInvalidGrant) {
  std::string code = save_code();
  auto r =
      exchange(confidential(app_), params({{"grant_type", "authorization_code"}, {"code", code}}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_grant");
}

TEST_F(AuthorizationCodeGrantTest, CorrectVerifierIsAccepted) {
  auto r = exchange(confidential(app_), save_code({kChallenge, {"api"}, "", ""}), kVerifier);
  EXPECT_TRUE(r.ok()) << r.error().description();
}

TEST_F(AuthorizationCodeGrantTest, WrongVerifierIsInvalidCodeVerifier) {
  // RFC 7636 §4.6.
  auto r = exchange(confidential(app_), save_code({kChallenge, {"api"}, "", ""}),
                    "aBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_grant");
  EXPECT_EQ(r.error().description(), "invalid code verifier");
}

TEST_F(AuthorizationCodeGrantTest, MissingVerifierWhereChallengeWasSentIsInvalidGrant) {
  // docs/behaviour.md §5.2; RFC 9700 §2.1.1 downgrade protection.
  auto r = exchange(confidential(app_), save_code({kChallenge, {"api"}, "", ""}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_grant");
}

TEST_F(AuthorizationCodeGrantTest, VerifierWithoutChallengeIsInvalidGrant) {
  // docs/behaviour.md §5.2; RFC 9700 §2.1.1: a verifier where no challenge was sent means a
  // downgrade.
  auto r = exchange(confidential(app_), save_code(), kVerifier);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_grant");
}

TEST_F(AuthorizationCodeGrantTest, RequireSecretAppWithoutClientAuthIsInvalidClient) {
  // docs/behaviour.md §5.3.
  std::string code = save_code();
  auto r = exchange(public_client(app_), code);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_client");
}

TEST_F(AuthorizationCodeGrantTest, RequireSecretFailureDoesNotConsumeTheCode) {
  // A client that forgot its secret must not burn the code: a later correct exchange works.
  std::string code = save_code();
  ASSERT_FALSE(exchange(public_client(app_), code).ok());
  auto r = exchange(confidential(app_), code);
  EXPECT_TRUE(r.ok()) << r.error().description();
}

TEST_F(AuthorizationCodeGrantTest, PublicClientWithPkceNeedsNoSecret) {
  auto pub = world_.add_app([](store::App& a) { a.require_secret_web_server = false; });
  auto r =
      exchange(public_client(pub), save_code({kChallenge, {"api"}, "", pub.client_id}), kVerifier);
  EXPECT_TRUE(r.ok()) << r.error().description();
}

TEST_F(AuthorizationCodeGrantTest, CodeIssuedToAnotherClientIsInvalidGrant) {
  // RFC 6749 §4.1.3: the code must have been issued to the authenticated client.
  auto other = world_.add_app();
  std::string code = save_code({"", {"api"}, "", other.client_id});
  auto r = exchange(confidential(app_), code);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_grant");
}

TEST_F(AuthorizationCodeGrantTest, ImmediatelyRefreshPolicyGivesNoRefreshToken) {
  auto app =
      world_.add_app([](store::App& a) { a.refresh_policy = store::RefreshPolicy::immediately; });
  auto r =
      exchange(confidential(app), save_code({"", {"api", "refresh_token"}, "", app.client_id}));
  ASSERT_TRUE(r.ok()) << r.error().description();
  EXPECT_FALSE(str(r.value(), "access_token").empty());
  EXPECT_FALSE(r.value().contains("refresh_token"));
}

TEST_F(AuthorizationCodeGrantTest, OfflineAccessScopeGivesRefreshToken) {
  auto app = world_.add_app([](store::App& a) { a.scopes = {"api", "offline_access"}; });
  auto r =
      exchange(confidential(app), save_code({"", {"api", "offline_access"}, "", app.client_id}));
  ASSERT_TRUE(r.ok()) << r.error().description();
  EXPECT_TRUE(r.value().contains("refresh_token"));
}

TEST_F(AuthorizationCodeGrantTest, InactiveUserIsInvalidGrant) {
  store::User bob = world_.user();
  bob.id = "005000000000002AAA";
  bob.username = "bob@localhost";
  bob.active = false;
  ASSERT_TRUE(world_.db().create_user(bob));
  std::string code = crypto::random_token(world_.random());
  store::AuthCode rec;
  rec.code_hash = token::hash_of(code);
  rec.client_id = app_.client_id;
  rec.user_id = bob.id;
  rec.redirect_uri = kCallback;
  rec.scopes = {"api"};
  rec.expires_ms = world_.clock().now_ms() + kCodeTtlS * 1000;
  world_.db().save_code(rec);
  auto r = exchange(confidential(app_), code);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_grant");
}

class AuthorizationCodeGrantReadLaterTest : public AuthorizationCodeGrantTest {
 protected:
  AuthorizationCodeGrantReadLaterTest()
      : codes_(world_.db()), later_(codes_, world_.db(), world_.db(), issuer_, world_.clock()) {}

  // Starts the exchange; the outcome lands in outcome_ once the grant answers.
  void start(const std::string& code) {
    req_ = post_request();
    params_ =
        params({{"grant_type", "authorization_code"}, {"code", code}, {"redirect_uri", kCallback}});
    client_ = confidential(app_);
    // Kept until the grant answers (TokenGrantHandler::handle_later).
    request_.emplace(TokenRequest{req_, params_, client_});
    later_.handle_later(*request_,
                        [this](Result<TokenOutcome> o) { outcome_.emplace(std::move(o)); });
  }
  Result<boost::json::object> answer() { return testsupport::answer_of(std::move(*outcome_)); }

  testsupport::ReadLaterCodes codes_;
  AuthorizationCodeGrant later_;
  http::Request req_;
  http::Params params_;
  ClientAuth client_;
  std::optional<TokenRequest> request_;
  std::optional<Result<TokenOutcome>> outcome_;
};

TEST_F(AuthorizationCodeGrantReadLaterTest, TheExchangeIsAnsweredOnceItsCodeIsRead) {
  EXPECT_TRUE(later_.reads_later());
  EXPECT_FALSE(grant_.reads_later());  // the test's SQLite store answers at once
  start(save_code());
  ASSERT_EQ(codes_.asked.size(), 1u);
  EXPECT_FALSE(outcome_) << "answered before its code was read";
  codes_.answer();
  ASSERT_TRUE(outcome_);
  auto r = answer();
  ASSERT_TRUE(r.ok()) << r.error().code() << ": " << r.error().description();
  EXPECT_EQ(str(r.value(), "scope"), "api refresh_token");
  EXPECT_TRUE(token(str(r.value(), "access_token")));
  EXPECT_TRUE(token(str(r.value(), "refresh_token")));
}

TEST_F(AuthorizationCodeGrantReadLaterTest, ARequestRefusedBeforeTheReadIsAnsweredAtOnce) {
  start("");
  EXPECT_TRUE(codes_.asked.empty());
  ASSERT_TRUE(outcome_);
  auto r = answer();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_request");
}

TEST_F(AuthorizationCodeGrantReadLaterTest, AnUnknownCodeIsInvalidGrant) {
  start("no-such-code");
  codes_.answer();
  auto r = answer();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_grant");
  EXPECT_EQ(r.error().description(), "invalid authorization code");
}

TEST_F(AuthorizationCodeGrantReadLaterTest, AFailedReadIsTemporarilyUnavailable) {
  start(save_code());
  codes_.answer(std::make_exception_ptr(store::StoreError("connection lost")));
  auto r = answer();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "temporarily_unavailable");
  EXPECT_EQ(http_status(r.error().error_code()), 503u);
}

TEST_F(AuthorizationCodeGrantReadLaterTest, AReplayReadLaterRevokesWhatTheFirstUseIssued) {
  const std::string code = save_code();
  start(code);
  codes_.answer();
  auto first = answer();
  ASSERT_TRUE(first.ok());
  outcome_.reset();
  start(code);
  codes_.answer();
  auto second = answer();
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code(), "invalid_grant");
  EXPECT_TRUE(token(str(first.value(), "access_token"))->revoked);
}

}  // namespace
}  // namespace latchkey::oauth
