#include "oauth/authorize/authorize_request.h"

#include <algorithm>
#include <charconv>

#include "oauth/authorize/response_type.h"
#include "oauth/pkce.h"
#include "token/scopes.h"

namespace latchkey::oauth {
namespace {

AuthorizeParse page_error(Error e) {
  return {std::nullopt, AuthorizeError{std::move(e), false, {}, false, {}}};
}

AuthorizeParse client_error(const AuthorizeRequest& r, Error e) {
  return {std::nullopt, AuthorizeError{std::move(e), true, r.redirect_uri, r.fragment, r.state}};
}

}  // namespace

bool AuthorizeRequest::prompt_has(std::string_view p) const {
  return std::find(prompt.begin(), prompt.end(), p) != prompt.end();
}

bool must_sign_in(const AuthorizeRequest& r, const std::optional<store::Session>& session,
                  bool signed_in_now, int64_t now_s) {
  if (!session) return true;
  if (signed_in_now) return false;
  const bool too_old = r.max_age_s >= 0 && now_s - session->auth_time_s > r.max_age_s;
  return r.prompt_has("login") || too_old;
}

bool is_page_field(std::string_view name) {
  return name == "csrf" || name == "username" || name == "password" || name == "decision";
}

AuthorizeParse parse_authorize(const http::Params& params, store::AppStore& apps) {
  AuthorizeRequest r;
  auto client_id = params.value("client_id");
  std::optional<store::App> app;
  if (!client_id.empty() && client_id.size() <= 256) app = apps.find_app(std::string(client_id));
  if (!app) return page_error(Error::invalid_client_id());
  r.app = std::move(*app);

  // Exact string comparison with a registered callback (RFC 9700 §4.1.3). Without a
  // redirect_uri, an app with exactly one callback uses it (RFC 6749 §3.1.2.3).
  auto redirect = params.get("redirect_uri");
  if (redirect) {
    if (std::find(r.app.callbacks.begin(), r.app.callbacks.end(), *redirect) ==
        r.app.callbacks.end()) {
      return page_error(Error::redirect_uri_mismatch());
    }
    r.redirect_uri = std::string(*redirect);
  } else if (r.app.callbacks.size() == 1) {
    r.redirect_uri = r.app.callbacks.front();
  } else {
    return page_error(Error::redirect_uri_mismatch());
  }

  for (const auto& [k, v] : params.items()) {
    if (!is_page_field(k)) r.carried.emplace_back(k, v);
  }
  r.state = std::string(params.value("state"));
  r.response_type = std::string(params.value("response_type"));
  if (r.response_type.empty()) {
    return client_error(r, Error::invalid_request("response_type is required"));
  }
  auto type = parse_response_type(r.response_type);
  if (!type) {
    r.fragment = mentions_front_channel(r.response_type);
    return client_error(r, Error::unsupported_response_type());
  }
  r.wants_code = type->code;
  r.wants_token = type->token;
  r.wants_id_token = type->id_token;
  // Errors about the response mode itself go where the response type would answer by default.
  r.fragment = type->fragment_by_default();
  auto mode = choose_response_mode(*type, params.value("response_mode"));
  if (!mode) {
    return client_error(r, Error::invalid_request(
                               "response_mode must be fragment, or query for response_type=code"));
  }
  r.fragment = *mode == ResponseMode::fragment;
  // The user-agent flow (and every response that puts tokens in the front channel, ID tokens
  // included) only for apps that allow it (docs/behaviour.md §5.5).
  if (type->fragment_by_default() && !r.app.allow_implicit) {
    return client_error(
        r, Error::unsupported_response_type("this app does not allow the user-agent flow"));
  }

  auto scopes = token::grant_scopes(params.value("scope"), r.app.scopes);
  if (!scopes) return client_error(r, std::move(scopes).error());
  r.scopes = std::move(scopes.value());
  r.nonce = std::string(params.value("nonce"));
  if (r.nonce.size() > 512 || r.state.size() > 2048) {
    return client_error(r, Error::invalid_request("state or nonce too long"));
  }
  if (r.wants_id_token) {
    if (!token::has_scope(r.scopes, "openid")) {
      return client_error(r, Error::invalid_request("id_token requires the openid scope"));
    }
    // OIDC Core §3.2.2.1: nonce is REQUIRED when an ID token comes from the authorize endpoint.
    if (r.nonce.empty()) return client_error(r, Error::invalid_request("nonce is required"));
  }

  // PKCE (RFC 7636 §4.3), S256 only. A challenge without a method is taken as S256, as
  // Salesforce does and the Salesforce CLI relies on, never as RFC 7636's default `plain`: the
  // verifier is then checked as S256 (docs/behaviour.md §5.2).
  auto challenge = params.get("code_challenge");
  auto method = params.get("code_challenge_method");
  if (challenge) {
    if (method && *method != "S256") {
      return client_error(r, Error::invalid_request("code_challenge_method must be S256"));
    }
    if (!valid_s256_challenge(*challenge)) {
      return client_error(r, Error::invalid_request("malformed code_challenge"));
    }
    r.code_challenge = std::string(*challenge);
  } else if (method) {
    return client_error(r, Error::invalid_request("code_challenge_method without code_challenge"));
  }
  // Public clients (no secret required for the web server flow) must use PKCE (docs/behaviour.md
  // §5.3).
  bool pkce_required = r.app.pkce_required || !r.app.require_secret_web_server;
  if (r.wants_code && pkce_required && r.code_challenge.empty()) {
    return client_error(r, Error::invalid_request("code_challenge is required"));
  }

  r.prompt = token::split_scopes(params.value("prompt"));
  for (const auto& p : r.prompt) {
    if (p != "none" && p != "login" && p != "consent" && p != "select_account") {
      return client_error(r, Error::invalid_request("unsupported prompt value"));
    }
  }
  if (r.prompt_has("none") && r.prompt.size() > 1) {
    return client_error(r, Error::invalid_request("prompt=none cannot be combined"));
  }
  r.login_hint = std::string(params.value("login_hint"));
  // acr_values (OIDC Core §3.1.2.1) is accepted and not acted on: it is a voluntary request,
  // so values we do not support must not fail it, and with a single way to sign in (password)
  // there is nothing to choose. The ID token's acr states what was done (oidc/id_token.h).
  if (auto m = params.get("max_age")) {
    int64_t v = 0;
    auto res = std::from_chars(m->data(), m->data() + m->size(), v);
    if (res.ec != std::errc{} || res.ptr != m->data() + m->size() || v < 0) {
      return client_error(r, Error::invalid_request("max_age must be a number of seconds"));
    }
    r.max_age_s = v;
  }
  return {std::move(r), std::nullopt};
}

}  // namespace latchkey::oauth
