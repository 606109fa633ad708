// SQLite-specific behaviour the conformance suite cannot see: migrations, file handling,
// I/O failures, and the list encoding.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <filesystem>
#include <fstream>
#include <vector>
#include <thread>
#include <chrono>

#include "store/sqlite/list_codec.h"
#include "store/sqlite/migrations.h"
#include "store/sqlite/sqlite_connection.h"
#include "store/sqlite/sqlite_database.h"
#include "conformance.h"
#include "temp_dir.h"

namespace latchkey::store::sqlite {
namespace {

using store::testing::redeem;

class SqliteBackend : public ::testing::Test {
 protected:
  test::TempDir dir_;
  const std::string path_ = dir_.file("latchkey.db");
};

TEST_F(SqliteBackend, NewFileIsMigratedToTheLatestVersionInWalMode) {
  { SqliteDatabase db(path_); }
  Connection conn(path_);
  EXPECT_EQ(schema_version(conn), latest_schema_version());
  Statement st = conn.prepare("PRAGMA journal_mode");
  ASSERT_TRUE(st.step());
  EXPECT_EQ(st.column_text(0), "wal");
}

// synchronous=FULL is per connection, so check what every new connection gets: a token
// returned to a client must survive power loss, not only a crash of the process.
TEST_F(SqliteBackend, ConnectionsAreDurableAndEnforceForeignKeys) {
  Connection conn(path_);
  EXPECT_EQ(conn.query_int("PRAGMA synchronous"), 2);  // FULL
  EXPECT_EQ(conn.query_int("PRAGMA foreign_keys"), 1);
  EXPECT_EQ(conn.query_int("PRAGMA busy_timeout"), 5000);
}

TEST_F(SqliteBackend, PreauthorizationForAnUnknownAppThrowsStoreError) {
  SqliteDatabase db(path_);
  EXPECT_THROW(
      db.add_preauthorization({"3MVG9missing", Preauthorization::Kind::profile, "Standard User"}),
      StoreError);
}

TEST_F(SqliteBackend, MigrationRerunOnAnExistingFileIsANoOp) {
  {
    SqliteDatabase db(path_);
    db.create_org({"00D000000000001", "Acme", 1});
  }
  {
    Connection conn(path_);
    const int64_t before = schema_version(conn);
    migrate(conn);  // would fail on CREATE TABLE if it re-ran migration 1
    migrate(conn);
    EXPECT_EQ(schema_version(conn), before);
  }
  SqliteDatabase db(path_);  // opening migrates again
  EXPECT_EQ(db.default_org()->name, "Acme");
  Connection conn(path_);
  EXPECT_EQ(schema_version(conn), latest_schema_version());
}

// Migration 2 (RFC 8705 §2.1 tls_client_auth) adds apps.mtls_subject_dn; an app written by a
// version-1 build keeps every field and gets an empty subject DN.
// The tokens and auth_codes tables as versions 1 to 3 made them (migration 4 rebuilt both),
// with the indexes of version 1.
constexpr const char* kVersion1CodeAndTokenTables =
    "DROP TABLE tokens; DROP TABLE auth_codes;"
    " CREATE TABLE auth_codes (code_hash TEXT PRIMARY KEY, client_id TEXT NOT NULL, user_id TEXT"
    " NOT NULL, redirect_uri TEXT NOT NULL, scopes TEXT NOT NULL, code_challenge TEXT NOT NULL,"
    " nonce TEXT NOT NULL, auth_time_s INTEGER NOT NULL, expires_ms INTEGER NOT NULL,"
    " used INTEGER NOT NULL);"
    " CREATE INDEX auth_codes_by_expiry ON auth_codes(expires_ms);"
    " CREATE TABLE tokens (token_hash TEXT PRIMARY KEY, kind TEXT NOT NULL, client_id TEXT"
    " NOT NULL, user_id TEXT NOT NULL, org_id TEXT NOT NULL, scopes TEXT NOT NULL,"
    " family_id TEXT NOT NULL, code_hash TEXT NOT NULL, issued_ms INTEGER NOT NULL,"
    " expires_ms INTEGER NOT NULL, revoked INTEGER NOT NULL, rotated INTEGER NOT NULL,"
    " cnf_x5t TEXT NOT NULL);"
    " CREATE INDEX tokens_by_family ON tokens(family_id);"
    " CREATE INDEX tokens_by_code ON tokens(code_hash);"
    " CREATE INDEX tokens_by_user ON tokens(user_id);"
    " CREATE INDEX tokens_by_expiry ON tokens(expires_ms);";

// What migration 9 added, for tests that go back to an earlier version.
constexpr const char* kUndoMigration9 = "DROP TABLE admin_tokens;";
// What migrations 8 and 9 added, for tests that go back to version 7.
constexpr const char* kUndoMigration8 =
    "DROP TABLE admin_tokens; ALTER TABLE tokens DROP COLUMN rotated_ms;";
// What migrations 7 to 9 added, for tests that go back to version 6.
constexpr const char* kUndoMigration7 =
    "DROP TABLE admin_tokens; ALTER TABLE tokens DROP COLUMN rotated_ms;"
    " ALTER TABLE apps DROP COLUMN allow_password_flow;";
// What migrations 6 to 9 added, for tests that go back to version 5 or earlier.
constexpr const char* kUndoMigration6 =
    "DROP TABLE admin_tokens; ALTER TABLE tokens DROP COLUMN rotated_ms;"
    " ALTER TABLE apps DROP COLUMN allow_password_flow;"
    " ALTER TABLE apps DROP COLUMN token_endpoint_auth_method; DROP TABLE replay_keys;";

TEST_F(SqliteBackend, Version1AppsSurviveTheMigrationsWithAnEmptySubjectDn) {
  { SqliteDatabase db(path_); }
  {
    // Back to the version-1 schema, then write a row as a version-1 build would have.
    Connection conn(path_);
    conn.exec(kUndoMigration6);
    conn.exec("ALTER TABLE apps DROP COLUMN mtls_subject_dn");
    conn.exec(kVersion1CodeAndTokenTables);
    conn.exec("PRAGMA user_version=1");
    conn.exec(
        "INSERT INTO apps (client_id, id, org_id, name, secret_hash, callbacks, scopes,"
        " pkce_required, require_secret_web_server, require_secret_refresh, admin_approved_only,"
        " cert_pem, client_credentials_user_id, refresh_policy, refresh_ttl_s,"
        " access_token_ttl_s, allow_implicit, mtls_cert_pem, token_format, created_ms)"
        " VALUES ('3MVG9old', '0Ha000000000001', '00D000000000001', 'Old', 'h', '[]',"
        " '[\"api\"]', 0, 1, 1, 0, '', '', 'until_revoked', 0, 7200, 0, 'PEM', 'opaque', 5)");
  }
  SqliteDatabase db(path_);
  {
    Connection conn(path_);
    EXPECT_EQ(schema_version(conn), latest_schema_version());
  }
  auto app = db.find_app("3MVG9old");
  ASSERT_TRUE(app.has_value());
  EXPECT_EQ(app->name, "Old");
  EXPECT_EQ(app->mtls_cert_pem, "PEM");
  EXPECT_EQ(app->created_ms, 5);
  EXPECT_EQ(app->mtls_subject_dn, "");
}

// Migration 4 gives tokens and codes an integer id: rows written before it keep working,
// found by their hash (they get negative ids, the only ones in the hash indexes), and tokens
// minted from a code still there are revoked when that code is replayed.
TEST_F(SqliteBackend, Version3TokensAndCodesSurviveTheMigrationAndAreFoundByHash) {
  { SqliteDatabase db(path_); }
  {
    // Back to the version-3 tables, with rows as a version-3 build wrote them.
    Connection conn(path_);
    conn.exec(kUndoMigration6);
    conn.exec(kVersion1CodeAndTokenTables);
    conn.exec(  // migration 3's indexes
        "DROP INDEX tokens_by_expiry; DROP INDEX auth_codes_by_expiry;"
        " DROP INDEX tokens_by_family; DROP INDEX tokens_by_code;"
        " CREATE INDEX tokens_by_family ON tokens(family_id) WHERE family_id != '';"
        " CREATE INDEX tokens_by_code ON tokens(code_hash) WHERE code_hash != '';");
    conn.exec(
        "INSERT INTO auth_codes VALUES ('old-code', '3MVGold', '005old', 'https://cb', '[]', '',"
        " '', 1, 99999999999999, 1);"
        " INSERT INTO tokens VALUES ('old-hash', 'refresh', '3MVGold', '005old', '00Dold',"
        " '[\"api\"]', 'fam-old', '', 7, 0, 0, 0, '');"
        " INSERT INTO tokens VALUES ('from-code', 'access', '3MVGold', '005old', '00Dold',"
        " '[]', '', 'old-code', 7, 0, 0, 0, '');"
        " INSERT INTO tokens VALUES ('from-gone-code', 'access', '3MVGold', '005old', '00Dold',"
        " '[]', '', 'gone-code', 7, 0, 0, 0, '');");
    conn.exec("PRAGMA user_version=3");
  }
  SqliteDatabase db(path_);
  auto t = db.find_token(SecretRef::by_hash("old-hash"));
  ASSERT_TRUE(t.has_value());
  EXPECT_LT(t->id, 0);
  EXPECT_EQ(t->family_id, "fam-old");
  EXPECT_EQ(t->scopes, std::vector<std::string>{"api"});
  EXPECT_TRUE(redeem(db, Redemption::Kind::refresh_token, SecretRef::by_hash("old-hash"), "fam-old")
                  .is_durable());
  EXPECT_EQ(db.revoke_family("fam-old"), 1);
  EXPECT_GT(db.allocate_id(), 0);

  auto code = db.find_code(SecretRef::by_hash("old-code"));
  ASSERT_TRUE(code.has_value());
  EXPECT_LT(code->id, 0);
  EXPECT_TRUE(code->used);
  EXPECT_EQ(db.find_token(SecretRef::by_hash("from-code"))->code_key, std::to_string(code->id));
  EXPECT_EQ(db.find_token(SecretRef::by_hash("from-gone-code"))->code_key, "gone-code");
  EXPECT_EQ(redeem(db, Redemption::Kind::code, code->ref(), std::to_string(code->id)).revoked, 1);

  Connection conn(path_);
  for (const char* sql : {"SELECT kind FROM tokens WHERE token_hash = ?1 AND id < 0",
                          "SELECT used FROM auth_codes WHERE code_hash = ?1 AND id < 0"}) {
    Statement plan = conn.prepare(std::string("EXPLAIN QUERY PLAN ") + sql);
    ASSERT_TRUE(plan.step());
    EXPECT_NE(plan.column_text(3).find("USING INDEX"), std::string::npos) << plan.column_text(3);
  }
}

// Migration 5 adds tokens.auth_time_s (OIDC Core §12.2): a token written by a version-4 build
// reads back with 0 (no authentication time known), and new rows keep theirs.
TEST_F(SqliteBackend, Version4TokensSurviveTheMigrationWithNoAuthTime) {
  { SqliteDatabase db(path_); }
  {
    Connection conn(path_);
    conn.exec(kUndoMigration6);
    conn.exec("ALTER TABLE tokens DROP COLUMN auth_time_s");
    conn.exec("PRAGMA user_version=4");
    conn.exec(
        "INSERT INTO tokens (id, token_hash, kind, client_id, user_id, org_id, scopes, family_id,"
        " code_key, issued_ms, expires_ms, revoked, rotated, cnf_x5t)"
        " VALUES (42, 'v4-hash', 'refresh', '3MVGold', '005old', '00Dold', '[\"api\"]',"
        " 'fam-v4', '', 7, 0, 0, 0, '')");
  }
  SqliteDatabase db(path_);
  {
    Connection conn(path_);
    EXPECT_EQ(schema_version(conn), latest_schema_version());
  }
  auto old = db.find_token(SecretRef{42, "v4-hash"});
  ASSERT_TRUE(old.has_value());
  EXPECT_EQ(old->family_id, "fam-v4");
  EXPECT_EQ(old->auth_time_s, 0);

  Token fresh;
  fresh.id = db.allocate_id();
  fresh.token_hash = "v5-hash";
  fresh.kind = TokenKind::refresh;
  fresh.client_id = "3MVGnew";
  fresh.auth_time_s = 1700000000;
  db.save_tokens({fresh});
  EXPECT_EQ(db.find_token(fresh.ref())->auth_time_s, 1700000000);
}

// Migration 6 adds apps.token_endpoint_auth_method (RFC 7591 §2): apps written by a version-5
// build get the method their registration implies, so an mTLS app no longer takes its secret
// and every other app keeps working as before; the replay table starts empty.
TEST_F(SqliteBackend, Version5AppsGetTheMethodTheirRegistrationImplies) {
  { SqliteDatabase db(path_); }
  {
    Connection conn(path_);
    conn.exec(kUndoMigration6);
    conn.exec("PRAGMA user_version=5");
    for (const char* row :
         {"('3MVG9secret', '0Ha1', '', '', '')", "('3MVG9jwt', '0Ha2', 'CERT', '', '')",
          "('3MVG9self', '0Ha3', '', 'MTLS', '')", "('3MVG9pki', '0Ha4', '', '', 'CN=client')"}) {
      conn.exec(
          std::string("INSERT INTO apps (client_id, id, cert_pem, mtls_cert_pem, mtls_subject_dn,"
                      " org_id, name, secret_hash, callbacks, scopes, pkce_required,"
                      " require_secret_web_server, require_secret_refresh, admin_approved_only,"
                      " client_credentials_user_id, refresh_policy, refresh_ttl_s,"
                      " access_token_ttl_s, allow_implicit, token_format, created_ms)"
                      " SELECT *, '00D1', 'Old', 'h', '[]', '[\"api\"]', 0, 1, 1, 0, '',"
                      " 'until_revoked', 0, 7200, 0, 'opaque', 5 FROM (VALUES ") +
          row + ")");
    }
  }
  SqliteDatabase db(path_);
  {
    Connection conn(path_);
    EXPECT_EQ(schema_version(conn), latest_schema_version());
  }
  using M = ClientAuthMethod;
  EXPECT_EQ(db.find_app("3MVG9secret")->token_endpoint_auth_method, M::client_secret_basic);
  // client_secret_basic admits private_key_jwt for an app with a certificate, as before.
  EXPECT_EQ(db.find_app("3MVG9jwt")->token_endpoint_auth_method, M::client_secret_basic);
  EXPECT_EQ(db.find_app("3MVG9self")->token_endpoint_auth_method, M::self_signed_tls_client_auth);
  EXPECT_EQ(db.find_app("3MVG9pki")->token_endpoint_auth_method, M::tls_client_auth);
  EXPECT_EQ(db.find_app("3MVG9secret")->secret_hash, "h");
  EXPECT_EQ(db.first_use("jti", "3MVG9jwt", 2000, 1000, 10), ReplayStore::Use::first);
}

// Migration 7 adds apps.allow_password_flow: an app written by a version-6 build keeps every
// field and does not allow the username-password flow; a new app may.
TEST_F(SqliteBackend, Version6AppsSurviveTheMigrationWithoutThePasswordFlow) {
  { SqliteDatabase db(path_); }
  {
    Connection conn(path_);
    conn.exec(kUndoMigration7);
    conn.exec("PRAGMA user_version=6");
    conn.exec(
        "INSERT INTO apps (client_id, id, org_id, name, secret_hash, callbacks, scopes,"
        " pkce_required, require_secret_web_server, require_secret_refresh, admin_approved_only,"
        " cert_pem, client_credentials_user_id, refresh_policy, refresh_ttl_s,"
        " access_token_ttl_s, allow_implicit, mtls_cert_pem, token_format, created_ms,"
        " mtls_subject_dn, token_endpoint_auth_method)"
        " VALUES ('3MVG9v6', '0Ha000000000006', '00D000000000001', 'Six', 'h', '[]',"
        " '[\"api\"]', 0, 1, 1, 0, '', '', 'until_revoked', 0, 7200, 0, '', 'jwt', 6, '',"
        " 'client_secret_post')");
  }
  SqliteDatabase db(path_);
  {
    Connection conn(path_);
    EXPECT_EQ(schema_version(conn), latest_schema_version());
  }
  auto app = db.find_app("3MVG9v6");
  ASSERT_TRUE(app.has_value());
  EXPECT_EQ(app->name, "Six");
  EXPECT_EQ(app->token_format, TokenFormat::jwt);
  EXPECT_EQ(app->token_endpoint_auth_method, ClientAuthMethod::client_secret_post);
  EXPECT_FALSE(app->allow_password_flow);
  App fresh = store::testing::sample_app("3MVG9v7");
  ASSERT_TRUE(db.create_app(fresh));
  EXPECT_TRUE(db.find_app("3MVG9v7")->allow_password_flow);
}

// Migration 9 adds admin_tokens (docs/admin-api.md): a version-8 file gets the empty table.
TEST_F(SqliteBackend, Version8FilesGetAnEmptyAdminTokensTable) {
  { SqliteDatabase db(path_); }
  {
    Connection conn(path_);
    conn.exec(kUndoMigration9);
    conn.exec("PRAGMA user_version=8");
  }
  SqliteDatabase db(path_);
  EXPECT_TRUE(db.list_admin_tokens().empty());
  EXPECT_TRUE(db.create_admin_token({"ops", std::string(64, 'a'), 1}));
  EXPECT_EQ(db.list_admin_tokens().size(), 1u);
}

// Migration 8 adds tokens.rotated_ms (the refresh reuse grace window): a refresh token a version-7
// build rotated reads 0, outside every window, so its reuse still revokes the family.
TEST_F(SqliteBackend, Version7RotatedTokensStayUsedUpWhateverTheGraceWindow) {
  { SqliteDatabase db(path_); }
  {
    Connection conn(path_);
    conn.exec(kUndoMigration8);
    conn.exec("PRAGMA user_version=7");
    conn.exec(
        "INSERT INTO tokens (id, token_hash, kind, client_id, user_id, org_id, scopes, family_id,"
        " code_key, issued_ms, expires_ms, revoked, rotated, cnf_x5t, auth_time_s)"
        " VALUES (77, 'v7-rotated', 'refresh', '3MVGold', '005old', '00Dold', '[\"api\"]',"
        " 'fam-v7', '', 7, 0, 0, 1, '', 0)");
  }
  SqliteDatabase db(path_);
  {
    Connection conn(path_);
    EXPECT_EQ(schema_version(conn), latest_schema_version());
  }
  auto old = db.find_token(SecretRef{77, "v7-rotated"});
  ASSERT_TRUE(old.has_value());
  EXPECT_TRUE(old->rotated);
  EXPECT_EQ(old->rotated_ms, 0);
  Redemption r{Redemption::Kind::refresh_token, old->ref(), "fam-v7"};
  r.now_ms = 1'700'000'000'000;
  r.reuse_since_ms = r.now_ms - 300'000;
  EXPECT_EQ(db.redeem_later(r, {})->wait().status, WriteOutcome::Status::already_redeemed);
  EXPECT_TRUE(db.find_token(old->ref())->revoked);
}

// Expired replay keys are purged a few per recorded key, so the table holds what is live plus
// a bounded backlog, without any one write scanning it whole.
TEST_F(SqliteBackend, ExpiredReplayKeysArePurgedInSmallBatches) {
  SqliteDatabase db(path_);
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(db.first_use("old-" + std::to_string(i), "3MVG9one", 1010, 1000, 100),
              ReplayStore::Use::first);
  }
  auto rows = [&] { return Connection(path_).query_int("SELECT count(*) FROM replay_keys"); };
  EXPECT_EQ(rows(), 20);
  ASSERT_EQ(db.first_use("new-0", "3MVG9one", 99'000, 2000, 100), ReplayStore::Use::first);
  const int64_t after_one = rows();
  EXPECT_LT(after_one, 20);  // some expired rows went...
  EXPECT_GT(after_one, 1);   // ...but not all at once
  for (int i = 1; i < 5; ++i)
    db.first_use("new-" + std::to_string(i), "3MVG9one", 99'000, 2000, 100);
  EXPECT_EQ(rows(), 5);  // the backlog is gone; the live keys stay
}

TEST_F(SqliteBackend, RefusesAFileFromANewerBuild) {
  { SqliteDatabase db(path_); }
  {
    Connection conn(path_);
    conn.exec("PRAGMA user_version=" + std::to_string(latest_schema_version() + 1));
  }
  EXPECT_THROW(SqliteDatabase db(path_), StoreError);
}

TEST_F(SqliteBackend, AFileThatIsNotADatabaseThrowsStoreError) {
  std::ofstream(path_) << std::string(8192, 'x');
  EXPECT_THROW(SqliteDatabase db(path_), StoreError);
}

TEST_F(SqliteBackend, CorruptListColumnThrowsStoreError) {
  SqliteDatabase db(path_);
  db.save_consent({"005000000000001", "3MVG9one", {"api"}, 1});
  {
    Connection conn(path_);
    conn.exec("UPDATE consents SET scopes = '[\"api\"'");
  }
  EXPECT_THROW((void)db.find_consent("005000000000001", "3MVG9one"), StoreError);
}

// A write that fails mid-transaction (here: the file size limit, standing in for a full disk)
// surfaces as StoreError, leaves nothing half-written, and the database stays usable.
TEST_F(SqliteBackend, FailedWriteThrowsStoreErrorAndLeavesNothingBehind) {
  SqliteDatabase db(path_);
  db.create_org({"00D000000000001", "Acme", 1});
  std::error_code ec;
  auto size_of = [&](const std::string& p) {
    auto n = std::filesystem::file_size(p, ec);
    return ec ? std::uintmax_t{0} : n;
  };
  std::uintmax_t biggest = std::max(size_of(path_), size_of(path_ + "-wal"));
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  rlimit limited = saved;
  limited.rlim_cur = static_cast<rlim_t>(biggest + 64 * 1024);
  if (saved.rlim_max != RLIM_INFINITY && saved.rlim_max < limited.rlim_cur) GTEST_SKIP();
  // Without this the kernel kills the process with SIGXFSZ instead of failing the write.
  auto old_handler = signal(SIGXFSZ, SIG_IGN);

  Token big;
  big.token_hash = "big";
  big.scopes = {std::string(1 << 20, 's')};
  Token small;
  small.token_hash = "small";
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &limited), 0);
  bool threw = false;
  try {
    db.save_tokens({small, big});
  } catch (const StoreError& e) {
    threw = true;
    RecordProperty("error", e.what());
  }
  setrlimit(RLIMIT_FSIZE, &saved);
  signal(SIGXFSZ, old_handler);

  EXPECT_TRUE(threw);
  EXPECT_FALSE(db.find_token(SecretRef::by_hash("small")).has_value());
  EXPECT_FALSE(db.find_token(SecretRef::by_hash("big")).has_value());
  db.save_tokens({small});
  EXPECT_TRUE(db.find_token(SecretRef::by_hash("small")).has_value());
}

// The WAL must be moved into the database file while the database is open (sqlite's automatic
// checkpoint on the writer connection), or it would grow without bound under a steady load.
TEST_F(SqliteBackend, WalIsCheckpointedIntoTheFileWhileOpen) {
  SqliteDatabase db(path_);
  const auto initial = std::filesystem::file_size(path_);
  for (int batch = 0; batch < 40; ++batch) {
    std::vector<Token> tokens;
    for (int i = 0; i < 100; ++i) {
      Token t;
      t.token_hash = std::string(64, 'a') + std::to_string(batch * 100 + i);
      t.client_id = "3MVGapp";
      t.user_id = "005user";
      t.org_id = "00Dorg";
      t.family_id = t.token_hash;
      t.scopes = {"api", std::string(200, 's')};
      tokens.push_back(std::move(t));
    }
    db.save_tokens(tokens);
  }
  // 4,000 rows of ~400 bytes and four indexes: well past 1,000 WAL pages.
  bool grew = false;
  for (int i = 0; i < 100 && !grew; ++i) {
    grew = std::filesystem::file_size(path_) > initial + 1024 * 1024;
    if (!grew) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(grew) << "database file still " << std::filesystem::file_size(path_) << " bytes";
  EXPECT_EQ(db.find_token(SecretRef::by_hash(std::string(64, 'a') + "3999"))->user_id, "005user");
}

// Revocation by family or code must stay an index lookup on a table of millions of tokens: the
// partial indexes (migration 3) serve only queries that repeat their `!= ''` condition.
TEST_F(SqliteBackend, RevocationsByFamilyAndCodeUseTheirIndexes) {
  { SqliteDatabase db(path_); }
  Connection conn(path_);
  auto plan = [&](const std::string& sql) {
    Statement st = conn.prepare("EXPLAIN QUERY PLAN " + sql);
    std::string all;
    while (st.step()) all += st.column_text(3) + "\n";
    return all;
  };
  EXPECT_NE(plan("UPDATE tokens SET revoked = 1 WHERE family_id = ?1 AND family_id != '' AND "
                 "revoked = 0")
                .find("USING INDEX tokens_by_family"),
            std::string::npos);
  EXPECT_NE(plan("UPDATE tokens SET revoked = 1 WHERE code_key = ?1 AND code_key != '' AND "
                 "revoked = 0")
                .find("USING INDEX tokens_by_code"),
            std::string::npos);
  EXPECT_NE(plan("UPDATE tokens SET revoked = 1 WHERE user_id = ?1 AND revoked = 0")
                .find("USING INDEX tokens_by_user"),
            std::string::npos);
}

TEST(ListCodec, RoundTripsAnyStrings) {
  std::vector<std::vector<std::string>> cases = {
      {},
      {""},
      {"", ""},
      {"api", "refresh_token offline_access"},
      {"\"", "\\", "\\\"", "\n\r\t\b\f", std::string("nul\0byte", 8), "\x7f", "\xff\xfe"},
      {"caf\xC3\xA9", "\xF0\x9F\x94\x91", "[\"x\"]", ",", "]"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(decode_list(encode_list(c)), c) << encode_list(c);
  }
}

TEST(ListCodec, EncodesAsAJsonArray) {
  EXPECT_EQ(encode_list({}), "[]");
  EXPECT_EQ(encode_list({"a b", "q\"\n"}), "[\"a b\",\"q\\\"\\u000a\"]");
}

TEST(ListCodec, DecodesStandardJsonEscapes) {
  EXPECT_EQ(decode_list(" [ \"a\\/b\" , \"\\u00e9\\ud83d\\udd11\" ] "),
            (std::vector<std::string>{"a/b", "\xC3\xA9\xF0\x9F\x94\x91"}));
}

TEST(ListCodec, RejectsMalformedText) {
  for (const char* bad :
       {"", "[", "[\"a\"", "[\"a\",]", "[a]", "[\"a\"] x", "{}", "[\"\\q\"]", "[\"\\u12\"]"}) {
    EXPECT_THROW((void)decode_list(bad), StoreError) << bad;
  }
}

}  // namespace
}  // namespace latchkey::store::sqlite
