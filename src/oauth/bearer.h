// Access-token authentication at protected resources (RFC 6750): the Authorization header
// with "Bearer" or Salesforce's "OAuth" scheme, or, where a resource allows it (the identity
// URL, as Salesforce and jsforce use it), the oauth_token query parameter. A token bound to a
// client certificate (RFC 8705 §3) is accepted only with that certificate on the connection.
#pragma once

#include "core/result.h"
#include "http/message.h"
#include "store/records.h"
#include "token/opaque_tokens.h"

namespace latchkey::oauth {

Result<store::Token> authenticate_bearer(const http::Request& request,
                                         const token::OpaqueTokens& tokens,
                                         bool allow_query_token);

}  // namespace latchkey::oauth
