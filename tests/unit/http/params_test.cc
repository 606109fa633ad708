#include "http/params.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace latchkey::http {
namespace {

// "Basic " + base64(text), built by hand so the tests do not trust the decoder under test.
std::string basic(std::string_view text) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out = "Basic ";
  // A byte as unsigned, so that shifting it stays unsigned.
  const auto byte = [&](std::size_t k) -> unsigned { return static_cast<unsigned char>(text[k]); };
  std::size_t i = 0;
  for (; i + 2 < text.size(); i += 3) {
    const unsigned v = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (text.size() - i == 1) {
    const unsigned v = byte(i) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (text.size() - i == 2) {
    const unsigned v = byte(i) << 16 | byte(i + 1) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

TEST(Params, DecodesPercentEscapesAndPlus) {
  EXPECT_EQ(form_decode("a+b%20c%41%7e"), "a b cA~");
  EXPECT_EQ(form_decode(""), "");
  EXPECT_EQ(form_decode("%e2%82%AC"), "\xE2\x82\xAC");
}

TEST(Params, KeepsEncodedPlusAsPlus) {
  // A '+' in a secret or a scope must be sent as %2B; a raw '+' means a space.
  EXPECT_EQ(form_decode("a%2Bb+c"), "a+b c");
}

TEST(Params, RefusesMalformedEscapes) {
  EXPECT_FALSE(form_decode("%"));
  EXPECT_FALSE(form_decode("abc%4"));
  EXPECT_FALSE(form_decode("%zz"));
  EXPECT_FALSE(form_decode("%G1"));
  EXPECT_FALSE(form_decode("%%41"));
}

TEST(Params, EncodesAllButUnreserved) {
  EXPECT_EQ(form_encode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(form_encode("a b+c/d:e%f"), "a%20b%2Bc%2Fd%3Ae%25f");
  EXPECT_EQ(form_encode("\xE2\x82\xAC"), "%E2%82%AC");
  const std::string all = [] {
    std::string s;
    for (int c = 0; c < 256; ++c) s += static_cast<char>(c);
    return s;
  }();
  EXPECT_EQ(form_decode(form_encode(all)), all);
}

TEST(Params, ParsesForm) {
  auto params =
      parse_form("grant_type=authorization_code&code=abc%2B1&redirect_uri=https%3A%2F%2Fx");
  ASSERT_TRUE(params.ok());
  EXPECT_EQ(params->value("grant_type"), "authorization_code");
  EXPECT_EQ(params->value("code"), "abc+1");
  EXPECT_EQ(params->value("redirect_uri"), "https://x");
  EXPECT_EQ(params->items().size(), 3u);
  EXPECT_FALSE(params->has("scope"));
  EXPECT_EQ(params->value("scope"), "");
}

TEST(Params, EmptyInputHasNoParameters) {
  auto params = parse_form("");
  ASSERT_TRUE(params.ok());
  EXPECT_TRUE(params->items().empty());
}

TEST(Params, IgnoresEmptyNamesAndKeepsEmptyValues) {
  auto params = parse_form("&&=x&a=&b&c=1&");
  ASSERT_TRUE(params.ok());
  EXPECT_EQ(params->items().size(), 3u);
  ASSERT_TRUE(params->get("a"));
  EXPECT_EQ(*params->get("a"), "");
  ASSERT_TRUE(params->get("b"));
  EXPECT_EQ(*params->get("b"), "");
  EXPECT_EQ(params->value("c"), "1");
}

TEST(Params, ValueMayContainEquals) {
  auto params = parse_form("state=a=b==");
  ASSERT_TRUE(params.ok());
  EXPECT_EQ(params->value("state"), "a=b==");
}

// RFC 6749 §3.1, §3.2: parameters MUST NOT be included more than once.
TEST(Params, RefusesRepeatedParameter) {
  auto params = parse_form("code=a&scope=x&code=b");
  ASSERT_FALSE(params.ok());
  EXPECT_EQ(params.error().code(), "invalid_request");
  EXPECT_EQ(params.error().description(), "parameter code given more than once");
}

TEST(Params, RefusesRepeatedParameterEvenWhenEncodedDifferently) {
  auto params = parse_form("scope=a&%73cope=b");
  ASSERT_FALSE(params.ok());
  EXPECT_EQ(params.error().description(), "parameter scope given more than once");
}

TEST(Params, RefusesMalformedEncoding) {
  for (const char* text : {"a=%zz", "a%=1", "a=1&b=%4"}) {
    auto params = parse_form(text);
    ASSERT_FALSE(params.ok()) << text;
    EXPECT_EQ(params.error().code(), "invalid_request");
    EXPECT_EQ(params.error().description(), "malformed parameter encoding");
  }
}

TEST(Params, RefusesNulByte) {
  EXPECT_FALSE(parse_form("client_id=abc%00def").ok());
  EXPECT_FALSE(parse_form("a%00b=1").ok());
}

TEST(Params, ParsesBasic) {
  auto creds = parse_basic(basic("client:secret"));
  ASSERT_TRUE(creds);
  EXPECT_EQ(creds->id, "client");
  EXPECT_EQ(creds->secret, "secret");
}

// RFC 6749 §2.3.1: id and secret are form-urlencoded, so ':' and '%' arrive escaped.
TEST(Params, ParsesBasicWithUrlencodedColonAndPercent) {
  auto creds = parse_basic(basic(form_encode("my:client") + ":" + form_encode("p%ss:w+rd")));
  ASSERT_TRUE(creds);
  EXPECT_EQ(creds->id, "my:client");
  EXPECT_EQ(creds->secret, "p%ss:w+rd");
}

TEST(Params, BasicSplitsAtFirstColon) {
  auto creds = parse_basic(basic("id:se:cret"));
  ASSERT_TRUE(creds);
  EXPECT_EQ(creds->id, "id");
  EXPECT_EQ(creds->secret, "se:cret");
}

TEST(Params, BasicAllowsEmptySecret) {
  auto creds = parse_basic(basic("id:"));
  ASSERT_TRUE(creds);
  EXPECT_EQ(creds->id, "id");
  EXPECT_EQ(creds->secret, "");
}

TEST(Params, BasicSchemeIsCaseInsensitive) {
  std::string header = basic("a:b");
  header.replace(0, 5, "bAsIc");
  ASSERT_TRUE(parse_basic(header));
  EXPECT_EQ(parse_basic(header)->id, "a");
}

TEST(Params, BasicAcceptsMissingPadding) {
  std::string header = basic("ab:c");  // "YWI6Yw=="
  while (header.back() == '=') header.pop_back();
  auto creds = parse_basic(header);
  ASSERT_TRUE(creds);
  EXPECT_EQ(creds->secret, "c");
}

TEST(Params, RefusesBadBasic) {
  EXPECT_FALSE(parse_basic(""));
  EXPECT_FALSE(parse_basic("Basic"));
  EXPECT_FALSE(parse_basic("Basic "));
  EXPECT_FALSE(parse_basic("Basic !!!!"));       // not base64
  EXPECT_FALSE(parse_basic("Basic YW=I6Yw"));    // '=' inside
  EXPECT_FALSE(parse_basic("Basic YWI6Y"));      // impossible length
  EXPECT_FALSE(parse_basic("Basic YWI6Yx=="));   // non-zero trailing bits
  EXPECT_FALSE(parse_basic("Bearer YWI6Yw=="));  // other scheme
  EXPECT_FALSE(parse_basic("BasicYWI6Yw=="));    // no separator
  EXPECT_FALSE(parse_basic(basic("no-colon")));
  EXPECT_FALSE(parse_basic(basic(":secret")));       // empty id
  EXPECT_FALSE(parse_basic(basic("id%zz:secret")));  // malformed escape
  EXPECT_FALSE(parse_basic(basic("id:sec%00ret")));  // NUL
}

TEST(Params, ParsesBearerAndOAuth) {
  EXPECT_EQ(parse_bearer("Bearer abc.def-_~+/="), "abc.def-_~+/=");
  EXPECT_EQ(parse_bearer("bearer abc"), "abc");
  EXPECT_EQ(parse_bearer("OAuth 00Dx!AQ4AQ"), "00Dx!AQ4AQ");
  EXPECT_EQ(parse_bearer("oauth abc"), "abc");
  EXPECT_EQ(parse_bearer("Bearer   abc  "), "abc");
}

TEST(Params, RefusesOtherSchemesAndEmptyTokens) {
  EXPECT_FALSE(parse_bearer(""));
  EXPECT_FALSE(parse_bearer("Bearer"));
  EXPECT_FALSE(parse_bearer("Bearer "));
  EXPECT_FALSE(parse_bearer("Basic YWI6Yw=="));
  EXPECT_FALSE(parse_bearer("Bearerabc"));
  EXPECT_FALSE(parse_bearer("Bearer a b"));
  EXPECT_FALSE(parse_bearer("Token abc"));
}

TEST(Params, ReadsCookieValue) {
  const std::string header = "theme=dark; lk_session=abc123;other=\"quoted\" ;  empty=";
  EXPECT_EQ(cookie_value(header, "lk_session"), "abc123");
  EXPECT_EQ(cookie_value(header, "theme"), "dark");
  EXPECT_EQ(cookie_value(header, "other"), "quoted");
  EXPECT_EQ(cookie_value(header, "empty"), "");
  EXPECT_FALSE(cookie_value(header, "missing"));
  EXPECT_FALSE(cookie_value(header, "LK_SESSION"));
  EXPECT_FALSE(cookie_value("", "a"));
  EXPECT_EQ(cookie_value("a=1; a=2", "a"), "1");
}

TEST(Params, CookieValuesListsEveryOccurrenceOfAName) {
  // A browser sends one name twice when cookies of that name were set for several paths or
  // domains; the caller must see both to refuse them.
  EXPECT_EQ(cookie_values("a=1; b=x; a=\"2\";a=", "a"), (std::vector<std::string>{"1", "2", ""}));
  EXPECT_TRUE(cookie_values("b=1; ab=2; a", "a").empty());
  EXPECT_TRUE(cookie_values("", "a").empty());
}

}  // namespace
}  // namespace latchkey::http
