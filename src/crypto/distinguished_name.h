// Subject distinguished names for RFC 8705 §2.1 tls_client_auth. An app registers the subject
// DN its CA-issued client certificate carries, as an RFC 4514 string ("CN=client,O=Example");
// at authentication the certificate's subject must equal it.
//
// Both sides are compared in one normal form: OpenSSL's RFC 2253 printing
// (X509_NAME_print_ex with XN_FLAG_RFC2253), i.e. short attribute names (CN, O, OU, ...),
// most specific RDN first, ',' between RDNs and '+' inside one, every value converted to
// UTF-8 and escaped as RFC 2253 says (bytes above 0x7f as \XX). The registered string is
// parsed into an X509_NAME and printed the same way, so the string types the CA chose
// (PrintableString, UTF8String, BMPString) and the spelling of the registration (spaces
// around separators, "cn" or "commonName", escapes) do not matter; attribute values are
// compared exactly, case included: the CA writes the subject, so an exact value is always
// known, and exactness rules out look-alike names being accepted. Pure functions,
// thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace latchkey::crypto {

// The normal form of an RFC 4514 DN string; nullopt when it does not parse, is empty, names
// an unknown attribute type, or has a value its attribute cannot hold (e.g. C=USA).
// Attribute types are short names in any case (cn, CN), long names as OpenSSL spells them
// (commonName) or dotted OIDs. Spaces around ',', '+' and '=' are insignificant. Empty values,
// hex-string values ("#04..."), quoted values, unescaped '"', ';', '<', '>' and strings over
// 4 KiB are refused.
std::optional<std::string> normalize_dn(std::string_view rfc4514);

// The normal form of a DER certificate's subject; nullopt when the certificate does not parse.
std::optional<std::string> certificate_subject_dn(std::string_view der);

}  // namespace latchkey::crypto
