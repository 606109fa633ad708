// SAML core §1.3.3 time values.
#include "saml/saml_time.h"

#include <gtest/gtest.h>

namespace latchkey::saml::detail {
namespace {

TEST(SamlTime, ParsesUtcWithAndWithoutFraction) {
  EXPECT_EQ(parse_saml_time("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_saml_time("2023-11-14T22:13:20Z"), 1'700'000'000);
  EXPECT_EQ(parse_saml_time("2023-11-14T22:13:20.999Z"), 1'700'000'000);
  EXPECT_EQ(parse_saml_time("2024-02-29T00:00:00Z"), 1'709'164'800);
}

TEST(SamlTime, AppliesExplicitOffsets) {
  EXPECT_EQ(parse_saml_time("2023-11-14T22:13:20+00:00"), 1'700'000'000);
  EXPECT_EQ(parse_saml_time("2023-11-15T00:13:20+02:00"), 1'700'000'000);
  EXPECT_EQ(parse_saml_time("2023-11-14T21:13:20-01:00"), 1'700'000'000);
}

TEST(SamlTime, RefusesMalformedValues) {
  for (const char* bad :
       {"", "2023-11-14T22:13:20", "2023-11-14 22:13:20Z", "2023-02-29T00:00:00Z",
        "2023-13-01T00:00:00Z", "2023-11-14T24:00:00Z", "2023-11-14T22:13:60Z",
        "2023-11-14T22:13:20.Z", "2023-11-14T22:13:20Zjunk", "2023-11-14T22:13:20+0200",
        "+2023-11-14T22:13:20Z", "1969-12-31T23:59:59Z"}) {
    EXPECT_EQ(parse_saml_time(bad), std::nullopt) << bad;
  }
}

}  // namespace
}  // namespace latchkey::saml::detail
