// RFC 8705: self_signed_tls_client_auth in ClientAuthenticator (§2.2) and certificate-bound
// access tokens at protected resources (§3).
#include <gtest/gtest.h>

#include <string>

#include "crypto/certificate.h"
#include "crypto/jose.h"
#include "token/bearer.h"
#include "oauth/client_auth.h"
#include "token/opaque_tokens.h"
#include "unit/support/test_support.h"

namespace latchkey::oauth {
namespace {

using testsupport::basic_header;
using testsupport::kIssuer;
using testsupport::params;
using testsupport::post_request;
using testsupport::TestWorld;

const crypto::SigningKey& client_key() {
  static const crypto::SigningKey k = crypto::SigningKey::generate_rs256("mtls-client");
  return k;
}
const crypto::SigningKey& other_key() {
  static const crypto::SigningKey k = crypto::SigningKey::generate_rs256("mtls-other");
  return k;
}
const std::string& client_pem() {
  static const std::string pem = testsupport::self_signed_cert_pem(client_key());
  return pem;
}
std::string der_of(const std::string& pem) { return *crypto::certificate_der_from_pem(pem); }

http::Request over_tls(const std::string& cert_pem,
                       std::initializer_list<std::pair<std::string, std::string>> headers = {}) {
  http::Request r = post_request(headers);
  r.tls = true;
  if (!cert_pem.empty()) r.client_cert_der = der_of(cert_pem);
  return r;
}

class MtlsTest : public ::testing::Test {
 protected:
  MtlsTest() : auth_(world_.db(), world_.db(), world_.clock(), kIssuer) {
    app_ = world_.add_app([](store::App& a) { a.mtls_cert_pem = client_pem(); });
    plain_app_ = world_.add_app();
  }

  Result<ClientAuth> run(const http::Request& req, const http::Params& p) {
    bool tried_basic = false;
    return auth_.authenticate(req, p, tried_basic);
  }

  TestWorld world_;
  ClientAuthenticator auth_;
  store::App app_;
  store::App plain_app_;
};

TEST_F(MtlsTest, RegisteredCertificateAuthenticatesAndBinds) {
  auto r = run(over_tls(client_pem()), params({{"client_id", app_.client_id}}));
  ASSERT_TRUE(r.ok()) << r.error().description();
  EXPECT_EQ(r->method, AuthMethod::self_signed_tls_client_auth);
  EXPECT_TRUE(r->authenticated());
  EXPECT_EQ(r->cnf_x5t, crypto::x5t_s256(der_of(client_pem())));
  EXPECT_EQ(r->cnf_x5t, crypto::PublicKey::from_pem(client_pem())->x5t_s256());
}

TEST_F(MtlsTest, OtherCertificateIsInvalidClient) {
  auto r = run(over_tls(testsupport::self_signed_cert_pem(other_key())),
               params({{"client_id", app_.client_id}}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_client");
}

// RFC 6749 §2.3 / RFC 8705 §2: one method per request.
TEST_F(MtlsTest, CertificateWithSecretIsInvalidRequest) {
  auto post = run(over_tls(client_pem()),
                  params({{"client_id", app_.client_id}, {"client_secret", TestWorld::secret()}}));
  ASSERT_FALSE(post.ok());
  EXPECT_EQ(post.error().code(), "invalid_request");
  const std::string authz = basic_header(app_.client_id, TestWorld::secret());
  auto basic = run(over_tls(client_pem(), {{"authorization", authz}}), params({}));
  ASSERT_FALSE(basic.ok());
  EXPECT_EQ(basic.error().code(), "invalid_request");
}

// An mTLS app authenticates with its certificate alone (self_signed_tls_client_auth): its
// secret, even one it holds from before the method was registered (add_app keeps the hash), is
// refused without the certificate, so a leaked secret gets no unbound tokens.
TEST_F(MtlsTest, TheSecretOfAnMtlsAppIsRefused) {
  ASSERT_FALSE(app_.secret_hash.empty());
  for (const http::Request& req :
       {post_request({{"authorization", basic_header(app_.client_id, TestWorld::secret())}}),
        over_tls("", {{"authorization", basic_header(app_.client_id, TestWorld::secret())}})}) {
    auto r = run(req, params({}));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), "invalid_client");
  }
  auto post = run(post_request(),
                  params({{"client_id", app_.client_id}, {"client_secret", TestWorld::secret()}}));
  ASSERT_FALSE(post.ok());
  EXPECT_EQ(post.error().code(), "invalid_client");
}

// Wrong secrets for an mTLS app's client id, from the very address the app connects from,
// never hold back its certificate.
TEST_F(MtlsTest, WrongSecretsNeverRefuseTheCertificate) {
  for (int i = 0; i < 200; ++i) {
    auto r =
        run(post_request({{"authorization", basic_header(app_.client_id, "guess")}}), params({}));
    ASSERT_FALSE(r.ok());
    world_.clock().advance_s(1);
  }
  auto r = run(over_tls(client_pem()), params({{"client_id", app_.client_id}}));
  ASSERT_TRUE(r.ok()) << r.error().description();
  EXPECT_EQ(r->method, AuthMethod::self_signed_tls_client_auth);
}

TEST_F(MtlsTest, CertificateOutsideTlsOrAbsentIsNoCredential) {
  http::Request not_tls = over_tls(client_pem());
  not_tls.tls = false;
  auto r = run(not_tls, params({{"client_id", app_.client_id}}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->method, AuthMethod::none);
  auto none = run(over_tls(""), params({{"client_id", app_.client_id}}));
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->method, AuthMethod::none);
  EXPECT_TRUE(none->cnf_x5t.empty());
}

TEST_F(MtlsTest, AppWithoutMtlsCertIgnoresThePresentedCertificate) {
  auto r =
      run(over_tls(client_pem()),
          params({{"client_id", plain_app_.client_id}, {"client_secret", TestWorld::secret()}}));
  ASSERT_TRUE(r.ok()) << r.error().description();
  EXPECT_EQ(r->method, AuthMethod::client_secret_post);
  EXPECT_TRUE(r->cnf_x5t.empty());
}

TEST_F(MtlsTest, CertificateOutsideItsValidityIsRefused) {
  // self_signed_cert_pem is valid from 2020-09-13 to 2052-05-22.
  world_.clock().set_ms(int64_t{2'700'000'000} * 1000);
  auto r = run(over_tls(client_pem()), params({{"client_id", app_.client_id}}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_client");
}

// RFC 8705 §3: a bound token is accepted only with its certificate on a TLS connection.
TEST_F(MtlsTest, BoundTokenNeedsItsCertificate) {
  token::OpaqueTokens opaque(world_.db(), world_.random(), world_.clock());
  store::Token t;
  t.id = world_.db().allocate_id();
  std::string presented = opaque.new_access_token(world_.org().id, t.id);
  t.token_hash = token::hash_of(presented);
  t.kind = store::TokenKind::access;
  t.client_id = app_.client_id;
  t.user_id = world_.user().id;
  t.org_id = world_.org().id;
  t.scopes = {"api"};
  t.family_id = "fam";
  t.issued_ms = world_.clock().now_ms();
  t.expires_ms = t.issued_ms + 3'600'000;
  t.cnf_x5t = crypto::x5t_s256(der_of(client_pem()));
  world_.db().save_tokens({t});

  auto with = [&](http::Request r) {
    r.headers.emplace_back("authorization", "Bearer " + presented);
    return token::authenticate_bearer(r, opaque, false);
  };
  EXPECT_TRUE(with(over_tls(client_pem())).ok());
  EXPECT_FALSE(with(over_tls("")).ok());
  EXPECT_FALSE(with(over_tls(testsupport::self_signed_cert_pem(other_key()))).ok());
  http::Request plain = over_tls(client_pem());
  plain.tls = false;
  EXPECT_FALSE(with(plain).ok());
}

}  // namespace
}  // namespace latchkey::oauth
