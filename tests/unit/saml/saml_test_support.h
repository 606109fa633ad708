// Test support for tests/unit/saml: RSA keys with self-signed certificates, SAML assertions
// rendered as text, and enveloped signing with xmlsec itself, so the verifier is exercised
// against real XML-DSig output rather than fixtures that could drift from it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace latchkey::saml::testing {

inline constexpr int64_t kNow = 1'700'000'000;  // 2023-11-14T22:13:20Z
inline constexpr char kIssuerUrl[] = "https://login.example.test";
inline constexpr char kTokenUrl[] = "https://login.example.test/services/oauth2/token";
inline constexpr char kClientId[] = "3MVG9.client";
inline constexpr char kBearer[] = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
inline constexpr char kRsaSha256[] = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
inline constexpr char kRsaSha1[] = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
inline constexpr char kSha256[] = "http://www.w3.org/2001/04/xmlenc#sha256";
inline constexpr char kSha1[] = "http://www.w3.org/2000/09/xmldsig#sha1";
inline constexpr char kExcC14n[] = "http://www.w3.org/2001/10/xml-exc-c14n#";
inline constexpr char kIncC14n[] = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";

struct TestKey {
  std::string private_pem;  // PKCS#8 PEM
  std::string cert_pem;     // self-signed X.509 PEM
  std::string cert_b64;     // the certificate's DER in base64, as in ds:X509Certificate
};

// Generated once per process each (key generation is slow).
const TestKey& app_key();        // the app's registered certificate
const TestKey& attacker_key();   // another RSA key
const TestKey& ec_key();         // a P-256 key: not an algorithm the verifier accepts
const TestKey& small_rsa_key();  // RSA 1024: below the 2048-bit floor

enum class SignatureAt { kRoot, kSubject, kNone };

struct AssertionSpec {
  std::string id = "_a75adf55-01d7-40cc-929f-dbd8372ebdfc";
  std::string issuer = kClientId;
  std::string name_id = "alice@localhost";
  std::string audience = kIssuerUrl;
  std::string recipient = kTokenUrl;
  std::string method = kBearer;
  std::optional<int64_t> issue_instant = kNow - 5;  // nullopt: no IssueInstant attribute
  std::optional<int64_t> not_before = kNow - 30;
  std::optional<int64_t> not_on_or_after = kNow + 300;
  std::optional<int64_t> scd_not_on_or_after = kNow + 240;
  SignatureAt signature_at = SignatureAt::kRoot;
  std::string reference_uri;  // empty: "#" + id
  std::string signature_method = kRsaSha256;
  std::string digest_method = kSha256;
  std::string c14n_method = kExcC14n;
  std::string extra_transform;  // a ds:Transform element placed after enveloped-signature
  std::string subject_id;       // when set, Subject gets this ID attribute
  std::string advice;           // when set, a saml:Advice with this content
};

// The assertion as XML text, with an empty Signature template where the spec says.
std::string render(const AssertionSpec& spec);

// Signs the first ds:Signature template of `xml` with `key` (xmlSecDSigCtxSign), registering
// every ID attribute first. Returns the signed document without an XML declaration.
std::string sign(const std::string& xml, const TestKey& key);

// render + sign.
std::string signed_assertion(const AssertionSpec& spec, const TestKey& key = app_key());

// The <ds:Signature>...</ds:Signature> text of a signed document.
std::string signature_of(const std::string& signed_xml);

// Replaces the first occurrence of `from` in `s`; fails the test when absent.
std::string replace_once(std::string s, const std::string& from, const std::string& to);

// XML xs:dateTime in UTC ("2023-11-14T22:13:20Z").
std::string saml_time(int64_t t);

// The document re-encoded as UTF-16LE with a byte order mark (input is ASCII).
std::string to_utf16le(const std::string& ascii);

}  // namespace latchkey::saml::testing
