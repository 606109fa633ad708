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

}  // namespace latchkey::store::sqlite
