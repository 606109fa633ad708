// http::address_key: what one client address is, for the per-address connection cap and the
// failed-login throttle alike.
#include "http/address.h"

#include <gtest/gtest.h>

namespace latchkey::http {
namespace {

TEST(AddressKey, IsTheIpv4AddressOrTheIpv6Slash64) {
  EXPECT_EQ(address_key("192.0.2.7"), "192.0.2.7");
  // A dual-stack listener reports IPv4 clients mapped into IPv6.
  EXPECT_EQ(address_key("::ffff:192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(address_key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
  EXPECT_EQ(address_key("2001:db8:1:2:ffff:ffff:ffff:ffff"), "2001:db8:1:2::/64");
  EXPECT_NE(address_key("2001:db8:1:3::1"), "2001:db8:1:2::/64");
  EXPECT_EQ(address_key(boost::asio::ip::make_address("2001:db8:1:2::9")), "2001:db8:1:2::/64");
  EXPECT_EQ(address_key("not an address"), "not an address");
}

}  // namespace
}  // namespace latchkey::http
