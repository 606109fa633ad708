// RFC 7522 §3 processing rules for the saml2-bearer grant, against assertions signed by xmlsec.
#include "saml/saml_assertion.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "saml_test_support.h"

namespace latchkey::saml {
namespace {

using testing::AssertionSpec;
using testing::kNow;

Expectations expectations() {
  Expectations e;
  e.audience = testing::kIssuerUrl;
  e.recipient = testing::kTokenUrl;
  e.now_s = kNow;
  return e;
}

Result<Assertion> verify_with_app_cert(const std::string& xml,
                                       const Expectations& e = expectations()) {
  return verify(xml, testing::app_key().cert_pem, e);
}

void expect_refused(const Result<Assertion>& r, const std::string& description) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_grant");
  EXPECT_EQ(r.error().description(), description) << r.error().debug();
}

TEST(SamlAssertion, ValidAssertionVerifiesAndReturnsItsFacts) {
  AssertionSpec spec;
  const std::string xml = testing::signed_assertion(spec);
  Result<Assertion> r = verify_with_app_cert(xml);
  ASSERT_TRUE(r.ok()) << r.error().debug();
  EXPECT_EQ(r->id, spec.id);
  EXPECT_EQ(r->issuer, testing::kClientId);
  EXPECT_EQ(r->name_id, "alice@localhost");
  // The earlier of Conditions (now+300) and SubjectConfirmationData (now+240).
  EXPECT_EQ(r->not_on_or_after_s, kNow + 240);
}

TEST(SamlAssertion, PeekIssuerReturnsTheIssuerBeforeVerification) {
  Result<std::string> issuer = peek_issuer(testing::signed_assertion(AssertionSpec{}));
  ASSERT_TRUE(issuer.ok()) << issuer.error().debug();
  EXPECT_EQ(*issuer, testing::kClientId);
}

TEST(SamlAssertion, PeekIssuerRefusesAResponseWrapper) {
  const std::string xml = "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\">" +
                          testing::signed_assertion(AssertionSpec{}) + "</samlp:Response>";
  Result<std::string> issuer = peek_issuer(xml);
  ASSERT_FALSE(issuer.ok());
  EXPECT_EQ(issuer.error().description(), "invalid assertion");
}

TEST(SamlAssertion, ExpectedIssuerMustMatchWhenGiven) {
  const std::string xml = testing::signed_assertion(AssertionSpec{});
  Expectations e = expectations();
  e.issuer_client_id = testing::kClientId;
  EXPECT_TRUE(verify_with_app_cert(xml, e).ok());
  e.issuer_client_id = "another-client";
  expect_refused(verify_with_app_cert(xml, e), "invalid assertion");
}

TEST(SamlAssertion, ConditionsAloneMayCarryTheEarliestExpiry) {
  AssertionSpec spec;
  spec.not_on_or_after = kNow + 100;
  Result<Assertion> r = verify_with_app_cert(testing::signed_assertion(spec));
  ASSERT_TRUE(r.ok()) << r.error().debug();
  EXPECT_EQ(r->not_on_or_after_s, kNow + 100);
}

TEST(SamlAssertion, RefusesUnsignedAssertion) {
  AssertionSpec spec;
  spec.signature_at = testing::SignatureAt::kNone;
  expect_refused(verify_with_app_cert(testing::render(spec)), "invalid assertion");
}

TEST(SamlAssertion, RefusesEmptySignatureTemplate) {
  // The template as a signer would start from: DigestValue and SignatureValue empty.
  expect_refused(verify_with_app_cert(testing::render(AssertionSpec{})), "invalid assertion");
}

TEST(SamlAssertion, RefusesAssertionSignedByAnotherKey) {
  const std::string xml = testing::signed_assertion(AssertionSpec{}, testing::attacker_key());
  expect_refused(verify_with_app_cert(xml), "invalid assertion");
  // ...and the same assertion verifies with the key that did sign it.
  EXPECT_TRUE(verify(xml, testing::attacker_key().cert_pem, expectations()).ok());
}

TEST(SamlAssertion, IgnoresCertificateEmbeddedInKeyInfo) {
  // XML-DSig §4.4: KeyInfo is a hint; trusting it would let anyone sign with their own key.
  std::string xml = testing::signed_assertion(AssertionSpec{}, testing::attacker_key());
  xml = testing::replace_once(xml, "</ds:SignatureValue>",
                              "</ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509Certificate>" +
                                  testing::attacker_key().cert_b64 +
                                  "</ds:X509Certificate></ds:X509Data></ds:KeyInfo>");
  expect_refused(verify_with_app_cert(xml), "invalid assertion");
}

TEST(SamlAssertion, AcceptsKeyInfoWithTheAppsOwnCertificate) {
  std::string xml = testing::signed_assertion(AssertionSpec{});
  xml = testing::replace_once(xml, "</ds:SignatureValue>",
                              "</ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509Certificate>" +
                                  testing::app_key().cert_b64 +
                                  "</ds:X509Certificate></ds:X509Data></ds:KeyInfo>");
  Result<Assertion> r = verify_with_app_cert(xml);
  EXPECT_TRUE(r.ok()) << r.error().debug();
}

TEST(SamlAssertion, RefusesUnusableCertificate) {
  const std::string xml = testing::signed_assertion(AssertionSpec{});
  expect_refused(verify(xml, "", expectations()), "invalid assertion");
  expect_refused(
      verify(xml, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", expectations()),
      "invalid assertion");
  expect_refused(verify(xml, testing::ec_key().cert_pem, expectations()), "invalid assertion");
}

TEST(SamlAssertion, RefusesRsaKeyShorterThan2048Bits) {
  const std::string xml = testing::signed_assertion(AssertionSpec{}, testing::small_rsa_key());
  expect_refused(verify(xml, testing::small_rsa_key().cert_pem, expectations()),
                 "invalid assertion");
}

TEST(SamlAssertion, RefusesNameIdTamperedAfterSigning) {
  std::string xml = testing::signed_assertion(AssertionSpec{});
  xml = testing::replace_once(xml, "alice@localhost", "admin@localhost");
  expect_refused(verify_with_app_cert(xml), "invalid assertion");
}

TEST(SamlAssertion, RefusesCommentInsideNameId) {
  // The comment-truncation attack: exc-c14n drops comments, so the signature still verifies,
  // but a reader that took only the first text node would see "admin@localhost".
  AssertionSpec spec;
  spec.name_id = "admin@localhost.evil.example";
  std::string xml = testing::signed_assertion(spec);
  xml = testing::replace_once(xml, "admin@localhost.evil.example",
                              "admin@localhost<!---->.evil.example");
  expect_refused(verify_with_app_cert(xml), "invalid assertion");
}

TEST(SamlAssertion, RefusesExpiredAssertion) {
  AssertionSpec spec;
  spec.not_before = kNow - 900;
  spec.not_on_or_after = kNow - 300;
  spec.scd_not_on_or_after = kNow - 300;
  expect_refused(verify_with_app_cert(testing::signed_assertion(spec)),
                 "expired authorization code");
}

TEST(SamlAssertion, RefusesExpiredBearerConfirmationAlone) {
  AssertionSpec spec;
  spec.scd_not_on_or_after = kNow - 120;
  expect_refused(verify_with_app_cert(testing::signed_assertion(spec)),
                 "expired authorization code");
}

TEST(SamlAssertion, AllowsClockSkewAroundTheWindow) {
  AssertionSpec spec;
  spec.not_before = kNow + 30;           // within the 60 s skew
  spec.scd_not_on_or_after = kNow - 30;  // likewise
  Result<Assertion> r = verify_with_app_cert(testing::signed_assertion(spec));
  EXPECT_TRUE(r.ok()) << r.error().debug();
}

// However late an issuer writes NotOnOrAfter, an assertion is accepted for at most five minutes
// after its IssueInstant (plus the skew), and that is how long its ID needs remembering.
TEST(SamlAssertion, LifetimeIsCappedAtFiveMinutesPastIssueInstant) {
  AssertionSpec spec;
  spec.issue_instant = kNow - 200;
  spec.not_on_or_after = kNow + 3600;
  spec.scd_not_on_or_after = kNow + 3600;
  Result<Assertion> r = verify_with_app_cert(testing::signed_assertion(spec));
  ASSERT_TRUE(r.ok()) << r.error().debug();
  EXPECT_EQ(r->issue_instant_s, kNow - 200);
  EXPECT_EQ(r->not_on_or_after_s, kNow + 100);
  // Issued 361 s ago: five minutes and the skew have passed, whatever NotOnOrAfter says.
  spec.issue_instant = kNow - 361;
  expect_refused(verify_with_app_cert(testing::signed_assertion(spec)),
                 "expired authorization code");
  // A NotOnOrAfter sooner than the cap still decides.
  spec.issue_instant = kNow - 5;
  spec.scd_not_on_or_after = kNow + 30;
  r = verify_with_app_cert(testing::signed_assertion(spec));
  ASSERT_TRUE(r.ok()) << r.error().debug();
  EXPECT_EQ(r->not_on_or_after_s, kNow + 30);
}

TEST(SamlAssertion, RefusesMissingOrFutureIssueInstant) {
  AssertionSpec spec;
  spec.issue_instant = std::nullopt;
  expect_refused(verify_with_app_cert(testing::signed_assertion(spec)), "invalid assertion");
  spec.issue_instant = kNow + 600;
  expect_refused(verify_with_app_cert(testing::signed_assertion(spec)), "invalid assertion");
}

TEST(SamlAssertion, RefusesNotBeforeInTheFuture) {
  AssertionSpec spec;
  spec.not_before = kNow + 600;
  expect_refused(verify_with_app_cert(testing::signed_assertion(spec)), "invalid assertion");
}

TEST(SamlAssertion, RefusesBearerConfirmationWithoutNotOnOrAfter) {
  // RFC 7522 §3 item 4: the SubjectConfirmationData MUST have NotOnOrAfter.
  AssertionSpec spec;
  spec.scd_not_on_or_after.reset();
  expect_refused(verify_with_app_cert(testing::signed_assertion(spec)), "invalid assertion");
}

TEST(SamlAssertion, RefusesWrongAudience) {
  AssertionSpec spec;
  spec.audience = "https://login.salesforce.com";
  expect_refused(verify_with_app_cert(testing::signed_assertion(spec)), "audience is invalid");
}

TEST(SamlAssertion, RefusesWrongRecipient) {
  AssertionSpec spec;
  spec.recipient = "https://evil.example/services/oauth2/token";
  expect_refused(verify_with_app_cert(testing::signed_assertion(spec)), "invalid assertion");
}

TEST(SamlAssertion, RefusesNonBearerConfirmationMethod) {
  AssertionSpec spec;
  spec.method = "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key";
  expect_refused(verify_with_app_cert(testing::signed_assertion(spec)), "invalid assertion");
}

TEST(SamlAssertion, RefusesSha1SignatureMethod) {
  AssertionSpec spec;
  spec.signature_method = testing::kRsaSha1;
  expect_refused(verify_with_app_cert(testing::signed_assertion(spec)), "invalid assertion");
}

TEST(SamlAssertion, RefusesSha1Digest) {
  AssertionSpec spec;
  spec.digest_method = testing::kSha1;
  expect_refused(verify_with_app_cert(testing::signed_assertion(spec)), "invalid assertion");
}

TEST(SamlAssertion, RefusesInclusiveCanonicalizationOfSignedInfo) {
  AssertionSpec spec;
  spec.c14n_method = testing::kIncC14n;
  expect_refused(verify_with_app_cert(testing::signed_assertion(spec)), "invalid assertion");
}

TEST(SamlAssertion, RefusesXPathTransformThatHidesTheSubject) {
  // An XPath filter lets a signer exclude parts of the element from the digest, after which
  // they could be changed at will. Only enveloped-signature and c14n transforms are allowed.
  AssertionSpec spec;
  spec.extra_transform =
      "<ds:Transform Algorithm=\"http://www.w3.org/TR/1999/REC-xpath-19991116\">"
      "<ds:XPath xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\">"
      "not(ancestor-or-self::saml:Subject)</ds:XPath></ds:Transform>";
  std::string xml = testing::signed_assertion(spec);
  xml = testing::replace_once(xml, "alice@localhost", "admin@localhost");
  expect_refused(verify_with_app_cert(xml), "invalid assertion");
}

TEST(SamlAssertion, VerifiesConcurrentlyFromSeveralThreads) {
  // The header promises thread safety: each call owns its document and xmlsec context, and the
  // libraries are initialised once. Good and bad assertions interleave across threads.
  const std::string good = testing::signed_assertion(AssertionSpec{});
  const std::string bad = testing::replace_once(good, "alice@localhost", "admin@localhost");
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        if (!verify_with_app_cert(good).ok()) ++wrong;
        if (verify_with_app_cert(bad).ok()) ++wrong;
        if (!peek_issuer(good).ok()) ++wrong;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace latchkey::saml
