// StoreConformance: AdminTokenStore (the admin API's credentials, docs/admin-api.md).
#include "conformance.h"

namespace latchkey::store::testing {
namespace {

auto fields(const AdminToken& t) { return std::tie(t.name, t.token_hash, t.created_ms); }

TEST_P(StoreConformance, AdminTokensAreListedByNameWithEveryField) {
  AdminToken ops{"ops", std::string(64, 'a'), 1700000000123};
  AdminToken deploy{"deploy bot \"ci\"", std::string(64, 'b'), 1700000000456};
  AdminToken upper{"Zed", std::string(64, 'c'), 7};
  EXPECT_TRUE(db().create_admin_token(ops));
  EXPECT_TRUE(db().create_admin_token(deploy));
  EXPECT_TRUE(db().create_admin_token(upper));
  auto listed = db().list_admin_tokens();
  ASSERT_EQ(listed.size(), 3u);
  // Byte order: upper case before lower case.
  EXPECT_EQ(fields(listed[0]), fields(upper));
  EXPECT_EQ(fields(listed[1]), fields(deploy));
  EXPECT_EQ(fields(listed[2]), fields(ops));
}

TEST_P(StoreConformance, AdminTokenNameTakenStoresNothing) {
  EXPECT_TRUE(db().create_admin_token({"ops", std::string(64, 'a'), 1}));
  EXPECT_FALSE(db().create_admin_token({"ops", std::string(64, 'b'), 2}));
  auto listed = db().list_admin_tokens();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].token_hash, std::string(64, 'a'));
}

TEST_P(StoreConformance, DeletedAdminTokenIsGoneAndItsNameFree) {
  EXPECT_TRUE(db().create_admin_token({"ops", std::string(64, 'a'), 1}));
  EXPECT_TRUE(db().create_admin_token({"other", std::string(64, 'b'), 1}));
  EXPECT_TRUE(db().delete_admin_token("ops"));
  EXPECT_FALSE(db().delete_admin_token("ops"));
  EXPECT_FALSE(db().delete_admin_token("nobody"));
  auto listed = db().list_admin_tokens();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].name, "other");
  EXPECT_TRUE(db().create_admin_token({"ops", std::string(64, 'c'), 2}));
}

}  // namespace
}  // namespace latchkey::store::testing
