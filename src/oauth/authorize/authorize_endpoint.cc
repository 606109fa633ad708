#include "oauth/authorize/authorize_endpoint.h"

#include <algorithm>

#include "crypto/crypto.h"
#include "http/errors.h"
#include "http/params.h"
#include "oauth/approval.h"
#include "token/scopes.h"
#include "token/opaque_tokens.h"
#include "core/paths.h"

namespace latchkey::oauth {
namespace {

// Cookie names. Where the browser reaches us over https, the __Host- prefix makes the browser
// accept the cookie only with Secure, Path=/ and no Domain (RFC 6265bis §4.1.3.2), so a
// sibling subdomain or a plain-http page cannot plant one of its own. Over http browsers reject
// Secure cookies (and so __Host- ones): there the names are plain.
constexpr std::string_view kSessionCookie = "lk_sid";
constexpr std::string_view kPreSessionCookie = "lk_csrf";
constexpr std::string_view kSecureSessionCookie = "__Host-lk_sid";
constexpr std::string_view kSecurePreSessionCookie = "__Host-lk_csrf";
constexpr std::size_t kPreSessionChars = 43;    // crypto::random_token
constexpr int64_t kCodeTtlMs = 10 * 60 * 1000;  // docs/behaviour.md §5.1: codes live 10 minutes
constexpr int64_t kSessionTtlMs = 2 * 60 * 60 * 1000;  // Salesforce's default session timeout
// How long a consent form shown right after a sign-in still counts that sign-in as made for
// its request (prompt=login, max_age): as long as the code it leads to would live.
constexpr int64_t kSignInCountsForS = kCodeTtlMs / 1000;

std::vector<web::HiddenField> hidden_of(const AuthorizeRequest& r) {
  std::vector<web::HiddenField> out;
  for (const auto& [k, v] : r.carried) out.push_back({k, v});
  return out;
}

}  // namespace

struct AuthorizeEndpoint::Browser {
  std::string session;      // raw cookie value
  std::string pre_session;  // raw cookie value: what the login form's CSRF token is bound to
  bool secure = false;      // reached over https: __Host- cookie names, Secure
  std::string remote_addr;
  std::string_view request_id;  // the request's, for its events; the request outlives this
};

AuthorizeEndpoint::AuthorizeEndpoint(AuthorizeDeps deps)
    : d_(std::move(deps)),
      action_(paths::kAuthorize),
      dummy_hash_(d_.passwords.hash(crypto::random_token(d_.random))) {
  if (d_.csrf_key.empty()) d_.csrf_key = d_.random.bytes(32);
}

http::Response AuthorizeEndpoint::handle(const http::Request& request) {
  Browser b;
  // The browser is on https when the issuer is, or when it reached the TLS listener.
  b.secure = d_.secure_cookies || request.tls;
  const std::string_view session_name = b.secure ? kSecureSessionCookie : kSessionCookie;
  const std::string_view pre_name = b.secure ? kSecurePreSessionCookie : kPreSessionCookie;
  std::vector<std::string> sessions, pre_sessions;
  for (const auto& [name, value] : request.headers) {
    if (name != "cookie") continue;
    for (auto& v : http::cookie_values(value, session_name)) sessions.push_back(std::move(v));
    for (auto& v : http::cookie_values(value, pre_name)) pre_sessions.push_back(std::move(v));
  }
  // Two cookies of one name: one was planted (another path, a parent domain, plain http), and
  // which one the browser sends first is not ours to trust. Refuse rather than pick one.
  if (sessions.size() > 1 || pre_sessions.size() > 1) {
    return error_page(
        Error::invalid_request("the request carries a sign-in cookie more than "
                               "once; clear this site's cookies and try again"));
  }
  if (!sessions.empty()) b.session = std::move(sessions.front());
  if (!pre_sessions.empty()) b.pre_session = std::move(pre_sessions.front());
  b.remote_addr = http::client_address(request, d_.trusted_proxies);
  b.request_id = request.request_id;

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

  // Every POST comes from our own login or consent form (RFC 9700 §4.7). Its csrf field must
  // be the token derived, under this server's key, from the cookie it is bound to: the
  // pre-session cookie for the login form, the session cookie for the consent form. An equal
  // cookie and field made up by someone else, or a token of another browser, do not pass.
  auto csrf = params->value("csrf");
  auto matches = [&](const std::string& token) {
    return !csrf.empty() && crypto::constant_time_equal(csrf, token);
  };
  const bool login_form = params->has("username") || params->has("password");
  bool valid = false;
  bool signed_in_now = false;
  if (login_form || !params->has("decision")) {
    valid = b.pre_session.size() == kPreSessionChars && matches(login_token(b.pre_session));
  }
  if (!login_form && !valid && !b.session.empty() && b.session.size() <= 128) {
    signed_in_now = matches(consent_token(b.session, r, true));
    valid = signed_in_now || matches(consent_token(b.session, r, false));
  }
  if (!valid) {
    return error_page(Error::invalid_request("the form expired or was not sent from this site; "
                                             "go back and try again"),
                      403);
  }
  if (login_form) return login_attempt(r, *params, b);
  auto session = session_of(b);
  // The consent form's token says the user signed in for this request; that counts for as
  // long as the code would live.
  signed_in_now =
      signed_in_now && session && d_.clock.now_s() - session->auth_time_s <= kSignInCountsForS;
  if (params->has("decision")) return decision(r, *params, b, std::move(session), signed_in_now);
  return proceed(r, b, std::move(session), signed_in_now);
}

http::Response AuthorizeEndpoint::proceed(const AuthorizeRequest& r, const Browser& b,
                                          std::optional<store::Session> session,
                                          bool signed_in_now) {
  auto err = [&](Error e) {
    return redirect_error({std::move(e), true, r.redirect_uri, r.fragment, r.state});
  };
  if (must_sign_in(r, session, signed_in_now, d_.clock.now_s())) {
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
      for (const auto& s : r.scopes) need_consent = need_consent || !token::has_scope(c->scopes, s);
    }
  }
  if (need_consent && r.app.admin_approved_only && !r.prompt_has("consent")) need_consent = false;
  if (need_consent) {
    if (r.prompt_has("none")) return err(Error::consent_required());
    return consent_page(r, b, *user, signed_in_now);
  }
  return issue(r, *user, *session, b.request_id);
}

http::Response AuthorizeEndpoint::login_attempt(const AuthorizeRequest& r, const http::Params& form,
                                                const Browser& b) {
  std::string username(form.value("username"));
  std::string password(form.value("password"));
  // Counted per (username, address), per address and per username (oauth/login_throttle.h);
  // the address is the client's as http::client_address finds it.
  const auto keys = LoginThrottle::keys_of(username, b.remote_addr);
  auto user = username.size() <= 256 ? d_.users.find_user_by_username(username) : std::nullopt;
  // The audit log names the user only when the username is one: what was typed into the box
  // otherwise may be anything, a password typed into the wrong field included (RFC 9700 §4.3:
  // no secrets in logs), so it is logged as "unknown".
  std::string_view logged_user = user ? std::string_view(user->username) : "unknown";
  if (int64_t wait = d_.throttle.wait_s(keys); wait > 0) {
    // Refused before the password is checked, and not counted (that would only lengthen the
    // delay), but still a failed login for the audit log and metrics.
    d_.events.emit({EventType::login_failure, r.app.client_id, logged_user, "locked_out",
                    b.remote_addr, b.request_id});
    return login_page(
        r, b, "Too many failed attempts. Try again in " + std::to_string(wait) + " seconds.",
        username, 429);
  }
  // Verify against a real Argon2id hash even for unknown users, so response time does not
  // tell which usernames exist.
  bool ok = d_.passwords.verify(user ? user->password_hash : dummy_hash_, password);
  if (!user || !ok || !user->active) {
    d_.events.emit(
        {EventType::login_failure, r.app.client_id, logged_user, {}, b.remote_addr, b.request_id});
    d_.throttle.failure(keys);
    return login_page(r, b, "Please check your username and password.", username, 401);
  }
  // The address's count is not cleared: that would let someone with one valid account reset
  // it between guesses at other users' passwords.
  d_.throttle.success(keys);
  d_.events.emit(
      {EventType::login_success, r.app.client_id, user->id, {}, b.remote_addr, b.request_id});

  store::Session session{"", user->id, d_.clock.now_s(), d_.clock.now_ms() + kSessionTtlMs};
  http::Response out;
  std::string cookie = new_session(*user, b, out);
  session.session_hash = token::hash_of(cookie);
  Browser after = b;
  after.session = cookie;
  http::Response next = proceed(r, after, session, true);
  for (const auto& [k, v] : out.headers) next.headers.emplace_back(k, v);
  return next;
}

http::Response AuthorizeEndpoint::decision(const AuthorizeRequest& r, const http::Params& form,
                                           const Browser& b, std::optional<store::Session> session,
                                           bool signed_in_now) {
  // The same rule as the authorize GET (proceed): whoever holds a browser session cannot
  // answer a consent form of a prompt=login or max_age request without signing in for it.
  if (must_sign_in(r, session, signed_in_now, d_.clock.now_s())) {
    return login_page(r, b, "", r.login_hint);
  }
  auto user = d_.users.find_user(session->user_id);
  if (!user || !user->active) return login_page(r, b, "", r.login_hint);
  auto err = [&](Error e) {
    return redirect_error({std::move(e), true, r.redirect_uri, r.fragment, r.state});
  };
  if (form.value("decision") != "allow") {
    d_.events.emit({EventType::consent_denied, r.app.client_id, user->id,
                    token::join_scopes(r.scopes), b.remote_addr, b.request_id});
    return err(Error::access_denied());
  }
  if (!may_use(d_.apps, r.app, *user)) {
    return err(Error::access_denied("user is not admin approved to access this app"));
  }
  // Remember the union of what was approved before and now.
  std::vector<std::string> scopes = r.scopes;
  if (auto prior = d_.consents.find_consent(user->id, r.app.client_id)) {
    for (const auto& s : prior->scopes) {
      if (!token::has_scope(scopes, s)) scopes.push_back(s);
    }
  }
  d_.consents.save_consent({user->id, r.app.client_id, scopes, d_.clock.now_ms()});
  d_.events.emit({EventType::consent_granted, r.app.client_id, user->id, token::join_scopes(scopes),
                  b.remote_addr, b.request_id});
  return issue(r, *user, *session, b.request_id);
}

http::Response AuthorizeEndpoint::issue(const AuthorizeRequest& r, const store::User& user,
                                        const store::Session& session,
                                        std::string_view request_id) {
  std::vector<std::pair<std::string, std::string>> out;
  std::string code;
  std::string code_key;  // Token::code_key of the code, when one is issued
  // The write the redirect waits for: the tokens' when there are any, else the code's.
  std::shared_ptr<store::PendingWrite> write;
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
    // Queued: the redirect that carries the code waits for it without holding a thread. With
    // tokens too (hybrid), the code is written at once and the redirect waits for theirs.
    if (r.wants_token) {
      d_.codes.save_code(rec);
    } else {
      write = d_.codes.save_code_later(rec);
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
    if (issued.sign_id_token) issued.body["id_token"] = issued.sign_id_token();
    write = std::move(issued.write);
    for (const auto& [k, v] : issued.body) {
      out.emplace_back(std::string(k),
                       v.is_string() ? std::string(v.get_string()) : boost::json::serialize(v));
    }
  } else if (r.wants_id_token) {
    std::string idt =
        d_.id_tokens.make({r.app, user, r.scopes, r.nonce, session.auth_time_s, "", code});
    out.emplace_back("id_token", idt);
  }
  if (!r.state.empty()) out.emplace_back("state", r.state);
  // RFC 9207: the issuer identifies us to clients that talk to several servers (mix-up).
  out.emplace_back("iss", d_.issuer);
  http::Response resp = http::Response::redirect(finish_url(r.redirect_uri, r.fragment, out));
  http::no_store(resp);
  if (write) {
    // RFC 6749 §4.1.2.1: a code or token that could not be stored is temporarily_unavailable.
    auto failed = redirect_error({Error::temporarily_unavailable("try again later"), true,
                                  r.redirect_uri, r.fragment, r.state});
    resp.await = [this, write, failed = std::move(failed), tokens = r.wants_token,
                  client_id = r.app.client_id, user_id = user.id,
                  request_id = std::string(request_id)](http::Response::Release release) {
      write->on_settled([this, release = std::move(release), failed, tokens, client_id, user_id,
                         request_id](const store::WriteOutcome& written) {
        if (!written.is_durable()) {
          release(failed);
          return;
        }
        if (tokens) {
          d_.events.emit({EventType::token_issued, client_id, user_id, "implicit", {}, request_id});
        }
        release(std::nullopt);
      });
    };
  }
  return resp;
}

http::Response AuthorizeEndpoint::sign_in_and_redirect(const http::Request& request,
                                                       const store::User& user,
                                                       std::string_view client_id,
                                                       std::string_view how,
                                                       const std::string& location) {
  Browser b;
  b.secure = d_.secure_cookies || request.tls;
  b.remote_addr = http::client_address(request, d_.trusted_proxies);
  d_.events.emit(
      {EventType::login_success, client_id, user.id, how, b.remote_addr, request.request_id});
  http::Response out = http::Response::redirect(location);
  new_session(user, b, out);
  http::no_store(out);
  return out;
}

std::optional<store::Session> AuthorizeEndpoint::session_of(const Browser& b) {
  if (b.session.empty() || b.session.size() > 128) return std::nullopt;
  auto s = d_.sessions.find_session(token::hash_of(b.session));
  if (!s || d_.clock.now_ms() >= s->expires_ms) return std::nullopt;
  return s;
}

std::string AuthorizeEndpoint::new_session(const store::User& user, const Browser& b,
                                           http::Response& response) {
  std::string value = crypto::random_token(d_.random);
  d_.sessions.save_session(
      {token::hash_of(value), user.id, d_.clock.now_s(), d_.clock.now_ms() + kSessionTtlMs});
  response.headers.emplace_back("Set-Cookie",
                                cookie(b, b.secure ? kSecureSessionCookie : kSessionCookie, value));
  return value;
}

std::string AuthorizeEndpoint::cookie(const Browser& b, std::string_view name,
                                      std::string_view value) const {
  // Never a Domain attribute: host-only cookies (and __Host- requires it).
  std::string out = std::string(name) + "=" + std::string(value) + "; Path=/";
  if (b.secure) out += "; Secure";
  out += "; HttpOnly; SameSite=Lax";
  return out;
}

std::string AuthorizeEndpoint::login_token(std::string_view pre_session) const {
  return crypto::base64url_encode(
      crypto::hmac_sha256(d_.csrf_key, "login\n" + std::string(pre_session)));
}

std::string AuthorizeEndpoint::consent_token(std::string_view session, const AuthorizeRequest& r,
                                             bool signed_in_now) const {
  std::string data = signed_in_now ? "consent-after-sign-in\n" : "consent\n";
  data += session;
  if (signed_in_now) {
    // The request's parameters, in a canonical order (a form may post them in any).
    auto carried = r.carried;
    std::sort(carried.begin(), carried.end());
    for (const auto& [k, v] : carried) {
      data += '\n';
      data += http::form_encode(k);
      data += '=';
      data += http::form_encode(v);
    }
  }
  return crypto::base64url_encode(crypto::hmac_sha256(d_.csrf_key, data));
}

http::Response AuthorizeEndpoint::login_page(const AuthorizeRequest& r, const Browser& b,
                                             std::string error, std::string username,
                                             unsigned status) {
  // The pre-session identifier: kept while the browser has one, else a new one.
  const bool has_pre = b.pre_session.size() == kPreSessionChars;
  std::string pre = has_pre ? b.pre_session : crypto::random_token(d_.random);
  web::LoginView v{action_,          r.app.name,       std::move(username),
                   std::move(error), login_token(pre), hidden_of(r)};
  http::Response resp = http::Response::html(status, d_.pages.login(v));
  http::no_store(resp);
  if (!has_pre) {
    resp.headers.emplace_back(
        "Set-Cookie", cookie(b, b.secure ? kSecurePreSessionCookie : kPreSessionCookie, pre));
  }
  return resp;
}

http::Response AuthorizeEndpoint::consent_page(const AuthorizeRequest& r, const Browser& b,
                                               const store::User& user, bool signed_in_now) {
  web::ConsentView v{action_,       r.app.name,
                     user.username, consent_token(b.session, r, signed_in_now),
                     r.scopes,      hidden_of(r)};
  http::Response resp = http::Response::html(200, d_.pages.consent(v));
  http::no_store(resp);
  return resp;
}

http::Response AuthorizeEndpoint::error_page(const oauth::Error& e, unsigned status) {
  std::string title = e.error_code() == ErrorCode::invalid_client_id ? "Unknown application"
                      : e.error_code() == ErrorCode::redirect_uri_mismatch
                          ? "Redirect address not allowed"
                          : "The request cannot be completed";
  http::Response resp =
      http::Response::html(status, d_.pages.error({title, std::string(e.code()), e.description()}));
  http::no_store(resp);
  return resp;
}

http::Response AuthorizeEndpoint::redirect_error(const AuthorizeError& e) {
  std::vector<std::pair<std::string, std::string>> p = http::redirect_error_params(e.error);
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
