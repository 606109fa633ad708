#include "http/errors.h"

#include <boost/json.hpp>

namespace latchkey::http {
namespace {

using oauth::ErrorCode;

// RFC 6749 §5.2: {"error","error_description"}.
std::string rfc6749_body(const oauth::Error& e) {
  boost::json::object body{{"error", e.code()}, {"error_description", e.description()}};
  return boost::json::serialize(body);
}

struct SalesforceErrorName {
  unsigned status;
  std::string_view message;
  std::string_view error_code;
};

// Salesforce's messages and codes, as its REST API and identity service send them.
constexpr SalesforceErrorName name_of(SalesforceError e) {
  switch (e) {
    case SalesforceError::invalid_session_id:
      return {401, "Session expired or invalid", "INVALID_SESSION_ID"};
    case SalesforceError::bad_id:
      return {403, "Bad_Id", "BAD_ID"};
    case SalesforceError::not_found:
      return {404, "The requested resource does not exist", "NOT_FOUND"};
    case SalesforceError::malformed_query:
      return {400, "malformed query", "MALFORMED_QUERY"};
    case SalesforceError::invalid_type:
      return {400, "sObject type is not supported", "INVALID_TYPE"};
    case SalesforceError::invalid_field:
      return {400, "No such column", "INVALID_FIELD"};
  }
  return {401, "Session expired or invalid", "INVALID_SESSION_ID"};  // unreachable
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
  unsigned status = error.too_large() ? 413 : oauth::http_status(error.error_code());
  Response r = Response::json(status, rfc6749_body(error));
  if (error.error_code() == ErrorCode::invalid_client && client_used_basic) {
    // RFC 6749 §5.2: 401 with a challenge matching the scheme the client used.
    r.status = 401;
    r.set("WWW-Authenticate", "Basic realm=\"latchkey\"");
  }
  if (error.error_code() == ErrorCode::method_not_allowed) r.set("Allow", "POST");
  no_store(r);
  return r;
}

Response admin_error(const oauth::Error& error, bool token_presented) {
  Response r = token_error(error, false);
  if (error.error_code() == ErrorCode::invalid_token) {
    r.status = 401;
    r.set("WWW-Authenticate", token_presented
                                  ? "Bearer realm=\"latchkey-admin\", error=\"invalid_token\""
                                  : "Bearer realm=\"latchkey-admin\"");
  }
  return r;
}

Response resource_error(const oauth::Error& error) {
  if (error.error_code() == ErrorCode::insufficient_scope) {
    // RFC 6750 §3.1: 403 with a challenge naming the scope that would grant access (a scope
    // token has no quote or backslash, RFC 6749 §3.3, so it needs no escaping here).
    Response r = Response::json(403, rfc6749_body(error));
    r.set("WWW-Authenticate",
          "Bearer error=\"insufficient_scope\", scope=\"" + error.scope() + "\"");
    no_store(r);
    return r;
  }
  if (error.error_code() != ErrorCode::invalid_token) return token_error(error, false);
  Response r = salesforce_error(SalesforceError::invalid_session_id);
  r.set("WWW-Authenticate", "Bearer error=\"invalid_token\"");
  no_store(r);
  return r;
}

Response salesforce_error(SalesforceError error) {
  return salesforce_error(error, name_of(error).message);
}

Response salesforce_error(SalesforceError error, std::string_view message) {
  const SalesforceErrorName n = name_of(error);
  boost::json::array body{boost::json::object{{"message", message}, {"errorCode", n.error_code}}};
  return Response::json(n.status, boost::json::serialize(body));
}

std::vector<std::pair<std::string, std::string>> redirect_error_params(const oauth::Error& error) {
  return {{"error", std::string(error.code())}, {"error_description", error.description()}};
}

}  // namespace latchkey::http
