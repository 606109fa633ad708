#include "oauth/authorize/response_type.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace latchkey::oauth {
namespace {

std::string join(const std::vector<std::string>& words, const std::string& sep) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : sep) + w;
  return out;
}

// RFC 6749 §3.1.1: the order of the space-delimited values does not matter. Every non-empty
// subset of {code, token, id_token}, in every order, parses to exactly its words.
TEST(ResponseType, EveryCombinationInEveryOrderParses) {
  const std::vector<std::string> all = {"code", "id_token", "token"};
  int checked = 0;
  for (unsigned mask = 1; mask < 8; ++mask) {
    std::vector<std::string> words;
    for (unsigned i = 0; i < 3; ++i) {
      if (mask & (1u << i)) words.push_back(all[i]);
    }
    std::sort(words.begin(), words.end());
    do {
      for (const std::string sep : {" ", "  "}) {
        std::string text = join(words, sep);
        auto t = parse_response_type(text);
        ASSERT_TRUE(t.has_value()) << text;
        EXPECT_EQ(t->code, (mask & 1u) != 0) << text;
        EXPECT_EQ(t->id_token, (mask & 2u) != 0) << text;
        EXPECT_EQ(t->token, (mask & 4u) != 0) << text;
        // Multiple Response Types §5, OIDC Core §3.3.2.5: only plain code answers in the query.
        EXPECT_EQ(t->fragment_by_default(), mask != 1u) << text;
        ++checked;
      }
    } while (std::next_permutation(words.begin(), words.end()));
  }
  EXPECT_EQ(checked, 2 * (3 + 3 * 2 + 6));  // 15 orderings, two separators each
}

TEST(ResponseType, UnknownRepeatedOrEmptyIsRefused) {
  for (const char* bad : {"", " ", "none", "code none", "Code", "CODE", "id-token", "idtoken",
                          "code code", "token id_token token", "code,token", "code+token",
                          "code\ttoken", "device_code", "code id_token tokens"}) {
    EXPECT_FALSE(parse_response_type(bad).has_value()) << '"' << bad << '"';
  }
}

TEST(ResponseType, MentionsFrontChannelForErrorPlacement) {
  EXPECT_TRUE(mentions_front_channel("token bogus"));
  EXPECT_TRUE(mentions_front_channel("code code id_token"));
  EXPECT_FALSE(mentions_front_channel("code bogus"));
  EXPECT_FALSE(mentions_front_channel("tokens"));
}

TEST(ResponseMode, DefaultsToQueryOnlyForPlainCode) {
  ResponseType code{true, false, false};
  EXPECT_EQ(choose_response_mode(code, ""), ResponseMode::query);
  for (ResponseType t : {ResponseType{false, true, false}, ResponseType{false, false, true},
                         ResponseType{true, true, false}, ResponseType{true, false, true},
                         ResponseType{false, true, true}, ResponseType{true, true, true}}) {
    EXPECT_EQ(choose_response_mode(t, ""), ResponseMode::fragment);
  }
}

TEST(ResponseMode, PlainCodeMayAskForEitherMode) {
  ResponseType code{true, false, false};
  EXPECT_EQ(choose_response_mode(code, "query"), ResponseMode::query);
  EXPECT_EQ(choose_response_mode(code, "fragment"), ResponseMode::fragment);
}

// Multiple Response Types §3.0: `query` must not carry tokens; ID tokens neither.
TEST(ResponseMode, QueryIsRefusedWhenTheResponseCarriesATokenOrIdToken) {
  for (ResponseType t : {ResponseType{false, true, false}, ResponseType{false, false, true},
                         ResponseType{true, true, false}, ResponseType{true, false, true},
                         ResponseType{false, true, true}, ResponseType{true, true, true}}) {
    EXPECT_FALSE(choose_response_mode(t, "query").has_value());
    EXPECT_EQ(choose_response_mode(t, "fragment"), ResponseMode::fragment);
  }
}

TEST(ResponseMode, UnsupportedModesAreRefused) {
  ResponseType code{true, false, false};
  for (const char* bad : {"form_post", "jwt", "query.jwt", "Query", "FRAGMENT", "web_message"}) {
    EXPECT_FALSE(choose_response_mode(code, bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace latchkey::oauth
