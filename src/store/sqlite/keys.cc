// KeyStore: signing keys, active and retired.
#include "store/sqlite/row_writes.h"
#include "store/sqlite/sqlite_database.h"

namespace latchkey::store::sqlite {

void upsert_key(Connection& conn, const SigningKeyRecord& key) {
  // Upsert by kid: retiring a key is saving it again with retired_ms set.
  conn.prepare(
          "INSERT INTO signing_keys (kid, alg, private_pem, created_ms, retired_ms)"
          " VALUES (?1, ?2, ?3, ?4, ?5)"
          " ON CONFLICT (kid) DO UPDATE SET alg = excluded.alg,"
          " private_pem = excluded.private_pem, created_ms = excluded.created_ms,"
          " retired_ms = excluded.retired_ms")
      .bind_text(1, key.kid)
      .bind_text(2, key.alg)
      .bind_text(3, key.private_pem)
      .bind_int(4, key.created_ms)
      .bind_int(5, key.retired_ms)
      .run();
}

void SqliteDatabase::save_key(const SigningKeyRecord& key) {
  return write([&](Connection& conn) { upsert_key(conn, key); });
}

std::vector<SigningKeyRecord> SqliteDatabase::list_keys() {
  return read([&](Connection& conn) -> std::vector<SigningKeyRecord> {
    Statement st = conn.prepare(
        "SELECT kid, alg, private_pem, created_ms, retired_ms FROM signing_keys"
        " ORDER BY created_ms DESC, kid");
    std::vector<SigningKeyRecord> out;
    while (st.step()) {
      out.push_back({st.column_text(0), st.column_text(1), st.column_text(2), st.column_int(3),
                     st.column_int(4)});
    }
    return out;
  });
}

}  // namespace latchkey::store::sqlite
