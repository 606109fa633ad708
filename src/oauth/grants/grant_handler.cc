#include "oauth/grants/grant_handler.h"

namespace latchkey::oauth {

std::string_view revoke_reason(const store::Redemption& r) {
  return r.kind == store::Redemption::Kind::code ? "code_replay" : "refresh_token_reuse";
}

Result<boost::json::object> issue_tokens(TokenIssuer& issuer, GrantInput& in,
                                         const TokenRequest& req,
                                         std::optional<Error> if_redeemed) {
  if (req.deferred == nullptr) {
    in.durable = nullptr;
    in.id_token_later = nullptr;
    try {
      return issuer.issue(in).body;
    } catch (const store::AlreadyRedeemed&) {
      if (!if_redeemed) throw;
      return std::move(*if_redeemed);
    }
  }
  Deferred& d = *req.deferred;
  in.durable = &d.write;
  in.id_token_later = &d.id_token;
  d.if_redeemed = std::move(if_redeemed);
  d.client_id = in.app.client_id;
  d.user_id = in.user.id;
  d.grant_type = in.grant_type;
  if (in.redeem) d.revoke_reason = revoke_reason(*in.redeem);
  return issuer.issue(in).body;
}

Result<boost::json::object> refuse_redeemed(store::Database& db, const store::Redemption& r,
                                            std::string_view user_id, Error refusal,
                                            const TokenRequest& req) {
  auto write = db.redeem_later(r, {});
  if (req.deferred == nullptr) {
    try {
      write->wait();
    } catch (const store::AlreadyRedeemed&) {
    }
    return refusal;
  }
  req.deferred->write = std::move(write);
  req.deferred->if_redeemed = std::move(refusal);
  req.deferred->client_id = req.client.app.client_id;
  req.deferred->user_id = user_id;
  req.deferred->grant_type = req.params.value("grant_type");
  req.deferred->revoke_reason = revoke_reason(r);
  return boost::json::object{};  // never sent: the write refuses
}

}  // namespace latchkey::oauth
