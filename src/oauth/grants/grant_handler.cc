#include "oauth/grants/grant_handler.h"

namespace latchkey::oauth {
namespace {

std::string_view revoke_reason(const store::Redemption& r) {
  return r.kind == store::Redemption::Kind::code ? "code_replay" : "refresh_token_reuse";
}

}  // namespace

std::optional<Error> settle(TokenOutcome& outcome, const store::WriteOutcome& written,
                            std::optional<std::string> id_token) {
  using Status = store::WriteOutcome::Status;
  if (written.status == Status::failed) {
    return Error::temporarily_unavailable("storage is unavailable, try again")
        .with_debug("the token write failed: " + written.error);
  }
  if (outcome.refusal || written.status == Status::already_redeemed) {
    if (outcome.if_redeemed) return *outcome.if_redeemed;
    return Error::server_error("a write redeemed a code or token the grant did not name");
  }
  if (outcome.sign_id_token) {
    if (!id_token) return Error::server_error("signing the ID token failed");
    outcome.body["id_token"] = *id_token;
  }
  return std::nullopt;
}

TokenOutcome issue_tokens(TokenIssuer& issuer, const GrantInput& in,
                          std::optional<Error> if_redeemed) {
  Issued issued = issuer.issue(in);
  TokenOutcome out;
  out.body = std::move(issued.body);
  out.write = std::move(issued.write);
  out.sign_id_token = std::move(issued.sign_id_token);
  out.if_redeemed = std::move(if_redeemed);
  out.client_id = in.app.client_id;
  out.user_id = in.user.id;
  out.grant_type = in.grant_type;
  if (in.redeem) out.revoke_reason = revoke_reason(*in.redeem);
  return out;
}

TokenOutcome refuse_redeemed(store::TokenStore& tokens, const store::Redemption& r,
                             std::string_view user_id, Error refusal, const TokenRequest& req) {
  TokenOutcome out;
  out.write = tokens.redeem_later(r, {});
  out.if_redeemed = std::move(refusal);
  out.refusal = true;
  out.client_id = req.client.app.client_id;
  out.user_id = user_id;
  out.grant_type = req.params.value("grant_type");
  out.revoke_reason = revoke_reason(r);
  return out;
}

}  // namespace latchkey::oauth
