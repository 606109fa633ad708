#include "oauth/token_endpoint.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "crypto/crypto.h"
#include "crypto/jose.h"
#include "oauth/grants/authorization_code_grant.h"
#include "oauth/grants/refresh_token_grant.h"
#include "oauth/token_issuer.h"
#include "oidc/id_token.h"
#include "keys/key_ring.h"
#include "token/opaque_tokens.h"
#include "unit/support/test_support.h"

namespace latchkey::oauth {
namespace {

using testsupport::basic_header;
using testsupport::kCallback;
using testsupport::kIssuer;
using testsupport::TestWorld;

class TokenEndpointTest : public ::testing::Test {
 protected:
  TokenEndpointTest()
      : stack_(world_, kIssuer),
        clients_(world_.db(), world_.db(), world_.clock(), kIssuer),
        endpoint_(clients_, world_.events()) {
    endpoint_.add(std::make_unique<AuthorizationCodeGrant>(world_.db(), world_.db(), world_.db(),
                                                           issuer_, world_.clock()));
    endpoint_.add(std::make_unique<RefreshTokenGrant>(world_.db(), world_.db(), world_.db(),
                                                      issuer_, world_.clock()));
    app_ = world_.add_app();
  }

  std::string save_code(std::vector<std::string> scopes = {"api", "refresh_token"},
                        std::string nonce = "") {
    std::string code = crypto::random_token(world_.random());
    store::AuthCode rec;
    rec.code_hash = token::hash_of(code);
    rec.client_id = app_.client_id;
    rec.user_id = world_.user().id;
    rec.redirect_uri = kCallback;
    rec.scopes = std::move(scopes);
    rec.nonce = std::move(nonce);
    rec.expires_ms = world_.clock().now_ms() + 600'000;
    world_.db().save_code(rec);
    return code;
  }

  static http::Request form_post(std::string body, std::string authorization = "") {
    http::Request r =
        testsupport::post_request({{"content-type", "application/x-www-form-urlencoded"}});
    if (!authorization.empty()) r.headers.emplace_back("authorization", std::move(authorization));
    r.body = std::move(body);
    return r;
  }

  std::string code_body(const std::string& code) {
    return "grant_type=authorization_code&code=" + http::form_encode(code) +
           "&redirect_uri=" + http::form_encode(kCallback);
  }

  static boost::json::object json_of(const http::Response& r) {
    return boost::json::parse(r.body).as_object();
  }
  static std::string error_of(const http::Response& r) {
    auto o = json_of(r);
    return o.contains("error") ? std::string(o.at("error").as_string()) : "";
  }

  TestWorld world_;
  testsupport::IssuerStack stack_;
  TokenIssuer& issuer_ = stack_.issuer;
  ClientAuthenticator clients_;
  TokenEndpoint endpoint_;
  store::App app_;
};

TEST_F(TokenEndpointTest, ListsRegisteredGrantTypes) {
  auto types = endpoint_.grant_types();
  std::sort(types.begin(), types.end());
  EXPECT_EQ(types, (std::vector<std::string>{"authorization_code", "refresh_token"}));
}

TEST_F(TokenEndpointTest, CodeExchangeWithBasicSucceedsWithNoStore) {
  auto r = testsupport::released(endpoint_.handle(
      form_post(code_body(save_code()), basic_header(app_.client_id, TestWorld::secret()))));
  ASSERT_EQ(r.status, 200u) << r.body;
  // RFC 6749 §5.1: token responses are not cached.
  EXPECT_EQ(r.header("cache-control").value_or(""), "no-store");
  auto body = json_of(r);
  EXPECT_TRUE(body.contains("access_token"));
  EXPECT_TRUE(body.contains("refresh_token"));
  EXPECT_TRUE(body.contains("signature"));
  // The audit log and metrics hear of it, with the app and user but no token.
  auto events = world_.events().all();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, "token_issued");
  EXPECT_EQ(events[0].detail, "authorization_code");
  EXPECT_EQ(events[0].client_id, app_.client_id);
  EXPECT_EQ(events[0].user, world_.user().id);
}

TEST_F(TokenEndpointTest, CodeExchangeWithPostSecretSucceeds) {
  auto r = testsupport::released(
      endpoint_.handle(form_post(code_body(save_code()) + "&client_id=" + app_.client_id +
                                 "&client_secret=" + http::form_encode(TestWorld::secret()))));
  ASSERT_EQ(r.status, 200u) << r.body;
}

TEST_F(TokenEndpointTest, WrongBasicSecretIs401WithChallenge) {
  // RFC 6749 §5.2: invalid_client after Basic is 401 with WWW-Authenticate.
  auto r = testsupport::released(
      endpoint_.handle(form_post(code_body(save_code()), basic_header(app_.client_id, "x"))));
  EXPECT_EQ(r.status, 401u);
  EXPECT_EQ(error_of(r), "invalid_client");
  EXPECT_TRUE(r.header("www-authenticate").has_value());
  EXPECT_EQ(r.header("cache-control").value_or(""), "no-store");
  EXPECT_EQ(world_.events().count("token_refused"), 1u);
  EXPECT_EQ(world_.events().count("token_issued"), 0u);
}

TEST_F(TokenEndpointTest, RepeatedWrongSecretsLockTheClientOutForAWhile) {
  // Brute force on one client id (RFC 9700 §4.x): after five failures even the right secret
  // is refused until the lockout passes.
  for (int i = 0; i < 6; ++i) {
    testsupport::released(
        endpoint_.handle(form_post(code_body(save_code()), basic_header(app_.client_id, "guess"))));
  }
  auto locked = testsupport::released(endpoint_.handle(
      form_post(code_body(save_code()), basic_header(app_.client_id, TestWorld::secret()))));
  EXPECT_EQ(locked.status, 401u);
  EXPECT_EQ(error_of(locked), "invalid_client");
  world_.clock().advance_s(61);
  auto after = testsupport::released(endpoint_.handle(
      form_post(code_body(save_code()), basic_header(app_.client_id, TestWorld::secret()))));
  EXPECT_EQ(after.status, 200u) << after.body;
}

TEST_F(TokenEndpointTest, WrongPostSecretIs400InvalidClient) {
  auto r = testsupport::released(endpoint_.handle(
      form_post(code_body(save_code()) + "&client_id=" + app_.client_id + "&client_secret=wrong")));
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(error_of(r), "invalid_client");
  EXPECT_EQ(std::string(json_of(r).at("error_description").as_string()),
            "invalid client credentials");
}

TEST_F(TokenEndpointTest, BasicAndPostSecretTogetherIsInvalidRequest) {
  auto r = testsupport::released(endpoint_.handle(
      form_post(code_body(save_code()) + "&client_secret=" + http::form_encode(TestWorld::secret()),
                basic_header(app_.client_id, TestWorld::secret()))));
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(error_of(r), "invalid_request");
}

TEST_F(TokenEndpointTest, RepeatedParameterIsInvalidRequest) {
  // RFC 6749 §3.2: parameters MUST NOT be included more than once.
  std::string code = save_code();
  auto r = testsupport::released(
      endpoint_.handle(form_post(code_body(code) + "&code=" + http::form_encode(code),
                                 basic_header(app_.client_id, TestWorld::secret()))));
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(error_of(r), "invalid_request");
  // The code was not touched: a correct request still works.
  auto ok = testsupport::released(endpoint_.handle(
      form_post(code_body(code), basic_header(app_.client_id, TestWorld::secret()))));
  EXPECT_EQ(ok.status, 200u) << ok.body;
}

TEST_F(TokenEndpointTest, UnknownGrantTypeIsUnsupportedGrantType) {
  auto r = testsupport::released(
      endpoint_.handle(form_post("grant_type=password&username=a&password=b",
                                 basic_header(app_.client_id, TestWorld::secret()))));
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(error_of(r), "unsupported_grant_type");
}

TEST_F(TokenEndpointTest, MissingGrantTypeIsInvalidRequest) {
  auto r = testsupport::released(
      endpoint_.handle(form_post("code=abc", basic_header(app_.client_id, TestWorld::secret()))));
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(error_of(r), "invalid_request");
}

TEST_F(TokenEndpointTest, NonFormContentTypeIsInvalidRequest) {
  http::Request r = form_post(code_body(save_code()), basic_header(app_.client_id, "x"));
  r.headers.front().second = "application/json";
  auto resp = testsupport::released(endpoint_.handle(r));
  EXPECT_EQ(resp.status, 400u);
  EXPECT_EQ(error_of(resp), "invalid_request");
}

TEST_F(TokenEndpointTest, RefreshAfterCodeExchangeWorksEndToEnd) {
  auto first = testsupport::released(endpoint_.handle(
      form_post(code_body(save_code()), basic_header(app_.client_id, TestWorld::secret()))));
  ASSERT_EQ(first.status, 200u) << first.body;
  std::string refresh(json_of(first).at("refresh_token").as_string());
  auto r = testsupport::released(endpoint_.handle(
      form_post("grant_type=refresh_token&refresh_token=" + http::form_encode(refresh),
                basic_header(app_.client_id, TestWorld::secret()))));
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_TRUE(json_of(r).contains("access_token"));
}

// The code is used up by the write that saves its tokens, so a replay is decided there: it is
// answered invalid_grant, revokes what the first exchange got, and is not reported as issued.
TEST_F(TokenEndpointTest, ReplayedCodeIsInvalidGrantRevokesTheFirstTokensAndIsNotReportedIssued) {
  std::string code = save_code();
  auto first = testsupport::released(endpoint_.handle(
      form_post(code_body(code), basic_header(app_.client_id, TestWorld::secret()))));
  ASSERT_EQ(first.status, 200u) << first.body;
  std::string access(json_of(first).at("access_token").as_string());
  auto replay = endpoint_.handle(
      form_post(code_body(code), basic_header(app_.client_id, TestWorld::secret())));
  EXPECT_TRUE(replay.await) << "the replay must be decided by the write, after it is durable";
  replay = testsupport::released(std::move(replay));
  EXPECT_EQ(replay.status, 400u);
  EXPECT_EQ(error_of(replay), "invalid_grant");
  EXPECT_EQ(replay.body.find("access_token"), std::string::npos) << replay.body;
  EXPECT_TRUE(world_.db().find_token(token::ref_of(access))->revoked);
  // The audit log hears of the revocation and why, and the refusal; not of an issue.
  auto events = world_.events().all();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].type, "token_issued");
  EXPECT_EQ(events[1].type, "token_revoked");
  EXPECT_EQ(events[1].detail, "code_replay");
  EXPECT_EQ(events[1].client_id, app_.client_id);
  EXPECT_EQ(events[1].user, world_.user().id);
  EXPECT_EQ(events[2].type, "token_refused");
  EXPECT_EQ(events[2].detail, "invalid_grant authorization_code");

  // A second replay finds nothing left to revoke: refused, no revocation reported.
  auto again = testsupport::released(endpoint_.handle(
      form_post(code_body(code), basic_header(app_.client_id, TestWorld::secret()))));
  EXPECT_EQ(error_of(again), "invalid_grant");
  EXPECT_EQ(world_.events().count("token_revoked"), 1u);
  EXPECT_EQ(world_.events().count("token_refused"), 2u);
}

// The audit log ties each event to the request that caused it (docs/operations.md "Logs"), also
// the events emitted once the write settles, after the request itself is gone.
TEST_F(TokenEndpointTest, EveryEventNamesTheRequestThatCausedIt) {
  const std::string code = save_code();
  auto answer = [&](std::string body, std::string authorization, std::string request_id) {
    http::Response pending;
    {
      http::Request request = form_post(std::move(body), std::move(authorization));
      request.request_id = std::move(request_id);
      pending = endpoint_.handle(request);
    }
    return testsupport::released(std::move(pending));
  };
  const auto auth = basic_header(app_.client_id, TestWorld::secret());
  EXPECT_EQ(answer(code_body(code), auth, "req-issue").status, 200u);
  EXPECT_EQ(answer(code_body(code), auth, "req-replay").status, 400u);
  EXPECT_EQ(answer(code_body(code), basic_header(app_.client_id, "wrong"), "req-bad").status, 401u);
  const auto events = world_.events().all();
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].type, "token_issued");
  EXPECT_EQ(events[0].request_id, "req-issue");
  EXPECT_EQ(events[1].type, "token_revoked");
  EXPECT_EQ(events[1].request_id, "req-replay");
  EXPECT_EQ(events[2].type, "token_refused");
  EXPECT_EQ(events[2].request_id, "req-replay");
  EXPECT_EQ(events[3].type, "token_refused");
  EXPECT_EQ(events[3].request_id, "req-bad");
}

TEST_F(TokenEndpointTest, ReusedRotatedRefreshTokenIsInvalidGrantAndRevokesItsFamily) {
  app_ = world_.add_app([](store::App& a) {
    a.client_id = "3MVGrotating";
    a.refresh_policy = store::RefreshPolicy::rotate;
  });
  auto auth = basic_header(app_.client_id, TestWorld::secret());
  auto first = testsupport::released(endpoint_.handle(form_post(code_body(save_code()), auth)));
  ASSERT_EQ(first.status, 200u) << first.body;
  std::string old(json_of(first).at("refresh_token").as_string());
  const std::string body = "grant_type=refresh_token&refresh_token=" + http::form_encode(old);
  auto rotated = testsupport::released(endpoint_.handle(form_post(body, auth)));
  ASSERT_EQ(rotated.status, 200u) << rotated.body;
  std::string next(json_of(rotated).at("refresh_token").as_string());
  std::string next_access(json_of(rotated).at("access_token").as_string());

  auto reuse = testsupport::released(endpoint_.handle(form_post(body, auth)));
  EXPECT_EQ(reuse.status, 400u);
  EXPECT_EQ(error_of(reuse), "invalid_grant");
  auto events = world_.events().all();
  ASSERT_EQ(events.size(), 4u);  // issued, issued, revoked, refused
  EXPECT_EQ(events[2].type, "token_revoked");
  EXPECT_EQ(events[2].detail, "refresh_token_reuse");
  EXPECT_EQ(events[2].client_id, app_.client_id);
  EXPECT_EQ(events[2].user, world_.user().id);
  EXPECT_EQ(events[3].type, "token_refused");
  EXPECT_TRUE(world_.db().find_token(token::ref_of(next))->revoked);
  EXPECT_TRUE(world_.db().find_token(token::ref_of(next_access))->revoked);
  auto again = testsupport::released(endpoint_.handle(
      form_post("grant_type=refresh_token&refresh_token=" + http::form_encode(next), auth)));
  EXPECT_EQ(error_of(again), "invalid_grant") << "the family's newest token still worked";
}

// The RSA signature of an ID token is made off the I/O thread (TokenEndpoint::Offload) while the
// token write is made durable, and the token is in the body that is finally sent.
TEST_F(TokenEndpointTest, AnIdTokenIsSignedOnTheOffloadThreadAndSentInTheBody) {
  int offloaded = 0;
  std::thread::id signed_on;
  TokenEndpoint endpoint(clients_, world_.events(), [&](std::function<void()> job) {
    ++offloaded;
    std::thread worker([&signed_on, job = std::move(job)] {
      signed_on = std::this_thread::get_id();
      job();
    });
    worker.join();
  });
  endpoint.add(std::make_unique<AuthorizationCodeGrant>(world_.db(), world_.db(), world_.db(),
                                                        issuer_, world_.clock()));
  const std::string basic = basic_header(app_.client_id, TestWorld::secret());

  auto plain = testsupport::released(endpoint.handle(form_post(code_body(save_code()), basic)));
  ASSERT_EQ(plain.status, 200u) << plain.body;
  EXPECT_FALSE(json_of(plain).contains("id_token"));
  EXPECT_EQ(offloaded, 0) << "nothing to sign without openid";

  auto pending =
      endpoint.handle(form_post(code_body(save_code({"api", "openid"}, "n-0S6_WzA2Mj")), basic));
  ASSERT_TRUE(pending.await);
  auto r = testsupport::released(std::move(pending));
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(offloaded, 1);
  EXPECT_NE(signed_on, std::this_thread::get_id());
  EXPECT_EQ(r.header("cache-control").value_or(""), "no-store");
  auto body = json_of(r);
  ASSERT_TRUE(body.contains("id_token")) << r.body;
  auto jwt = crypto::decode_jwt(std::string(body.at("id_token").as_string()));
  ASSERT_TRUE(jwt);
  EXPECT_EQ(jwt->header.at("alg").as_string(), "RS256");
  EXPECT_EQ(jwt->claims.at("aud").as_string(), app_.client_id);
  EXPECT_EQ(jwt->claims.at("nonce").as_string(), "n-0S6_WzA2Mj");
  EXPECT_EQ(jwt->claims.at("at_hash").as_string(),
            oidc::half_hash(std::string(body.at("access_token").as_string())));
  EXPECT_TRUE(body.contains("signature"));
  EXPECT_EQ(world_.events().count("token_issued"), 2u);
}

TEST_F(TokenEndpointTest, AReplayedOpenidCodeIsRefusedEvenThoughItsIdTokenWasSigned) {
  int offloaded = 0;
  TokenEndpoint endpoint(clients_, world_.events(), [&](std::function<void()> job) {
    ++offloaded;
    job();
  });
  endpoint.add(std::make_unique<AuthorizationCodeGrant>(world_.db(), world_.db(), world_.db(),
                                                        issuer_, world_.clock()));
  const std::string basic = basic_header(app_.client_id, TestWorld::secret());
  const std::string code = save_code({"api", "openid"});
  auto first = testsupport::released(endpoint.handle(form_post(code_body(code), basic)));
  ASSERT_EQ(first.status, 200u) << first.body;
  auto replay = testsupport::released(endpoint.handle(form_post(code_body(code), basic)));
  EXPECT_EQ(replay.status, 400u);
  EXPECT_EQ(error_of(replay), "invalid_grant");
  EXPECT_EQ(replay.body.find("id_token"), std::string::npos) << replay.body;
  EXPECT_EQ(world_.events().count("token_issued"), 1u);
  EXPECT_EQ(world_.events().count("token_revoked"), 1u);
}

// On a store that reads codes later (PostgreSQL's reader thread), the exchange's response is
// one that awaits: nothing is answered until the code is read, the request itself may be gone
// by then (the endpoint keeps what the grant needs), and the answer, refusal or tokens, comes
// through the release, with its events.
class TokenEndpointReadLaterTest : public TokenEndpointTest {
 protected:
  TokenEndpointReadLaterTest() : codes_(world_.db()), later_(clients_, world_.events()) {
    later_.add(std::make_unique<AuthorizationCodeGrant>(codes_, world_.db(), world_.db(), issuer_,
                                                        world_.clock()));
  }
  // Handles a request built and destroyed here; the released answer lands in released_.
  void start(const std::string& body) {
    http::Response r;
    {
      http::Request request = form_post(body, basic_header(app_.client_id, TestWorld::secret()));
      r = later_.handle(request);
    }
    ASSERT_TRUE(r.await);
    r.await([this](std::optional<http::Response> instead) { released_ = std::move(instead); });
  }

  testsupport::ReadLaterCodes codes_;
  TokenEndpoint later_;
  std::optional<http::Response> released_;
};

TEST_F(TokenEndpointReadLaterTest, TheAnswerWaitsForTheCodeThenComesThroughTheRelease) {
  start(code_body(save_code()));
  ASSERT_EQ(codes_.asked.size(), 1u);
  EXPECT_FALSE(released_) << "answered before the code was read";
  EXPECT_TRUE(world_.events().all().empty());
  codes_.answer();
  ASSERT_TRUE(released_);
  ASSERT_EQ(released_->status, 200u) << released_->body;
  EXPECT_EQ(released_->header("cache-control").value_or(""), "no-store");
  auto body = json_of(*released_);
  EXPECT_TRUE(body.contains("access_token"));
  EXPECT_TRUE(body.contains("signature")) << "the client's secret was kept for it";
  auto events = world_.events().all();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, "token_issued");
  EXPECT_EQ(events[0].client_id, app_.client_id);
}

TEST_F(TokenEndpointReadLaterTest, AnUnknownCodeIsRefusedThroughTheRelease) {
  start(code_body("no-such-code"));
  codes_.answer();
  ASSERT_TRUE(released_);
  EXPECT_EQ(released_->status, 400u);
  EXPECT_EQ(error_of(*released_), "invalid_grant");
  auto events = world_.events().all();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, "token_refused");
}

TEST_F(TokenEndpointReadLaterTest, AFailedReadIs503) {
  start(code_body(save_code()));
  codes_.answer(std::make_exception_ptr(store::StoreError("connection lost")));
  ASSERT_TRUE(released_);
  EXPECT_EQ(released_->status, 503u);
  EXPECT_EQ(error_of(*released_), "temporarily_unavailable");
}

}  // namespace
}  // namespace latchkey::oauth
