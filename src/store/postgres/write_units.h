// Writes that many requests queue one at a time and PostgreSQL is better given together: a unit
// gathers every such write queued before the writer takes it into a batch and runs them as one
// write, so that PostgreSQL runs one statement for all of them rather than one each. A
// statement's executor start (opening the table and its indexes, preparing the expressions)
// costs about as much as the rows one request writes (docs/performance.md, "PostgreSQL").
// PostgresDatabase has two: the tokens saved by save_tokens_later, and code redemptions of
// codes found by id.
//
// The first add() queues a unit with the writers (GroupCommit); later ones join it until a writer
// takes it into a batch (Write::gather), when it takes every part queued so far and `build`
// makes its write; a part added after that starts the next unit, for a later batch. Once the
// batch is settled, `settle` answers each part: with the batch's error, or as the write left it.
// A unit is one write of its batch: if it fails, every part in it fails; when the writer runs
// the batch again (group_commit.h), the unit's write runs again with the same parts, so what its
// `then` decides for each part it must set anew on each run.
//
// Thread safety: add() may be called from any thread; build and settle run on a writer thread
// (settle also on the caller's thread of an add() whose submission failed).
#pragma once

#include <exception>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "core/mutex.h"
#include "store/postgres/group_commit.h"
#include "store/stores.h"

namespace latchkey::store::postgres {

template <class Part>
class WriteUnits {
 public:
  using Parts = std::shared_ptr<std::vector<Part>>;
  // The unit's write, given its parts (which outlive the write's run).
  using Build = std::function<Write(const Parts& parts)>;
  // Answers every part of a unit once its batch has settled; `error` is null when it committed.
  using Settle = std::function<void(std::vector<Part>& parts, const std::exception_ptr& error)>;

  WriteUnits(GroupCommit& writer, Build build, Settle settle)
      : writer_(writer), build_(std::move(build)), settle_(std::move(settle)) {}

  // Queues `part` for the next unit; it is answered through settle.
  void add(Part part) EXCLUDES(mu_) {
    bool start_unit = false;
    {
      MutexLock lock(mu_);
      open_.push_back(std::move(part));
      start_unit = !unit_queued_;
      unit_queued_ = true;
    }
    if (!start_unit) return;  // the unit already queued takes this one too
    struct Unit {
      Parts parts = std::make_shared<std::vector<Part>>();
      bool taken = false;  // touched by one thread at a time: the writer, or add() on failure
    };
    auto unit = std::make_shared<Unit>();
    auto take = [this, unit] {
      if (unit->taken) return;
      MutexLock lock(mu_);
      unit->parts->swap(open_);
      unit_queued_ = false;
      unit->taken = true;
    };
    Write write;
    write.gather = [this, unit, take] {
      take();
      return build_(unit->parts);
    };
    try {
      writer_.submit(std::move(write), [this, unit, take](const std::exception_ptr& error) {
        take();  // a unit the writers never took (they were closing) still answers its parts
        settle_(*unit->parts, error);
      });
    } catch (const StoreError&) {
      take();
      settle_(*unit->parts, std::current_exception());
    }
  }

 private:
  GroupCommit& writer_;
  const Build build_;
  const Settle settle_;
  Mutex mu_;
  std::vector<Part> open_ GUARDED_BY(mu_);    // queued, not yet taken by a unit
  bool unit_queued_ GUARDED_BY(mu_) = false;  // a unit that will take open_ is queued
};

}  // namespace latchkey::store::postgres
