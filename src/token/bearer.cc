#include "token/bearer.h"

#include "crypto/certificate.h"
#include "crypto/crypto.h"
#include "http/params.h"

namespace latchkey::token {

bool presents_certificate(const http::Request& request, const std::string& x5t) {
  return request.tls && !request.client_cert_der.empty() &&
         crypto::constant_time_equal(crypto::x5t_s256(request.client_cert_der), x5t);
}

Result<store::Token> authenticate_bearer(const http::Request& request, const OpaqueTokens& tokens,
                                         bool allow_query_token) {
  std::string presented;
  if (auto authz = request.header("authorization")) {
    auto t = http::parse_bearer(*authz);
    if (!t) return oauth::Error::invalid_token();
    presented = std::move(*t);
  } else if (allow_query_token) {
    auto q = http::parse_form(request.query);
    if (!q) return oauth::Error::invalid_token();
    presented = std::string(q->value("oauth_token"));
  }
  if (presented.empty()) return oauth::Error::invalid_token();
  auto token = tokens.validate_access(presented);
  if (!token) return token;
  // RFC 8705 §3: a certificate-bound token is good only over mutual TLS with that same
  // certificate; anywhere else it is as invalid as an unknown token.
  if (!token->cnf_x5t.empty() && !presents_certificate(request, token->cnf_x5t)) {
    return oauth::Error::invalid_token();
  }
  return token;
}

}  // namespace latchkey::token
