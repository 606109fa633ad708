// Conformance tests for the approval-management methods: user access and activation,
// pre-authorization removal, consent listing and deletion.
#include "conformance.h"

namespace latchkey::store::testing {
namespace {

TEST_P(StoreConformance, UpdateUserAccessReplacesProfileAndPermissionSets) {
  User u = sample_user("005000000000001", "alice@localhost");
  ASSERT_TRUE(db().create_user(u));
  ASSERT_TRUE(db().update_user_access(u.id, "Integration User", {"API Only", "Reports"}));
  auto found = db().find_user(u.id);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->profile, "Integration User");
  EXPECT_EQ(found->permission_sets, (std::vector<std::string>{"API Only", "Reports"}));
  EXPECT_EQ(found->username, u.username);  // nothing else changes
  EXPECT_FALSE(db().update_user_access("005nosuchuser00", "X", {}));
}

TEST_P(StoreConformance, SetUserActiveTogglesAndReportsUnknownUsers) {
  User u = sample_user("005000000000001", "alice@localhost");
  ASSERT_TRUE(db().create_user(u));
  ASSERT_TRUE(db().set_user_active(u.id, false));
  EXPECT_FALSE(db().find_user(u.id)->active);
  ASSERT_TRUE(db().set_user_active(u.id, true));
  EXPECT_TRUE(db().find_user_by_username("alice@localhost")->active);
  EXPECT_FALSE(db().set_user_active("005nosuchuser00", false));
}

TEST_P(StoreConformance, RemovePreauthorizationRemovesOnlyThatOne) {
  App app = sample_app("3MVG9one");
  db().create_app(app);
  db().add_preauthorization({app.client_id, Preauthorization::Kind::profile, "Integration User"});
  db().add_preauthorization({app.client_id, Preauthorization::Kind::permission_set, "API Only"});
  EXPECT_TRUE(db().remove_preauthorization(
      {app.client_id, Preauthorization::Kind::profile, "Integration User"}));
  EXPECT_FALSE(db().remove_preauthorization(
      {app.client_id, Preauthorization::Kind::profile, "Integration User"}));
  auto left = db().preauthorizations(app.client_id);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].kind, Preauthorization::Kind::permission_set);
  EXPECT_EQ(left[0].name, "API Only");
}

TEST_P(StoreConformance, ListConsentsReturnsOneAppsApprovalsOldestFirst) {
  db().save_consent({"005000000000002", "3MVG9one", {"api"}, 20});
  db().save_consent({"005000000000001", "3MVG9one", {"web"}, 10});
  db().save_consent({"005000000000001", "3MVG9two", {"api"}, 5});
  auto list = db().list_consents("3MVG9one");
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].user_id, "005000000000001");
  EXPECT_EQ(list[0].scopes, std::vector<std::string>{"web"});
  EXPECT_EQ(list[1].user_id, "005000000000002");
  EXPECT_TRUE(db().list_consents("3MVG9none").empty());
}

TEST_P(StoreConformance, DeleteConsentForgetsTheApproval) {
  db().save_consent({"005000000000001", "3MVG9one", {"api"}, 1});
  db().save_consent({"005000000000001", "3MVG9two", {"api"}, 1});
  EXPECT_TRUE(db().delete_consent("005000000000001", "3MVG9one"));
  EXPECT_FALSE(db().find_consent("005000000000001", "3MVG9one").has_value());
  EXPECT_TRUE(db().find_consent("005000000000001", "3MVG9two").has_value());
  EXPECT_FALSE(db().delete_consent("005000000000001", "3MVG9one"));
}

}  // namespace
}  // namespace latchkey::store::testing

namespace latchkey::store::testing {
namespace {

TEST_P(StoreConformance, RevokeByUserAppRevokesOnlyThatUsersTokensForThatApp) {
  Token a = sample_token("hash-a", TokenKind::access);
  a.user_id = "005u1";
  a.client_id = "3MVG9one";
  a.revoked = false;
  Token b = a;
  b.token_hash = "hash-b";
  b.client_id = "3MVG9two";
  Token c = a;
  c.token_hash = "hash-c";
  c.user_id = "005u2";
  db().save_tokens({a, b, c});
  EXPECT_EQ(db().revoke_by_user_app("005u1", "3MVG9one"), 1);
  EXPECT_TRUE(db().find_token(SecretRef::by_hash("hash-a"))->revoked);
  EXPECT_FALSE(db().find_token(SecretRef::by_hash("hash-b"))->revoked);
  EXPECT_FALSE(db().find_token(SecretRef::by_hash("hash-c"))->revoked);
  EXPECT_EQ(db().revoke_by_user_app("005u1", "3MVG9one"), 0);
  EXPECT_EQ(db().revoke_by_user_app("", ""), 0);
}

}  // namespace
}  // namespace latchkey::store::testing
