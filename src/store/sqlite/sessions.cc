// SessionStore: browser login sessions, keyed by the hash of the cookie value.
#include "store/sqlite/sqlite_database.h"

namespace latchkey::store::sqlite {

void SqliteDatabase::save_session(const Session& s) {
  return write([&](Connection& conn) {
    // Upsert: re-saving a session (e.g. after re-authentication) refreshes its times.
    conn.prepare(
            "INSERT INTO sessions (session_hash, user_id, auth_time_s, expires_ms)"
            " VALUES (?1, ?2, ?3, ?4)"
            " ON CONFLICT (session_hash) DO UPDATE SET user_id = excluded.user_id,"
            " auth_time_s = excluded.auth_time_s, expires_ms = excluded.expires_ms")
        .bind_text(1, s.session_hash)
        .bind_text(2, s.user_id)
        .bind_int(3, s.auth_time_s)
        .bind_int(4, s.expires_ms)
        .run();
  });
}

std::optional<Session> SqliteDatabase::find_session(const std::string& session_hash) {
  return read([&](Connection& conn) -> std::optional<Session> {
    Statement st = conn.prepare(
        "SELECT session_hash, user_id, auth_time_s, expires_ms FROM sessions"
        " WHERE session_hash = ?1");
    st.bind_text(1, session_hash);
    if (!st.step()) return std::nullopt;
    return Session{st.column_text(0), st.column_text(1), st.column_int(2), st.column_int(3)};
  });
}

std::vector<Session> SqliteDatabase::sessions_after(const std::string& after, int limit) {
  return read([&](Connection& conn) -> std::vector<Session> {
    // The column's BINARY collation compares bytes.
    Statement st = conn.prepare(
        "SELECT session_hash, user_id, auth_time_s, expires_ms FROM sessions"
        " WHERE session_hash > ?1 ORDER BY session_hash LIMIT ?2");
    st.bind_text(1, after).bind_int(2, limit);
    std::vector<Session> out;
    while (st.step()) {
      out.push_back({st.column_text(0), st.column_text(1), st.column_int(2), st.column_int(3)});
    }
    return out;
  });
}

}  // namespace latchkey::store::sqlite
