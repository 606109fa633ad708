// AdminTokenStore: the admin API's credentials, each kept as the SHA-256 of the token.
#include "store/postgres/postgres_database.h"

namespace latchkey::store::postgres {

bool PostgresDatabase::create_admin_token(const AdminToken& token) {
  return write([&](Connection& conn) {
    // DO NOTHING on the name only: a clash of two random tokens' hashes is a bug and still
    // raises StoreError rather than passing for "name taken".
    return conn.run(
                   "INSERT INTO admin_tokens (name, token_hash, created_ms) VALUES ($1, $2, $3)"
                   " ON CONFLICT (name) DO NOTHING",
                   Params().text(token.name).text(token.token_hash).int64(token.created_ms))
               .affected() == 1;
  });
}

std::vector<AdminToken> PostgresDatabase::list_admin_tokens() {
  return read([&](Connection& conn) {
    Result r = conn.run(
        "SELECT name, token_hash, created_ms FROM admin_tokens ORDER BY name COLLATE \"C\"");
    std::vector<AdminToken> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) out.push_back({r.text(i, 0), r.text(i, 1), r.int64(i, 2)});
    return out;
  });
}

bool PostgresDatabase::delete_admin_token(const std::string& name) {
  return write([&](Connection& conn) {
    return conn.run("DELETE FROM admin_tokens WHERE name = $1", Params().text(name)).affected() ==
           1;
  });
}

}  // namespace latchkey::store::postgres
