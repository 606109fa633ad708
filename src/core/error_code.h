// The error codes a client can be given, and the ONE mapping that names each on the wire (the
// `error` member or parameter, RFC 6749 §4.1.2.1 and §5.2, RFC 6750 §3.1) and gives the HTTP
// status of its RFC 6749 §5.2 JSON answer. http/errors.cc reads the status from here and
// decides the few answers that depend on more than the code: 401 with a Basic challenge for
// invalid_client after Basic, 413 for a request too large, and at a protected resource 401
// with Salesforce's INVALID_SESSION_ID body for invalid_token (docs/behaviour.md §5, §5.4).
// Constants only; no state.
#pragma once

#include <string_view>

namespace latchkey::oauth {

enum class ErrorCode {
  // RFC 6749 §5.2 and §4.1.2.1.
  invalid_request,
  invalid_client,
  invalid_grant,
  unauthorized_client,
  unsupported_grant_type,
  unsupported_response_type,
  invalid_scope,
  access_denied,
  // OIDC Core §3.1.2.6.
  login_required,
  consent_required,
  // Salesforce's authorize-time errors, shown on the error page and never redirected.
  invalid_client_id,
  redirect_uri_mismatch,
  // RFC 6750 §3.1.
  invalid_token,
  insufficient_scope,
  // HTTP-level refusals and failures.
  not_found,
  conflict,  // the admin API: a name or client id already taken (docs/admin-api.md)
  method_not_allowed,
  temporarily_unavailable,
  server_error,
};

struct ErrorCodeName {
  std::string_view wire;
  unsigned http_status;
};

// A switch, so that a code added without its row does not compile (-Wswitch, -Werror).
constexpr ErrorCodeName name_of(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid_request:
      return {"invalid_request", 400};
    case ErrorCode::invalid_client:
      return {"invalid_client", 400};
    case ErrorCode::invalid_grant:
      return {"invalid_grant", 400};
    case ErrorCode::unauthorized_client:
      return {"unauthorized_client", 400};
    case ErrorCode::unsupported_grant_type:
      return {"unsupported_grant_type", 400};
    case ErrorCode::unsupported_response_type:
      return {"unsupported_response_type", 400};
    case ErrorCode::invalid_scope:
      return {"invalid_scope", 400};
    case ErrorCode::access_denied:
      return {"access_denied", 400};
    case ErrorCode::login_required:
      return {"login_required", 400};
    case ErrorCode::consent_required:
      return {"consent_required", 400};
    case ErrorCode::invalid_client_id:
      return {"invalid_client_id", 400};
    case ErrorCode::redirect_uri_mismatch:
      return {"redirect_uri_mismatch", 400};
    case ErrorCode::invalid_token:
      return {"invalid_token", 400};
    case ErrorCode::insufficient_scope:
      return {"insufficient_scope", 403};
    case ErrorCode::not_found:
      return {"not_found", 404};
    case ErrorCode::conflict:
      return {"conflict", 409};
    case ErrorCode::method_not_allowed:
      return {"method_not_allowed", 405};
    case ErrorCode::temporarily_unavailable:
      return {"temporarily_unavailable", 503};
    case ErrorCode::server_error:
      return {"server_error", 500};
  }
  return {"server_error", 500};  // unreachable: every enumerator is handled above
}

// The code as the client sees it, e.g. "invalid_grant".
constexpr std::string_view wire_name(ErrorCode code) { return name_of(code).wire; }

// The status of the code's RFC 6749 §5.2 JSON answer.
constexpr unsigned http_status(ErrorCode code) { return name_of(code).http_status; }

}  // namespace latchkey::oauth
