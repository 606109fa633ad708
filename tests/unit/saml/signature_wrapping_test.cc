// XML signature wrapping (Somorovsky et al., "On Breaking SAML", USENIX Security 2012): each
// case keeps a validly signed Assertion somewhere in the document and puts attacker-chosen
// facts where a careless verifier would read them. The verifier accepts only the shape
// "root Assertion, its own enveloped signature, reference to its own ID".
#include <gtest/gtest.h>

#include <string>

#include "saml/saml_assertion.h"
#include "saml_test_support.h"

namespace latchkey::saml {
namespace {

using testing::AssertionSpec;
using testing::SignatureAt;

Expectations expectations() {
  Expectations e;
  e.audience = testing::kIssuerUrl;
  e.recipient = testing::kTokenUrl;
  e.now_s = testing::kNow;
  return e;
}

void expect_invalid(const std::string& xml) {
  Result<Assertion> r = verify(xml, testing::app_key().cert_pem, expectations());
  ASSERT_FALSE(r.ok()) << "accepted as " << r->name_id << ":\n" << xml;
  EXPECT_EQ(r.error().code(), "invalid_grant");
  EXPECT_EQ(r.error().description(), "invalid assertion") << r.error().debug();
}

// An unsigned Assertion naming the attacker's chosen user.
AssertionSpec evil_spec() {
  AssertionSpec evil;
  evil.id = "_evil";
  evil.name_id = "admin@localhost";
  evil.signature_at = SignatureAt::kNone;
  return evil;
}

// Inserts `inner` just before the closing tag of the root.
std::string append_to_root(const std::string& xml, const std::string& inner) {
  return testing::replace_once(xml, "</saml:AuthnStatement></saml:Assertion>",
                               "</saml:AuthnStatement>" + inner + "</saml:Assertion>");
}

TEST(SamlAssertion, SignedAssertionAloneIsTheBaseline) {
  Result<Assertion> r = verify(testing::signed_assertion(AssertionSpec{}),
                               testing::app_key().cert_pem, expectations());
  ASSERT_TRUE(r.ok()) << r.error().debug();
}

TEST(SamlAssertion, RefusesSignatureWrappingEvilRootAroundSignedAssertion) {
  const std::string legit = testing::signed_assertion(AssertionSpec{});
  expect_invalid(append_to_root(testing::render(evil_spec()), legit));
}

TEST(SamlAssertion, RefusesSignatureWrappingSignedAssertionInAdvice) {
  AssertionSpec evil = evil_spec();
  evil.advice = testing::signed_assertion(AssertionSpec{});
  expect_invalid(testing::render(evil));
}

TEST(SamlAssertion, RefusesSignatureWrappingCopiedSignatureOnEvilRootWithSameId) {
  // The evil root takes the legitimate ID and a copy of the legitimate Signature; the signed
  // original hides in Advice so that an ID lookup could find it and verify "successfully".
  const AssertionSpec legit_spec;
  const std::string legit = testing::signed_assertion(legit_spec);
  AssertionSpec evil = evil_spec();
  evil.id = legit_spec.id;
  evil.advice = legit;
  std::string xml = testing::render(evil);
  xml =
      testing::replace_once(xml, "</saml:Issuer>", "</saml:Issuer>" + testing::signature_of(legit));
  expect_invalid(xml);
}

TEST(SamlAssertion, RefusesSignatureWrappingCopiedSignatureWithoutTheOriginal) {
  const AssertionSpec legit_spec;
  const std::string legit = testing::signed_assertion(legit_spec);
  AssertionSpec evil = evil_spec();
  evil.id = legit_spec.id;
  std::string xml = testing::render(evil);
  xml =
      testing::replace_once(xml, "</saml:Issuer>", "</saml:Issuer>" + testing::signature_of(legit));
  expect_invalid(xml);
}

TEST(SamlAssertion, RefusesSignatureWrappingTwoAssertionsWithTheSameId) {
  // The signed Assertion stays the root; an evil copy with the same ID is hidden in the part of
  // the document its enveloped signature does not cover (the Signature element itself).
  const AssertionSpec legit_spec;
  const std::string legit = testing::signed_assertion(legit_spec);
  AssertionSpec evil = evil_spec();
  evil.id = legit_spec.id;
  const std::string xml = testing::replace_once(
      legit, "</ds:SignatureValue>",
      "</ds:SignatureValue><ds:Object>" + testing::render(evil) + "</ds:Object>");
  expect_invalid(xml);
}

TEST(SamlAssertion, RefusesSignatureWrappingDuplicateXmlId) {
  const AssertionSpec legit_spec;
  const std::string legit = testing::signed_assertion(legit_spec);
  const std::string xml =
      testing::replace_once(legit, "</ds:SignatureValue>",
                            "</ds:SignatureValue><ds:KeyInfo><ds:KeyName xml:id=\"" +
                                legit_spec.id + "\">k</ds:KeyName></ds:KeyInfo>");
  expect_invalid(xml);
}

TEST(SamlAssertion, RefusesSignatureWrappingReferenceToAnotherElement) {
  // A valid signature over the Subject only: the root's Conditions and Issuer are unsigned.
  AssertionSpec spec;
  spec.subject_id = "_subject";
  spec.reference_uri = "#_subject";
  expect_invalid(testing::signed_assertion(spec));
}

TEST(SamlAssertion, RefusesSignatureWrappingSignatureNotDirectChildOfRoot) {
  // Cryptographically valid (the enveloped transform removes the Signature wherever it sits),
  // but not the SAML shape (SAML core §5.4.1), so refused.
  AssertionSpec spec;
  spec.signature_at = SignatureAt::kSubject;
  expect_invalid(testing::signed_assertion(spec));
}

TEST(SamlAssertion, RefusesSignatureWrappingResponseWrapper) {
  const std::string legit = testing::signed_assertion(AssertionSpec{});
  expect_invalid(
      "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" "
      "ID=\"_resp\" Version=\"2.0\">" +
      legit + "</samlp:Response>");
}

TEST(SamlAssertion, RefusesSignatureWrappingSecondSignatureInsideTheRoot) {
  // A second (unverifiable) Signature elsewhere in the root; the root's digest changes too,
  // but the shape check refuses before any cryptography.
  const std::string legit = testing::signed_assertion(AssertionSpec{});
  expect_invalid(append_to_root(legit, testing::signature_of(legit)));
}

TEST(SamlAssertion, RefusesReferenceWithEmptyOrExternalUri) {
  AssertionSpec spec;
  spec.reference_uri = "#" + spec.id;
  const std::string legit = testing::signed_assertion(spec);
  const std::string ref = "URI=\"#" + spec.id + "\"";
  expect_invalid(testing::replace_once(legit, ref, "URI=\"\""));
  expect_invalid(testing::replace_once(legit, ref, "URI=\"http://127.0.0.1:9/x\""));
  expect_invalid(testing::replace_once(legit, ref, "URI=\"#xpointer(/)\""));
}

TEST(SamlAssertion, RefusesIdThatCouldInjectIntoXPointer) {
  AssertionSpec spec;
  spec.id = "_a') or id('_b";
  // Rendered as an attribute with &apos;-free quotes: the value itself carries the quote.
  std::string xml = testing::render(spec);
  expect_invalid(xml);
}

}  // namespace
}  // namespace latchkey::saml
