#include "oauth/client_auth.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

#include "crypto/jose.h"
#include "unit/support/test_support.h"

namespace latchkey::oauth {
namespace {

using testsupport::basic_header;
using testsupport::kIssuer;
using testsupport::params;
using testsupport::post_request;
using testsupport::TestWorld;

constexpr const char* kAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

const crypto::SigningKey& client_key() {
  static const crypto::SigningKey k = crypto::SigningKey::generate_rs256("client-1");
  return k;
}
const crypto::SigningKey& other_key() {
  static const crypto::SigningKey k = crypto::SigningKey::generate_rs256("attacker-1");
  return k;
}

class ClientAuthTest : public ::testing::Test {
 protected:
  ClientAuthTest() : auth_(world_.db(), world_.db(), world_.clock(), kIssuer) {
    app_ = world_.add_app();
    jwt_app_ = world_.add_app(
        [](store::App& a) { a.cert_pem = testsupport::self_signed_cert_pem(client_key()); });
  }

  Result<ClientAuth> run(const http::Request& req, const http::Params& p) {
    tried_basic_ = false;
    return auth_.authenticate(req, p, tried_basic_);
  }

  boost::json::object claims(const std::string& aud, int64_t exp_in_s, std::string jti) {
    int64_t now = world_.clock().now_s();
    return {{"iss", jwt_app_.client_id}, {"sub", jwt_app_.client_id}, {"aud", aud}, {"iat", now},
            {"exp", now + exp_in_s},     {"jti", std::move(jti)}};
  }

  http::Params assertion_params(const std::string& jwt) {
    return params({{"grant_type", "authorization_code"},
                   {"client_id", jwt_app_.client_id},
                   {"client_assertion_type", kAssertionType},
                   {"client_assertion", jwt}});
  }

  std::string token_url() const { return std::string(kIssuer) + "/services/oauth2/token"; }

  TestWorld world_;
  ClientAuthenticator auth_;
  store::App app_;
  store::App jwt_app_;
  bool tried_basic_ = false;
};

TEST_F(ClientAuthTest, BasicWithRightSecretAuthenticates) {
  auto r = run(post_request({{"authorization", basic_header(app_.client_id, TestWorld::secret())}}),
               params({{"grant_type", "authorization_code"}}));
  ASSERT_TRUE(r.ok()) << r.error().description();
  EXPECT_EQ(r->method, AuthMethod::client_secret_basic);
  EXPECT_TRUE(r->used_basic());
  EXPECT_EQ(r->app.client_id, app_.client_id);
  EXPECT_EQ(r->secret, TestWorld::secret());  // kept for the response signature
  EXPECT_TRUE(tried_basic_);
}

TEST_F(ClientAuthTest, BasicWithMatchingBodyClientIdAuthenticates) {
  auto r = run(post_request({{"authorization", basic_header(app_.client_id, TestWorld::secret())}}),
               params({{"client_id", app_.client_id}}));
  ASSERT_TRUE(r.ok()) << r.error().description();
  EXPECT_EQ(r->method, AuthMethod::client_secret_basic);
}

TEST_F(ClientAuthTest, PostWithRightSecretAuthenticates) {
  auto r = run(post_request(),
               params({{"client_id", app_.client_id}, {"client_secret", TestWorld::secret()}}));
  ASSERT_TRUE(r.ok()) << r.error().description();
  EXPECT_EQ(r->method, AuthMethod::client_secret_post);
  EXPECT_TRUE(r->authenticated());
  EXPECT_FALSE(tried_basic_);
}

TEST_F(ClientAuthTest, BasicAndPostTogetherIsInvalidRequest) {
  // RFC 6749 §2.3: the client MUST NOT use more than one authentication method per request.
  auto r = run(post_request({{"authorization", basic_header(app_.client_id, TestWorld::secret())}}),
               params({{"client_id", app_.client_id}, {"client_secret", TestWorld::secret()}}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_request");
}

TEST_F(ClientAuthTest, SecretAndAssertionTogetherIsInvalidRequest) {
  auto r = run(post_request(), params({{"client_id", app_.client_id},
                                       {"client_secret", TestWorld::secret()},
                                       {"client_assertion_type", kAssertionType},
                                       {"client_assertion", "x.y.z"}}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_request");
}

TEST_F(ClientAuthTest, WrongSecretWithBasicIsInvalidClient) {
  auto r =
      run(post_request({{"authorization", basic_header(app_.client_id, "wrong")}}), params({}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_client");
  EXPECT_EQ(r.error().description(), "invalid client credentials");
  EXPECT_TRUE(tried_basic_);  // so the HTTP layer answers 401 with a challenge
}

TEST_F(ClientAuthTest, WrongSecretWithPostIsInvalidClient) {
  auto r = run(post_request(), params({{"client_id", app_.client_id}, {"client_secret", "wrong"}}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_client");
  EXPECT_EQ(r.error().description(), "invalid client credentials");
}

TEST_F(ClientAuthTest, EmptySecretIsInvalidClient) {
  auto r = run(post_request(), params({{"client_id", app_.client_id}, {"client_secret", ""}}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_client");
}

TEST_F(ClientAuthTest, BasicIdDifferentFromBodyClientIdIsInvalidClient) {
  auto r = run(post_request({{"authorization", basic_header(app_.client_id, TestWorld::secret())}}),
               params({{"client_id", jwt_app_.client_id}}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_client");
}

// Regression: auth-scheme names are case-insensitive (RFC 9110 §11.1, RFC 7235 §2.1); a
// "BASIC" header must not be ignored as if no credentials were presented.
TEST_F(ClientAuthTest, BasicSchemeIsCaseInsensitive) {
  std::string header = basic_header(app_.client_id, TestWorld::secret());
  header.replace(0, 5, "BASIC");
  auto r = run(post_request({{"authorization", header}}), params({{"client_id", app_.client_id}}));
  ASSERT_TRUE(r.ok()) << r.error().description();
  EXPECT_EQ(r->method, AuthMethod::client_secret_basic);
  EXPECT_TRUE(tried_basic_);
}

TEST_F(ClientAuthTest, MalformedBasicIsInvalidClient) {
  auto r = run(post_request({{"authorization", "Basic !!!not-base64"}}), params({}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_client");
  EXPECT_TRUE(tried_basic_);
}

TEST_F(ClientAuthTest, UnknownClientIsInvalidClient) {
  auto basic =
      run(post_request({{"authorization", basic_header("3MVG9nobody", "whatever")}}), params({}));
  ASSERT_FALSE(basic.ok());
  EXPECT_EQ(basic.error().code(), "invalid_client");

  auto post = run(post_request(), params({{"client_id", "3MVG9nobody"}, {"client_secret", "x"}}));
  ASSERT_FALSE(post.ok());
  EXPECT_EQ(post.error().code(), "invalid_client");

  auto none = run(post_request(), params({{"client_id", "3MVG9nobody"}}));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code(), "invalid_client");
}

TEST_F(ClientAuthTest, NoCredentialsGivesMethodNone) {
  // A public client identifies itself by client_id alone; the grant decides if that suffices.
  auto r = run(post_request(), params({{"client_id", app_.client_id}}));
  ASSERT_TRUE(r.ok()) << r.error().description();
  EXPECT_EQ(r->method, AuthMethod::none);
  EXPECT_FALSE(r->authenticated());
  EXPECT_TRUE(r->secret.empty());
  EXPECT_EQ(r->app.client_id, app_.client_id);
}

TEST_F(ClientAuthTest, NoClientIdAtAllIsInvalidClient) {
  auto r = run(post_request(), params({{"grant_type", "authorization_code"}}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_client");
}

TEST_F(ClientAuthTest, PrivateKeyJwtWithTokenUrlAudienceAuthenticates) {
  // RFC 7523 §3 / docs/behaviour.md §7: aud may be the token URL.
  auto jwt = crypto::sign_jwt(client_key(), claims(token_url(), 60, "jti-1"));
  auto r = run(post_request(), assertion_params(jwt));
  ASSERT_TRUE(r.ok()) << r.error().description();
  EXPECT_EQ(r->method, AuthMethod::private_key_jwt);
  EXPECT_EQ(r->app.client_id, jwt_app_.client_id);
  EXPECT_TRUE(r->authenticated());
}

TEST_F(ClientAuthTest, PrivateKeyJwtWithIssuerAudienceAuthenticates) {
  auto jwt = crypto::sign_jwt(client_key(), claims(kIssuer, 60, "jti-2"));
  auto r = run(post_request(), assertion_params(jwt));
  ASSERT_TRUE(r.ok()) << r.error().description();
  EXPECT_EQ(r->method, AuthMethod::private_key_jwt);
}

TEST_F(ClientAuthTest, PrivateKeyJwtWithAudienceArrayAuthenticates) {
  auto c = claims("", 60, "jti-array");
  c["aud"] = boost::json::array{"https://elsewhere.test", token_url()};
  auto r = run(post_request(), assertion_params(crypto::sign_jwt(client_key(), c)));
  ASSERT_TRUE(r.ok()) << r.error().description();
}

TEST_F(ClientAuthTest, PrivateKeyJwtWithoutClientIdParameterAuthenticates) {
  // RFC 7521 §4.2: client_id is optional when the assertion identifies the client.
  auto jwt = crypto::sign_jwt(client_key(), claims(token_url(), 60, "jti-noid"));
  auto r = run(post_request(),
               params({{"client_assertion_type", kAssertionType}, {"client_assertion", jwt}}));
  ASSERT_TRUE(r.ok()) << r.error().description();
  EXPECT_EQ(r->app.client_id, jwt_app_.client_id);
}

TEST_F(ClientAuthTest, PrivateKeyJwtReplayedJtiIsRefused) {
  // RFC 7523 §3 item 7: a jti may be used only once while the assertion is valid.
  auto jwt = crypto::sign_jwt(client_key(), claims(token_url(), 60, "jti-replay"));
  ASSERT_TRUE(run(post_request(), assertion_params(jwt)).ok());
  auto again = run(post_request(), assertion_params(jwt));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), "invalid_client");
  // A fresh assertion reusing that jti is refused too.
  auto same_jti = crypto::sign_jwt(client_key(), claims(kIssuer, 120, "jti-replay"));
  auto third = run(post_request(), assertion_params(same_jti));
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error().code(), "invalid_client");
}

TEST_F(ClientAuthTest, PrivateKeyJwtWithoutJtiIsRefused) {
  auto c = claims(token_url(), 60, "");
  c.erase("jti");
  auto r = run(post_request(), assertion_params(crypto::sign_jwt(client_key(), c)));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_client");
}

TEST_F(ClientAuthTest, PrivateKeyJwtExpiredIsRefused) {
  auto jwt = crypto::sign_jwt(client_key(), claims(token_url(), 60, "jti-exp"));
  world_.clock().advance_s(61);
  auto r = run(post_request(), assertion_params(jwt));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_client");
  EXPECT_EQ(r.error().description(), "expired authorization code");
}

TEST_F(ClientAuthTest, PrivateKeyJwtExpiringExactlyNowIsRefused) {
  // RFC 7519 §4.1.4: the token MUST NOT be accepted on or after exp.
  auto r = run(post_request(),
               assertion_params(crypto::sign_jwt(client_key(), claims(token_url(), 0, "jti-0"))));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_client");
}

TEST_F(ClientAuthTest, PrivateKeyJwtLivingTooLongIsRefused) {
  auto r = run(post_request(), assertion_params(crypto::sign_jwt(
                                   client_key(), claims(token_url(), 24 * 3600, "jti-long"))));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_client");
}

// RFC 7519 §4.1.5: not accepted before nbf. The assertion is otherwise valid, and its jti is
// not used up by the refusal: the same assertion authenticates once nbf has come.
TEST_F(ClientAuthTest, PrivateKeyJwtBeforeItsNotBeforeIsRefused) {
  auto c = claims(token_url(), 300, "jti-nbf");
  c["nbf"] = world_.clock().now_s() + 120;
  auto jwt = crypto::sign_jwt(client_key(), c);
  auto early = run(post_request(), assertion_params(jwt));
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.error().code(), "invalid_client");
  world_.clock().advance_s(120);
  EXPECT_TRUE(run(post_request(), assertion_params(jwt)).ok());
}

TEST_F(ClientAuthTest, PrivateKeyJwtWrongAudienceIsRefused) {
  auto r = run(
      post_request(),
      assertion_params(crypto::sign_jwt(
          client_key(), claims("https://evil.example.test/services/oauth2/token", 60, "jti-aud"))));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_client");
  EXPECT_EQ(r.error().description(), "audience is invalid");
}

TEST_F(ClientAuthTest, PrivateKeyJwtSignedByAnotherKeyIsRefused) {
  auto r =
      run(post_request(),
          assertion_params(crypto::sign_jwt(other_key(), claims(token_url(), 60, "jti-other"))));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_client");
  EXPECT_EQ(r.error().description(), "invalid client credentials");
}

// The app's certificate (testsupport: valid 1'600'000'000 to 2'600'000'000) is the credential;
// outside its validity period a signature by its key authenticates nobody (issue 3, item 4).
TEST_F(ClientAuthTest, PrivateKeyJwtWithExpiredAppCertificateIsRefused) {
  world_.clock().set_ms(2'600'000'001'000);
  auto r = run(post_request(), assertion_params(crypto::sign_jwt(
                                   client_key(), claims(token_url(), 60, "jti-cert-expired"))));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_client");
  EXPECT_EQ(r.error().description(), "invalid client credentials");
}

TEST_F(ClientAuthTest, PrivateKeyJwtWithNotYetValidAppCertificateIsRefused) {
  world_.clock().set_ms(1'599'999'999'000);
  auto r = run(post_request(), assertion_params(crypto::sign_jwt(
                                   client_key(), claims(token_url(), 60, "jti-cert-early"))));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_client");
}

TEST_F(ClientAuthTest, PrivateKeyJwtInLastSecondOfAppCertificateAuthenticates) {
  // RFC 5280 §4.1.2.5: notAfter itself is still within the validity period.
  world_.clock().set_ms(2'600'000'000'000);
  auto r = run(post_request(), assertion_params(crypto::sign_jwt(
                                   client_key(), claims(token_url(), 60, "jti-cert-last"))));
  ASSERT_TRUE(r.ok()) << r.error().description();
  EXPECT_EQ(r.value().method, AuthMethod::private_key_jwt);
}

TEST_F(ClientAuthTest, PrivateKeyJwtForAppWithoutCertificateIsRefused) {
  auto c = claims(token_url(), 60, "jti-nocert");
  c["iss"] = app_.client_id;
  c["sub"] = app_.client_id;
  auto r = run(post_request(), params({{"client_assertion_type", kAssertionType},
                                       {"client_assertion", crypto::sign_jwt(client_key(), c)}}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_client");
}

TEST_F(ClientAuthTest, PrivateKeyJwtIssuerDifferentFromClientIdIsRefused) {
  auto jwt = crypto::sign_jwt(client_key(), claims(token_url(), 60, "jti-mismatch"));
  auto r = run(post_request(), params({{"client_id", app_.client_id},
                                       {"client_assertion_type", kAssertionType},
                                       {"client_assertion", jwt}}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_client");
}

TEST_F(ClientAuthTest, PrivateKeyJwtSubjectDifferentFromIssuerIsRefused) {
  // RFC 7523 §3 item 2: for client authentication sub MUST be the client_id.
  auto c = claims(token_url(), 60, "jti-sub");
  c["sub"] = "alice@localhost";
  auto r = run(post_request(), assertion_params(crypto::sign_jwt(client_key(), c)));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_client");
}

TEST_F(ClientAuthTest, UnsupportedAssertionTypeIsRefused) {
  auto jwt = crypto::sign_jwt(client_key(), claims(token_url(), 60, "jti-type"));
  auto r = run(post_request(), params({{"client_id", jwt_app_.client_id},
                                       {"client_assertion_type", "urn:example:other"},
                                       {"client_assertion", jwt}}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_client");
}

TEST_F(ClientAuthTest, GarbageAssertionIsRefused) {
  auto r = run(post_request(), assertion_params("not-a-jwt"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_client");
}

// --- Failed secrets are limited per (client id, address), with a per-client ceiling, and never
// hold back a signature or a certificate (RFC 9700 §4.x online guessing).

class ClientAuthThrottleTest : public ClientAuthTest {
 protected:
  http::Request from(const std::string& address, const std::string& client_id,
                     const std::string& secret) {
    http::Request r = post_request({{"authorization", basic_header(client_id, secret)}});
    r.remote_addr = address;
    return r;
  }
  Result<ClientAuth> secret_from(const std::string& address, const std::string& client_id,
                                 const std::string& secret) {
    return run(from(address, client_id, secret), params({{"grant_type", "client_credentials"}}));
  }
  // Wrong secrets from `address` until `n` of them have been checked (attempts refused
  // unchecked while a delay lasts do not count; the fake clock moves on past each delay).
  void guess(const std::string& address, const std::string& client_id, int n) {
    for (int checked = 0; checked < n;) {
      auto r = secret_from(address, client_id, "guess-" + std::to_string(checked));
      ASSERT_FALSE(r.ok());
      ASSERT_EQ(r.error().code(), "invalid_client");
      if (r.error().description().starts_with("too many failed attempts")) {
        world_.clock().advance_s(1);
      } else {
        ++checked;
      }
    }
  }
};

TEST_F(ClientAuthThrottleTest, WrongSecretsFromOneAddressDoNotHoldBackTheRightSecretFromAnother) {
  guess("203.0.113.7", app_.client_id, 30);
  auto other = secret_from("198.51.100.2", app_.client_id, TestWorld::secret());
  ASSERT_TRUE(other.ok()) << other.error().description();
  EXPECT_EQ(other->method, AuthMethod::client_secret_basic);
}

TEST_F(ClientAuthThrottleTest, TheGuessingAddressIsToldToWaitAndTheDelayGrowsFromShort) {
  guess("203.0.113.7", app_.client_id, 4);                // free
  ASSERT_EQ(world_.clock().now_ms(), 1'700'000'000'000);  // none of them was delayed
  // The fifth failure starts a delay of a second; the right secret in it is refused unchecked,
  // with how long to wait.
  guess("203.0.113.7", app_.client_id, 1);
  auto waiting = secret_from("203.0.113.7", app_.client_id, TestWorld::secret());
  ASSERT_FALSE(waiting.ok());
  EXPECT_EQ(waiting.error().code(), "invalid_client");
  EXPECT_EQ(waiting.error().description(), "too many failed attempts; try again in 1 s");
  world_.clock().advance_s(1);
  // Each further failure doubles it: 2 s, then 4 s.
  guess("203.0.113.7", app_.client_id, 1);
  EXPECT_EQ(secret_from("203.0.113.7", app_.client_id, TestWorld::secret()).error().description(),
            "too many failed attempts; try again in 2 s");
  world_.clock().advance_s(2);
  guess("203.0.113.7", app_.client_id, 1);
  EXPECT_EQ(secret_from("203.0.113.7", app_.client_id, TestWorld::secret()).error().description(),
            "too many failed attempts; try again in 4 s");
  world_.clock().advance_s(4);
  EXPECT_TRUE(secret_from("203.0.113.7", app_.client_id, TestWorld::secret()).ok());
}

// Behind a trusted reverse proxy (serve --trusted-proxy) every request comes from the proxy's
// address: the failures are counted by the address it reports, or one guesser would hold back
// every client behind the same load balancer (docs/deployment.md).
TEST_F(ClientAuthThrottleTest, BehindATrustedProxyFailuresAreCountedPerReportedClient) {
  ClientAuthenticator auth(world_.db(), world_.db(), world_.clock(), kIssuer, {}, nullptr,
                           {*http::Cidr::parse("10.0.0.0/24")});
  auto via_proxy = [&](const std::string& client, const std::string& secret) {
    http::Request r = from("10.0.0.5", app_.client_id, secret);
    r.headers.emplace_back("x-forwarded-for", client);
    bool tried_basic = false;
    return auth.authenticate(r, params({{"grant_type", "client_credentials"}}), tried_basic);
  };
  for (int i = 0; i < 5; ++i) ASSERT_FALSE(via_proxy("203.0.113.7", "guess").ok());
  auto guesser = via_proxy("203.0.113.7", TestWorld::secret());
  ASSERT_FALSE(guesser.ok());
  EXPECT_EQ(guesser.error().description(), "too many failed attempts; try again in 1 s");
  auto other = via_proxy("198.51.100.2", TestWorld::secret());
  EXPECT_TRUE(other.ok()) << other.error().description();
  http::Request r = from("10.0.0.5", app_.client_id, "x");
  r.headers.emplace_back("x-forwarded-for", "198.51.100.2");
  EXPECT_EQ(auth.client_address(r), "198.51.100.2");
}

TEST_F(ClientAuthThrottleTest, WrongSecretsNeverRefuseAValidPrivateKeyJwt) {
  guess("203.0.113.7", jwt_app_.client_id, 30);
  ASSERT_FALSE(secret_from("203.0.113.7", jwt_app_.client_id, TestWorld::secret()).ok());
  http::Request same_address = post_request();
  same_address.remote_addr = "203.0.113.7";
  auto r = run(same_address, assertion_params(crypto::sign_jwt(
                                 client_key(), claims(token_url(), 60, "jti-after-guesses"))));
  ASSERT_TRUE(r.ok()) << r.error().description();
  EXPECT_EQ(r->method, AuthMethod::private_key_jwt);
}

TEST_F(ClientAuthThrottleTest, PerClientCeilingSlowsGuessesSpreadOverManyAddresses) {
  // Three wrong secrets from each of 33 addresses: none of them is delayed on its own...
  for (int a = 0; a < 33; ++a) guess("10.0.0." + std::to_string(a), app_.client_id, 3);
  ASSERT_TRUE(secret_from("10.0.1.1", app_.client_id, TestWorld::secret()).ok());
  // ...but the 100th failure in all for one client id delays its secrets from every address,
  // until the (short, growing) delay has passed. A success does not reset that count.
  guess("10.0.0.99", app_.client_id, 1);
  auto fresh = secret_from("10.0.1.2", app_.client_id, TestWorld::secret());
  ASSERT_FALSE(fresh.ok());
  EXPECT_EQ(fresh.error().description(), "too many failed attempts; try again in 1 s");
  // Another client is unaffected, and so is this client's private_key_jwt (jwt_app_ here).
  EXPECT_TRUE(secret_from("10.0.1.2", jwt_app_.client_id, TestWorld::secret()).ok());
  world_.clock().advance_s(1);
  EXPECT_TRUE(secret_from("10.0.1.2", app_.client_id, TestWorld::secret()).ok());
}

// --- The registered token_endpoint_auth_method (RFC 7591 §2): other methods are refused.

TEST_F(ClientAuthTest, PrivateKeyJwtAppRefusesItsSecretAndTakesItsAssertion) {
  // Registered as private_key_jwt; even a secret hash left over (as from before the method was
  // registered) is never compared.
  auto app = world_.add_app([](store::App& a) {
    a.cert_pem = testsupport::self_signed_cert_pem(client_key());
    a.token_endpoint_auth_method = AuthMethod::private_key_jwt;
  });
  auto basic =
      run(post_request({{"authorization", basic_header(app.client_id, TestWorld::secret())}}),
          params({}));
  ASSERT_FALSE(basic.ok());
  EXPECT_EQ(basic.error().code(), "invalid_client");
  auto post = run(post_request(),
                  params({{"client_id", app.client_id}, {"client_secret", TestWorld::secret()}}));
  ASSERT_FALSE(post.ok());
  EXPECT_EQ(post.error().code(), "invalid_client");
  boost::json::object c = claims(token_url(), 60, "jti-registered");
  c["iss"] = c["sub"] = app.client_id;
  auto r = run(post_request(), params({{"client_id", app.client_id},
                                       {"client_assertion_type", kAssertionType},
                                       {"client_assertion", crypto::sign_jwt(client_key(), c)}}));
  ASSERT_TRUE(r.ok()) << r.error().description();
  EXPECT_EQ(r->method, AuthMethod::private_key_jwt);
}

TEST_F(ClientAuthTest, SecretMethodsAcceptTheSecretEitherWayAndPrivateKeyJwtWithACert) {
  // client_secret_post registered: Basic works too (Salesforce accepts both places).
  auto app = world_.add_app(
      [](store::App& a) { a.token_endpoint_auth_method = AuthMethod::client_secret_post; });
  EXPECT_TRUE(
      run(post_request({{"authorization", basic_header(app.client_id, TestWorld::secret())}}),
          params({}))
          .ok());
  // jwt_app_ is client_secret_basic (the default) with a --cert: private_key_jwt is accepted.
  EXPECT_TRUE(permits(jwt_app_, AuthMethod::private_key_jwt));
  EXPECT_FALSE(permits(app_, AuthMethod::private_key_jwt));  // no certificate
  EXPECT_FALSE(permits(app_, AuthMethod::self_signed_tls_client_auth));
}

TEST_F(ClientAuthTest, PublicClientAcceptsNoCredentialButItsClientId) {
  auto app = world_.add_app([](store::App& a) {
    a.token_endpoint_auth_method = AuthMethod::none;
    a.require_secret_web_server = false;
    a.require_secret_refresh = false;
  });
  auto secret = run(post_request(),
                    params({{"client_id", app.client_id}, {"client_secret", TestWorld::secret()}}));
  ASSERT_FALSE(secret.ok());
  EXPECT_EQ(secret.error().code(), "invalid_client");
  auto none = run(post_request(), params({{"client_id", app.client_id}}));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->authenticated());
}

// --- Single-use client assertions, recorded in the database (store::ReplayStore).

TEST_F(ClientAuthTest, AReplayedJtiIsRefusedByAnotherAuthenticatorOnTheSameDatabase) {
  // A restart, or a second process: the jti is remembered by the database, not the object.
  auto jwt = crypto::sign_jwt(client_key(), claims(token_url(), 60, "jti-restart"));
  ASSERT_TRUE(run(post_request(), assertion_params(jwt)).ok());
  ClientAuthenticator restarted(world_.db(), world_.db(), world_.clock(), kIssuer);
  bool tried_basic = false;
  auto r = restarted.authenticate(post_request(), assertion_params(jwt), tried_basic);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_client");
}

TEST_F(ClientAuthTest, OneClientAtItsAssertionQuotaDoesNotBlockAnother) {
  ClientAuthLimits limits;
  limits.max_live_assertions_per_client = 3;
  ClientAuthenticator auth(world_.db(), world_.db(), world_.clock(), kIssuer, limits);
  auto other = world_.add_app(
      [](store::App& a) { a.cert_pem = testsupport::self_signed_cert_pem(other_key()); });
  auto attempt = [&](const store::App& app, const crypto::SigningKey& key, const std::string& jti) {
    boost::json::object c = claims(token_url(), 60, jti);
    c["iss"] = c["sub"] = app.client_id;
    bool tried_basic = false;
    return auth.authenticate(post_request(),
                             params({{"client_id", app.client_id},
                                     {"client_assertion_type", kAssertionType},
                                     {"client_assertion", crypto::sign_jwt(key, c)}}),
                             tried_basic);
  };
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(attempt(jwt_app_, client_key(), "q-" + std::to_string(i)).ok());
  auto full = attempt(jwt_app_, client_key(), "q-3");
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().code(), "invalid_client");
  EXPECT_EQ(full.error().description(), "too many assertions; try again once earlier ones expire");
  EXPECT_TRUE(attempt(other, other_key(), "q-0").ok());
  // Once the first assertions have expired, the full client has room again.
  world_.clock().advance_s(61);
  EXPECT_TRUE(attempt(jwt_app_, client_key(), "q-4").ok());
}

}  // namespace
}  // namespace latchkey::oauth
