#include "store/sqlite/migrations.h"

#include <array>
#include <string>

#include "store/stores.h"

namespace latchkey::store::sqlite {
namespace {

// Vectors (scopes, callbacks, permission_sets) are JSON arrays of strings in TEXT columns
// (see list_codec.h). Hashes are primary keys so every hot-path lookup is one index probe.
constexpr const char* kMigration1 = R"sql(
CREATE TABLE orgs (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  created_ms  INTEGER NOT NULL
);
CREATE INDEX orgs_by_created ON orgs(created_ms);

CREATE TABLE users (
  id               TEXT PRIMARY KEY,
  org_id           TEXT NOT NULL,
  username         TEXT NOT NULL COLLATE NOCASE UNIQUE,
  email            TEXT NOT NULL,
  first_name       TEXT NOT NULL,
  last_name        TEXT NOT NULL,
  password_hash    TEXT NOT NULL,
  profile          TEXT NOT NULL,
  permission_sets  TEXT NOT NULL,
  active           INTEGER NOT NULL,
  created_ms       INTEGER NOT NULL
);
CREATE INDEX users_by_org ON users(org_id);

CREATE TABLE apps (
  client_id                   TEXT PRIMARY KEY,
  id                          TEXT NOT NULL UNIQUE,
  org_id                      TEXT NOT NULL,
  name                        TEXT NOT NULL,
  secret_hash                 TEXT NOT NULL,
  callbacks                   TEXT NOT NULL,
  scopes                      TEXT NOT NULL,
  pkce_required               INTEGER NOT NULL,
  require_secret_web_server   INTEGER NOT NULL,
  require_secret_refresh      INTEGER NOT NULL,
  admin_approved_only         INTEGER NOT NULL,
  cert_pem                    TEXT NOT NULL,
  client_credentials_user_id  TEXT NOT NULL,
  refresh_policy              TEXT NOT NULL CHECK (refresh_policy IN
                                ('until_revoked', 'immediately', 'expire_after', 'rotate')),
  refresh_ttl_s               INTEGER NOT NULL,
  access_token_ttl_s          INTEGER NOT NULL,
  allow_implicit              INTEGER NOT NULL,
  mtls_cert_pem               TEXT NOT NULL,
  token_format                TEXT NOT NULL,
  created_ms                  INTEGER NOT NULL
);

CREATE TABLE preauthorizations (
  client_id  TEXT NOT NULL REFERENCES apps(client_id) ON DELETE CASCADE,
  kind       TEXT NOT NULL,
  name       TEXT NOT NULL,
  PRIMARY KEY (client_id, kind, name)
) WITHOUT ROWID;

CREATE TABLE auth_codes (
  code_hash       TEXT PRIMARY KEY,
  client_id       TEXT NOT NULL,
  user_id         TEXT NOT NULL,
  redirect_uri    TEXT NOT NULL,
  scopes          TEXT NOT NULL,
  code_challenge  TEXT NOT NULL,
  nonce           TEXT NOT NULL,
  auth_time_s     INTEGER NOT NULL,
  expires_ms      INTEGER NOT NULL,
  used            INTEGER NOT NULL
);
CREATE INDEX auth_codes_by_expiry ON auth_codes(expires_ms);

CREATE TABLE tokens (
  token_hash  TEXT PRIMARY KEY,
  kind        TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
  client_id   TEXT NOT NULL,
  user_id     TEXT NOT NULL,
  org_id      TEXT NOT NULL,
  scopes      TEXT NOT NULL,
  family_id   TEXT NOT NULL,
  code_hash   TEXT NOT NULL,
  issued_ms   INTEGER NOT NULL,
  expires_ms  INTEGER NOT NULL,
  revoked     INTEGER NOT NULL,
  rotated     INTEGER NOT NULL,
  cnf_x5t     TEXT NOT NULL
);
-- Revocation by family (refresh reuse), by code (code replay) and by user.
CREATE INDEX tokens_by_family ON tokens(family_id);
CREATE INDEX tokens_by_code ON tokens(code_hash);
CREATE INDEX tokens_by_user ON tokens(user_id);
CREATE INDEX tokens_by_expiry ON tokens(expires_ms);

CREATE TABLE consents (
  user_id     TEXT NOT NULL,
  client_id   TEXT NOT NULL,
  scopes      TEXT NOT NULL,
  granted_ms  INTEGER NOT NULL,
  PRIMARY KEY (user_id, client_id)
) WITHOUT ROWID;

CREATE TABLE signing_keys (
  kid          TEXT PRIMARY KEY,
  alg          TEXT NOT NULL,
  private_pem  TEXT NOT NULL,
  created_ms   INTEGER NOT NULL,
  retired_ms   INTEGER NOT NULL
);
CREATE INDEX signing_keys_by_created ON signing_keys(created_ms);

CREATE TABLE sessions (
  session_hash  TEXT PRIMARY KEY,
  user_id       TEXT NOT NULL,
  auth_time_s   INTEGER NOT NULL,
  expires_ms    INTEGER NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions(expires_ms);
)sql";

// RFC 8705 §2.1 tls_client_auth: the registered subject DN (normalized), '' for other apps.
constexpr const char* kMigration2 = R"sql(
ALTER TABLE apps ADD COLUMN mtls_subject_dn TEXT NOT NULL DEFAULT '';
)sql";

// Less written per token: every index is a random page touched per insert and written to the
// WAL at the next commit. Nothing reads by expiry, so those indexes go; tokens outside a
// refresh family or not issued from a code (client credentials, bearer grants) leave the
// family and code indexes alone.
constexpr const char* kMigration3 = R"sql(
DROP INDEX tokens_by_expiry;
DROP INDEX auth_codes_by_expiry;
DROP INDEX tokens_by_family;
CREATE INDEX tokens_by_family ON tokens(family_id) WHERE family_id != '';
DROP INDEX tokens_by_code;
CREATE INDEX tokens_by_code ON tokens(code_hash) WHERE code_hash != '';
)sql";

// Tokens and codes get an integer id they also carry (SecretRef): new rows are appended in id
// order and found by id, instead of landing at a random place in an index over their hashes,
// which cost a page written per token and slowed down as the table grew. Rows already there
// keep being found by hash: they get negative ids, and only negative ids are in the hash
// indexes. Tokens name the code they came from by its id (code_key) rather than its hash, for
// the same reason; rows from before keep naming it by hash unless the code is still there.
constexpr const char* kMigration4 = R"sql(
CREATE TABLE auth_codes_v4 (
  id              INTEGER PRIMARY KEY,
  code_hash       TEXT NOT NULL,
  client_id       TEXT NOT NULL,
  user_id         TEXT NOT NULL,
  redirect_uri    TEXT NOT NULL,
  scopes          TEXT NOT NULL,
  code_challenge  TEXT NOT NULL,
  nonce           TEXT NOT NULL,
  auth_time_s     INTEGER NOT NULL,
  expires_ms      INTEGER NOT NULL,
  used            INTEGER NOT NULL
);
INSERT INTO auth_codes_v4 (id, code_hash, client_id, user_id, redirect_uri, scopes,
                           code_challenge, nonce, auth_time_s, expires_ms, used)
  SELECT -rowid, code_hash, client_id, user_id, redirect_uri, scopes, code_challenge, nonce,
         auth_time_s, expires_ms, used FROM auth_codes;
CREATE UNIQUE INDEX auth_codes_by_hash ON auth_codes_v4(code_hash) WHERE id < 0;
CREATE TABLE tokens_v4 (
  id          INTEGER PRIMARY KEY,
  token_hash  TEXT NOT NULL,
  kind        TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
  client_id   TEXT NOT NULL,
  user_id     TEXT NOT NULL,
  org_id      TEXT NOT NULL,
  scopes      TEXT NOT NULL,
  family_id   TEXT NOT NULL,
  code_key    TEXT NOT NULL,
  issued_ms   INTEGER NOT NULL,
  expires_ms  INTEGER NOT NULL,
  revoked     INTEGER NOT NULL,
  rotated     INTEGER NOT NULL,
  cnf_x5t     TEXT NOT NULL
);
INSERT INTO tokens_v4 (id, token_hash, kind, client_id, user_id, org_id, scopes, family_id,
                       code_key, issued_ms, expires_ms, revoked, rotated, cnf_x5t)
  SELECT -t.rowid, t.token_hash, t.kind, t.client_id, t.user_id, t.org_id, t.scopes,
         t.family_id,
         coalesce((SELECT CAST(c.id AS TEXT) FROM auth_codes_v4 c
                   WHERE c.code_hash = t.code_hash AND c.id < 0 AND t.code_hash != ''),
                  t.code_hash),
         t.issued_ms, t.expires_ms, t.revoked, t.rotated, t.cnf_x5t
  FROM tokens t;
DROP TABLE tokens;
DROP TABLE auth_codes;
ALTER TABLE tokens_v4 RENAME TO tokens;
ALTER TABLE auth_codes_v4 RENAME TO auth_codes;
CREATE UNIQUE INDEX tokens_by_hash ON tokens(token_hash) WHERE id < 0;
CREATE INDEX tokens_by_family ON tokens(family_id) WHERE family_id != '';
CREATE INDEX tokens_by_code ON tokens(code_key) WHERE code_key != '';
CREATE INDEX tokens_by_user ON tokens(user_id);
)sql";

// Tokens remember when the user signed in for their grant, so that an ID token minted by a
// refresh carries the original auth_time (OIDC Core §12.2). Adding a column with a constant
// default rewrites no rows; tokens from before read 0 (no authentication time known) and so
// refresh as before, without auth_time.
constexpr const char* kMigration5 = R"sql(
ALTER TABLE tokens ADD COLUMN auth_time_s INTEGER NOT NULL DEFAULT 0;
)sql";

// Two things of the 2026-12 security review in one version:
// - apps.token_endpoint_auth_method (RFC 7591 §2): apps registered before take the method their
//   registration implies, so an mTLS app stops accepting its client secret and every other app
//   keeps working as it did (client_secret_basic admits the secret in the header or the body,
//   and private_key_jwt for an app with a certificate).
// - replay_keys: the single-use identifiers of assertions (client assertion and JWT bearer
//   jti, SAML assertion IDs), kept until the assertion expires, so that a restart or a second
//   process on the same file still refuses a replay. `key` is a digest, so a row costs the same
//   whatever the identifier; the index by client serves the per-client quota, the index by
//   expiry the purge of expired rows.
constexpr const char* kMigration6 = R"sql(
ALTER TABLE apps ADD COLUMN token_endpoint_auth_method TEXT NOT NULL
  DEFAULT 'client_secret_basic' CHECK (token_endpoint_auth_method IN
  ('none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt',
   'self_signed_tls_client_auth', 'tls_client_auth'));
UPDATE apps SET token_endpoint_auth_method = 'self_signed_tls_client_auth'
  WHERE mtls_cert_pem != '';
UPDATE apps SET token_endpoint_auth_method = 'tls_client_auth' WHERE mtls_subject_dn != '';
CREATE TABLE replay_keys (
  key         TEXT PRIMARY KEY,
  client_id   TEXT NOT NULL,
  expires_ms  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX replay_keys_by_client ON replay_keys(client_id, expires_ms);
CREATE INDEX replay_keys_by_expiry ON replay_keys(expires_ms);
)sql";

// apps.allow_password_flow: the username-password flow (grant_type=password) per app, off for
// every app registered before, as for new ones unless asked for (docs/behaviour.md §5.11).
constexpr const char* kMigration7 = R"sql(
ALTER TABLE apps ADD COLUMN allow_password_flow INTEGER NOT NULL DEFAULT 0;
)sql";

// tokens.rotated_ms: when a refresh token was first rotated, so that a retry within the reuse
// grace window may use it again (docs/behaviour.md §5.4). Tokens rotated before read 0, which is
// outside every window: they stay used up, as they were.
constexpr const char* kMigration8 = R"sql(
ALTER TABLE tokens ADD COLUMN rotated_ms INTEGER NOT NULL DEFAULT 0;
)sql";

// admin_tokens: the admin API's credentials (docs/admin-api.md), by name, each kept as the
// SHA-256 of the token.
constexpr const char* kMigration9 = R"sql(
CREATE TABLE admin_tokens (
  name        TEXT PRIMARY KEY,
  token_hash  TEXT NOT NULL UNIQUE,
  created_ms  INTEGER NOT NULL
);
)sql";

// Index i holds the migration to version i + 1.
constexpr std::array<const char*, 9> kMigrations = {kMigration1, kMigration2, kMigration3,
                                                    kMigration4, kMigration5, kMigration6,
                                                    kMigration7, kMigration8, kMigration9};

}  // namespace

int64_t latest_schema_version() { return static_cast<int64_t>(kMigrations.size()); }

int64_t schema_version(Connection& conn) { return conn.query_int("PRAGMA user_version"); }

void migrate(Connection& conn) {
  const int64_t latest = latest_schema_version();
  // Cheap check without the write lock: the common case is an up-to-date file.
  if (schema_version(conn) == latest) return;
  for (int64_t next = 1; next <= latest; ++next) {
    Transaction tx(conn);
    // Re-read under the write lock: another process may have migrated since we looked.
    const int64_t current = schema_version(conn);
    if (current > latest) {
      throw StoreError("sqlite: database schema version " + std::to_string(current) +
                       " is newer than this build supports (" + std::to_string(latest) + ")");
    }
    if (current >= next) continue;
    conn.exec(kMigrations[static_cast<std::size_t>(next - 1)]);
    // PRAGMA takes no bound parameters; the value is our own integer.
    conn.exec("PRAGMA user_version=" + std::to_string(next));
    tx.commit();
  }
}

}  // namespace latchkey::store::sqlite
