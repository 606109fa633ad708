#include "oauth/token_issuer.h"

#include "crypto/crypto.h"
#include "token/scopes.h"

namespace latchkey::oauth {

std::string TokenIssuer::signature(std::string_view secret, std::string_view id,
                                   std::string_view issued_at) {
  std::string data(id);
  data += issued_at;
  return crypto::base64_encode(crypto::hmac_sha256(secret, data));
}

Issued TokenIssuer::issue(const GrantInput& in) {
  int64_t now = clock_.now_ms();
  Issued out;
  // A family ties refresh tokens to what they were issued with (reuse revokes it); a grant
  // without a refresh token starts none, which keeps its rows out of the family index.
  if (!in.family_id.empty()) {
    out.family_id = in.family_id;
  } else if (in.issue_refresh) {
    // An increasing id rather than a random one: new families are appended to their index.
    out.family_id = std::to_string(tokens_.allocate_id());
  }
  int64_t expires_ms = now + in.app.access_token_ttl_s * 1000;
  const bool jwt = in.app.token_format != store::TokenFormat::opaque;
  // Opaque tokens carry their row id; a JWT is found by its hash (a negative id).
  const int64_t access_id = jwt ? -tokens_.allocate_id() : tokens_.allocate_id();
  out.access_token = jwt ? jwts_.make(in.app, in.user, in.scopes, now / 1000, expires_ms / 1000,
                                      in.auth_time_s, in.cnf_x5t)
                         : opaque_.new_access_token(in.user.org_id, access_id);

  std::vector<store::Token> rows;
  store::Token access;
  access.id = access_id;
  access.token_hash = token::hash_of(out.access_token);
  access.kind = store::TokenKind::access;
  access.client_id = in.app.client_id;
  access.user_id = in.user.id;
  access.org_id = in.user.org_id;
  access.scopes = in.scopes;
  access.family_id = out.family_id;
  access.code_key = in.code_key;
  access.issued_ms = now;
  access.expires_ms = expires_ms;
  access.cnf_x5t = in.cnf_x5t;
  access.auth_time_s = in.auth_time_s;
  rows.push_back(access);

  if (in.issue_refresh) {
    store::Token refresh = access;
    refresh.id = tokens_.allocate_id();
    out.refresh_token = opaque_.new_refresh_token(refresh.id);
    refresh.token_hash = token::hash_of(out.refresh_token);
    refresh.kind = store::TokenKind::refresh;
    if (!in.public_client) refresh.cnf_x5t.clear();
    if (!in.refresh_scopes.empty()) refresh.scopes = in.refresh_scopes;
    refresh.expires_ms = in.app.refresh_policy == store::RefreshPolicy::expire_after
                             ? now + in.app.refresh_ttl_s * 1000
                             : 0;
    rows.push_back(std::move(refresh));
  }
  // Both rows in one transaction: a client never holds a refresh token whose access token
  // was lost, or the reverse. Queued now, so the response below is built (and the ID token
  // signed by the caller) while the write is being made durable.
  out.write = in.redeem ? tokens_.redeem_later(*in.redeem, rows) : tokens_.save_tokens_later(rows);

  std::string id = token::identity_url(issuer_, in.user);
  std::string issued_at = std::to_string(now);
  auto& b = out.body;
  // Room for every member below (and the ID token the caller may add), so the object is not
  // rehashed as it fills.
  b.reserve(12);
  b["access_token"] = out.access_token;
  if (!out.refresh_token.empty()) b["refresh_token"] = out.refresh_token;
  if (!in.client_secret.empty()) b["signature"] = signature(in.client_secret, id, issued_at);
  b["scope"] = token::join_scopes(in.scopes);
  if (in.with_id_token && token::has_scope(in.scopes, "openid")) {
    out.sign_id_token = ids_.make_later(
        {in.app, in.user, in.scopes, in.nonce, in.auth_time_s, out.access_token, in.code});
  }
  b["instance_url"] = issuer_;
  b["id"] = id;
  b["token_type"] = "Bearer";
  b["issued_at"] = issued_at;
  b["expires_in"] = in.app.access_token_ttl_s;
  return out;
}

}  // namespace latchkey::oauth
