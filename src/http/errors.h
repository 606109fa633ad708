// The ONE mapping from oauth::Error to an HTTP response (docs/design.md). Every error a
// client sees passes through here, so status codes (core/error_code.h gives each code's),
// RFC 6749 §5.2 JSON, Salesforce's error bodies and the no-store headers are decided in one
// place. Stateless; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "http/message.h"

namespace latchkey::http {

// Token, revoke and introspect endpoints: RFC 6749 §5.2 JSON, HTTP 400 (other statuses as the
// code has them in core/error_code.h; 413 for a request too large). invalid_client is
// 401 with a Basic challenge when the client tried Basic (§5.2); without Basic it stays 400,
// as Salesforce answers it.
Response token_error(const oauth::Error& error, bool client_used_basic);

// The admin API (docs/admin-api.md "Errors"): RFC 6749 §5.2-shaped JSON with the code's status
// (400, 404, 405, 409, 503). invalid_token is 401 with an RFC 6750 §3 challenge: `Bearer
// realm="latchkey-admin"`, plus `error="invalid_token"` when a token was presented (§3.1: a
// request without one gets no error code).
Response admin_error(const oauth::Error& error, bool token_presented);

// Protected resources (userinfo, identity URL, /services/data): RFC 6750 §3.1 challenge with
// Salesforce's body `[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`
// for a bad token (401); insufficient_scope is 403 with `Bearer error="insufficient_scope",
// scope="…"` and an RFC 6749 §5.2-shaped JSON body.
Response resource_error(const oauth::Error& error);

// Salesforce's REST error body, `[{"message":…,"errorCode":…}]` (docs/behaviour.md §5.4), with
// the status Salesforce answers it with; the caller adds headers (no_store, a challenge).
enum class SalesforceError {
  invalid_session_id,  // 401: an expired, revoked or unknown token (resource_error sends it)
  bad_id,              // 403: an identity URL that is not the token's user's
  not_found,           // 404: a /services/data version or record this server does not know
  malformed_query,     // 400: a query outside the SOQL subset served (oidc/soql_query.h)
  invalid_type,        // 400: a query of an object this server does not serve
  invalid_field,       // 400: a field the object does not have
};
Response salesforce_error(SalesforceError error);
// The same with a message of the caller's (Salesforce's says what in the query was wrong).
Response salesforce_error(SalesforceError error, std::string_view message);

// RFC 6749 §4.1.2.1 and §4.2.2.1: the `error` and `error_description` parameters of an error
// sent back to the client in the redirect's query or fragment.
std::vector<std::pair<std::string, std::string>> redirect_error_params(const oauth::Error& error);

// Adds Cache-Control: no-store and Pragma: no-cache (RFC 6749 §5.1) to a response that
// carries a token, a code or a secret.
void no_store(Response& response);

// A JSON response with no-store, for token-bearing success bodies.
Response token_json(std::string body);

}  // namespace latchkey::http
