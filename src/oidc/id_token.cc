#include "oidc/id_token.h"

#include <algorithm>

#include "crypto/crypto.h"

namespace latchkey::oidc {
namespace {

constexpr int64_t kIdTokenTtlS = 300;  // Salesforce ID tokens live five minutes

bool has(const std::vector<std::string>& scopes, std::string_view s) {
  return std::find(scopes.begin(), scopes.end(), s) != scopes.end();
}

}  // namespace

std::string half_hash(std::string_view value) {
  std::string h = crypto::sha256(value);
  return crypto::base64url_encode(std::string_view(h).substr(0, 16));
}

void add_profile_claims(boost::json::object& claims, const store::User& user,
                        const std::vector<std::string>& scopes) {
  bool full = has(scopes, "full");
  if (full || has(scopes, "profile")) {
    std::string name = user.first_name;
    if (!user.last_name.empty()) name += (name.empty() ? "" : " ") + user.last_name;
    claims["name"] = name.empty() ? user.username : name;
    if (!user.first_name.empty()) claims["given_name"] = user.first_name;
    if (!user.last_name.empty()) claims["family_name"] = user.last_name;
    claims["preferred_username"] = user.username;
  }
  if (full || has(scopes, "email")) {
    claims["email"] = user.email;
    claims["email_verified"] = !user.email.empty();
  }
}

std::string IdTokens::make(const IdTokenInput& in) const { return make_later(in)(); }

std::function<std::string()> IdTokens::make_later(const IdTokenInput& in) const {
  int64_t now = clock_.now_s();
  boost::json::object c{
      {"iss", issuer_},
      {"sub", token::identity_url(issuer_, in.user)},
      {"aud", in.app.client_id},
      {"exp", now + kIdTokenTtlS},
      {"iat", now},
  };
  token::add_authentication_claims(c, in.auth_time_s);
  if (!in.nonce.empty()) c["nonce"] = in.nonce;
  if (!in.access_token.empty()) c["at_hash"] = half_hash(in.access_token);
  if (!in.code.empty()) c["c_hash"] = half_hash(in.code);
  add_profile_claims(c, in.user, in.scopes);
  return [this, c = std::move(c)] {
    const auto ring = keys_.current();
    return crypto::sign_jwt(ring->signing_key("RS256"), c);
  };
}

}  // namespace latchkey::oidc
