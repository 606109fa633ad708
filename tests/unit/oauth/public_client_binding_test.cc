// RFC 8705 §4 and §3 for public clients: a client without client authentication that presents a
// certificate on the TLS listener gets its access and its refresh token bound to that
// certificate (cnf_x5t), and the bound refresh token is good only with the same certificate.
// Confidential clients keep unbound refresh tokens (they authenticate again on use). Driven
// through the token endpoint so that client authentication, grants and issuer work together.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <memory>
#include <string>

#include "crypto/certificate.h"
#include "crypto/crypto.h"
#include "crypto/jose.h"
#include "token/bearer.h"
#include "oauth/client_auth.h"
#include "oauth/grants/authorization_code_grant.h"
#include "oauth/grants/refresh_token_grant.h"
#include "oauth/token_endpoint.h"
#include "oauth/token_issuer.h"
#include "token/opaque_tokens.h"
#include "unit/support/test_support.h"

namespace latchkey::oauth {
namespace {

using testsupport::kCallback;
using testsupport::kIssuer;
using testsupport::TestWorld;

// RFC 7636 Appendix B.
constexpr const char* kVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
constexpr const char* kChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

// Self-signed certificates registered nowhere: the handshake accepts any.
const std::string& client_pem() {
  static const std::string pem =
      testsupport::self_signed_cert_pem(crypto::SigningKey::generate_rs256("public-client"));
  return pem;
}
const std::string& other_pem() {
  static const std::string pem =
      testsupport::self_signed_cert_pem(crypto::SigningKey::generate_rs256("someone-else"));
  return pem;
}
std::string der_of(const std::string& pem) { return *crypto::certificate_der_from_pem(pem); }
std::string thumbprint(const std::string& pem) { return crypto::x5t_s256(der_of(pem)); }

// How a request reaches the server: the listener, and the certificate of the handshake.
struct Connection {
  bool tls = false;
  std::string cert_pem;  // empty: no client certificate
};
const Connection kPlain{false, ""};
const Connection kTlsNoCert{true, ""};
Connection tls_with(const std::string& pem) { return {true, pem}; }

class PublicClientBindingTest : public ::testing::Test {
 protected:
  PublicClientBindingTest()
      : stack_(world_, kIssuer),
        clients_(world_.db(), world_.db(), world_.clock(), kIssuer),
        endpoint_(clients_, world_.events()) {
    endpoint_.add(std::make_unique<AuthorizationCodeGrant>(world_.db(), world_.db(), world_.db(),
                                                           stack_.issuer, world_.clock()));
    endpoint_.add(std::make_unique<RefreshTokenGrant>(world_.db(), world_.db(), world_.db(),
                                                      stack_.issuer, world_.clock()));
  }

  // A public app (--require-secret-web-server false, --require-secret-refresh false).
  store::App public_app(store::RefreshPolicy policy = store::RefreshPolicy::rotate) {
    return world_.add_app([&](store::App& a) {
      a.require_secret_web_server = false;
      a.require_secret_refresh = false;
      a.refresh_policy = policy;
    });
  }

  std::string save_code(const store::App& app) {
    std::string code = crypto::random_token(world_.random());
    store::AuthCode rec;
    rec.code_hash = token::hash_of(code);
    rec.client_id = app.client_id;
    rec.user_id = world_.user().id;
    rec.redirect_uri = kCallback;
    rec.scopes = {"api", "refresh_token"};
    rec.code_challenge = kChallenge;
    rec.expires_ms = world_.clock().now_ms() + 600'000;
    world_.db().save_code(rec);
    return code;
  }

  static http::Request request(const Connection& c, std::string body) {
    http::Request r =
        testsupport::post_request({{"content-type", "application/x-www-form-urlencoded"}});
    r.tls = c.tls;
    if (!c.cert_pem.empty()) r.client_cert_der = der_of(c.cert_pem);
    r.body = std::move(body);
    return r;
  }

  // The token response; fails the test unless it is a success.
  boost::json::object ok(const http::Response& r) {
    EXPECT_EQ(r.status, 200u) << r.body;
    return boost::json::parse(r.body).as_object();
  }

  // `extra` carries the client's credential, if any ("&client_secret=...").
  http::Response exchange(const Connection& c, const store::App& app, const std::string& extra) {
    return testsupport::released(endpoint_.handle(
        request(c, "grant_type=authorization_code&code=" + http::form_encode(save_code(app)) +
                       "&redirect_uri=" + http::form_encode(kCallback) +
                       "&code_verifier=" + kVerifier + "&client_id=" + app.client_id + extra)));
  }
  http::Response refresh(const Connection& c, const store::App& app, const std::string& token,
                         const std::string& extra = "") {
    return testsupport::released(endpoint_.handle(
        request(c, "grant_type=refresh_token&refresh_token=" + http::form_encode(token) +
                       "&client_id=" + app.client_id + extra)));
  }

  store::Token row(const boost::json::object& body, const char* key) {
    auto t = world_.db().find_token(token::ref_of(testsupport::str(body, key)));
    EXPECT_TRUE(t.has_value()) << key;
    return t.value_or(store::Token{});
  }

  TestWorld world_;
  testsupport::IssuerStack stack_;
  ClientAuthenticator clients_;
  TokenEndpoint endpoint_;
};

TEST_F(PublicClientBindingTest, CodeExchangeOverTlsWithCertificateBindsBothTokens) {
  auto app = public_app();
  auto body = ok(exchange(tls_with(client_pem()), app, ""));
  EXPECT_EQ(row(body, "access_token").cnf_x5t, thumbprint(client_pem()));
  EXPECT_EQ(row(body, "refresh_token").cnf_x5t, thumbprint(client_pem()));

  // The bound access token is refused at a protected resource without that certificate.
  auto bearer = [&](const Connection& c) {
    http::Request r = request(c, "");
    r.headers.emplace_back("authorization", "Bearer " + testsupport::str(body, "access_token"));
    return token::authenticate_bearer(r, stack_.opaque, false).ok();
  };
  EXPECT_TRUE(bearer(tls_with(client_pem())));
  EXPECT_FALSE(bearer(tls_with(other_pem())));
  EXPECT_FALSE(bearer(kTlsNoCert));
  EXPECT_FALSE(bearer(Connection{false, client_pem()}));
}

TEST_F(PublicClientBindingTest, RefreshWithTheSameCertificateIssuesBoundTokens) {
  auto app = public_app(store::RefreshPolicy::rotate);
  auto first = ok(exchange(tls_with(client_pem()), app, ""));
  const std::string presented = testsupport::str(first, "refresh_token");

  auto second = ok(refresh(tls_with(client_pem()), app, presented));
  EXPECT_EQ(row(second, "access_token").cnf_x5t, thumbprint(client_pem()));
  // The rotated refresh token stays bound, and so does the next one.
  EXPECT_EQ(row(second, "refresh_token").cnf_x5t, thumbprint(client_pem()));
  EXPECT_TRUE(world_.db().find_token(token::ref_of(presented))->rotated);
  auto third = ok(refresh(tls_with(client_pem()), app, testsupport::str(second, "refresh_token")));
  EXPECT_EQ(row(third, "access_token").cnf_x5t, thumbprint(client_pem()));
}

TEST_F(PublicClientBindingTest, RefreshWithoutTheCertificateIsInvalidGrantAndChangesNothing) {
  for (auto policy : {store::RefreshPolicy::rotate, store::RefreshPolicy::until_revoked}) {
    auto app = public_app(policy);
    auto first = ok(exchange(tls_with(client_pem()), app, ""));
    const std::string presented = testsupport::str(first, "refresh_token");
    const std::size_t issued = world_.events().count("token_issued");

    const Connection wrong[] = {tls_with(other_pem()), kTlsNoCert, kPlain,
                                Connection{false, client_pem()}};
    for (const auto& c : wrong) {
      auto r = refresh(c, app, presented);
      EXPECT_EQ(r.status, 400u) << r.body;
      EXPECT_EQ(testsupport::str(boost::json::parse(r.body).as_object(), "error"), "invalid_grant");
    }
    auto stored = world_.db().find_token(token::ref_of(presented));
    ASSERT_TRUE(stored.has_value());
    EXPECT_FALSE(stored->rotated);
    EXPECT_FALSE(stored->revoked);
    EXPECT_EQ(world_.events().count("token_issued"), issued);
    // The refused attempts neither rotated it nor revoked its family.
    ok(refresh(tls_with(client_pem()), app, presented));
  }
}

TEST_F(PublicClientBindingTest, ConfidentialClientsKeepUnboundRefreshTokens) {
  // A secret over TLS with some certificate: nothing bound (the certificate authenticates
  // nothing, and the client authenticates again when it refreshes).
  auto secret_app = world_.add_app();
  const std::string secret = "&client_secret=" + http::form_encode(TestWorld::secret());
  auto body = ok(exchange(tls_with(client_pem()), secret_app, secret));
  EXPECT_TRUE(row(body, "access_token").cnf_x5t.empty());
  EXPECT_TRUE(row(body, "refresh_token").cnf_x5t.empty());
  ok(refresh(kPlain, secret_app, testsupport::str(body, "refresh_token"), secret));

  // Mutual TLS authentication (RFC 8705 §2.2): the access token is bound, the refresh token not.
  auto mtls_app = world_.add_app([](store::App& a) { a.mtls_cert_pem = client_pem(); });
  auto mtls = ok(exchange(tls_with(client_pem()), mtls_app, ""));
  EXPECT_EQ(row(mtls, "access_token").cnf_x5t, thumbprint(client_pem()));
  EXPECT_TRUE(row(mtls, "refresh_token").cnf_x5t.empty());
  auto again =
      ok(refresh(tls_with(client_pem()), mtls_app, testsupport::str(mtls, "refresh_token")));
  EXPECT_EQ(row(again, "access_token").cnf_x5t, thumbprint(client_pem()));
}

TEST_F(PublicClientBindingTest, PublicClientWithoutCertificateOrOverPlainHttpIsUnbound) {
  auto app = public_app();
  // A certificate on a request that did not come over TLS proves nothing.
  for (const auto& c : {kPlain, kTlsNoCert, Connection{false, client_pem()}}) {
    auto body = ok(exchange(c, app, ""));
    EXPECT_TRUE(row(body, "access_token").cnf_x5t.empty());
    EXPECT_TRUE(row(body, "refresh_token").cnf_x5t.empty());
    ok(refresh(kPlain, app, testsupport::str(body, "refresh_token")));
  }
}

}  // namespace
}  // namespace latchkey::oauth
