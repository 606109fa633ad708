#include <gtest/gtest.h>

#include "web/pages.h"

namespace latchkey::web {
namespace {

// Salesforce's wording, as shown on its consent page.
TEST(DescribeScope, SalesforceScopesInWords) {
  EXPECT_EQ(describe_scope("api"), "Manage user data via APIs");
  EXPECT_EQ(describe_scope("web"), "Manage user data via Web browsers");
  EXPECT_EQ(describe_scope("full"), "Full access");
  EXPECT_EQ(describe_scope("id"), "Access the identity URL service");
  EXPECT_EQ(describe_scope("openid"), "Access unique user identifiers");
  EXPECT_EQ(describe_scope("profile"), "Access your basic information");
  EXPECT_EQ(describe_scope("email"), "Access your email address");
  EXPECT_EQ(describe_scope("address"), "Access your physical address");
  EXPECT_EQ(describe_scope("phone"), "Access your phone number");
}

TEST(DescribeScope, RefreshTokenAndOfflineAccessMeanTheSame) {
  EXPECT_EQ(describe_scope("refresh_token"), "Perform requests at any time");
  EXPECT_EQ(describe_scope("offline_access"), "Perform requests at any time");
}

TEST(DescribeScope, UnknownScopeIsItsOwnName) {
  EXPECT_EQ(describe_scope("custom.read"), "custom.read");
  EXPECT_EQ(describe_scope(""), "");
}

TEST(DescribeScope, IsCaseSensitive) { EXPECT_EQ(describe_scope("API"), "API"); }

}  // namespace
}  // namespace latchkey::web
