// Administrative operations behind the CLI (docs/behaviour.md §3): each returns the JSON object the
// command prints, or an error whose description is the message for stderr. Kept apart from
// argv handling so they are unit-testable.
#pragma once

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/random.h"
#include "app/key_encryption.h"
#include "core/result.h"
#include "crypto/key_sealer.h"
#include "store/stores.h"

namespace latchkey::app {

// Creates the org and the signing keys when the database has none, and seals any key still
// stored in plaintext (keys::KeyRing::seal_plaintext_keys). Idempotent. Throws
// std::runtime_error when the stored keys do not open under `sealer` (see keys::KeyRing).
store::Org bootstrap(store::Database& db, const crypto::KeySealer& sealer, Random& random,
                     const Clock& clock);

struct NewUser {
  std::string username, password, email, name;
  std::string profile = "Standard User";
  std::vector<std::string> permission_sets;
  // Argon2id cost (the defaults follow OWASP guidance).
  uint32_t argon2_memory_kib = 19 * 1024;
  uint32_t argon2_iterations = 2;
};

struct NewApp {
  std::string name;
  // The consumer key, chosen by the admin (e.g. the Salesforce CLI's built-in `PlatformCLI`);
  // empty generates one. See valid_client_id.
  std::string client_id;
  std::vector<std::string> callbacks;
  std::string scopes = "api refresh_token";
  std::string pkce = "optional";
  bool require_secret_web_server = true;
  bool require_secret_refresh = true;
  std::string permitted_users = "all";
  std::string cert_path;
  std::string client_credentials_user;
  // As typed on the command line: a store::option_name, expire-after:SECONDS for expire_after.
  // create_app() reads it, and token_format, with store/record_names.h.
  std::string refresh_policy = "until-revoked";
  int64_t access_token_ttl_s = 7200;
  bool allow_implicit = false;
  std::string mtls_cert_path;
  std::string token_format = "opaque";
  // RFC 8705 §2.1 tls_client_auth: RFC 4514 subject DN of a certificate from --tls-client-ca.
  std::string mtls_subject_dn;
  // RFC 7591 §2 token_endpoint_auth_method by its wire name; empty takes the one the
  // registration implies (Admin::create_app).
  std::string token_endpoint_auth_method;
  // grant_type=password (docs/behaviour.md §5.11); only for an app that authenticates.
  bool allow_password_flow = false;
};

class Admin {
 public:
  // `kek` is read (or its file created) only by the commands that need the signing keys.
  Admin(store::Database& db, Random& random, const Clock& clock, KekSource& kek)
      : db_(db), random_(random), clock_(clock), kek_(kek) {}

  Result<boost::json::object> create_user(const NewUser& u);
  // The client authentication method is --token-endpoint-auth-method, or by default the one
  // the registration implies: self_signed_tls_client_auth for --mtls-cert, tls_client_auth for
  // --mtls-subject-dn (those apps may have no other), client_secret_basic otherwise. Only an
  // app that authenticates with a secret gets one (printed once, here); `none` is a public
  // client, which needs no secret at either the web server or the refresh step.
  Result<boost::json::object> create_app(const NewApp& a);
  Result<boost::json::object> preauthorize(const std::string& client_id,
                                           store::Preauthorization::Kind kind,
                                           const std::string& name);
  boost::json::object list_users();
  // One user as list_users() shows each.
  Result<boost::json::object> show_user(const std::string& username);
  boost::json::object list_apps();
  Result<boost::json::object> show_app(const std::string& client_id);
  // Only for apps that authenticate with a secret.
  Result<boost::json::object> rotate_secret(const std::string& client_id);
  // Deletes the app, its pre-authorizations and users' approvals of it, and revokes every
  // token issued to it (store::AppStore::delete_app).
  Result<boost::json::object> delete_app(const std::string& client_id);
  Result<boost::json::object> revoke_user_tokens(const std::string& username);
  // Approval model (connected-app "permitted users").
  // Profile and/or permission sets; `permission_sets` nullopt leaves them as they are.
  Result<boost::json::object> update_user(const std::string& username,
                                          const std::optional<std::string>& profile,
                                          const std::optional<std::vector<std::string>>& sets,
                                          std::optional<bool> active);
  Result<boost::json::object> unpreauthorize(const std::string& client_id,
                                             store::Preauthorization::Kind kind,
                                             const std::string& name);
  // Pre-authorizations and users' own approvals of one app.
  Result<boost::json::object> approvals(const std::string& client_id);
  // Forgets a user's approval of an app and revokes the tokens the user holds for it.
  Result<boost::json::object> revoke_approval(const std::string& client_id,
                                              const std::string& username);
  // Signing keys: a new one of `alg` signs once servers reload (SIGHUP) or restart; the
  // previous one is retired but stays in the JWKS while tokens it signed may live.
  Result<boost::json::object> rotate_key(const std::string& alg);
  // Each key's kid, alg, state and the id of the KEK it is sealed under.
  boost::json::object list_keys();
  // KEK rotation: re-seals every signing key under the KEK of `new_kek` (its file created when
  // missing), kids unchanged. Every key is opened under the current KEK before anything is
  // written, so a wrong current KEK changes nothing; a key already sealed under the new KEK is
  // left as it is, so an interrupted run can be run again. Servers must then be started (or
  // restarted) with the new file.
  Result<boost::json::object> rewrap_keys(KekSource& new_kek);
  // Registers the demo user and app for `make run` unless they exist; prints how to use them.
  // "error" says why the app could not be registered (its callback, issuer + "/demo/callback",
  // must be a valid one).
  boost::json::object ensure_demo(const std::string& issuer);

 private:
  // The org, once the signing keys exist and are sealed; an error when the KEK is unusable.
  Result<store::Org> bootstrapped();

  store::Database& db_;
  Random& random_;
  const Clock& clock_;
  KekSource& kek_;
};

// A client id an admin may choose: 1 to 255 visible ASCII characters (RFC 6749 Appendix A's
// VSCHAR without the space, so it needs no quoting in a scope-like list or a log line).
bool valid_client_id(std::string_view client_id);
// name@host: one '@', something on each side, no spaces or controls.
bool valid_username(std::string_view username);
// An absolute redirect URI without a fragment (RFC 6749 §3.1.2) that a browser hands to the
// client rather than acting on itself: https; http only to localhost, 127.0.0.0/8 or [::1]
// (RFC 8252 §7.3, §8.3); or a native app's private-use scheme, which has a period
// (com.example.app:/cb, RFC 8252 §7.1). javascript:, data:, file: and the like are refused.
bool valid_callback(std::string_view uri);

}  // namespace latchkey::app
