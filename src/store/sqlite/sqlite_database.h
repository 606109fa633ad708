// The embedded storage backend: every store interface over one SQLite file in WAL mode.
//
// Durability: synchronous=FULL, so a token returned to a client after save_tokens() survives
// kill -9 and power loss. Atomicity across processes sharing the file comes from sqlite's file
// locks (every write batch is one IMMEDIATE transaction).
//
// Thread safety: every method may be called from any thread. Writes go to one writer thread
// that commits them in batches (group_commit.h): a write method returns once its batch is
// durable, and each write is atomic on its own. Reads use a small pool of read-only
// connections (reader_pool.h) and never wait for a commit in progress. A private in-memory
// database (":memory:") has a single connection behind a mutex instead: nothing to fsync, and
// a second connection would see a different database.
//
// Revocations by an empty family, code or user id revoke nothing (an empty key means "none",
// never "every token without one").
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

#include "core/mutex.h"
#include "store/sqlite/checkpointer.h"
#include "store/sqlite/group_commit.h"
#include "store/sqlite/reader_pool.h"
#include "store/sqlite/sqlite_connection.h"
#include "store/stores.h"

namespace latchkey::store::sqlite {

class SqliteDatabase final : public Database {
 public:
  // Opens or creates the database at `path` (":memory:" for a private in-memory one) and
  // migrates it to the latest schema. Throws StoreError.
  explicit SqliteDatabase(const std::string& path);
  ~SqliteDatabase() override;

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

  // TokenStore (tokens.cc)
  void save_tokens(const std::vector<Token>& tokens) override;
  std::shared_ptr<PendingWrite> save_tokens_later(const std::vector<Token>& tokens) override;
  int64_t allocate_id() override;
  std::optional<Token> find_token(const SecretRef& ref) override;
  int revoke_token(const SecretRef& ref) override;
  int revoke_family(const std::string& family_id) override;
  int revoke_by_user(const std::string& user_id) override;
  int revoke_by_user_app(const std::string& user_id, const std::string& client_id) override;

  // Database (tokens.cc)
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

  // HealthStore (sqlite_database.cc)
  void ping() override;

  // CopyStore (each in the file of its records; count_rows in sqlite_database.cc)
  std::vector<Org> list_orgs() override;
  std::vector<Consent> list_all_consents() override;
  std::vector<AuthCode> codes_after(int64_t after_id, int limit) override;
  std::vector<Token> tokens_after(int64_t after_id, int limit) override;
  std::vector<Session> sessions_after(const std::string& after, int limit) override;
  std::vector<ReplayKey> replay_keys_after(const std::string& after, int limit) override;
  void save_replay_key(const ReplayKey& key) override;
  std::vector<TableRows> count_rows() override;
  bool restore(const Snapshot& snapshot) override;  // restore.cc

 private:
  // Runs one UPDATE with a single text key and returns the rows it changed (for revocations).
  int update_count(const char* sql, const std::string& key);
  // Runs one UPDATE of the row `ref` names (?1 id, ?2 hash); returns the rows it changed.
  int update_ref(const char* sql, const SecretRef& ref);
  // `tokens` with a (negative) id given to each row that has none; the same for a code.
  std::vector<Token> with_ids(const std::vector<Token>& tokens);
  AuthCode with_id(const AuthCode& code);
  // Seeds allocate_id() above every id already in the file.
  void load_last_token_id();

  // Runs `f(Connection&)` as one atomic write and returns its result once durable.
  template <class F>
  auto write(F&& f) -> std::invoke_result_t<F&, Connection&> {
    using R = std::invoke_result_t<F&, Connection&>;
    if constexpr (std::is_void_v<R>) {
      write_work([&](Connection& c) { f(c); });
    } else {
      std::optional<R> out;
      write_work([&](Connection& c) { out.emplace(f(c)); });
      return std::move(*out);
    }
  }
  void write_work(const std::function<void(Connection&)>& work);
  // Runs a write made at once (an in-memory database's queued write): its outcome, a
  // StoreError settling it failed rather than escaping.
  template <class F>
  static WriteOutcome at_once(F&& f) {
    try {
      f();
      return {};
    } catch (const StoreError& e) {
      return WriteOutcome::failed_because(e.what());
    }
  }

  // Runs `f(Connection&)` on a read connection (committed data only).
  template <class F>
  auto read(F&& f) -> std::invoke_result_t<F&, Connection&> {
    if (memory_) {
      MutexLock lock(memory_mu_);
      return f(*memory_);
    }
    return readers_->with(f);
  }

  // File databases: the writer and the readers. In-memory: one connection and its mutex.
  // The checkpointer is declared first so that it outlives the writer, whose commits call it.
  std::unique_ptr<Checkpointer> checkpointer_;
  std::unique_ptr<GroupCommit> writer_;
  std::unique_ptr<ReaderPool> readers_;
  Mutex memory_mu_;
  // Set once by the constructor; the connection it points to is used under memory_mu_.
  std::unique_ptr<Connection> memory_ PT_GUARDED_BY(memory_mu_);
  std::atomic<int64_t> last_token_id_{0};
};

}  // namespace latchkey::store::sqlite
