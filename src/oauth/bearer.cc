#include "oauth/bearer.h"

#include "http/params.h"

namespace latchkey::oauth {

Result<store::Token> authenticate_bearer(const http::Request& request,
                                         const token::OpaqueTokens& tokens,
                                         bool allow_query_token) {
  std::string presented;
  if (auto authz = request.header("authorization")) {
    auto t = http::parse_bearer(*authz);
    if (!t) return Error::invalid_token();
    presented = std::move(*t);
  } else if (allow_query_token) {
    auto q = http::parse_form(request.query);
    if (!q) return Error::invalid_token();
    presented = std::string(q->value("oauth_token"));
  }
  if (presented.empty()) return Error::invalid_token();
  return tokens.validate_access(presented);
}

}  // namespace latchkey::oauth
