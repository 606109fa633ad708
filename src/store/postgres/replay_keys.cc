// ReplayStore: single-use assertion identifiers, kept until their assertion expires.
#include "crypto/crypto.h"
#include "store/postgres/postgres_database.h"

namespace latchkey::store::postgres {
namespace {

// Expired rows deleted per call: enough to keep up with the inserts (each call adds at most
// one row), few enough that no single write does a long scan.
constexpr int64_t kPurgePerCall = 8;

}  // namespace

ReplayStore::Use PostgresDatabase::first_use(const std::string& key, const std::string& client_id,
                                             int64_t expires_ms, int64_t now_ms,
                                             int64_t max_live_per_client) {
  // The digest bounds what an attacker-chosen identifier costs (32 KiB of jti, 64 hex digits).
  const std::string digest = crypto::sha256_hex(key);
  return transact([&](Connection& conn) -> Use {
    // One client's first uses take turns, on every node, so that two of them cannot both pass
    // the quota check below with one slot left. Released at COMMIT.
    conn.run("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", Params().text(client_id));
    // Rows another node is purging are skipped rather than waited for.
    conn.run(
        "DELETE FROM replay_keys WHERE key IN (SELECT key FROM replay_keys"
        " WHERE expires_ms <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
        Params().int64(now_ms).int64(kPurgePerCall));
    // A live row for this key: a replay, whatever the quota says.
    if (conn.run("SELECT 1 FROM replay_keys WHERE key = $1 AND expires_ms > $2",
                 Params().text(digest).int64(now_ms))
            .rows() > 0) {
      return Use::replayed;
    }
    // Counting stops at the quota, so a full client costs at most that many index entries.
    Result live = conn.run(
        "SELECT count(*) FROM (SELECT 1 FROM replay_keys WHERE client_id = $1"
        " AND expires_ms > $2 LIMIT $3) live",
        Params().text(client_id).int64(now_ms).int64(max_live_per_client));
    if (live.int64(0, 0) >= max_live_per_client) return Use::over_quota;
    // Inserts, or takes over an expired row of the same key (not purged yet). The key's unique
    // index decides between contenders on any nodes: the later one waits for the earlier one's
    // transaction, then finds a live row and changes nothing.
    return conn.run(
                   "INSERT INTO replay_keys (key, client_id, expires_ms) VALUES ($1, $2, $3)"
                   " ON CONFLICT (key) DO UPDATE SET client_id = excluded.client_id,"
                   " expires_ms = excluded.expires_ms WHERE replay_keys.expires_ms <= $4",
                   Params().text(digest).text(client_id).int64(expires_ms).int64(now_ms))
                       .affected() == 1
               ? Use::first
               : Use::replayed;
  });
}

std::vector<ReplayKey> PostgresDatabase::replay_keys_after(const std::string& after, int limit) {
  return read([&](Connection& conn) {
    Result r = conn.run(
        "SELECT key, client_id, expires_ms FROM replay_keys"
        " WHERE key COLLATE \"C\" > $1 ORDER BY key COLLATE \"C\" LIMIT $2",
        Params().text(after).int64(limit));
    std::vector<ReplayKey> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) out.push_back({r.text(i, 0), r.text(i, 1), r.int64(i, 2)});
    return out;
  });
}

void PostgresDatabase::save_replay_key(const ReplayKey& key) {
  write([&](Connection& conn) {
    // Plain INSERT: a key already recorded fails loudly rather than changing its expiry.
    conn.run("INSERT INTO replay_keys (key, client_id, expires_ms) VALUES ($1, $2, $3)",
             Params().text(key.key).text(key.client_id).int64(key.expires_ms));
  });
}

}  // namespace latchkey::store::postgres
