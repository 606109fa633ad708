// Database::purge_expired: expired rows removed a bounded batch at a time (see stores.h for
// which rows may go). Codes and tokens have no index on their expiry (every index is a page
// written per token, kMigration3), so they are examined in id order, which is their primary
// key: a window of `max_rows` ids is one range of the table whatever its size. Sessions are few
// and keep an index on their expiry.
#include <limits>

#include "store/sqlite/sqlite_database.h"

namespace latchkey::store::sqlite {
namespace {

// PurgeCursor::table: codes, then tokens, then the pass is over.
constexpr int kCodes = 0;
constexpr int kPassOver = 2;

// The last id of the window of up to `limit` rows after `after_id`, and how many rows it has.
struct Window {
  int64_t last_id = 0;
  int64_t rows = 0;
};

Window window(Connection& conn, const char* sql, int64_t after_id, int limit) {
  Statement st = conn.prepare(sql);
  st.bind_int(1, after_id).bind_int(2, limit);
  Window w;
  if (st.step()) {
    w.rows = st.column_int(0);
    w.last_id = st.column_int(1);
  }
  return w;
}

}  // namespace

PurgeResult SqliteDatabase::purge_expired(int64_t cutoff_ms, int max_rows,
                                          const PurgeCursor& from) {
  if (max_rows < 1) return PurgeResult{0, from, false};
  return write([&](Connection& conn) -> PurgeResult {
    PurgeResult out;
    out.next = from;
    conn.prepare(
            "DELETE FROM sessions WHERE rowid IN"
            " (SELECT rowid FROM sessions WHERE expires_ms < ?1 LIMIT ?2)")
        .bind_int(1, cutoff_ms)
        .bind_int(2, max_rows)
        .run();
    out.deleted = static_cast<int>(conn.changes());
    const bool sessions_left = out.deleted == max_rows;
    // Rows that may still be examined in this call: each examined row may be deleted.
    int budget = max_rows - out.deleted;
    PurgeCursor& cur = out.next;
    while (cur.table < kPassOver && budget > 0) {
      const bool codes = cur.table == kCodes;
      Window w = window(conn,
                        codes ? "SELECT count(*), max(id) FROM"
                                " (SELECT id FROM auth_codes WHERE id > ?1 ORDER BY id LIMIT ?2)"
                              : "SELECT count(*), max(id) FROM"
                                " (SELECT id FROM tokens WHERE id > ?1 ORDER BY id LIMIT ?2)",
                        cur.after_id, budget);
      if (w.rows > 0) {
        // RFC 6749 §4.1.2: a used code stays while a token issued from it could still be
        // revoked by a replay of it (tokens_by_code finds them).
        conn.prepare(codes ? "DELETE FROM auth_codes WHERE id > ?1 AND id <= ?2 AND expires_ms < ?3"
                             " AND (used = 0 OR NOT EXISTS (SELECT 1 FROM tokens t"
                             " WHERE t.code_key = CAST(auth_codes.id AS TEXT) AND t.code_key != ''"
                             " AND t.revoked = 0 AND (t.expires_ms = 0 OR t.expires_ms >= ?3)))"
                           : "DELETE FROM tokens WHERE id > ?1 AND id <= ?2 AND expires_ms != 0"
                             " AND expires_ms < ?3")
            .bind_int(1, cur.after_id)
            .bind_int(2, w.last_id)
            .bind_int(3, cutoff_ms)
            .run();
        out.deleted += static_cast<int>(conn.changes());
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

}  // namespace latchkey::store::sqlite
