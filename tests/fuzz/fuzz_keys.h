// Fixed public keys for the fuzz targets: RSA 2048 (RS256) and P-256 (ES256), made with openssl
// genpkey for fuzzing only. Their private halves are seeds of corpus/fuzz_pem/ (rsa, ec) and
// signed the valid JWTs of corpus/fuzz_jwt/ and corpus/fuzz_http_parse/.
#pragma once

namespace latchkey::fuzz {

inline constexpr const char* kRsaPublicPem = R"(-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAwMD+XxkM41cE6D7+15Nj
Sazb1w/r+Fr4RTNnEb/yFHqQ7F2vOgcs2Xy8YD1ShLsSa0SrBsx4MUBcDNxcrsvL
Gl+j4UTPeGKueGtPURcmF+c14v0JjIfDZCPH/JJQ/oWvCFThwlCdxIKsjx9aHZOm
Xg2ASUiIzHUM3c7UwAcgPcXU5gqeLKOObwJ9KLaU1nR82rWqh1nYyvVQCX/3vZBW
QP0106sn/0nUv3f0mybpHiR8IaDRaRO7pCO6YQq1kgjSxJ1zdua3zXMH4nDqctof
fuvf1MTa45v1eVMXQkpdLfOiCt/zLrDHBx2eQpfpKKQ8TYh/e5k87i5mkfyrxWSl
gwIDAQAB
-----END PUBLIC KEY-----
)";

inline constexpr const char* kEcPublicPem = R"(-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEybpN1vjm67pB1YMWeCI90Lc++Z3r
kdaMpYPIauB9tudWWqYaIil3vfjrbfXlN+45U/IqseiIe2kE50rXUDPYcQ==
-----END PUBLIC KEY-----
)";

// Self-signed certificate for the RSA key above (CN=fuzz-rsa), as an app's --cert would hold it.
inline constexpr const char* kRsaCertPem = R"(-----BEGIN CERTIFICATE-----
MIIDCTCCAfGgAwIBAgIUK1XHVeJCiMCAFXVYrM0s2rPJ/EwwDQYJKoZIhvcNAQEL
BQAwEzERMA8GA1UEAwwIZnV6ei1yc2EwIBcNMjYxMTIyMDExNzA4WhgPMjEyNjEw
MjkwMTE3MDhaMBMxETAPBgNVBAMMCGZ1enotcnNhMIIBIjANBgkqhkiG9w0BAQEF
AAOCAQ8AMIIBCgKCAQEAwMD+XxkM41cE6D7+15NjSazb1w/r+Fr4RTNnEb/yFHqQ
7F2vOgcs2Xy8YD1ShLsSa0SrBsx4MUBcDNxcrsvLGl+j4UTPeGKueGtPURcmF+c1
4v0JjIfDZCPH/JJQ/oWvCFThwlCdxIKsjx9aHZOmXg2ASUiIzHUM3c7UwAcgPcXU
5gqeLKOObwJ9KLaU1nR82rWqh1nYyvVQCX/3vZBWQP0106sn/0nUv3f0mybpHiR8
IaDRaRO7pCO6YQq1kgjSxJ1zdua3zXMH4nDqctoffuvf1MTa45v1eVMXQkpdLfOi
Ct/zLrDHBx2eQpfpKKQ8TYh/e5k87i5mkfyrxWSlgwIDAQABo1MwUTAdBgNVHQ4E
FgQUTHFUyshkhg0/1LtP/AeAaFaxYwYwHwYDVR0jBBgwFoAUTHFUyshkhg0/1LtP
/AeAaFaxYwYwDwYDVR0TAQH/BAUwAwEB/zANBgkqhkiG9w0BAQsFAAOCAQEALCk9
gdl9xqJ+SlKPwRhnkPtORuYH/libAaMoRuGlQrsI56udgdFkrzTwz9k7coiFuG0P
jRa88h4lbwOOPH7RocmLonii2Ie9840JnQ5Vl+y6b+vqVRfgrGw9KEqfTawXlwGo
oO/nGXsaofpW2eVjIqW2VVfyIfsyyzXkBkFM9tsL1KmwUx5PZshwj5rb4RMNzhth
PwvnvJQP+0TANYon/tTXI8THJWNnsZw8KlJQSsQ9p5UwwzPGMSVPR8ZrSQRHOMov
uVSwWZWk2PSZfuJcOofsRCpPMqo5KlprZDUfwm1VZAcLrNZf2XN+3ZzPRAiTPMUc
VbmYNo86D7nUt20U9Q==
-----END CERTIFICATE-----
)";

}  // namespace latchkey::fuzz
