// Which address a request comes from, for counting failed logins: the TCP peer, unless the
// peer is a reverse proxy the operator trusts (`serve --trusted-proxy CIDR`), whose report of
// its own client is then believed. Headers from any other peer are ignored, since a client
// could write anything there.
//
// What a trusted proxy reports: `Forwarded: for=` (RFC 7239 §5.2) when the request has that
// header, else `X-Forwarded-For`. Each proxy appends its client's address at the right, so the
// list is read from the right: entries that are trusted proxies themselves are skipped, and the
// first one that is not is the client (entries left of it are whatever the client sent). An
// entry that is no address (RFC 7239 `unknown`, an obfuscated identifier, garbage) ends the
// search with the peer's address: the request is counted against the proxy rather than under
// a name anyone could pick.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"

namespace latchkey::http {

// An IPv4 or IPv6 network: "10.0.0.0/8", "2001:db8::/32", or one address ("127.0.0.1" is /32,
// "::1" is /128). An IPv4-mapped IPv6 address is matched as the IPv4 address it maps.
class Cidr {
 public:
  // nullopt unless `text` is an address, optionally with a prefix length in range.
  static std::optional<Cidr> parse(std::string_view text);
  bool contains(std::string_view address) const;

 private:
  bool v6_ = false;
  std::array<unsigned char, 16> bytes_{};
  unsigned prefix_ = 0;
};

// The address `text` names, normalized (an IPv4-mapped IPv6 address as IPv4); also accepts the
// forms proxies write: "[v6]", "[v6]:port", "v4:port". nullopt for anything else.
std::optional<std::string> parse_address(std::string_view text);

// The client address of `request` as described above; `request.remote_addr` when its peer is
// not in `trusted_proxies`.
std::string client_address(const Request& request, const std::vector<Cidr>& trusted_proxies);

}  // namespace latchkey::http
