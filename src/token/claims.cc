#include "token/claims.h"

#include "core/paths.h"

namespace latchkey::token {

std::string identity_url(std::string_view issuer, const store::User& user) {
  std::string out(issuer);
  out += paths::kIdentityPrefix;
  out += user.org_id;
  out += '/';
  out += user.id;
  return out;
}

void add_authentication_claims(boost::json::object& claims, int64_t auth_time_s) {
  if (auth_time_s <= 0) return;
  claims["auth_time"] = auth_time_s;
  // OIDC Core §3.1.2.1: acr_values are voluntary; whatever was asked for, the ID token states
  // what was actually done.
  claims["acr"] = kPasswordAcr;
  claims["amr"] = boost::json::array{"pwd"};
}

}  // namespace latchkey::token
