// TokenStore: access and refresh tokens (stored by hash), their revocation, and redemption.
#include <algorithm>
#include <chrono>
#include <limits>

#include "crypto/crypto.h"
#include "store/record_names.h"
#include "store/sqlite/list_codec.h"
#include "store/sqlite/sqlite_database.h"

namespace latchkey::store::sqlite {

namespace {

#define LK_TOKEN_COLUMNS                                                           \
  "id, token_hash, kind, client_id, user_id, org_id, scopes, family_id, code_key," \
  " issued_ms, expires_ms, revoked, rotated, cnf_x5t, auth_time_s, rotated_ms"
constexpr const char* kFindById = "SELECT " LK_TOKEN_COLUMNS " FROM tokens WHERE id = ?1";
constexpr const char* kFindByHash =
    "SELECT " LK_TOKEN_COLUMNS " FROM tokens WHERE token_hash = ?1 AND id < 0";
constexpr const char* kTokensAfter =
    "SELECT " LK_TOKEN_COLUMNS " FROM tokens WHERE id > ?1 ORDER BY id LIMIT ?2";
#undef LK_TOKEN_COLUMNS

// One write: an access token and its refresh token are both durable or neither is.
void insert_tokens(Connection& conn, const std::vector<Token>& tokens) {
  for (const Token& t : tokens) {
    conn.prepare(
            "INSERT INTO tokens (id, token_hash, kind, client_id, user_id, org_id, scopes,"
            " family_id, code_key, issued_ms, expires_ms, revoked, rotated, cnf_x5t,"
            " auth_time_s, rotated_ms)"
            " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)")
        .bind_int(1, t.id)
        .bind_text(2, t.token_hash)
        .bind_text(3, to_string(t.kind))
        .bind_text(4, t.client_id)
        .bind_text(5, t.user_id)
        .bind_text(6, t.org_id)
        .bind_text(7, encode_list(t.scopes))
        .bind_text(8, t.family_id)
        .bind_text(9, t.code_key)
        .bind_int(10, t.issued_ms)
        .bind_int(11, t.expires_ms)
        .bind_bool(12, t.revoked)
        .bind_bool(13, t.rotated)
        .bind_text(14, t.cnf_x5t)
        .bind_int(15, t.auth_time_s)
        .bind_int(16, t.rotated_ms)
        .run();
  }
}

Token read_token(const Statement& st) {
  Token t;
  t.id = st.column_int(0);
  t.token_hash = st.column_text(1);
  auto kind = parse_token_kind(st.column_text(2));
  if (!kind) throw StoreError("sqlite: unknown kind in tokens row");
  t.kind = *kind;
  t.client_id = st.column_text(3);
  t.user_id = st.column_text(4);
  t.org_id = st.column_text(5);
  t.scopes = decode_list(st.column_text(6));
  t.family_id = st.column_text(7);
  t.code_key = st.column_text(8);
  t.issued_ms = st.column_int(9);
  t.expires_ms = st.column_int(10);
  t.revoked = st.column_bool(11);
  t.rotated = st.column_bool(12);
  t.cnf_x5t = st.column_text(13);
  t.auth_time_s = st.column_int(14);
  t.rotated_ms = st.column_int(15);
  return t;
}

// The UPDATEs naming one row by SecretRef: ?1 is its id, ?2 its hash. A revoked refresh token
// is not rotated either: the redemption's write, not a cached copy of the token, decides
// (RFC 9700 §4.14.2; stores.h, TokenStore::redeem_later). A rotated one is used again only when
// first rotated at or after ?4 (Redemption::reuse_since_ms), and keeps that first time; ?3 is
// now. (Every SET expression reads the row as it was.)
#define LK_ROTATE                                                             \
  "UPDATE tokens SET rotated = 1, rotated_ms = CASE WHEN rotated = 0 THEN ?3" \
  " ELSE rotated_ms END WHERE (rotated = 0 OR rotated_ms >= ?4) AND revoked = 0"
constexpr const char* kRotateById = LK_ROTATE " AND id = ?1 AND token_hash = ?2";
constexpr const char* kRotateByHash = LK_ROTATE " AND token_hash = ?2 AND id < 0";
#undef LK_ROTATE
constexpr const char* kRevokeById =
    "UPDATE tokens SET revoked = 1 WHERE id = ?1 AND token_hash = ?2 AND revoked = 0";
constexpr const char* kRevokeByHash =
    "UPDATE tokens SET revoked = 1 WHERE token_hash = ?2 AND id < 0 AND revoked = 0";

// Marks `r` used if it was not; true if this call did.
bool use_up(Connection& conn, const Redemption& r) {
  if (r.kind == Redemption::Kind::code) {
    Statement st = conn.prepare(
        r.ref.id != 0
            ? "UPDATE auth_codes SET used = 1 WHERE id = ?1 AND code_hash = ?2 AND used = 0"
            : "UPDATE auth_codes SET used = 1 WHERE code_hash = ?2 AND id < 0 AND used = 0");
    if (r.ref.id != 0) st.bind_int(1, r.ref.id);
    st.bind_text(2, r.ref.hash).run();
  } else {
    Statement st = conn.prepare(r.ref.id != 0 ? kRotateById : kRotateByHash);
    if (r.ref.id != 0) st.bind_int(1, r.ref.id);
    st.bind_text(2, r.ref.hash).bind_int(3, r.now_ms).bind_int(4, r.reuse_since_ms).run();
  }
  return conn.changes() == 1;
}

// RFC 6749 §4.1.2: a replayed code revokes "all tokens previously issued based on that
// authorization code": those minted from it (code_key) and every token of the refresh families
// they started, which a later refresh extends with tokens that name the family but not the code.
// Two UPDATEs inside the caller's one write; returns how many tokens they newly revoked. The
// `!= ''` terms select the partial indexes of migration 4.
int64_t revoke_code_descendants(Connection& conn, const std::string& code_key) {
  if (code_key.empty()) return 0;
  conn.prepare(
          "UPDATE tokens SET revoked = 1 WHERE family_id != '' AND revoked = 0 AND family_id IN"
          " (SELECT family_id FROM tokens WHERE code_key = ?1 AND code_key != ''"
          " AND family_id != '')")
      .bind_text(1, code_key)
      .run();
  int64_t n = conn.changes();
  // Tokens issued with the code outside any family (a hybrid response's access token).
  conn.prepare(
          "UPDATE tokens SET revoked = 1 WHERE code_key = ?1 AND code_key != '' AND revoked = 0")
      .bind_text(1, code_key)
      .run();
  return n + conn.changes();
}

// Revokes what an earlier use of `r` issued; returns how many tokens that revoked.
int revoke_issued(Connection& conn, const Redemption& r) {
  if (r.revoke_key.empty()) return 0;
  if (r.kind == Redemption::Kind::code) {
    return static_cast<int>(revoke_code_descendants(conn, r.revoke_key));
  }
  conn.prepare(
          "UPDATE tokens SET revoked = 1 WHERE family_id = ?1 AND family_id != '' AND revoked = 0")
      .bind_text(1, r.revoke_key)
      .run();
  return static_cast<int>(conn.changes());
}

}  // namespace

int64_t SqliteDatabase::allocate_id() {
  // Milliseconds in the high bits keep ids increasing across restarts; the low 16 bits count
  // within a millisecond (and carry into the next one if ever more are needed).
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  const int64_t floor = now_ms << 16;
  int64_t last = last_token_id_.load(std::memory_order_relaxed);
  int64_t next = 0;
  do {
    next = std::max(last + 1, floor);
  } while (!last_token_id_.compare_exchange_weak(last, next, std::memory_order_relaxed));
  return next;
}

void SqliteDatabase::load_last_token_id() {
  int64_t highest = read([](Connection& conn) {
    return conn.query_int("SELECT max(coalesce(max(id), 0), -coalesce(min(id), 0)) FROM tokens");
  });
  last_token_id_.store(highest, std::memory_order_relaxed);
}

std::vector<Token> SqliteDatabase::with_ids(const std::vector<Token>& tokens) {
  std::vector<Token> rows = tokens;
  for (Token& t : rows) {
    if (t.id == 0) t.id = -allocate_id();
  }
  return rows;
}

void SqliteDatabase::save_tokens(const std::vector<Token>& tokens) {
  if (tokens.empty()) return;
  write([rows = with_ids(tokens)](Connection& conn) { insert_tokens(conn, rows); });
}

std::shared_ptr<PendingWrite> SqliteDatabase::save_tokens_later(const std::vector<Token>& tokens) {
  if (memory_ || tokens.empty()) {
    return PendingWrite::settled(at_once([&] { save_tokens(tokens); }));
  }
  auto pending = std::make_shared<PendingWrite>();
  writer_->submit(
      [rows = with_ids(tokens)](Connection& conn) { insert_tokens(conn, rows); },
      [pending](const std::exception_ptr& error) { pending->settle(WriteOutcome::of(error)); });
  return pending;
}

std::vector<Token> SqliteDatabase::tokens_after(int64_t after_id, int limit) {
  return read([&](Connection& conn) -> std::vector<Token> {
    Statement st = conn.prepare(kTokensAfter);
    st.bind_int(1, after_id).bind_int(2, limit);
    std::vector<Token> out;
    while (st.step()) out.push_back(read_token(st));
    return out;
  });
}

std::optional<Token> SqliteDatabase::find_token(const SecretRef& ref) {
  if (ref.hash.empty()) return std::nullopt;
  return read([&](Connection& conn) -> std::optional<Token> {
    // By id, the hash is compared here rather than in SQL: in constant time.
    Statement st = conn.prepare(ref.id != 0 ? kFindById : kFindByHash);
    if (ref.id != 0) {
      st.bind_int(1, ref.id);
    } else {
      st.bind_text(1, ref.hash);
    }
    if (!st.step()) return std::nullopt;
    Token t = read_token(st);
    if (!crypto::constant_time_equal(t.token_hash, ref.hash)) return std::nullopt;
    return t;
  });
}

int SqliteDatabase::revoke_token(const SecretRef& ref) {
  return update_ref(ref.id != 0 ? kRevokeById : kRevokeByHash, ref);
}

int SqliteDatabase::update_ref(const char* sql, const SecretRef& ref) {
  if (ref.hash.empty()) return 0;
  return write([&](Connection& conn) -> int {
    Statement st = conn.prepare(sql);
    if (ref.id != 0) st.bind_int(1, ref.id);
    st.bind_text(2, ref.hash).run();
    return static_cast<int>(conn.changes());
  });
}

// Using up a code or a rotating refresh token and saving the tokens it buys are one queued
// write. The writer orders every redemption, so of two requests with the same code exactly one
// finds it unused, and neither request holds a thread while it waits.
std::shared_ptr<PendingWrite> SqliteDatabase::redeem_later(const Redemption& r,
                                                           const std::vector<Token>& tokens) {
  // Decided inside the write; read once the write has settled.
  struct Outcome {
    bool redeemed = false;
    int revoked = 0;
  };
  auto outcome = std::make_shared<Outcome>();
  // Sets every output on each run: the writer may run work twice (GroupCommit).
  auto work = [r, rows = with_ids(tokens), outcome](Connection& conn) {
    outcome->revoked = 0;
    outcome->redeemed = use_up(conn, r);
    if (outcome->redeemed) {
      insert_tokens(conn, rows);
    } else {
      outcome->revoked = revoke_issued(conn, r);
    }
  };
  auto settled = [outcome](const std::exception_ptr& error) {
    if (error || outcome->redeemed) return WriteOutcome::of(error);
    return WriteOutcome::redeemed_before(outcome->revoked);
  };
  if (memory_) {
    WriteOutcome written = at_once([&] { write(work); });
    return PendingWrite::settled(written.is_durable() ? settled(nullptr) : written);
  }
  auto pending = std::make_shared<PendingWrite>();
  writer_->submit(std::move(work), [pending, settled](const std::exception_ptr& error) {
    pending->settle(settled(error));
  });
  return pending;
}

// Each revocation counts only rows it newly revoked (revoked 0 -> 1).

// The `!= ''` terms let sqlite use the partial indexes of migration 3.
int SqliteDatabase::revoke_family(const std::string& family_id) {
  return update_count(
      "UPDATE tokens SET revoked = 1 WHERE family_id = ?1 AND family_id != '' AND revoked = 0",
      family_id);
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
