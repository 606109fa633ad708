// A read cache in front of any backend, for the records every request reads:
// apps (client authentication), users and orgs (who a token acts for) and
// tokens (validation at protected endpoints and introspection). Served from
// memory, a token check costs no database round trip. It implements only those four
// concerns; stores() hands out the backend itself for the rest.
//
// Coherence (docs/deployment.md "What each node caches"). Writes made through this object
// update or drop the cached records before they return, so within the serving process a
// revocation, a rotation or a changed app is seen by the very next request. Writes made
// elsewhere (the CLI, another node sharing PostgreSQL) are seen:
//  - while the server hears the backend's announcements (apply() and listening(true), fed by
//    Database::watch_changes): as soon as the announcement arrives, milliseconds after the
//    other process's COMMIT; a cached copy is then re-read only after `listening_max_age_ms`
//    (default 60 s), which bounds what a change made behind latchkey's back (SQL typed by
//    hand) can go unseen;
//  - otherwise (SQLite, whose CLI announces nothing, or a watch that lost its connection):
//    once the cached copy is older than `max_age_ms` (default 1 s).
// Only records that exist are cached, so unknown tokens cannot fill the cache, and each table
// holds at most about `max_entries` records (a full shard drops one to make room).
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/clock.h"
#include "core/mutex.h"
#include "store/stores.h"

namespace latchkey::store {

class CachingDatabase final : public OrgStore,
                              public UserStore,
                              public AppStore,
                              public TokenStore {
 public:
  CachingDatabase(Database& inner, const Clock& clock, int64_t max_age_ms = 1000,
                  std::size_t max_entries = 50'000, int64_t listening_max_age_ms = 60'000);

  // An announcement from another process (store/change.h): drops the cached copies it names.
  void apply(const Change& change);
  // Whether announcements are being heard from now on. Either way everything cached is dropped:
  // on true, because what was announced while nobody listened was missed; on false, so that
  // the short max age applies to every copy from now on.
  void listening(bool on);

  // The backend's stores with this cache in front of the four it caches; codes, consents, keys,
  // sessions, replay keys and the health check go to the backend directly (nothing else is read
  // on every request, a single-use record must never be served from a copy, and a readiness
  // probe must reach the database).
  Stores stores() {
    return {*this, *this, *this, inner_, *this, inner_, inner_, inner_, inner_, inner_, inner_};
  }

  // OrgStore
  void create_org(const Org& org) override;
  std::optional<Org> default_org() override { return inner_.default_org(); }
  std::optional<Org> find_org(const std::string& id) override;

  // UserStore
  bool create_user(const User& user) override { return inner_.create_user(user); }
  std::optional<User> find_user_by_username(const std::string& username) override {
    return inner_.find_user_by_username(username);
  }
  std::optional<User> find_user(const std::string& id) override;
  std::vector<User> list_users() override { return inner_.list_users(); }
  bool update_user_access(const std::string& user_id, const std::string& profile,
                          const std::vector<std::string>& permission_sets) override;
  bool set_user_active(const std::string& user_id, bool active) override;

  // AppStore
  bool create_app(const App& app) override;
  std::optional<App> find_app(const std::string& client_id) override;
  std::vector<App> list_apps() override { return inner_.list_apps(); }
  bool update_secret_hash(const std::string& client_id, const std::string& hash) override;
  // Drops the app and every cached token (its tokens are revoked).
  bool delete_app(const std::string& client_id) override;
  void add_preauthorization(const Preauthorization& p) override { inner_.add_preauthorization(p); }
  std::vector<Preauthorization> preauthorizations(const std::string& client_id) override {
    return inner_.preauthorizations(client_id);
  }
  bool remove_preauthorization(const Preauthorization& p) override {
    return inner_.remove_preauthorization(p);
  }

  // TokenStore. A cached copy of a purged token is an expired token, refused as such, so the
  // backend's purge needs nothing dropped here.
  void save_tokens(const std::vector<Token>& tokens) override;
  std::shared_ptr<PendingWrite> save_tokens_later(const std::vector<Token>& tokens) override;
  int64_t allocate_id() override;
  std::optional<Token> find_token(const SecretRef& ref) override;
  int revoke_token(const SecretRef& ref) override;
  std::shared_ptr<PendingWrite> redeem_later(const Redemption& r,
                                             const std::vector<Token>& tokens) override;
  int revoke_family(const std::string& family_id) override;
  int revoke_by_user(const std::string& user_id) override;
  int revoke_by_user_app(const std::string& user_id, const std::string& client_id) override;

 private:
  // One table of cached records: sharded so that threads validating different
  // tokens do not queue on one lock.
  template <class Record>
  class Table {
   public:
    explicit Table(std::size_t max_entries) : max_per_shard_(max_entries / kShards + 1) {}
    std::optional<Record> get(const std::string& key, int64_t fresh_after_ms);
    // Bumped by every erase() and clear(). A record loaded before a change must
    // not be put back after the change dropped it: put() with the generation
    // read before the load stores nothing if it moved meanwhile.
    uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
    void put(const std::string& key, Record record, int64_t now_ms, uint64_t loaded_at_generation);
    void erase(const std::string& key);
    void clear();

   private:
    static constexpr std::size_t kShards = 16;
    struct Entry {
      Record record;
      int64_t loaded_ms;
    };
    static void evict_one(std::unordered_map<std::string, Entry>& map, const std::string& incoming);
    struct Shard {
      Mutex mu;
      std::unordered_map<std::string, Entry> map GUARDED_BY(mu);
    };
    Shard& shard(const std::string& key) {
      return shards_[std::hash<std::string>{}(key) % kShards];
    }
    std::size_t max_per_shard_;
    std::atomic<uint64_t> generation_{0};
    std::array<Shard, kShards> shards_;
  };

  void cache_issued(const std::vector<Token>& tokens);
  void clear_all();

  // Looks `key` up in `table`, loading and caching it with `load` when absent
  // or stale.
  template <class Record, class Load>
  std::optional<Record> cached(Table<Record>& table, const std::string& key, Load load);

  Database& inner_;
  const Clock& clock_;
  const int64_t max_age_ms_;
  const int64_t listening_max_age_ms_;
  std::atomic<int64_t> current_max_age_ms_;  // one of the two above
  Table<App> apps_;
  Table<User> users_;
  Table<Org> orgs_;
  Table<Token> tokens_;
};

}  // namespace latchkey::store
