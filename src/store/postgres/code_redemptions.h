// The code redemptions a node queues (TokenStore::redeem_later of a code found by id), sent to
// the writers as one unit per batch, so that PostgreSQL runs one statement for all of a batch's
// exchanges rather than one each: a statement's executor start (opening the tables and their
// indexes, preparing the expressions) costs about as much as the rows a redemption writes
// (docs/performance.md, "PostgreSQL").
//
// A unit is a GroupCommit write run after the batch's pipelined statements, inside its
// transaction. It takes every redemption queued until it runs; the next one queued after that
// starts another unit, for the next batch. Its one statement marks each code used if it was
// not and inserts the tokens of exactly the codes it used (`Run`); a redemption whose code was
// not used by it is refused there as redeem_later refuses one, revoking what the code's first use
// issued. Of two redemptions of one code in the same unit only the first goes to the statement:
// the second is the replay (one row is updated once per statement, so both would otherwise see
// their code among those used). The statement is given the codes in ascending id order, the
// order it locks them in as the planner joins them by the primary key; a collision with another
// node all the same is run again by the writer (group_commit.h).
//
// If the unit fails (the batch's transaction does), every redemption in it fails with the error;
// when the writer runs the batch again (group_commit.h), the unit runs again with the same
// redemptions, each outcome set anew.
//
// Thread safety: add() may be called from any thread.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "core/mutex.h"
#include "store/pending_write.h"
#include "store/postgres/group_commit.h"
#include "store/records.h"

namespace latchkey::store::postgres {

class CodeRedemptions {
 public:
  // One queued redemption, and its outcome once its unit has run.
  struct Part {
    Redemption redemption;  // a code found by id (ref.id != 0)
    std::vector<Token> tokens;
    std::shared_ptr<PendingWrite> pending;
    bool redeemed = false;  // this unit used the code up, and saved `tokens`
    int revoked = 0;        // otherwise: the tokens of the code's first use it revoked
  };
  // Runs one unit's redemptions on the writer's connection, inside the batch's transaction:
  // sets each part's redeemed and revoked (each run sets them anew). Throws as the connection.
  using Run = std::function<void(Connection& conn, std::vector<Part>& parts)>;

  CodeRedemptions(GroupCommit& writer, Run run) : writer_(writer), run_(std::move(run)) {}

  // Queues the redemption; the PendingWrite settles as redeem_later's does once the unit that
  // took it has committed (or failed).
  std::shared_ptr<PendingWrite> add(const Redemption& r, std::vector<Token> tokens) EXCLUDES(mu_);

 private:
  struct Unit;
  // Settles every part of `parts`: failed with `error`, else as each one's outcome says.
  static void settle(std::vector<Part>& parts, const std::exception_ptr& error);

  GroupCommit& writer_;
  const Run run_;
  Mutex mu_;
  std::vector<Part> open_ GUARDED_BY(mu_);    // queued, not yet taken by a unit
  bool unit_queued_ GUARDED_BY(mu_) = false;  // a unit that will take open_ is queued
};

}  // namespace latchkey::store::postgres
