// StoreConformance: CopyStore::restore, a snapshot of an installation's configuration written
// into an empty database in one transaction (`latchkey import`, store/snapshot.h).
#include "conformance.h"
#include "store/snapshot.h"

namespace latchkey::store::testing {
namespace {

// Two orgs, users, apps naming them, pre-authorizations, approvals and keys, each record with
// every field set.
Snapshot sample_snapshot() {
  Snapshot s;
  s.orgs = {sample_org("00D000000000001", 1000), sample_org("00D000000000002", 2000)};
  User runner = sample_user("005000000000009", "runner@example.com");
  User ada = sample_user("005000000000001", "ada@example.com");
  ada.created_ms = runner.created_ms + 1;
  s.users = {runner, ada};
  App a = sample_app("3MVG9a");
  App b = sample_app("3MVG9b");
  b.id = "0Ha-b";
  b.created_ms = a.created_ms + 1;
  b.client_credentials_user_id.clear();
  s.apps = {a, b};
  s.preauthorizations = {{"3MVG9a", Preauthorization::Kind::permission_set, "API Enabled"},
                         {"3MVG9a", Preauthorization::Kind::profile, "Standard User"}};
  s.consents = {{"005000000000001", "3MVG9a", tricky_list(), 5},
                {"005000000000009", "3MVG9b", {"api"}, 6}};
  s.keys = {{"kid-old", "RS256", "lk-kek-v1:0011223344556677:c2VhbGVk", 100, 200},
            {"kid-new", "ES256", "lk-kek-v1:0011223344556677:bmV3ZXI", 300, 0}};
  return s;
}

template <class Row>
void expect_rows_equal(const std::vector<Row>& got, const std::vector<Row>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(fields(got[i]), fields(want[i])) << i;
}

TEST_P(StoreConformance, RestoreWritesEveryRecordAndReadsBackAsGiven) {
  const Snapshot given = sample_snapshot();
  ASSERT_TRUE(db().restore(given));
  const Snapshot read = read_snapshot(db());
  expect_rows_equal(read.orgs, given.orgs);
  expect_rows_equal(read.users, given.users);
  expect_rows_equal(read.apps, given.apps);
  expect_rows_equal(read.preauthorizations, given.preauthorizations);
  expect_rows_equal(read.consents, given.consents);
  expect_rows_equal(read.keys, given.keys);
  // The records serve as created ones do.
  EXPECT_EQ(db().default_org()->id, "00D000000000001");
  EXPECT_EQ(db().find_user_by_username("ADA@example.com")->id, "005000000000001");
  EXPECT_EQ(db().find_app("3MVG9b")->id, "0Ha-b");
}

TEST_P(StoreConformance, RestoreRefusesADatabaseHoldingAnyRowAndWritesNothing) {
  // A browser session alone: no org, user or app, yet the database is not empty.
  db().save_session({"session-hash", "005000000000001", 1, 2});
  EXPECT_FALSE(db().restore(sample_snapshot()));
  EXPECT_TRUE(db().list_orgs().empty());
  EXPECT_TRUE(db().list_users().empty());
  EXPECT_TRUE(db().list_keys().empty());
}

TEST_P(StoreConformance, RestoreOfARefusedRecordWritesNothingAtAll) {
  Snapshot s = sample_snapshot();
  // The last user clashes with the first (usernames compare caselessly): everything before it,
  // the orgs and the first user, must be undone with it.
  s.users.push_back(sample_user("005000000000003", "RUNNER@example.com"));
  EXPECT_THROW((void)db().restore(s), StoreError);
  EXPECT_TRUE(db().list_orgs().empty());
  EXPECT_TRUE(db().list_users().empty());
  EXPECT_TRUE(db().list_apps().empty());
  // And the database is still empty: a corrected snapshot goes in.
  EXPECT_TRUE(db().restore(sample_snapshot()));
  EXPECT_EQ(db().list_users().size(), 2u);
}

}  // namespace
}  // namespace latchkey::store::testing
