#include "oidc/discovery.h"

#include <algorithm>
#include <boost/json.hpp>

#include "oidc/id_token.h"
#include "store/record_names.h"
#include "core/paths.h"

namespace latchkey::oidc {
namespace {

boost::json::array strings(const std::vector<std::string>& v) {
  boost::json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

// Client authentication methods by their RFC 7591 names (store/record_names.h, the one place
// the names are written).
boost::json::array methods(std::initializer_list<store::ClientAuthMethod> list) {
  boost::json::array a;
  for (auto m : list) a.emplace_back(store::to_string(m));
  return a;
}

}  // namespace

Discovery::Discovery(const std::string& issuer, const std::vector<std::string>& grant_types,
                     const keys::CurrentKeyRing& keys, const std::string& mtls_base_url)
    : keys_(keys) {
  std::vector<std::string> grants = grant_types;
  grants.push_back("implicit");
  std::sort(grants.begin(), grants.end());
  std::vector<std::string> sig_algs;
  // Rotation keeps the algorithms (it replaces a key of one alg by a new one of the same).
  for (const auto& k : keys.current()->keys()) {
    if (std::find(sig_algs.begin(), sig_algs.end(), k.alg()) == sig_algs.end()) {
      sig_algs.push_back(k.alg());
    }
  }
  const std::string& i = issuer;
  using M = store::ClientAuthMethod;
  boost::json::object d{
      {"issuer", i},
      {"authorization_endpoint", i + paths::kAuthorize},
      {"token_endpoint", i + paths::kToken},
      {"revocation_endpoint", i + paths::kRevoke},
      {"introspection_endpoint", i + paths::kIntrospect},
      {"userinfo_endpoint", i + paths::kUserinfo},
      {"jwks_uri", i + paths::kJwks},
      {"scopes_supported", strings({"api", "web", "full", "id", "openid", "profile", "email",
                                    "address", "phone", "refresh_token", "offline_access"})},
      // Every combination of code, token and id_token (oauth/authorize/response_type.h).
      {"response_types_supported",
       strings({"code", "token", "id_token", "code id_token", "token id_token", "code token",
                "code id_token token"})},
      {"response_modes_supported", strings({"query", "fragment"})},
      {"grant_types_supported", strings(grants)},
      {"subject_types_supported", strings({"public"})},
      {"id_token_signing_alg_values_supported", strings({"RS256"})},
      // What apps can be registered with (app create --token-endpoint-auth-method); each app
      // accepts only its own (oauth/client_auth.h).
      {"token_endpoint_auth_methods_supported",
       methods({M::client_secret_basic, M::client_secret_post, M::private_key_jwt, M::none})},
      {"token_endpoint_auth_signing_alg_values_supported", strings(sig_algs)},
      {"revocation_endpoint_auth_methods_supported",
       methods({M::client_secret_basic, M::client_secret_post, M::private_key_jwt, M::none})},
      {"introspection_endpoint_auth_methods_supported",
       methods({M::client_secret_basic, M::client_secret_post, M::private_key_jwt})},
      {"code_challenge_methods_supported", strings({"S256"})},
      {"claims_supported",
       strings({"iss", "sub", "aud", "exp", "iat", "auth_time", "acr", "amr", "nonce", "at_hash",
                "c_hash", "name", "given_name", "family_name", "preferred_username", "email",
                "email_verified"})},
      {"prompt_values_supported", strings({"none", "login", "consent"})},
      {"acr_values_supported", strings({std::string(token::kPasswordAcr)})},
      {"authorization_response_iss_parameter_supported", true},
      {"request_parameter_supported", false},
      {"claims_parameter_supported", false},
  };
  if (!mtls_base_url.empty()) {
    const std::string& m = mtls_base_url;
    d["tls_client_certificate_bound_access_tokens"] = true;
    d["mtls_endpoint_aliases"] = boost::json::object{
        {"token_endpoint", m + paths::kToken},
        {"introspection_endpoint", m + paths::kIntrospect},
        {"revocation_endpoint", m + paths::kRevoke},
        {"userinfo_endpoint", m + paths::kUserinfo},
    };
    for (const char* key :
         {"token_endpoint_auth_methods_supported", "revocation_endpoint_auth_methods_supported",
          "introspection_endpoint_auth_methods_supported"}) {
      // RFC 8705 §2.1 (CA-issued, matched by subject DN) and §2.2 (self-signed, thumbprint).
      d[key].as_array().emplace_back(store::to_string(M::tls_client_auth));
      d[key].as_array().emplace_back(store::to_string(M::self_signed_tls_client_auth));
    }
  }
  configuration_ = boost::json::serialize(d);
}

http::Response Discovery::configuration() const {
  http::Response r = http::Response::json(200, configuration_);
  r.set("Cache-Control", "public, max-age=300");
  r.set("Access-Control-Allow-Origin", "*");
  return r;
}

http::Response Discovery::jwks() const {
  http::Response r = http::Response::json(200, keys_.current()->jwks_json());
  r.set("Content-Type", "application/jwk-set+json");
  r.set("Cache-Control", "public, max-age=300");
  r.set("Access-Control-Allow-Origin", "*");
  return r;
}

}  // namespace latchkey::oidc
