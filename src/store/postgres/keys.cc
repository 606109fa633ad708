// KeyStore: signing keys, active and retired.
#include "store/postgres/postgres_database.h"
#include "store/postgres/row_writes.h"

namespace latchkey::store::postgres {

int64_t upsert_key(Connection& conn, const SigningKeyRecord& key) {
  // Upsert by kid: retiring a key is saving it again with retired_ms set.
  return conn
      .run(
          "INSERT INTO signing_keys (kid, alg, private_pem, created_ms, retired_ms)"
          " VALUES ($1, $2, $3, $4, $5)"
          " ON CONFLICT (kid) DO UPDATE SET alg = excluded.alg,"
          " private_pem = excluded.private_pem, created_ms = excluded.created_ms,"
          " retired_ms = excluded.retired_ms",
          Params()
              .text(key.kid)
              .text(key.alg)
              .text(key.private_pem)
              .int64(key.created_ms)
              .int64(key.retired_ms))
      .affected();
}

void PostgresDatabase::save_key(const SigningKeyRecord& key) {
  write_announced(Change::signing_keys(), [&](Connection& conn) { return upsert_key(conn, key); });
}

std::vector<SigningKeyRecord> PostgresDatabase::list_keys() {
  return read([&](Connection& conn) {
    Result r = conn.run(
        "SELECT kid, alg, private_pem, created_ms, retired_ms FROM signing_keys"
        " ORDER BY created_ms DESC, kid COLLATE \"C\"");
    std::vector<SigningKeyRecord> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
      out.push_back({r.text(i, 0), r.text(i, 1), r.text(i, 2), r.int64(i, 3), r.int64(i, 4)});
    }
    return out;
  });
}

}  // namespace latchkey::store::postgres
