// Internal to src/saml/: the enveloped XML-DSig check of a SAML Assertion.
// Thread safety: reentrant; each call builds and destroys its own xmlsec context and key.
#pragma once

#include <string>
#include <string_view>

#include "saml/xml_headers.h"

namespace latchkey::saml::detail {

// Verifies that `root` (the document element of `doc`) is signed, in the one shape this server
// accepts (XML-DSig 1.0 enveloped signature, as the SAML 2.0 core spec §5.4 profiles it):
//   - the document holds exactly one ds:Signature, and it is a direct child of `root`;
//   - its SignedInfo has exactly one Reference, whose URI is "#" + root@ID, and no other
//     element in the document carries that ID;
//   - SignatureMethod RSA-SHA256, CanonicalizationMethod exclusive c14n, DigestMethod SHA-256,
//     and no reference transform other than enveloped-signature and (exclusive) c14n;
//   - the signature verifies with the public key of `cert_pem`, and nothing else: KeyInfo in
//     the message is ignored and no URI outside the document is ever dereferenced.
// On success the caller may trust every node of `root` outside the Signature element, and
// nothing else in the document. On failure returns false and sets `why` for logs.
// Registers root@ID as an ID in `doc` (xmlAddID) so that xmlsec can resolve the reference.
bool verify_root_signature(xmlDoc* doc, xmlNode* root, std::string_view cert_pem, std::string* why);

}  // namespace latchkey::saml::detail
