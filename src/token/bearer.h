// Access-token authentication at protected resources (RFC 6750): the Authorization header
// with "Bearer" or Salesforce's "OAuth" scheme, or, where a resource allows it (the identity
// URL, as Salesforce and jsforce use it), the oauth_token query parameter. A token bound to a
// client certificate (RFC 8705 §3) is accepted only with that certificate on the connection.
#pragma once

#include <string>

#include "core/result.h"
#include "http/message.h"
#include "store/records.h"
#include "token/opaque_tokens.h"

namespace latchkey::token {

// Whether the request came over TLS with the client certificate whose x5t#S256 is `x5t`
// (RFC 8705 §3: what a bound token, access or refresh, needs to be used). Constant time.
bool presents_certificate(const http::Request& request, const std::string& x5t);

Result<store::Token> authenticate_bearer(const http::Request& request, const OpaqueTokens& tokens,
                                         bool allow_query_token);

}  // namespace latchkey::token
