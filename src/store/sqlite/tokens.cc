// TokenStore: access and refresh tokens (stored by hash) and their revocation.
#include "store/record_names.h"
#include "store/sqlite/list_codec.h"
#include "store/sqlite/sqlite_database.h"

namespace latchkey::store::sqlite {

namespace {

// One write: an access token and its refresh token are both durable or neither is.
void insert_tokens(Connection& conn, const std::vector<Token>& tokens) {
  for (const Token& t : tokens) {
    conn.prepare(
            "INSERT INTO tokens (token_hash, kind, client_id, user_id, org_id, scopes,"
            " family_id, code_hash, issued_ms, expires_ms, revoked, rotated, cnf_x5t)"
            " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)")
        .bind_text(1, t.token_hash)
        .bind_text(2, to_string(t.kind))
        .bind_text(3, t.client_id)
        .bind_text(4, t.user_id)
        .bind_text(5, t.org_id)
        .bind_text(6, encode_list(t.scopes))
        .bind_text(7, t.family_id)
        .bind_text(8, t.code_hash)
        .bind_int(9, t.issued_ms)
        .bind_int(10, t.expires_ms)
        .bind_bool(11, t.revoked)
        .bind_bool(12, t.rotated)
        .bind_text(13, t.cnf_x5t)
        .run();
  }
}

}  // namespace

void SqliteDatabase::save_tokens(const std::vector<Token>& tokens) {
  if (tokens.empty()) return;
  write([&](Connection& conn) { insert_tokens(conn, tokens); });
}

std::shared_ptr<PendingWrite> SqliteDatabase::save_tokens_later(const std::vector<Token>& tokens) {
  if (memory_ || tokens.empty()) return TokenStore::save_tokens_later(tokens);
  auto pending = std::make_shared<PendingWrite>();
  writer_->submit([rows = tokens](Connection& conn) { insert_tokens(conn, rows); },
                  [pending](std::exception_ptr error) { pending->settle(std::move(error)); });
  return pending;
}

std::optional<Token> SqliteDatabase::find_token(const std::string& token_hash) {
  return read([&](Connection& conn) -> std::optional<Token> {
    Statement st = conn.prepare(
        "SELECT token_hash, kind, client_id, user_id, org_id, scopes, family_id, code_hash,"
        " issued_ms, expires_ms, revoked, rotated, cnf_x5t FROM tokens WHERE token_hash = ?1");
    st.bind_text(1, token_hash);
    if (!st.step()) return std::nullopt;
    Token t;
    t.token_hash = st.column_text(0);
    auto kind = parse_token_kind(st.column_text(1));
    if (!kind) throw StoreError("sqlite: unknown kind in tokens row");
    t.kind = *kind;
    t.client_id = st.column_text(2);
    t.user_id = st.column_text(3);
    t.org_id = st.column_text(4);
    t.scopes = decode_list(st.column_text(5));
    t.family_id = st.column_text(6);
    t.code_hash = st.column_text(7);
    t.issued_ms = st.column_int(8);
    t.expires_ms = st.column_int(9);
    t.revoked = st.column_bool(10);
    t.rotated = st.column_bool(11);
    t.cnf_x5t = st.column_text(12);
    return t;
  });
}

bool SqliteDatabase::mark_rotated(const std::string& token_hash) {
  // A single conditional UPDATE is atomic across processes: of two concurrent refreshes with
  // the same token, exactly one changes the row (RFC 9700 §4.14.2 refresh token rotation).
  return update_count("UPDATE tokens SET rotated = 1 WHERE token_hash = ?1 AND rotated = 0",
                      token_hash) == 1;
}

// Each revocation counts only rows it newly revoked (revoked 0 -> 1).

int SqliteDatabase::revoke_token(const std::string& token_hash) {
  return update_count("UPDATE tokens SET revoked = 1 WHERE token_hash = ?1 AND revoked = 0",
                      token_hash);
}

// The `!= ''` terms let sqlite use the partial indexes of migration 3.
int SqliteDatabase::revoke_family(const std::string& family_id) {
  return update_count(
      "UPDATE tokens SET revoked = 1 WHERE family_id = ?1 AND family_id != '' AND revoked = 0",
      family_id);
}

int SqliteDatabase::revoke_by_code(const std::string& code_hash) {
  // RFC 6749 §4.1.2: on code replay, revoke the tokens previously issued from that code.
  return update_count(
      "UPDATE tokens SET revoked = 1 WHERE code_hash = ?1 AND code_hash != '' AND revoked = 0",
      code_hash);
}

int SqliteDatabase::revoke_by_user(const std::string& user_id) {
  return update_count("UPDATE tokens SET revoked = 1 WHERE user_id = ?1 AND revoked = 0", user_id);
}

int SqliteDatabase::revoke_by_user_app(const std::string& user_id, const std::string& client_id) {
  if (user_id.empty() || client_id.empty()) return 0;
  return write([&](Connection& conn) -> int {
    conn.prepare(
            "UPDATE tokens SET revoked = 1 WHERE user_id = ?1 AND client_id = ?2 AND revoked = 0")
        .bind_text(1, user_id)
        .bind_text(2, client_id)
        .run();
    return static_cast<int>(conn.changes());
  });
}

}  // namespace latchkey::store::sqlite
