// SAML 2.0 bearer assertion verification for the saml2-bearer grant (RFC 7522).
//
// Two steps, because the key that must verify the signature belongs to the app named by the
// assertion's own Issuer:
//   1. peek_issuer(xml) parses (hardened) and returns the Issuer, so the caller can find the
//      app and its certificate. Nothing returned by this step is trusted.
//   2. verify(xml, cert_pem, expectations) checks the enveloped XML-DSig signature against that
//      certificate's key only, and then reads every fact from the one element that signature
//      covers (the root Assertion), checking RFC 7522 §3's rules.
//
// Accepted shape (anything else is "invalid assertion"): the document root is a
// saml2:Assertion; it has exactly one ds:Signature, a direct child of the root, whose SignedInfo
// has one Reference with URI "#" + the root's ID; RSA-SHA256, SHA-256 digest, exclusive c14n;
// no DOCTYPE; at most 32 KiB. This fixed shape is what defeats XML signature wrapping.
//
// libxml2 and xmlsec stay behind this header (docs/design.md). Thread safety: every function
// here is safe to call concurrently; each call owns its document and xmlsec contexts, and the
// libraries are initialised once per process (see xmlsec_runtime.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace latchkey::saml {

// docs/behaviour.md §6: an assertion is at most 32 KiB (after base64 decoding).
inline constexpr std::size_t kMaxAssertionBytes = 32 * 1024;

struct Expectations {
  // Usually empty: the client id is learnt from peek_issuer() and the caller checks it. When
  // set, the Issuer must equal it.
  std::string issuer_client_id;
  std::string audience;   // the server's issuer URL; must be in every AudienceRestriction
  std::string recipient;  // {issuer}/services/oauth2/token, the bearer confirmation's Recipient
  int64_t now_s = 0;      // current time (seconds since the epoch), from the caller's Clock
  int64_t skew_s = 60;    // allowed clock skew, applied to NotBefore and NotOnOrAfter
  // How long after its IssueInstant an assertion is accepted, however late its NotOnOrAfter
  // (an issuer may write hours): so a captured assertion is useful for minutes, not hours,
  // and the replay registry need not keep its ID for long.
  int64_t max_lifetime_s = 300;
};

struct Assertion {
  std::string id;       // Assertion@ID, for replay detection by the caller
  std::string issuer;   // <saml:Issuer> text (the client id)
  std::string name_id;  // Subject/NameID text (the username)
  // The earliest of the NotOnOrAfter that apply (Conditions and the accepted bearer
  // SubjectConfirmationData) and IssueInstant + max_lifetime_s. A replay registry keeps `id`
  // until not_on_or_after_s + skew_s.
  int64_t not_on_or_after_s = 0;
  int64_t issue_instant_s = 0;
};

// Step 1: parses `xml` (hardened: no DOCTYPE, no entities, no network, size-limited) and
// returns the Issuer of the root Assertion. Untrusted: use it only to find the certificate.
// Errors: invalid_grant("invalid assertion").
[[nodiscard]] Result<std::string> peek_issuer(std::string_view xml);

// Step 2: verifies the enveloped signature of the root Assertion with the public key of
// `cert_pem` (an X.509 certificate in PEM holding an RSA key of at least 2048 bits; any KeyInfo
// in the message is ignored), then checks the facts of that Assertion against `e`. The
// certificate is pinned, not path-validated; checking its notBefore/notAfter is left to the
// caller, as for JWT bearer. Errors (all invalid_grant):
//   "invalid assertion"          malformed, unsigned, bad signature, wrong key, signature
//                                wrapping, no bearer confirmation, wrong recipient, NotBefore in
//                                the future, IssueInstant missing or in the future
//   "audience is invalid"        our issuer URL missing from an AudienceRestriction
//   "expired authorization code" a NotOnOrAfter has passed, or max_lifetime_s since
//                                IssueInstant (Salesforce's text for this)
[[nodiscard]] Result<Assertion> verify(std::string_view xml, std::string_view cert_pem,
                                       const Expectations& e);

// Decodes the `assertion` form parameter: base64url or standard base64, with or without
// padding (docs/behaviour.md §7). Line breaks are ignored (MIME-style encoders wrap at 76 columns)
// and a space is read as '+' (a '+' that was not percent-encoded arrives as a space after form
// decoding). nullopt when not base64, empty, or longer than kMaxAssertionBytes once decoded.
[[nodiscard]] std::optional<std::string> decode_assertion_param(std::string_view param);

}  // namespace latchkey::saml
