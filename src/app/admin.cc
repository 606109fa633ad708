#include "app/admin.h"

#include <charconv>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "app/demo.h"
#include "core/ascii.h"
#include "core/ids.h"
#include "crypto/crypto.h"
#include "crypto/distinguished_name.h"
#include "crypto/jose.h"
#include "crypto/password.h"
#include "keys/key_ring.h"
#include "store/record_names.h"
#include "token/scopes.h"
#include "core/paths.h"

namespace latchkey::app {
namespace {

using oauth::Error;

boost::json::array to_array(const std::vector<std::string>& v) {
  boost::json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

boost::json::object app_json(const store::App& a) {
  boost::json::object o{
      {"client_id", a.client_id},
      {"name", a.name},
      {"org_id", a.org_id},
      {"callbacks", to_array(a.callbacks)},
      {"scopes", token::join_scopes(a.scopes)},
      {"pkce", a.pkce_required ? "required" : "optional"},
      {"require_secret_web_server", a.require_secret_web_server},
      {"require_secret_refresh", a.require_secret_refresh},
      {"permitted_users", a.admin_approved_only ? "admin-approved" : "all"},
      {"refresh_policy", store::option_name(a.refresh_policy)},
      {"access_token_ttl", a.access_token_ttl_s},
      {"allow_implicit", a.allow_implicit},
      {"allow_password_flow", a.allow_password_flow},
      {"token_format", store::to_string(a.token_format)},
      {"token_endpoint_auth_method", store::to_string(a.token_endpoint_auth_method)},
      {"has_cert", !a.cert_pem.empty()},
      {"has_mtls_cert", !a.mtls_cert_pem.empty()},
  };
  if (a.mtls_subject_dn.empty()) {
    o["mtls_subject_dn"] = nullptr;
  } else {
    o["mtls_subject_dn"] = a.mtls_subject_dn;
  }
  if (a.refresh_policy == store::RefreshPolicy::expire_after) o["refresh_ttl"] = a.refresh_ttl_s;
  return o;
}

bool uses_secret(const store::App& app) {
  return app.token_endpoint_auth_method == store::ClientAuthMethod::client_secret_basic ||
         app.token_endpoint_auth_method == store::ClientAuthMethod::client_secret_post;
}

// RFC 7591 §2 token_endpoint_auth_method: the one asked for, or the one the registration
// implies. A registered client certificate is the app's only credential (RFC 8705 §2: a
// secret beside it would get unbound tokens); each asymmetric method needs its credential.
Result<store::ClientAuthMethod> auth_method_for(const NewApp& a, const store::App& app) {
  using M = store::ClientAuthMethod;
  M implied = M::client_secret_basic;
  if (!app.mtls_cert_pem.empty()) implied = M::self_signed_tls_client_auth;
  if (!app.mtls_subject_dn.empty()) implied = M::tls_client_auth;
  if (a.token_endpoint_auth_method.empty()) return implied;
  auto chosen = store::parse_client_auth_method(a.token_endpoint_auth_method);
  if (!chosen) {
    return Error::invalid_request(
        "--token-endpoint-auth-method must be client_secret_basic, client_secret_post, "
        "private_key_jwt, tls_client_auth, self_signed_tls_client_auth or none");
  }
  if (implied != M::client_secret_basic && *chosen != implied) {
    const char* option = app.mtls_cert_pem.empty() ? "--mtls-subject-dn" : "--mtls-cert";
    return Error::invalid_request(std::string("an app with ") + option + " authenticates with " +
                                  std::string(store::to_string(implied)) + " only");
  }
  if (*chosen == M::private_key_jwt && app.cert_pem.empty()) {
    return Error::invalid_request("--token-endpoint-auth-method private_key_jwt needs --cert");
  }
  if (*chosen == M::self_signed_tls_client_auth && app.mtls_cert_pem.empty()) {
    return Error::invalid_request(
        "--token-endpoint-auth-method self_signed_tls_client_auth needs --mtls-cert");
  }
  if (*chosen == M::tls_client_auth && app.mtls_subject_dn.empty()) {
    return Error::invalid_request(
        "--token-endpoint-auth-method tls_client_auth needs "
        "--mtls-subject-dn");
  }
  return *chosen;
}

}  // namespace

bool valid_client_id(std::string_view id) {
  if (id.empty() || id.size() > 255) return false;
  for (char c : id) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

bool valid_username(std::string_view u) {
  auto at = u.find('@');
  if (u.size() > 80 || at == std::string_view::npos || at == 0 || at + 1 >= u.size()) return false;
  if (u.find('@', at + 1) != std::string_view::npos) return false;
  for (char c : u) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '<' || c == '>') return false;
  }
  return true;
}

namespace {

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
bool valid_scheme(std::string_view s) {
  if (s.empty() || !is_alpha(s[0])) return false;
  for (char c : s) {
    if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-' && c != '.') return false;
  }
  return true;
}

// 127.0.0.0/8 written as a dotted quad of decimal octets without leading zeros, so that no
// reading of the host (octal, shortened forms) can name another address.
bool ipv4_loopback(std::string_view host) {
  int parts = 0;
  bool first_is_127 = false;
  while (true) {
    auto dot = host.find('.');
    std::string_view part = host.substr(0, dot);
    if (part.empty() || part.size() > 3 || (part.size() > 1 && part[0] == '0')) return false;
    int value = 0;
    for (char c : part) {
      if (!is_digit(c)) return false;
      value = value * 10 + (c - '0');
    }
    if (value > 255) return false;
    if (parts == 0) first_is_127 = value == 127;
    ++parts;
    if (dot == std::string_view::npos) break;
    host.remove_prefix(dot + 1);
  }
  return parts == 4 && first_is_127;
}

// The authority of an http(s) URI (the part after "://"): a host without userinfo and an
// optional numeric port. `loopback_only` admits only localhost, 127.0.0.0/8 and [::1]
// (RFC 8252 §7.3, §8.3: plain http is for redirects that never leave the device).
bool valid_authority(std::string_view authority, bool loopback_only) {
  // Userinfo has no use in a redirect and lets "http://localhost@evil.example" look local.
  if (authority.empty() || authority.find('@') != std::string_view::npos) return false;
  std::string_view host, port;
  if (authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return false;
    host = authority.substr(0, close + 1);
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      port = rest.substr(1);
    }
  } else {
    auto colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (host.empty() || port.size() > 5) return false;
  for (char c : port) {
    if (!is_digit(c)) return false;
  }
  if (!loopback_only) return true;
  return iequals(host, "localhost") || host == "[::1]" || ipv4_loopback(host);
}

}  // namespace

bool valid_callback(std::string_view uri) {
  auto colon = uri.find(':');
  if (uri.empty() || uri.size() > 2000 || colon == std::string_view::npos) return false;
  if (uri.find('#') != std::string_view::npos) return false;
  for (char c : uri) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return false;
  }
  std::string_view scheme = uri.substr(0, colon);
  if (!valid_scheme(scheme)) return false;
  bool https = iequals(scheme, "https");
  if (https || iequals(scheme, "http")) {
    std::string_view rest = uri.substr(colon + 1);
    if (!rest.starts_with("//")) return false;
    rest.remove_prefix(2);
    return valid_authority(rest.substr(0, rest.find_first_of("/?")), !https);
  }
  // RFC 8252 §7.1: a native app's private-use scheme is a reverse domain name, so it has a
  // period. That also keeps out javascript:, data:, vbscript:, file:, blob:, about: and every
  // other scheme a browser would act on itself instead of handing to the app.
  return scheme.find('.') != std::string_view::npos;
}

store::Org bootstrap(store::Database& db, const crypto::KeySealer& sealer, Random& random,
                     const Clock& clock) {
  auto org = db.default_org();
  if (!org) {
    store::Org o{make_id(random, "00D"), "latchkey", clock.now_ms()};
    db.create_org(o);
    org = db.default_org();
  }
  keys::KeyRing::seal_plaintext_keys(db, sealer);
  keys::KeyRing keys(db, sealer, random, clock);  // creates the signing keys on first use
  return *org;
}

Result<store::Org> Admin::bootstrapped() {
  auto sealer = kek_.sealer(&db_);
  if (!sealer) return std::move(sealer).error();
  try {
    return bootstrap(db_, **sealer, random_, clock_);
  } catch (const store::StoreError&) {
    throw;  // the database itself: main reports it
  } catch (const std::runtime_error& e) {
    return Error::invalid_request(e.what());
  }
}

Result<boost::json::object> Admin::create_user(const NewUser& u) {
  if (!valid_username(u.username)) {
    return Error::invalid_request("username must look like an email address (name@host)");
  }
  if (u.password.empty()) return Error::invalid_request("password must not be empty");
  if (u.password.size() > 1024) return Error::invalid_request("password is too long");
  auto org = bootstrapped();
  if (!org) return std::move(org).error();
  store::User user;
  user.id = make_id(random_, "005");
  user.org_id = org->id;
  user.username = u.username;
  user.email = u.email.empty() ? u.username : u.email;
  auto space = u.name.find(' ');
  user.first_name = space == std::string::npos ? "" : u.name.substr(0, space);
  user.last_name = space == std::string::npos ? u.name : u.name.substr(space + 1);
  crypto::PasswordHasher hasher(random_, {u.argon2_memory_kib, u.argon2_iterations, 1});
  user.password_hash = hasher.hash(u.password);
  user.profile = u.profile.empty() ? "Standard User" : u.profile;
  user.permission_sets = u.permission_sets;
  user.created_ms = clock_.now_ms();
  if (!db_.create_user(user)) return Error::invalid_request("username is taken: " + u.username);
  return boost::json::object{
      {"user_id", user.id}, {"username", user.username}, {"org_id", user.org_id}};
}

Result<boost::json::object> Admin::create_app(const NewApp& a) {
  if (a.name.empty()) return Error::invalid_request("--name is required");
  if (!a.client_id.empty() && !valid_client_id(a.client_id)) {
    return Error::invalid_request(
        "--client-id must be 1 to 255 visible ASCII characters (no spaces or controls)");
  }
  auto org = bootstrapped();
  if (!org) return std::move(org).error();
  store::App app;
  app.id = make_id(random_, "0Ha");
  app.client_id = a.client_id.empty() ? make_client_id(random_) : a.client_id;
  app.org_id = org->id;
  app.name = a.name;
  for (const auto& c : a.callbacks) {
    if (!valid_callback(c)) {
      return Error::invalid_request(
          "not a valid callback URL: " + c +
          " (use https://, http:// only for localhost, 127.0.0.0/8 or [::1], or a private-use "
          "scheme with a period such as com.example.app:/callback; RFC 8252 §7; no fragment)");
    }
  }
  app.callbacks = a.callbacks;
  app.scopes = token::split_scopes(a.scopes);
  if (app.scopes.empty()) return Error::invalid_request("--scopes must name at least one scope");
  if (a.pkce != "required" && a.pkce != "optional") {
    return Error::invalid_request("--pkce must be required or optional");
  }
  app.pkce_required = a.pkce == "required";
  app.require_secret_web_server = a.require_secret_web_server;
  app.require_secret_refresh = a.require_secret_refresh;
  if (a.permitted_users != "all" && a.permitted_users != "admin-approved") {
    return Error::invalid_request("--permitted-users must be all or admin-approved");
  }
  app.admin_approved_only = a.permitted_users == "admin-approved";
  // RFC 8705 §2.1.2: a client uses exactly one of the mTLS methods; one registered credential
  // also keeps "which one did it authenticate with" unambiguous.
  if (!a.mtls_cert_path.empty() && !a.mtls_subject_dn.empty()) {
    return Error::invalid_request(
        "--mtls-cert (self-signed certificate) and --mtls-subject-dn (CA-issued certificate) "
        "exclude each other: an app may have one or the other, not both");
  }
  if (!a.mtls_subject_dn.empty()) {
    // Stored normalized, so `app show` prints what certificates are compared against.
    auto dn = crypto::normalize_dn(a.mtls_subject_dn);
    if (!dn) {
      return Error::invalid_request(
          "--mtls-subject-dn is not an RFC 4514 distinguished name "
          "(e.g. \"CN=client,O=Example\"): " +
          a.mtls_subject_dn);
    }
    app.mtls_subject_dn = *dn;
  }
  for (auto [path, field] :
       {std::pair{&a.cert_path, &app.cert_pem}, std::pair{&a.mtls_cert_path, &app.mtls_cert_pem}}) {
    if (path->empty()) continue;
    auto pem = read_file(*path);
    if (!pem) return Error::invalid_request("cannot read certificate file " + *path);
    auto key = crypto::PublicKey::from_pem(*pem);
    if (!key || key->alg().empty()) {
      return Error::invalid_request(*path +
                                    " is not a PEM certificate with an RSA (2048+) or "
                                    "P-256 key");
    }
    *field = *pem;
  }
  auto method = auth_method_for(a, app);
  if (!method) return std::move(method).error();
  app.token_endpoint_auth_method = *method;
  if (*method == store::ClientAuthMethod::none) {
    // A public client has nothing to authenticate with, at either step.
    app.require_secret_web_server = false;
    app.require_secret_refresh = false;
  }
  // RFC 6749 §4.3.2: the client of the password grant authenticates, as Salesforce's does with
  // its secret; a public client could be anyone holding a user's password.
  if (a.allow_password_flow && *method == store::ClientAuthMethod::none) {
    return Error::invalid_request(
        "--allow-password-flow needs an app that authenticates (not "
        "--token-endpoint-auth-method none)");
  }
  app.allow_password_flow = a.allow_password_flow;
  if (!a.client_credentials_user.empty()) {
    auto u = db_.find_user_by_username(a.client_credentials_user);
    if (!u) return Error::invalid_request("no such user: " + a.client_credentials_user);
    app.client_credentials_user_id = u->id;
  }
  // NAME, or expire-after:SECONDS.
  const std::string_view rp = a.refresh_policy;
  const std::size_t colon = rp.find(':');
  auto policy = store::parse_refresh_policy_option(rp.substr(0, colon));
  const bool takes_seconds = policy == store::RefreshPolicy::expire_after;
  if (!policy || takes_seconds != (colon != std::string_view::npos)) {
    return Error::invalid_request(
        "--refresh-policy must be until-revoked, immediately, expire-after:SECONDS or rotate");
  }
  app.refresh_policy = *policy;
  if (takes_seconds) {
    int64_t n = 0;
    auto s = rp.substr(colon + 1);
    auto res = std::from_chars(s.data(), s.data() + s.size(), n);
    if (res.ec != std::errc{} || res.ptr != s.data() + s.size() || n <= 0) {
      return Error::invalid_request(
          "--refresh-policy expire-after:SECONDS needs a positive number");
    }
    app.refresh_ttl_s = n;
  }
  if (a.access_token_ttl_s <= 0 || a.access_token_ttl_s > 86400 * 30) {
    return Error::invalid_request("--access-token-ttl must be between 1 and 2592000 seconds");
  }
  app.access_token_ttl_s = a.access_token_ttl_s;
  app.allow_implicit = a.allow_implicit;
  auto format = store::parse_token_format(a.token_format);
  if (!format) return Error::invalid_request("--token-format must be opaque, jwt or jwt-sf");
  app.token_format = *format;
  app.created_ms = clock_.now_ms();
  boost::json::object out{
      {"client_id", app.client_id},
      {"token_endpoint_auth_method", store::to_string(app.token_endpoint_auth_method)}};
  // The secret is shown once, here; only its SHA-256 is kept. An app that cannot use one gets
  // none, so there is no secret to leak that would get unbound tokens for an mTLS app.
  if (uses_secret(app)) {
    std::string secret = random_base62(random_, 64);
    app.secret_hash = crypto::sha256_hex(secret);
    out["client_secret"] = secret;
  }
  if (!db_.create_app(app)) {
    return Error::invalid_request("--client-id is taken: an app with client id " + app.client_id +
                                  " exists");
  }
  return out;
}

Result<boost::json::object> Admin::preauthorize(const std::string& client_id,
                                                store::Preauthorization::Kind kind,
                                                const std::string& name) {
  auto app = db_.find_app(client_id);
  if (!app) return Error::invalid_request("no such app: " + client_id);
  if (name.empty()) return Error::invalid_request("a profile or permission set name is required");
  db_.add_preauthorization({client_id, kind, name});
  boost::json::array list;
  for (const auto& p : db_.preauthorizations(client_id)) {
    list.push_back(boost::json::object{{"kind", store::to_string(p.kind)}, {"name", p.name}});
  }
  return boost::json::object{{"client_id", client_id}, {"preauthorized", std::move(list)}};
}

namespace {

boost::json::object user_json(const store::User& u) {
  return {{"user_id", u.id},
          {"username", u.username},
          {"email", u.email},
          {"profile", u.profile},
          {"permission_sets", to_array(u.permission_sets)},
          {"active", u.active}};
}

}  // namespace

boost::json::object Admin::list_users() {
  boost::json::array list;
  for (const auto& u : db_.list_users()) list.push_back(user_json(u));
  return {{"users", std::move(list)}};
}

Result<boost::json::object> Admin::show_user(const std::string& username) {
  auto u = db_.find_user_by_username(username);
  if (!u) return Error::invalid_request("no such user: " + username);
  return user_json(*u);
}

boost::json::object Admin::list_apps() {
  boost::json::array list;
  for (const auto& a : db_.list_apps()) list.push_back(app_json(a));
  return {{"apps", std::move(list)}};
}

Result<boost::json::object> Admin::show_app(const std::string& client_id) {
  auto app = db_.find_app(client_id);
  if (!app) return Error::invalid_request("no such app: " + client_id);
  auto o = app_json(*app);
  boost::json::array pre;
  for (const auto& p : db_.preauthorizations(client_id)) {
    pre.push_back(boost::json::object{{"kind", store::to_string(p.kind)}, {"name", p.name}});
  }
  o["preauthorized"] = std::move(pre);
  return o;
}

Result<boost::json::object> Admin::rotate_secret(const std::string& client_id) {
  auto app = db_.find_app(client_id);
  if (!app) return Error::invalid_request("no such app: " + client_id);
  if (!uses_secret(*app)) {
    return Error::invalid_request("app " + client_id + " authenticates with " +
                                  std::string(store::to_string(app->token_endpoint_auth_method)) +
                                  ", not with a client secret");
  }
  std::string secret = random_base62(random_, 64);
  if (!db_.update_secret_hash(client_id, crypto::sha256_hex(secret))) {
    return Error::invalid_request("no such app: " + client_id);
  }
  return boost::json::object{{"client_id", client_id}, {"client_secret", secret}};
}

Result<boost::json::object> Admin::delete_app(const std::string& client_id) {
  if (!db_.delete_app(client_id)) return Error::invalid_request("no such app: " + client_id);
  return boost::json::object{{"client_id", client_id}, {"deleted", true}};
}

Result<boost::json::object> Admin::revoke_user_tokens(const std::string& username) {
  auto u = db_.find_user_by_username(username);
  if (!u) return Error::invalid_request("no such user: " + username);
  int n = db_.revoke_by_user(u->id);
  return boost::json::object{{"user_id", u->id}, {"revoked", n}};
}

Result<boost::json::object> Admin::update_user(const std::string& username,
                                               const std::optional<std::string>& profile,
                                               const std::optional<std::vector<std::string>>& sets,
                                               std::optional<bool> active) {
  auto u = db_.find_user_by_username(username);
  if (!u) return Error::invalid_request("no such user: " + username);
  if (profile && profile->empty()) return Error::invalid_request("--profile must not be empty");
  if (profile || sets) {
    db_.update_user_access(u->id, profile.value_or(u->profile), sets.value_or(u->permission_sets));
  }
  if (active) {
    db_.set_user_active(u->id, *active);
    // A deactivated user's tokens stop working at once, not when they expire.
    if (!*active) db_.revoke_by_user(u->id);
  }
  u = db_.find_user(u->id);
  return boost::json::object{{"user_id", u->id},
                             {"username", u->username},
                             {"profile", u->profile},
                             {"permission_sets", to_array(u->permission_sets)},
                             {"active", u->active}};
}

Result<boost::json::object> Admin::unpreauthorize(const std::string& client_id,
                                                  store::Preauthorization::Kind kind,
                                                  const std::string& name) {
  if (!db_.find_app(client_id)) return Error::invalid_request("no such app: " + client_id);
  if (!db_.remove_preauthorization({client_id, kind, name})) {
    return Error::invalid_request("the app has no such pre-authorization: " + name);
  }
  return approvals(client_id);
}

Result<boost::json::object> Admin::approvals(const std::string& client_id) {
  auto app = db_.find_app(client_id);
  if (!app) return Error::invalid_request("no such app: " + client_id);
  boost::json::array pre;
  for (const auto& p : db_.preauthorizations(client_id)) {
    pre.push_back(boost::json::object{{"kind", store::to_string(p.kind)}, {"name", p.name}});
  }
  boost::json::array users;
  for (const auto& c : db_.list_consents(client_id)) {
    auto u = db_.find_user(c.user_id);
    users.push_back(boost::json::object{{"user_id", c.user_id},
                                        {"username", u ? u->username : ""},
                                        {"scopes", token::join_scopes(c.scopes)},
                                        {"approved_ms", c.granted_ms}});
  }
  return boost::json::object{
      {"client_id", client_id},
      {"permitted_users", app->admin_approved_only ? "admin-approved" : "all"},
      {"preauthorized", std::move(pre)},
      {"approved_by", std::move(users)}};
}

Result<boost::json::object> Admin::revoke_approval(const std::string& client_id,
                                                   const std::string& username) {
  auto u = db_.find_user_by_username(username);
  if (!u) return Error::invalid_request("no such user: " + username);
  if (!db_.delete_consent(u->id, client_id)) {
    return Error::invalid_request(username + " has not approved app " + client_id);
  }
  int revoked = db_.revoke_by_user_app(u->id, client_id);
  return boost::json::object{
      {"client_id", client_id}, {"user_id", u->id}, {"revoked_tokens", revoked}};
}

Result<boost::json::object> Admin::rotate_key(const std::string& alg) {
  if (alg != "RS256" && alg != "ES256")
    return Error::invalid_request("--alg must be RS256 or ES256");
  if (auto org = bootstrapped(); !org) return std::move(org).error();
  std::string kid = keys::KeyRing::rotate(db_, **kek_.sealer(&db_), random_, clock_, alg);
  auto out = list_keys();
  out["rotated"] = boost::json::object{{"kid", kid}, {"alg", alg}};
  out["note"] = "running servers sign with the new key after SIGHUP (kill -HUP) or a restart";
  return out;
}

boost::json::object Admin::list_keys() {
  boost::json::array list;
  int64_t now = clock_.now_ms();
  for (const auto& k : db_.list_keys()) {
    std::string state = k.retired_ms == 0                                    ? "active"
                        : now - k.retired_ms <= keys::kRetiredKeyPublishedMs ? "retired, published"
                                                                             : "retired";
    boost::json::object o{
        {"kid", k.kid}, {"alg", k.alg}, {"created_ms", k.created_ms}, {"state", state}};
    // The id of the KEK the key is sealed under; null for a key from before sealing.
    if (auto id = crypto::KeySealer::kek_id_of(k.private_pem)) {
      o["key_encryption_key_id"] = *id;
    } else {
      o["key_encryption_key_id"] = nullptr;
    }
    list.push_back(std::move(o));
  }
  return {{"keys", std::move(list)}};
}

Result<boost::json::object> Admin::rewrap_keys(KekSource& new_kek) {
  // Not bootstrapped(): after an interrupted run some keys no longer open under the current
  // KEK, and a key ring over them would refuse the very run that finishes the job.
  auto current = kek_.sealer(&db_);
  if (!current) return std::move(current).error();
  const crypto::KeySealer& old_sealer = **current;
  keys::KeyRing::seal_plaintext_keys(db_, old_sealer);
  // The new file is created when missing, whatever the old KEK sealed: it is new by intent.
  auto fresh = new_kek.sealer(nullptr);
  if (!fresh) return std::move(fresh).error();
  const crypto::KeySealer& new_sealer = **fresh;
  if (new_sealer.id() == old_sealer.id()) {
    return Error::invalid_request("the new key-encryption key file " + new_sealer.source() +
                                  " holds the key-encryption key in use (" + old_sealer.id() + ")");
  }
  // Everything is opened before anything is written: a key that does not open under the
  // current KEK leaves every row as it was.
  std::vector<store::SigningKeyRecord> rewrapped;
  int already = 0;
  for (auto r : db_.list_keys()) {
    if (crypto::KeySealer::kek_id_of(r.private_pem) == new_sealer.id()) {
      ++already;
      continue;
    }
    auto pem = old_sealer.open(r.kid, r.alg, r.private_pem);
    if (!pem) {
      return Error::invalid_request("signing key " + r.kid +
                                    " cannot be decrypted with the "
                                    "key-encryption key file " +
                                    old_sealer.source() + ": " + pem.error().description() +
                                    "; nothing was changed");
    }
    r.private_pem = new_sealer.seal(r.kid, r.alg, *pem);
    crypto::wipe(*pem);
    rewrapped.push_back(std::move(r));
  }
  for (const auto& r : rewrapped) db_.save_key(r);
  auto out = list_keys();
  out["rewrapped"] = static_cast<int64_t>(rewrapped.size());
  out["already_under_new_key"] = already;
  out["key_encryption_key_file"] = new_sealer.source();
  out["key_encryption_key_id"] = new_sealer.id();
  out["note"] = "start servers and commands with --key-encryption-key-file " + new_sealer.source() +
                " from now on; keep the old file until they all use it";
  return out;
}

boost::json::object Admin::ensure_demo(const std::string& issuer) {
  if (auto org = bootstrapped(); !org) throw std::runtime_error(org.error().description());
  boost::json::object out{
      {"open", issuer + "/"}, {"username", kDemoUsername}, {"password", kDemoPassword}};
  if (!db_.find_user_by_username(std::string(kDemoUsername))) {
    NewUser u;
    u.username = kDemoUsername;
    u.password = kDemoPassword;
    u.name = "Demo User";
    (void)create_user(u);
  }
  std::string callback = issuer + paths::kDemoCallback;
  for (const auto& a : db_.list_apps()) {
    if (a.name != kDemoAppName) continue;
    out["client_id"] = a.client_id;
    // The demo app lives on the issuer it was made for; another --listen needs a new one.
    for (const auto& c : a.callbacks) {
      if (c == callback) return out;
    }
  }
  NewApp a;
  a.name = kDemoAppName;
  a.callbacks = {callback};
  a.scopes = "api refresh_token openid profile email";
  a.require_secret_web_server = false;  // a public client: PKCE is mandatory for it
  a.require_secret_refresh = false;
  auto made = create_app(a);
  if (made) {
    out["client_id"] = made->at("client_id");
  } else {
    // e.g. an http issuer on a host that is not loopback (--listen 0.0.0.0:8080): its
    // callback is refused like any app's, and the demo has no app.
    out["error"] = made.error().description();
  }
  return out;
}

}  // namespace latchkey::app
