// StoreConformance: AppStore::delete_app (the admin API's DELETE /admin/v1/apps/{client_id}).
#include "conformance.h"

namespace latchkey::store::testing {
namespace {

TEST_P(StoreConformance, DeletedAppTakesItsApprovalsAndTokensWithIt) {
  ASSERT_TRUE(db().create_app(sample_app("3MVG9gone")));
  App kept = sample_app("3MVG9kept");
  kept.id = "0Ha000000000002";
  ASSERT_TRUE(db().create_app(kept));
  db().add_preauthorization({"3MVG9gone", Preauthorization::Kind::profile, "Standard User"});
  db().add_preauthorization({"3MVG9kept", Preauthorization::Kind::profile, "Standard User"});
  db().save_consent({"005000000000001", "3MVG9gone", {"api"}, 1});
  db().save_consent({"005000000000001", "3MVG9kept", {"api"}, 1});
  Token gone = sample_token("gone-access", TokenKind::access);
  gone.client_id = "3MVG9gone";
  Token other = sample_token("kept-access", TokenKind::access);
  other.client_id = "3MVG9kept";
  other.family_id = "family-2";
  db().save_tokens({gone});
  db().save_tokens({other});

  EXPECT_TRUE(db().delete_app("3MVG9gone"));

  EXPECT_FALSE(db().find_app("3MVG9gone").has_value());
  EXPECT_TRUE(db().preauthorizations("3MVG9gone").empty());
  EXPECT_TRUE(db().list_consents("3MVG9gone").empty());
  EXPECT_TRUE(db().find_token(SecretRef::by_hash("gone-access"))->revoked);
  // Another app's rows are untouched.
  EXPECT_TRUE(db().find_app("3MVG9kept").has_value());
  EXPECT_EQ(db().preauthorizations("3MVG9kept").size(), 1u);
  EXPECT_EQ(db().list_consents("3MVG9kept").size(), 1u);
  EXPECT_FALSE(db().find_token(SecretRef::by_hash("kept-access"))->revoked);
  // Gone once; the client id is free again.
  EXPECT_FALSE(db().delete_app("3MVG9gone"));
  EXPECT_FALSE(db().delete_app("3MVG9never"));
  EXPECT_TRUE(db().create_app(sample_app("3MVG9gone")));
}

}  // namespace
}  // namespace latchkey::store::testing
