// The ONE mapping from oauth::Error to an HTTP response (docs/design.md). Every error a
// client sees passes through here, so status codes, RFC 6749 §5.2 JSON, Salesforce's
// INVALID_SESSION_ID body and the no-store headers are decided in one place.
#pragma once

#include "core/error.h"
#include "http/message.h"

namespace latchkey::http {

// Token, revoke and introspect endpoints: RFC 6749 §5.2 JSON, HTTP 400. invalid_client is
// 401 with a Basic challenge when the client tried Basic (§5.2); without Basic it stays 400,
// as Salesforce answers it.
Response token_error(const oauth::Error& error, bool client_used_basic);

// Protected resources (userinfo, identity URL, /services/data): RFC 6750 §3.1 challenge with
// Salesforce's body `[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`
// for a bad token (401); insufficient_scope is 403 with `Bearer error="insufficient_scope",
// scope="…"` and an RFC 6749 §5.2-shaped JSON body.
Response resource_error(const oauth::Error& error);

// Adds Cache-Control: no-store and Pragma: no-cache (RFC 6749 §5.1) to a response that
// carries a token, a code or a secret.
void no_store(Response& response);

// A JSON response with no-store, for token-bearing success bodies.
Response token_json(std::string body);

}  // namespace latchkey::http
