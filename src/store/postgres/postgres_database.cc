#include "store/postgres/postgres_database.h"

#include <algorithm>
#include <limits>

#include "store/postgres/migrations.h"
#include "store/tables.h"

namespace latchkey::store::postgres {
namespace {

// The sequence row_ids counts in steps of this many (migration 1): each nextval reserves the
// ids from its value up to the next one.
constexpr int64_t kIdBlock = 64;
// Blocks taken in one round trip (allocate_id fetches the next ones when half are used).
constexpr int64_t kBlocksPerFetch = 16;

// Writes one transaction holds at most: enough to cover every request a busy node has in flight.
constexpr std::size_t kMaxBatch = 512;
// Codes one statement of the reader reads at most (code_reader.h).
constexpr std::size_t kMaxCodeReads = 256;

}  // namespace

PostgresDatabase::PostgresDatabase(const std::string& conninfo, Options options)
    : conninfo_(conninfo),
      pool_wait_(options.pool_wait),
      pool_(conninfo, options.pool_size, options.pool_wait,
            SessionSettings{options.statement_timeout}) {
  pool_.with([](Connection& conn) { migrate(conn); });
  raise_ids_above_stored();
  writer_ = std::make_unique<GroupCommit>(conninfo, SessionSettings{options.statement_timeout},
                                          kMaxBatch, options.writers);
  token_saves_ = std::make_unique<WriteUnits<TokenSave>>(
      *writer_, &save_tokens_write,
      [](std::vector<TokenSave>& parts, const std::exception_ptr& error) {
        for (TokenSave& p : parts) p.pending->settle(WriteOutcome::of(error));
      });
  code_redemptions_ = std::make_unique<WriteUnits<CodeRedemption>>(
      *writer_, &redeem_codes_write,
      [](std::vector<CodeRedemption>& parts, const std::exception_ptr& error) {
        for (CodeRedemption& p : parts) {
          if (error || p.redeemed) {
            p.pending->settle(WriteOutcome::of(error));
          } else {
            p.pending->settle(WriteOutcome::redeemed_before(p.revoked));
          }
        }
      });
  reader_ = std::make_unique<CodeReader>(
      [this](const std::vector<int64_t>& ids) { return read_codes(ids); },
      [this](const SecretRef& ref) { return find_code(ref); }, kMaxCodeReads);
}

// The reader answers what is queued first, and what its callbacks do may queue writes; then the
// writers finish what is queued: a fetch of ids among it adds its blocks to members destroyed
// before writer_ would be.
PostgresDatabase::~PostgresDatabase() {
  reader_.reset();
  writer_.reset();
  code_redemptions_.reset();
  token_saves_.reset();
}

void PostgresDatabase::raise_ids_above_stored() {
  // Only ever forwards: setval runs when a stored id is at or above what the sequence last gave.
  write([](Connection& conn) {
    conn.run(
        "SELECT setval('row_ids', m) FROM (SELECT greatest("
        " (SELECT coalesce(max(id), 0) FROM tokens), (SELECT coalesce(-min(id), 0) FROM tokens),"
        " (SELECT coalesce(max(id), 0) FROM auth_codes),"
        " (SELECT coalesce(-min(id), 0) FROM auth_codes)) AS m) stored"
        " WHERE m >= (SELECT last_value FROM row_ids)");
  });
}

namespace {

// The SELECT that reserves kBlocksPerFetch blocks, one nextval each.
Statement next_blocks() {
  return {"SELECT nextval('row_ids') FROM generate_series(1, $1)", Params().int64(kBlocksPerFetch)};
}

// The blocks' starts a next_blocks() answer holds, in descending order (they are used from the
// lowest, at the back).
std::vector<int64_t> block_starts(const Result& r) {
  std::vector<int64_t> starts;
  starts.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) starts.push_back(r.int64(i, 0));
  std::sort(starts.rbegin(), starts.rend());
  return starts;
}

}  // namespace

int64_t PostgresDatabase::allocate_id() {
  MutexLock lock(ids_mu_);
  const auto deadline = std::chrono::steady_clock::now() + pool_wait_;
  // Blocks taken by a fetch whose connection was lost, or left when the process ends, are
  // merely skipped.
  while (next_id_ >= block_end_ && spare_blocks_.empty()) {
    if (!fetching_) {
      fetching_ = true;
      lock.unlock();
      std::vector<int64_t> starts;
      std::exception_ptr error;
      try {
        starts = fetch_blocks_now();
      } catch (...) {
        error = std::current_exception();
      }
      lock.lock();
      fetching_ = false;
      add_blocks(starts);
      fetched_.notify_all();
      if (error) std::rethrow_exception(error);
      if (starts.empty()) throw StoreError("postgres: the id sequence gave no block");
      continue;
    }
    // Another thread's fetch, or the writers': wait for its blocks (or its failure, after which
    // this thread fetches).
    if (!fetched_.wait_until(lock, deadline) && fetching_) {
      throw StoreError("postgres: no row ids: fetching a block from the sequence timed out");
    }
  }
  if (next_id_ >= block_end_) {
    next_id_ = spare_blocks_.back();
    spare_blocks_.pop_back();
    block_end_ = next_id_ + kIdBlock;
  }
  const int64_t id = next_id_++;
  if (!fetching_ && spare_blocks_.size() < kBlocksPerFetch / 2) prefetch_blocks();
  return id;
}

void PostgresDatabase::add_blocks(const std::vector<int64_t>& starts) {
  spare_blocks_.insert(spare_blocks_.begin(), starts.begin(), starts.end());
}

std::vector<int64_t> PostgresDatabase::fetch_blocks_now() {
  return read([](Connection& conn) {
    const Statement s = next_blocks();
    return block_starts(conn.run(s.sql, s.params));
  });
}

void PostgresDatabase::prefetch_blocks() {
  fetching_ = true;
  // Set by `then` (which sets rather than adds: a write may run twice), read once committed.
  auto starts = std::make_shared<std::vector<int64_t>>();
  Write write{{next_blocks()}, [starts](Connection&, std::vector<Result>& results) {
                *starts = block_starts(results.at(0));
              }};
  auto done = [this, starts](const std::exception_ptr& error) {
    MutexLock lock(ids_mu_);
    fetching_ = false;
    if (!error) add_blocks(*starts);
    fetched_.notify_all();
  };
  try {
    writer_->submit(std::move(write), std::move(done));
  } catch (const StoreError&) {
    fetching_ = false;  // a database that is closing: the next caller fetches itself
  }
}

std::vector<Token> PostgresDatabase::with_ids(const std::vector<Token>& tokens) {
  std::vector<Token> rows = tokens;
  for (Token& t : rows) {
    if (t.id == 0) t.id = -allocate_id();
  }
  return rows;
}

AuthCode PostgresDatabase::with_id(const AuthCode& code) {
  AuthCode row = code;
  if (row.id == 0) row.id = -allocate_id();
  return row;
}

std::shared_ptr<PendingWrite> PostgresDatabase::queue(
    const std::function<Write()>& make_write,
    std::function<WriteOutcome(std::exception_ptr)> outcome, std::string order_key) {
  auto pending = std::make_shared<PendingWrite>();
  try {
    writer_->submit(
        make_write(),
        [pending, outcome = std::move(outcome)](std::exception_ptr error) {
          pending->settle(outcome(std::move(error)));
        },
        std::move(order_key));
  } catch (const StoreError& e) {
    pending->settle(WriteOutcome::failed_because(e.what()));
  }
  return pending;
}

std::unique_ptr<ChangeWatch> PostgresDatabase::watch_changes(const ChangeHandlers& handlers) {
  return std::make_unique<ChangeListener>(conninfo_, handlers, ChangeListener::Options{});
}

void PostgresDatabase::announce(const Change& change) {
  // Settles unobserved: the writer's failure (the database away) loses the announcement, which
  // is all ChangeBoard promises.
  queue(
      [&] {
        return Write{{change_notice(change)}, {}};
      },
      [](const std::exception_ptr& error) { return WriteOutcome::of(error); });
}

int PostgresDatabase::update_count(const char* sql, const std::string& key, const Change& change) {
  if (key.empty()) return 0;
  const int64_t n = write_announced(
      change, [&](Connection& conn) { return conn.run(sql, Params().text(key)).affected(); });
  // The interface counts in int; clamp rather than wrap for absurdly large revocations.
  return n > std::numeric_limits<int>::max() ? std::numeric_limits<int>::max()
                                             : static_cast<int>(n);
}

void PostgresDatabase::ping() {
  // One round trip on a pooled connection, the path every request's read takes; a connection
  // cut by a server restart is replaced once (read()).
  read([](Connection& conn) { conn.exec("SELECT 1"); });
}

std::vector<TableRows> PostgresDatabase::count_rows() {
  return read([&](Connection& conn) {
    // Counting every row of a large table takes longer than any request's statement may
    // (Options::statement_timeout); `latchkey migrate` runs it, not a request.
    Transaction tx(conn);
    conn.exec("SET LOCAL statement_timeout = 0");
    Result r = conn.run(count_rows_sql());
    tx.commit();
    std::vector<TableRows> out;
    for (std::size_t i = 0; i < kTableNames.size(); ++i) {
      out.push_back({std::string(kTableNames[i]), r.int64(0, static_cast<int>(i))});
    }
    return out;
  });
}

}  // namespace latchkey::store::postgres
