// oauth::settle: how the outcome of a token write and of the ID token's signing become the
// token endpoint's answer (docs/design.md, "A token request", step 10).
#include <gtest/gtest.h>

#include "oauth/grants/grant_handler.h"

namespace latchkey::oauth {
namespace {

using store::WriteOutcome;

TokenOutcome outcome_with_body() {
  TokenOutcome o;
  o.body["access_token"] = "00Dx!token";
  o.write = store::PendingWrite::settled();
  o.if_redeemed = Error::invalid_grant("invalid authorization code");
  return o;
}

TEST(Settle, ADurableWriteAnswersTheBody) {
  TokenOutcome o = outcome_with_body();
  EXPECT_FALSE(settle(o, WriteOutcome{}, std::nullopt).has_value());
  EXPECT_EQ(o.body.at("access_token").as_string(), "00Dx!token");
  EXPECT_FALSE(o.body.contains("id_token"));
}

TEST(Settle, TheSignedIdTokenJoinsTheBody) {
  TokenOutcome o = outcome_with_body();
  o.sign_id_token = [] { return std::string("eyJ.id.token"); };
  EXPECT_FALSE(settle(o, WriteOutcome{}, std::string("eyJ.id.token")).has_value());
  EXPECT_EQ(o.body.at("id_token").as_string(), "eyJ.id.token");
}

// The tokens are stored but the response cannot be completed: never a body without its ID token.
TEST(Settle, AFailedSignatureIsAServerError) {
  TokenOutcome o = outcome_with_body();
  o.sign_id_token = [] { return std::string("unused"); };
  auto refusal = settle(o, WriteOutcome{}, std::nullopt);
  ASSERT_TRUE(refusal.has_value());
  EXPECT_EQ(refusal->code(), "server_error");
}

// RFC 6749 §5.2 has no code for storage trouble; the answer says to try again.
TEST(Settle, AFailedWriteIsTemporarilyUnavailable) {
  TokenOutcome o = outcome_with_body();
  auto refusal = settle(o, WriteOutcome::failed_because("disk I/O error"), std::nullopt);
  ASSERT_TRUE(refusal.has_value());
  EXPECT_EQ(refusal->code(), "temporarily_unavailable");
  EXPECT_EQ(refusal->description(), "storage is unavailable, try again");
  EXPECT_NE(refusal->debug().find("disk I/O error"), std::string::npos);
}

// RFC 6749 §4.1.2: the second use of a code is refused with what the grant prepared.
TEST(Settle, AnAlreadyRedeemedWriteAnswersTheGrantsRefusal) {
  TokenOutcome o = outcome_with_body();
  auto refusal = settle(o, WriteOutcome::redeemed_before(2), std::nullopt);
  ASSERT_TRUE(refusal.has_value());
  EXPECT_EQ(refusal->code(), "invalid_grant");
  EXPECT_EQ(refusal->description(), "invalid authorization code");
}

// A write made only to revoke what an earlier use issued never answers a body, whatever it
// settles with.
TEST(Settle, ARefusalIsRefusedEvenWhenItsWriteIsDurable) {
  TokenOutcome o = outcome_with_body();
  o.refusal = true;
  auto refusal = settle(o, WriteOutcome{}, std::nullopt);
  ASSERT_TRUE(refusal.has_value());
  EXPECT_EQ(refusal->code(), "invalid_grant");
}

}  // namespace
}  // namespace latchkey::oauth
