// RFC 8705 §5 mtls_endpoint_aliases must name an address clients can reach: a wildcard bind
// address (--tls-listen 0.0.0.0:8443) is none, so the issuer's host is used with the TLS port,
// and --tls-issuer overrides both.
#include "config/mtls_base_url.h"

#include <gtest/gtest.h>

namespace latchkey::config {
namespace {

TEST(MtlsBaseUrl, SpecificBindHostIsUsedAsIs) {
  EXPECT_EQ(mtls_base_url("http://127.0.0.1:8080", "127.0.0.1", 8443), "https://127.0.0.1:8443");
  EXPECT_EQ(mtls_base_url("https://login.example.com", "10.0.0.5", 8443), "https://10.0.0.5:8443");
  EXPECT_EQ(mtls_base_url("http://[::1]:8080", "::1", 8443), "https://[::1]:8443");
}

TEST(MtlsBaseUrl, WildcardBindHostTakesTheIssuersHostWithTheTlsPort) {
  EXPECT_EQ(mtls_base_url("https://login.example.com", "0.0.0.0", 8443),
            "https://login.example.com:8443");
  EXPECT_EQ(mtls_base_url("http://login.example.com:8080/", "0.0.0.0", 8443),
            "https://login.example.com:8443");
  EXPECT_EQ(mtls_base_url("https://login.example.com/tenant/a", "::", 9443),
            "https://login.example.com:9443");
  EXPECT_EQ(mtls_base_url("http://[2001:db8::1]:8080", "::", 8443), "https://[2001:db8::1]:8443");
  EXPECT_EQ(mtls_base_url("http://user@auth.test:8080", "", 8443), "https://auth.test:8443");
}

TEST(MtlsBaseUrl, TlsIssuerOverridesEverything) {
  EXPECT_EQ(mtls_base_url("http://127.0.0.1:8080", "0.0.0.0", 8443, "https://mtls.example.com/"),
            "https://mtls.example.com");
  EXPECT_EQ(
      mtls_base_url("http://127.0.0.1:8080", "127.0.0.1", 8443, "https://mtls.example.com:443"),
      "https://mtls.example.com:443");
}

TEST(MtlsBaseUrl, UrlHostDropsSchemeUserinfoPortAndPath) {
  EXPECT_EQ(url_host("https://a.example:8443/x?y#z"), "a.example");
  EXPECT_EQ(url_host("https://u:p@a.example"), "a.example");
  EXPECT_EQ(url_host("http://[::1]:80/"), "[::1]");
  EXPECT_EQ(url_host("no scheme"), "");
}

}  // namespace
}  // namespace latchkey::config
