// TokenStore: access and refresh tokens (stored by hash), their revocation, and redemption.
#include <algorithm>
#include <array>
#include <limits>
#include <string>

#include "crypto/crypto.h"
#include "store/postgres/postgres_array.h"
#include "store/postgres/postgres_database.h"
#include "store/record_names.h"

namespace latchkey::store::postgres {
namespace {

#define LK_TOKEN_COLUMNS                                                           \
  "id, token_hash, kind, client_id, user_id, org_id, scopes, family_id, code_key," \
  " issued_ms, expires_ms, revoked, rotated, cnf_x5t, auth_time_s, rotated_ms"
constexpr const char* kTokenColumns = LK_TOKEN_COLUMNS;
constexpr const char* kFindById = "SELECT " LK_TOKEN_COLUMNS " FROM tokens WHERE id = $1";
constexpr const char* kFindByHash =
    "SELECT " LK_TOKEN_COLUMNS " FROM tokens WHERE token_hash = $1 AND id < 0";
constexpr const char* kTokensAfter =
    "SELECT " LK_TOKEN_COLUMNS " FROM tokens WHERE id > $1 ORDER BY id LIMIT $2";

// `n` rows of token values for a VALUES list, their parameters numbered from `first`. The casts
// name each column's type: a VALUES list that is not an INSERT's own takes its types from them.
std::string token_rows(std::size_t n, int first) {
  static constexpr std::array<const char*, 16> kTypes = {
      "::bigint", "",         "",         "",          "",          "", "::text[]", "",
      "",         "::bigint", "::bigint", "::boolean", "::boolean", "", "::bigint", "::bigint"};
  std::string out;
  int p = first;
  for (std::size_t row = 0; row < n; ++row) {
    out += row == 0 ? "(" : ", (";
    for (std::size_t col = 0; col < kTypes.size(); ++col) {
      if (col > 0) out += ", ";
      out += '$';
      out += std::to_string(p++);
      out += kTypes[col];
    }
    out += ")";
  }
  return out;
}

void add_token(Params& params, const Token& t) {
  params.int64(t.id)
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
      .int64(t.auth_time_s)
      .int64(t.rotated_ms);
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
  t.rotated_ms = r.int64(row, 15);
  return t;
}

// The UPDATEs naming one row by SecretRef: by id ($1 id, $2 hash) or by hash ($1).
// A revoked refresh token is not rotated either: the redemption's write, not a node's cached
// copy of the token, decides (RFC 9700 §4.14.2; stores.h, TokenStore::redeem_later).
// A rotated one is used again only when first rotated at or after Redemption::reuse_since_ms,
// and keeps that first time (every SET expression reads the row as it was). After the id and
// hash ($1, $2; the hash alone, $1, by hash) come the rotation's time and reuse_since_ms.
#define LK_ROTATE                                                         \
  "UPDATE tokens SET rotated = true, rotated_ms = CASE WHEN rotated THEN" \
  " rotated_ms ELSE "
#define LK_ROTATABLE " AND NOT revoked AND (NOT rotated OR rotated_ms >= "
constexpr const char* kRotateById =
    LK_ROTATE "$3 END WHERE id = $1 AND token_hash = $2" LK_ROTATABLE "$4)";
constexpr const char* kRotateByHash =
    LK_ROTATE "$2 END WHERE token_hash = $1 AND id < 0" LK_ROTATABLE "$3)";
#undef LK_ROTATE
#undef LK_ROTATABLE
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

// The statement that uses up `r` and, only if it did, saves `tokens`: the conditional UPDATE
// marks the code or refresh token used if it was not, and the INSERT takes its rows from the
// UPDATE's, so it inserts every token or none. One statement, so it is sent ahead with the rest
// of a batch, no answer awaited in between. The UPDATE takes the row's lock: a contender on
// another node waits for this transaction, then finds the row used. Its result counts the rows
// inserted (the UPDATE's alone when there are no tokens): none means the redemption failed.
Statement redeem_statement(const Redemption& r, const std::vector<Token>& tokens) {
  const bool code = r.kind == Redemption::Kind::code;
  Statement s;
  if (r.ref.id != 0) {
    s.sql = code ? kUseCodeById : kRotateById;
    s.params.int64(r.ref.id).text(r.ref.hash);
  } else {
    s.sql = code ? kUseCodeByHash : kRotateByHash;
    s.params.text(r.ref.hash);
  }
  if (!code) s.params.int64(r.now_ms).int64(r.reuse_since_ms);
  if (tokens.empty()) return s;
  const int first = static_cast<int>(s.params.values().size()) + 1;
  s.sql = "WITH used AS (" + s.sql + " RETURNING 1) INSERT INTO tokens (" + kTokenColumns +
          ") SELECT v.* FROM used, (VALUES " + token_rows(tokens.size(), first) + ") AS v";
  for (const Token& t : tokens) add_token(s.params, t);
  return s;
}

// The statements of the units (write_units.h), their text the same for any number of tokens, so
// each is prepared once. $1 to $16 hold one array per token column; the scopes of each token
// travel as one element of a TEXT[], itself an array in text form (token_arrays).
#define LK_SELECT_TOKENS                                                                       \
  " SELECT t.id, t.token_hash, t.kind, t.client_id, t.user_id, t.org_id, t.scopes::text[],"    \
  " t.family_id, t.code_key, t.issued_ms, t.expires_ms, t.revoked, t.rotated, t.cnf_x5t,"      \
  " t.auth_time_s, t.rotated_ms FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]," \
  " $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::bigint[], $11::bigint[]," \
  " $12::boolean[], $13::boolean[], $14::text[], $15::bigint[], $16::bigint[]"
// A unit of token saves: every token in one INSERT.
constexpr const char* kSaveTokens =
    "INSERT INTO tokens (" LK_TOKEN_COLUMNS ")" LK_SELECT_TOKENS ") AS t(" LK_TOKEN_COLUMNS ")";
// A unit of code redemptions: after the token columns, $17 and $18 the codes' ids (ascending)
// and hashes, and $19 the id of the code each token is bought with. It answers the ids of the
// codes it used up; the tokens of exactly those codes are inserted.
constexpr const char* kRedeemCodes =
    "WITH used AS (UPDATE auth_codes c SET used = true"
    " FROM unnest($17::bigint[], $18::text[]) AS k(id, hash)"
    " WHERE c.id = k.id AND c.code_hash = k.hash AND NOT c.used RETURNING c.id),"
    " saved AS (INSERT INTO tokens (" LK_TOKEN_COLUMNS ")" LK_SELECT_TOKENS
    ", $19::bigint[]) AS t(" LK_TOKEN_COLUMNS
    ", code_id) JOIN used ON used.id = t.code_id)"
    " SELECT id FROM used";
#undef LK_SELECT_TOKENS
#undef LK_TOKEN_COLUMNS

// One string per token, for encode_text_array.
template <class F>
std::vector<std::string> project(const std::vector<const Token*>& tokens, F item) {
  std::vector<std::string> out;
  out.reserve(tokens.size());
  for (const Token* t : tokens) out.push_back(item(*t));
  return out;
}

// A bigint[] or boolean[] value in text form.
template <class T, class F>
std::string array_of(const std::vector<T>& items, F item) {
  std::string out = "{";
  for (const T& t : items) {
    if (out.size() > 1) out += ',';
    out += item(t);
  }
  out += '}';
  return out;
}

// $1 to $16 of kSaveTokens and kRedeemCodes: one array per column of `tokens`.
void token_arrays(Params& params, const std::vector<const Token*>& tokens) {
  auto column = [&tokens](auto item) { return encode_text_array(project(tokens, item)); };
  auto number = [&tokens](auto item) {
    return array_of(tokens, [&item](const Token* t) { return std::to_string(item(*t)); });
  };
  auto truth = [&tokens](auto item) {
    return array_of(tokens, [&item](const Token* t) { return std::string(item(*t) ? "t" : "f"); });
  };
  params.text(number([](const Token& t) { return t.id; }))
      .text(column([](const Token& t) { return t.token_hash; }))
      .text(column([](const Token& t) { return std::string(to_string(t.kind)); }))
      .text(column([](const Token& t) { return t.client_id; }))
      .text(column([](const Token& t) { return t.user_id; }))
      .text(column([](const Token& t) { return t.org_id; }))
      .text(column([](const Token& t) { return encode_text_array(t.scopes); }))
      .text(column([](const Token& t) { return t.family_id; }))
      .text(column([](const Token& t) { return t.code_key; }))
      .text(number([](const Token& t) { return t.issued_ms; }))
      .text(number([](const Token& t) { return t.expires_ms; }))
      .text(truth([](const Token& t) { return t.revoked; }))
      .text(truth([](const Token& t) { return t.rotated; }))
      .text(column([](const Token& t) { return t.cnf_x5t; }))
      .text(number([](const Token& t) { return t.auth_time_s; }))
      .text(number([](const Token& t) { return t.rotated_ms; }));
}

// One INSERT for all of `tokens` (not empty), as a statement to send or run.
Statement insert_tokens(const std::vector<const Token*>& tokens) {
  Statement s{kSaveTokens, {}};
  token_arrays(s.params, tokens);
  return s;
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

// The row a redemption locks first (redeem_statement), named as every node names it, so that the
// writers of nodes redeeming the same codes or refresh tokens lock them in one order
// (group_commit.h): codes before tokens, then by id (or by hash for a row found by hash). Any total
// order that every node computes alike would do.
std::string redemption_order_key(const Redemption& r) {
  std::string key = r.kind == Redemption::Kind::code ? "c" : "t";
  if (r.ref.id != 0) return key + ":" + std::to_string(r.ref.id);
  return key + "#" + r.ref.hash;
}

}  // namespace

void PostgresDatabase::save_tokens(const std::vector<Token>& tokens) {
  if (tokens.empty()) return;
  const std::vector<Token> rows = with_ids(tokens);
  // An access token and its refresh token are both durable or neither is: one statement, in a
  // transaction of its own when it holds several.
  std::vector<const Token*> pointers;
  pointers.reserve(rows.size());
  for (const Token& t : rows) pointers.push_back(&t);
  const Statement insert = insert_tokens(pointers);
  const auto run = [&](Connection& conn) { conn.run(insert.sql, insert.params); };
  if (rows.size() == 1) {
    write(run);
  } else {
    transact(run);
  }
}

// With the other saves of the batch, in one INSERT (write_units.h).
std::shared_ptr<PendingWrite> PostgresDatabase::save_tokens_later(
    const std::vector<Token>& tokens) {
  if (tokens.empty()) return PendingWrite::settled();
  auto pending = std::make_shared<PendingWrite>();
  try {
    token_saves_->add({with_ids(tokens), pending});
  } catch (const StoreError& e) {
    pending->settle(WriteOutcome::failed_because(e.what()));
  }
  return pending;
}

Write PostgresDatabase::save_tokens_write(const WriteUnits<TokenSave>::Parts& parts) {
  std::vector<const Token*> tokens;
  for (const TokenSave& p : *parts) {
    for (const Token& t : p.tokens) tokens.push_back(&t);
  }
  return Write{{insert_tokens(tokens)}, {}};
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
  // A code found by id goes with the other codes of the batch, in one statement.
  if (r.kind == Redemption::Kind::code && r.ref.id != 0) {
    auto pending = std::make_shared<PendingWrite>();
    try {
      code_redemptions_->add({r, with_ids(tokens), pending});
    } catch (const StoreError& e) {
      pending->settle(WriteOutcome::failed_because(e.what()));
    }
    return pending;
  }
  // Decided inside the write; read once the write has settled.
  struct Outcome {
    bool redeemed = false;
    int revoked = 0;
  };
  auto outcome = std::make_shared<Outcome>();
  return queue(
      [&] {
        // Sets every output on each run: the writer may run a write twice (group_commit.h).
        return Write{{redeem_statement(r, with_ids(tokens))},
                     [r, outcome](Connection& conn, std::vector<Result>& results) {
                       outcome->revoked = 0;
                       outcome->redeemed = results.at(0).affected() > 0;
                       if (outcome->redeemed) return;
                       // A statement of its own, after the failed UPDATE: it sees the tokens a
                       // concurrent winner has just committed, which the UPDATE's snapshot may not.
                       outcome->revoked = revoke_issued(conn, r);
                       // Which tokens those were, no key names: every server drops its cached
                       // tokens.
                       if (outcome->revoked > 0) notify_change(conn, Change::all_tokens());
                     }};
      },
      [outcome](const std::exception_ptr& error) {
        if (error || outcome->redeemed) return WriteOutcome::of(error);
        return WriteOutcome::redeemed_before(outcome->revoked);
      },
      redemption_order_key(r));
}

// The unit's statement goes with the rest of the batch's pipeline, so a batch of code exchanges
// costs the round trips of a batch of token saves plus the COMMIT's (group_commit.h); its `then`
// reads which codes it used up and handles the others.
Write PostgresDatabase::redeem_codes_write(const WriteUnits<CodeRedemption>::Parts& parts) {
  // The first redemption of each code goes to the statement; a later one of the same code is
  // its replay (one row is updated once per statement, so both would otherwise see their code
  // among those used).
  std::vector<bool> is_sent(parts->size(), false);
  std::vector<const CodeRedemption*> sent;
  for (std::size_t i = 0; i < parts->size(); ++i) {
    const CodeRedemption& p = (*parts)[i];
    const bool first = std::none_of(sent.begin(), sent.end(), [&](const auto* s) {
      return s->redemption.ref.id == p.redemption.ref.id;
    });
    if (first) sent.push_back(&p);
    is_sent[i] = first;
  }
  // Ascending ids: the order the statement locks the codes in, as the planner joins them by
  // the primary key (the lock order of postgres_database.h).
  std::sort(sent.begin(), sent.end(), [](const auto* a, const auto* b) {
    return a->redemption.ref.id < b->redemption.ref.id;
  });
  std::vector<int64_t> ids;
  std::vector<std::string> hashes;
  std::vector<const Token*> tokens;
  std::vector<int64_t> code_of;
  for (const auto* p : sent) {
    ids.push_back(p->redemption.ref.id);
    hashes.push_back(p->redemption.ref.hash);
    for (const Token& t : p->tokens) {
      tokens.push_back(&t);
      code_of.push_back(p->redemption.ref.id);
    }
  }
  auto number = [](int64_t n) { return std::to_string(n); };
  Params params;
  token_arrays(params, tokens);
  params.text(array_of(ids, number)).list(hashes).text(array_of(code_of, number));
  return Write{
      {Statement{kRedeemCodes, std::move(params)}},
      [parts, is_sent = std::move(is_sent)](Connection& conn, std::vector<Result>& results) {
        settle_codes(conn, *parts, is_sent, results.at(0));
      }};
}

void PostgresDatabase::settle_codes(Connection& conn, std::vector<CodeRedemption>& parts,
                                    const std::vector<bool>& is_sent, const Result& used) {
  std::vector<int64_t> used_ids;
  used_ids.reserve(static_cast<std::size_t>(used.rows()));
  for (int i = 0; i < used.rows(); ++i) used_ids.push_back(used.int64(i, 0));
  // Sets every output on each run: the writer may run a write twice (group_commit.h).
  bool any_revoked = false;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    auto& p = parts[i];
    p.revoked = 0;
    p.redeemed = is_sent[i] &&
                 std::find(used_ids.begin(), used_ids.end(), p.redemption.ref.id) != used_ids.end();
    if (p.redeemed) continue;
    // As redeem_later's single statement refuses it: a statement of its own, after the UPDATE,
    // which sees the tokens a concurrent winner (or this unit's) has just saved.
    p.revoked = revoke_issued(conn, p.redemption);
    any_revoked = any_revoked || p.revoked > 0;
  }
  if (any_revoked) notify_change(conn, Change::all_tokens());
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
