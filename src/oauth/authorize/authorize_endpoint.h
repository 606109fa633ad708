// GET/POST /services/oauth2/authorize: the web server flow (response_type=code), the
// user-agent flow (token) and OIDC implicit and hybrid (id_token with or without token and
// code, code token; oauth/authorize/response_type.h). Login page, consent page and
// the redirect back, with the session, CSRF and consent rules of docs/behaviour.md §4–§5.
//
// The login and consent forms post back to this endpoint with the request's own parameters
// as hidden fields, so one code path validates the request on every step.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/events.h"
#include "core/random.h"
#include "crypto/password.h"
#include "http/client_address.h"
#include "http/message.h"
#include "oauth/authorize/authorize_request.h"
#include "oauth/login_throttle.h"
#include "oauth/token_issuer.h"
#include "store/stores.h"
#include "web/pages.h"

namespace latchkey::oauth {

struct AuthorizeDeps {
  store::AppStore& apps;
  store::UserStore& users;
  store::CodeStore& codes;
  store::ConsentStore& consents;
  store::SessionStore& sessions;
  TokenIssuer& tokens;
  const oidc::IdTokens& id_tokens;
  const crypto::PasswordHasher& passwords;
  LoginThrottle& throttle;
  const web::Pages& pages;
  Random& random;
  const Clock& clock;
  EventSink& events;
  std::string issuer;
  bool secure_cookies = false;  // set when the issuer is https
  // Key of the HMAC-SHA256 that derives the forms' CSRF tokens from the browser's pre-session
  // or session identifier. The server derives it from the key-encryption key, so every node
  // of an installation has the same one (crypto::KeySealer::derive_key). When empty (tests),
  // the constructor draws one from `random`.
  std::string csrf_key;
  // Reverse proxies whose Forwarded / X-Forwarded-For name the client (serve --trusted-proxy);
  // the login throttle and the audit log use that address (http/client_address.h).
  std::vector<http::Cidr> trusted_proxies;
};

class AuthorizeEndpoint {
 public:
  explicit AuthorizeEndpoint(AuthorizeDeps deps);
  http::Response handle(const http::Request& request);
  // For the front door (oauth/front_door.h): starts a browser session for `user` signed in
  // now, as a sign-in on the login form does (same cookie, lifetime and audit event, with
  // `how` as its detail), and redirects to `location`, a path of this server.
  http::Response sign_in_and_redirect(const http::Request& request, const store::User& user,
                                      std::string_view client_id, std::string_view how,
                                      const std::string& location);
  // The error page the authorize endpoint shows for what must not redirect.
  http::Response error_page(const oauth::Error& e, unsigned status = 400);

 private:
  struct Browser;  // the cookies a request came with

  http::Response proceed(const AuthorizeRequest& r, const Browser& b,
                         std::optional<store::Session> session, bool signed_in_now);
  http::Response login_attempt(const AuthorizeRequest& r, const http::Params& form,
                               const Browser& b);
  http::Response decision(const AuthorizeRequest& r, const http::Params& form, const Browser& b,
                          std::optional<store::Session> session, bool signed_in_now);
  http::Response login_page(const AuthorizeRequest& r, const Browser& b, std::string error,
                            std::string username, unsigned status = 200);
  http::Response consent_page(const AuthorizeRequest& r, const Browser& b, const store::User& user,
                              bool signed_in_now);
  // `request_id`: the request's, for the token_issued event of a front-channel token.
  http::Response issue(const AuthorizeRequest& r, const store::User& user,
                       const store::Session& session, std::string_view request_id);
  http::Response redirect_error(const AuthorizeError& e);
  std::string finish_url(const std::string& redirect_uri, bool fragment,
                         const std::vector<std::pair<std::string, std::string>>& params) const;
  std::optional<store::Session> session_of(const Browser& b);
  std::string new_session(const store::User& user, const Browser& b, http::Response& response);
  // CSRF tokens (RFC 9700 §4.7): an HMAC under csrf_key of what the form is bound to. The
  // login form is bound to the pre-session cookie; the consent form to the session cookie,
  // and, when the user signed in for this very request, also to the request's parameters, so
  // that its token alone tells the consent POST that the sign-in was made for it.
  std::string login_token(std::string_view pre_session) const;
  std::string consent_token(std::string_view session, const AuthorizeRequest& r,
                            bool signed_in_now) const;
  std::string cookie(const Browser& b, std::string_view name, std::string_view value) const;

  AuthorizeDeps d_;
  std::string action_;
  std::string dummy_hash_;
};

}  // namespace latchkey::oauth
