// CodeStore: authorization codes (stored by hash, single use, found by the id they carry).
#include "crypto/crypto.h"
#include "store/postgres/postgres_database.h"

namespace latchkey::store::postgres {
namespace {

#define LK_CODE_COLUMNS                                                             \
  "id, code_hash, client_id, user_id, redirect_uri, scopes, code_challenge, nonce," \
  " auth_time_s, expires_ms, used"
constexpr const char* kCodeById = "SELECT " LK_CODE_COLUMNS " FROM auth_codes WHERE id = $1";
constexpr const char* kCodeByHash =
    "SELECT " LK_CODE_COLUMNS " FROM auth_codes WHERE code_hash = $1 AND id < 0";
// A batch of CodeReader's: ids in a bigint[] literal, `{1,2,3}`.
constexpr const char* kCodesByIds =
    "SELECT " LK_CODE_COLUMNS " FROM auth_codes WHERE id = ANY($1::bigint[])";
constexpr const char* kCodesAfter =
    "SELECT " LK_CODE_COLUMNS " FROM auth_codes WHERE id > $1 ORDER BY id LIMIT $2";
// Plain INSERT: a collision must fail loudly, never reset `used` on an existing code.
constexpr const char* kInsert = "INSERT INTO auth_codes (" LK_CODE_COLUMNS
                                ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
#undef LK_CODE_COLUMNS

AuthCode read_code(const Result& r, int row) {
  AuthCode c;
  c.id = r.int64(row, 0);
  c.code_hash = r.text(row, 1);
  c.client_id = r.text(row, 2);
  c.user_id = r.text(row, 3);
  c.redirect_uri = r.text(row, 4);
  c.scopes = r.list(row, 5);
  c.code_challenge = r.text(row, 6);
  c.nonce = r.text(row, 7);
  c.auth_time_s = r.int64(row, 8);
  c.expires_ms = r.int64(row, 9);
  c.used = r.boolean(row, 10);
  return c;
}

// The code `ref` names, its hash compared in constant time.
std::optional<AuthCode> select_code(Connection& conn, const SecretRef& ref) {
  if (ref.hash.empty()) return std::nullopt;
  Result r = ref.id != 0 ? conn.run(kCodeById, Params().int64(ref.id))
                         : conn.run(kCodeByHash, Params().text(ref.hash));
  if (r.rows() == 0) return std::nullopt;
  AuthCode c = read_code(r, 0);
  if (!crypto::constant_time_equal(c.code_hash, ref.hash)) return std::nullopt;
  return c;
}

Statement insert_code(const AuthCode& code) {
  Statement s{kInsert, {}};
  s.params.int64(code.id)
      .text(code.code_hash)
      .text(code.client_id)
      .text(code.user_id)
      .text(code.redirect_uri)
      .list(code.scopes)
      .text(code.code_challenge)
      .text(code.nonce)
      .int64(code.auth_time_s)
      .int64(code.expires_ms)
      .boolean(code.used);
  return s;
}

}  // namespace

void PostgresDatabase::save_code(const AuthCode& code) {
  const Statement insert = insert_code(with_id(code));
  write([&](Connection& conn) { conn.run(insert.sql, insert.params); });
}

std::shared_ptr<PendingWrite> PostgresDatabase::save_code_later(const AuthCode& code) {
  return queue(
      [&] {
        return Write{{insert_code(with_id(code))}, {}};
      },
      [](const std::exception_ptr& error) { return WriteOutcome::of(error); });
}

std::optional<AuthCode> PostgresDatabase::find_code(const SecretRef& ref) {
  return read([&](Connection& conn) { return select_code(conn, ref); });
}

void PostgresDatabase::find_code_later(const SecretRef& ref, const CodeFound& done) {
  reader_->find_later(ref, done);
}

std::vector<AuthCode> PostgresDatabase::read_codes(const std::vector<int64_t>& ids) {
  std::string list = "{";
  for (int64_t id : ids) {
    if (list.size() > 1) list += ',';
    list += std::to_string(id);
  }
  list += '}';
  return read([&](Connection& conn) {
    Result r = conn.run(kCodesByIds, Params().text(list));
    std::vector<AuthCode> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) out.push_back(read_code(r, i));
    return out;
  });
}

std::vector<AuthCode> PostgresDatabase::codes_after(int64_t after_id, int limit) {
  return read([&](Connection& conn) {
    Result r = conn.run(kCodesAfter, Params().int64(after_id).int64(limit));
    std::vector<AuthCode> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) out.push_back(read_code(r, i));
    return out;
  });
}

}  // namespace latchkey::store::postgres
