// AdminTokenStore: the admin API's credentials, each kept as the SHA-256 of the token.
#include "store/sqlite/sqlite_database.h"

namespace latchkey::store::sqlite {

bool SqliteDatabase::create_admin_token(const AdminToken& token) {
  return write([&](Connection& conn) -> bool {
    // DO NOTHING on the name only: a clash of two random tokens' hashes is a bug and still
    // raises StoreError rather than passing for "name taken".
    conn.prepare(
            "INSERT INTO admin_tokens (name, token_hash, created_ms) VALUES (?1, ?2, ?3)"
            " ON CONFLICT (name) DO NOTHING")
        .bind_text(1, token.name)
        .bind_text(2, token.token_hash)
        .bind_int(3, token.created_ms)
        .run();
    return conn.changes() == 1;
  });
}

std::vector<AdminToken> SqliteDatabase::list_admin_tokens() {
  return read([&](Connection& conn) -> std::vector<AdminToken> {
    Statement st = conn.prepare(
        "SELECT name, token_hash, created_ms FROM admin_tokens ORDER BY name COLLATE BINARY");
    std::vector<AdminToken> out;
    while (st.step()) out.push_back({st.column_text(0), st.column_text(1), st.column_int(2)});
    return out;
  });
}

bool SqliteDatabase::delete_admin_token(const std::string& name) {
  return write([&](Connection& conn) -> bool {
    conn.prepare("DELETE FROM admin_tokens WHERE name = ?1").bind_text(1, name).run();
    return conn.changes() == 1;
  });
}

}  // namespace latchkey::store::sqlite
