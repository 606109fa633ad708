// The admin console's pages (web/console_pages.h): every value escaped, no script, the secret
// only on the page that shows it.
#include "web/console_pages.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace latchkey::web {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kScript[] = "<script>alert(1)</script>";
constexpr char kEscaped[] = "&lt;script&gt;alert(1)&lt;/script&gt;";
constexpr char kAttrBreak[] = "\"><img src=x>";

ConsoleFrame frame() { return {kScript, kAttrBreak, "", ""}; }

void ExpectEscaped(const std::string& html) {
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("<img")));
  EXPECT_THAT(html, HasSubstr(kEscaped));
}

TEST(ConsolePagesTest, EveryPageEscapesItsValues) {
  const ConsolePages pages;
  ExpectEscaped(pages.apps({frame(),
                            {{kScript, kScript, kScript, kScript, kAttrBreak}},
                            false,
                            {kScript, kScript, kScript, kScript, kScript, kScript}}));
  ExpectEscaped(pages.app({frame(),
                           kScript,
                           kScript,
                           kAttrBreak,
                           {{kScript, kScript}},
                           true,
                           {{kScript, kScript}},
                           {{kScript, kScript, kScript}}}));
  ExpectEscaped(pages.users({frame(),
                             {{kScript, kScript, kScript, kAttrBreak, true}},
                             false,
                             {kScript, kScript, kScript, kScript}}));
  ExpectEscaped(pages.user({frame(), kScript, kAttrBreak, {{kScript, kScript}}, false}));
  ExpectEscaped(pages.keys({frame(), {{kScript, kScript, kScript, kScript}}}));
  ExpectEscaped(pages.audit({frame(), {kScript}, kScript}));
  ExpectEscaped(pages.secret({frame(), kScript, kScript, kScript, kAttrBreak}));
  ExpectEscaped(pages.error({frame(), kScript, kScript}));
  ExpectEscaped(pages.login({kAttrBreak, kScript}));
}

TEST(ConsolePagesTest, NavigationAndSignOutOnlyWhenSignedIn) {
  const ConsolePages pages;
  const std::string in = pages.keys({{"ops", "tok", "", ""}, {}});
  EXPECT_THAT(in, HasSubstr("action=\"/admin/console/logout\""));
  EXPECT_THAT(in, HasSubstr("href=\"/admin/console/users\""));
  const std::string out = pages.login({"tok", ""});
  EXPECT_THAT(out, Not(HasSubstr("/admin/console/logout")));
  EXPECT_THAT(out, HasSubstr("action=\"/admin/console/login\""));
}

TEST(ConsolePagesTest, SecretPageSaysItIsShownOnce) {
  const ConsolePages pages;
  const std::string html = pages.secret(
      {{"ops", "tok", "", ""}, "App created", "id1", "s3cr3t", "/admin/console/apps/id1"});
  EXPECT_THAT(html, HasSubstr("id=\"client-secret\">s3cr3t<"));
  EXPECT_THAT(html, HasSubstr("shown only this once"));
  const std::string none =
      pages.secret({{"ops", "tok", "", ""}, "App created", "id1", "", "/admin/console/apps/id1"});
  EXPECT_THAT(none, Not(HasSubstr("client-secret")));
}

TEST(ConsolePagesTest, StylesheetIsTheLoginPagesOnesWithTheConsolesAdditions) {
  const ConsolePages pages;
  EXPECT_THAT(pages.stylesheet(), HasSubstr(".console-table"));
  EXPECT_THAT(pages.stylesheet(), HasSubstr(".site-header"));
}

}  // namespace
}  // namespace latchkey::web
