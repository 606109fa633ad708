// StoreConformance: CodeStore and TokenStore, including their atomicity guarantees.
#include <atomic>
#include <chrono>
#include <future>
#include <optional>
#include <thread>

#include "conformance.h"

namespace latchkey::store::testing {
namespace {

constexpr int kThreads = 8;

// Runs `body(i)` on kThreads threads released together, to maximize contention.
template <typename F>
void race(F body) {
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      while (!go.load()) std::this_thread::yield();
      body(i);
    });
  }
  go.store(true);
  for (auto& t : threads) t.join();
}

TEST_P(StoreConformance, SavedCodeRoundTripsEveryField) {
  AuthCode code = sample_code("code-hash-1");
  db().save_code(code);
  auto found = db().find_code(SecretRef::by_hash(code.code_hash));
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(fields(*found), fields(code));
}

// The queued save: once it reports durable, the code is there and can be used up once.
TEST_P(StoreConformance, SaveCodeLaterIsStoredOnceSettled) {
  AuthCode code = sample_code("later-code");
  code.id = db().allocate_code_id();
  ASSERT_TRUE(db().save_code_later(code)->wait().is_durable());
  auto found = db().find_code(code.ref());
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(fields(*found), fields(code));
  const std::string key = std::to_string(code.id);
  EXPECT_TRUE(redeem(db(), Redemption::Kind::code, code.ref(), key).is_durable());
  EXPECT_EQ(redeem(db(), Redemption::Kind::code, code.ref(), key).status,
            WriteOutcome::Status::already_redeemed);
  EXPECT_FALSE(db().find_code({code.id, "another-hash"})) << "right id, wrong hash";
}

// RFC 6749 §4.1.2: a replay still finds the code, now marked used and otherwise intact, so the
// grant can tell a replay from an unknown code.
TEST_P(StoreConformance, ARedeemedCodeIsFoundMarkedUsed) {
  AuthCode code = sample_code("code-hash-1");
  db().save_code(code);
  ASSERT_TRUE(redeem(db(), Redemption::Kind::code, code.ref(), "code-1").is_durable());
  AuthCode expected = code;
  expected.used = true;
  for (int i = 0; i < 2; ++i) {
    auto again = db().find_code(SecretRef::by_hash(code.code_hash));
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(fields(*again), fields(expected));
    EXPECT_EQ(redeem(db(), Redemption::Kind::code, code.ref(), "code-1").status,
              WriteOutcome::Status::already_redeemed);
  }
}

// What a find_code_later callback received.
struct Found {
  std::optional<AuthCode> code;
  bool failed = false;
};

// Asks find_code_later for every ref (from `threads` threads at once) and waits for every
// answer; they are in the order of `refs`.
std::vector<Found> find_later(CodeStore& codes, const std::vector<SecretRef>& refs,
                              int threads = 1) {
  std::vector<std::promise<Found>> promises(refs.size());
  std::vector<std::future<Found>> answers;
  for (auto& p : promises) answers.push_back(p.get_future());
  std::vector<std::thread> askers;
  for (int t = 0; t < threads; ++t) {
    askers.emplace_back([&, t] {
      for (std::size_t i = static_cast<std::size_t>(t); i < refs.size();
           i += static_cast<std::size_t>(threads)) {
        codes.find_code_later(
            refs[i], [&promises, i](std::optional<AuthCode> code, std::exception_ptr error) {
              promises[i].set_value({std::move(code), error != nullptr});
            });
      }
    });
  }
  for (auto& a : askers) a.join();
  std::vector<Found> out;
  for (auto& a : answers) {
    if (a.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      ADD_FAILURE() << "a read was never answered";
      out.push_back({std::nullopt, true});
      continue;
    }
    out.push_back(a.get());
  }
  return out;
}

// CodeStore::find_code_later answers what find_code does, once per read: at once on SQLite,
// in batches from the reader thread on PostgreSQL. Here from 4 threads at once, a code asked
// for twice in one batch included.
TEST_P(StoreConformance, FindCodeLaterAnswersWhatFindCodeDoes) {
  std::vector<AuthCode> codes;
  std::vector<SecretRef> refs;
  for (int i = 0; i < 40; ++i) {
    const std::string n = std::to_string(i);
    AuthCode c = sample_code(std::string("later-read-").append(n));
    c.id = db().allocate_code_id();
    c.scopes = {"api", std::string("n").append(n)};
    db().save_code(c);
    codes.push_back(c);
    refs.push_back(c.ref());
  }
  AuthCode by_hash = sample_code("later-read-by-hash");  // id 0: found by its hash
  db().save_code(by_hash);
  refs.push_back(SecretRef::by_hash(by_hash.code_hash));
  refs.push_back(codes[3].ref());                            // the same code again
  refs.push_back({codes[5].id, "another-hash"});             // right id, wrong hash
  refs.push_back({codes.back().id + 64 * 1000, "no-such"});  // unknown id
  refs.push_back({codes[7].id, ""});                         // no hash matches nothing

  const std::vector<Found> found = find_later(db(), refs, 4);
  ASSERT_EQ(found.size(), refs.size());
  for (std::size_t i = 0; i < codes.size(); ++i) {
    ASSERT_TRUE(found[i].code) << i;
    EXPECT_EQ(fields(*found[i].code), fields(codes[i])) << i;
  }
  const std::size_t n = codes.size();
  ASSERT_TRUE(found[n].code);
  EXPECT_EQ(found[n].code->code_hash, by_hash.code_hash);
  ASSERT_TRUE(found[n + 1].code);
  EXPECT_EQ(fields(*found[n + 1].code), fields(codes[3]));
  EXPECT_FALSE(found[n + 2].code) << "right id, wrong hash";
  EXPECT_FALSE(found[n + 3].code) << "unknown id";
  EXPECT_FALSE(found[n + 4].code) << "empty hash";
  for (const Found& f : found) EXPECT_FALSE(f.failed);

  // A redeemed code is answered used, as find_code answers it.
  const std::string key = std::to_string(codes[0].id);
  ASSERT_TRUE(redeem(db(), Redemption::Kind::code, codes[0].ref(), key).is_durable());
  auto again = find_later(db(), {codes[0].ref()});
  ASSERT_TRUE(again[0].code);
  EXPECT_TRUE(again[0].code->used);
}

TEST_P(StoreConformance, FindCodeReturnsNulloptWhenUnknown) {
  db().save_code(sample_code("code-hash-1"));
  EXPECT_FALSE(db().find_code(SecretRef::by_hash("code-hash-2")).has_value());
  EXPECT_FALSE(db().find_code(SecretRef::by_hash("")).has_value());
}

TEST_P(StoreConformance, RedeemingACodeLeavesOtherCodesUnused) {
  db().save_code(sample_code("code-hash-1"));
  db().save_code(sample_code("code-hash-2"));
  ASSERT_TRUE(
      redeem(db(), Redemption::Kind::code, SecretRef::by_hash("code-hash-1"), "k1").is_durable());
  EXPECT_FALSE(db().find_code(SecretRef::by_hash("code-hash-2"))->used);
  EXPECT_TRUE(
      redeem(db(), Redemption::Kind::code, SecretRef::by_hash("code-hash-2"), "k2").is_durable());
}

TEST_P(StoreConformance, SavedTokensRoundTripEveryField) {
  Token access = sample_token("access-1", TokenKind::access);
  Token refresh = sample_token("refresh-1", TokenKind::refresh);
  refresh.expires_ms = 0;  // never
  refresh.revoked = true;
  refresh.rotated = true;
  refresh.cnf_x5t = "";
  db().save_tokens({access, refresh});
  auto a = db().find_token(SecretRef::by_hash("access-1"));
  auto r = db().find_token(SecretRef::by_hash("refresh-1"));
  ASSERT_TRUE(a.has_value());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(fields(*a), fields(access));
  EXPECT_EQ(fields(*r), fields(refresh));
}

// The queued save: once it reports durable, the tokens are there, every field intact.
TEST_P(StoreConformance, SaveTokensLaterIsStoredOnceSettled) {
  Token access = sample_token("later-access", TokenKind::access);
  Token refresh = sample_token("later-refresh", TokenKind::refresh);
  auto pending = db().save_tokens_later({access, refresh});
  ASSERT_TRUE(pending);
  std::promise<WriteOutcome> settled;
  pending->on_settled([&](const WriteOutcome& o) { settled.set_value(o); });
  auto outcome = settled.get_future();
  ASSERT_EQ(outcome.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_TRUE(outcome.get().is_durable());
  EXPECT_TRUE(pending->wait().is_durable());  // settled: returns at once
  auto a = db().find_token(SecretRef::by_hash("later-access"));
  auto r = db().find_token(SecretRef::by_hash("later-refresh"));
  ASSERT_TRUE(a && r);
  EXPECT_EQ(fields(*a), fields(access));
  EXPECT_EQ(fields(*r), fields(refresh));
}

// A queued save that cannot be stored (the hash is taken) reports the failure and stores
// neither token of the pair.
TEST_P(StoreConformance, SaveTokensLaterReportsAFailedWrite) {
  db().save_tokens({sample_token("taken", TokenKind::access)});
  WriteOutcome outcome = db().save_tokens_later({sample_token("fresh", TokenKind::access),
                                                 sample_token("taken", TokenKind::refresh)})
                             ->wait();
  EXPECT_EQ(outcome.status, WriteOutcome::Status::failed) << "a failed write was reported";
  EXPECT_FALSE(outcome.error.empty());
  EXPECT_FALSE(db().find_token(SecretRef::by_hash("fresh"))) << "half of a failed pair was stored";
}

TEST_P(StoreConformance, FindTokenReturnsNulloptWhenUnknown) {
  db().save_tokens({sample_token("access-1", TokenKind::access)});
  EXPECT_FALSE(db().find_token(SecretRef::by_hash("access-2")).has_value());
  EXPECT_FALSE(db().find_token(SecretRef::by_hash("")).has_value());
}

// An empty batch is not an error (nothing to store is stored), whether saved at once or
// queued, and it leaves the tokens already stored as they were.
TEST_P(StoreConformance, SaveTokensWithNoTokensStoresNothingAndFailsNothing) {
  db().save_tokens({sample_token("kept", TokenKind::refresh)});
  EXPECT_NO_THROW(db().save_tokens({}));
  EXPECT_NO_THROW(db().save_tokens_later({})->wait());
  auto kept = db().find_token(SecretRef::by_hash("kept"));
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(kept->kind, TokenKind::refresh);
  EXPECT_FALSE(kept->revoked);
}

TEST_P(StoreConformance, SaveTokensIsAllOrNothing) {
  db().save_tokens({sample_token("existing", TokenKind::access)});
  // The second token collides with a stored hash, so the whole batch must fail, leaving the
  // first token of the batch unsaved.
  EXPECT_THROW(db().save_tokens({sample_token("new-access", TokenKind::access),
                                 sample_token("existing", TokenKind::refresh)}),
               StoreError);
  EXPECT_FALSE(db().find_token(SecretRef::by_hash("new-access")).has_value());
  EXPECT_EQ(db().find_token(SecretRef::by_hash("existing"))->kind, TokenKind::access);
  // The store is still usable afterwards.
  db().save_tokens({sample_token("new-access", TokenKind::access)});
  EXPECT_TRUE(db().find_token(SecretRef::by_hash("new-access")).has_value());
}

// RFC 9700 §4.14.2: of concurrent refreshes with one rotating refresh token, exactly one
// rotates it.
TEST_P(StoreConformance, ConcurrentRotationsOfOneRefreshTokenHaveExactlyOneWinner) {
  db().save_tokens({sample_token("refresh-1", TokenKind::refresh)});
  std::atomic<int> winners{0};
  race([&](int) {
    auto o =
        redeem(db(), Redemption::Kind::refresh_token, SecretRef::by_hash("refresh-1"), "family-1");
    if (o.is_durable()) ++winners;
  });
  EXPECT_EQ(winners.load(), 1);
  EXPECT_TRUE(db().find_token(SecretRef::by_hash("refresh-1"))->rotated);
}

TEST_P(StoreConformance, RevokeTokenCountsOnlyNewRevocations) {
  db().save_tokens({sample_token("a", TokenKind::access), sample_token("b", TokenKind::access)});
  EXPECT_EQ(db().revoke_token(SecretRef::by_hash("a")), 1);
  EXPECT_TRUE(db().find_token(SecretRef::by_hash("a"))->revoked);
  EXPECT_FALSE(db().find_token(SecretRef::by_hash("b"))->revoked);
  EXPECT_EQ(db().revoke_token(SecretRef::by_hash("a")), 0);
  EXPECT_EQ(db().revoke_token(SecretRef::by_hash("unknown")), 0);
}

TEST_P(StoreConformance, RevokeFamilyRevokesOnlyThatFamily) {
  Token a = sample_token("a", TokenKind::access);
  Token r = sample_token("r", TokenKind::refresh);
  Token r2 = sample_token("r2", TokenKind::refresh);
  r2.rotated = true;
  Token other = sample_token("other", TokenKind::refresh);
  other.family_id = "family-2";
  db().save_tokens({a, r});
  db().save_tokens({r2, other});
  ASSERT_EQ(db().revoke_token(SecretRef::by_hash("r2")), 1);
  EXPECT_EQ(db().revoke_family("family-1"), 2);  // r2 was already revoked
  for (const char* h : {"a", "r", "r2"})
    EXPECT_TRUE(db().find_token(SecretRef::by_hash(h))->revoked) << h;
  EXPECT_FALSE(db().find_token(SecretRef::by_hash("other"))->revoked);
  EXPECT_EQ(db().revoke_family("family-1"), 0);
  EXPECT_EQ(db().revoke_family("family-unknown"), 0);
}

TEST_P(StoreConformance, ACodeReplayRevokesTokensMintedFromThatCode) {
  Token a = sample_token("a", TokenKind::access);
  Token r = sample_token("r", TokenKind::refresh);
  // Another code's tokens start a family of their own.
  Token other = sample_token("other", TokenKind::access);
  other.code_key = "code-2";
  other.family_id = "family-2";
  db().save_tokens({a, r, other});
  EXPECT_EQ(replay_code(db(), "code-1"), 2);
  EXPECT_TRUE(db().find_token(SecretRef::by_hash("a"))->revoked);
  EXPECT_TRUE(db().find_token(SecretRef::by_hash("r"))->revoked);
  EXPECT_FALSE(db().find_token(SecretRef::by_hash("other"))->revoked);
  EXPECT_EQ(replay_code(db(), "code-1"), 0);
}

// RFC 6749 §4.1.2: "all tokens previously issued based on that authorization code". A refresh
// of the code's refresh token mints tokens that name the family but not the code; they descend
// from the code all the same.
TEST_P(StoreConformance, ACodeReplayRevokesTheFamiliesDescendedFromThatCode) {
  Token a = sample_token("a", TokenKind::access);
  Token r = sample_token("r", TokenKind::refresh);
  // Minted by refreshing r: same family, no code.
  Token refreshed_a = sample_token("refreshed-a", TokenKind::access);
  refreshed_a.code_key = "";
  Token refreshed_r = sample_token("refreshed-r", TokenKind::refresh);
  refreshed_r.code_key = "";
  // Another code's family, and a token of no family at all.
  Token other = sample_token("other", TokenKind::refresh);
  other.family_id = "family-2";
  other.code_key = "code-2";
  Token bare = sample_token("bare", TokenKind::access);
  bare.family_id = "";
  bare.code_key = "";
  db().save_tokens({a, r});
  db().save_tokens({refreshed_a, refreshed_r, other, bare});
  EXPECT_EQ(replay_code(db(), "code-1"), 4);
  for (const char* h : {"a", "r", "refreshed-a", "refreshed-r"}) {
    EXPECT_TRUE(db().find_token(SecretRef::by_hash(h))->revoked) << h;
  }
  for (const char* h : {"other", "bare"}) {
    EXPECT_FALSE(db().find_token(SecretRef::by_hash(h))->revoked) << h;
  }
  EXPECT_EQ(replay_code(db(), "code-1"), 0);
}

// Tokens issued with a code but outside any family (a hybrid response's front-channel access
// token) are revoked too, and a code whose tokens have no family revokes no family-less token.
TEST_P(StoreConformance, ACodeReplayRevokesTokensOfTheCodeWithoutAFamily) {
  Token front = sample_token("front", TokenKind::access);
  front.family_id = "";
  Token bare = sample_token("bare", TokenKind::access);
  bare.family_id = "";
  bare.code_key = "";
  db().save_tokens({front, bare});
  EXPECT_EQ(replay_code(db(), "code-1"), 1);
  EXPECT_TRUE(db().find_token(SecretRef::by_hash("front"))->revoked);
  EXPECT_FALSE(db().find_token(SecretRef::by_hash("bare"))->revoked);
}

TEST_P(StoreConformance, RevokeByUserRevokesEveryTokenOfThatUser) {
  Token a = sample_token("a", TokenKind::access);
  Token r = sample_token("r", TokenKind::refresh);
  Token other_family = sample_token("f2", TokenKind::access);
  other_family.family_id = "family-2";
  other_family.code_key = "";
  Token other_user = sample_token("u2", TokenKind::access);
  other_user.user_id = "005000000000002";
  db().save_tokens({a, r, other_family, other_user});
  EXPECT_EQ(db().revoke_by_user("005000000000001"), 3);
  for (const char* h : {"a", "r", "f2"})
    EXPECT_TRUE(db().find_token(SecretRef::by_hash(h))->revoked) << h;
  EXPECT_FALSE(db().find_token(SecretRef::by_hash("u2"))->revoked);
  EXPECT_EQ(db().revoke_by_user("005000000000001"), 0);
}

TEST_P(StoreConformance, RevokeByEmptyKeyRevokesNothing) {
  // Tokens without a family, code or user (e.g. client credentials) must not be swept up by a
  // caller passing an empty id.
  Token t = sample_token("bare", TokenKind::access);
  t.family_id = "";
  t.code_key = "";
  t.user_id = "";
  db().save_tokens({t});
  EXPECT_EQ(db().revoke_family(""), 0);
  EXPECT_EQ(replay_code(db(), ""), 0);
  EXPECT_EQ(db().revoke_by_user(""), 0);
  EXPECT_FALSE(db().find_token(SecretRef::by_hash("bare"))->revoked);
}

TEST_P(StoreConformance, ConcurrentWritersAndReadersAllSucceed) {
  race([&](int i) {
    for (int k = 0; k < 25; ++k) {
      std::string base = std::to_string(i) + "-" + std::to_string(k);
      db().save_tokens({sample_token("a" + base, TokenKind::access),
                        sample_token("r" + base, TokenKind::refresh)});
      EXPECT_TRUE(db().find_token(SecretRef::by_hash("a" + base)).has_value());
      EXPECT_TRUE(
          redeem(db(), Redemption::Kind::refresh_token, SecretRef::by_hash("r" + base), "family-1")
              .is_durable());
    }
  });
  EXPECT_EQ(db().revoke_family("family-1"), kThreads * 25 * 2);
}

}  // namespace
}  // namespace latchkey::store::testing
