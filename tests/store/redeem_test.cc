// StoreConformance: TokenStore::redeem_later. A code or a rotating refresh token buys tokens
// once: the first redemption saves them, every later one saves nothing, revokes what the
// first bought (RFC 6749 §4.1.2, RFC 9700 §4.14.2) and settles already_redeemed with how many
// tokens it revoked.
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "conformance.h"
#include "store/pending_write.h"

namespace latchkey::store::testing {
namespace {

// Waits for the redemption: true if it saved its tokens, false if already redeemed.
bool redeemed(const std::shared_ptr<PendingWrite>& write) {
  WriteOutcome outcome = write->wait();
  EXPECT_NE(outcome.status, WriteOutcome::Status::failed) << outcome.error;
  return outcome.is_durable();
}

// For a redemption that finds its code or refresh token used up: how many tokens it revoked
// (WriteOutcome::revoked, which the audit log reports); -1 if it redeemed.
int revoked_by(const std::shared_ptr<PendingWrite>& write) {
  WriteOutcome outcome = write->wait();
  EXPECT_NE(outcome.status, WriteOutcome::Status::failed) << outcome.error;
  return outcome.status == WriteOutcome::Status::already_redeemed ? outcome.revoked : -1;
}

Token from_code(const std::string& hash, const std::string& code_key) {
  Token t = sample_token(hash, TokenKind::access);
  t.code_key = code_key;
  t.family_id = "family-" + hash;
  return t;
}

TEST_P(StoreConformance, ACodeIsRedeemedOnceAndItsReplayRevokesWhatItBought) {
  db().save_code(sample_code("code-r"));
  Redemption r{Redemption::Kind::code, SecretRef::by_hash("code-r"), "code-r"};
  ASSERT_TRUE(redeemed(db().redeem_later(r, {from_code("first", "code-r")})));
  EXPECT_TRUE(db().find_code(SecretRef::by_hash("code-r"))->used);
  ASSERT_TRUE(db().find_token(SecretRef::by_hash("first")));
  EXPECT_FALSE(db().find_token(SecretRef::by_hash("first"))->revoked);

  EXPECT_EQ(revoked_by(db().redeem_later(r, {from_code("second", "code-r")})), 1);
  EXPECT_FALSE(db().find_token(SecretRef::by_hash("second"))) << "a replay's tokens were saved";
  EXPECT_TRUE(db().find_token(SecretRef::by_hash("first"))->revoked)
      << "the replay did not revoke what the code bought";
  // With nothing to save, as for a replay seen before the write; nothing left to revoke.
  EXPECT_EQ(revoked_by(db().redeem_later(r, {})), 0);
}

// The replay decided inside the redemption's write revokes what the code's refresh token
// bought later as well: those tokens carry the family but not the code (RFC 6749 §4.1.2).
TEST_P(StoreConformance, ACodeReplayRevokesTheTokensRefreshedFromIt) {
  db().save_code(sample_code("code-f"));
  Redemption r{Redemption::Kind::code, SecretRef::by_hash("code-f"), "code-f"};
  Token access = from_code("f-access", "code-f");
  Token refresh = from_code("f-refresh", "code-f");
  refresh.kind = TokenKind::refresh;
  refresh.family_id = access.family_id;
  ASSERT_TRUE(redeemed(db().redeem_later(r, {access, refresh})));
  Token later = sample_token("f-refreshed", TokenKind::access);
  later.family_id = access.family_id;
  later.code_key = "";
  Token unrelated = from_code("unrelated", "code-other");
  db().save_tokens({later, unrelated});

  EXPECT_EQ(revoked_by(db().redeem_later(r, {})), 3);
  for (const char* h : {"f-access", "f-refresh", "f-refreshed"}) {
    EXPECT_TRUE(db().find_token(SecretRef::by_hash(h))->revoked) << h;
  }
  EXPECT_FALSE(db().find_token(SecretRef::by_hash("unrelated"))->revoked);
}

TEST_P(StoreConformance, AnUnknownCodeRedeemsNothing) {
  Redemption r{Redemption::Kind::code, SecretRef::by_hash("no-such-code"), "no-such-code"};
  EXPECT_FALSE(redeemed(db().redeem_later(r, {from_code("t", "no-such-code")})));
  EXPECT_FALSE(db().find_token(SecretRef::by_hash("t")));
}

TEST_P(StoreConformance, ConcurrentRedemptionsOfOneCodeHaveExactlyOneWinner) {
  for (int round = 0; round < 5; ++round) {
    const std::string code = "race-" + std::to_string(round);
    db().save_code(sample_code(code));
    Redemption r{Redemption::Kind::code, SecretRef::by_hash(code), code};
    std::atomic<int> winners{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i) {
      threads.emplace_back([&, i] {
        auto t = from_code(code + "-t" + std::to_string(i), code);
        if (redeemed(db().redeem_later(r, {t}))) ++winners;
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(winners.load(), 1) << "round " << round;
  }
}

// Separate handles stand in for separate server processes (nodes) sharing the database: each
// has its own writer, so only the database can order their redemptions. The code's tokens are
// saved once, the winner's; the losers' are not.
TEST_P(StoreConformance, RedemptionsOfOneCodeOnSeveralHandlesHaveExactlyOneWinner) {
  if (!GetParam().persistent) GTEST_SKIP() << "a second handle would see another database";
  std::vector<std::unique_ptr<Database>> handles;
  for (int i = 0; i < 4; ++i) handles.push_back(open_again());
  for (int round = 0; round < 5; ++round) {
    const std::string code = "node-race-" + std::to_string(round);
    db().save_code(sample_code(code));
    Redemption r{Redemption::Kind::code, SecretRef::by_hash(code), code};
    std::atomic<int> winners{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i) {
      threads.emplace_back([&, i] {
        auto t = from_code(code + "-t" + std::to_string(i), code);
        Database& node = *handles[static_cast<std::size_t>(i) % handles.size()];
        if (redeemed(node.redeem_later(r, {t}))) ++winners;
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(winners.load(), 1) << "round " << round;
    int stored = 0;
    for (int i = 0; i < 8; ++i) {
      if (db().find_token(SecretRef::by_hash(code + "-t" + std::to_string(i)))) ++stored;
    }
    EXPECT_EQ(stored, 1) << "round " << round;
  }
}

// A code found by id, as every code a server issues is: on PostgreSQL its redemption goes out
// with the batch's other code redemptions in one statement (postgres/write_units.h). Every
// field of the tokens it saves round-trips, and a replay revokes them.
TEST_P(StoreConformance, ACodeFoundByIdIsRedeemedOnceWithEveryTokenFieldSaved) {
  AuthCode code = sample_code("code-by-id");
  code.id = db().allocate_code_id();
  db().save_code(code);
  const std::string key = std::to_string(code.id);
  Redemption r{Redemption::Kind::code, code.ref(), key};
  Token access = from_code("by-id-access", key);
  access.id = db().allocate_id();
  access.cnf_x5t = "x5t-\"quoted\"";
  Token refresh = sample_token("by-id-refresh", TokenKind::refresh);
  refresh.id = db().allocate_id();
  refresh.code_key = key;
  refresh.family_id = access.family_id;
  refresh.scopes = {};
  ASSERT_TRUE(redeemed(db().redeem_later(r, {access, refresh})));
  EXPECT_TRUE(db().find_code(code.ref())->used);
  for (const Token& t : {access, refresh}) {
    auto found = db().find_token(t.ref());
    ASSERT_TRUE(found) << t.token_hash;
    EXPECT_EQ(fields(*found), fields(t)) << t.token_hash;
  }
  EXPECT_EQ(revoked_by(db().redeem_later(r, {from_code("by-id-replay", key)})), 2);
  EXPECT_FALSE(db().find_token(SecretRef::by_hash("by-id-replay")));
  EXPECT_TRUE(db().find_token(access.ref())->revoked);
  EXPECT_TRUE(db().find_token(refresh.ref())->revoked);
  // Two different codes in one go are each redeemed, with their own tokens only.
  AuthCode a = sample_code("code-by-id-a");
  AuthCode b = sample_code("code-by-id-b");
  a.id = db().allocate_code_id();
  b.id = db().allocate_code_id();
  db().save_code(a);
  db().save_code(b);
  auto wa = db().redeem_later({Redemption::Kind::code, a.ref(), std::to_string(a.id)},
                              {from_code("by-id-a", std::to_string(a.id))});
  auto wb = db().redeem_later({Redemption::Kind::code, b.ref(), std::to_string(b.id)},
                              {from_code("by-id-b", std::to_string(b.id))});
  EXPECT_TRUE(redeemed(wa));
  EXPECT_TRUE(redeemed(wb));
  EXPECT_EQ(db().find_token(SecretRef::by_hash("by-id-a"))->code_key, std::to_string(a.id));
  EXPECT_EQ(db().find_token(SecretRef::by_hash("by-id-b"))->code_key, std::to_string(b.id));
}

// The race of ConcurrentRedemptionsOfOneCodeHaveExactlyOneWinner with codes found by id, on one
// handle and on several: redemptions of one code may land in one statement, where only the first
// may win.
TEST_P(StoreConformance, ConcurrentRedemptionsOfOneCodeFoundByIdHaveExactlyOneWinner) {
  std::vector<std::unique_ptr<Database>> handles;
  if (GetParam().persistent) {
    for (int i = 0; i < 2; ++i) handles.push_back(open_again());
  }
  for (int round = 0; round < 10; ++round) {
    AuthCode code = sample_code("id-race-" + std::to_string(round));
    code.id = db().allocate_code_id();
    db().save_code(code);
    const std::string key = std::to_string(code.id);
    Redemption r{Redemption::Kind::code, code.ref(), key};
    std::atomic<int> winners{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i) {
      threads.emplace_back([&, i] {
        auto t = from_code(code.code_hash + "-t" + std::to_string(i), key);
        Database& node = i < 6 || handles.empty()
                             ? db()
                             : *handles[static_cast<std::size_t>(i) % handles.size()];
        if (redeemed(node.redeem_later(r, {t}))) ++winners;
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(winners.load(), 1) << "round " << round;
    int stored = 0;
    for (int i = 0; i < 8; ++i) {
      if (db().find_token(SecretRef::by_hash(code.code_hash + "-t" + std::to_string(i)))) {
        ++stored;
      }
    }
    EXPECT_EQ(stored, 1) << "round " << round;
  }
}

TEST_P(StoreConformance, ARefreshTokenIsRotatedOnceAndItsReuseRevokesTheFamily) {
  Token old = sample_token("rt-old", TokenKind::refresh);
  old.id = db().allocate_id();
  old.family_id = "fam-r";
  Token other = sample_token("rt-other-family", TokenKind::refresh);
  other.family_id = "fam-other";
  db().save_tokens({old, other});
  Redemption r{Redemption::Kind::refresh_token, old.ref(), "fam-r"};
  Token next = sample_token("rt-next", TokenKind::refresh);
  next.family_id = "fam-r";
  ASSERT_TRUE(redeemed(db().redeem_later(r, {next})));
  EXPECT_TRUE(db().find_token(old.ref())->rotated);
  EXPECT_FALSE(db().find_token(SecretRef::by_hash("rt-next"))->revoked);

  Token stolen = sample_token("rt-stolen", TokenKind::refresh);
  stolen.family_id = "fam-r";
  // The rotated token and its successor.
  EXPECT_EQ(revoked_by(db().redeem_later(r, {stolen})), 2);
  EXPECT_FALSE(db().find_token(SecretRef::by_hash("rt-stolen")));
  EXPECT_TRUE(db().find_token(SecretRef::by_hash("rt-next"))->revoked) << "family not revoked";
  EXPECT_FALSE(db().find_token(SecretRef::by_hash("rt-other-family"))->revoked);
}

// The reuse grace window (docs/behaviour.md §5.4): a rotated refresh token is redeemable again
// while its first rotation is at or after reuse_since_ms, and keeps that first rotation's time,
// so retries never extend the window; once it has passed, a reuse revokes the family.
TEST_P(StoreConformance, ARotatedRefreshTokenIsRedeemedAgainWithinTheGraceWindowOnly) {
  Token old = sample_token("rt-grace", TokenKind::refresh);
  old.id = db().allocate_id();
  old.family_id = "fam-g";
  db().save_tokens({old});
  auto next = [](const std::string& hash) {
    Token t = sample_token(hash, TokenKind::refresh);
    t.family_id = "fam-g";
    return t;
  };
  Redemption r{Redemption::Kind::refresh_token, old.ref(), "fam-g"};
  r.now_ms = 1'000'000;
  ASSERT_TRUE(redeemed(db().redeem_later(r, {next("rt-g1")})));
  EXPECT_EQ(db().find_token(old.ref())->rotated_ms, 1'000'000);

  r.now_ms = 1'004'000;
  r.reuse_since_ms = 1'000'000;  // a window of 4 s, its edge included
  ASSERT_TRUE(redeemed(db().redeem_later(r, {next("rt-g2")})));
  EXPECT_EQ(db().find_token(old.ref())->rotated_ms, 1'000'000) << "a retry moved the window";
  EXPECT_FALSE(db().find_token(SecretRef::by_hash("rt-g1"))->revoked);

  r.now_ms = 1'004'001;
  r.reuse_since_ms = 1'000'001;
  // The token and both pairs' refresh tokens.
  EXPECT_EQ(revoked_by(db().redeem_later(r, {next("rt-g3")})), 3);
  EXPECT_FALSE(db().find_token(SecretRef::by_hash("rt-g3")));
  EXPECT_TRUE(db().find_token(SecretRef::by_hash("rt-g2"))->revoked);
}

// The same by hash (a token from before ids, found by its hash alone).
TEST_P(StoreConformance, ARotatedRefreshTokenFoundByHashIsRedeemedAgainWithinTheGraceWindow) {
  Token old = sample_token("rt-grace-hash", TokenKind::refresh);
  old.family_id = "fam-gh";
  db().save_tokens({old});
  const SecretRef ref = db().find_token(SecretRef::by_hash("rt-grace-hash"))->ref();
  ASSERT_LT(ref.id, 0);
  Redemption r{Redemption::Kind::refresh_token, SecretRef::by_hash("rt-grace-hash"), "fam-gh"};
  r.now_ms = 50'000;
  Token first = sample_token("rt-gh1", TokenKind::refresh);
  first.family_id = "fam-gh";
  ASSERT_TRUE(redeemed(db().redeem_later(r, {first})));
  r.now_ms = 51'000;
  r.reuse_since_ms = 49'000;
  Token second = sample_token("rt-gh2", TokenKind::refresh);
  second.family_id = "fam-gh";
  ASSERT_TRUE(redeemed(db().redeem_later(r, {second})));
  EXPECT_EQ(db().find_token(SecretRef::by_hash("rt-grace-hash"))->rotated_ms, 50'000);
  r.reuse_since_ms = 50'001;
  EXPECT_EQ(revoked_by(db().redeem_later(r, {})), 3);
}

// A refresh token whose family was revoked (a reuse detected at another node, an admin's
// revocation) buys nothing, whatever copy of it the caller read: the write decides, so a node
// whose cache still holds the token as live cannot rotate it (RFC 9700 §4.14.2).
TEST_P(StoreConformance, ARevokedRefreshTokenIsNotRotated) {
  Token old = sample_token("rt-revoked", TokenKind::refresh);
  old.id = db().allocate_id();
  old.family_id = "fam-revoked";
  db().save_tokens({old});
  const Token as_read = *db().find_token(old.ref());  // read before the revocation
  ASSERT_FALSE(as_read.revoked);
  ASSERT_EQ(db().revoke_family("fam-revoked"), 1);

  Token next = sample_token("rt-after-revocation", TokenKind::refresh);
  next.family_id = "fam-revoked";
  Redemption r{Redemption::Kind::refresh_token, as_read.ref(), "fam-revoked"};
  EXPECT_EQ(revoked_by(db().redeem_later(r, {next})), 0);
  EXPECT_FALSE(db().find_token(SecretRef::by_hash("rt-after-revocation")))
      << "a revoked refresh token bought a new one";
  EXPECT_FALSE(db().find_token(old.ref())->rotated);
}

}  // namespace
}  // namespace latchkey::store::testing
