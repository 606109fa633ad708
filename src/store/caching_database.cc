#include "store/caching_database.h"

#include <algorithm>

namespace latchkey::store {

template <class Record>
std::optional<Record> CachingDatabase::Table<Record>::get(const std::string& key,
                                                          int64_t fresh_after_ms) {
  Shard& s = shard(key);
  MutexLock lock(s.mu);
  auto it = s.map.find(key);
  if (it == s.map.end() || it->second.loaded_ms < fresh_after_ms) return std::nullopt;
  return it->second.record;
}

template <class Record>
void CachingDatabase::Table<Record>::put(const std::string& key, Record record, int64_t now_ms,
                                         uint64_t loaded_at_generation) {
  Shard& s = shard(key);
  MutexLock lock(s.mu);
  if (generation() != loaded_at_generation) return;
  // Bounded memory without per-hit bookkeeping: a full shard drops one record to make room,
  // and a record still in use comes back on its next read. Starting the shard over instead
  // cost a pause (tens of thousands of records freed under the lock) and a burst of reads.
  if (s.map.size() >= max_per_shard_ && !s.map.contains(key)) evict_one(s.map, key);
  s.map.insert_or_assign(key, Entry{std::move(record), now_ms});
}

// Which record goes is as good as random (keys are hashes of random secrets, or ids): the first
// one found from the bucket the new key falls into. With the map's load factor at most 1 the
// search ends after a bucket or two.
template <class Record>
void CachingDatabase::Table<Record>::evict_one(std::unordered_map<std::string, Entry>& map,
                                               const std::string& incoming) {
  const std::size_t buckets = map.bucket_count();
  const std::size_t start = map.bucket(incoming);
  for (std::size_t i = 0; i < buckets; ++i) {
    const std::size_t b = (start + i) % buckets;
    if (map.bucket_size(b) > 0) {
      map.erase(map.begin(b)->first);
      return;
    }
  }
}

template <class Record>
void CachingDatabase::Table<Record>::erase(const std::string& key) {
  Shard& s = shard(key);
  MutexLock lock(s.mu);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  s.map.erase(key);
}

template <class Record>
void CachingDatabase::Table<Record>::clear() {
  generation_.fetch_add(1, std::memory_order_acq_rel);
  for (Shard& s : shards_) {
    MutexLock lock(s.mu);
    s.map.clear();
  }
}

CachingDatabase::CachingDatabase(Database& inner, const Clock& clock, int64_t max_age_ms,
                                 std::size_t max_entries, int64_t listening_max_age_ms)
    : inner_(inner),
      clock_(clock),
      max_age_ms_(max_age_ms),
      listening_max_age_ms_(std::max(listening_max_age_ms, max_age_ms)),
      current_max_age_ms_(max_age_ms),
      apps_(max_entries),
      users_(max_entries),
      orgs_(max_entries),
      tokens_(max_entries) {}

template <class Record, class Load>
std::optional<Record> CachingDatabase::cached(Table<Record>& table, const std::string& key,
                                              Load load) {
  const int64_t now = clock_.now_ms();
  const int64_t max_age = current_max_age_ms_.load(std::memory_order_acquire);
  if (auto hit = table.get(key, now - max_age)) return hit;
  const uint64_t generation = table.generation();
  std::optional<Record> loaded = load();
  if (loaded) table.put(key, *loaded, now, generation);
  return loaded;
}

void CachingDatabase::apply(const Change& change) {
  switch (change.kind) {
    case Change::Kind::app:
      apps_.erase(change.key);
      return;
    case Change::Kind::user:
      users_.erase(change.key);
      return;
    case Change::Kind::org:
      orgs_.erase(change.key);
      return;
    case Change::Kind::token:
      tokens_.erase(change.key);
      return;
    case Change::Kind::tokens:
      tokens_.clear();
      return;
    case Change::Kind::keys:      // not cached here: the key ring reloads itself
    case Change::Kind::throttle:  // no record
      return;
  }
}

void CachingDatabase::listening(bool on) {
  // The max age first: a copy loaded between the two steps is then judged by the new rule.
  current_max_age_ms_.store(on ? listening_max_age_ms_ : max_age_ms_, std::memory_order_release);
  clear_all();
}

void CachingDatabase::clear_all() {
  apps_.clear();
  users_.clear();
  orgs_.clear();
  tokens_.clear();
}

// ---- orgs and users
// -------------------------------------------------------------------------

void CachingDatabase::create_org(const Org& org) {
  inner_.create_org(org);
  orgs_.erase(org.id);
}

std::optional<Org> CachingDatabase::find_org(const std::string& id) {
  return cached(orgs_, id, [&] { return inner_.find_org(id); });
}

std::optional<User> CachingDatabase::find_user(const std::string& id) {
  return cached(users_, id, [&] { return inner_.find_user(id); });
}

bool CachingDatabase::update_user_access(const std::string& user_id, const std::string& profile,
                                         const std::vector<std::string>& permission_sets) {
  bool changed = inner_.update_user_access(user_id, profile, permission_sets);
  users_.erase(user_id);
  return changed;
}

bool CachingDatabase::set_user_active(const std::string& user_id, bool active) {
  bool changed = inner_.set_user_active(user_id, active);
  users_.erase(user_id);
  return changed;
}

// ---- apps
// -----------------------------------------------------------------------------------

bool CachingDatabase::create_app(const App& app) {
  const bool created = inner_.create_app(app);
  apps_.erase(app.client_id);
  return created;
}

std::optional<App> CachingDatabase::find_app(const std::string& client_id) {
  return cached(apps_, client_id, [&] { return inner_.find_app(client_id); });
}

bool CachingDatabase::update_secret_hash(const std::string& client_id, const std::string& hash) {
  bool changed = inner_.update_secret_hash(client_id, hash);
  apps_.erase(client_id);
  return changed;
}

bool CachingDatabase::delete_app(const std::string& client_id) {
  bool deleted = inner_.delete_app(client_id);
  apps_.erase(client_id);
  tokens_.clear();
  return deleted;
}

// ---- tokens
// ---------------------------------------------------------------------------------

void CachingDatabase::save_tokens(const std::vector<Token>& tokens) {
  inner_.save_tokens(tokens);
  cache_issued(tokens);
}

// Write-through for access tokens: one is usually presented soon after it is issued. A refresh
// token is presented when its access token has expired, long after a cached copy would have
// gone stale, so caching it would only cost a copy and push out records in use.
void CachingDatabase::cache_issued(const std::vector<Token>& tokens) {
  const int64_t now = clock_.now_ms();
  for (const Token& t : tokens) {
    if (t.kind == TokenKind::access) tokens_.put(t.token_hash, t, now, tokens_.generation());
  }
}

std::shared_ptr<PendingWrite> CachingDatabase::save_tokens_later(const std::vector<Token>& tokens) {
  auto pending = inner_.save_tokens_later(tokens);
  // Cached before it is durable: nobody holds these tokens until it is (their response waits
  // for the write), and if the write fails they are never handed out.
  cache_issued(tokens);
  return pending;
}

int64_t CachingDatabase::allocate_id() { return inner_.allocate_id(); }

// Keyed by hash, which names one token whatever its id; a cached row is returned only to a
// ref whose id matches it too (so a guessed id with a known hash finds nothing more here
// than in the store).
std::optional<Token> CachingDatabase::find_token(const SecretRef& ref) {
  auto t = cached(tokens_, ref.hash, [&] { return inner_.find_token(ref); });
  if (t && ref.id != 0 && t->id != ref.id) return std::nullopt;
  return t;
}

int CachingDatabase::revoke_token(const SecretRef& ref) {
  int n = inner_.revoke_token(ref);
  tokens_.erase(ref.hash);
  return n;
}

std::shared_ptr<PendingWrite> CachingDatabase::redeem_later(const Redemption& r,
                                                            const std::vector<Token>& tokens) {
  // A rotated refresh token changes; until the write settles a cached copy may still say it is
  // not rotated, which is harmless: the write, not the cache, decides a redemption.
  if (r.kind == Redemption::Kind::refresh_token) tokens_.erase(r.ref.hash);
  auto outer = std::make_shared<PendingWrite>();
  std::vector<Token> access;
  for (const Token& t : tokens) {
    if (t.kind == TokenKind::access) access.push_back(t);
  }
  inner_.redeem_later(r, tokens)->on_settled(
      [this, outer, r, access = std::move(access)](const WriteOutcome& outcome) {
        if (r.kind == Redemption::Kind::refresh_token) tokens_.erase(r.ref.hash);
        if (outcome.is_durable()) {
          cache_issued(access);
        } else {
          // An earlier use's tokens were revoked by code or family: names the cache cannot key.
          tokens_.clear();
        }
        outer->settle(outcome);
      });
  return outer;
}

// Revocations by family, code or user reach tokens the cache cannot name by
// key; they are rare (a replayed code, a reused refresh token, an admin
// action), so the whole token table goes.
int CachingDatabase::revoke_family(const std::string& family_id) {
  int n = inner_.revoke_family(family_id);
  tokens_.clear();
  return n;
}

int CachingDatabase::revoke_by_user(const std::string& user_id) {
  int n = inner_.revoke_by_user(user_id);
  tokens_.clear();
  return n;
}

int CachingDatabase::revoke_by_user_app(const std::string& user_id, const std::string& client_id) {
  int n = inner_.revoke_by_user_app(user_id, client_id);
  tokens_.clear();
  return n;
}

}  // namespace latchkey::store
