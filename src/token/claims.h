// Claims that every JWT latchkey signs for a user shares, whatever kind it is: ID tokens
// (oidc/id_token.h) and RFC 9068 JWT access tokens (token/jwt_access_tokens.h). Pure functions.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "store/records.h"

namespace latchkey::token {

// The Salesforce identity URL: {issuer}/id/{orgId}/{userId}.
std::string identity_url(std::string_view issuer, const store::User& user);

// OIDC Core §2 `acr` of a user who signed in at the login page with username and password,
// the one interactive authentication latchkey has. A URN of our own: the registered
// level-of-assurance URIs promise more (e.g. multi-factor) than a password gives.
inline constexpr std::string_view kPasswordAcr = "urn:latchkey:acr:password";

// OIDC Core §2 authentication claims, for ID tokens and RFC 9068 §2.2.1 JWT access tokens.
// auth_time_s > 0 means a user signed in interactively (at the login page, with a password):
// then auth_time, acr (kPasswordAcr) and amr ["pwd"] (RFC 8176 §2). Grants without an
// interactive login (JWT/SAML bearer, client credentials) pass 0 and get none; a refresh
// passes the time of the login its grant began with (OIDC Core §12.2), 0 if unknown.
void add_authentication_claims(boost::json::object& claims, int64_t auth_time_s);

}  // namespace latchkey::token
