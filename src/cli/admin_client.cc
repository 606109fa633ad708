#include "cli/admin_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "core/error.h"

namespace latchkey::cli {
namespace {

namespace beast = boost::beast;
namespace bhttp = beast::http;
using boost::asio::ip::tcp;
using oauth::Error;

constexpr std::string_view kPrefix = "/admin/v1/";

}  // namespace

Result<AdminClient> AdminClient::connect_to(std::string_view url, std::string token) {
  if (token.empty()) {
    return Error::invalid_request("--server needs the admin token in LATCHKEY_ADMIN_TOKEN");
  }
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) {
    return Error::invalid_request(
        "--server must be the admin listener's http://HOST:PORT (serve --admin-listen)");
  }
  url.remove_prefix(kScheme.size());
  std::string_view authority = url.substr(0, url.find('/'));
  std::string_view rest = url.substr(authority.size());
  if (!rest.empty() && rest != "/" && rest != "/admin/v1" && rest != kPrefix) {
    return Error::invalid_request("--server must be http://HOST:PORT, without a path");
  }
  std::string host, port;
  if (authority.starts_with('[')) {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return Error::invalid_request("--server: bad host");
    host = std::string(authority.substr(1, close - 1));
    authority.remove_prefix(close + 1);
    if (authority.starts_with(':')) port = std::string(authority.substr(1));
  } else {
    auto colon = authority.rfind(':');
    host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = std::string(authority.substr(colon + 1));
  }
  if (host.empty()) return Error::invalid_request("--server: no host");
  if (port.empty()) port = "80";
  return AdminClient(std::move(host), std::move(port), std::move(token));
}

std::string AdminClient::segment(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~' || c == '@';
    if (unreserved) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}

Result<boost::json::object> AdminClient::call(std::string_view method, const std::string& path,
                                              const std::optional<boost::json::object>& body) {
  try {
    boost::asio::io_context io;
    tcp::resolver resolver(io);
    beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds(30));
    stream.connect(resolver.resolve(host_, port_));
    bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method),
                                           std::string(kPrefix) + path, 11};
    req.set(bhttp::field::host, host_ + ":" + port_);
    req.set(bhttp::field::authorization, "Bearer " + token_);
    req.set(bhttp::field::accept, "application/json");
    if (body) {
      req.set(bhttp::field::content_type, "application/json");
      req.body() = boost::json::serialize(*body);
    }
    req.prepare_payload();
    bhttp::write(stream, req);
    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    bhttp::read(stream, buffer, parser);
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    const auto& res = parser.get();
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(res.body(), ec);
    if (ec || !v.is_object()) {
      return Error::temporarily_unavailable("the server's answer (HTTP " +
                                            std::to_string(res.result_int()) + ") is not JSON");
    }
    if (res.result_int() >= 300) {
      const auto* d = v.as_object().if_contains("error_description");
      return Error::invalid_request(d && d->is_string()
                                        ? std::string(d->as_string())
                                        : "HTTP " + std::to_string(res.result_int()));
    }
    return std::move(v.as_object());
  } catch (const std::exception& e) {
    return Error::temporarily_unavailable("cannot reach the admin API at " + host_ + ":" + port_ +
                                          ": " + e.what());
  }
}

Result<boost::json::object> AdminClient::all_pages(const std::string& path,
                                                   std::string_view member) {
  const char sep = path.find('?') == std::string::npos ? '?' : '&';
  auto first = call("GET", path + sep + "limit=1000");
  if (!first) return first;
  boost::json::object whole = std::move(*first);
  while (true) {
    const auto* next = whole.if_contains("next_cursor");
    if (!next || !next->is_string()) break;
    auto page =
        call("GET", path + sep + "limit=1000&cursor=" + segment(std::string(next->as_string())));
    if (!page) return page;
    for (auto& item : (*page)[member].as_array()) whole[member].as_array().push_back(item);
    whole["next_cursor"] = (*page)["next_cursor"];
  }
  whole.erase("next_cursor");
  return whole;
}

}  // namespace latchkey::cli
