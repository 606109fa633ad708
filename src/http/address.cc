#include "http/address.h"

#include <algorithm>

namespace latchkey::http {

std::string address_key(const boost::asio::ip::address& address) {
  if (!address.is_v6()) return address.to_string();
  const auto v6 = address.to_v6();
  if (v6.is_v4_mapped()) {
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).to_string();
  }
  auto bytes = v6.to_bytes();
  std::fill(bytes.begin() + 8, bytes.end(), 0);
  return boost::asio::ip::address_v6(bytes).to_string() + "/64";
}

std::string address_key(std::string_view remote_addr) {
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(std::string(remote_addr), ec);
  if (ec) return std::string(remote_addr);
  return address_key(address);
}

}  // namespace latchkey::http
