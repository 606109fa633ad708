// CodeStore: authorization codes (stored by hash, single use, found by the id they carry).
#include "crypto/crypto.h"
#include "store/sqlite/list_codec.h"
#include "store/sqlite/sqlite_database.h"

namespace latchkey::store::sqlite {

namespace {

#define LK_CODE_COLUMNS                                                             \
  "id, code_hash, client_id, user_id, redirect_uri, scopes, code_challenge, nonce," \
  " auth_time_s, expires_ms, used"
constexpr const char* kCodeById = "SELECT " LK_CODE_COLUMNS " FROM auth_codes WHERE id = ?1";
constexpr const char* kCodeByHash =
    "SELECT " LK_CODE_COLUMNS " FROM auth_codes WHERE code_hash = ?1 AND id < 0";
constexpr const char* kCodesAfter =
    "SELECT " LK_CODE_COLUMNS " FROM auth_codes WHERE id > ?1 ORDER BY id LIMIT ?2";
#undef LK_CODE_COLUMNS

AuthCode read_code(const Statement& st) {
  AuthCode c;
  c.id = st.column_int(0);
  c.code_hash = st.column_text(1);
  c.client_id = st.column_text(2);
  c.user_id = st.column_text(3);
  c.redirect_uri = st.column_text(4);
  c.scopes = decode_list(st.column_text(5));
  c.code_challenge = st.column_text(6);
  c.nonce = st.column_text(7);
  c.auth_time_s = st.column_int(8);
  c.expires_ms = st.column_int(9);
  c.used = st.column_bool(10);
  return c;
}

// The code `ref` names, its hash compared in constant time.
std::optional<AuthCode> select_code(Connection& conn, const SecretRef& ref) {
  if (ref.hash.empty()) return std::nullopt;
  Statement st = conn.prepare(ref.id != 0 ? kCodeById : kCodeByHash);
  if (ref.id != 0) {
    st.bind_int(1, ref.id);
  } else {
    st.bind_text(1, ref.hash);
  }
  if (!st.step()) return std::nullopt;
  AuthCode c = read_code(st);
  if (!crypto::constant_time_equal(c.code_hash, ref.hash)) return std::nullopt;
  return c;
}

}  // namespace

namespace {

void insert_code(Connection& conn, const AuthCode& code) {
  // Plain INSERT: a collision must fail loudly, never reset `used` on an existing code.
  conn.prepare(
          "INSERT INTO auth_codes (id, code_hash, client_id, user_id, redirect_uri, scopes,"
          " code_challenge, nonce, auth_time_s, expires_ms, used)"
          " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)")
      .bind_int(1, code.id)
      .bind_text(2, code.code_hash)
      .bind_text(3, code.client_id)
      .bind_text(4, code.user_id)
      .bind_text(5, code.redirect_uri)
      .bind_text(6, encode_list(code.scopes))
      .bind_text(7, code.code_challenge)
      .bind_text(8, code.nonce)
      .bind_int(9, code.auth_time_s)
      .bind_int(10, code.expires_ms)
      .bind_bool(11, code.used)
      .run();
}

}  // namespace

AuthCode SqliteDatabase::with_id(const AuthCode& code) {
  AuthCode row = code;
  if (row.id == 0) row.id = -allocate_id();
  return row;
}

void SqliteDatabase::save_code(const AuthCode& code) {
  write([row = with_id(code)](Connection& conn) { insert_code(conn, row); });
}

std::shared_ptr<PendingWrite> SqliteDatabase::save_code_later(const AuthCode& code) {
  if (memory_) return PendingWrite::settled(at_once([&] { save_code(code); }));
  auto pending = std::make_shared<PendingWrite>();
  writer_->submit(
      [row = with_id(code)](Connection& conn) { insert_code(conn, row); },
      [pending](const std::exception_ptr& error) { pending->settle(WriteOutcome::of(error)); });
  return pending;
}

std::optional<AuthCode> SqliteDatabase::find_code(const SecretRef& ref) {
  return read([&](Connection& conn) { return select_code(conn, ref); });
}

std::vector<AuthCode> SqliteDatabase::codes_after(int64_t after_id, int limit) {
  return read([&](Connection& conn) -> std::vector<AuthCode> {
    Statement st = conn.prepare(kCodesAfter);
    st.bind_int(1, after_id).bind_int(2, limit);
    std::vector<AuthCode> out;
    while (st.step()) out.push_back(read_code(st));
    return out;
  });
}

}  // namespace latchkey::store::sqlite
