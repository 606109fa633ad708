// Where clients reach the TLS listener, as discovery advertises it in mtls_endpoint_aliases
// (RFC 8705 §5). Pure string work on validated flags; no I/O.
#pragma once

#include <string>
#include <string_view>

namespace latchkey::config {

// `tls_issuer` (--tls-issuer) when given, without trailing slashes. Otherwise
// https://HOST:PORT with the bind host of --tls-listen and the bound TLS port, except that a
// wildcard bind host (0.0.0.0, ::, [::] or empty) is no address a client can use: then the
// host of `issuer` (--issuer, or its default) with the TLS port. IPv6 hosts are bracketed.
std::string mtls_base_url(std::string_view issuer, std::string_view tls_host,
                          unsigned short tls_port, std::string_view tls_issuer = {});

// The host of an absolute URL as written in it (an IPv6 literal keeps its brackets), without
// userinfo or port; empty when `url` has no "scheme://".
std::string url_host(std::string_view url);

}  // namespace latchkey::config
