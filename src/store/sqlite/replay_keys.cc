// ReplayStore: single-use assertion identifiers, kept until their assertion expires.
#include "crypto/crypto.h"
#include "store/sqlite/sqlite_database.h"

namespace latchkey::store::sqlite {
namespace {

// Expired rows deleted per call: enough to keep up with the inserts (each call adds at most
// one row), few enough that no single write does a long scan.
constexpr int kPurgePerCall = 8;

}  // namespace

ReplayStore::Use SqliteDatabase::first_use(const std::string& key, const std::string& client_id,
                                           int64_t expires_ms, int64_t now_ms,
                                           int64_t max_live_per_client) {
  // The digest bounds what an attacker-chosen identifier costs (32 KiB of jti, 64 hex digits).
  const std::string digest = crypto::sha256_hex(key);
  return write([&](Connection& conn) -> Use {
    conn.prepare(
            "DELETE FROM replay_keys WHERE key IN"
            " (SELECT key FROM replay_keys WHERE expires_ms <= ?1 LIMIT ?2)")
        .bind_int(1, now_ms)
        .bind_int(2, kPurgePerCall)
        .run();
    // A live row for this key: a replay, whatever the quota says.
    Statement seen = conn.prepare("SELECT 1 FROM replay_keys WHERE key = ?1 AND expires_ms > ?2");
    seen.bind_text(1, digest).bind_int(2, now_ms);
    if (seen.step()) return Use::replayed;
    // Counting stops at the quota, so a full client costs at most that many index entries.
    Statement live = conn.prepare(
        "SELECT count(*) FROM (SELECT 1 FROM replay_keys WHERE client_id = ?1"
        " AND expires_ms > ?2 LIMIT ?3)");
    live.bind_text(1, client_id).bind_int(2, now_ms).bind_int(3, max_live_per_client);
    if (live.step() && live.column_int(0) >= max_live_per_client) return Use::over_quota;
    // Inserts, or takes over an expired row of the same key (not purged yet). Within this one
    // write transaction nothing else can record the key in between, so one change means first.
    conn.prepare(
            "INSERT INTO replay_keys (key, client_id, expires_ms) VALUES (?1, ?2, ?3)"
            " ON CONFLICT (key) DO UPDATE SET client_id = excluded.client_id,"
            " expires_ms = excluded.expires_ms WHERE replay_keys.expires_ms <= ?4")
        .bind_text(1, digest)
        .bind_text(2, client_id)
        .bind_int(3, expires_ms)
        .bind_int(4, now_ms)
        .run();
    return conn.changes() == 1 ? Use::first : Use::replayed;
  });
}

std::vector<ReplayKey> SqliteDatabase::replay_keys_after(const std::string& after, int limit) {
  return read([&](Connection& conn) -> std::vector<ReplayKey> {
    Statement st = conn.prepare(
        "SELECT key, client_id, expires_ms FROM replay_keys WHERE key > ?1 ORDER BY key LIMIT ?2");
    st.bind_text(1, after).bind_int(2, limit);
    std::vector<ReplayKey> out;
    while (st.step()) out.push_back({st.column_text(0), st.column_text(1), st.column_int(2)});
    return out;
  });
}

void SqliteDatabase::save_replay_key(const ReplayKey& key) {
  write([&](Connection& conn) {
    // Plain INSERT: a key already recorded fails loudly rather than changing its expiry.
    conn.prepare("INSERT INTO replay_keys (key, client_id, expires_ms) VALUES (?1, ?2, ?3)")
        .bind_text(1, key.key)
        .bind_text(2, key.client_id)
        .bind_int(3, key.expires_ms)
        .run();
  });
}

}  // namespace latchkey::store::sqlite
