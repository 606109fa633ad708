// The read cache in front of the backend: what the server changes is seen at once, what another
// process changes is seen once the cached copy is older than the cache age, and the cache never
// answers for a record the backend does not have.
#include "store/caching_database.h"

#include <gtest/gtest.h>

#include "store/pending_write.h"
#include "store/sqlite/sqlite_connection.h"
#include "store/sqlite/sqlite_database.h"
#include "conformance.h"
#include "temp_dir.h"

namespace latchkey::store {
namespace {

using testing::redeem;

class CachingDatabaseTest : public ::testing::Test {
 protected:
  CachingDatabaseTest() : backend_(":memory:"), cache_(backend_, clock_, /*max_age_ms=*/1000) {
    backend_.create_org({"00Dorg", "Org", 1});
    User u;
    u.id = "005alice";
    u.org_id = "00Dorg";
    u.username = "alice@localhost";
    u.password_hash = "argon2-hash";
    backend_.create_user(u);
    App a;
    a.id = "0Haapp";
    a.client_id = "3MVGapp";
    a.org_id = "00Dorg";
    a.name = "app";
    a.secret_hash = "old";
    backend_.create_app(a);
  }

  Token token(const std::string& hash, const std::string& family = "fam") {
    Token t;
    t.token_hash = hash;
    t.client_id = "3MVGapp";
    t.user_id = "005alice";
    t.org_id = "00Dorg";
    t.family_id = family;
    t.issued_ms = clock_.now_ms();
    return t;
  }

  FakeClock clock_;
  sqlite::SqliteDatabase backend_;
  CachingDatabase cache_;
};

TEST_F(CachingDatabaseTest, RevocationThroughTheServerIsSeenAtOnce) {
  cache_.save_tokens({token("h1"), token("h2", "other")});
  ASSERT_FALSE(cache_.find_token(SecretRef::by_hash("h1"))->revoked);
  ASSERT_FALSE(cache_.find_token(SecretRef::by_hash("h2"))->revoked);
  EXPECT_EQ(cache_.revoke_token(SecretRef::by_hash("h1")), 1);
  EXPECT_TRUE(cache_.find_token(SecretRef::by_hash("h1"))->revoked);
  // Revocations the cache cannot name by key (family, code, user) drop every cached token.
  EXPECT_EQ(cache_.revoke_family("other"), 1);
  EXPECT_TRUE(cache_.find_token(SecretRef::by_hash("h2"))->revoked);
}

TEST_F(CachingDatabaseTest, RevocationByUserAndRotationAreSeenAtOnce) {
  cache_.save_tokens({token("h1")});
  ASSERT_TRUE(cache_.find_token(SecretRef::by_hash("h1")));
  EXPECT_TRUE(redeem(cache_, Redemption::Kind::refresh_token, SecretRef::by_hash("h1"), "fam")
                  .is_durable());
  EXPECT_TRUE(cache_.find_token(SecretRef::by_hash("h1"))->rotated);
  EXPECT_EQ(cache_.revoke_by_user("005alice"), 1);
  EXPECT_TRUE(cache_.find_token(SecretRef::by_hash("h1"))->revoked);
}

// A redemption that finds its code or refresh token used up revokes by code or family, which
// the cache cannot key: every cached token goes, so the revocation is seen at once. A rotated
// refresh token is seen rotated at once too.
TEST_F(CachingDatabaseTest, RedemptionsAreSeenAtOnce) {
  Token old = token("rt", "fam-r");
  old.kind = TokenKind::refresh;
  cache_.save_tokens({old, token("access-of-fam", "fam-r")});
  ASSERT_FALSE(cache_.find_token(SecretRef::by_hash("rt"))->rotated);
  Redemption r{Redemption::Kind::refresh_token, SecretRef::by_hash("rt"), "fam-r"};
  ASSERT_TRUE(cache_.redeem_later(r, {token("next", "fam-r")})->wait().is_durable());
  EXPECT_TRUE(cache_.find_token(SecretRef::by_hash("rt"))->rotated);
  ASSERT_FALSE(cache_.find_token(SecretRef::by_hash("next"))->revoked);
  EXPECT_EQ(cache_.redeem_later(r, {token("stolen", "fam-r")})->wait().status,
            WriteOutcome::Status::already_redeemed);
  EXPECT_TRUE(cache_.find_token(SecretRef::by_hash("next"))->revoked);
  EXPECT_TRUE(cache_.find_token(SecretRef::by_hash("access-of-fam"))->revoked);
  EXPECT_FALSE(cache_.find_token(SecretRef::by_hash("stolen")));
}

// A replayed code revokes the tokens later refreshed from its refresh token too (RFC 6749
// §4.1.2); the refreshed access token, cached as it was issued, is seen revoked at once.
TEST_F(CachingDatabaseTest, ACodeReplayIsSeenOnTheTokensRefreshedFromTheCode) {
  AuthCode code;
  code.code_hash = "code-hash";
  code.client_id = "3MVGapp";
  code.user_id = "005alice";
  code.expires_ms = clock_.now_ms() + 600'000;
  backend_.save_code(code);  // codes are not cached: the backend holds them
  Token access = token("code-access", "fam-c");
  access.code_key = "code-key";
  Token refresh = access;
  refresh.token_hash = "code-refresh";
  refresh.kind = TokenKind::refresh;
  Redemption r{Redemption::Kind::code, SecretRef::by_hash("code-hash"), "code-key"};
  ASSERT_TRUE(cache_.redeem_later(r, {access, refresh})->wait().is_durable());
  cache_.save_tokens({token("refreshed-access", "fam-c")});  // a refresh: family, no code
  ASSERT_FALSE(cache_.find_token(SecretRef::by_hash("refreshed-access"))->revoked);
  EXPECT_EQ(cache_.redeem_later(r, {})->wait().status, WriteOutcome::Status::already_redeemed);
  EXPECT_TRUE(cache_.find_token(SecretRef::by_hash("refreshed-access"))->revoked);
  EXPECT_TRUE(cache_.find_token(SecretRef::by_hash("code-refresh"))->revoked);
}

TEST_F(CachingDatabaseTest, AnotherProcesssChangeIsSeenOnceTheCopyIsOlderThanTheMaxAge) {
  cache_.save_tokens({token("h1")});
  ASSERT_FALSE(cache_.find_token(SecretRef::by_hash("h1"))->revoked);
  backend_.revoke_token(SecretRef::by_hash("h1"));  // as the CLI does, behind the server's back
  clock_.set_ms(clock_.now_ms() + 999);
  EXPECT_FALSE(cache_.find_token(SecretRef::by_hash("h1"))->revoked)
      << "served from memory within the max age";
  clock_.set_ms(clock_.now_ms() + 2);
  EXPECT_TRUE(cache_.find_token(SecretRef::by_hash("h1"))->revoked)
      << "re-read once older than the max age";
}

// While the backend's announcements are heard (PostgreSQL), another process's change arrives
// with its announcement, and a copy is kept up to the longer max age meanwhile.
TEST_F(CachingDatabaseTest, AnnouncedChangesDropTheCopiesTheyName) {
  cache_.listening(true);
  cache_.save_tokens({token("h1"), token("h2")});
  ASSERT_TRUE(cache_.find_user("005alice")->active);
  ASSERT_EQ(cache_.find_app("3MVGapp")->secret_hash, "old");
  // Another node's writes, behind this cache's back.
  backend_.revoke_token(SecretRef::by_hash("h1"));
  backend_.revoke_token(SecretRef::by_hash("h2"));
  backend_.set_user_active("005alice", false);
  backend_.update_secret_hash("3MVGapp", "new");
  clock_.set_ms(clock_.now_ms() + 59'000);
  EXPECT_FALSE(cache_.find_token(SecretRef::by_hash("h1"))->revoked)
      << "kept past the short max age while announcements are heard";
  EXPECT_TRUE(cache_.find_user("005alice")->active);

  cache_.apply(Change::token("h1"));
  cache_.apply(Change::user("005alice"));
  cache_.apply(Change::app("3MVGapp"));
  EXPECT_TRUE(cache_.find_token(SecretRef::by_hash("h1"))->revoked);
  EXPECT_FALSE(cache_.find_token(SecretRef::by_hash("h2"))->revoked) << "only h1 was named";
  EXPECT_FALSE(cache_.find_user("005alice")->active);
  EXPECT_EQ(cache_.find_app("3MVGapp")->secret_hash, "new");
  cache_.apply(Change::all_tokens());
  EXPECT_TRUE(cache_.find_token(SecretRef::by_hash("h2"))->revoked);

  // Nothing announced is kept beyond the longer max age either.
  cache_.save_tokens({token("h3")});
  ASSERT_FALSE(cache_.find_token(SecretRef::by_hash("h3"))->revoked);
  backend_.revoke_token(SecretRef::by_hash("h3"));
  clock_.set_ms(clock_.now_ms() + 60'001);
  EXPECT_TRUE(cache_.find_token(SecretRef::by_hash("h3"))->revoked);
}

// Announcements missed while nobody listened: starting to listen drops every copy, and a lost
// watch brings back the short max age at once, also for copies loaded while it was heard.
TEST_F(CachingDatabaseTest, LosingAndRegainingTheAnnouncementsDropsWhatMayBeStale) {
  cache_.listening(true);
  cache_.save_tokens({token("h1")});
  ASSERT_FALSE(cache_.find_token(SecretRef::by_hash("h1"))->revoked);
  cache_.listening(false);
  backend_.revoke_token(SecretRef::by_hash("h1"));
  clock_.set_ms(clock_.now_ms() + 1001);
  EXPECT_TRUE(cache_.find_token(SecretRef::by_hash("h1"))->revoked);

  cache_.save_tokens({token("h2")});
  ASSERT_FALSE(cache_.find_token(SecretRef::by_hash("h2"))->revoked);
  backend_.revoke_token(SecretRef::by_hash("h2"));  // announced while nobody listened
  cache_.listening(true);
  EXPECT_TRUE(cache_.find_token(SecretRef::by_hash("h2"))->revoked);
}

TEST_F(CachingDatabaseTest, AppsAndUsersFollowChangesMadeThroughTheServer) {
  ASSERT_EQ(cache_.find_app("3MVGapp")->secret_hash, "old");
  EXPECT_TRUE(cache_.update_secret_hash("3MVGapp", "new"));
  EXPECT_EQ(cache_.find_app("3MVGapp")->secret_hash, "new");

  ASSERT_TRUE(cache_.find_user("005alice")->active);
  EXPECT_TRUE(cache_.set_user_active("005alice", false));
  EXPECT_FALSE(cache_.find_user("005alice")->active);
  EXPECT_TRUE(cache_.update_user_access("005alice", "Integration User", {"API Only"}));
  EXPECT_EQ(cache_.find_user("005alice")->profile, "Integration User");
}

TEST_F(CachingDatabaseTest, UnknownRecordsAreNotCached) {
  EXPECT_FALSE(cache_.find_token(SecretRef::by_hash("nope")));
  backend_.save_tokens({token("nope")});
  EXPECT_TRUE(cache_.find_token(SecretRef::by_hash("nope"))) << "a miss must not be remembered";
  EXPECT_FALSE(cache_.find_app("3MVGnone"));
  EXPECT_FALSE(cache_.find_user("005none"));
}

TEST_F(CachingDatabaseTest, ABoundedCacheStillAnswersEveryToken) {
  CachingDatabase small(backend_, clock_, 1000, /*max_entries=*/16);
  std::vector<Token> many;
  for (int i = 0; i < 200; ++i) many.push_back(token(std::to_string(i)));
  small.save_tokens(many);
  for (int i = 0; i < 200; ++i) {
    auto t = small.find_token(SecretRef::by_hash(std::to_string(i)));
    ASSERT_TRUE(t) << i;
    EXPECT_EQ(t->user_id, "005alice");
  }
}

// A full cache makes room one record at a time: the records it holds stay served from memory.
// (It used to drop a whole shard, a sixteenth of the cache, at once.) The rows are deleted from
// the file behind the cache's back, so whatever is still found was answered from memory, and a
// miss caches nothing that could push another record out while counting.
TEST(CachingDatabaseBound, AFullCacheStillHoldsAsManyRecordsAsItsBound) {
  const test::TempDir dir;
  const std::string path = dir.file("latchkey.db");
  {
    sqlite::SqliteDatabase backend(path);
    FakeClock clock;
    constexpr std::size_t kBound = 160;
    CachingDatabase small(backend, clock, 1000, kBound);
    std::vector<Token> many;
    for (int i = 0; i < 2000; ++i) {
      Token t;
      t.token_hash = "hash-" + std::to_string(i);
      t.client_id = "3MVGapp";
      t.user_id = "005alice";
      t.org_id = "00Dorg";
      many.push_back(t);
    }
    small.save_tokens(many);
    sqlite::Connection(path).exec("DELETE FROM tokens");

    std::size_t from_memory = 0;
    for (const Token& t : many) {
      if (small.find_token(SecretRef::by_hash(t.token_hash))) ++from_memory;
    }
    EXPECT_GE(from_memory, kBound);
    EXPECT_LE(from_memory, kBound + 16) << "one more per shard at most";
  }
}

// Refresh tokens are presented long after the cache's copy would be stale; only access tokens
// are cached as they are issued, so a refresh token's first use reads the store.
TEST_F(CachingDatabaseTest, OnlyAccessTokensAreCachedAsTheyAreIssued) {
  Token access = token("at");
  Token refresh = token("rt");
  refresh.kind = TokenKind::refresh;
  cache_.save_tokens({access, refresh});
  // Revoked behind the cache's back: a cached copy would still say live.
  backend_.revoke_token(SecretRef::by_hash("at"));
  backend_.revoke_token(SecretRef::by_hash("rt"));
  ASSERT_TRUE(cache_.find_token(SecretRef::by_hash("at")));
  EXPECT_FALSE(cache_.find_token(SecretRef::by_hash("at"))->revoked) << "served from memory";
  ASSERT_TRUE(cache_.find_token(SecretRef::by_hash("rt")));
  EXPECT_TRUE(cache_.find_token(SecretRef::by_hash("rt"))->revoked) << "read from the store";
}

}  // namespace
}  // namespace latchkey::store
