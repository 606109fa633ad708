// StoreConformance: ConsentStore, KeyStore, SessionStore, and durability across a restart.
#include "conformance.h"

namespace latchkey::store::testing {
namespace {

TEST_P(StoreConformance, SavedConsentRoundTripsEveryField) {
  Consent consent{"005000000000001", "3MVG9one", tricky_list(), 1700000000789};
  db().save_consent(consent);
  auto found = db().find_consent(consent.user_id, consent.client_id);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(fields(*found), fields(consent));
}

TEST_P(StoreConformance, FindConsentMatchesUserAndClientTogether) {
  db().save_consent({"005000000000001", "3MVG9one", {"api"}, 1});
  EXPECT_FALSE(db().find_consent("005000000000001", "3MVG9two").has_value());
  EXPECT_FALSE(db().find_consent("005000000000002", "3MVG9one").has_value());
}

TEST_P(StoreConformance, SaveConsentReplacesThePreviousOne) {
  db().save_consent({"005000000000001", "3MVG9one", {"api"}, 1});
  db().save_consent({"005000000000001", "3MVG9two", {"web"}, 2});
  Consent newer{"005000000000001", "3MVG9one", {"api", "refresh_token", "openid"}, 3};
  db().save_consent(newer);
  EXPECT_EQ(fields(*db().find_consent("005000000000001", "3MVG9one")), fields(newer));
  EXPECT_EQ(db().find_consent("005000000000001", "3MVG9two")->scopes,
            std::vector<std::string>{"web"});
  // Narrowing to no scopes is a replacement too, not a deletion.
  db().save_consent({"005000000000001", "3MVG9one", {}, 4});
  auto narrowed = db().find_consent("005000000000001", "3MVG9one");
  ASSERT_TRUE(narrowed.has_value());
  EXPECT_TRUE(narrowed->scopes.empty());
  EXPECT_EQ(narrowed->granted_ms, 4);
}

TEST_P(StoreConformance, ListKeysIsEmptyOnNewDatabase) { EXPECT_TRUE(db().list_keys().empty()); }

TEST_P(StoreConformance, ListKeysReturnsEveryKeyNewestFirst) {
  SigningKeyRecord old_key{"kid-old", "RS256", "-----BEGIN PRIVATE KEY-----\nA\n", 1000, 5000};
  SigningKeyRecord b{"kid-b", "ES256", "-----BEGIN PRIVATE KEY-----\nB\n", 3000, 0};
  SigningKeyRecord a{"kid-a", "RS256", "-----BEGIN PRIVATE KEY-----\nC\n", 3000, 0};
  SigningKeyRecord mid{"kid-mid", "RS256", "-----BEGIN PRIVATE KEY-----\nD\n", 2000, 0};
  for (const auto& k : {old_key, b, mid, a}) db().save_key(k);
  auto keys = db().list_keys();
  ASSERT_EQ(keys.size(), 4u);
  // Same created_ms: ordered by kid.
  EXPECT_EQ(fields(keys[0]), fields(a));
  EXPECT_EQ(fields(keys[1]), fields(b));
  EXPECT_EQ(fields(keys[2]), fields(mid));
  EXPECT_EQ(fields(keys[3]), fields(old_key));
}

TEST_P(StoreConformance, SavingAKeyAgainUpdatesIt) {
  SigningKeyRecord key{"kid-1", "RS256", "pem", 1000, 0};
  db().save_key(key);
  key.retired_ms = 2000;  // retirement
  db().save_key(key);
  auto keys = db().list_keys();
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(fields(keys[0]), fields(key));
}

TEST_P(StoreConformance, SessionSaveFind) {
  Session s{"session-hash-1", "005000000000001", 1700000000, 1700003600000};
  Session other{"session-hash-2", "005000000000002", 1700000001, 1700003600001};
  db().save_session(s);
  db().save_session(other);
  auto found = db().find_session(s.session_hash);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(fields(*found), fields(s));
  EXPECT_EQ(fields(*db().find_session(other.session_hash)), fields(other));
}

TEST_P(StoreConformance, FindSessionReturnsNulloptWhenUnknown) {
  EXPECT_FALSE(db().find_session("nope").has_value());
}

TEST_P(StoreConformance, SavingASessionAgainUpdatesIt) {
  Session s{"session-hash-1", "005000000000001", 1700000000, 1700003600000};
  db().save_session(s);
  s.auth_time_s += 60;
  s.expires_ms += 60000;
  db().save_session(s);
  EXPECT_EQ(fields(*db().find_session(s.session_hash)), fields(s));
}

TEST_P(StoreConformance, DataSurvivesClosingAndReopening) {
  if (!GetParam().persistent) GTEST_SKIP() << "in-memory databases end with their handle";
  Org org = sample_org("00D000000000001", 1);
  User user = sample_user("005000000000001", "ada@example.com");
  App app = sample_app("3MVG9one");
  AuthCode code = sample_code("code-1");
  Token token = sample_token("access-1", TokenKind::access);
  Consent consent{user.id, app.client_id, {"api"}, 5};
  SigningKeyRecord key{"kid-1", "RS256", "pem", 7, 0};
  Session session{"session-1", user.id, 8, 9};
  db().create_org(org);
  ASSERT_TRUE(db().create_user(user));
  db().create_app(app);
  db().add_preauthorization({app.client_id, Preauthorization::Kind::profile, "Standard User"});
  db().save_code(code);
  db().save_tokens({token});
  ASSERT_EQ(db().revoke_token(SecretRef::by_hash(token.token_hash)), 1);
  db().save_consent(consent);
  db().save_key(key);
  db().save_session(session);

  reopen();

  EXPECT_EQ(fields(*db().default_org()), fields(org));
  EXPECT_EQ(fields(*db().find_user_by_username(user.username)), fields(user));
  EXPECT_EQ(fields(*db().find_app(app.client_id)), fields(app));
  EXPECT_EQ(db().preauthorizations(app.client_id).size(), 1u);
  token.revoked = true;
  EXPECT_EQ(fields(*db().find_token(SecretRef::by_hash(token.token_hash))), fields(token));
  EXPECT_EQ(fields(*db().find_consent(user.id, app.client_id)), fields(consent));
  EXPECT_EQ(fields(db().list_keys().at(0)), fields(key));
  EXPECT_EQ(fields(*db().find_session(session.session_hash)), fields(session));
  ASSERT_FALSE(db().find_code(SecretRef::by_hash(code.code_hash))->used);
  ASSERT_TRUE(redeem(db(), Redemption::Kind::code, SecretRef::by_hash(code.code_hash), "code-key")
                  .is_durable());
  EXPECT_FALSE(db().create_user(user));  // the uniqueness constraint survived too

  // A code redeemed before a restart stays used up after it.
  reopen();
  EXPECT_TRUE(db().find_code(SecretRef::by_hash(code.code_hash))->used);
  EXPECT_EQ(
      redeem(db(), Redemption::Kind::code, SecretRef::by_hash(code.code_hash), "code-key").status,
      WriteOutcome::Status::already_redeemed);
}

}  // namespace
}  // namespace latchkey::store::testing
