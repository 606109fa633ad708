// JWS/JWT (RFC 7515/7519) signing and verification with RS256 and ES256, JWKs (RFC 7517),
// and public keys taken from X.509 certificates. Only these two algorithms exist here:
// "none" and HMAC algorithms are refused by construction (RFC 8725 §3.1).
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "crypto/certificate.h"

namespace latchkey::crypto {

// A public key usable to verify JWS signatures. Immutable, thread-safe, cheap to copy.
class PublicKey {
 public:
  // From a PEM "PUBLIC KEY" or "CERTIFICATE" block. nullopt if unreadable.
  static std::optional<PublicKey> from_pem(std::string_view pem);
  // RS256 for RSA keys (>= 2048 bits), ES256 for P-256 keys; empty if the key fits neither.
  const std::string& alg() const { return alg_; }
  // RFC 7517 JWK of the public part (kty, n/e or crv/x/y); kid/alg/use added by the caller.
  boost::json::object jwk() const;
  // Verifies a raw JWS signature over `signing_input` with `alg`, which must equal alg().
  bool verify(std::string_view alg, std::string_view signing_input,
              std::string_view signature) const;
  // For certificates: notBefore/notAfter in seconds since the epoch (0 when from a bare key).
  int64_t not_before_s() const { return not_before_s_; }
  int64_t not_after_s() const { return not_after_s_; }
  // The certificate's validity window; nullopt for a bare key, which has none to check.
  std::optional<CertificateValidity> validity() const {
    if (x5t_s256_.empty()) return std::nullopt;
    return CertificateValidity{not_before_s_, not_after_s_};
  }
  // SHA-256 of the DER certificate, base64url (RFC 8705 x5t#S256); empty for a bare key.
  const std::string& x5t_s256() const { return x5t_s256_; }

  struct Impl;

 private:
  std::shared_ptr<const Impl> impl_;
  std::string alg_;
  int64_t not_before_s_ = 0;
  int64_t not_after_s_ = 0;
  std::string x5t_s256_;
};

// A private signing key with its kid. Immutable after creation, thread-safe.
class SigningKey {
 public:
  static SigningKey generate_rs256(std::string kid);  // RSA 2048
  static SigningKey generate_es256(std::string kid);  // P-256
  // From a PKCS#8 PEM; alg must match the key type. nullopt if unreadable or mismatched.
  static std::optional<SigningKey> from_pem(std::string kid, std::string alg,
                                            std::string_view private_pem);

  const std::string& kid() const { return kid_; }
  const std::string& alg() const { return alg_; }
  std::string private_pem() const;  // PKCS#8
  // Public JWK with kid, alg and "use":"sig".
  boost::json::object public_jwk() const;
  const PublicKey& public_key() const { return public_; }
  // Raw JWS signature (for ES256 the 64-byte R||S form of RFC 7518 §3.4).
  std::string sign(std::string_view signing_input) const;

  struct Impl;

 private:
  std::shared_ptr<const Impl> impl_;
  std::string kid_;
  std::string alg_;
  PublicKey public_;
};

// Compact JWS with header {"alg","kid","typ"} (typ omitted when empty).
std::string sign_jwt(const SigningKey& key, const boost::json::object& claims,
                     std::string_view typ = "JWT");

struct DecodedJwt {
  boost::json::object header;
  boost::json::object claims;
  std::string signing_input;  // header.payload as received
  std::string signature;      // raw bytes
};

// Splits and decodes a compact JWS without verifying it. Errors: invalid_grant / the given
// description ("invalid assertion") on any malformed part. Size-checked by the caller.
Result<DecodedJwt> decode_jwt(std::string_view compact);

// Verifies a decoded JWS against one key: header alg must be RS256 or ES256 and match the key.
bool verify_jwt(const DecodedJwt& jwt, const PublicKey& key);

}  // namespace latchkey::crypto
