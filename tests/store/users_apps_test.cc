// StoreConformance: OrgStore, UserStore and AppStore.
#include <algorithm>

#include "conformance.h"
#include "store/record_names.h"

namespace latchkey::store::testing {
namespace {

TEST_P(StoreConformance, CreateOrgRoundTripsEveryField) {
  Org org = sample_org("00D000000000001", 1700000000000);
  db().create_org(org);
  auto found = db().find_org(org.id);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(fields(*found), fields(org));
}

TEST_P(StoreConformance, FindOrgReturnsNulloptWhenUnknown) {
  db().create_org(sample_org("00D000000000001", 1));
  EXPECT_FALSE(db().find_org("00D000000000002").has_value());
}

TEST_P(StoreConformance, DefaultOrgIsNulloptOnEmptyDatabase) {
  EXPECT_FALSE(db().default_org().has_value());
}

TEST_P(StoreConformance, DefaultOrgIsTheOldest) {
  db().create_org(sample_org("00D00000000000B", 2000));
  db().create_org(sample_org("00D00000000000A", 1000));
  db().create_org(sample_org("00D00000000000C", 3000));
  auto org = db().default_org();
  ASSERT_TRUE(org.has_value());
  EXPECT_EQ(org->id, "00D00000000000A");
}

TEST_P(StoreConformance, CreateUserRoundTripsEveryField) {
  User user = sample_user("005000000000001", "ada@example.com");
  ASSERT_TRUE(db().create_user(user));
  auto by_id = db().find_user(user.id);
  ASSERT_TRUE(by_id.has_value());
  EXPECT_EQ(fields(*by_id), fields(user));
  auto by_name = db().find_user_by_username(user.username);
  ASSERT_TRUE(by_name.has_value());
  EXPECT_EQ(fields(*by_name), fields(user));
}

TEST_P(StoreConformance, CreateUserWithDefaultsRoundTrips) {
  User user;
  user.id = "005000000000001";
  user.username = "min@example.com";
  ASSERT_TRUE(db().create_user(user));
  auto found = db().find_user(user.id);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(fields(*found), fields(user));
  EXPECT_TRUE(found->permission_sets.empty());
  EXPECT_TRUE(found->active);
}

TEST_P(StoreConformance, CreateUserRefusesDuplicateUsernameIgnoringCase) {
  ASSERT_TRUE(db().create_user(sample_user("005000000000001", "ada@example.com")));
  EXPECT_FALSE(db().create_user(sample_user("005000000000002", "ada@example.com")));
  EXPECT_FALSE(db().create_user(sample_user("005000000000003", "ADA@Example.COM")));
  EXPECT_FALSE(db().find_user("005000000000002").has_value());
  EXPECT_FALSE(db().find_user("005000000000003").has_value());
  EXPECT_EQ(db().list_users().size(), 1u);
}

TEST_P(StoreConformance, FindUserByUsernameIgnoresCase) {
  ASSERT_TRUE(db().create_user(sample_user("005000000000001", "Ada@Example.com")));
  auto found = db().find_user_by_username("aDA@eXAMPLE.COM");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->id, "005000000000001");
  EXPECT_EQ(found->username, "Ada@Example.com");  // stored as given
}

TEST_P(StoreConformance, FindUserReturnsNulloptWhenUnknown) {
  ASSERT_TRUE(db().create_user(sample_user("005000000000001", "ada@example.com")));
  EXPECT_FALSE(db().find_user("005000000000009").has_value());
  EXPECT_FALSE(db().find_user_by_username("bob@example.com").has_value());
  EXPECT_FALSE(db().find_user_by_username("").has_value());
}

TEST_P(StoreConformance, ListUsersReturnsEveryUserInCreationOrder) {
  EXPECT_TRUE(db().list_users().empty());
  User a = sample_user("005000000000001", "a@example.com");
  User b = sample_user("005000000000002", "b@example.com");
  b.created_ms = a.created_ms + 1;
  ASSERT_TRUE(db().create_user(a));
  ASSERT_TRUE(db().create_user(b));
  auto users = db().list_users();
  ASSERT_EQ(users.size(), 2u);
  EXPECT_EQ(fields(users[0]), fields(a));
  EXPECT_EQ(fields(users[1]), fields(b));
}

TEST_P(StoreConformance, CreateAppRoundTripsEveryField) {
  App app = sample_app("3MVG9one");
  db().create_app(app);
  auto found = db().find_app(app.client_id);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(fields(*found), fields(app));
}

// An admin may choose the client id (`app create --client-id`): a second app with the same one
// is refused and the first is left as it was.
TEST_P(StoreConformance, CreateAppWithATakenClientIdReturnsFalseAndKeepsTheFirst) {
  App first = sample_app("PlatformCLI");
  ASSERT_TRUE(db().create_app(first));
  App second = sample_app("PlatformCLI");
  second.id = "0Ha000000000099";
  second.name = "Another";
  EXPECT_FALSE(db().create_app(second));
  auto found = db().find_app("PlatformCLI");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(fields(*found), fields(first));
  EXPECT_EQ(db().list_apps().size(), 1u);
}

TEST_P(StoreConformance, AppRoundTripsEveryRefreshPolicy) {
  const RefreshPolicy policies[] = {RefreshPolicy::until_revoked, RefreshPolicy::immediately,
                                    RefreshPolicy::expire_after, RefreshPolicy::rotate};
  int n = 0;
  for (RefreshPolicy policy : policies) {
    App app = sample_app("3MVG9policy" + std::to_string(n++));
    app.refresh_policy = policy;
    db().create_app(app);
    auto found = db().find_app(app.client_id);
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->refresh_policy, policy);
  }
}

TEST_P(StoreConformance, AppRoundTripsEveryTokenFormat) {
  int n = 0;
  for (TokenFormat format : {TokenFormat::opaque, TokenFormat::jwt, TokenFormat::jwt_sf}) {
    App app = sample_app("3MVG9format" + std::to_string(n++));
    app.token_format = format;
    ASSERT_TRUE(db().create_app(app));
    auto found = db().find_app(app.client_id);
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->token_format, format);
  }
}

TEST_P(StoreConformance, AppWithDefaultsRoundTrips) {
  App app;
  app.id = "0Ha000000000001";
  app.client_id = "3MVG9defaults";
  db().create_app(app);
  auto found = db().find_app(app.client_id);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(fields(*found), fields(app));
}

TEST_P(StoreConformance, EmptyListAndListOfEmptyStringDiffer) {
  App empty = sample_app("3MVG9empty");
  empty.scopes = {};
  App one_blank = sample_app("3MVG9blank");
  one_blank.scopes = {""};
  db().create_app(empty);
  db().create_app(one_blank);
  EXPECT_EQ(db().find_app("3MVG9empty")->scopes, std::vector<std::string>{});
  EXPECT_EQ(db().find_app("3MVG9blank")->scopes, std::vector<std::string>{""});
}

TEST_P(StoreConformance, FindAppReturnsNulloptWhenUnknown) {
  db().create_app(sample_app("3MVG9one"));
  EXPECT_FALSE(db().find_app("3MVG9two").has_value());
  EXPECT_FALSE(db().find_app("3mvg9one").has_value());  // client ids are case-sensitive
}

TEST_P(StoreConformance, ListAppsReturnsEveryApp) {
  EXPECT_TRUE(db().list_apps().empty());
  App a = sample_app("3MVG9a");
  App b = sample_app("3MVG9b");
  b.created_ms = a.created_ms + 1;
  db().create_app(a);
  db().create_app(b);
  auto apps = db().list_apps();
  ASSERT_EQ(apps.size(), 2u);
  EXPECT_EQ(fields(apps[0]), fields(a));
  EXPECT_EQ(fields(apps[1]), fields(b));
}

TEST_P(StoreConformance, UpdateSecretHashChangesOnlyTheHash) {
  App app = sample_app("3MVG9one");
  App other = sample_app("3MVG9two");
  db().create_app(app);
  db().create_app(other);
  EXPECT_TRUE(db().update_secret_hash(app.client_id, "new-hash"));
  app.secret_hash = "new-hash";
  EXPECT_EQ(fields(*db().find_app(app.client_id)), fields(app));
  EXPECT_EQ(fields(*db().find_app(other.client_id)), fields(other));
}

TEST_P(StoreConformance, UpdateSecretHashReturnsFalseWhenUnknown) {
  EXPECT_FALSE(db().update_secret_hash("3MVG9missing", "hash"));
}

TEST_P(StoreConformance, PreauthorizationsListsOnlyThatAppsGrants) {
  db().create_app(sample_app("3MVG9one"));
  db().create_app(sample_app("3MVG9two"));
  db().add_preauthorization({"3MVG9one", Preauthorization::Kind::profile, "System Administrator"});
  db().add_preauthorization({"3MVG9one", Preauthorization::Kind::permission_set, "API Enabled"});
  db().add_preauthorization({"3MVG9two", Preauthorization::Kind::profile, "Standard User"});
  auto grants = db().preauthorizations("3MVG9one");
  ASSERT_EQ(grants.size(), 2u);
  std::vector<std::string> seen;
  for (const auto& g : grants) {
    EXPECT_EQ(g.client_id, "3MVG9one");
    seen.push_back(std::string(to_string(g.kind)) + ":" + g.name);
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (std::vector<std::string>{"permission_set:API Enabled",
                                            "profile:System Administrator"}));
  EXPECT_TRUE(db().preauthorizations("3MVG9none").empty());
}

TEST_P(StoreConformance, AddingTheSamePreauthorizationTwiceKeepsOne) {
  db().create_app(sample_app("3MVG9one"));
  db().add_preauthorization({"3MVG9one", Preauthorization::Kind::profile, "Standard User"});
  db().add_preauthorization({"3MVG9one", Preauthorization::Kind::profile, "Standard User"});
  EXPECT_EQ(db().preauthorizations("3MVG9one").size(), 1u);
}

}  // namespace
}  // namespace latchkey::store::testing
