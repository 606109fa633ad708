// Compact JWS/JWT (RFC 7515 §7.1, RFC 7519): serialization, parsing and verification. Key
// handling lives in jose_keys.cc.
#include "crypto/jose.h"

#include <exception>

#include "crypto/crypto.h"

namespace latchkey::crypto {
namespace {

oauth::Error malformed(std::string debug) {
  return oauth::Error::invalid_grant("invalid assertion").with_debug(std::move(debug));
}

// Decodes one base64url JWS part into a JSON object. RFC 7515 §2 defines the encoding
// without '=' padding, so a padded part is not a JWS.
std::optional<boost::json::object> decode_object(std::string_view part) {
  if (part.find('=') != std::string_view::npos) return std::nullopt;
  auto text = base64url_decode(part);
  if (!text) return std::nullopt;
  try {
    boost::json::error_code ec;
    // Default options: strict JSON, valid UTF-8 only, nesting capped at 32 levels. Duplicate
    // names keep the last member, which RFC 7515 §4 allows.
    boost::json::value value = boost::json::parse(*text, ec);
    if (ec || !value.is_object()) return std::nullopt;
    return std::move(value.get_object());
  } catch (const std::exception&) {  // Allocation failure: treat as unreadable input.
    return std::nullopt;
  }
}

}  // namespace

std::string sign_jwt(const SigningKey& key, const boost::json::object& claims,
                     std::string_view typ) {
  boost::json::object header;
  header["alg"] = key.alg();
  header["kid"] = key.kid();
  if (!typ.empty()) header["typ"] = typ;
  std::string compact = base64url_encode(boost::json::serialize(header));
  compact += '.';
  compact += base64url_encode(boost::json::serialize(claims));
  const std::string signature = key.sign(compact);
  compact += '.';
  compact += base64url_encode(signature);
  return compact;
}

Result<DecodedJwt> decode_jwt(std::string_view compact) {
  // RFC 7515 §7.1: exactly three parts. Five parts would be a JWE, which is not accepted.
  const std::size_t dot1 = compact.find('.');
  if (dot1 == std::string_view::npos) return malformed("no '.' in JWS");
  const std::size_t dot2 = compact.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos) return malformed("JWS has two parts");
  if (compact.find('.', dot2 + 1) != std::string_view::npos) {
    return malformed("JWS has more than three parts");
  }
  const std::string_view header_part = compact.substr(0, dot1);
  const std::string_view claims_part = compact.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string_view signature_part = compact.substr(dot2 + 1);

  auto header = decode_object(header_part);
  if (!header) return malformed("JWS header is not a base64url JSON object");
  auto claims = decode_object(claims_part);
  if (!claims) return malformed("JWT claims are not a base64url JSON object");
  if (signature_part.find('=') != std::string_view::npos) return malformed("padded signature");
  auto signature = base64url_decode(signature_part);
  if (!signature) return malformed("JWS signature is not base64url");

  DecodedJwt jwt;
  jwt.header = std::move(*header);
  jwt.claims = std::move(*claims);
  jwt.signing_input = std::string(compact.substr(0, dot2));
  jwt.signature = std::move(*signature);
  return jwt;
}

bool verify_jwt(const DecodedJwt& jwt, const PublicKey& key) {
  // RFC 8725 §3.1: the algorithm comes from our allow-list and the key, never from the token
  // alone, so "none", HMAC with a public key as secret, and alg/key confusion all fail here.
  const boost::json::value* alg = jwt.header.if_contains("alg");
  if (alg == nullptr || !alg->is_string()) return false;
  const std::string_view name = alg->get_string();
  if (name != "RS256" && name != "ES256") return false;
  if (name != key.alg()) return false;
  // RFC 7515 §4.1.11: no extensions are implemented, so any "crit" header must be refused.
  if (jwt.header.contains("crit")) return false;
  return key.verify(name, jwt.signing_input, jwt.signature);
}

}  // namespace latchkey::crypto
