// oauth::Error — the one error value that flows from handlers to the HTTP layer.
// Made only through named constructors so every code is an RFC (or Salesforce) code; the code
// is an ErrorCode, named on the wire and given its HTTP status by core/error_code.h.
// `debug` is for logs and never reaches a client (docs/design.md, "Errors are values").
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "core/error_code.h"

namespace latchkey::oauth {

class Error {
 public:
  // RFC 6749 §5.2 token endpoint errors and §4.1.2.1 authorize errors.
  static Error invalid_request(std::string desc) {
    return {ErrorCode::invalid_request, std::move(desc)};
  }
  static Error invalid_client(std::string desc = "invalid client credentials") {
    return {ErrorCode::invalid_client, std::move(desc)};
  }
  static Error invalid_grant(std::string desc) {
    return {ErrorCode::invalid_grant, std::move(desc)};
  }
  static Error unauthorized_client(std::string desc) {
    return {ErrorCode::unauthorized_client, std::move(desc)};
  }
  static Error unsupported_grant_type(std::string desc = "grant type not supported") {
    return {ErrorCode::unsupported_grant_type, std::move(desc)};
  }
  static Error unsupported_response_type(std::string desc = "response type not supported") {
    return {ErrorCode::unsupported_response_type, std::move(desc)};
  }
  static Error invalid_scope(std::string desc) {
    return {ErrorCode::invalid_scope, std::move(desc)};
  }
  static Error access_denied(std::string desc = "end-user denied authorization") {
    return {ErrorCode::access_denied, std::move(desc)};
  }
  static Error login_required(std::string desc = "login required") {
    return {ErrorCode::login_required, std::move(desc)};
  }
  static Error consent_required(std::string desc = "consent required") {
    return {ErrorCode::consent_required, std::move(desc)};
  }
  // Salesforce authorize-time errors shown on the error page (never redirected).
  static Error invalid_client_id(std::string desc = "client identifier invalid") {
    return {ErrorCode::invalid_client_id, std::move(desc)};
  }
  static Error redirect_uri_mismatch(std::string desc = "redirect_uri must match configuration") {
    return {ErrorCode::redirect_uri_mismatch, std::move(desc)};
  }
  // RFC 6750 §3.1: protected resource errors (answered 401 INVALID_SESSION_ID).
  static Error invalid_token(std::string desc = "Session expired or invalid") {
    return {ErrorCode::invalid_token, std::move(desc)};
  }
  // RFC 6750 §3.1: a live token without the scope a resource requires (answered 403 with a
  // challenge naming `required`, the scope that would grant access).
  static Error insufficient_scope(std::string required) {
    Error e{ErrorCode::insufficient_scope,
            "the access token does not carry the scope this resource requires: " + required};
    e.scope_ = std::move(required);
    return e;
  }
  static Error not_found(std::string desc = "not found") {
    return {ErrorCode::not_found, std::move(desc)};
  }
  static Error conflict(std::string desc) { return {ErrorCode::conflict, std::move(desc)}; }
  static Error method_not_allowed(std::string desc = "method not allowed") {
    return {ErrorCode::method_not_allowed, std::move(desc)};
  }
  static Error payload_too_large(std::string desc = "request too large") {
    return {ErrorCode::invalid_request, std::move(desc), Kind::too_large};
  }
  static Error temporarily_unavailable(std::string desc) {
    return {ErrorCode::temporarily_unavailable, std::move(desc)};
  }
  static Error server_error(std::string debug) {
    Error e{ErrorCode::server_error, "internal error"};
    e.debug_ = std::move(debug);
    return e;
  }

  // The code, for comparisons; code() is its wire name (core/error_code.h), for logs and tests.
  ErrorCode error_code() const { return code_; }
  std::string_view code() const { return wire_name(code_); }
  const std::string& description() const { return description_; }
  const std::string& debug() const { return debug_; }
  // The required scope of insufficient_scope (RFC 6750 §3 `scope` attribute); empty otherwise.
  const std::string& scope() const { return scope_; }
  bool too_large() const { return kind_ == Kind::too_large; }

  // Adds private detail for the log; never serialized to a client.
  Error&& with_debug(std::string d) && {
    debug_ = std::move(d);
    return std::move(*this);
  }

 private:
  enum class Kind { normal, too_large };
  Error(ErrorCode code, std::string desc, Kind kind = Kind::normal)
      : code_(code), description_(std::move(desc)), kind_(kind) {}

  ErrorCode code_;
  std::string description_;
  std::string debug_;
  std::string scope_;
  Kind kind_ = Kind::normal;
};

}  // namespace latchkey::oauth
