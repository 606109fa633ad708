#include "token/scopes.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace latchkey::oauth {
namespace {

using Scopes = std::vector<std::string>;

TEST(Scopes, SplitKeepsOrderAndDropsDuplicates) {
  // RFC 6749 §3.3: space-delimited, order does not matter but we keep it for stable output.
  EXPECT_EQ(token::split_scopes("api refresh_token api openid refresh_token"),
            (Scopes{"api", "refresh_token", "openid"}));
}

TEST(Scopes, SplitIgnoresRepeatedAndEdgeSpaces) {
  EXPECT_EQ(token::split_scopes("  api   id  "), (Scopes{"api", "id"}));
  EXPECT_TRUE(token::split_scopes("").empty());
  EXPECT_TRUE(token::split_scopes("    ").empty());
}

TEST(Scopes, JoinUsesSingleSpaces) {
  EXPECT_EQ(token::join_scopes({"api", "refresh_token", "openid"}), "api refresh_token openid");
  EXPECT_EQ(token::join_scopes({}), "");
  EXPECT_EQ(token::join_scopes({"api"}), "api");
}

TEST(Scopes, SplitThenJoinNormalises) {
  EXPECT_EQ(token::join_scopes(token::split_scopes(" id  api id ")), "id api");
}

TEST(Scopes, HasScopeIsExact) {
  Scopes s{"api", "refresh_token"};
  EXPECT_TRUE(token::has_scope(s, "api"));
  EXPECT_FALSE(token::has_scope(s, "ap"));
  EXPECT_FALSE(token::has_scope(s, "API"));
}

TEST(Scopes, GrantWithEmptyRequestGivesAppScopes) {
  // docs/behaviour.md §7: no scope parameter means the app's scopes.
  Scopes app{"api", "refresh_token", "openid"};
  auto g = token::grant_scopes("", app);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g.value(), app);
  auto spaces = token::grant_scopes("   ", app);
  ASSERT_TRUE(spaces.ok());
  EXPECT_EQ(spaces.value(), app);
}

TEST(Scopes, GrantReturnsRequestedSubset) {
  auto g = token::grant_scopes("openid api api", {"api", "refresh_token", "openid"});
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g.value(), (Scopes{"openid", "api"}));
}

TEST(Scopes, ScopeTheAppLacksIsInvalidScope) {
  // RFC 6749 §4.1.2.1 / §5.2 invalid_scope.
  auto g = token::grant_scopes("api full", {"api", "refresh_token"});
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().code(), "invalid_scope");
}

TEST(Scopes, MalformedScopeTokenIsInvalidScope) {
  // RFC 6749 §3.3: scope-token excludes '"' and '\\' and controls.
  Scopes app{"api", "a\"b", "a\\b"};
  auto quote = token::grant_scopes("a\"b", app);
  ASSERT_FALSE(quote.ok());
  EXPECT_EQ(quote.error().code(), "invalid_scope");
  auto backslash = token::grant_scopes("a\\b", app);
  ASSERT_FALSE(backslash.ok());
  EXPECT_EQ(backslash.error().code(), "invalid_scope");
  auto control = token::grant_scopes("api\t", app);
  ASSERT_FALSE(control.ok());
  EXPECT_EQ(control.error().code(), "invalid_scope");
}

TEST(Scopes, AllowsRefreshWithRefreshTokenOrOfflineAccess) {
  EXPECT_TRUE(token::allows_refresh({"api", "refresh_token"}));
  EXPECT_TRUE(token::allows_refresh({"offline_access"}));
  EXPECT_FALSE(token::allows_refresh({"api", "openid", "full"}));
  EXPECT_FALSE(token::allows_refresh({}));
}

}  // namespace
}  // namespace latchkey::oauth
