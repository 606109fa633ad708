// StoreConformance: copy_database (store/copy.h, `latchkey migrate`) from a SQLite file into
// the backend under test: every row arrives as stored, codes and tokens keep their ids so the
// references clients hold find them, a non-empty target is refused, and the verification
// reports a source that changed or a target that differs.
#include <algorithm>
#include <climits>

#include "conformance.h"
#include "store/copy.h"
#include "store/open.h"
#include "store/tables.h"

namespace latchkey::store::testing {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;

// What a source database holds, to compare the target with.
struct Filled {
  std::vector<Token> tokens;
  std::vector<AuthCode> codes;
  App app;
  User user;
};

// A SQLite file with rows in every table: codes and tokens both with ids and found by hash,
// used and revoked ones, more than one page of tokens.
Filled fill(Database& db) {
  Filled f;
  db.create_org(sample_org("00D000000000001", 1000));
  db.create_org(sample_org("00D000000000002", 2000));
  f.user = sample_user("005000000000001", "ada@example.com");
  db.create_user(f.user);
  db.create_user(sample_user("005000000000002", "bob@example.com"));
  f.app = sample_app("3MVG9one");
  db.create_app(f.app);
  db.create_app(sample_app("3MVG9two"));
  db.add_preauthorization({"3MVG9one", Preauthorization::Kind::profile, "Integration User"});
  db.add_preauthorization({"3MVG9two", Preauthorization::Kind::permission_set, "API Only"});
  db.save_consent({"005000000000001", "3MVG9one", {"api", "openid"}, 10});
  db.save_consent({"005000000000002", "3MVG9two", {"api"}, 11});
  db.save_key({"kid-old", "RS256", "lk-kek-v1:0123456789abcdef:sealed-old", 1000, 5000});
  db.save_key({"kid-new", "ES256", "lk-kek-v1:0123456789abcdef:sealed-new", 4000, 0});

  AuthCode by_hash = sample_code("code-by-hash");
  db.save_code(by_hash);
  f.codes.push_back(*db.find_code(SecretRef::by_hash("code-by-hash")));
  for (int i = 0; i < 3; ++i) {
    AuthCode c = sample_code("code-" + std::to_string(i));
    c.id = db.allocate_code_id();
    c.used = i == 1;
    db.save_code(c);
    f.codes.push_back(c);
  }
  db.save_tokens({sample_token("token-by-hash", TokenKind::refresh)});
  f.tokens.push_back(*db.find_token(SecretRef::by_hash("token-by-hash")));
  for (int i = 0; i < 7; ++i) {
    Token t =
        sample_token("token-" + std::to_string(i), i % 2 ? TokenKind::refresh : TokenKind::access);
    t.id = db.allocate_id();
    t.revoked = i == 2;
    t.rotated = i == 3;
    f.tokens.push_back(t);
  }
  db.save_tokens({f.tokens.begin() + 1, f.tokens.end()});
  db.save_session({"session-1", "005000000000001", 1700000000, kNow + 3'600'000});
  db.save_session({"session-2", "005000000000002", 1700000001, kNow + 3'600'000});
  db.first_use("jti-1", "3MVG9one", kNow + 60'000, kNow, 100);
  db.create_admin_token({"ops-ada", std::string(64, 'a'), kNow});
  db.create_admin_token({"ops-bob", std::string(64, 'b'), kNow + 1});
  return f;
}

class CopyDatabase : public StoreConformance {
 protected:
  void SetUp() override {
    StoreConformance::SetUp();
    source_ = open_database("sqlite:" + (scratch_ / "source.db").string());
  }
  void TearDown() override {
    source_.reset();
    StoreConformance::TearDown();
  }
  Database& source() { return *source_; }
  std::unique_ptr<Database> source_;
};

int64_t rows_in(Database& db, std::string_view table) {
  for (const TableRows& t : db.count_rows()) {
    if (t.table == table) return t.rows;
  }
  return -1;
}

TEST_P(CopyDatabase, CopiesEveryRowAsStoredAndTheCopiedReferencesStillFindThem) {
  Filled f = fill(source());
  std::vector<std::string> progress;
  CopyOutcome out = copy_database(
      source(), db(),
      [&](const TableCopy& t) {
        progress.push_back(t.table + " " + std::to_string(t.copied) + "/" +
                           std::to_string(t.source_rows));
      },
      /*page=*/3);
  EXPECT_TRUE(out.refused.empty()) << out.refused;
  EXPECT_TRUE(out.mismatches.empty()) << out.mismatches.front();
  EXPECT_TRUE(out.verified());
  EXPECT_EQ(progress, (std::vector<std::string>{
                          "orgs 2/2", "users 2/2", "apps 2/2", "preauthorizations 2/2",
                          "consents 2/2", "signing_keys 2/2", "auth_codes 4/4", "tokens 8/8",
                          "sessions 2/2", "replay_keys 1/1", "admin_tokens 2/2"}));
  EXPECT_EQ(out.tokens_checked, 8);
  EXPECT_EQ(out.codes_checked, 4);
  // The admin tokens by name and hash, so the admin API accepts the same bearer tokens.
  const std::vector<AdminToken> admins = db().list_admin_tokens();
  ASSERT_EQ(admins.size(), 2u);
  EXPECT_EQ(admins[0].name, "ops-ada");
  EXPECT_EQ(admins[0].token_hash, std::string(64, 'a'));
  EXPECT_EQ(admins[0].created_ms, kNow);
  EXPECT_EQ(admins[1].name, "ops-bob");
  EXPECT_EQ(admins[1].token_hash, std::string(64, 'b'));

  // What a server on the target reads, as clients present it.
  for (const Token& t : f.tokens) {
    auto found = db().find_token(t.ref());
    ASSERT_TRUE(found.has_value()) << t.token_hash;
    EXPECT_EQ(*found, t);
  }
  for (const AuthCode& c : f.codes) {
    auto found = db().find_code(c.ref());
    ASSERT_TRUE(found.has_value()) << c.code_hash;
    EXPECT_EQ(*found, c);
  }
  EXPECT_EQ(db().list_keys(), source().list_keys());
  EXPECT_EQ(fields(*db().find_user_by_username("ADA@example.com")), fields(f.user));
  EXPECT_EQ(fields(*db().find_app("3MVG9one")), fields(f.app));
  EXPECT_EQ(db().preauthorizations("3MVG9two").size(), 1u);
  EXPECT_EQ(db().find_consent("005000000000001", "3MVG9one")->scopes,
            (std::vector<std::string>{"api", "openid"}));
  EXPECT_EQ(db().default_org()->id, "00D000000000001");
  EXPECT_TRUE(db().find_session("session-2").has_value());
  EXPECT_EQ(db().first_use("jti-1", "3MVG9one", kNow + 60'000, kNow + 1, 100),
            ReplayStore::Use::replayed);
  // A used code stays used: exchanging it again is a replay (RFC 6749 §4.1.2).
  EXPECT_EQ(redeem(db(), Redemption::Kind::code, f.codes[2].ref(), "k2").status,
            WriteOutcome::Status::already_redeemed);
  EXPECT_TRUE(redeem(db(), Redemption::Kind::code, f.codes[1].ref(), "k1").is_durable());

  // A server opened on the target later never hands out the id of a copied row.
  if (GetParam().persistent) {
    auto reopened = open_again();
    int64_t highest = 0;
    for (const Token& t : f.tokens) highest = std::max(highest, t.id < 0 ? -t.id : t.id);
    for (const AuthCode& c : f.codes) highest = std::max(highest, c.id < 0 ? -c.id : c.id);
    EXPECT_GT(reopened->allocate_id(), highest);
  }
}

TEST_P(CopyDatabase, RefusesATargetThatHoldsAnyRowAndCopiesNothing) {
  fill(source());
  db().save_session({"already-here", "005000000000001", 1, kNow});
  bool called = false;
  CopyOutcome out = copy_database(source(), db(), [&](const TableCopy&) { called = true; });
  EXPECT_EQ(out.refused, "the target database is not empty (sessions 1)");
  EXPECT_FALSE(out.verified());
  EXPECT_TRUE(out.tables.empty());
  EXPECT_FALSE(called);
  EXPECT_EQ(rows_in(db(), "orgs"), 0);
  EXPECT_EQ(rows_in(db(), "sessions"), 1);
}

TEST_P(CopyDatabase, CopiesAnEmptyDatabase) {
  CopyOutcome out = copy_database(source(), db(), {});
  EXPECT_TRUE(out.verified());
  EXPECT_EQ(out.tables.size(), kTableNames.size());
  for (const TableRows& t : db().count_rows()) EXPECT_EQ(t.rows, 0) << t.table;
}

TEST_P(CopyDatabase, ReportsASourceThatChangedDuringTheCopy) {
  fill(source());
  CopyOutcome out = copy_database(source(), db(), [&](const TableCopy& t) {
    // A server still running on the source: a token issued once the copy has begun.
    if (t.table == "orgs") source().save_tokens({sample_token("late", TokenKind::access)});
  });
  EXPECT_FALSE(out.verified());
  ASSERT_EQ(out.mismatches.size(), 1u);
  EXPECT_EQ(out.mismatches[0],
            "tokens: the source changed during the copy (8 rows, then 9); stop every server on "
            "it first");
}

TEST_P(CopyDatabase, ReportsATargetThatDiffersFromTheSource) {
  Filled f = fill(source());
  CopyOutcome out = copy_database(source(), db(), [&](const TableCopy& t) {
    if (t.table != "tokens") return;
    db().revoke_token(f.tokens[4].ref());  // a row changed behind the copy's back
    db().save_session({"stray", "005000000000001", 1, kNow});  // and one added
  });
  EXPECT_FALSE(out.verified());
  EXPECT_EQ(out.mismatches,
            (std::vector<std::string>{
                "sessions: 2 rows in the source, 3 in the target",
                "tokens: row " + std::to_string(f.tokens[4].id) + " differs in the target"}));
}

INSTANTIATE_TEST_SUITE_P(Backends, CopyDatabase, ::testing::ValuesIn(backends()),
                         [](const ::testing::TestParamInfo<Backend>& param_info) {
                           return param_info.param.name;
                         });

}  // namespace
}  // namespace latchkey::store::testing
