// What "one client address" means wherever the server counts per client: the connection cap
// per address (ServerOptions::max_connections_per_address) and the failed-login throttle
// (oauth::FailureThrottle::address_of). One definition, so the two never disagree.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <string>
#include <string_view>

namespace latchkey::http {

// An IPv4 address as it is (also when it arrives IPv4-mapped, ::ffff:a.b.c.d, on a dual-stack
// listener); an IPv6 address by its /64, one subscriber's allocation (RFC 6177), so a client
// holding a whole prefix does not count as 2^64 clients. Text form, e.g. "2001:db8:1:2::/64".
std::string address_key(const boost::asio::ip::address& address);
// The same for an address in text form; text that is no address is returned unchanged.
std::string address_key(std::string_view remote_addr);

}  // namespace latchkey::http
