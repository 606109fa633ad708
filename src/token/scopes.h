// Scope lists (RFC 6749 §3.3): space-delimited, order-preserving, duplicates dropped.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace latchkey::token {

std::vector<std::string> split_scopes(std::string_view text);
std::string join_scopes(const std::vector<std::string>& scopes);
bool has_scope(const std::vector<std::string>& scopes, std::string_view scope);

// The scopes a request gets: the app's scopes when none were asked for (docs/behaviour.md §7), else
// the requested ones, each of which the app must have (invalid_scope otherwise).
Result<std::vector<std::string>> grant_scopes(std::string_view requested,
                                              const std::vector<std::string>& app_scopes);

// True when the scopes allow a refresh token (Salesforce: refresh_token or offline_access).
bool allows_refresh(const std::vector<std::string>& scopes);

// What a token's scopes let it read at the protected resources (Salesforce's scope table,
// where `full` encompasses every other scope; OIDC Core §5.3, §5.4):
// - the REST API (/services/data/vNN.N/): `api` or `full`;
// - userinfo: what opens the identity URL (below), or `api`: userinfo is the identity
//   service's OpenID Connect form, and Salesforce answers it for the REST API's tokens, which
//   its own clients (the Salesforce CLI, with `refresh_token api web`) rely on to learn whose
//   token they hold (docs/behaviour.md §8). Then the claims of OIDC Core §5.4 per scope;
// - the identity URL: `id` or its synonyms `profile`, `email`, `address`, `phone`, or
//   `openid`, or `full` (not `api` alone: Salesforce's `api` is the REST API, `id` the
//   identity service).
bool allows_api(const std::vector<std::string>& scopes);
bool allows_userinfo(const std::vector<std::string>& scopes);
bool allows_identity(const std::vector<std::string>& scopes);
// Whether userinfo may return the claims of `claim_scope` (profile, email, address, phone):
// granted that scope, or `full`.
bool allows_claims(const std::vector<std::string>& scopes, std::string_view claim_scope);

}  // namespace latchkey::token
