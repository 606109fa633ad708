// ConsentStore: the scopes a user approved for an app.
#include "store/postgres/postgres_database.h"
#include "store/postgres/row_writes.h"

namespace latchkey::store::postgres {
namespace {

Consent read_consent(const Result& r, int row) {
  return Consent{r.text(row, 0), r.text(row, 1), r.list(row, 2), r.int64(row, 3)};
}

}  // namespace

std::optional<Consent> PostgresDatabase::find_consent(const std::string& user_id,
                                                      const std::string& client_id) {
  return read([&](Connection& conn) -> std::optional<Consent> {
    Result r = conn.run(
        "SELECT user_id, client_id, scopes, granted_ms FROM consents"
        " WHERE user_id = $1 AND client_id = $2",
        Params().text(user_id).text(client_id));
    if (r.rows() == 0) return std::nullopt;
    return read_consent(r, 0);
  });
}

void upsert_consent(Connection& conn, const Consent& consent) {
  conn.run(
      "INSERT INTO consents (user_id, client_id, scopes, granted_ms) VALUES ($1, $2, $3, $4)"
      " ON CONFLICT (user_id, client_id) DO UPDATE"
      " SET scopes = excluded.scopes, granted_ms = excluded.granted_ms",
      Params()
          .text(consent.user_id)
          .text(consent.client_id)
          .list(consent.scopes)
          .int64(consent.granted_ms));
}

void PostgresDatabase::save_consent(const Consent& consent) {
  write([&](Connection& conn) { upsert_consent(conn, consent); });
}

std::vector<Consent> PostgresDatabase::list_consents(const std::string& client_id) {
  return read([&](Connection& conn) {
    Result r = conn.run(
        "SELECT user_id, client_id, scopes, granted_ms FROM consents WHERE client_id = $1"
        " ORDER BY granted_ms, user_id COLLATE \"C\"",
        Params().text(client_id));
    std::vector<Consent> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) out.push_back(read_consent(r, i));
    return out;
  });
}

std::vector<Consent> PostgresDatabase::list_all_consents() {
  return read([&](Connection& conn) {
    Result r = conn.run(
        "SELECT user_id, client_id, scopes, granted_ms FROM consents"
        " ORDER BY client_id COLLATE \"C\", granted_ms, user_id COLLATE \"C\"");
    std::vector<Consent> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) out.push_back(read_consent(r, i));
    return out;
  });
}

bool PostgresDatabase::delete_consent(const std::string& user_id, const std::string& client_id) {
  return write([&](Connection& conn) {
    return conn.run("DELETE FROM consents WHERE user_id = $1 AND client_id = $2",
                    Params().text(user_id).text(client_id))
               .affected() == 1;
  });
}

}  // namespace latchkey::store::postgres
