#include "oauth/authorize/authorize_request.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "unit/support/test_support.h"

namespace latchkey::oauth {
namespace {

using testsupport::kCallback;
using testsupport::TestWorld;

constexpr const char* kChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

class AuthorizeRequestTest : public ::testing::Test {
 protected:
  AuthorizeRequestTest() { app_ = world_.add_app(); }

  AuthorizeParse parse(std::vector<std::pair<std::string, std::string>> items) {
    http::Params p;
    for (auto& [k, v] : items) p.add(std::move(k), std::move(v));
    return parse_authorize(p, world_.db());
  }

  // Expects an error shown on our page, never a redirect (RFC 6749 §4.1.2.1).
  static void expect_page_error(const AuthorizeParse& r, const std::string& code) {
    ASSERT_FALSE(r.request.has_value());
    ASSERT_TRUE(r.error.has_value());
    EXPECT_EQ(r.error->error.code(), code);
    EXPECT_FALSE(r.error->redirect);
    EXPECT_TRUE(r.error->redirect_uri.empty());
  }

  // Expects an error sent back to the client's registered redirect_uri.
  static void expect_redirect_error(const AuthorizeParse& r, const std::string& code) {
    ASSERT_FALSE(r.request.has_value());
    ASSERT_TRUE(r.error.has_value());
    EXPECT_EQ(r.error->error.code(), code) << r.error->error.description();
    EXPECT_TRUE(r.error->redirect);
    EXPECT_EQ(r.error->redirect_uri, kCallback);
  }

  TestWorld world_;
  store::App app_;
};

TEST_F(AuthorizeRequestTest, ValidCodeRequestParses) {
  auto r = parse({{"response_type", "code"},
                  {"client_id", app_.client_id},
                  {"redirect_uri", kCallback},
                  {"scope", "api openid"},
                  {"state", "xyz"}});
  ASSERT_TRUE(r.request.has_value()) << r.error->error.description();
  EXPECT_FALSE(r.error.has_value());
  EXPECT_TRUE(r.request->wants_code);
  EXPECT_FALSE(r.request->wants_token);
  EXPECT_FALSE(r.request->fragment);
  EXPECT_EQ(r.request->redirect_uri, kCallback);
  EXPECT_EQ(r.request->scopes, (std::vector<std::string>{"api", "openid"}));
  EXPECT_EQ(r.request->app.client_id, app_.client_id);
}

TEST_F(AuthorizeRequestTest, StateIsCarried) {
  // RFC 6749 §4.1.2: state is returned exactly as received, also with errors.
  auto ok = parse({{"response_type", "code"},
                   {"client_id", app_.client_id},
                   {"redirect_uri", kCallback},
                   {"state", "s t&a=te%"}});
  ASSERT_TRUE(ok.request.has_value());
  EXPECT_EQ(ok.request->state, "s t&a=te%");
  bool carried = false;
  for (const auto& [k, v] : ok.request->carried)
    carried = carried || (k == "state" && v == "s t&a=te%");
  EXPECT_TRUE(carried);

  auto err = parse({{"response_type", "code"},
                    {"client_id", app_.client_id},
                    {"redirect_uri", kCallback},
                    {"scope", "not_a_scope_of_the_app"},
                    {"state", "abc"}});
  expect_redirect_error(err, "invalid_scope");
  EXPECT_EQ(err.error->state, "abc");
}

TEST_F(AuthorizeRequestTest, CarriedParametersExcludePageFields) {
  auto r = parse({{"response_type", "code"},
                  {"client_id", app_.client_id},
                  {"redirect_uri", kCallback},
                  {"password", "hunter2"},
                  {"csrf", "x"}});
  ASSERT_TRUE(r.request.has_value());
  for (const auto& [k, v] : r.request->carried) {
    EXPECT_FALSE(is_page_field(k)) << k;
  }
}

TEST_F(AuthorizeRequestTest, UnknownClientIsPageErrorInvalidClientId) {
  auto r = parse({{"response_type", "code"},
                  {"client_id", "3MVG9nobody"},
                  {"redirect_uri", kCallback},
                  {"state", "s"}});
  expect_page_error(r, "invalid_client_id");
  EXPECT_EQ(r.error->error.description(), "client identifier invalid");
}

TEST_F(AuthorizeRequestTest, MissingClientIdIsPageError) {
  expect_page_error(parse({{"response_type", "code"}, {"redirect_uri", kCallback}}),
                    "invalid_client_id");
}

TEST_F(AuthorizeRequestTest, UnregisteredRedirectUriIsPageErrorNeverRedirect) {
  // RFC 9700 §4.1.3 exact matching; RFC 6749 §4.1.2.1 never redirect to an unverified URI.
  for (const char* uri :
       {"https://evil.example.test/callback", "https://app.example.test/callback/",
        "https://app.example.test/callback?x=1", "HTTPS://app.example.test/callback", ""}) {
    auto r = parse({{"response_type", "code"},
                    {"client_id", app_.client_id},
                    {"redirect_uri", uri},
                    {"state", "s"}});
    expect_page_error(r, "redirect_uri_mismatch");
    EXPECT_EQ(r.error->error.description(), "redirect_uri must match configuration") << uri;
  }
}

TEST_F(AuthorizeRequestTest, MissingRedirectWithOneCallbackUsesIt) {
  // RFC 6749 §3.1.2.3.
  auto r = parse({{"response_type", "code"}, {"client_id", app_.client_id}});
  ASSERT_TRUE(r.request.has_value());
  EXPECT_EQ(r.request->redirect_uri, kCallback);
}

TEST_F(AuthorizeRequestTest, MissingRedirectWithSeveralCallbacksIsPageError) {
  auto two = world_.add_app([](store::App& a) {
    a.callbacks = {kCallback, "https://app.example.test/other"};
  });
  expect_page_error(parse({{"response_type", "code"}, {"client_id", two.client_id}}),
                    "redirect_uri_mismatch");
}

TEST_F(AuthorizeRequestTest, SecondRegisteredCallbackIsAccepted) {
  auto two = world_.add_app([](store::App& a) {
    a.callbacks = {kCallback, "https://app.example.test/other"};
  });
  auto r = parse({{"response_type", "code"},
                  {"client_id", two.client_id},
                  {"redirect_uri", "https://app.example.test/other"}});
  ASSERT_TRUE(r.request.has_value());
  EXPECT_EQ(r.request->redirect_uri, "https://app.example.test/other");
}

TEST_F(AuthorizeRequestTest, TokenResponseWithoutAllowImplicitIsRedirectErrorInFragment) {
  // docs/behaviour.md §5.5: user-agent flow only for --allow-implicit apps; the error goes where
  // the response would have gone, the fragment (RFC 6749 §4.2.2.1).
  auto r = parse({{"response_type", "token"},
                  {"client_id", app_.client_id},
                  {"redirect_uri", kCallback},
                  {"state", "st"}});
  expect_redirect_error(r, "unsupported_response_type");
  EXPECT_TRUE(r.error->fragment);
  EXPECT_EQ(r.error->state, "st");
}

TEST_F(AuthorizeRequestTest, TokenResponseWithAllowImplicitParses) {
  auto implicit = world_.add_app([](store::App& a) { a.allow_implicit = true; });
  auto r = parse(
      {{"response_type", "token"}, {"client_id", implicit.client_id}, {"redirect_uri", kCallback}});
  ASSERT_TRUE(r.request.has_value()) << r.error->error.description();
  EXPECT_TRUE(r.request->wants_token);
  EXPECT_TRUE(r.request->fragment);
}

TEST_F(AuthorizeRequestTest, UnknownResponseTypeIsUnsupportedResponseType) {
  expect_redirect_error(parse({{"response_type", "device_code"},
                               {"client_id", app_.client_id},
                               {"redirect_uri", kCallback}}),
                        "unsupported_response_type");
}

TEST_F(AuthorizeRequestTest, PlainCodeChallengeMethodIsInvalidRequest) {
  // docs/behaviour.md §5.2: S256 only; "plain" is refused (RFC 9700 §2.1.1).
  auto r = parse({{"response_type", "code"},
                  {"client_id", app_.client_id},
                  {"redirect_uri", kCallback},
                  {"code_challenge", kChallenge},
                  {"code_challenge_method", "plain"}});
  expect_redirect_error(r, "invalid_request");
}

TEST_F(AuthorizeRequestTest, ChallengeWithoutMethodIsTakenAsS256) {
  // docs/behaviour.md §5.2: as Salesforce (and the Salesforce CLI, which sends no method), a
  // missing method means S256, not RFC 7636 §4.3's plain.
  auto r = parse({{"response_type", "code"},
                  {"client_id", app_.client_id},
                  {"redirect_uri", kCallback},
                  {"code_challenge", kChallenge}});
  ASSERT_TRUE(r.request.has_value());
  EXPECT_EQ(r.request->code_challenge, kChallenge);
}

TEST_F(AuthorizeRequestTest, PlainShapedChallengeWithoutMethodIsInvalidRequest) {
  // Taken as S256, a challenge must be 43 base64url characters: a plain verifier sent as the
  // challenge (which a client meaning RFC 7636's default would send) is malformed.
  expect_redirect_error(parse({{"response_type", "code"},
                               {"client_id", app_.client_id},
                               {"redirect_uri", kCallback},
                               {"code_challenge", std::string(64, 'a')}}),
                        "invalid_request");
}

TEST_F(AuthorizeRequestTest, MalformedChallengeIsInvalidRequest) {
  expect_redirect_error(parse({{"response_type", "code"},
                               {"client_id", app_.client_id},
                               {"redirect_uri", kCallback},
                               {"code_challenge", "too-short"},
                               {"code_challenge_method", "S256"}}),
                        "invalid_request");
}

TEST_F(AuthorizeRequestTest, S256ChallengeIsKept) {
  auto r = parse({{"response_type", "code"},
                  {"client_id", app_.client_id},
                  {"redirect_uri", kCallback},
                  {"code_challenge", kChallenge},
                  {"code_challenge_method", "S256"}});
  ASSERT_TRUE(r.request.has_value());
  EXPECT_EQ(r.request->code_challenge, kChallenge);
}

TEST_F(AuthorizeRequestTest, PkceRequiredAppWithoutChallengeIsInvalidRequest) {
  // docs/behaviour.md §5.2: --pkce required refuses an authorize request without a challenge.
  auto strict = world_.add_app([](store::App& a) { a.pkce_required = true; });
  auto r = parse({{"response_type", "code"},
                  {"client_id", strict.client_id},
                  {"redirect_uri", kCallback},
                  {"state", "s"}});
  expect_redirect_error(r, "invalid_request");
  EXPECT_EQ(r.error->state, "s");

  auto with = parse({{"response_type", "code"},
                     {"client_id", strict.client_id},
                     {"redirect_uri", kCallback},
                     {"code_challenge", kChallenge},
                     {"code_challenge_method", "S256"}});
  EXPECT_TRUE(with.request.has_value());
}

TEST_F(AuthorizeRequestTest, PublicClientWithoutChallengeIsInvalidRequest) {
  // docs/behaviour.md §5.3: with require-secret-web-server off the client is public and PKCE
  // mandatory.
  auto pub = world_.add_app([](store::App& a) { a.require_secret_web_server = false; });
  expect_redirect_error(
      parse({{"response_type", "code"}, {"client_id", pub.client_id}, {"redirect_uri", kCallback}}),
      "invalid_request");
}

TEST_F(AuthorizeRequestTest, PromptNoneCombinedWithLoginIsInvalidRequest) {
  // OIDC Core §3.1.2.1: prompt=none with any other value is an error.
  expect_redirect_error(parse({{"response_type", "code"},
                               {"client_id", app_.client_id},
                               {"redirect_uri", kCallback},
                               {"prompt", "none login"}}),
                        "invalid_request");
}

TEST_F(AuthorizeRequestTest, PromptValuesAreParsed) {
  auto r = parse({{"response_type", "code"},
                  {"client_id", app_.client_id},
                  {"redirect_uri", kCallback},
                  {"prompt", "login consent"}});
  ASSERT_TRUE(r.request.has_value());
  EXPECT_TRUE(r.request->prompt_has("login"));
  EXPECT_TRUE(r.request->prompt_has("consent"));
  EXPECT_FALSE(r.request->prompt_has("none"));
}

TEST_F(AuthorizeRequestTest, IdTokenWithoutNonceIsInvalidRequest) {
  // OIDC Core §3.2.2.1: nonce is REQUIRED when the ID token comes from the authorize endpoint.
  auto implicit = world_.add_app([](store::App& a) { a.allow_implicit = true; });
  auto r = parse({{"response_type", "id_token"},
                  {"client_id", implicit.client_id},
                  {"redirect_uri", kCallback},
                  {"scope", "openid"}});
  expect_redirect_error(r, "invalid_request");
  EXPECT_TRUE(r.error->fragment);

  auto with_nonce = parse({{"response_type", "id_token"},
                           {"client_id", implicit.client_id},
                           {"redirect_uri", kCallback},
                           {"scope", "openid"},
                           {"nonce", "n-0S6_WzA2Mj"}});
  ASSERT_TRUE(with_nonce.request.has_value()) << with_nonce.error->error.description();
  EXPECT_EQ(with_nonce.request->nonce, "n-0S6_WzA2Mj");
}

TEST_F(AuthorizeRequestTest, IdTokenWithoutOpenidScopeIsInvalidRequest) {
  auto implicit = world_.add_app([](store::App& a) { a.allow_implicit = true; });
  expect_redirect_error(parse({{"response_type", "id_token"},
                               {"client_id", implicit.client_id},
                               {"redirect_uri", kCallback},
                               {"scope", "api"},
                               {"nonce", "n"}}),
                        "invalid_request");
}

// The seven response types of OIDC Core (and OAuth 2.0 Multiple Response Types §3), each
// written in two word orders, for an --allow-implicit app with openid and a nonce.
struct ResponseTypeCase {
  const char* text;
  bool code, token, id_token;
};
constexpr ResponseTypeCase kResponseTypes[] = {
    {"code", true, false, false},
    {"token", false, true, false},
    {"id_token", false, false, true},
    {"id_token token", false, true, true},
    {"token id_token", false, true, true},
    {"code id_token", true, false, true},
    {"id_token code", true, false, true},
    {"code token", true, true, false},
    {"token code", true, true, false},
    {"code id_token token", true, true, true},
    {"token code id_token", true, true, true},
    {"id_token token code", true, true, true},
};

TEST_F(AuthorizeRequestTest, EveryOidcResponseTypeParsesForAnImplicitApp) {
  auto implicit = world_.add_app([](store::App& a) { a.allow_implicit = true; });
  for (const auto& c : kResponseTypes) {
    auto r = parse({{"response_type", c.text},
                    {"client_id", implicit.client_id},
                    {"redirect_uri", kCallback},
                    {"scope", "openid api"},
                    {"nonce", "n-0S6_WzA2Mj"},
                    {"state", "st"}});
    ASSERT_TRUE(r.request.has_value()) << c.text << ": " << r.error->error.description();
    EXPECT_EQ(r.request->wants_code, c.code) << c.text;
    EXPECT_EQ(r.request->wants_token, c.token) << c.text;
    EXPECT_EQ(r.request->wants_id_token, c.id_token) << c.text;
    // Only plain code answers in the query by default (Multiple Response Types §5).
    EXPECT_EQ(r.request->fragment, c.token || c.id_token) << c.text;
    EXPECT_EQ(r.request->nonce, "n-0S6_WzA2Mj");
  }
}

TEST_F(AuthorizeRequestTest, ResponseTypesWithFrontChannelTokensNeedAllowImplicit) {
  // docs/behaviour.md §5.5: tokens (ID tokens included) in the redirect only for --allow-implicit
  // apps; the error goes to the fragment, where the response would have gone (RFC 6749 §4.2.2.1).
  for (const auto& c : kResponseTypes) {
    auto r = parse({{"response_type", c.text},
                    {"client_id", app_.client_id},
                    {"redirect_uri", kCallback},
                    {"scope", "openid api"},
                    {"nonce", "n"},
                    {"state", "st"}});
    if (!c.token && !c.id_token) {
      EXPECT_TRUE(r.request.has_value()) << c.text;
      continue;
    }
    expect_redirect_error(r, "unsupported_response_type");
    EXPECT_TRUE(r.error->fragment) << c.text;
    EXPECT_EQ(r.error->state, "st");
  }
}

TEST_F(AuthorizeRequestTest, ResponseTypesWithIdTokenNeedOpenidAndNonce) {
  // OIDC Core §3.2.2.1 and §3.3.2.11: nonce REQUIRED whenever the authorize endpoint returns
  // an ID token; an ID token needs the openid scope.
  auto implicit = world_.add_app([](store::App& a) { a.allow_implicit = true; });
  for (const auto& c : kResponseTypes) {
    if (!c.id_token) continue;
    auto no_nonce = parse({{"response_type", c.text},
                           {"client_id", implicit.client_id},
                           {"redirect_uri", kCallback},
                           {"scope", "openid api"}});
    expect_redirect_error(no_nonce, "invalid_request");
    EXPECT_TRUE(no_nonce.error->fragment) << c.text;
    auto no_openid = parse({{"response_type", c.text},
                            {"client_id", implicit.client_id},
                            {"redirect_uri", kCallback},
                            {"scope", "api"},
                            {"nonce", "n"}});
    expect_redirect_error(no_openid, "invalid_request");
  }
  // Without id_token neither is needed.
  for (const char* t : {"code", "token", "code token"}) {
    auto r = parse({{"response_type", t},
                    {"client_id", implicit.client_id},
                    {"redirect_uri", kCallback},
                    {"scope", "api"}});
    EXPECT_TRUE(r.request.has_value()) << t;
  }
}

TEST_F(AuthorizeRequestTest, UnregisteredResponseTypesAreUnsupported) {
  auto implicit = world_.add_app([](store::App& a) { a.allow_implicit = true; });
  for (const char* t : {"none", "code none", "code code", "id_token id_token", "code id_token x",
                        "Code", "code,token", " "}) {
    auto r = parse({{"response_type", t},
                    {"client_id", implicit.client_id},
                    {"redirect_uri", kCallback},
                    {"scope", "openid"},
                    {"nonce", "n"}});
    expect_redirect_error(r, "unsupported_response_type");
  }
  // An unusable type that names a front-channel credential answers in the fragment.
  auto r = parse({{"response_type", "token bogus"},
                  {"client_id", implicit.client_id},
                  {"redirect_uri", kCallback}});
  expect_redirect_error(r, "unsupported_response_type");
  EXPECT_TRUE(r.error->fragment);
  auto q = parse({{"response_type", "code bogus"},
                  {"client_id", implicit.client_id},
                  {"redirect_uri", kCallback}});
  expect_redirect_error(q, "unsupported_response_type");
  EXPECT_FALSE(q.error->fragment);
}

TEST_F(AuthorizeRequestTest, HybridCodeNeedsPkceWhereTheAppRequiresIt) {
  // docs/behaviour.md §5.2/§5.3: the code of a hybrid response is a code like any other.
  auto strict = world_.add_app([](store::App& a) {
    a.allow_implicit = true;
    a.pkce_required = true;
  });
  for (const char* t : {"code id_token", "code token", "code id_token token"}) {
    std::vector<std::pair<std::string, std::string>> p = {{"response_type", t},
                                                          {"client_id", strict.client_id},
                                                          {"redirect_uri", kCallback},
                                                          {"scope", "openid"},
                                                          {"nonce", "n"}};
    expect_redirect_error(parse(p), "invalid_request");
    p.emplace_back("code_challenge", kChallenge);
    p.emplace_back("code_challenge_method", "S256");
    auto ok = parse(p);
    ASSERT_TRUE(ok.request.has_value()) << t;
    EXPECT_EQ(ok.request->code_challenge, kChallenge);
  }
  // Without a code there is nothing to bind a challenge to.
  EXPECT_TRUE(parse({{"response_type", "id_token token"},
                     {"client_id", strict.client_id},
                     {"redirect_uri", kCallback},
                     {"scope", "openid"},
                     {"nonce", "n"}})
                  .request.has_value());
}

TEST_F(AuthorizeRequestTest, ResponseModeIsHonouredAndNeverPutsTokensInTheQuery) {
  auto implicit = world_.add_app([](store::App& a) { a.allow_implicit = true; });
  auto with_mode = [&](const char* type, const char* mode) {
    return parse({{"response_type", type},
                  {"client_id", implicit.client_id},
                  {"redirect_uri", kCallback},
                  {"scope", "openid"},
                  {"nonce", "n"},
                  {"state", "st"},
                  {"response_mode", mode}});
  };
  auto code_fragment = with_mode("code", "fragment");
  ASSERT_TRUE(code_fragment.request.has_value());
  EXPECT_TRUE(code_fragment.request->fragment);
  auto code_query = with_mode("code", "query");
  ASSERT_TRUE(code_query.request.has_value());
  EXPECT_FALSE(code_query.request->fragment);
  auto code_empty = with_mode("code", "");  // OIDC Core §3.1.2.1: empty means omitted
  ASSERT_TRUE(code_empty.request.has_value());
  EXPECT_FALSE(code_empty.request->fragment);
  for (const auto& c : kResponseTypes) {
    if (!c.token && !c.id_token) continue;
    auto q = with_mode(c.text, "query");
    expect_redirect_error(q, "invalid_request");
    EXPECT_TRUE(q.error->fragment) << c.text;  // the error itself never in the query either
    EXPECT_EQ(q.error->state, "st");
    auto f = with_mode(c.text, "fragment");
    ASSERT_TRUE(f.request.has_value()) << c.text;
    EXPECT_TRUE(f.request->fragment);
  }
  for (const char* bad : {"form_post", "jwt", "Query"}) {
    auto r = with_mode("code", bad);
    expect_redirect_error(r, "invalid_request");
    EXPECT_FALSE(r.error->fragment) << bad;
  }
}

TEST_F(AuthorizeRequestTest, NoScopeParameterGrantsAppScopes) {
  auto r = parse({{"response_type", "code"}, {"client_id", app_.client_id}});
  ASSERT_TRUE(r.request.has_value());
  EXPECT_EQ(r.request->scopes, app_.scopes);
}

// OIDC Core §3.1.2.1: acr_values is a voluntary request; values we do not support must not
// fail the authorization request.
TEST_F(AuthorizeRequestTest, AcrValuesAreAcceptedEvenWhenUnsupported) {
  for (const char* acr : {"urn:latchkey:acr:password", "urn:example:mfa", "phr urn:x:y 0", ""}) {
    auto r = parse({{"response_type", "code"},
                    {"client_id", app_.client_id},
                    {"redirect_uri", kCallback},
                    {"scope", "api openid"},
                    {"acr_values", acr}});
    ASSERT_TRUE(r.request.has_value()) << acr << ": " << r.error->error.description();
  }
}

TEST_F(AuthorizeRequestTest, MaxAgeIsParsedAndMalformedOnesAreInvalidRequest) {
  // OIDC Core §3.1.2.1: max_age is a non-negative number of seconds.
  auto ok = parse({{"response_type", "code"}, {"client_id", app_.client_id}, {"max_age", "300"}});
  ASSERT_TRUE(ok.request.has_value());
  EXPECT_EQ(ok.request->max_age_s, 300);
  auto none = parse({{"response_type", "code"}, {"client_id", app_.client_id}});
  EXPECT_EQ(none.request->max_age_s, -1);
  for (const char* bad : {"-1", "abc", "1e3", ""}) {
    expect_redirect_error(
        parse({{"response_type", "code"}, {"client_id", app_.client_id}, {"max_age", bad}}),
        "invalid_request");
  }
}

}  // namespace
}  // namespace latchkey::oauth
