// Transport-neutral request and response. Handlers see only these, never Beast types, so
// they are unit-testable without sockets and the HTTP layer can change underneath them.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace latchkey::http {

struct Request {
  std::string method;  // upper case: "GET", "POST", ...
  std::string target;  // as received: path?query
  std::string path;    // target before '?', not percent-decoded
  std::string query;   // target after '?', raw, without '?'
  // Header names lower-cased; repeated headers appear repeatedly, in order.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string remote_addr;  // client IP, no port
  // The request's id (http/request_id.h), set by the server before the handler runs: the
  // client's X-Request-Id when acceptable, else a new one. Handlers put it in the audit events
  // the request causes. Empty in a request the server did not receive (tests, the demo's).
  std::string request_id;
  bool tls = false;
  // DER of the verified client certificate on the TLS listener (RFC 8705), empty if none.
  std::string client_cert_der;
  // Whether that certificate chained to --tls-client-ca (the handshake accepts unchained ones
  // too: RFC 8705 §2.2 self-signed certificates are matched by thumbprint instead).
  bool client_cert_chained = false;

  // First value of a header (name compared case-insensitively), nullopt if absent.
  std::optional<std::string_view> header(std::string_view name) const;
};

struct Response {
  unsigned status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // Content-Type included here
  std::string body;
  // Set when the response reports something that must be durable before anyone sees it (new
  // tokens): the server calls it with `release` instead of sending, and sends the response
  // once release(std::nullopt) is called, or the response given instead (a 503 when the write
  // failed, a refusal the write decided). `release` may be called on any thread.
  using Release = std::function<void(std::optional<Response> instead)>;
  std::function<void(Release release)> await;

  Response& set(std::string name, std::string value);
  std::optional<std::string_view> header(std::string_view name) const;

  // application/json;charset=UTF-8
  static Response json(unsigned status, std::string body);
  // text/html;charset=utf-8 with the page security headers (X-Frame-Options DENY, CSP
  // frame-ancestors 'none', Referrer-Policy no-referrer).
  static Response html(unsigned status, std::string body);
  // 302 Found with Location.
  static Response redirect(std::string location);
};

}  // namespace latchkey::http
