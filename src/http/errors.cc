#include "http/errors.h"

#include <boost/json.hpp>

namespace latchkey::http {
namespace {

unsigned status_for(const oauth::Error& e) {
  const std::string& c = e.code();
  if (e.too_large()) return 413;
  if (c == "not_found") return 404;
  if (c == "insufficient_scope") return 403;
  if (c == "method_not_allowed") return 405;
  if (c == "temporarily_unavailable") return 503;
  if (c == "server_error") return 500;
  return 400;
}

}  // namespace

void no_store(Response& response) {
  response.set("Cache-Control", "no-store");
  response.set("Pragma", "no-cache");
}

Response token_json(std::string body) {
  Response r = Response::json(200, std::move(body));
  no_store(r);
  return r;
}

Response token_error(const oauth::Error& error, bool client_used_basic) {
  boost::json::object body{{"error", error.code()}, {"error_description", error.description()}};
  unsigned status = status_for(error);
  Response r = Response::json(status, boost::json::serialize(body));
  if (error.code() == "invalid_client" && client_used_basic) {
    // RFC 6749 §5.2: 401 with a challenge matching the scheme the client used.
    r.status = 401;
    r.set("WWW-Authenticate", "Basic realm=\"latchkey\"");
  }
  if (error.code() == "method_not_allowed") r.set("Allow", "POST");
  no_store(r);
  return r;
}

Response resource_error(const oauth::Error& error) {
  if (error.code() == "insufficient_scope") {
    // RFC 6750 §3.1: 403 with a challenge naming the scope that would grant access (a scope
    // token has no quote or backslash, RFC 6749 §3.3, so it needs no escaping here).
    boost::json::object body{{"error", error.code()}, {"error_description", error.description()}};
    Response r = Response::json(403, boost::json::serialize(body));
    r.set("WWW-Authenticate",
          "Bearer error=\"insufficient_scope\", scope=\"" + error.scope() + "\"");
    no_store(r);
    return r;
  }
  if (error.code() != "invalid_token") return token_error(error, false);
  Response r = Response::json(
      401, R"([{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}])");
  r.set("WWW-Authenticate", "Bearer error=\"invalid_token\"");
  no_store(r);
  return r;
}

}  // namespace latchkey::http
