#include "core/ids.h"

#include <gtest/gtest.h>

#include <set>

namespace latchkey {
namespace {

// Deterministic source that cycles through every byte value, so rejection sampling is hit.
class CountingRandom final : public Random {
 public:
  std::string bytes(std::size_t n) override {
    std::string out(n, '\0');
    for (auto& c : out) c = static_cast<char>(next_++);
    return out;
  }

 private:
  unsigned char next_ = 0;
};

TEST(Ids, OrgAndUserIdsAreEighteenCharsWithPrefix) {
  CountingRandom r;
  std::string org = make_id(r, "00D");
  EXPECT_EQ(org.size(), 18u);
  EXPECT_EQ(org.substr(0, 3), "00D");
  for (char c : org) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << org;
}

TEST(Ids, Base62NeverUsesBytesAboveRejectionBound) {
  CountingRandom r;
  // 248..255 must be skipped: 300 chars need more than 300 bytes from the source.
  std::string s = random_base62(r, 300);
  EXPECT_EQ(s.size(), 300u);
  std::set<char> distinct(s.begin(), s.end());
  EXPECT_EQ(distinct.size(), 62u);
}

TEST(Ids, ClientIdLooksLikeConsumerKey) {
  CountingRandom r;
  std::string id = make_client_id(r);
  EXPECT_EQ(id.rfind("3MVG9", 0), 0u);
  EXPECT_EQ(id.size(), 85u);
}

}  // namespace
}  // namespace latchkey
