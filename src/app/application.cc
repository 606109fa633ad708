#include "app/application.h"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <exception>
#include <memory>
#include <thread>

#include "app/audit_log.h"
#include "app/demo.h"
#include "app/metrics.h"
#include "crypto/password.h"
#include "http/errors.h"
#include "http/params.h"
#include "oauth/authorize/authorize_endpoint.h"
#include "oauth/client_auth.h"
#include "oauth/grants/authorization_code_grant.h"
#include "oauth/grants/client_credentials_grant.h"
#include "oauth/grants/jwt_bearer_grant.h"
#include "oauth/grants/saml_bearer_grant.h"
#include "oauth/grants/refresh_token_grant.h"
#include "oauth/introspect_endpoint.h"
#include "oauth/login_throttle.h"
#include "oauth/revoke_endpoint.h"
#include "oauth/token_endpoint.h"
#include "oauth/token_issuer.h"
#include "oidc/data_resources.h"
#include "oidc/discovery.h"
#include "oidc/id_token.h"
#include "keys/current_key_ring.h"
#include "keys/key_ring.h"
#include "oidc/user_endpoints.h"
#include "token/opaque_tokens.h"
#include "web/pages.h"

namespace latchkey::app {
namespace {

std::string demo_client_id(store::AppStore& apps) {
  for (const auto& a : apps.list_apps()) {
    if (a.name == kDemoAppName) return a.client_id;
  }
  return {};
}

http::Response not_found() {
  return http::token_error(oauth::Error::not_found("no such resource"), false);
}

http::Response healthz() { return http::Response::json(200, R"({"status":"ok"})"); }

}  // namespace

// Declaration order is construction order: each service is built from those above it.
struct Application::Services {
  Services(store::Database& db, Random& random, const Clock& clock, const crypto::KeySealer& sealer,
           AppOptions o)
      : key_source{db, sealer, random, clock},
        options(std::move(o)),
        audit(options.audit_log.empty() ? nullptr
                                        : std::make_unique<AuditLog>(options.audit_log, clock)),
        events(fan_out(audit.get(), &metrics)),
        keys(std::make_shared<const keys::KeyRing>(db, sealer, random, clock)),
        passwords(random, {options.argon2_memory_kib, options.argon2_iterations, 1}),
        opaque(db, random, clock),
        id_tokens(keys, clock, options.issuer),
        jwt_tokens(keys, random, options.issuer),
        issuer(db, opaque, jwt_tokens, id_tokens, clock, options.issuer),
        clients(db, db, clock, options.issuer),
        throttle(clock),
        token(
            clients, events,
            [this](std::function<void()> job) { boost::asio::post(signers.pool, std::move(job)); }),
        revoke(db, clients, events),
        introspect(opaque, db, clients, options.issuer),
        // The CSRF key is made here, once per start: no form outlives the server that showed it.
        authorize({db, db, db, db, db, issuer, id_tokens, passwords, throttle, pages, random, clock,
                   events, options.issuer, options.issuer.rfind("https://", 0) == 0,
                   random.bytes(32), options.trusted_proxies}),
        users(opaque, db, options.issuer),
        data(opaque, options.issuer),
        demo(
            options.issuer, demo_client_id(db), random, pages,
            [this](const http::Request& r) { return token.handle(r); },
            [this](const http::Request& r) { return users.userinfo(r); }) {
    token.add(std::make_unique<oauth::AuthorizationCodeGrant>(db, db, db, issuer, clock));
    token.add(std::make_unique<oauth::RefreshTokenGrant>(db, db, db, issuer, clock));
    token.add(std::make_unique<oauth::ClientCredentialsGrant>(db, db, issuer));
    token.add(
        std::make_unique<oauth::JwtBearerGrant>(db, db, db, db, issuer, clock, options.issuer));
    token.add(
        std::make_unique<oauth::SamlBearerGrant>(db, db, db, db, issuer, clock, options.issuer));
    discovery = std::make_unique<oidc::Discovery>(options.issuer, token.grant_types(), keys,
                                                  options.mtls_base_url);
  }

  static FanOut fan_out(EventSink* a, EventSink* b) {
    FanOut f;
    if (a) f.add(a);
    if (b) f.add(b);
    return f;
  }

  // What reload_signing_keys() reads a new key ring with.
  struct KeySource {
    store::KeyStore& store;
    const crypto::KeySealer& sealer;
    Random& random;
    const Clock& clock;
  } key_source;
  AppOptions options;
  Metrics metrics;
  std::unique_ptr<AuditLog> audit;
  FanOut events;
  web::Pages pages;
  keys::CurrentKeyRing keys;
  crypto::PasswordHasher passwords;
  token::OpaqueTokens opaque;
  oidc::IdTokens id_tokens;
  token::JwtAccessTokens jwt_tokens;
  oauth::TokenIssuer issuer;
  oauth::ClientAuthenticator clients;
  oauth::LoginThrottle throttle;
  oauth::TokenEndpoint token;
  oauth::RevokeEndpoint revoke;
  oauth::IntrospectEndpoint introspect;
  oauth::AuthorizeEndpoint authorize;
  oidc::UserEndpoints users;
  oidc::DataResources data;
  Demo demo;
  std::unique_ptr<oidc::Discovery> discovery;
  // Threads that sign the token endpoint's ID tokens while their token writes are made durable
  // (an RS256 signature would otherwise hold an I/O thread for a third of a millisecond).
  // Declared last, so destroyed first: its jobs use the services above.
  struct Signers {
    boost::asio::thread_pool pool{std::max(1u, std::thread::hardware_concurrency())};
    ~Signers() { pool.join(); }  // runs what is queued, then lets the threads go
  } signers;
};

Application::Application(store::Database& db, Random& random, const Clock& clock,
                         const crypto::KeySealer& sealer, AppOptions options)
    : s_(std::make_unique<Services>(db, random, clock, sealer, std::move(options))) {}

Application::~Application() = default;

Result<std::string> Application::reload_signing_keys() {
  std::shared_ptr<const keys::KeyRing> ring;
  std::string active;
  try {
    ring = std::make_shared<const keys::KeyRing>(s_->key_source.store, s_->key_source.sealer,
                                                 s_->key_source.random, s_->key_source.clock);
    // Both algorithms must keep a signing key, or every token signed with the missing one
    // would fail from now on; signing_key() throws for a missing one.
    for (const char* alg : {"RS256", "ES256"}) {
      active += std::string(active.empty() ? "" : ", ") + alg + " " + ring->signing_key(alg).kid();
    }
  } catch (const std::exception& e) {
    // An unreadable or missing key, or the database itself (store::StoreError).
    return oauth::Error::temporarily_unavailable("signing keys not reloaded").with_debug(e.what());
  }
  s_->keys.replace(std::move(ring));
  return active;
}

void Application::observe(const http::Request& req, unsigned status,
                          std::chrono::microseconds elapsed) {
  s_->metrics.observe(Metrics::endpoint_of(req.path), status, elapsed.count());
}

void Application::connection_refused_per_address() { s_->metrics.connection_refused_per_address(); }

bool Application::never_waits_on_disk(const http::Request& req) {
  const std::string& p = req.path;
  // Every grant reads (mostly from the cache) and ends with one queued write, which the
  // response awaits without holding a thread: codes and rotating refresh tokens are used up by
  // that same write (store::TokenStore::redeem_later). Not a request carrying an assertion (a
  // client assertion, a JWT or SAML bearer grant): its identifier is recorded as used in the
  // database first, a durable write of its own (store::ReplayStore).
  if (p == "/services/oauth2/token") return req.body.find("assertion") == std::string::npos;
  // Showing the login or consent page, or redirecting with a code (whose write the redirect
  // awaits). Not the user-agent flow, whose tokens are written at once, nor the forms posted
  // back (a password check takes tens of milliseconds of CPU).
  if (p == "/services/oauth2/authorize" && req.method == "GET") {
    auto query = http::parse_form(req.query);
    if (!query) return true;  // refused at once
    std::string_view types = query->value("response_type");
    for (std::size_t i = 0; i <= types.size();) {
      std::size_t end = std::min(types.find(' ', i), types.size());
      if (types.substr(i, end - i) == "token") return false;
      i = end + 1;
    }
    return true;
  }
  if (p == "/services/oauth2/introspect") return req.body.find("assertion") == std::string::npos;
  return p == "/services/oauth2/userinfo" || p.starts_with("/id/") ||
         p.starts_with("/.well-known/") || p.starts_with("/services/data") || p == "/healthz" ||
         p == "/metrics" || p == "/static/style.css";
}

http::Response Application::handle_metrics(const http::Request& req) {
  if (req.method != "GET" && req.method != "HEAD") {
    http::Response r = http::token_error(oauth::Error::method_not_allowed(), false);
    r.set("Allow", "GET, HEAD");
    return r;
  }
  if (req.path == "/healthz") return healthz();
  if (req.path != "/metrics") return not_found();
  http::Response r;
  r.body = s_->metrics.render();
  r.set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  r.set("Cache-Control", "no-store");
  return r;
}

http::Response Application::handle(const http::Request& req) {
  const std::string& p = req.path;
  const bool get = req.method == "GET" || req.method == "HEAD";
  try {
    if (p == "/services/oauth2/token") return s_->token.handle(req);
    if (p == "/services/oauth2/authorize") return s_->authorize.handle(req);
    if (p == "/services/oauth2/revoke") return s_->revoke.handle(req);
    if (p == "/services/oauth2/introspect") return s_->introspect.handle(req);
    if (p == "/services/oauth2/userinfo") return s_->users.userinfo(req);
    if (p.starts_with("/id/") && p != "/id/keys") return s_->users.identity(req);
    if (!get) return http::token_error(oauth::Error::method_not_allowed(), false);
    if (p == "/.well-known/openid-configuration" ||
        p == "/.well-known/oauth-authorization-server") {
      return s_->discovery->configuration();
    }
    if (p == "/id/keys") return s_->discovery->jwks();
    if (p == "/services/data" || p == "/services/data/") return s_->data.versions(req);
    if (p.starts_with("/services/data/")) return s_->data.version_root(req);
    if (p == "/static/style.css") {
      http::Response r;
      r.body = std::string(s_->pages.stylesheet());
      r.set("Content-Type", "text/css;charset=utf-8");
      r.set("Cache-Control", "public, max-age=3600");
      return r;
    }
    if (p == "/demo/start") return s_->demo.start(req);
    if (p == "/demo/callback") return s_->demo.callback(req);
    if (p == "/" || p == "/index.html") {
      web::LandingView v{s_->options.issuer, s_->demo.available(), "/demo/start",
                         std::string(kDemoUsername), std::string(kDemoPassword)};
      return http::Response::html(200, s_->pages.landing(v));
    }
    if (p == "/healthz") return healthz();
    return not_found();
  } catch (const store::StoreError& e) {
    // The database failed (disk full, I/O error): say so without detail; nothing was promised.
    return http::token_error(
        oauth::Error::temporarily_unavailable("storage is unavailable, try again"), false);
  }
}

}  // namespace latchkey::app
