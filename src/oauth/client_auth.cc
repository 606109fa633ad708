#include "oauth/client_auth.h"

#include <cctype>

#include "crypto/crypto.h"
#include "crypto/jose.h"
#include "oauth/jwt_claims.h"

namespace latchkey::oauth {
namespace {

constexpr std::string_view kJwtBearerAssertion =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
// Authlib and other libraries default client assertions to exp = iat + 3600; longer is refused
// so the jti replay table need not remember an assertion for long.
constexpr int64_t kMaxAssertionLifetimeS = 3600 + 60;

Error bad_credentials() { return Error::invalid_client("invalid client credentials"); }

}  // namespace

ClientAuthenticator::ClientAuthenticator(store::AppStore& apps, const Clock& clock,
                                         std::string issuer)
    : apps_(apps),
      clock_(clock),
      issuer_(std::move(issuer)),
      token_url_(issuer_ + "/services/oauth2/token"),
      seen_jti_(clock),
      failures_(clock, 50'000, 60'000) {}

Result<ClientAuth> ClientAuthenticator::authenticate(const http::Request& request,
                                                     const http::Params& params,
                                                     bool& tried_basic) {
  auto authz = request.header("authorization");
  std::optional<http::BasicCredentials> basic;
  // Auth scheme names are case-insensitive (RFC 9110 §11.1).
  auto is_basic = [](std::string_view h) {
    static constexpr std::string_view kBasic = "basic ";
    if (h.size() < kBasic.size()) return false;
    for (std::size_t i = 0; i < kBasic.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(h[i])) != kBasic[i]) return false;
    }
    return true;
  };
  if (authz && is_basic(*authz)) {
    tried_basic = true;
    basic = http::parse_basic(*authz);
    if (!basic) return Error::invalid_client("malformed Basic credentials");
  }
  bool post_secret = params.has("client_secret");
  bool assertion = params.has("client_assertion") || params.has("client_assertion_type");
  int methods = (basic ? 1 : 0) + (post_secret ? 1 : 0) + (assertion ? 1 : 0);
  if (methods > 1) return Error::invalid_request("more than one client authentication method");

  auto body_id = params.get("client_id");
  if (basic) {
    if (body_id && *body_id != basic->id) return bad_credentials();
    return counted(basic->id,
                   with_secret(basic->id, basic->secret, AuthMethod::client_secret_basic));
  }
  if (post_secret) {
    if (!body_id) return Error::invalid_client("client identifier invalid");
    return counted(std::string(*body_id), with_secret(*body_id, params.value("client_secret"),
                                                      AuthMethod::client_secret_post));
  }
  if (assertion) {
    if (params.value("client_assertion_type") != kJwtBearerAssertion) {
      return Error::invalid_client("unsupported client_assertion_type");
    }
    return counted(std::string(body_id.value_or("")),
                   with_assertion(body_id.value_or(""), params.value("client_assertion")));
  }
  if (!body_id || body_id->empty()) return Error::invalid_client("client identifier invalid");
  auto app = apps_.find_app(std::string(*body_id));
  if (!app) return Error::invalid_client("client identifier invalid");
  return ClientAuth{std::move(*app), AuthMethod::none, {}};
}

Result<ClientAuth> ClientAuthenticator::counted(const std::string& client_id,
                                                Result<ClientAuth> result) {
  // Keyed by the client id as sent (an assertion names its client inside; those count under
  // the id it claims once verified, or under "" when the request named none).
  std::string key = result ? result->app.client_id : client_id;
  if (key.size() > 256) key.resize(256);
  if (failures_.wait_s(key) > 0) {
    return Error::invalid_client("too many failed attempts; try again later");
  }
  if (result) {
    failures_.success(key);
  } else if (result.error().code() == "invalid_client") {
    failures_.failure(key);
  }
  return result;
}

Result<ClientAuth> ClientAuthenticator::with_secret(std::string_view client_id,
                                                    std::string_view secret, AuthMethod method) {
  if (client_id.empty() || client_id.size() > 256) return bad_credentials();
  auto app = apps_.find_app(std::string(client_id));
  // Hash first and compare hashes in constant time; the stored value is a hash anyway.
  std::string presented = crypto::sha256_hex(secret);
  if (!app || app->secret_hash.empty() ||
      !crypto::constant_time_equal(presented, app->secret_hash)) {
    return bad_credentials();
  }
  return ClientAuth{std::move(*app), method, std::string(secret)};
}

Result<ClientAuth> ClientAuthenticator::with_assertion(std::string_view client_id,
                                                       std::string_view assertion) {
  if (assertion.empty() || assertion.size() > 32 * 1024) return bad_credentials();
  auto jwt = crypto::decode_jwt(assertion);
  if (!jwt) return bad_credentials();
  const auto& c = jwt->claims;
  // RFC 7523 §3: iss and sub are the client id.
  std::string iss = claim_string(c, "iss");
  if (iss.empty() || claim_string(c, "sub") != iss || (!client_id.empty() && client_id != iss)) {
    return bad_credentials();
  }
  auto app = apps_.find_app(iss);
  if (!app || app->cert_pem.empty()) return bad_credentials();
  auto key = crypto::PublicKey::from_pem(app->cert_pem);
  if (!key || !crypto::verify_jwt(*jwt, *key)) return bad_credentials();
  // aud: the token URL or the issuer (CONTRACT §7).
  if (!audience_matches(c, {token_url_, issuer_})) return Error::invalid_client("audience is invalid");

  auto exp = claim_time(c, "exp");
  if (!exp) return bad_credentials();
  int64_t now = clock_.now_s();
  if (*exp <= now) return Error::invalid_client("expired authorization code");
  if (*exp > now + kMaxAssertionLifetimeS) return bad_credentials();
  std::string jti = claim_string(c, "jti");
  if (jti.empty() || !seen_jti_.first_use(iss + " " + jti, *exp)) {
    return Error::invalid_client("client assertion replayed or without jti");
  }
  return ClientAuth{std::move(*app), AuthMethod::private_key_jwt, {}};
}

}  // namespace latchkey::oauth
