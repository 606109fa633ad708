// SessionStore: browser login sessions, keyed by the hash of the cookie value.
#include "store/postgres/postgres_database.h"

namespace latchkey::store::postgres {

void PostgresDatabase::save_session(const Session& s) {
  write([&](Connection& conn) {
    // Upsert: re-saving a session (e.g. after re-authentication) refreshes its times.
    conn.run(
        "INSERT INTO sessions (session_hash, user_id, auth_time_s, expires_ms)"
        " VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (session_hash) DO UPDATE SET user_id = excluded.user_id,"
        " auth_time_s = excluded.auth_time_s, expires_ms = excluded.expires_ms",
        Params().text(s.session_hash).text(s.user_id).int64(s.auth_time_s).int64(s.expires_ms));
  });
}

std::optional<Session> PostgresDatabase::find_session(const std::string& session_hash) {
  return read([&](Connection& conn) -> std::optional<Session> {
    Result r = conn.run(
        "SELECT session_hash, user_id, auth_time_s, expires_ms FROM sessions"
        " WHERE session_hash = $1",
        Params().text(session_hash));
    if (r.rows() == 0) return std::nullopt;
    return Session{r.text(0, 0), r.text(0, 1), r.int64(0, 2), r.int64(0, 3)};
  });
}

std::vector<Session> PostgresDatabase::sessions_after(const std::string& after, int limit) {
  return read([&](Connection& conn) {
    Result r = conn.run(
        "SELECT session_hash, user_id, auth_time_s, expires_ms FROM sessions"
        " WHERE session_hash COLLATE \"C\" > $1 ORDER BY session_hash COLLATE \"C\" LIMIT $2",
        Params().text(after).int64(limit));
    std::vector<Session> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
      out.push_back({r.text(i, 0), r.text(i, 1), r.int64(i, 2), r.int64(i, 3)});
    }
    return out;
  });
}

}  // namespace latchkey::store::postgres
