#include "oauth/authorize/authorize_endpoint.h"

#include <algorithm>

#include "crypto/crypto.h"
#include "http/errors.h"
#include "http/params.h"
#include "oauth/approval.h"
#include "oauth/scopes.h"
#include "token/opaque_tokens.h"

namespace latchkey::oauth {
namespace {

constexpr std::string_view kSessionCookie = "lk_sid";
constexpr std::string_view kCsrfCookie = "lk_csrf";
constexpr int64_t kCodeTtlMs = 10 * 60 * 1000;      // CONTRACT §5.1: codes live 10 minutes
constexpr int64_t kSessionTtlMs = 2 * 60 * 60 * 1000;  // Salesforce's default session timeout

std::vector<web::HiddenField> hidden_of(const AuthorizeRequest& r) {
  std::vector<web::HiddenField> out;
  for (const auto& [k, v] : r.carried) out.push_back({k, v});
  return out;
}

}  // namespace

struct AuthorizeEndpoint::Browser {
  std::string session;  // raw cookie value
  std::string csrf;     // raw cookie value
  std::string remote_addr;
};

AuthorizeEndpoint::AuthorizeEndpoint(AuthorizeDeps deps)
    : d_(std::move(deps)),
      action_("/services/oauth2/authorize"),
      dummy_hash_(d_.passwords.hash(crypto::random_token(d_.random))) {}

http::Response AuthorizeEndpoint::handle(const http::Request& request) {
  Browser b;
  if (auto c = request.header("cookie")) {
    b.session = http::cookie_value(*c, kSessionCookie).value_or("");
    b.csrf = http::cookie_value(*c, kCsrfCookie).value_or("");
  }
  b.remote_addr = request.remote_addr;

  bool post = request.method == "POST";
  if (!post && request.method != "GET") return error_page(Error::method_not_allowed(), 405);
  auto params = http::parse_form(post ? request.body : request.query);
  if (!params) return error_page(params.error());

  auto parsed = parse_authorize(*params, d_.apps);
  if (parsed.error) {
    return parsed.error->redirect ? redirect_error(*parsed.error) : error_page(parsed.error->error);
  }
  const AuthorizeRequest& r = *parsed.request;

  if (!post) return proceed(r, b, session_of(b), false);

  // Every POST comes from our own login or consent form: double-submit CSRF check
  // (RFC 9700 §4.7; the cookie is SameSite=Lax and HttpOnly).
  auto csrf = params->value("csrf");
  if (b.csrf.empty() || csrf.empty() || !crypto::constant_time_equal(csrf, b.csrf)) {
    return error_page(Error::invalid_request("the form expired or was not sent from this site; "
                                             "go back and try again"),
                      403);
  }
  if (params->has("username") || params->has("password")) {
    return login_attempt(r, *params, b, request);
  }
  if (params->has("decision")) return decision(r, *params, b, session_of(b));
  return proceed(r, b, session_of(b), false);
}

http::Response AuthorizeEndpoint::proceed(const AuthorizeRequest& r, const Browser& b,
                                          std::optional<store::Session> session,
                                          bool fresh_login) {
  auto err = [&](Error e) {
    return redirect_error({std::move(e), true, r.redirect_uri, r.fragment, r.state});
  };
  // OIDC Core §3.1.2.1: max_age asks for a login at most that many seconds old.
  bool too_old = session && r.max_age_s >= 0 &&
                 d_.clock.now_s() - session->auth_time_s > r.max_age_s;
  bool must_login = !session || ((r.prompt_has("login") || too_old) && !fresh_login);
  if (must_login) {
    if (r.prompt_has("none")) return err(Error::login_required());
    return login_page(r, b, "", r.login_hint);
  }
  auto user = d_.users.find_user(session->user_id);
  if (!user || !user->active) {
    if (r.prompt_has("none")) return err(Error::login_required());
    return login_page(r, b, "", r.login_hint);
  }
  if (!may_use(d_.apps, r.app, *user)) {
    return err(Error::access_denied("user is not admin approved to access this app"));
  }
  // Consent: admin-approved apps are pre-authorized; self-authorized apps remember the
  // user's approval per app and ask again only for new scopes or on prompt=consent.
  bool need_consent = r.prompt_has("consent");
  if (!r.app.admin_approved_only && !need_consent) {
    auto c = d_.consents.find_consent(user->id, r.app.client_id);
    need_consent = !c;
    if (c) {
      for (const auto& s : r.scopes) need_consent = need_consent || !has_scope(c->scopes, s);
    }
  }
  if (need_consent && r.app.admin_approved_only && !r.prompt_has("consent")) need_consent = false;
  if (need_consent) {
    if (r.prompt_has("none")) return err(Error::consent_required());
    return consent_page(r, b, *user);
  }
  return issue(r, *user, *session);
}

http::Response AuthorizeEndpoint::login_attempt(const AuthorizeRequest& r,
                                                const http::Params& form, const Browser& b,
                                                const http::Request& request) {
  std::string username(form.value("username"));
  std::string password(form.value("password"));
  // Usernames match case-insensitively (ASCII, as the user store's COLLATE NOCASE), so case
  // variants of one username share its counter.
  std::string folded = username;
  std::transform(folded.begin(), folded.end(), folded.begin(),
                 [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; });
  const auto user_key = FailureThrottle::key_of("u:" + folded);
  const auto addr_key =
      FailureThrottle::key_of("a:" + FailureThrottle::address_of(request.remote_addr));
  auto user = username.size() <= 256 ? d_.users.find_user_by_username(username) : std::nullopt;
  // The audit log names the user only when the username is one: what was typed into the box
  // otherwise may be anything, a password typed into the wrong field included (RFC 9700 §4.3:
  // no secrets in logs), so it is logged as "unknown".
  std::string_view logged_user = user ? std::string_view(user->username) : "unknown";
  if (int64_t wait = std::max(d_.throttle.wait_s(user_key), d_.throttle.wait_s(addr_key));
      wait > 0) {
    // Refused before the password is checked, and not counted towards the lockout (that would
    // only lengthen it for the user), but still a failed login for the audit log and metrics.
    d_.events.emit(
        {"login_failure", r.app.client_id, logged_user, "locked_out", request.remote_addr});
    return login_page(r, b,
                      "Too many failed attempts. Try again in " + std::to_string(wait) +
                          " seconds.",
                      username, 429);
  }
  // Verify against a real Argon2id hash even for unknown users, so response time does not
  // tell which usernames exist.
  bool ok = d_.passwords.verify(user ? user->password_hash : dummy_hash_, password);
  if (!user || !ok || !user->active) {
    d_.events.emit({"login_failure", r.app.client_id, logged_user, {}, request.remote_addr});
    d_.throttle.failure(user_key);
    d_.throttle.failure(addr_key);
    return login_page(r, b, "Please check your username and password.", username, 401);
  }
  // Only this user's count is cleared: clearing the address's too would let someone with one
  // valid account reset it between guesses at other users' passwords.
  d_.throttle.success(user_key);
  d_.events.emit({"login_success", r.app.client_id, user->id, {}, request.remote_addr});

  store::Session session{"", user->id, d_.clock.now_s(), d_.clock.now_ms() + kSessionTtlMs};
  http::Response out;
  std::string cookie = new_session(*user, out);
  session.session_hash = token::hash_of(cookie);
  Browser after = b;
  after.session = cookie;
  http::Response next = proceed(r, after, session, true);
  for (const auto& [k, v] : out.headers) next.headers.emplace_back(k, v);
  return next;
}

http::Response AuthorizeEndpoint::decision(const AuthorizeRequest& r, const http::Params& form,
                                           const Browser& b,
                                           std::optional<store::Session> session) {
  if (!session) return login_page(r, b, "", r.login_hint);
  auto user = d_.users.find_user(session->user_id);
  if (!user || !user->active) return login_page(r, b, "", r.login_hint);
  auto err = [&](Error e) {
    return redirect_error({std::move(e), true, r.redirect_uri, r.fragment, r.state});
  };
  if (form.value("decision") != "allow") {
    d_.events.emit({"consent_denied", r.app.client_id, user->id, join_scopes(r.scopes), b.remote_addr});
    return err(Error::access_denied());
  }
  if (!may_use(d_.apps, r.app, *user)) {
    return err(Error::access_denied("user is not admin approved to access this app"));
  }
  // Remember the union of what was approved before and now.
  std::vector<std::string> scopes = r.scopes;
  if (auto prior = d_.consents.find_consent(user->id, r.app.client_id)) {
    for (const auto& s : prior->scopes) {
      if (!has_scope(scopes, s)) scopes.push_back(s);
    }
  }
  d_.consents.save_consent({user->id, r.app.client_id, scopes, d_.clock.now_ms()});
  d_.events.emit({"consent_granted", r.app.client_id, user->id, join_scopes(scopes), b.remote_addr});
  return issue(r, *user, *session);
}

http::Response AuthorizeEndpoint::issue(const AuthorizeRequest& r, const store::User& user,
                                        const store::Session& session) {
  std::vector<std::pair<std::string, std::string>> out;
  std::string code;
  std::string code_key;  // Token::code_key of the code, when one is issued
  std::shared_ptr<store::PendingWrite> code_write;
  if (r.wants_code) {
    store::AuthCode rec;
    rec.id = d_.codes.allocate_code_id();
    code = token::new_code(rec.id, d_.random);
    rec.code_hash = token::hash_of(code);
    rec.client_id = r.app.client_id;
    rec.user_id = user.id;
    rec.redirect_uri = r.redirect_uri;
    rec.scopes = r.scopes;
    rec.code_challenge = r.code_challenge;
    rec.nonce = r.nonce;
    rec.auth_time_s = session.auth_time_s;
    rec.expires_ms = d_.clock.now_ms() + kCodeTtlMs;
    code_key = std::to_string(rec.id);
    // Queued: the redirect that carries the code waits for it without holding a thread. The
    // user-agent flow below writes tokens and waits, so there the code is written at once.
    if (r.wants_token) {
      d_.codes.save_code(rec);
    } else {
      code_write = d_.codes.save_code_later(rec);
    }
    out.emplace_back("code", code);
  }
  if (r.wants_token) {
    // User-agent flow, or a hybrid one with a code: no refresh token in the front channel.
    GrantInput in{r.app, user, r.scopes};
    in.grant_type = "implicit";
    in.nonce = r.nonce;
    in.auth_time_s = session.auth_time_s;
    // OIDC Core §3.3.2.11: the ID token of a hybrid response carries c_hash of its code (and,
    // from the issuer, at_hash of its access token).
    in.code = code;
    in.with_id_token = r.wants_id_token;
    // Issued with the code, so a replay of that code revokes it too (RFC 6749 §4.1.2).
    in.code_key = code_key;
    auto issued = d_.tokens.issue(in);
    for (const auto& [k, v] : issued.body) {
      out.emplace_back(std::string(k), v.is_string() ? std::string(v.get_string())
                                                     : boost::json::serialize(v));
    }
  } else if (r.wants_id_token) {
    std::string idt = d_.id_tokens.make({r.app, user, r.scopes, r.nonce, session.auth_time_s,
                                         "", code});
    out.emplace_back("id_token", idt);
  }
  if (!r.state.empty()) out.emplace_back("state", r.state);
  // RFC 9207: the issuer identifies us to clients that talk to several servers (mix-up).
  out.emplace_back("iss", d_.issuer);
  http::Response resp = http::Response::redirect(finish_url(r.redirect_uri, r.fragment, out));
  http::no_store(resp);
  if (code_write) {
    // RFC 6749 §4.1.2.1: a code that could not be stored is temporarily_unavailable.
    auto failed = redirect_error({Error::temporarily_unavailable("try again later"), true,
                                  r.redirect_uri, r.fragment, r.state});
    resp.await = [code_write, failed = std::move(failed)](http::Response::Release release) {
      code_write->on_settled([release = std::move(release), failed](std::exception_ptr error) {
        release(error ? std::optional<http::Response>(failed) : std::nullopt);
      });
    };
  }
  return resp;
}

std::optional<store::Session> AuthorizeEndpoint::session_of(const Browser& b) {
  if (b.session.empty() || b.session.size() > 128) return std::nullopt;
  auto s = d_.sessions.find_session(token::hash_of(b.session));
  if (!s || d_.clock.now_ms() >= s->expires_ms) return std::nullopt;
  return s;
}

std::string AuthorizeEndpoint::new_session(const store::User& user, http::Response& response) {
  std::string cookie = crypto::random_token(d_.random);
  d_.sessions.save_session({token::hash_of(cookie), user.id, d_.clock.now_s(),
                            d_.clock.now_ms() + kSessionTtlMs});
  std::string attrs = "; Path=/; HttpOnly; SameSite=Lax";
  if (d_.secure_cookies) attrs += "; Secure";
  response.headers.emplace_back("Set-Cookie", std::string(kSessionCookie) + "=" + cookie + attrs);
  return cookie;
}

void AuthorizeEndpoint::attach_csrf(http::Response& response, const Browser& b,
                                    const std::string& csrf) {
  if (b.csrf == csrf) return;
  std::string attrs = "; Path=/; HttpOnly; SameSite=Lax";
  if (d_.secure_cookies) attrs += "; Secure";
  response.headers.emplace_back("Set-Cookie", std::string(kCsrfCookie) + "=" + csrf + attrs);
}

http::Response AuthorizeEndpoint::login_page(const AuthorizeRequest& r, const Browser& b,
                                             std::string error, std::string username,
                                             unsigned status) {
  std::string csrf = b.csrf.size() == 43 ? b.csrf : crypto::random_token(d_.random);
  web::LoginView v{action_, r.app.name, std::move(username), std::move(error), csrf,
                   hidden_of(r)};
  http::Response resp = http::Response::html(status, d_.pages.login(v));
  http::no_store(resp);
  attach_csrf(resp, b, csrf);
  return resp;
}

http::Response AuthorizeEndpoint::consent_page(const AuthorizeRequest& r, const Browser& b,
                                               const store::User& user) {
  std::string csrf = b.csrf.size() == 43 ? b.csrf : crypto::random_token(d_.random);
  web::ConsentView v{action_, r.app.name, user.username, csrf, r.scopes, hidden_of(r)};
  http::Response resp = http::Response::html(200, d_.pages.consent(v));
  http::no_store(resp);
  attach_csrf(resp, b, csrf);
  return resp;
}

http::Response AuthorizeEndpoint::error_page(const oauth::Error& e, unsigned status) {
  std::string title = e.code() == "invalid_client_id"       ? "Unknown application"
                      : e.code() == "redirect_uri_mismatch" ? "Redirect address not allowed"
                                                            : "The request cannot be completed";
  http::Response resp = http::Response::html(status, d_.pages.error({title, e.code(),
                                                                     e.description()}));
  http::no_store(resp);
  return resp;
}

http::Response AuthorizeEndpoint::redirect_error(const AuthorizeError& e) {
  std::vector<std::pair<std::string, std::string>> p{
      {"error", e.error.code()}, {"error_description", e.error.description()}};
  if (!e.state.empty()) p.emplace_back("state", e.state);
  p.emplace_back("iss", d_.issuer);
  http::Response resp = http::Response::redirect(finish_url(e.redirect_uri, e.fragment, p));
  http::no_store(resp);
  return resp;
}

std::string AuthorizeEndpoint::finish_url(
    const std::string& redirect_uri, bool fragment,
    const std::vector<std::pair<std::string, std::string>>& params) const {
  std::string url = redirect_uri;
  char sep = fragment ? '#' : (redirect_uri.find('?') == std::string::npos ? '?' : '&');
  for (const auto& [k, v] : params) {
    url += sep;
    url += http::form_encode(k);
    url += '=';
    url += http::form_encode(v);
    sep = '&';
  }
  return url;
}

}  // namespace latchkey::oauth
