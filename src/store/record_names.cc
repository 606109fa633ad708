#include "store/record_names.h"

namespace latchkey::store {

std::string_view to_string(RefreshPolicy policy) {
  switch (policy) {
    case RefreshPolicy::until_revoked:
      return "until_revoked";
    case RefreshPolicy::immediately:
      return "immediately";
    case RefreshPolicy::expire_after:
      return "expire_after";
    case RefreshPolicy::rotate:
      return "rotate";
  }
  return "until_revoked";  // unreachable: every enumerator is handled above
}

std::optional<RefreshPolicy> parse_refresh_policy(std::string_view text) {
  for (auto p : {RefreshPolicy::until_revoked, RefreshPolicy::immediately,
                 RefreshPolicy::expire_after, RefreshPolicy::rotate}) {
    if (text == to_string(p)) return p;
  }
  return std::nullopt;
}

std::string_view to_string(TokenKind kind) {
  return kind == TokenKind::refresh ? "refresh" : "access";
}

std::optional<TokenKind> parse_token_kind(std::string_view text) {
  if (text == "access") return TokenKind::access;
  if (text == "refresh") return TokenKind::refresh;
  return std::nullopt;
}

std::string_view to_string(ClientAuthMethod method) {
  switch (method) {
    case ClientAuthMethod::none:
      return "none";
    case ClientAuthMethod::client_secret_basic:
      return "client_secret_basic";
    case ClientAuthMethod::client_secret_post:
      return "client_secret_post";
    case ClientAuthMethod::private_key_jwt:
      return "private_key_jwt";
    case ClientAuthMethod::self_signed_tls_client_auth:
      return "self_signed_tls_client_auth";
    case ClientAuthMethod::tls_client_auth:
      return "tls_client_auth";
  }
  return "none";  // unreachable: every enumerator is handled above
}

std::optional<ClientAuthMethod> parse_client_auth_method(std::string_view text) {
  for (auto m :
       {ClientAuthMethod::none, ClientAuthMethod::client_secret_basic,
        ClientAuthMethod::client_secret_post, ClientAuthMethod::private_key_jwt,
        ClientAuthMethod::self_signed_tls_client_auth, ClientAuthMethod::tls_client_auth}) {
    if (text == to_string(m)) return m;
  }
  return std::nullopt;
}

}  // namespace latchkey::store
