#include "store/postgres/code_redemptions.h"

#include <utility>

namespace latchkey::store::postgres {

// The redemptions one unit took, kept for the unit's runs and its settlement.
struct CodeRedemptions::Unit {
  std::vector<Part> parts;
  bool taken = false;
};

std::shared_ptr<PendingWrite> CodeRedemptions::add(const Redemption& r, std::vector<Token> tokens) {
  auto pending = std::make_shared<PendingWrite>();
  bool start_unit = false;
  {
    MutexLock lock(mu_);
    open_.push_back({r, std::move(tokens), pending});
    start_unit = !unit_queued_;
    unit_queued_ = true;
  }
  if (!start_unit) return pending;  // the unit already queued takes this one too
  auto unit = std::make_shared<Unit>();
  auto take = [this, unit] {
    if (unit->taken) return;
    MutexLock lock(mu_);
    unit->parts.swap(open_);
    unit_queued_ = false;
    unit->taken = true;
  };
  try {
    writer_.submit(GroupCommit::Work([this, unit, take](Connection& conn) {
                     take();
                     run_(conn, unit->parts);
                   }),
                   [unit, take](const std::exception_ptr& error) {
                     take();  // a unit that never ran (the writers closing) still answers its parts
                     settle(unit->parts, error);
                   });
  } catch (const StoreError&) {
    take();
    settle(unit->parts, std::current_exception());
  }
  return pending;
}

void CodeRedemptions::settle(std::vector<Part>& parts, const std::exception_ptr& error) {
  for (Part& p : parts) {
    if (error || p.redeemed) {
      p.pending->settle(WriteOutcome::of(error));
    } else {
      p.pending->settle(WriteOutcome::redeemed_before(p.revoked));
    }
  }
}

}  // namespace latchkey::store::postgres
