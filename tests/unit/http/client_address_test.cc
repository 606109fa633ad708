// The client address the login throttle counts (serve --trusted-proxy): the peer, unless the
// peer is a trusted proxy; then Forwarded: for= (RFC 7239) or X-Forwarded-For, read from the
// right, skipping trusted proxies.
#include "http/client_address.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace latchkey::http {
namespace {

std::vector<Cidr> cidrs(std::initializer_list<const char*> texts) {
  std::vector<Cidr> out;
  for (const char* t : texts) {
    auto c = Cidr::parse(t);
    EXPECT_TRUE(c.has_value()) << t;
    if (c) out.push_back(*c);
  }
  return out;
}

Request from(std::string peer, std::vector<std::pair<std::string, std::string>> headers = {}) {
  Request r;
  r.method = "POST";
  r.remote_addr = std::move(peer);
  r.headers = std::move(headers);
  return r;
}

TEST(Cidr, ParsesNetworksAndSingleAddresses) {
  auto net = Cidr::parse("10.1.2.3/8");
  ASSERT_TRUE(net);
  EXPECT_TRUE(net->contains("10.200.0.1"));
  EXPECT_FALSE(net->contains("11.0.0.1"));
  EXPECT_TRUE(net->contains("::ffff:10.0.0.1"));  // IPv4-mapped is the IPv4 address
  auto one = Cidr::parse("127.0.0.1");
  ASSERT_TRUE(one);
  EXPECT_TRUE(one->contains("127.0.0.1"));
  EXPECT_FALSE(one->contains("127.0.0.2"));
  auto v6 = Cidr::parse("2001:db8::/32");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->contains("2001:db8:ffff::1"));
  EXPECT_FALSE(v6->contains("2001:db9::1"));
  EXPECT_FALSE(v6->contains("10.0.0.1"));
  auto odd = Cidr::parse("2001:db8::/33");
  ASSERT_TRUE(odd);
  EXPECT_TRUE(odd->contains("2001:db8:7fff::1"));
  EXPECT_FALSE(odd->contains("2001:db8:8000::1"));
  auto all = Cidr::parse("0.0.0.0/0");
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->contains("203.0.113.9"));
  EXPECT_FALSE(all->contains("::1"));
  EXPECT_FALSE(all->contains("not an address"));
}

TEST(Cidr, RefusesGarbage) {
  for (const char* bad : {"", "abc", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.1/8x",
                          "10.0.0.1/-1", "10.0.0/8", "fe80::1%eth0/64", "/8", "10.0.0.1 /8"}) {
    EXPECT_FALSE(Cidr::parse(bad).has_value()) << bad;
  }
}

TEST(ClientAddress, ParsesTheFormsProxiesWrite) {
  EXPECT_EQ(parse_address("192.0.2.1"), "192.0.2.1");
  EXPECT_EQ(parse_address(" 192.0.2.1:8080 "), "192.0.2.1");
  EXPECT_EQ(parse_address("[2001:db8::1]:443"), "2001:db8::1");
  EXPECT_EQ(parse_address("[2001:DB8::1]"), "2001:db8::1");
  EXPECT_EQ(parse_address("2001:db8::1"), "2001:db8::1");
  EXPECT_EQ(parse_address("::ffff:192.0.2.7"), "192.0.2.7");
  for (const char* bad :
       {"", "unknown", "_hidden", "[2001:db8::1", "[192.0.2.1]", "192.0.2.1:99999",
        "192.0.2.1:", "[::1]x", "fe80::1%eth0", "example.com", "1.2.3.4.5"}) {
    EXPECT_FALSE(parse_address(bad).has_value()) << bad;
  }
}

TEST(ClientAddress, HeadersFromAnUntrustedPeerAreIgnored) {
  const auto spoofed =
      from("203.0.113.9", {{"x-forwarded-for", "198.51.100.1"}, {"forwarded", "for=198.51.100.2"}});
  EXPECT_EQ(client_address(spoofed, {}), "203.0.113.9");
  EXPECT_EQ(client_address(spoofed, cidrs({"10.0.0.0/8", "::1"})), "203.0.113.9");
}

TEST(ClientAddress, ATrustedPeerReportsTheRightmostUntrustedXForwardedForEntry) {
  const auto trusted = cidrs({"10.0.0.0/8"});
  // What the client wrote itself (1.2.3.4) is left of what the proxies appended.
  auto r = from("10.0.0.1", {{"x-forwarded-for", "1.2.3.4, 198.51.100.7, 10.0.0.2"}});
  EXPECT_EQ(client_address(r, trusted), "198.51.100.7");
  // Several fields are one list, in order.
  auto split =
      from("10.0.0.1", {{"x-forwarded-for", "1.2.3.4"}, {"x-forwarded-for", "198.51.100.8"}});
  EXPECT_EQ(client_address(split, trusted), "198.51.100.8");
  // Without any header the peer itself is the client.
  EXPECT_EQ(client_address(from("10.0.0.1"), trusted), "10.0.0.1");
  // Every hop a trusted proxy: the leftmost is as far as it goes.
  EXPECT_EQ(client_address(from("10.0.0.1", {{"x-forwarded-for", "10.9.9.9, 10.0.0.2"}}), trusted),
            "10.9.9.9");
}

TEST(ClientAddress, ForwardedIsPreferredAndParsedAsRfc7239) {
  const auto trusted = cidrs({"127.0.0.1", "::1"});
  auto r = from("127.0.0.1",
                {{"x-forwarded-for", "198.51.100.1"},
                 {"forwarded",
                  R"(for=192.0.2.60;proto=http;by=203.0.113.43, For="[2001:db8:cafe::17]:4711")"}});
  EXPECT_EQ(client_address(r, trusted), "2001:db8:cafe::17");
  auto quoted = from("::1", {{"forwarded", R"(for="192.0.2.43:47011";proto=https)"}});
  EXPECT_EQ(client_address(quoted, trusted), "192.0.2.43");
  auto mapped_peer = from("::ffff:127.0.0.1", {{"forwarded", "for=192.0.2.44"}});
  EXPECT_EQ(client_address(mapped_peer, trusted), "192.0.2.44");
  auto skip = from("127.0.0.1", {{"forwarded", "for=192.0.2.45, for=127.0.0.1"}});
  EXPECT_EQ(client_address(skip, trusted), "192.0.2.45");
}

TEST(ClientAddress, GarbageFromATrustedPeerCountsAgainstThePeer) {
  const auto trusted = cidrs({"10.0.0.0/8"});
  for (const char* xff :
       {"not-an-ip", "198.51.100.1, ", "198.51.100.1,,", "[::1", "198.51.100.1, example.com"}) {
    EXPECT_EQ(client_address(from("10.0.0.1", {{"x-forwarded-for", xff}}), trusted), "10.0.0.1")
        << xff;
  }
  const std::string long_entry(5000, '9');
  EXPECT_EQ(client_address(from("10.0.0.1", {{"x-forwarded-for", long_entry}}), trusted),
            "10.0.0.1");
  for (const char* fwd : {"for=unknown", "for=_hidden", "proto=https", "for=", "for=\"",
                          "for=198.51.100.1, by=10.0.0.1", "=,=;;,"}) {
    EXPECT_EQ(client_address(from("10.0.0.1", {{"forwarded", fwd}}), trusted), "10.0.0.1") << fwd;
  }
}

}  // namespace
}  // namespace latchkey::http
