#include "oauth/grants/password_grant.h"

#include "crypto/crypto.h"
#include "oauth/approval.h"
#include "token/scopes.h"

namespace latchkey::oauth {
namespace {

// Salesforce's answer to every credential it will not take in this flow.
Error authentication_failure(std::string debug) {
  return Error::invalid_grant("authentication failure").with_debug(std::move(debug));
}

}  // namespace

PasswordGrant::PasswordGrant(store::AppStore& apps, store::UserStore& users, TokenIssuer& issuer,
                             const crypto::PasswordHasher& passwords, LoginThrottle& throttle,
                             EventSink& events, Random& random,
                             std::vector<http::Cidr> trusted_proxies)
    : apps_(apps),
      users_(users),
      issuer_(issuer),
      passwords_(passwords),
      throttle_(throttle),
      events_(events),
      trusted_proxies_(std::move(trusted_proxies)),
      dummy_hash_(passwords.hash(crypto::random_token(random))) {}

Result<TokenOutcome> PasswordGrant::handle(const TokenRequest& req) {
  // RFC 6749 §4.3.2: the client authenticates; Salesforce wants its secret.
  if (!req.client.authenticated()) return Error::invalid_client("invalid client credentials");
  const store::App& app = req.client.app;
  // Refused before the password is looked at, so an app without the option is no oracle for
  // passwords and counts no failure against the user.
  if (!app.allow_password_flow) {
    return authentication_failure("the app does not allow the username-password flow");
  }
  const std::string username(req.params.value("username"));
  const std::string password(req.params.value("password"));
  if (username.empty() || !req.params.has("password")) {
    return Error::invalid_request("username and password are required");
  }
  const std::string address = http::client_address(req.http, trusted_proxies_);
  const auto keys = LoginThrottle::keys_of(username, address);
  auto user = username.size() <= 256 ? users_.find_user_by_username(username) : std::nullopt;
  // As the login page: the audit log names the user only when the username is one.
  const std::string_view logged_user = user ? std::string_view(user->username) : "unknown";
  if (int64_t wait = throttle_.wait_s(keys); wait > 0) {
    events_.emit({EventType::login_failure, app.client_id, logged_user, "locked_out", address,
                  req.http.request_id});
    return authentication_failure("too many failed logins; retry in " + std::to_string(wait) +
                                  " s");
  }
  // A real Argon2id check for unknown users too: the time taken does not tell who exists.
  const bool ok = passwords_.verify(user ? user->password_hash : dummy_hash_, password);
  if (!user || !ok || !user->active) {
    events_.emit(
        {EventType::login_failure, app.client_id, logged_user, {}, address, req.http.request_id});
    throttle_.failure(keys);
    return authentication_failure("wrong username or password, or an inactive user");
  }
  throttle_.success(keys);
  events_.emit({EventType::login_success, app.client_id, user->id, "password", address,
                req.http.request_id});
  // An admin-approved app only for the users it covers; nobody is asked to consent here.
  if (!may_use(apps_, app, *user)) {
    return Error::invalid_grant("user hasn't approved this consumer")
        .with_debug("user not pre-authorized for an admin-approved app");
  }
  auto scopes = token::grant_scopes(req.params.value("scope"), app.scopes);
  if (!scopes) return std::move(scopes).error();
  GrantInput in{app, *user, std::move(scopes.value())};
  in.grant_type = "password";
  in.issue_refresh = false;
  in.with_id_token = false;
  apply_client(in, req);
  return issue_tokens(issuer_, in);
}

}  // namespace latchkey::oauth
