#include "store/record_names.h"

namespace latchkey::store {

namespace {

// A refresh policy's two spellings: the stored one and the command line's.
struct RefreshPolicyNames {
  std::string_view stored;
  std::string_view option;
};

RefreshPolicyNames names_of(RefreshPolicy policy) {
  switch (policy) {
    case RefreshPolicy::until_revoked:
      return {"until_revoked", "until-revoked"};
    case RefreshPolicy::immediately:
      return {"immediately", "immediately"};
    case RefreshPolicy::expire_after:
      return {"expire_after", "expire-after"};
    case RefreshPolicy::rotate:
      return {"rotate", "rotate"};
  }
  return {"until_revoked", "until-revoked"};  // unreachable: every enumerator is handled above
}

constexpr RefreshPolicy kRefreshPolicies[] = {RefreshPolicy::until_revoked,
                                              RefreshPolicy::immediately,
                                              RefreshPolicy::expire_after, RefreshPolicy::rotate};

}  // namespace

std::string_view to_string(RefreshPolicy policy) { return names_of(policy).stored; }

std::optional<RefreshPolicy> parse_refresh_policy(std::string_view text) {
  for (auto p : kRefreshPolicies) {
    if (text == names_of(p).stored) return p;
  }
  return std::nullopt;
}

std::string_view option_name(RefreshPolicy policy) { return names_of(policy).option; }

std::optional<RefreshPolicy> parse_refresh_policy_option(std::string_view text) {
  for (auto p : kRefreshPolicies) {
    if (text == names_of(p).option) return p;
  }
  return std::nullopt;
}

std::string_view to_string(TokenFormat format) {
  switch (format) {
    case TokenFormat::opaque:
      return "opaque";
    case TokenFormat::jwt:
      return "jwt";
    case TokenFormat::jwt_sf:
      return "jwt-sf";
  }
  return "opaque";  // unreachable: every enumerator is handled above
}

std::optional<TokenFormat> parse_token_format(std::string_view text) {
  for (auto f : {TokenFormat::opaque, TokenFormat::jwt, TokenFormat::jwt_sf}) {
    if (text == to_string(f)) return f;
  }
  return std::nullopt;
}

std::string_view to_string(Preauthorization::Kind kind) {
  switch (kind) {
    case Preauthorization::Kind::profile:
      return "profile";
    case Preauthorization::Kind::permission_set:
      return "permission_set";
  }
  return "profile";  // unreachable: every enumerator is handled above
}

std::optional<Preauthorization::Kind> parse_preauthorization_kind(std::string_view text) {
  for (auto k : {Preauthorization::Kind::profile, Preauthorization::Kind::permission_set}) {
    if (text == to_string(k)) return k;
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
