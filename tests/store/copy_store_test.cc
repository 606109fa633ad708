// StoreConformance: CopyStore, reading a database out whole (the pages of codes, tokens,
// sessions and replay keys) and writing replay keys in as stored, for `latchkey migrate`.
#include <climits>
#include <string_view>

#include "conformance.h"
#include "store/open.h"
#include "store/tables.h"

namespace latchkey::store::testing {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;

// Every row `page_of(after, limit)` yields, page by page, as a copy reads them.
template <class Row, class Key, class Page, class KeyOf>
std::vector<Row> all_pages(Key start, int limit, Page&& page_of, KeyOf&& key_of) {
  std::vector<Row> out;
  Key after = start;
  for (;;) {
    std::vector<Row> page = page_of(after, limit);
    EXPECT_LE(static_cast<int>(page.size()), limit);
    out.insert(out.end(), page.begin(), page.end());
    if (static_cast<int>(page.size()) < limit) return out;
    after = key_of(page.back());
  }
}

TEST_P(StoreConformance, ListOrgsReturnsEveryOrgOldestFirst) {
  EXPECT_TRUE(db().list_orgs().empty());
  Org b = sample_org("00D00000000000B", 2000);
  Org a = sample_org("00D00000000000A", 1000);
  Org c = sample_org("00D00000000000C", 2000);  // same time as b, created after it
  for (const Org& o : {b, a, c}) db().create_org(o);
  std::vector<Org> orgs = db().list_orgs();
  ASSERT_EQ(orgs.size(), 3u);
  EXPECT_EQ(fields(orgs[0]), fields(a));
  EXPECT_EQ(fields(orgs[1]), fields(b));
  EXPECT_EQ(fields(orgs[2]), fields(c));
  EXPECT_EQ(orgs[0].id, db().default_org()->id);
}

TEST_P(StoreConformance, ListAllConsentsReturnsEveryAppsApprovals) {
  EXPECT_TRUE(db().list_all_consents().empty());
  Consent b1{"005000000000001", "3MVG9b", tricky_list(), 3};
  Consent a2{"005000000000002", "3MVG9a", {"api"}, 2};
  Consent a1{"005000000000001", "3MVG9a", {"openid"}, 5};
  for (const Consent& c : {b1, a2, a1}) db().save_consent(c);
  std::vector<Consent> all = db().list_all_consents();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(fields(all[0]), fields(a2));
  EXPECT_EQ(fields(all[1]), fields(a1));
  EXPECT_EQ(fields(all[2]), fields(b1));
}

TEST_P(StoreConformance, CodesAfterPagesThroughEveryCodeInIdOrder) {
  std::vector<AuthCode> saved;
  AuthCode by_hash = sample_code("code-by-hash");  // id 0: the store gives it a negative one
  db().save_code(by_hash);
  by_hash.id = db().find_code(SecretRef::by_hash("code-by-hash"))->id;
  ASSERT_LT(by_hash.id, 0);
  saved.push_back(by_hash);
  for (int i = 0; i < 4; ++i) {
    AuthCode c = sample_code("code-" + std::to_string(i));
    c.id = db().allocate_code_id();
    c.used = i % 2 == 1;
    db().save_code(c);
    saved.push_back(c);
  }
  std::vector<AuthCode> read = all_pages<AuthCode>(
      INT64_MIN, 2, [&](int64_t after, int n) { return db().codes_after(after, n); },
      [](const AuthCode& c) { return c.id; });
  EXPECT_EQ(read, saved);
  EXPECT_TRUE(db().codes_after(saved.back().id, 10).empty());
  EXPECT_EQ(db().codes_after(saved[2].id, 10).size(), 2u);
}

TEST_P(StoreConformance, TokensAfterPagesThroughEveryTokenInIdOrder) {
  std::vector<Token> saved;
  Token by_hash = sample_token("token-by-hash", TokenKind::refresh);
  db().save_tokens({by_hash});
  by_hash.id = db().find_token(SecretRef::by_hash("token-by-hash"))->id;
  ASSERT_LT(by_hash.id, 0);
  saved.push_back(by_hash);
  for (int i = 0; i < 5; ++i) {
    Token t =
        sample_token("token-" + std::to_string(i), i % 2 ? TokenKind::refresh : TokenKind::access);
    t.id = db().allocate_id();
    t.revoked = i == 3;
    saved.push_back(t);
  }
  db().save_tokens({saved.begin() + 1, saved.end()});
  std::vector<Token> read = all_pages<Token>(
      INT64_MIN, 2, [&](int64_t after, int n) { return db().tokens_after(after, n); },
      [](const Token& t) { return t.id; });
  EXPECT_EQ(read, saved);
  EXPECT_TRUE(db().tokens_after(saved.back().id, 10).empty());
}

TEST_P(StoreConformance, SessionsAfterPagesThroughEverySessionInByteOrder) {
  // "B" sorts before "a" in byte order, between them in a dictionary collation.
  for (const char* hash : {"b", "a", "c", "B", "ab"}) {
    db().save_session({hash, "005000000000001", 1700000000, kNow});
  }
  std::vector<Session> read = all_pages<Session>(
      std::string(), 2,
      [&](const std::string& after, int n) { return db().sessions_after(after, n); },
      [](const Session& s) { return s.session_hash; });
  std::vector<std::string> hashes;
  for (const Session& s : read) hashes.push_back(s.session_hash);
  EXPECT_EQ(hashes, (std::vector<std::string>{"B", "a", "ab", "b", "c"}));
  Session want{"ab", "005000000000001", 1700000000, kNow};
  EXPECT_EQ(fields(read[2]), fields(want));
}

TEST_P(StoreConformance, ReplayKeysAreReadAsStoredAndStillRefuseTheReplayElsewhere) {
  ASSERT_EQ(db().first_use("jti-1", "3MVG9one", kNow + 60'000, kNow, 100), ReplayStore::Use::first);
  ASSERT_EQ(db().first_use("jti-2", "3MVG9two", kNow + 90'000, kNow, 100), ReplayStore::Use::first);
  std::vector<ReplayKey> keys = all_pages<ReplayKey>(
      std::string(), 1,
      [&](const std::string& after, int n) { return db().replay_keys_after(after, n); },
      [](const ReplayKey& k) { return k.key; });
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_LT(keys[0].key, keys[1].key);
  for (const ReplayKey& k : keys) {
    EXPECT_NE(k.key.find("jti"), 0u) << "the identifier itself is never stored";
    EXPECT_EQ(k.expires_ms, k.client_id == "3MVG9one" ? kNow + 60'000 : kNow + 90'000);
  }

  // Written into another database as read, the keys make the same identifiers replays there.
  std::filesystem::path other_dir = scratch_ / "other";
  std::filesystem::create_directory(other_dir);
  FreshDatabase fresh = GetParam().fresh(other_dir);
  auto other = open_database(fresh.url);
  for (const ReplayKey& k : keys) other->save_replay_key(k);
  EXPECT_EQ(other->first_use("jti-1", "3MVG9one", kNow + 60'000, kNow + 1, 100),
            ReplayStore::Use::replayed);
  EXPECT_EQ(other->first_use("jti-2", "3MVG9two", kNow + 90'000, kNow + 1, 100),
            ReplayStore::Use::replayed);
  EXPECT_EQ(other->first_use("jti-3", "3MVG9one", kNow + 60'000, kNow + 1, 100),
            ReplayStore::Use::first);
  EXPECT_THROW(other->save_replay_key(keys[0]), StoreError) << "a key already recorded";
}

TEST_P(StoreConformance, CountRowsNamesEveryTableInOrderAndCountsItsRows) {
  std::vector<TableRows> empty = db().count_rows();
  ASSERT_EQ(empty.size(), kTableNames.size());
  for (std::size_t i = 0; i < kTableNames.size(); ++i) {
    EXPECT_EQ(empty[i].table, kTableNames[i]);
    EXPECT_EQ(empty[i].rows, 0) << empty[i].table;
  }

  db().create_org(sample_org("00D000000000001", 1));
  db().create_user(sample_user("005000000000001", "ada@example.com"));
  db().create_user(sample_user("005000000000002", "bob@example.com"));
  App app = sample_app("3MVG9one");
  db().create_app(app);
  db().add_preauthorization({app.client_id, Preauthorization::Kind::profile, "Integration User"});
  db().add_preauthorization({app.client_id, Preauthorization::Kind::permission_set, "API Only"});
  db().add_preauthorization({app.client_id, Preauthorization::Kind::permission_set, "Reports"});
  db().save_consent({"005000000000001", app.client_id, {"api"}, 1});
  db().save_key({"kid-1", "RS256", "sealed", 1, 0});
  db().save_code(sample_code("code-1"));
  db().save_tokens({sample_token("t-1", TokenKind::access), sample_token("t-2", TokenKind::refresh),
                    sample_token("t-3", TokenKind::access)});
  db().save_session({"s-1", "005000000000001", 1, kNow});
  db().first_use("jti-1", app.client_id, kNow + 1000, kNow, 100);
  db().create_admin_token({"ops", std::string(64, 'a'), kNow});

  std::vector<TableRows> counts = db().count_rows();
  std::vector<std::pair<std::string, int64_t>> got;
  for (const TableRows& t : counts) got.emplace_back(t.table, t.rows);
  EXPECT_EQ(got, (std::vector<std::pair<std::string, int64_t>>{{"orgs", 1},
                                                               {"users", 2},
                                                               {"apps", 1},
                                                               {"preauthorizations", 3},
                                                               {"consents", 1},
                                                               {"signing_keys", 1},
                                                               {"auth_codes", 1},
                                                               {"tokens", 3},
                                                               {"sessions", 1},
                                                               {"replay_keys", 1},
                                                               {"admin_tokens", 1}}));
}

}  // namespace
}  // namespace latchkey::store::testing
