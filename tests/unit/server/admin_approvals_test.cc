// The approval-model admin operations behind `user update`, `app approvals`,
// `app unpreauthorize` and `app revoke-approval`.
#include <gtest/gtest.h>

#include <memory>

#include "app/admin.h"
#include "core/clock.h"
#include "crypto/crypto.h"
#include "store/open.h"
#include "unit/server/test_support.h"

namespace latchkey::app {
namespace {

class AdminApprovals : public ::testing::Test {
 protected:
  AdminApprovals()
      : db_(store::open_database("sqlite::memory:")), admin_(*db_, random_, clock_, kek_) {
    testsupport::seed_signing_keys(*db_, clock_.now_ms());
    NewUser u;
    u.username = "alice@localhost";
    u.password = "pw";
    u.argon2_memory_kib = 64;
    u.argon2_iterations = 1;
    user_id_ = std::string(admin_.create_user(u)->at("user_id").as_string());
    NewApp a;
    a.name = "Approvals";
    a.callbacks = {"https://app.example.test/cb"};
    client_id_ = std::string(admin_.create_app(a)->at("client_id").as_string());
  }

  store::Token token(const std::string& hash, const std::string& client_id) {
    store::Token t;
    t.token_hash = hash;
    t.client_id = client_id;
    t.user_id = user_id_;
    t.family_id = hash;
    t.issued_ms = clock_.now_ms();
    return t;
  }

  FakeClock clock_;
  crypto::OsRandom random_;
  std::unique_ptr<store::Database> db_;
  KekSource kek_{testsupport::test_sealer()};
  Admin admin_;
  std::string user_id_, client_id_;
};

TEST_F(AdminApprovals, UpdateUserChangesProfileAndPermissionSets) {
  auto r = admin_.update_user("alice@localhost", std::string("Integration User"),
                              std::vector<std::string>{"API Only"}, std::nullopt);
  ASSERT_TRUE(r.ok()) << r.error().description();
  auto u = db_->find_user(user_id_);
  EXPECT_EQ(u->profile, "Integration User");
  EXPECT_EQ(u->permission_sets, std::vector<std::string>{"API Only"});
  EXPECT_TRUE(u->active);
  EXPECT_FALSE(admin_.update_user("nobody@localhost", std::nullopt, std::nullopt, true).ok());
}

TEST_F(AdminApprovals, DeactivatingAUserRevokesTheirTokens) {
  db_->save_tokens({token("h1", client_id_)});
  ASSERT_TRUE(admin_.update_user("alice@localhost", std::nullopt, std::nullopt, false).ok());
  EXPECT_FALSE(db_->find_user(user_id_)->active);
  EXPECT_TRUE(db_->find_token(store::SecretRef::by_hash("h1"))->revoked);
}

TEST_F(AdminApprovals, ApprovalsListPreauthorizationsAndUsersWhoApproved) {
  ASSERT_TRUE(
      admin_.preauthorize(client_id_, store::Preauthorization::Kind::profile, "Integration User")
          .ok());
  db_->save_consent({user_id_, client_id_, {"api"}, 42});
  auto r = admin_.approvals(client_id_);
  ASSERT_TRUE(r.ok());
  const auto& pre = r->at("preauthorized").as_array();
  ASSERT_EQ(pre.size(), 1u);
  EXPECT_EQ(pre[0].at("name").as_string(), "Integration User");
  const auto& by = r->at("approved_by").as_array();
  ASSERT_EQ(by.size(), 1u);
  EXPECT_EQ(by[0].at("username").as_string(), "alice@localhost");
  EXPECT_EQ(by[0].at("scopes").as_string(), "api");
}

TEST_F(AdminApprovals, UnpreauthorizeRemovesOnlyThatGrant) {
  ASSERT_TRUE(
      admin_.preauthorize(client_id_, store::Preauthorization::Kind::profile, "Integration User")
          .ok());
  ASSERT_TRUE(
      admin_.preauthorize(client_id_, store::Preauthorization::Kind::permission_set, "API Only")
          .ok());
  auto r =
      admin_.unpreauthorize(client_id_, store::Preauthorization::Kind::profile, "Integration User");
  ASSERT_TRUE(r.ok());
  auto left = db_->preauthorizations(client_id_);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].name, "API Only");
  EXPECT_FALSE(
      admin_.unpreauthorize(client_id_, store::Preauthorization::Kind::profile, "Integration User")
          .ok());
}

TEST_F(AdminApprovals, RevokeApprovalForgetsConsentAndRevokesOnlyThatAppsTokens) {
  db_->save_consent({user_id_, client_id_, {"api"}, 1});
  db_->save_tokens({token("mine", client_id_), token("other", "3MVG9other")});
  auto r = admin_.revoke_approval(client_id_, "alice@localhost");
  ASSERT_TRUE(r.ok()) << r.error().description();
  EXPECT_EQ(r->at("revoked_tokens").as_int64(), 1);
  EXPECT_FALSE(db_->find_consent(user_id_, client_id_).has_value());
  EXPECT_TRUE(db_->find_token(store::SecretRef::by_hash("mine"))->revoked);
  EXPECT_FALSE(db_->find_token(store::SecretRef::by_hash("other"))->revoked);
  // A second revocation has nothing to revoke.
  EXPECT_FALSE(admin_.revoke_approval(client_id_, "alice@localhost").ok());
}

}  // namespace
}  // namespace latchkey::app
