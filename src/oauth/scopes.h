// Scope lists (RFC 6749 §3.3): space-delimited, order-preserving, duplicates dropped.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace latchkey::oauth {

std::vector<std::string> split_scopes(std::string_view text);
std::string join_scopes(const std::vector<std::string>& scopes);
bool has_scope(const std::vector<std::string>& scopes, std::string_view scope);

// The scopes a request gets: the app's scopes when none were asked for (CONTRACT §7), else
// the requested ones, each of which the app must have (invalid_scope otherwise).
Result<std::vector<std::string>> grant_scopes(std::string_view requested,
                                              const std::vector<std::string>& app_scopes);

// True when the scopes allow a refresh token (Salesforce: refresh_token or offline_access).
bool allows_refresh(const std::vector<std::string>& scopes);

}  // namespace latchkey::oauth
