// Database::redeem_later for backends without a writer queue.
#include "store/stores.h"

namespace latchkey::store {

std::shared_ptr<PendingWrite> Database::redeem_later(const Redemption& r,
                                                     const std::vector<Token>& tokens) {
  bool first = false;
  if (r.kind == Redemption::Kind::code) {
    auto before = consume_code(r.ref);
    first = before && !before->used;
  } else {
    first = mark_rotated(r.ref);
  }
  if (!first) {
    int revoked = r.kind == Redemption::Kind::code ? revoke_by_code(r.revoke_key)
                                                   : revoke_family(r.revoke_key);
    return PendingWrite::settled(std::make_exception_ptr(AlreadyRedeemed(revoked)));
  }
  save_tokens(tokens);
  return PendingWrite::settled();
}

}  // namespace latchkey::store
