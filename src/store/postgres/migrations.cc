#include "store/postgres/migrations.h"

#include <array>
#include <string>

namespace latchkey::store::postgres {
namespace {

// The schema of SQLite's version 6 (store/sqlite/migrations.cc says why each part is there), in
// PostgreSQL's terms:
// - lists (scopes, callbacks, permission sets) are TEXT[] (postgres_array.h);
// - flags are BOOLEAN, times and counts BIGINT;
// - orgs, users and apps keep their insertion order in `seq`, which SQLite's rowid gave;
// - usernames are unique ignoring ASCII case, as SQLite's NOCASE: lower() under the "C"
//   collation folds ASCII letters only;
// - token and code ids come from the sequence row_ids (PostgresDatabase::allocate_id), which
//   counts in blocks of 64 a process hands out itself.
constexpr const char* kMigration1 = R"sql(
CREATE TABLE orgs (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  created_ms  BIGINT NOT NULL,
  seq         BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX orgs_by_created ON orgs(created_ms, seq);

CREATE TABLE users (
  id               TEXT PRIMARY KEY,
  org_id           TEXT NOT NULL,
  username         TEXT NOT NULL,
  email            TEXT NOT NULL,
  first_name       TEXT NOT NULL,
  last_name        TEXT NOT NULL,
  password_hash    TEXT NOT NULL,
  profile          TEXT NOT NULL,
  permission_sets  TEXT[] NOT NULL,
  active           BOOLEAN NOT NULL,
  created_ms       BIGINT NOT NULL,
  seq              BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE UNIQUE INDEX users_by_username ON users ((lower(username COLLATE "C")));
CREATE INDEX users_by_org ON users(org_id);

CREATE TABLE apps (
  client_id                   TEXT PRIMARY KEY,
  id                          TEXT NOT NULL UNIQUE,
  org_id                      TEXT NOT NULL,
  name                        TEXT NOT NULL,
  secret_hash                 TEXT NOT NULL,
  callbacks                   TEXT[] NOT NULL,
  scopes                      TEXT[] NOT NULL,
  pkce_required               BOOLEAN NOT NULL,
  require_secret_web_server   BOOLEAN NOT NULL,
  require_secret_refresh      BOOLEAN NOT NULL,
  admin_approved_only         BOOLEAN NOT NULL,
  cert_pem                    TEXT NOT NULL,
  client_credentials_user_id  TEXT NOT NULL,
  refresh_policy              TEXT NOT NULL CHECK (refresh_policy IN
                                ('until_revoked', 'immediately', 'expire_after', 'rotate')),
  refresh_ttl_s               BIGINT NOT NULL,
  access_token_ttl_s          BIGINT NOT NULL,
  allow_implicit              BOOLEAN NOT NULL,
  mtls_cert_pem               TEXT NOT NULL,
  token_format                TEXT NOT NULL,
  created_ms                  BIGINT NOT NULL,
  mtls_subject_dn             TEXT NOT NULL,
  token_endpoint_auth_method  TEXT NOT NULL CHECK (token_endpoint_auth_method IN
                                ('none', 'client_secret_basic', 'client_secret_post',
                                 'private_key_jwt', 'self_signed_tls_client_auth',
                                 'tls_client_auth')),
  seq                         BIGINT GENERATED ALWAYS AS IDENTITY
);

CREATE TABLE preauthorizations (
  client_id  TEXT NOT NULL REFERENCES apps(client_id) ON DELETE CASCADE,
  kind       TEXT NOT NULL,
  name       TEXT NOT NULL,
  PRIMARY KEY (client_id, kind, name)
);

CREATE SEQUENCE row_ids AS BIGINT INCREMENT BY 64 MINVALUE 1 START WITH 1;

CREATE TABLE auth_codes (
  id              BIGINT PRIMARY KEY,
  code_hash       TEXT NOT NULL,
  client_id       TEXT NOT NULL,
  user_id         TEXT NOT NULL,
  redirect_uri    TEXT NOT NULL,
  scopes          TEXT[] NOT NULL,
  code_challenge  TEXT NOT NULL,
  nonce           TEXT NOT NULL,
  auth_time_s     BIGINT NOT NULL,
  expires_ms      BIGINT NOT NULL,
  used            BOOLEAN NOT NULL
);
CREATE UNIQUE INDEX auth_codes_by_hash ON auth_codes(code_hash) WHERE id < 0;

CREATE TABLE tokens (
  id          BIGINT PRIMARY KEY,
  token_hash  TEXT NOT NULL,
  kind        TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
  client_id   TEXT NOT NULL,
  user_id     TEXT NOT NULL,
  org_id      TEXT NOT NULL,
  scopes      TEXT[] NOT NULL,
  family_id   TEXT NOT NULL,
  code_key    TEXT NOT NULL,
  issued_ms   BIGINT NOT NULL,
  expires_ms  BIGINT NOT NULL,
  revoked     BOOLEAN NOT NULL,
  rotated     BOOLEAN NOT NULL,
  cnf_x5t     TEXT NOT NULL,
  auth_time_s BIGINT NOT NULL
);
CREATE UNIQUE INDEX tokens_by_hash ON tokens(token_hash) WHERE id < 0;
CREATE INDEX tokens_by_family ON tokens(family_id) WHERE family_id <> '';
CREATE INDEX tokens_by_code ON tokens(code_key) WHERE code_key <> '';
CREATE INDEX tokens_by_user ON tokens(user_id);

CREATE TABLE consents (
  user_id     TEXT NOT NULL,
  client_id   TEXT NOT NULL,
  scopes      TEXT[] NOT NULL,
  granted_ms  BIGINT NOT NULL,
  PRIMARY KEY (user_id, client_id)
);
CREATE INDEX consents_by_client ON consents(client_id);

CREATE TABLE signing_keys (
  kid          TEXT PRIMARY KEY,
  alg          TEXT NOT NULL,
  private_pem  TEXT NOT NULL,
  created_ms   BIGINT NOT NULL,
  retired_ms   BIGINT NOT NULL
);

CREATE TABLE sessions (
  session_hash  TEXT PRIMARY KEY,
  user_id       TEXT NOT NULL,
  auth_time_s   BIGINT NOT NULL,
  expires_ms    BIGINT NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions(expires_ms);

CREATE TABLE replay_keys (
  key         TEXT PRIMARY KEY,
  client_id   TEXT NOT NULL,
  expires_ms  BIGINT NOT NULL
);
CREATE INDEX replay_keys_by_client ON replay_keys(client_id, expires_ms);
CREATE INDEX replay_keys_by_expiry ON replay_keys(expires_ms);
)sql";

// SQLite's version 7: apps.allow_password_flow, off for apps registered before.
constexpr const char* kMigration2 = R"sql(
ALTER TABLE apps ADD COLUMN allow_password_flow BOOLEAN NOT NULL DEFAULT false;
)sql";

// SQLite's version 8: tokens.rotated_ms, when a refresh token was first rotated (the reuse grace
// window); tokens rotated before read 0, outside every window. A constant default rewrites no
// rows.
constexpr const char* kMigration3 = R"sql(
ALTER TABLE tokens ADD COLUMN rotated_ms BIGINT NOT NULL DEFAULT 0;
)sql";

// SQLite's version 9: admin_tokens, the admin API's credentials (docs/admin-api.md).
constexpr const char* kMigration4 = R"sql(
CREATE TABLE admin_tokens (
  name        TEXT PRIMARY KEY,
  token_hash  TEXT NOT NULL UNIQUE,
  created_ms  BIGINT NOT NULL
);
)sql";

// Index i holds the migration to version i + 1.
constexpr std::array<const char*, 4> kMigrations = {kMigration1, kMigration2, kMigration3,
                                                    kMigration4};

// pg_advisory_xact_lock's key for migrations: any constant other uses of the database are
// unlikely to pick ("latchkey" in ASCII).
constexpr const char* kMigrationLock = "SELECT pg_advisory_xact_lock(7809651199139603833)";

}  // namespace

int64_t latest_schema_version() { return static_cast<int64_t>(kMigrations.size()); }

int64_t schema_version(Connection& conn) {
  // Two statements: one naming a table that does not exist would fail as it is parsed.
  if (!conn.exec("SELECT to_regclass('latchkey_schema') IS NOT NULL").boolean(0, 0)) return 0;
  Result r = conn.exec("SELECT version FROM latchkey_schema");
  return r.rows() == 0 ? 0 : r.int64(0, 0);
}

void migrate(Connection& conn) {
  const int64_t latest = latest_schema_version();
  // Cheap check without the lock: the common case is an up-to-date database.
  if (schema_version(conn) == latest) return;
  Transaction tx(conn);
  // A migration may rewrite a large table, and may wait for another process's migration (the
  // lock below): neither is a request's statement, which the connection's statement_timeout
  // bounds (postgres_database.h).
  conn.exec("SET LOCAL statement_timeout = 0");
  conn.exec(kMigrationLock);
  // Re-read under the lock: another process may have migrated since we looked.
  conn.exec("CREATE TABLE IF NOT EXISTS latchkey_schema (version BIGINT NOT NULL)");
  conn.exec(
      "INSERT INTO latchkey_schema SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM latchkey_schema)");
  const int64_t current = schema_version(conn);
  if (current > latest) {
    throw StoreError("postgres: database schema version " + std::to_string(current) +
                     " is newer than this build supports (" + std::to_string(latest) + ")");
  }
  for (int64_t next = current + 1; next <= latest; ++next) {
    conn.exec(kMigrations[static_cast<std::size_t>(next - 1)]);
  }
  conn.exec("UPDATE latchkey_schema SET version = " + std::to_string(latest));
  tx.commit();
}

}  // namespace latchkey::store::postgres
