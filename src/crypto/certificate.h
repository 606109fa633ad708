// X.509 client certificates as RFC 8705 uses them: the SHA-256 thumbprint that binds tokens
// and identifies self-signed clients, and the validity window (also of the app certificates that
// verify JWT and SAML assertions). Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace latchkey::crypto {

// RFC 8705 §3.1 x5t#S256: base64url (no padding) of the SHA-256 of the DER certificate.
std::string x5t_s256(std::string_view der);

struct CertificateValidity {
  int64_t not_before_s = 0;  // seconds since the epoch
  int64_t not_after_s = 0;
};

// Whether `now_s` lies within the window, both ends included (RFC 5280 §4.1.2.5). The one
// check every use of a registered certificate makes: mTLS, private_key_jwt, JWT and SAML bearer.
bool within_validity(const CertificateValidity& validity, int64_t now_s);

// The notBefore/notAfter of a DER certificate; nullopt when it does not parse.
std::optional<CertificateValidity> certificate_validity(std::string_view der);

// The DER of the first certificate in a PEM text; nullopt when there is none.
std::optional<std::string> certificate_der_from_pem(std::string_view pem);

}  // namespace latchkey::crypto
