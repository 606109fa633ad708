// TokenStore: access and refresh tokens (stored by hash), their revocation, and redemption.
#include <limits>
#include <string>

#include "crypto/crypto.h"
#include "store/postgres/postgres_database.h"
#include "store/record_names.h"

namespace latchkey::store::postgres {
namespace {

#define LK_TOKEN_COLUMNS                                                           \
  "id, token_hash, kind, client_id, user_id, org_id, scopes, family_id, code_key," \
  " issued_ms, expires_ms, revoked, rotated, cnf_x5t, auth_time_s"
constexpr const char* kFindById = "SELECT " LK_TOKEN_COLUMNS " FROM tokens WHERE id = $1";
constexpr const char* kFindByHash =
    "SELECT " LK_TOKEN_COLUMNS " FROM tokens WHERE token_hash = $1 AND id < 0";
constexpr const char* kTokensAfter =
    "SELECT " LK_TOKEN_COLUMNS " FROM tokens WHERE id > $1 ORDER BY id LIMIT $2";
constexpr const char* kInsert = "INSERT INTO tokens (" LK_TOKEN_COLUMNS
                                ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,"
                                " $14, $15)";
#undef LK_TOKEN_COLUMNS

// One row per statement, inside the caller's transaction when there are several.
void insert_tokens(Connection& conn, const std::vector<Token>& tokens) {
  for (const Token& t : tokens) {
    conn.run(kInsert, Params()
                          .int64(t.id)
                          .text(t.token_hash)
                          .text(to_string(t.kind))
                          .text(t.client_id)
                          .text(t.user_id)
                          .text(t.org_id)
                          .list(t.scopes)
                          .text(t.family_id)
                          .text(t.code_key)
                          .int64(t.issued_ms)
                          .int64(t.expires_ms)
                          .boolean(t.revoked)
                          .boolean(t.rotated)
                          .text(t.cnf_x5t)
                          .int64(t.auth_time_s));
  }
}

Token read_token(const Result& r, int row) {
  Token t;
  t.id = r.int64(row, 0);
  t.token_hash = r.text(row, 1);
  auto kind = parse_token_kind(r.text(row, 2));
  if (!kind) throw StoreError("postgres: unknown kind in tokens row");
  t.kind = *kind;
  t.client_id = r.text(row, 3);
  t.user_id = r.text(row, 4);
  t.org_id = r.text(row, 5);
  t.scopes = r.list(row, 6);
  t.family_id = r.text(row, 7);
  t.code_key = r.text(row, 8);
  t.issued_ms = r.int64(row, 9);
  t.expires_ms = r.int64(row, 10);
  t.revoked = r.boolean(row, 11);
  t.rotated = r.boolean(row, 12);
  t.cnf_x5t = r.text(row, 13);
  t.auth_time_s = r.int64(row, 14);
  return t;
}

// The UPDATEs naming one row by SecretRef: by id ($1 id, $2 hash) or by hash ($1).
// A revoked refresh token is not rotated either: the redemption's write, not a node's cached
// copy of the token, decides (RFC 9700 §4.14.2; stores.h, TokenStore::redeem_later).
constexpr const char* kRotateById =
    "UPDATE tokens SET rotated = true WHERE id = $1 AND token_hash = $2 AND NOT rotated"
    " AND NOT revoked";
constexpr const char* kRotateByHash =
    "UPDATE tokens SET rotated = true WHERE token_hash = $1 AND id < 0 AND NOT rotated"
    " AND NOT revoked";
constexpr const char* kRevokeById =
    "UPDATE tokens SET revoked = true WHERE id = $1 AND token_hash = $2 AND NOT revoked";
constexpr const char* kRevokeByHash =
    "UPDATE tokens SET revoked = true WHERE token_hash = $1 AND id < 0 AND NOT revoked";
constexpr const char* kUseCodeById =
    "UPDATE auth_codes SET used = true WHERE id = $1 AND code_hash = $2 AND NOT used";
constexpr const char* kUseCodeByHash =
    "UPDATE auth_codes SET used = true WHERE code_hash = $1 AND id < 0 AND NOT used";

Result run_ref(Connection& conn, const char* by_id, const char* by_hash, const SecretRef& ref) {
  return ref.id != 0 ? conn.run(by_id, Params().int64(ref.id).text(ref.hash))
                     : conn.run(by_hash, Params().text(ref.hash));
}

// Marks `r` used if it was not; true if this call did. The conditional UPDATE takes the row's
// lock: a contender on another node waits for this transaction, then finds the row used.
bool use_up(Connection& conn, const Redemption& r) {
  if (r.ref.hash.empty()) return false;
  Result res = r.kind == Redemption::Kind::code ? run_ref(conn, kUseCodeById, kUseCodeByHash, r.ref)
                                                : run_ref(conn, kRotateById, kRotateByHash, r.ref);
  return res.affected() == 1;
}

// RFC 6749 §4.1.2: a replayed code revokes "all tokens previously issued based on that
// authorization code": those minted from it (code_key) and every token of the refresh families
// they started, which a later refresh extends with tokens that name the family but not the code.
// Two UPDATEs inside the caller's one transaction; returns how many tokens they newly revoked.
// The `<> ''` terms select the partial indexes.
int64_t revoke_code_descendants(Connection& conn, const std::string& code_key) {
  if (code_key.empty()) return 0;
  int64_t n = conn.run(
                      "UPDATE tokens SET revoked = true WHERE family_id <> '' AND NOT revoked"
                      " AND family_id IN (SELECT family_id FROM tokens WHERE code_key = $1"
                      " AND code_key <> '' AND family_id <> '')",
                      Params().text(code_key))
                  .affected();
  // Tokens issued with the code outside any family (a hybrid response's access token).
  n += conn.run(
               "UPDATE tokens SET revoked = true WHERE code_key = $1 AND code_key <> ''"
               " AND NOT revoked",
               Params().text(code_key))
           .affected();
  return n;
}

constexpr const char* kRevokeFamily =
    "UPDATE tokens SET revoked = true WHERE family_id = $1 AND family_id <> '' AND NOT revoked";

int clamp(int64_t n) {
  return n > std::numeric_limits<int>::max() ? std::numeric_limits<int>::max()
                                             : static_cast<int>(n);
}

// Revokes what an earlier use of `r` issued; returns how many tokens that revoked.
int revoke_issued(Connection& conn, const Redemption& r) {
  if (r.revoke_key.empty()) return 0;
  if (r.kind == Redemption::Kind::code) return clamp(revoke_code_descendants(conn, r.revoke_key));
  return clamp(conn.run(kRevokeFamily, Params().text(r.revoke_key)).affected());
}

// The row a redemption locks first (use_up), named as every node names it, so that the writers
// of nodes redeeming the same codes or refresh tokens lock them in one order (group_commit.h):
// codes before tokens, then by id (or by hash for a row found by hash). Any total order that
// every node computes alike would do.
std::string redemption_order_key(const Redemption& r) {
  std::string key = r.kind == Redemption::Kind::code ? "c" : "t";
  if (r.ref.id != 0) return key + ":" + std::to_string(r.ref.id);
  return key + "#" + r.ref.hash;
}

}  // namespace

void PostgresDatabase::save_tokens(const std::vector<Token>& tokens) {
  if (tokens.empty()) return;
  const std::vector<Token> rows = with_ids(tokens);
  // An access token and its refresh token are both durable or neither is.
  if (rows.size() == 1) {
    write([&](Connection& conn) { insert_tokens(conn, rows); });
  } else {
    transact([&](Connection& conn) { insert_tokens(conn, rows); });
  }
}

std::shared_ptr<PendingWrite> PostgresDatabase::save_tokens_later(
    const std::vector<Token>& tokens) {
  if (tokens.empty()) return PendingWrite::settled();
  return queue(
      [&]() -> GroupCommit::Work {
        return [rows = with_ids(tokens)](Connection& conn) { insert_tokens(conn, rows); };
      },
      [](const std::exception_ptr& error) { return WriteOutcome::of(error); });
}

std::vector<Token> PostgresDatabase::tokens_after(int64_t after_id, int limit) {
  return read([&](Connection& conn) {
    Result r = conn.run(kTokensAfter, Params().int64(after_id).int64(limit));
    std::vector<Token> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) out.push_back(read_token(r, i));
    return out;
  });
}

std::optional<Token> PostgresDatabase::find_token(const SecretRef& ref) {
  if (ref.hash.empty()) return std::nullopt;
  return read([&](Connection& conn) -> std::optional<Token> {
    Result r = ref.id != 0 ? conn.run(kFindById, Params().int64(ref.id))
                           : conn.run(kFindByHash, Params().text(ref.hash));
    if (r.rows() == 0) return std::nullopt;
    Token t = read_token(r, 0);
    // By id, the hash is compared here rather than in SQL: in constant time.
    if (!crypto::constant_time_equal(t.token_hash, ref.hash)) return std::nullopt;
    return t;
  });
}

int PostgresDatabase::revoke_token(const SecretRef& ref) {
  if (ref.hash.empty()) return 0;
  return clamp(write_announced(Change::token(ref.hash), [&](Connection& conn) {
    return run_ref(conn, kRevokeById, kRevokeByHash, ref).affected();
  }));
}

// Using up a code or a rotating refresh token and saving the tokens it buys are one queued
// write, in one transaction: of two requests with the same code, on any nodes, exactly one
// finds it unused, and neither request holds a thread while it waits.
std::shared_ptr<PendingWrite> PostgresDatabase::redeem_later(const Redemption& r,
                                                             const std::vector<Token>& tokens) {
  // Decided inside the write; read once the write has settled.
  struct Outcome {
    bool redeemed = false;
    int revoked = 0;
  };
  auto outcome = std::make_shared<Outcome>();
  return queue(
      [&]() -> GroupCommit::Work {
        // Sets every output on each run: the writer may run work twice (group_commit.h).
        return [r, rows = with_ids(tokens), outcome](Connection& conn) {
          outcome->revoked = 0;
          outcome->redeemed = use_up(conn, r);
          if (outcome->redeemed) {
            insert_tokens(conn, rows);
          } else {
            outcome->revoked = revoke_issued(conn, r);
            // Which tokens those were, no key names: every server drops its cached tokens.
            if (outcome->revoked > 0) notify_change(conn, Change::all_tokens());
          }
        };
      },
      [outcome](const std::exception_ptr& error) {
        if (error || outcome->redeemed) return WriteOutcome::of(error);
        return WriteOutcome::redeemed_before(outcome->revoked);
      },
      redemption_order_key(r));
}

// Each revocation counts only rows it newly revoked (revoked false -> true).

int PostgresDatabase::revoke_family(const std::string& family_id) {
  return update_count(kRevokeFamily, family_id, Change::all_tokens());
}

int PostgresDatabase::revoke_by_user(const std::string& user_id) {
  return update_count("UPDATE tokens SET revoked = true WHERE user_id = $1 AND NOT revoked",
                      user_id, Change::all_tokens());
}

int PostgresDatabase::revoke_by_user_app(const std::string& user_id, const std::string& client_id) {
  if (user_id.empty() || client_id.empty()) return 0;
  return clamp(write_announced(Change::all_tokens(), [&](Connection& conn) {
    return conn
        .run(
            "UPDATE tokens SET revoked = true WHERE user_id = $1 AND client_id = $2"
            " AND NOT revoked",
            Params().text(user_id).text(client_id))
        .affected();
  }));
}

}  // namespace latchkey::store::postgres
