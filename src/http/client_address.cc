#include "http/client_address.h"

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <charconv>
#include <iterator>

namespace latchkey::http {
namespace {

namespace ip = boost::asio::ip;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<ip::address> address_of(std::string_view text) {
  if (text.empty() || text.size() > 64) return std::nullopt;
  boost::system::error_code ec;
  auto a = ip::make_address(std::string(text), ec);
  if (ec) return std::nullopt;
  // A scope id ("fe80::1%eth0") names an interface of the proxy, not a client.
  if (a.is_v6() && a.to_v6().scope_id() != 0) return std::nullopt;
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return ip::make_address_v4(ip::v4_mapped, a.to_v6());
  return a;
}

bool valid_port(std::string_view port) {
  unsigned v = 0;
  auto res = std::from_chars(port.data(), port.data() + port.size(), v);
  return !port.empty() && res.ec == std::errc{} && res.ptr == port.data() + port.size() &&
         v <= 65535;
}

// The for= entries (RFC 7239 §4: elements separated by ',', pairs by ';', names
// case-insensitive, values a token or a quoted-string), in order; an element without for=
// contributes an empty entry, which is no address.
std::vector<std::string_view> forwarded_for(std::string_view header) {
  std::vector<std::string_view> out;
  while (!header.empty()) {
    const auto comma = header.find(',');
    std::string_view element = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    std::string_view found;
    while (!element.empty()) {
      const auto semi = element.find(';');
      std::string_view pair = trim(element.substr(0, semi));
      element = semi == std::string_view::npos ? std::string_view() : element.substr(semi + 1);
      const auto eq = pair.find('=');
      if (eq != 3) continue;
      std::string_view name = pair.substr(0, 3);
      if ((name[0] | 0x20) != 'f' || (name[1] | 0x20) != 'o' || (name[2] | 0x20) != 'r') continue;
      std::string_view value = pair.substr(4);
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      found = value;
    }
    out.push_back(found);
  }
  return out;
}

std::vector<std::string_view> split_commas(std::string_view header) {
  std::vector<std::string_view> out;
  while (!header.empty()) {
    const auto comma = header.find(',');
    out.push_back(trim(header.substr(0, comma)));
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
  }
  return out;
}

bool trusted(const std::vector<Cidr>& proxies, std::string_view address) {
  for (const auto& c : proxies) {
    if (c.contains(address)) return true;
  }
  return false;
}

}  // namespace

std::optional<Cidr> Cidr::parse(std::string_view text) {
  const auto slash = text.find('/');
  auto a = address_of(text.substr(0, slash));
  if (!a) return std::nullopt;
  Cidr c;
  c.v6_ = a->is_v6();
  const unsigned max = c.v6_ ? 128 : 32;
  c.prefix_ = max;
  if (slash != std::string_view::npos) {
    std::string_view len = text.substr(slash + 1);
    auto res = std::from_chars(len.data(), len.data() + len.size(), c.prefix_);
    if (len.empty() || res.ec != std::errc{} || res.ptr != len.data() + len.size() ||
        c.prefix_ > max) {
      return std::nullopt;
    }
  }
  if (c.v6_) {
    const auto b = a->to_v6().to_bytes();
    std::copy(b.begin(), b.end(), c.bytes_.begin());
  } else {
    const auto b = a->to_v4().to_bytes();
    std::copy(b.begin(), b.end(), c.bytes_.begin());
  }
  return c;
}

bool Cidr::contains(std::string_view address) const {
  auto a = address_of(address);
  if (!a || a->is_v6() != v6_) return false;
  std::array<unsigned char, 16> b{};
  if (v6_) {
    const auto v = a->to_v6().to_bytes();
    std::copy(v.begin(), v.end(), b.begin());
  } else {
    const auto v = a->to_v4().to_bytes();
    std::copy(v.begin(), v.end(), b.begin());
  }
  unsigned bits = prefix_;
  for (std::size_t i = 0; bits > 0; ++i, bits = bits >= 8 ? bits - 8 : 0) {
    const auto mask = static_cast<unsigned char>(bits >= 8 ? 0xFFu : (0xFFu << (8 - bits)) & 0xFFu);
    if ((b[i] & mask) != (bytes_[i] & mask)) return false;
  }
  return true;
}

std::optional<std::string> parse_address(std::string_view text) {
  text = trim(text);
  if (!text.empty() && text.front() == '[') {
    // "[v6]" or "[v6]:port" (RFC 7239 §6: IPv6 in brackets, optionally with a port).
    const auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty() && (rest.front() != ':' || !valid_port(rest.substr(1)))) return std::nullopt;
    auto a = address_of(text.substr(1, close - 1));
    if (!a || !a->is_v6()) return std::nullopt;
    return a->to_string();
  }
  const auto colon = text.find(':');
  if (colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos) {
    // "v4:port".
    if (!valid_port(text.substr(colon + 1))) return std::nullopt;
    auto a = address_of(text.substr(0, colon));
    if (!a || !a->is_v4()) return std::nullopt;
    return a->to_string();
  }
  auto a = address_of(text);
  if (!a) return std::nullopt;
  return a->to_string();
}

std::string client_address(const Request& request, const std::vector<Cidr>& trusted_proxies) {
  if (trusted_proxies.empty() || !trusted(trusted_proxies, request.remote_addr)) {
    return request.remote_addr;
  }
  // Several fields of one header are one comma-separated list (RFC 9110 §5.3).
  std::string forwarded, xff;
  auto append = [](std::string& list, std::string_view value) {
    if (!list.empty()) list += ',';
    list += value;
  };
  for (const auto& [name, value] : request.headers) {
    if (name == "forwarded") append(forwarded, value);
    if (name == "x-forwarded-for") append(xff, value);
  }
  std::vector<std::string_view> entries =
      !forwarded.empty() ? forwarded_for(forwarded) : split_commas(xff);
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    auto a = parse_address(*it);
    if (!a) return request.remote_addr;
    if (!trusted(trusted_proxies, *a)) return *a;
    if (std::next(it) == entries.rend()) return *a;  // every hop is a trusted proxy
  }
  return request.remote_addr;
}

}  // namespace latchkey::http
