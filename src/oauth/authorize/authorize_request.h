// Parsing and validation of an authorization request (RFC 6749 §4.1.1, §4.2.1, OIDC Core
// §3.1.2.1), in the order that decides where an error may go: until the client and its
// redirect_uri are known good, errors are shown on our error page and never redirected
// (RFC 6749 §4.1.2.1, RFC 9700 §4.11 open redirector); after that they go to the client.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "http/params.h"
#include "store/records.h"
#include "store/stores.h"

namespace latchkey::oauth {

struct AuthorizeRequest {
  store::App app;
  std::string redirect_uri;
  std::string response_type;  // as sent; any order of code, token, id_token (response_type.h)
  bool wants_code = false;
  bool wants_token = false;
  bool wants_id_token = false;
  // Response mode: the fragment by default for anything but plain `code`, which may also ask
  // for it with response_mode=fragment (response_type.h).
  bool fragment = false;
  std::string state;
  std::string nonce;
  std::vector<std::string> scopes;  // granted scopes
  std::string code_challenge;
  std::vector<std::string> prompt;  // none | login | consent
  std::string login_hint;
  // OIDC Core §3.1.2.1 max_age in seconds; -1 when absent.
  int64_t max_age_s = -1;
  // The request's own parameters, carried through the login and consent forms.
  std::vector<std::pair<std::string, std::string>> carried;

  bool prompt_has(std::string_view p) const;
};

// Where an error goes: an error page (client or redirect not trusted) or the client.
struct AuthorizeError {
  oauth::Error error;
  bool redirect = false;
  // Set when redirect is true.
  std::string redirect_uri;
  bool fragment = false;
  std::string state;
};

struct AuthorizeParse {
  std::optional<AuthorizeRequest> request;
  std::optional<AuthorizeError> error;
};

// Names of the form fields that belong to the login/consent pages, not to the request.
bool is_page_field(std::string_view name);

AuthorizeParse parse_authorize(const http::Params& params, store::AppStore& apps);

// Whether the user must sign in (again) before this request may go on, at every step that
// could end in a code or token (the authorize GET and the consent POST alike): without a
// session; with prompt=login (OIDC Core §3.1.2.1), unless the user signed in during this
// authorization (`signed_in_now`); or when the session's sign-in is more than max_age seconds
// old (OIDC Core §3.1.2.1), again unless it was made during this authorization.
bool must_sign_in(const AuthorizeRequest& r, const std::optional<store::Session>& session,
                  bool signed_in_now, int64_t now_s);

}  // namespace latchkey::oauth
