// How NumericDate claims are read (oauth/jwt_claims.h): RFC 7519's JSON numbers of seconds, and
// the forms Salesforce's tools send (docs/behaviour.md §5.6): milliseconds and numeric strings.
#include "oauth/jwt_claims.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace latchkey::oauth {
namespace {

boost::json::object with(boost::json::value exp) { return {{"exp", std::move(exp)}}; }

TEST(ClaimTime, SecondsReadTheSameInEitherForm) {
  for (auto form : {TimeForm::numeric_date, TimeForm::salesforce}) {
    EXPECT_EQ(claim_time(with(1'800'000'000), "exp", form), 1'800'000'000);
    EXPECT_EQ(claim_time(with(1'800'000'000.75), "exp", form), 1'800'000'000);
    EXPECT_EQ(claim_time(with(nullptr), "exp", form), std::nullopt);
    EXPECT_EQ(claim_time({}, "exp", form), std::nullopt);
  }
}

TEST(ClaimTime, StrictFormTakesOnlyNumbersAndKeepsLargeValuesAsSeconds) {
  EXPECT_EQ(claim_time(with("1800000000"), "exp"), std::nullopt);
  EXPECT_EQ(claim_time(with(1'800'000'000'300), "exp"), 1'800'000'000'300);
}

TEST(ClaimTime, SalesforceFormReadsMillisecondsAboveTenToTheEleven) {
  // The Salesforce CLI's exp: Date.now() + 300.
  EXPECT_EQ(claim_time(with(1'800'000'000'300), "exp", TimeForm::salesforce), 1'800'000'000);
  EXPECT_EQ(claim_time(with(1'800'000'000'300.0), "exp", TimeForm::salesforce), 1'800'000'000);
  // 10^11 itself is still seconds; one more is milliseconds.
  EXPECT_EQ(claim_time(with(100'000'000'000), "exp", TimeForm::salesforce), 100'000'000'000);
  EXPECT_EQ(claim_time(with(100'000'000'001), "exp", TimeForm::salesforce), 100'000'000);
}

TEST(ClaimTime, SalesforceFormReadsDecimalDigitStrings) {
  EXPECT_EQ(claim_time(with("1800000000"), "exp", TimeForm::salesforce), 1'800'000'000);
  EXPECT_EQ(claim_time(with("1800000000300"), "exp", TimeForm::salesforce), 1'800'000'000);
}

TEST(ClaimTime, SalesforceFormRefusesStringsThatAreNotPlainDigits) {
  for (const char* s : {"", "-1800000000", "+1800000000", " 1800000000", "1800000000 ", "1.8e9",
                        "1800000000.5", "0x6B49D200", "1800000000abc", "1234567890123456"}) {
    EXPECT_EQ(claim_time(with(s), "exp", TimeForm::salesforce), std::nullopt) << s;
  }
  EXPECT_EQ(claim_time(with(true), "exp", TimeForm::salesforce), std::nullopt);
  EXPECT_EQ(claim_time(with(boost::json::array{1800000000}), "exp", TimeForm::salesforce),
            std::nullopt);
}

}  // namespace
}  // namespace latchkey::oauth
