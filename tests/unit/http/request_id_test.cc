// Request ids (http/request_id.h): which X-Request-Id values are taken as given, and the ids
// made for the others.
#include "http/request_id.h"

#include <gtest/gtest.h>

#include <string>
#include <unordered_set>

namespace latchkey::http {
namespace {

TEST(RequestId, AcceptsOneTo128VisibleAsciiCharacters) {
  EXPECT_TRUE(acceptable_request_id("a"));
  EXPECT_TRUE(acceptable_request_id("f47ac10b-58cc-4372-a567-0e02b2c3d479"));
  EXPECT_TRUE(acceptable_request_id("Root=1-67891233-abcdef012345678912345678;Parent=1"));
  EXPECT_TRUE(acceptable_request_id("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"));
  EXPECT_TRUE(acceptable_request_id(std::string(128, 'x')));
}

TEST(RequestId, RefusesEmptyLongAndAnythingButVisibleAscii) {
  EXPECT_FALSE(acceptable_request_id(""));
  EXPECT_FALSE(acceptable_request_id(std::string(129, 'x')));
  EXPECT_FALSE(acceptable_request_id(std::string(200, 'x')));
  EXPECT_FALSE(acceptable_request_id("two words"));
  EXPECT_FALSE(acceptable_request_id("tab\there"));
  EXPECT_FALSE(acceptable_request_id("line\nstatus=200 path=/forged"));
  EXPECT_FALSE(acceptable_request_id("cr\rlf"));
  EXPECT_FALSE(acceptable_request_id(std::string("nul\0x", 5)));
  EXPECT_FALSE(acceptable_request_id("esc\x1b[31mred"));
  EXPECT_FALSE(acceptable_request_id("del\x7f"));
  EXPECT_FALSE(acceptable_request_id("caf\xc3\xa9"));  // UTF-8 é
}

TEST(RequestId, MadeIdsAre22Base64UrlCharactersAndDistinct) {
  RequestIds ids;
  std::unordered_set<std::string> seen;
  std::string id;
  for (int i = 0; i < 100'000; ++i) {
    ids.next(id);
    ASSERT_EQ(id.size(), 22u) << id;
    ASSERT_EQ(
        id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
        std::string::npos)
        << id;
    ASSERT_TRUE(acceptable_request_id(id)) << id;
    ASSERT_TRUE(seen.insert(id).second) << "repeated: " << id;
  }
}

TEST(RequestId, TwoSourcesMakeDifferentIds) {
  RequestIds a;
  RequestIds b;
  std::string x;
  std::string y;
  a.next(x);
  b.next(y);
  // Their random prefixes (the first ten characters) tell two server processes apart.
  EXPECT_NE(x.substr(0, 10), y.substr(0, 10));
  EXPECT_NE(x, y);
}

TEST(RequestId, SuccessiveIdsDoNotShowACount) {
  RequestIds ids;
  std::string first;
  std::string second;
  ids.next(first);
  ids.next(second);
  EXPECT_EQ(first.substr(0, 10), second.substr(0, 10));
  // The scrambled counter changes about half of the remaining bits, not only the last one.
  int differing = 0;
  for (std::size_t i = 11; i < first.size(); ++i) differing += first[i] != second[i] ? 1 : 0;
  EXPECT_GE(differing, 5) << first << " " << second;
}

}  // namespace
}  // namespace latchkey::http
