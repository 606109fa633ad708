// StoreConformance: tokens that carry their row id (SecretRef). The id locates the row; the
// hash must match too, so a guessed or altered id finds nothing.
#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "conformance.h"

namespace latchkey::store::testing {
namespace {

Token with_id(Database& db, const std::string& hash, TokenKind kind) {
  Token t = sample_token(hash, kind);
  t.id = db.allocate_id();
  return t;
}

TEST_P(StoreConformance, TokenWithAnIdIsFoundByIdAndHashTogetherOnly) {
  Token t = with_id(db(), "hash-carried", TokenKind::access);
  db().save_tokens({t});
  auto found = db().find_token(t.ref());
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->id, t.id);
  EXPECT_EQ(fields(*found), fields(t));
  EXPECT_FALSE(db().find_token({t.id, "hash-other"})) << "right id, wrong hash";
  EXPECT_FALSE(db().find_token({t.id + 1, "hash-carried"})) << "wrong id, right hash";
  EXPECT_FALSE(db().find_token({t.id, ""}));
  EXPECT_FALSE(db().find_token(SecretRef::by_hash("hash-carried")))
      << "a token that carries its id is not in the hash index";
}

TEST_P(StoreConformance, RevokeAndRotateByIdNeedTheMatchingHash) {
  Token a = with_id(db(), "hash-a", TokenKind::access);
  Token r = with_id(db(), "hash-r", TokenKind::refresh);
  db().save_tokens({a, r});
  EXPECT_EQ(db().revoke_token({a.id, "hash-wrong"}), 0);
  EXPECT_FALSE(db().find_token(a.ref())->revoked);
  EXPECT_EQ(db().revoke_token(a.ref()), 1);
  EXPECT_TRUE(db().find_token(a.ref())->revoked);
  EXPECT_FALSE(
      redeem(db(), Redemption::Kind::refresh_token, {r.id, "hash-wrong"}, "").is_durable());
  EXPECT_FALSE(db().find_token(r.ref())->rotated);
  EXPECT_TRUE(redeem(db(), Redemption::Kind::refresh_token, r.ref(), "").is_durable());
  EXPECT_FALSE(redeem(db(), Redemption::Kind::refresh_token, r.ref(), "").is_durable()) << "reuse";
  EXPECT_TRUE(db().find_token(r.ref())->rotated);
}

TEST_P(StoreConformance, TokenSavedWithoutAnIdIsFoundByHash) {
  Token t = sample_token("hash-only", TokenKind::access);
  db().save_tokens({t});
  auto found = db().find_token(SecretRef::by_hash("hash-only"));
  ASSERT_TRUE(found.has_value());
  EXPECT_LT(found->id, 0);
  EXPECT_EQ(db().find_token(found->ref())->token_hash, "hash-only");
  EXPECT_EQ(db().revoke_token(SecretRef::by_hash("hash-only")), 1);
}

TEST_P(StoreConformance, AllocatedTokenIdsArePositiveIncreasingAndUniqueAcrossThreads) {
  int64_t last = 0;
  for (int i = 0; i < 1000; ++i) {
    int64_t id = db().allocate_id();
    ASSERT_GT(id, last);
    last = id;
  }
  std::mutex mu;
  std::set<int64_t> seen;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      std::vector<int64_t> mine;
      for (int i = 0; i < 2000; ++i) mine.push_back(db().allocate_id());
      std::lock_guard lock(mu);
      seen.insert(mine.begin(), mine.end());
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(seen.size(), 8u * 2000u);
  EXPECT_GT(*seen.begin(), last);
}

TEST_P(StoreConformance, TokenIdsAfterARestartAreAboveEveryStoredId) {
  if (!GetParam().persistent) GTEST_SKIP() << "nothing survives a restart";
  // A row from far in the future (a clock that was set ahead, then corrected).
  Token ahead = sample_token("hash-ahead", TokenKind::access);
  ahead.id = db().allocate_id() + (int64_t{1} << 50);
  Token negative = sample_token("hash-negative", TokenKind::access);
  negative.id = -(ahead.id + 5);
  db().save_tokens({ahead, negative});
  reopen();
  EXPECT_GT(db().allocate_id(), ahead.id + 5);
  EXPECT_TRUE(db().find_token(ahead.ref()).has_value());
  EXPECT_TRUE(db().find_token(SecretRef::by_hash("hash-negative")).has_value());
}

}  // namespace
}  // namespace latchkey::store::testing
