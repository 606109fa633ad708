#include "config/mtls_base_url.h"

namespace latchkey::config {
namespace {

bool is_wildcard(std::string_view host) {
  return host.empty() || host == "0.0.0.0" || host == "::" || host == "[::]";
}

// A host for a URL: IPv6 literals go in brackets (RFC 3986 §3.2.2).
std::string bracketed(std::string_view host) {
  std::string out;
  const bool ipv6 = host.find(':') != std::string_view::npos && !host.starts_with('[');
  if (ipv6) out.push_back('[');
  out.append(host);
  if (ipv6) out.push_back(']');
  return out;
}

}  // namespace

std::string url_host(std::string_view url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return {};
  std::string_view authority = url.substr(scheme_end + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    authority = authority.substr(at + 1);
  }
  if (authority.starts_with('[')) {
    auto close = authority.find(']');
    return close == std::string_view::npos ? std::string()
                                           : std::string(authority.substr(0, close + 1));
  }
  return std::string(authority.substr(0, authority.find(':')));
}

std::string mtls_base_url(std::string_view issuer, std::string_view tls_host,
                          unsigned short tls_port, std::string_view tls_issuer) {
  if (!tls_issuer.empty()) {
    while (tls_issuer.size() > 1 && tls_issuer.back() == '/') tls_issuer.remove_suffix(1);
    return std::string(tls_issuer);
  }
  std::string host = bracketed(tls_host);
  if (is_wildcard(tls_host)) {
    // Bound to every address: the issuer names the host that clients already use.
    std::string from_issuer = url_host(issuer);
    host = from_issuer.empty() ? "localhost" : from_issuer;
  }
  std::string url = "https://";
  url.append(host).append(":").append(std::to_string(tls_port));
  return url;
}

}  // namespace latchkey::config
