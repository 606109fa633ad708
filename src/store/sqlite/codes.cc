// CodeStore: authorization codes (stored by hash, single use).
#include "store/sqlite/list_codec.h"
#include "store/sqlite/sqlite_database.h"

namespace latchkey::store::sqlite {

void SqliteDatabase::save_code(const AuthCode& code) {
  return write([&](Connection& conn) {
    // Plain INSERT: a hash collision must fail loudly, never reset `used` on an existing code.
    conn
        .prepare(
            "INSERT INTO auth_codes (code_hash, client_id, user_id, redirect_uri, scopes,"
            " code_challenge, nonce, auth_time_s, expires_ms, used)"
            " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)")
        .bind_text(1, code.code_hash)
        .bind_text(2, code.client_id)
        .bind_text(3, code.user_id)
        .bind_text(4, code.redirect_uri)
        .bind_text(5, encode_list(code.scopes))
        .bind_text(6, code.code_challenge)
        .bind_text(7, code.nonce)
        .bind_int(8, code.auth_time_s)
        .bind_int(9, code.expires_ms)
        .bind_bool(10, code.used)
        .run();
  });
}

namespace {

constexpr const char* kSelectCode =
    "SELECT code_hash, client_id, user_id, redirect_uri, scopes, code_challenge, nonce,"
    " auth_time_s, expires_ms, used FROM auth_codes WHERE code_hash = ?1";

std::optional<AuthCode> select_code(Connection& conn, const std::string& code_hash) {
  Statement st = conn.prepare(kSelectCode);
  st.bind_text(1, code_hash);
  if (!st.step()) return std::nullopt;
  AuthCode c;
  c.code_hash = st.column_text(0);
  c.client_id = st.column_text(1);
  c.user_id = st.column_text(2);
  c.redirect_uri = st.column_text(3);
  c.scopes = decode_list(st.column_text(4));
  c.code_challenge = st.column_text(5);
  c.nonce = st.column_text(6);
  c.auth_time_s = st.column_int(7);
  c.expires_ms = st.column_int(8);
  c.used = st.column_bool(9);
  return c;
}

}  // namespace

std::optional<AuthCode> SqliteDatabase::find_code(const std::string& code_hash) {
  return read([&](Connection& conn) { return select_code(conn, code_hash); });
}

std::optional<AuthCode> SqliteDatabase::consume_code(const std::string& code_hash) {
  return write([&](Connection& conn) -> std::optional<AuthCode> {
    // One writer orders callers in this process and the batch's BEGIN IMMEDIATE orders them
    // against other processes on the same file, so exactly one exchange ever reads used=0
    // (RFC 6749 §4.1.2: a code is single use, and a replay must be detectable to revoke what
    // it issued).
    std::optional<AuthCode> before = select_code(conn, code_hash);
    if (!before) return std::nullopt;  // nothing was written
    if (!before->used) {
      conn.prepare("UPDATE auth_codes SET used = 1 WHERE code_hash = ?1")
          .bind_text(1, code_hash)
          .run();
    }
    return before;
  });
}

}  // namespace latchkey::store::sqlite
