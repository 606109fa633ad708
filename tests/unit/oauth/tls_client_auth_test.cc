// RFC 8705 §2.1 tls_client_auth in ClientAuthenticator: a certificate that chained to
// --tls-client-ca (Request::client_cert_chained) and whose subject DN is the app's registered
// one authenticates the app; tokens are bound to that certificate (§3).
#include <gtest/gtest.h>

#include <string>

#include "crypto/certificate.h"
#include "crypto/distinguished_name.h"
#include "oauth/client_auth.h"
#include "unit/support/test_support.h"

namespace latchkey::oauth {
namespace {

using testsupport::basic_header;
using testsupport::kIssuer;
using testsupport::params;
using testsupport::post_request;
using testsupport::TestWorld;

using Subject = std::vector<std::pair<std::string, std::string>>;

const crypto::SigningKey& key_a() {
  static const crypto::SigningKey k = crypto::SigningKey::generate_es256("pki-a");
  return k;
}
const crypto::SigningKey& key_b() {
  static const crypto::SigningKey k = crypto::SigningKey::generate_es256("pki-b");
  return k;
}
const Subject& registered_subject() {
  static const Subject s = {{"O", "Example"}, {"CN", "client"}};  // "CN=client,O=Example"
  return s;
}
std::string der_of(const std::string& pem) { return *crypto::certificate_der_from_pem(pem); }

http::Request over_tls(const std::string& cert_pem, bool chained,
                       std::initializer_list<std::pair<std::string, std::string>> headers = {}) {
  http::Request r = post_request(headers);
  r.tls = true;
  r.client_cert_der = der_of(cert_pem);
  r.client_cert_chained = chained;
  return r;
}

class TlsClientAuthTest : public ::testing::Test {
 protected:
  TlsClientAuthTest()
      : auth_(world_.db(), world_.db(), world_.clock(), kIssuer),
        cert_a_(testsupport::self_signed_cert_pem(key_a(), registered_subject())) {
    // Registered the way `app create --mtls-subject-dn` stores it: normalized.
    app_ = world_.add_app(
        [](store::App& a) { a.mtls_subject_dn = *crypto::normalize_dn("cn=client, o=Example"); });
  }

  Result<ClientAuth> run(const http::Request& req, const http::Params& p) {
    bool tried_basic = false;
    return auth_.authenticate(req, p, tried_basic);
  }
  http::Params id_only() { return params({{"client_id", app_.client_id}}); }

  TestWorld world_;
  ClientAuthenticator auth_;
  std::string cert_a_;
  store::App app_;
};

TEST_F(TlsClientAuthTest, ChainedCertificateWithRegisteredSubjectAuthenticatesAndBinds) {
  auto r = run(over_tls(cert_a_, true), id_only());
  ASSERT_TRUE(r.ok()) << r.error().description();
  EXPECT_EQ(r->method, AuthMethod::tls_client_auth);
  EXPECT_TRUE(r->authenticated());
  EXPECT_EQ(r->cnf_x5t, crypto::x5t_s256(der_of(cert_a_)));
}

// The subject, not the key, is the credential: a renewed certificate (new key, same subject)
// works at once, and each binds tokens to itself.
TEST_F(TlsClientAuthTest, AnyChainedCertificateWithTheSubjectWorksAndBindsToItself) {
  std::string renewed = testsupport::self_signed_cert_pem(key_b(), registered_subject());
  auto r = run(over_tls(renewed, true), id_only());
  ASSERT_TRUE(r.ok()) << r.error().description();
  EXPECT_EQ(r->method, AuthMethod::tls_client_auth);
  EXPECT_EQ(r->cnf_x5t, crypto::x5t_s256(der_of(renewed)));
  EXPECT_NE(r->cnf_x5t, crypto::x5t_s256(der_of(cert_a_)));
}

// Anyone can write any subject into a self-signed certificate.
// Registered for tls_client_auth: the secret is refused (RFC 7591 §2, one method per app).
TEST_F(TlsClientAuthTest, TheSecretIsRefused) {
  auto r = run(testsupport::post_request(),
               params({{"client_id", app_.client_id}, {"client_secret", TestWorld::secret()}}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_client");
}

TEST_F(TlsClientAuthTest, UnchainedCertificateWithMatchingSubjectIsInvalidClient) {
  auto r = run(over_tls(cert_a_, false), id_only());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_client");
}

TEST_F(TlsClientAuthTest, ChainedCertificateWithAnotherSubjectIsInvalidClient) {
  for (const Subject& other :
       {Subject{{"O", "Example"}, {"CN", "client2"}}, Subject{{"O", "Example"}, {"CN", "Client"}},
        Subject{{"CN", "client"}}, Subject{{"CN", "client"}, {"O", "Example"}},
        Subject{{"C", "DE"}, {"O", "Example"}, {"CN", "client"}}}) {
    auto r = run(over_tls(testsupport::self_signed_cert_pem(key_b(), other), true), id_only());
    ASSERT_FALSE(r.ok()) << other.back().second;
    EXPECT_EQ(r.error().code(), "invalid_client");
  }
}

TEST_F(TlsClientAuthTest, ExpiredChainedCertificateIsInvalidClient) {
  // self_signed_cert_pem is valid from 2020-09-13 to 2052-05-22.
  world_.clock().set_ms(int64_t{2'700'000'000} * 1000);
  auto r = run(over_tls(cert_a_, true), id_only());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_client");
  world_.clock().set_ms(int64_t{1'500'000'000} * 1000);  // not yet valid
  auto early = run(over_tls(cert_a_, true), id_only());
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.error().code(), "invalid_client");
}

// RFC 6749 §2.3 / RFC 8705 §2: one method per request.
TEST_F(TlsClientAuthTest, CertificateWithSecretIsInvalidRequest) {
  auto post = run(over_tls(cert_a_, true),
                  params({{"client_id", app_.client_id}, {"client_secret", TestWorld::secret()}}));
  ASSERT_FALSE(post.ok());
  EXPECT_EQ(post.error().code(), "invalid_request");
  auto basic = run(over_tls(cert_a_, true,
                            {{"authorization", basic_header(app_.client_id, TestWorld::secret())}}),
                   params({}));
  ASSERT_FALSE(basic.ok());
  EXPECT_EQ(basic.error().code(), "invalid_request");
}

TEST_F(TlsClientAuthTest, OutsideTlsTheCertificateIsNoCredential) {
  http::Request plain = over_tls(cert_a_, true);
  plain.tls = false;
  auto r = run(plain, id_only());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->method, AuthMethod::none);
  EXPECT_TRUE(r->cnf_x5t.empty());
}

}  // namespace
}  // namespace latchkey::oauth
