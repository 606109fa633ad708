// Storage interfaces, one per concern. Implementations: store/sqlite (the embedded default) and
// store/postgres (shared by several nodes). All methods are thread-safe. Methods return
// std::nullopt / false for "not found"; they throw store::StoreError only for I/O failure (disk
// full, corrupt file), which the HTTP layer turns into a 500-free 503 "temporarily_unavailable".
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "store/change.h"
#include "store/pending_write.h"
#include "store/records.h"

namespace latchkey::store {

struct Snapshot;  // store/snapshot.h

struct StoreError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class OrgStore {
 public:
  virtual ~OrgStore() = default;
  virtual void create_org(const Org& org) = 0;
  // The first (default) org, if the database has one.
  virtual std::optional<Org> default_org() = 0;
  virtual std::optional<Org> find_org(const std::string& id) = 0;
};

class UserStore {
 public:
  virtual ~UserStore() = default;
  // Returns false if the username is taken.
  virtual bool create_user(const User& user) = 0;
  virtual std::optional<User> find_user_by_username(const std::string& username) = 0;
  virtual std::optional<User> find_user(const std::string& id) = 0;
  virtual std::vector<User> list_users() = 0;
  // Replaces the user's profile and permission sets; false if there is no such user.
  virtual bool update_user_access(const std::string& user_id, const std::string& profile,
                                  const std::vector<std::string>& permission_sets) = 0;
  // Activates or deactivates; an inactive user can use no flow. False if no such user.
  virtual bool set_user_active(const std::string& user_id, bool active) = 0;
};

class AppStore {
 public:
  virtual ~AppStore() = default;
  // Returns false, and stores nothing, if the client id is taken.
  virtual bool create_app(const App& app) = 0;
  virtual std::optional<App> find_app(const std::string& client_id) = 0;
  virtual std::vector<App> list_apps() = 0;
  virtual bool update_secret_hash(const std::string& client_id, const std::string& hash) = 0;
  // Deletes the app with its pre-authorizations and users' approvals of it, and revokes every
  // token issued to it, in one write; false (and nothing changed) if there is no such app. Its
  // client id may then be registered again.
  virtual bool delete_app(const std::string& client_id) = 0;
  virtual void add_preauthorization(const Preauthorization& p) = 0;
  virtual std::vector<Preauthorization> preauthorizations(const std::string& client_id) = 0;
  // False if there was no such pre-authorization.
  virtual bool remove_preauthorization(const Preauthorization& p) = 0;
};

class CodeStore {
 public:
  virtual ~CodeStore() = default;
  // A fresh row id for a code that will carry it (as TokenStore::allocate_id()).
  virtual int64_t allocate_code_id() = 0;
  // Saves the code; one with id 0 gets a negative id (found by hash).
  virtual void save_code(const AuthCode& code) = 0;
  // The same write, queued (as TokenStore::save_tokens_later): the code may be handed out
  // only once it is durable.
  virtual std::shared_ptr<PendingWrite> save_code_later(const AuthCode& code) = 0;
  // The code as stored (nullopt if unknown or the hash does not match). It is used up only by
  // the write that saves its tokens (TokenStore::redeem_later).
  virtual std::optional<AuthCode> find_code(const SecretRef& ref) = 0;

  // find_code's answer, or the StoreError it would have thrown (`error` set, `code` nullopt).
  using CodeFound = std::function<void(std::optional<AuthCode> code, std::exception_ptr error)>;
  // True when find_code_later answers later, on a thread of the store's, rather than at once.
  [[nodiscard]] virtual bool finds_codes_later() const { return false; }
  // The same read without waiting for it: `done` is called exactly once with what find_code
  // returns or throws. A backend over the network queues the read and answers it on a reader
  // thread of its own, in one statement with the reads queued meanwhile, so that no thread waits
  // on a round trip per code (`done` must then not block: it holds up the reads after it). This
  // default answers at once, on the calling thread.
  virtual void find_code_later(const SecretRef& ref, const CodeFound& done) {
    std::optional<AuthCode> code;
    try {
      code = find_code(ref);
    } catch (...) {
      done(std::nullopt, std::current_exception());
      return;
    }
    done(std::move(code), nullptr);
  }
};

class TokenStore {
 public:
  virtual ~TokenStore() = default;
  // Saves every token in one durable transaction (an access token and its refresh token
  // are either both stored or neither).
  virtual void save_tokens(const std::vector<Token>& tokens) = 0;
  // The same write, queued: returns at once, and the PendingWrite says when it is durable (or
  // that it failed). A token may be handed out only once that has happened. A backend that
  // cannot defer a write makes it at once and returns it settled.
  virtual std::shared_ptr<PendingWrite> save_tokens_later(const std::vector<Token>& tokens) = 0;
  // Saves `tokens` if and only if `r` is not used up yet (nor, for a refresh token, revoked),
  // marking it used in the same atomic write; otherwise revokes what `r.revoke_key` names and
  // settles with WriteOutcome::already_redeemed. For a code (RFC 6749 §4.1.2) that is every
  // token minted from the code and every token of the refresh families those started,
  // including tokens a later refresh added to them; for a refresh token (RFC 9700 §4.14.2), its
  // family. An empty revoke_key revokes nothing. The stored row decides, not the copy the
  // caller read (another process may have changed it since, behind a cache). Queued like
  // save_tokens_later(): of two redemptions of the same code or refresh token, whatever process
  // makes them, exactly one settles durable.
  virtual std::shared_ptr<PendingWrite> redeem_later(const Redemption& r,
                                                     const std::vector<Token>& tokens) = 0;
  // A fresh row id for a token that will carry it: positive, unique in this database among
  // token and code ids, and increasing (so new rows are appended), whatever thread asks.
  virtual int64_t allocate_id() = 0;
  // The token `ref` names, if its hash matches (compared in constant time).
  virtual std::optional<Token> find_token(const SecretRef& ref) = 0;
  // Revocations return how many tokens they revoked.
  virtual int revoke_token(const SecretRef& ref) = 0;
  virtual int revoke_family(const std::string& family_id) = 0;
  virtual int revoke_by_user(const std::string& user_id) = 0;
  // Every token one user holds for one app (the user's approval of the app was revoked).
  virtual int revoke_by_user_app(const std::string& user_id, const std::string& client_id) = 0;
};

class ConsentStore {
 public:
  virtual ~ConsentStore() = default;
  virtual std::optional<Consent> find_consent(const std::string& user_id,
                                              const std::string& client_id) = 0;
  // Inserts or replaces.
  virtual void save_consent(const Consent& consent) = 0;
  // Every user's approval of one app, oldest first.
  virtual std::vector<Consent> list_consents(const std::string& client_id) = 0;
  // False if the user had not approved the app.
  virtual bool delete_consent(const std::string& user_id, const std::string& client_id) = 0;
};

class KeyStore {
 public:
  virtual ~KeyStore() = default;
  virtual void save_key(const SigningKeyRecord& key) = 0;
  // Every key, newest first (active and retired).
  virtual std::vector<SigningKeyRecord> list_keys() = 0;
};

class SessionStore {
 public:
  virtual ~SessionStore() = default;
  virtual void save_session(const Session& s) = 0;
  virtual std::optional<Session> find_session(const std::string& session_hash) = 0;
};

// Single-use identifiers of assertions (RFC 7523 §3 item 7 jti, RFC 7522 §3 item 7 assertion
// IDs), remembered in the database until the assertion expires: a replay is refused after a
// restart and by every process sharing the database. One client's identifiers cannot crowd out
// another's: each client holds at most `max_live_per_client` live ones.
class ReplayStore {
 public:
  enum class Use {
    first,      // recorded now: the caller may accept the assertion
    replayed,   // `key` is recorded and has not expired
    over_quota  // the client already holds max_live_per_client live keys; nothing recorded
  };
  virtual ~ReplayStore() = default;
  // Records `key` (any text; the backend keeps a digest) for `client_id` until `expires_ms`, in
  // one atomic write, unless it is already recorded with an expiry after `now_ms`. A recorded
  // key whose expiry has passed counts as unseen. Expired rows are purged along the way, a few
  // per call.
  virtual Use first_use(const std::string& key, const std::string& client_id, int64_t expires_ms,
                        int64_t now_ms, int64_t max_live_per_client) = 0;
};

// The admin API's credentials (docs/admin-api.md "Tokens"). Not on any OAuth request's path:
// read once per admin request, so a revoked token is refused by the very next request.
class AdminTokenStore {
 public:
  virtual ~AdminTokenStore() = default;
  // Returns false, and stores nothing, if the name is taken.
  virtual bool create_admin_token(const AdminToken& token) = 0;
  // Every admin token, ordered by name (byte order).
  virtual std::vector<AdminToken> list_admin_tokens() = 0;
  // Deletes the token of that name; false if there was none.
  virtual bool delete_admin_token(const std::string& name) = 0;
};

// Whether the database answers at all, for the readiness probe (GET /readyz, behaviour §4).
class HealthStore {
 public:
  virtual ~HealthStore() = default;
  // One trivial read, the cheapest round trip the backend has (PostgreSQL: SELECT 1 on a pooled
  // connection; SQLite: a read of the schema on a read connection). Returns once it was
  // answered; throws StoreError when it was not. It waits no longer than the backend's own
  // bounds (a pooled connection's wait, the connect and statement timeouts): a caller that
  // must answer sooner bounds its own wait (app/readiness.h).
  virtual void ping() = 0;
};

// Reading a database out whole and writing rows in as they were stored, for copying one
// database into another (`latchkey migrate`, store/copy.h). Not on any request's path. Tables
// that may be large are read in pages, so a copy holds one page in memory whatever their size.
class CopyStore {
 public:
  virtual ~CopyStore() = default;
  // Every org, in creation order (default_org() first).
  virtual std::vector<Org> list_orgs() = 0;
  // Every user's approval of every app, ordered by client id (byte order), then as
  // list_consents() orders one app's.
  virtual std::vector<Consent> list_all_consents() = 0;
  // Up to `limit` codes / tokens with an id above `after_id`, in id order (those found by hash,
  // whose ids are negative, first). Page with the last id returned until a page comes back
  // short; INT64_MIN starts at the beginning.
  virtual std::vector<AuthCode> codes_after(int64_t after_id, int limit) = 0;
  virtual std::vector<Token> tokens_after(int64_t after_id, int limit) = 0;
  // Up to `limit` sessions / replay keys whose key sorts after `after` in byte order, in that
  // order; "" starts at the beginning.
  virtual std::vector<Session> sessions_after(const std::string& after, int limit) = 0;
  virtual std::vector<ReplayKey> replay_keys_after(const std::string& after, int limit) = 0;
  // Records `key` exactly as given (its digest is not taken again), so that first_use() of the
  // identifier it came from is a replay until it expires. A key already recorded is a
  // StoreError.
  virtual void save_replay_key(const ReplayKey& key) = 0;
  // The rows of every table latchkey keeps, each table named once, always in this order: orgs,
  // users, apps, preauthorizations, consents, signing_keys, auth_codes, tokens, sessions,
  // replay_keys.
  virtual std::vector<TableRows> count_rows() = 0;
  // Writes every record of `snapshot` as given (store/snapshot.h), in one transaction: all of
  // them or none. False, writing nothing, when the database holds any row of any table
  // (count_rows(), read in the same transaction). Throws StoreError, having written nothing,
  // when a record is refused: a username or client id given twice, or a record naming an org,
  // user or app that is neither stored nor given.
  [[nodiscard]] virtual bool restore(const Snapshot& snapshot) = 0;
};

// Where a purge of expired rows has got to (Database::purge_expired); a default-constructed
// cursor starts a pass at the beginning.
struct PurgeCursor {
  int table = 0;                 // 0: authorization codes, 1: tokens; 2: the pass is over
  int64_t after_id = INT64_MIN;  // rows of that table with a larger id are still to be examined
};

struct PurgeResult {
  int deleted = 0;
  PurgeCursor next;        // where the next call goes on
  bool pass_done = false;  // every table examined to its end; `next` starts a new pass
};

// Where a process announces what other processes sharing its database must hear of without a
// record to read: failed logins and client secrets (oauth/throttle_relay.h). Records' own changes
// are announced by the writes that make them (change.h). Fire and forget: announce() never
// blocks on the database and never throws; an announcement lost with its connection is lost.
class ChangeBoard {
 public:
  virtual ~ChangeBoard() = default;
  virtual void announce(const Change& change) = 0;
};

// The stores a server uses, each by its concern: what the composition root hands each service.
// Filled from one backend (of()), or with a cache in front of some (CachingDatabase::stores()).
// Holds references: the stores must outlive it and whatever it was passed to.
struct Stores {
  OrgStore& orgs;
  UserStore& users;
  AppStore& apps;
  CodeStore& codes;
  TokenStore& tokens;
  ConsentStore& consents;
  KeyStore& keys;
  SessionStore& sessions;
  ReplayStore& replays;
  HealthStore& health;
  ChangeBoard& board;
};

// Everything a backend provides, for the composition root.
class Database : public OrgStore,
                 public UserStore,
                 public AppStore,
                 public CodeStore,
                 public TokenStore,
                 public ConsentStore,
                 public KeyStore,
                 public SessionStore,
                 public ReplayStore,
                 public HealthStore,
                 public AdminTokenStore,
                 public CopyStore,
                 public ChangeBoard {
 public:
  ~Database() override = default;

  // Deletes at most `max_rows` rows that expired before `cutoff_ms` and that nothing can
  // still need, in one write that examines at most `max_rows` rows whatever the size of the
  // tables: sessions first (by their expiry), then codes and tokens in id (that is, issue)
  // order from `from` on, a deleted session counting as an examined row:
  //  - browser sessions that expired;
  //  - access and refresh tokens that expired (expires_ms != 0): both are refused as expired
  //    before anything else is looked at (a rotated refresh token's reuse detection included,
  //    RFC 9700 §4.14.2), so an unknown token is answered exactly as the expired one was.
  //    Tokens that never expire stay, revoked and rotated ones included (reuse detection);
  //  - authorization codes that expired, unless used and some token issued from the code is
  //    neither revoked nor expired: a replay of such a code must still revoke those tokens
  //    (RFC 6749 §4.1.2).
  // Call again with `next` until `pass_done`.
  virtual PurgeResult purge_expired(int64_t cutoff_ms, int max_rows, const PurgeCursor& from) = 0;

  // Starts watching the changes other processes make to records a server caches (change.h),
  // for a backend several processes share; `handlers` run on the watch's own thread until the
  // returned watch is destroyed. nullptr from a backend that announces nothing (SQLite: one
  // server per database file, whose cache re-reads what it holds after its max age instead).
  virtual std::unique_ptr<ChangeWatch> watch_changes(const ChangeHandlers& /*handlers*/) {
    return nullptr;
  }

  // ChangeBoard: a backend used by one server at a time has nobody to tell.
  void announce(const Change& /*change*/) override {}

  // Every concern served by this backend.
  Stores stores() {
    return {*this, *this, *this, *this, *this, *this, *this, *this, *this, *this, *this};
  }
};

}  // namespace latchkey::store
