// Database::purge_expired: expired rows removed a bounded batch at a time (see stores.h for
// which rows may go). As in the SQLite backend (store/sqlite/purge.cc), codes and tokens have no
// index on their expiry, so they are examined in id order, their primary key: a window of
// `max_rows` ids is one range of the index whatever the size of the table. Sessions keep an
// index on their expiry.
#include <limits>

#include "store/postgres/postgres_database.h"

namespace latchkey::store::postgres {
namespace {

// PurgeCursor::table: codes, then tokens, then the pass is over.
constexpr int kCodes = 0;
constexpr int kPassOver = 2;

// The last id of the window of up to `limit` rows after `after_id`, and how many rows it has.
struct Window {
  int64_t last_id = 0;
  int64_t rows = 0;
};

Window window(Connection& conn, const char* sql, int64_t after_id, int64_t limit) {
  Result r = conn.run(sql, Params().int64(after_id).int64(limit));
  return Window{r.int64(0, 1), r.int64(0, 0)};
}

int clamp(int64_t n) {
  return n > std::numeric_limits<int>::max() ? std::numeric_limits<int>::max()
                                             : static_cast<int>(n);
}

}  // namespace

PurgeResult PostgresDatabase::purge_expired(int64_t cutoff_ms, int max_rows,
                                            const PurgeCursor& from) {
  if (max_rows < 1) return PurgeResult{0, from, false};
  return transact([&](Connection& conn) -> PurgeResult {
    PurgeResult out;
    out.next = from;
    out.deleted = clamp(conn.run("DELETE FROM sessions WHERE session_hash IN"
                                 " (SELECT session_hash FROM sessions WHERE expires_ms < $1"
                                 " LIMIT $2)",
                                 Params().int64(cutoff_ms).int64(max_rows))
                            .affected());
    const bool sessions_left = out.deleted == max_rows;
    // Rows that may still be examined in this call: each examined row may be deleted.
    int budget = max_rows - out.deleted;
    PurgeCursor& cur = out.next;
    while (cur.table < kPassOver && budget > 0) {
      const bool codes = cur.table == kCodes;
      Window w = window(conn,
                        codes ? "SELECT count(*), coalesce(max(id), 0) FROM"
                                " (SELECT id FROM auth_codes WHERE id > $1 ORDER BY id LIMIT $2) w"
                              : "SELECT count(*), coalesce(max(id), 0) FROM"
                                " (SELECT id FROM tokens WHERE id > $1 ORDER BY id LIMIT $2) w",
                        cur.after_id, budget);
      if (w.rows > 0) {
        // RFC 6749 §4.1.2: a used code stays while a token issued from it could still be
        // revoked by a replay of it (tokens_by_code finds them).
        out.deleted += clamp(
            conn.run(codes ? "DELETE FROM auth_codes WHERE id > $1 AND id <= $2"
                             " AND expires_ms < $3 AND (NOT used OR NOT EXISTS (SELECT 1 FROM"
                             " tokens t WHERE t.code_key = auth_codes.id::text AND t.code_key <> ''"
                             " AND NOT t.revoked AND (t.expires_ms = 0 OR t.expires_ms >= $3)))"
                           : "DELETE FROM tokens WHERE id > $1 AND id <= $2 AND expires_ms <> 0"
                             " AND expires_ms < $3",
                     Params().int64(cur.after_id).int64(w.last_id).int64(cutoff_ms))
                .affected());
      }
      // A window shorter than asked for reached the end of the table: on to the next one.
      if (w.rows < budget) {
        cur = PurgeCursor{cur.table + 1, std::numeric_limits<int64_t>::min()};
      } else {
        cur.after_id = w.last_id;
      }
      budget -= static_cast<int>(w.rows);
    }
    if (cur.table >= kPassOver && !sessions_left) {
      out.pass_done = true;
      cur = PurgeCursor{};
    }
    return out;
  });
}

}  // namespace latchkey::store::postgres
