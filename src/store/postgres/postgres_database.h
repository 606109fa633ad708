// The shared storage backend: every store interface over one PostgreSQL database, which any
// number of latchkey processes (nodes) may use at once.
//
// Durability: a write returns (or its PendingWrite settles) once its COMMIT has returned, and
// every connection runs with synchronous_commit on (postgres_connection.h), so a token handed
// to a client survives a crash of the server or the database; the server itself must keep
// fsync on. A COMMIT whose outcome is unknown (the connection was lost while it was in flight)
// is reported as a failure, never as durable.
//
// Atomicity across nodes: every decision that must have one winner is one statement or one
// transaction whose row locks or unique index order the contenders: a redemption marks its code
// or refresh token used with a conditional UPDATE (`... AND NOT used`), so of two nodes exactly
// one changes the row, and saves the tokens it buys in the same transaction; ReplayStore::first_use
// records a key with one INSERT ... ON CONFLICT whose unique index decides, under a per-client
// advisory lock that keeps the quota exact. The writers of several nodes take the locks of the
// codes and refresh tokens their batches use up in one order (refresh tokens and codes found by
// hash by their order keys, then the codes found by id, which a batch redeems with one statement,
// by ascending id: tokens.cc), so they wait for each other rather than deadlock, and a
// batch the server cancels for a collision all the same is run again (group_commit.h).
//
// Row ids: TokenStore::allocate_id() takes blocks of 64 ids from the database's sequence
// `row_ids`, 16 blocks per round trip, and hands them out itself. Once half of those blocks are
// used, the next 16 are fetched by a writer thread, in the background; a caller waits for a
// round trip only when every block is used up (at the start, or after a burst the fetch could
// not keep up with), and never holds other callers while it does. Ids are unique in the
// database among token and code ids whichever node allocates them, and increasing within this
// process (each block lies above every block handed out before it). Across processes they are only
// roughly increasing: a node still using an older block appends rows below another node's newer
// ones, which costs a few index pages, not correctness. On open the sequence is moved above every
// stored id, should a row have been written with an id the sequence did not give.
//
// Thread safety: every method may be called from any thread. Each call borrows a connection
// from a bounded pool (connection_pool.h; a caller waits for a free one at most
// Options::pool_wait, then gets StoreError), and each statement runs for at most
// Options::statement_timeout, after which the server cancels it and the call gets StoreError. The
// queued writes go to Options::writers writer threads, each with a connection of its own
// (group_commit.h), and find_code_later's reads to one reader thread that borrows a pooled
// connection per batch (code_reader.h). Reads are retried once on a fresh connection when the one
// they got turns out to have been cut (a server restart); writes are not (their outcome is
// unknown), they fail with StoreError and the next call uses a fresh connection.
//
// Revocations by an empty family, code or user id revoke nothing (an empty key means "none",
// never "every token without one"). Text is compared byte for byte (equality, and ordering in
// the "C" collation whatever the database's), usernames ignoring ASCII case, as in SQLite.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "core/cond_var.h"
#include "core/mutex.h"
#include "store/postgres/change_listener.h"
#include "store/postgres/code_reader.h"
#include "store/postgres/connection_pool.h"
#include "store/postgres/group_commit.h"
#include "store/postgres/postgres_connection.h"
#include "store/postgres/write_units.h"
#include "store/stores.h"

namespace latchkey::store::postgres {

class PostgresDatabase final : public Database {
 public:
  struct Options {
    // Connections the pool may open (besides the writer's own one).
    std::size_t pool_size = 16;
    // How long a call waits for a free connection before it fails with StoreError.
    std::chrono::milliseconds pool_wait{5000};
    // Every connection's statement_timeout (SessionSettings): a statement running longer is
    // cancelled and its call fails with StoreError, so a hung query (a lock held elsewhere, a
    // server that stalls) gives its connection back within this. 0 keeps the server's setting.
    // Migrations and the row counts of `latchkey migrate` lift it for their own transaction.
    std::chrono::milliseconds statement_timeout{5000};
    // Writer threads, each with a connection of its own, that commit the queued writes
    // (group_commit.h). With two, one sends its batch while the other's COMMIT is flushed, but
    // each batch is about half as big, and where the CPU is the limit (the database on the same
    // few cores) that costs more than it overlaps (docs/deployment.md, "Pool sizing").
    std::size_t writers = 1;
  };

  // Connects with `conninfo` (a libpq URI, postgresql://..., or key=value string) and migrates
  // the database to the latest schema. Throws StoreError.
  PostgresDatabase(const std::string& conninfo, Options options);
  explicit PostgresDatabase(const std::string& conninfo) : PostgresDatabase(conninfo, Options{}) {}
  ~PostgresDatabase() override;

  // OrgStore (users_orgs.cc)
  void create_org(const Org& org) override;
  std::optional<Org> default_org() override;
  std::optional<Org> find_org(const std::string& id) override;

  // UserStore (users_orgs.cc)
  bool create_user(const User& user) override;
  std::optional<User> find_user_by_username(const std::string& username) override;
  std::optional<User> find_user(const std::string& id) override;
  std::vector<User> list_users() override;
  bool update_user_access(const std::string& user_id, const std::string& profile,
                          const std::vector<std::string>& permission_sets) override;
  bool set_user_active(const std::string& user_id, bool active) override;

  // AppStore (apps.cc)
  bool create_app(const App& app) override;
  std::optional<App> find_app(const std::string& client_id) override;
  std::vector<App> list_apps() override;
  bool update_secret_hash(const std::string& client_id, const std::string& hash) override;
  bool delete_app(const std::string& client_id) override;
  void add_preauthorization(const Preauthorization& p) override;
  std::vector<Preauthorization> preauthorizations(const std::string& client_id) override;
  bool remove_preauthorization(const Preauthorization& p) override;

  // CodeStore (codes.cc)
  void save_code(const AuthCode& code) override;
  std::shared_ptr<PendingWrite> save_code_later(const AuthCode& code) override;
  int64_t allocate_code_id() override { return allocate_id(); }
  std::optional<AuthCode> find_code(const SecretRef& ref) override;
  // Queued for the reader thread (code_reader.h), which reads the codes queued meanwhile with
  // one statement.
  [[nodiscard]] bool finds_codes_later() const override { return true; }
  void find_code_later(const SecretRef& ref, const CodeFound& done) override;

  // TokenStore (tokens.cc)
  void save_tokens(const std::vector<Token>& tokens) override;
  std::shared_ptr<PendingWrite> save_tokens_later(const std::vector<Token>& tokens) override;
  int64_t allocate_id() override;
  std::optional<Token> find_token(const SecretRef& ref) override;
  int revoke_token(const SecretRef& ref) override;
  int revoke_family(const std::string& family_id) override;
  int revoke_by_user(const std::string& user_id) override;
  int revoke_by_user_app(const std::string& user_id, const std::string& client_id) override;
  std::shared_ptr<PendingWrite> redeem_later(const Redemption& r,
                                             const std::vector<Token>& tokens) override;

  // Database (purge.cc)
  PurgeResult purge_expired(int64_t cutoff_ms, int max_rows, const PurgeCursor& from) override;

  // ConsentStore (consents.cc)
  std::optional<Consent> find_consent(const std::string& user_id,
                                      const std::string& client_id) override;
  void save_consent(const Consent& consent) override;
  std::vector<Consent> list_consents(const std::string& client_id) override;
  bool delete_consent(const std::string& user_id, const std::string& client_id) override;

  // KeyStore (keys.cc)
  void save_key(const SigningKeyRecord& key) override;
  std::vector<SigningKeyRecord> list_keys() override;

  // SessionStore (sessions.cc)
  void save_session(const Session& s) override;
  std::optional<Session> find_session(const std::string& session_hash) override;

  // ReplayStore (replay_keys.cc)
  Use first_use(const std::string& key, const std::string& client_id, int64_t expires_ms,
                int64_t now_ms, int64_t max_live_per_client) override;

  // AdminTokenStore (admin_tokens.cc)
  bool create_admin_token(const AdminToken& token) override;
  std::vector<AdminToken> list_admin_tokens() override;
  bool delete_admin_token(const std::string& name) override;

  // HealthStore (postgres_database.cc)
  void ping() override;

  // CopyStore (each in the file of its records; count_rows in postgres_database.cc)
  std::vector<Org> list_orgs() override;
  std::vector<Consent> list_all_consents() override;
  std::vector<AuthCode> codes_after(int64_t after_id, int limit) override;
  std::vector<Token> tokens_after(int64_t after_id, int limit) override;
  std::vector<Session> sessions_after(const std::string& after, int limit) override;
  std::vector<ReplayKey> replay_keys_after(const std::string& after, int limit) override;
  void save_replay_key(const ReplayKey& key) override;
  std::vector<TableRows> count_rows() override;
  bool restore(const Snapshot& snapshot) override;  // restore.cc

  // Database: LISTENs on a connection of its own (change_listener.h).
  std::unique_ptr<ChangeWatch> watch_changes(const ChangeHandlers& handlers) override;
  // ChangeBoard: queued for the writer, which sends it with the next batch it commits; never
  // waited for.
  void announce(const Change& change) override;

  // Connections the pool holds open now (tests: the pool's bound).
  [[nodiscard]] std::size_t open_connections() { return pool_.open_connections(); }

 private:
  // Runs `f(Connection&)` on a pooled connection, as one statement or one transaction f runs
  // itself.
  template <class F>
  auto write(F&& f) {
    return pool_.with(f);
  }
  // Runs `f(Connection&)` inside BEGIN ... COMMIT on a pooled connection; returns once the
  // COMMIT did.
  template <class F>
  auto transact(F&& f) {
    return pool_.with([&](Connection& conn) {
      Transaction tx(conn);
      if constexpr (std::is_void_v<decltype(f(conn))>) {
        f(conn);
        tx.commit();
      } else {
        auto out = f(conn);
        tx.commit();
        return out;
      }
    });
  }
  // Runs the read-only `f(Connection&)`; once more on a fresh connection if the connection was
  // lost under it (nothing was written, so trying again is safe).
  template <class F>
  auto read(F&& f) {
    try {
      return pool_.with(f);
    } catch (const ConnectionLost&) {
      return pool_.with(f);
    }
  }
  // Runs `f(Connection&)`, which returns how many rows it changed, and when it changed any
  // announces `change` to every server watching (change_listener.h) in the same transaction.
  template <class F>
  int64_t write_announced(const Change& change, F&& f) {
    return transact([&](Connection& conn) -> int64_t {
      const int64_t n = f(conn);
      if (n > 0) notify_change(conn, change);
      return n;
    });
  }
  // Runs one UPDATE with a single text key ($1) and returns the rows it changed, announcing
  // `change` if it changed any.
  int update_count(const char* sql, const std::string& key, const Change& change);
  // `tokens` with a (negative) id given to each row that has none; the same for a code.
  std::vector<Token> with_ids(const std::vector<Token>& tokens);
  AuthCode with_id(const AuthCode& code);
  // Queues the write `make_write()` returns for the writers; the PendingWrite settles with
  // `outcome(error)` once its batch has. A queued write never throws: what fails before it is
  // queued (allocating the rows' ids, a database that is closing) settles it failed at once.
  // `order_key` names the row the write locks first (GroupCommit::submit).
  std::shared_ptr<PendingWrite> queue(const std::function<Write()>& make_write,
                                      std::function<WriteOutcome(std::exception_ptr)> outcome,
                                      std::string order_key = {});
  // The codes of `ids` in one statement (CodeReader::ReadIds).
  std::vector<AuthCode> read_codes(const std::vector<int64_t>& ids);
  // One save_tokens_later call, in a unit of them (write_units.h).
  struct TokenSave {
    std::vector<Token> tokens;  // with their ids
    std::shared_ptr<PendingWrite> pending;
  };
  // One redeem_later of a code found by id (ref.id != 0), in a unit of them, and its outcome
  // once the unit has run.
  struct CodeRedemption {
    Redemption redemption;
    std::vector<Token> tokens;  // with their ids
    std::shared_ptr<PendingWrite> pending;
    bool redeemed = false;  // this unit used the code up, and saved `tokens`
    int revoked = 0;        // otherwise: the tokens of the code's first use it revoked
  };
  // The units' writes (tokens.cc): every token of a unit of saves in one INSERT; a unit's code
  // redemptions in one statement, each refused one handled as redeem_later handles it.
  static Write save_tokens_write(const WriteUnits<TokenSave>::Parts& parts);
  static Write redeem_codes_write(const WriteUnits<CodeRedemption>::Parts& parts);
  // What the unit's statement decided, given its result (the ids of the codes it used up) and
  // which parts it carried (`is_sent`, the first of each code): each part redeemed or refused,
  // and a refused one's earlier tokens revoked.
  static void settle_codes(Connection& conn, std::vector<CodeRedemption>& parts,
                           const std::vector<bool>& is_sent, const Result& used);
  // Moves the sequence above every id stored (see the header comment).
  void raise_ids_above_stored();
  // Adds the blocks `starts` (one fetch's, in descending order) after the spare ones: every
  // fetch's blocks lie above the blocks of earlier fetches, since one runs at a time.
  void add_blocks(const std::vector<int64_t>& starts) REQUIRES(ids_mu_);
  // Fetches blocks on the caller's thread (a pooled connection); their starts, descending.
  std::vector<int64_t> fetch_blocks_now() EXCLUDES(ids_mu_);
  // Queues a fetch of blocks for the writers, which add them once it is committed.
  void prefetch_blocks() REQUIRES(ids_mu_);

  const std::string conninfo_;
  const std::chrono::milliseconds pool_wait_;  // Options::pool_wait
  ConnectionPool pool_;
  std::unique_ptr<GroupCommit> writer_;  // set once the database is migrated
  // Token saves, and code redemptions by id, one unit of each per batch (write_units.h); they
  // outlive writer_, whose queued units use them.
  std::unique_ptr<WriteUnits<TokenSave>> token_saves_;
  std::unique_ptr<WriteUnits<CodeRedemption>> code_redemptions_;
  // Answers find_code_later; set after writer_, since what its callbacks do may queue writes.
  std::unique_ptr<CodeReader> reader_;
  Mutex ids_mu_;
  int64_t next_id_ GUARDED_BY(ids_mu_) = 0;    // the next id of the current block
  int64_t block_end_ GUARDED_BY(ids_mu_) = 0;  // one past the current block's last id
  // Blocks taken from the sequence and not yet used, their starts in descending order.
  std::vector<int64_t> spare_blocks_ GUARDED_BY(ids_mu_);
  // A fetch of blocks is under way (one at a time, so that each fetch's blocks lie above the
  // ones before); fetched_ is notified when it ends, with blocks or without.
  bool fetching_ GUARDED_BY(ids_mu_) = false;
  CondVar fetched_;
};

}  // namespace latchkey::store::postgres
