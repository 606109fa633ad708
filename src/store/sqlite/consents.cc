// ConsentStore: the scopes a user approved for an app.
#include "store/sqlite/list_codec.h"
#include "store/sqlite/row_writes.h"
#include "store/sqlite/sqlite_database.h"

namespace latchkey::store::sqlite {

std::optional<Consent> SqliteDatabase::find_consent(const std::string& user_id,
                                                    const std::string& client_id) {
  return read([&](Connection& conn) -> std::optional<Consent> {
    Statement st = conn.prepare(
        "SELECT user_id, client_id, scopes, granted_ms FROM consents"
        " WHERE user_id = ?1 AND client_id = ?2");
    st.bind_text(1, user_id).bind_text(2, client_id);
    if (!st.step()) return std::nullopt;
    Consent c;
    c.user_id = st.column_text(0);
    c.client_id = st.column_text(1);
    c.scopes = decode_list(st.column_text(2));
    c.granted_ms = st.column_int(3);
    return c;
  });
}

void upsert_consent(Connection& conn, const Consent& consent) {
  conn.prepare(
          "INSERT INTO consents (user_id, client_id, scopes, granted_ms) VALUES (?1, ?2, ?3, ?4)"
          " ON CONFLICT (user_id, client_id) DO UPDATE"
          " SET scopes = excluded.scopes, granted_ms = excluded.granted_ms")
      .bind_text(1, consent.user_id)
      .bind_text(2, consent.client_id)
      .bind_text(3, encode_list(consent.scopes))
      .bind_int(4, consent.granted_ms)
      .run();
}

void SqliteDatabase::save_consent(const Consent& consent) {
  return write([&](Connection& conn) { upsert_consent(conn, consent); });
}

std::vector<Consent> SqliteDatabase::list_consents(const std::string& client_id) {
  return read([&](Connection& conn) -> std::vector<Consent> {
    Statement st = conn.prepare(
        "SELECT user_id, client_id, scopes, granted_ms FROM consents WHERE client_id = ?1"
        " ORDER BY granted_ms, user_id");
    st.bind_text(1, client_id);
    std::vector<Consent> out;
    while (st.step()) {
      out.push_back(
          {st.column_text(0), st.column_text(1), decode_list(st.column_text(2)), st.column_int(3)});
    }
    return out;
  });
}

std::vector<Consent> SqliteDatabase::list_all_consents() {
  return read([&](Connection& conn) -> std::vector<Consent> {
    Statement st = conn.prepare(
        "SELECT user_id, client_id, scopes, granted_ms FROM consents"
        " ORDER BY client_id, granted_ms, user_id");
    std::vector<Consent> out;
    while (st.step()) {
      out.push_back(
          {st.column_text(0), st.column_text(1), decode_list(st.column_text(2)), st.column_int(3)});
    }
    return out;
  });
}

bool SqliteDatabase::delete_consent(const std::string& user_id, const std::string& client_id) {
  return write([&](Connection& conn) -> bool {
    conn.prepare("DELETE FROM consents WHERE user_id = ?1 AND client_id = ?2")
        .bind_text(1, user_id)
        .bind_text(2, client_id)
        .run();
    return conn.changes() == 1;
  });
}

}  // namespace latchkey::store::sqlite
