// StoreConformance: Database::purge_expired removes what expired and nothing that can still be
// needed, a bounded batch at a time.
#include <string>
#include <vector>

#include "conformance.h"

namespace latchkey::store::testing {
namespace {

constexpr int64_t kCutoff = 1'800'000'000'000;  // rows that expired before this may go

// Calls purge_expired until a pass is over; returns the rows deleted. Fails the test if a
// call deletes more than max_rows or the pass does not end.
int purge_pass(Database& db, int max_rows, int* calls = nullptr) {
  PurgeCursor cursor;
  int deleted = 0;
  for (int i = 0; i < 100'000; ++i) {
    PurgeResult r = db.purge_expired(kCutoff, max_rows, cursor);
    EXPECT_LE(r.deleted, max_rows);
    EXPECT_GE(r.deleted, 0);
    deleted += r.deleted;
    cursor = r.next;
    if (r.pass_done) {
      if (calls) *calls = i + 1;
      return deleted;
    }
  }
  ADD_FAILURE() << "the purge pass did not end";
  return deleted;
}

// prefix followed by i (built by appending: GCC 12 misreports "literal" + std::to_string(i)
// under -Wrestrict).
std::string numbered(const char* prefix, int i) {
  std::string s(prefix);
  s += std::to_string(i);
  return s;
}

Token token_expiring(Database& db, const std::string& hash, TokenKind kind, int64_t expires_ms) {
  Token t = sample_token(hash, kind);
  t.id = db.allocate_id();
  t.family_id = "family-" + hash;
  t.code_key.clear();
  t.expires_ms = expires_ms;
  return t;
}

AuthCode code_expiring(Database& db, const std::string& hash, int64_t expires_ms, bool used) {
  AuthCode c = sample_code(hash);
  c.id = db.allocate_code_id();
  c.expires_ms = expires_ms;
  c.used = used;
  return c;
}

TEST_P(StoreConformance, PurgeExpiredRemovesExpiredTokensAndKeepsTheRest) {
  std::vector<Token> gone = {
      token_expiring(db(), "expired-access", TokenKind::access, kCutoff - 1),
      token_expiring(db(), "expired-refresh", TokenKind::refresh, kCutoff - 3'600'000),
  };
  Token revoked_expired = token_expiring(db(), "revoked-expired", TokenKind::access, kCutoff - 1);
  revoked_expired.revoked = true;
  gone.push_back(revoked_expired);
  Token legacy = token_expiring(db(), "legacy-expired", TokenKind::access, kCutoff - 1);
  legacy.id = 0;  // found by hash: a negative id
  gone.push_back(legacy);

  std::vector<Token> kept = {
      token_expiring(db(), "live-access", TokenKind::access, kCutoff + 7'200'000),
      // Expired, but less than the grace period ago (the cutoff is now minus the grace).
      token_expiring(db(), "recently-expired", TokenKind::access, kCutoff),
      // Refresh tokens that never expire stay, used (rotated) and revoked ones too: a rotated
      // one presented again must still revoke its family (RFC 9700 §4.14.2).
      token_expiring(db(), "never-expires", TokenKind::refresh, 0),
  };
  Token rotated = token_expiring(db(), "rotated-never-expires", TokenKind::refresh, 0);
  rotated.rotated = true;
  kept.push_back(rotated);
  Token revoked = token_expiring(db(), "revoked-never-expires", TokenKind::refresh, 0);
  revoked.revoked = true;
  kept.push_back(revoked);

  std::vector<Token> all = gone;
  all.insert(all.end(), kept.begin(), kept.end());
  db().save_tokens(all);
  Token legacy_saved = *db().find_token(SecretRef::by_hash("legacy-expired"));
  ASSERT_LT(legacy_saved.id, 0);

  EXPECT_EQ(purge_pass(db(), 500), static_cast<int>(gone.size()));
  for (const Token& t : gone) {
    EXPECT_FALSE(db().find_token(t.id != 0 ? t.ref() : SecretRef::by_hash(t.token_hash)))
        << t.token_hash;
  }
  for (const Token& t : kept) {
    auto found = db().find_token(t.ref());
    ASSERT_TRUE(found) << t.token_hash;
    EXPECT_EQ(fields(*found), fields(t));
  }
  EXPECT_EQ(purge_pass(db(), 500), 0) << "a second pass finds nothing more";
}

TEST_P(StoreConformance, PurgeExpiredRemovesCodesUnlessAReplayCouldStillRevokeSomething) {
  AuthCode live = code_expiring(db(), "live", kCutoff + 600'000, false);
  AuthCode unused = code_expiring(db(), "expired-unused", kCutoff - 1, false);
  AuthCode used_live_token = code_expiring(db(), "used-live-token", kCutoff - 1, true);
  AuthCode used_dead_tokens = code_expiring(db(), "used-dead-tokens", kCutoff - 1, true);
  AuthCode used_no_tokens = code_expiring(db(), "used-no-tokens", kCutoff - 1, true);
  for (const AuthCode& c : {live, unused, used_live_token, used_dead_tokens, used_no_tokens}) {
    db().save_code(c);
  }
  // RFC 6749 §4.1.2: a replay of used_live_token would revoke this refresh token, so the code
  // must stay; used_dead_tokens' tokens are revoked or expired, a replay would change nothing.
  Token from_code = token_expiring(db(), "from-code", TokenKind::refresh, 0);
  from_code.code_key = std::to_string(used_live_token.id);
  Token revoked = token_expiring(db(), "revoked-from-code", TokenKind::refresh, 0);
  revoked.code_key = std::to_string(used_dead_tokens.id);
  revoked.revoked = true;
  Token expired = token_expiring(db(), "expired-from-code", TokenKind::access, kCutoff - 1);
  expired.code_key = std::to_string(used_dead_tokens.id);
  db().save_tokens({from_code, revoked, expired});

  EXPECT_EQ(purge_pass(db(), 500), 3 + 1) << "three codes and the expired token";
  EXPECT_TRUE(db().find_code(live.ref()));
  EXPECT_TRUE(db().find_code(used_live_token.ref()));
  EXPECT_FALSE(db().find_code(unused.ref()));
  EXPECT_FALSE(db().find_code(used_dead_tokens.ref()));
  EXPECT_FALSE(db().find_code(used_no_tokens.ref()));
  // The replay still finds the code, and still revokes the token.
  auto replay = redeem(db(), Redemption::Kind::code, used_live_token.ref(),
                       std::to_string(used_live_token.id));
  EXPECT_EQ(replay.status, WriteOutcome::Status::already_redeemed);
  EXPECT_EQ(replay.revoked, 1);
}

TEST_P(StoreConformance, PurgeExpiredRemovesExpiredSessions) {
  db().save_session({"expired-session", "005000000000001", 1700000000, kCutoff - 1});
  db().save_session({"live-session", "005000000000001", 1700000000, kCutoff + 1});
  EXPECT_EQ(purge_pass(db(), 500), 1);
  EXPECT_FALSE(db().find_session("expired-session"));
  EXPECT_TRUE(db().find_session("live-session"));
}

// One call is one short write: it deletes at most max_rows rows and examines at most max_rows
// rows of a table, so a table of live rows takes a call per max_rows of them.
TEST_P(StoreConformance, PurgeExpiredDeletesAndExaminesAtMostMaxRowsPerCall) {
  std::vector<Token> tokens;
  for (int i = 0; i < 40; ++i) {
    tokens.push_back(token_expiring(db(), numbered("t", i), TokenKind::access,
                                    i % 4 == 0 ? kCutoff + 1 : kCutoff - 1));
  }
  db().save_tokens(tokens);
  for (int i = 0; i < 9; ++i) {
    db().save_session({numbered("s", i), "005000000000001", 1700000000, kCutoff - 1});
  }
  int calls = 0;
  EXPECT_EQ(purge_pass(db(), 4, &calls), 30 + 9);
  // 9 sessions take three calls (the third examines 3 tokens too), then 37 tokens in windows
  // of at most 4 rows.
  EXPECT_GE(calls, 2 + 40 / 4);
  for (int i = 0; i < 40; ++i) {
    EXPECT_EQ(db().find_token(tokens[static_cast<std::size_t>(i)].ref()).has_value(), i % 4 == 0)
        << i;
  }
  EXPECT_EQ(purge_pass(db(), 4), 0);
}

TEST_P(StoreConformance, PurgeExpiredWithNothingToDoEndsThePassAtOnce) {
  int calls = 0;
  EXPECT_EQ(purge_pass(db(), 500, &calls), 0);
  EXPECT_LE(calls, 2);
  EXPECT_EQ(db().purge_expired(kCutoff, 0, PurgeCursor{}).deleted, 0);
}

}  // namespace
}  // namespace latchkey::store::testing
