#include "web/pages.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace latchkey::web {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kScript[] = "<script>alert(1)</script>";
constexpr char kScriptEscaped[] = "&lt;script&gt;alert(1)&lt;/script&gt;";
// Tries to close an attribute and open an element.
constexpr char kAttrBreak[] = "\"><img src=x onerror=alert(1)>";
// Mustache syntax in data must be shown, never interpreted.
constexpr char kMustache[] = "{{#x}}{{{y}}}{{/x}}";

std::vector<std::string> all_matches(const std::string& html, const std::string& pattern) {
  std::vector<std::string> out;
  const std::regex re(pattern);
  for (auto it = std::sregex_iterator(html.begin(), html.end(), re); it != std::sregex_iterator();
       ++it) {
    out.push_back((*it)[1].str());
  }
  return out;
}

// Checks that none of the hostile strings above reached the page as markup.
void ExpectNoInjectedMarkup(const std::string& html) {
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("<img")));
  EXPECT_THAT(html, Not(HasSubstr("\"><img")));
}

LoginView SampleLogin() {
  LoginView v;
  v.action = "/services/oauth2/authorize/login";
  v.app_name = "Demo App";
  v.csrf = "csrf-token-123";
  v.hidden = {{"client_id", "3MVG9abc"},
              {"redirect_uri", "https://app.example/cb?a=1&b=2"},
              {"state", "xyz"}};
  return v;
}

ConsentView SampleConsent() {
  ConsentView v;
  v.action = "/services/oauth2/authorize/consent";
  v.app_name = "Demo App";
  v.username = "alice@localhost";
  v.csrf = "csrf-token-456";
  v.scopes = {"api", "refresh_token", "openid"};
  v.hidden = {{"client_id", "3MVG9abc"}, {"state", "xyz"}};
  return v;
}

TEST(Pages, ConstructsFromEmbeddedTemplates) { EXPECT_NO_THROW(Pages{}); }

TEST(Pages, LoginFormPostsToAction) {
  const std::string html = Pages{}.login(SampleLogin());
  EXPECT_THAT(html, HasSubstr("<form"));
  EXPECT_THAT(html, HasSubstr("method=\"post\""));
  EXPECT_THAT(html, HasSubstr("action=\"/services/oauth2/authorize/login\""));
}

TEST(Pages, LoginFormHasLabelledInputs) {
  const std::string html = Pages{}.login(SampleLogin());
  EXPECT_THAT(html, HasSubstr("<label for=\"username\">"));
  EXPECT_THAT(html, HasSubstr("<label for=\"password\">"));
  EXPECT_THAT(html, HasSubstr("id=\"username\" name=\"username\""));
  EXPECT_THAT(html, HasSubstr("id=\"password\" name=\"password\" type=\"password\""));
  EXPECT_THAT(html, HasSubstr("autocomplete=\"username\""));
  EXPECT_THAT(html, HasSubstr("autocomplete=\"current-password\""));
}

TEST(Pages, LoginHasSubmitButton) {
  const std::string html = Pages{}.login(SampleLogin());
  EXPECT_THAT(html, HasSubstr("<button type=\"submit\" class=\"button primary block\">Log In"));
}

TEST(Pages, LoginCarriesCsrfAndHiddenFields) {
  const std::string html = Pages{}.login(SampleLogin());
  EXPECT_THAT(html, HasSubstr("<input type=\"hidden\" name=\"csrf\" value=\"csrf-token-123\">"));
  EXPECT_THAT(html, HasSubstr("<input type=\"hidden\" name=\"client_id\" value=\"3MVG9abc\">"));
  EXPECT_THAT(html, HasSubstr("<input type=\"hidden\" name=\"state\" value=\"xyz\">"));
  // & in an attribute value is written as &amp; and decoded back by the browser.
  EXPECT_THAT(html,
              HasSubstr("name=\"redirect_uri\" value=\"https://app.example/cb?a=1&amp;b=2\""));
}

TEST(Pages, LoginNamesTheApp) {
  const std::string html = Pages{}.login(SampleLogin());
  EXPECT_THAT(html,
              HasSubstr("Sign in to continue to <strong class=\"app-name\">Demo App</strong>"));
}

TEST(Pages, LoginWithoutErrorHasNoAlert) {
  const std::string html = Pages{}.login(SampleLogin());
  EXPECT_THAT(html, Not(HasSubstr("role=\"alert\"")));
  EXPECT_THAT(html, Not(HasSubstr("aria-invalid")));
}

TEST(Pages, LoginShowsErrorAsAlert) {
  LoginView v = SampleLogin();
  v.error = "Please check your username and password.";
  const std::string html = Pages{}.login(v);
  EXPECT_THAT(html, HasSubstr("role=\"alert\""));
  EXPECT_THAT(html, HasSubstr("Please check your username and password."));
  EXPECT_THAT(html, HasSubstr("aria-invalid=\"true\""));
}

TEST(Pages, LoginPrefillsUsernameAndFocusesPassword) {
  LoginView v = SampleLogin();
  v.username = "alice@localhost";
  const std::string html = Pages{}.login(v);
  EXPECT_THAT(html, HasSubstr("value=\"alice@localhost\""));
  EXPECT_THAT(html, HasSubstr("autocomplete=\"current-password\" required autofocus"));
}

TEST(Pages, LoginEscapesHostileStrings) {
  LoginView v;
  v.action = kAttrBreak;
  v.app_name = kScript;
  v.username = kAttrBreak;
  v.error = kScript;
  v.csrf = kAttrBreak;
  v.hidden = {{kAttrBreak, kAttrBreak}, {"state", kMustache}};
  const std::string html = Pages{}.login(v);
  ExpectNoInjectedMarkup(html);
  EXPECT_THAT(html, HasSubstr(kScriptEscaped));
  EXPECT_THAT(html, HasSubstr("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
  EXPECT_THAT(html, HasSubstr("value=\"{{#x}}{{{y}}}{{/x}}\""));
}

TEST(Pages, ConsentNamesAppAndUser) {
  const std::string html = Pages{}.consent(SampleConsent());
  EXPECT_THAT(html, HasSubstr("<span class=\"app-name\">Demo App</span> is requesting access"));
  EXPECT_THAT(html, HasSubstr("Signed in as <strong>alice@localhost</strong>"));
}

TEST(Pages, ConsentHasAllowAndDenyButtons) {
  const std::string html = Pages{}.consent(SampleConsent());
  EXPECT_THAT(html, HasSubstr("method=\"post\""));
  EXPECT_THAT(html, HasSubstr("action=\"/services/oauth2/authorize/consent\""));
  EXPECT_THAT(html, HasSubstr("<button type=\"submit\" name=\"decision\" value=\"allow\""));
  EXPECT_THAT(html, HasSubstr("<button type=\"submit\" name=\"decision\" value=\"deny\""));
  EXPECT_THAT(html, HasSubstr(">Allow</button>"));
  EXPECT_THAT(html, HasSubstr(">Deny</button>"));
}

TEST(Pages, ConsentCarriesCsrfAndHiddenFields) {
  const std::string html = Pages{}.consent(SampleConsent());
  EXPECT_THAT(html, HasSubstr("<input type=\"hidden\" name=\"csrf\" value=\"csrf-token-456\">"));
  EXPECT_THAT(html, HasSubstr("<input type=\"hidden\" name=\"client_id\" value=\"3MVG9abc\">"));
  EXPECT_THAT(html, HasSubstr("<input type=\"hidden\" name=\"state\" value=\"xyz\">"));
}

TEST(Pages, ConsentDescribesEachScopeInWords) {
  const std::string html = Pages{}.consent(SampleConsent());
  EXPECT_THAT(html, HasSubstr("Manage user data via APIs</span> "
                              "<small class=\"scope-name\">api</small>"));
  EXPECT_THAT(html, HasSubstr("Perform requests at any time</span> "
                              "<small class=\"scope-name\">refresh_token</small>"));
  EXPECT_THAT(html, HasSubstr("Access unique user identifiers</span> "
                              "<small class=\"scope-name\">openid</small>"));
  EXPECT_EQ(all_matches(html, "<li>(.*?)</li>").size(), 3u);
}

TEST(Pages, ConsentWithoutScopesStillAsks) {
  ConsentView v = SampleConsent();
  v.scopes.clear();
  const std::string html = Pages{}.consent(v);
  EXPECT_THAT(html, Not(HasSubstr("class=\"scopes\"")));
  EXPECT_THAT(html, HasSubstr("value=\"allow\""));
}

TEST(Pages, ConsentEscapesHostileStrings) {
  ConsentView v;
  v.action = kAttrBreak;
  v.app_name = kScript;
  v.username = kScript;
  v.csrf = kAttrBreak;
  v.scopes = {kScript, kAttrBreak};
  v.hidden = {{kAttrBreak, kAttrBreak}};
  const std::string html = Pages{}.consent(v);
  ExpectNoInjectedMarkup(html);
  EXPECT_THAT(html, HasSubstr(kScriptEscaped));
}

TEST(Pages, ErrorPageShowsTitleCodeAndDescription) {
  const std::string html = Pages{}.error(
      {"Invalid request", "redirect_uri_mismatch", "redirect_uri must match configuration"});
  EXPECT_THAT(html, HasSubstr("<h1 id=\"error-title\">Invalid request</h1>"));
  EXPECT_THAT(html, HasSubstr("<code>redirect_uri_mismatch</code>"));
  EXPECT_THAT(html, HasSubstr("redirect_uri must match configuration"));
  EXPECT_THAT(html, HasSubstr("<title>Invalid request &ndash; latchkey</title>"));
}

TEST(Pages, ErrorPageHasDefaultTitle) {
  const std::string html = Pages{}.error({"", "invalid_client_id", "client identifier invalid"});
  EXPECT_THAT(html, HasSubstr("Something went wrong"));
  EXPECT_THAT(html, HasSubstr("<code>invalid_client_id</code>"));
}

// docs/behaviour.md §5.1: an unknown client or unregistered redirect never sends the user back.
TEST(Pages, ErrorPageNeverLinksBackToClient) {
  const std::string html = Pages{}.error(
      {"https://evil.example/cb", "redirect_uri_mismatch", "https://evil.example/cb"});
  for (const auto& href : all_matches(html, "href=\"([^\"]*)\"")) {
    EXPECT_TRUE(href == "/" || href == "/static/style.css") << href;
  }
  EXPECT_THAT(html, Not(HasSubstr("action=")));
  EXPECT_THAT(html, Not(HasSubstr("http-equiv")));
}

TEST(Pages, ErrorPageEscapesHostileStrings) {
  const std::string html = Pages{}.error({kScript, kAttrBreak, kScript});
  ExpectNoInjectedMarkup(html);
  EXPECT_THAT(html, HasSubstr(kScriptEscaped));
}

TEST(Pages, LandingLinksDiscoveryAndKeys) {
  LandingView v;
  v.issuer = "http://127.0.0.1:8443";
  const std::string html = Pages{}.landing(v);
  EXPECT_THAT(html, HasSubstr("OAuth 2.0 and OpenID Connect"));
  EXPECT_THAT(html, HasSubstr("href=\"/.well-known/openid-configuration\""));
  EXPECT_THAT(html, HasSubstr("href=\"/id/keys\""));
  EXPECT_THAT(html, HasSubstr("<code>http://127.0.0.1:8443</code>"));
  EXPECT_THAT(html, Not(HasSubstr("Try the web server flow")));
}

TEST(Pages, LandingOffersDemoWhenAvailable) {
  LandingView v;
  v.issuer = "http://127.0.0.1:8443";
  v.demo_available = true;
  v.demo_start_url = "/demo/start";
  v.demo_username = "demo@localhost";
  v.demo_password = "demo-password";
  const std::string html = Pages{}.landing(v);
  EXPECT_THAT(html, HasSubstr("href=\"/demo/start\">Try the web server flow with PKCE</a>"));
  EXPECT_THAT(html, HasSubstr("<code>demo@localhost</code>"));
  EXPECT_THAT(html, HasSubstr("<code>demo-password</code>"));
}

TEST(Pages, LandingEscapesHostileStrings) {
  LandingView v;
  v.issuer = kScript;
  v.demo_available = true;
  v.demo_start_url = kAttrBreak;
  v.demo_username = kScript;
  v.demo_password = kAttrBreak;
  const std::string html = Pages{}.landing(v);
  ExpectNoInjectedMarkup(html);
  EXPECT_THAT(html, HasSubstr(kScriptEscaped));
}

TEST(Pages, DemoResultPrettyPrintsEachSection) {
  DemoResultView v;
  v.token_response_json = R"({"access_token":"00Dxx!abc","token_type":"Bearer"})";
  v.id_token_header_json = R"({"alg":"RS256","kid":"k1"})";
  v.id_token_claims_json = R"({"sub":"https://x/id/00D/005","aud":"3MVG9"})";
  v.userinfo_json = R"({"preferred_username":"alice@localhost"})";
  const std::string html = Pages{}.demo_result(v);
  EXPECT_THAT(html, HasSubstr("Token response"));
  EXPECT_THAT(html, HasSubstr("ID token header"));
  EXPECT_THAT(html, HasSubstr("ID token claims"));
  EXPECT_THAT(html, HasSubstr("Userinfo"));
  EXPECT_EQ(all_matches(html, "(<pre class=\"json\")").size(), 4u);
  EXPECT_THAT(html, HasSubstr("{\n  &quot;access_token&quot;: &quot;00Dxx!abc&quot;,\n"
                              "  &quot;token_type&quot;: &quot;Bearer&quot;\n}</pre>"));
  EXPECT_THAT(html, Not(HasSubstr("role=\"alert\"")));
}

TEST(Pages, DemoResultLeavesOutEmptySections) {
  DemoResultView v;
  v.token_response_json = R"({"access_token":"a"})";
  const std::string html = Pages{}.demo_result(v);
  EXPECT_EQ(all_matches(html, "(<pre class=\"json\")").size(), 1u);
  EXPECT_THAT(html, Not(HasSubstr("Userinfo")));
}

TEST(Pages, DemoResultShowsError) {
  DemoResultView v;
  v.error = "access_denied: end-user denied authorization";
  const std::string html = Pages{}.demo_result(v);
  EXPECT_THAT(html, HasSubstr("role=\"alert\">access_denied: end-user denied authorization<"));
  EXPECT_THAT(html, Not(HasSubstr("<pre")));
}

TEST(Pages, DemoResultEscapesHostileStrings) {
  DemoResultView v;
  v.token_response_json = std::string(R"({"x":")") + kScript + R"("})";
  v.id_token_header_json = kAttrBreak;
  v.id_token_claims_json = kScript;
  v.userinfo_json = kMustache;
  v.error = kScript;
  const std::string html = Pages{}.demo_result(v);
  ExpectNoInjectedMarkup(html);
  EXPECT_THAT(html, HasSubstr(kScriptEscaped));
}

TEST(Pages, EveryPageSharesTheLayout) {
  const Pages pages;
  const std::vector<std::string> all = {pages.login(SampleLogin()), pages.consent(SampleConsent()),
                                        pages.error({"t", "c", "d"}),
                                        pages.landing({"http://x", true, "/demo", "u", "p"}),
                                        pages.demo_result({"{}", "{}", "{}", "{}", ""})};
  for (const auto& html : all) {
    EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
    EXPECT_THAT(html, HasSubstr("<meta name=\"viewport\""));
    EXPECT_THAT(html, HasSubstr("<link rel=\"stylesheet\" href=\"/static/style.css\">"));
    EXPECT_THAT(html, HasSubstr("class=\"brand\" href=\"/\""));
    EXPECT_THAT(html, HasSubstr(">latchkey</a>"));
    EXPECT_THAT(html, HasSubstr("</html>"));
  }
}

// The pages are served under a CSP without script-src or external sources.
TEST(Pages, NoScriptsInlineStylesOrExternalResources) {
  const Pages pages;
  const std::vector<std::string> all = {pages.login(SampleLogin()), pages.consent(SampleConsent()),
                                        pages.error({"t", "c", "d"}),
                                        pages.landing({"http://x", true, "/demo", "u", "p"}),
                                        pages.demo_result({"{}", "{}", "{}", "{}", "e"})};
  for (const auto& html : all) {
    EXPECT_THAT(html, Not(HasSubstr("<script")));
    EXPECT_THAT(html, Not(HasSubstr(" style=")));
    EXPECT_THAT(html, Not(HasSubstr("<style")));
    EXPECT_FALSE(std::regex_search(html, std::regex("\\son[a-z]+=")));  // event handlers
    for (const auto& src : all_matches(html, "src=\"([^\"]*)\"")) ADD_FAILURE() << src;
  }
}

TEST(Pages, StylesheetIsNotEmpty) {
  const Pages pages;
  EXPECT_GT(pages.stylesheet().size(), 500u);
  EXPECT_THAT(std::string(pages.stylesheet()), HasSubstr(":focus-visible"));
  EXPECT_THAT(std::string(pages.stylesheet()), Not(HasSubstr("url(")));
}

TEST(Pages, RendersConcurrently) {
  const Pages pages;
  const std::string expected = pages.consent(SampleConsent());
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (std::size_t t = 0; t < mismatches.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        if (pages.consent(SampleConsent()) != expected) ++mismatches[t];
        if (pages.login(SampleLogin()).empty()) ++mismatches[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int m : mismatches) EXPECT_EQ(m, 0);
}

TEST(Pages, IsMovable) {
  Pages a;
  Pages b = std::move(a);
  EXPECT_THAT(b.error({"t", "c", "d"}), HasSubstr("<code>c</code>"));
}

}  // namespace
}  // namespace latchkey::web
