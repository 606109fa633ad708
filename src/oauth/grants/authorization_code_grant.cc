#include "oauth/grants/authorization_code_grant.h"

#include "oauth/pkce.h"
#include "token/scopes.h"
#include "token/opaque_tokens.h"

namespace latchkey::oauth {

Result<store::SecretRef> AuthorizationCodeGrant::code_of(const TokenRequest& req) const {
  // "Require secret for web server flow": checked before the code is touched, so a client
  // that forgot its secret does not burn the code.
  if (req.client.app.require_secret_web_server && !req.client.authenticated()) {
    return Error::invalid_client("invalid client credentials");
  }
  auto code = req.params.get("code");
  if (!code || code->empty()) return Error::invalid_request("code is required");
  if (code->size() > 512) return Error::invalid_grant("invalid authorization code");
  return token::ref_of(*code);
}

// Read, not used up: the code is used up by the same write that saves its tokens, so the
// exchange never waits for a write of its own (store::TokenStore::redeem_later).
Result<TokenOutcome> AuthorizationCodeGrant::handle(const TokenRequest& req) {
  auto ref = code_of(req);
  if (!ref) return ref.error();
  return with_code(req, codes_.find_code(*ref));
}

void AuthorizationCodeGrant::handle_later(const TokenRequest& req, Then then) {
  auto ref = code_of(req);
  if (!ref) {
    then(ref.error());
    return;
  }
  codes_.find_code_later(
      *ref, [this, &req, then = std::move(then)](const std::optional<store::AuthCode>& record,
                                                 const std::exception_ptr& error) {
        // Answered as the synchronous path answers what find_code, or a read
        // made by with_code, throws (app/application.cc, http/session.cc), since
        // nothing here may throw to the reader.
        Result<TokenOutcome> outcome =
            Error::temporarily_unavailable("storage is unavailable, try again");
        if (!error) {
          try {
            outcome = with_code(req, record);
          } catch (const store::StoreError&) {
          } catch (const std::exception&) {
            outcome = Error::server_error("handler failed");
          }
        }
        then(std::move(outcome));
      });
}

Result<TokenOutcome> AuthorizationCodeGrant::with_code(
    const TokenRequest& req, const std::optional<store::AuthCode>& record) {
  const store::App& app = req.client.app;
  if (!record || record->client_id != app.client_id) {
    return Error::invalid_grant("invalid authorization code");
  }
  // RFC 6749 §4.1.2: a replayed code SHOULD revoke the tokens previously issued from it; that
  // happens in the write, whether the replay is seen here or only there.
  auto replayed = Error::invalid_grant("invalid authorization code")
                      .with_debug("authorization code replayed; its tokens were revoked");
  const std::string code_key = std::to_string(record->id);
  store::Redemption redeem{store::Redemption::Kind::code, record->ref(), code_key};
  if (record->used) {
    return refuse_redeemed(tokens_, redeem, record->user_id, std::move(replayed), req);
  }
  if (clock_.now_ms() >= record->expires_ms)
    return Error::invalid_grant("expired authorization code");

  // RFC 6749 §4.1.3: redirect_uri must be identical to the one sent to authorize.
  if (req.params.value("redirect_uri") != record->redirect_uri) {
    return Error::invalid_grant("redirect_uri must match configuration");
  }

  // RFC 7636 §4.6 and the downgrade checks of RFC 9700 §2.1.1.
  auto verifier = req.params.get("code_verifier");
  if (!record->code_challenge.empty()) {
    if (!verifier) return Error::invalid_grant("code_verifier is required");
    if (!verify_s256(*verifier, record->code_challenge)) {
      return Error::invalid_grant("invalid code verifier");
    }
  } else if (verifier) {
    return Error::invalid_grant("code_verifier sent but no code_challenge was");
  }

  auto user = users_.find_user(record->user_id);
  if (!user || !user->active) return Error::invalid_grant("inactive user");

  GrantInput in{app, *user, record->scopes};
  in.grant_type = "authorization_code";
  in.issue_refresh = token::allows_refresh(record->scopes) &&
                     app.refresh_policy != store::RefreshPolicy::immediately;
  in.code_key = code_key;
  in.nonce = record->nonce;
  in.auth_time_s = record->auth_time_s;
  in.redeem = std::move(redeem);
  apply_client(in, req);
  return issue_tokens(issuer_, in, std::move(replayed));
}

}  // namespace latchkey::oauth
