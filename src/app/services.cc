#include "app/services.h"

#include <boost/asio/post.hpp>
#include <functional>
#include <utility>

#include "oauth/grants/authorization_code_grant.h"
#include "oauth/grants/client_credentials_grant.h"
#include "oauth/grants/jwt_bearer_grant.h"
#include "oauth/grants/password_grant.h"
#include "oauth/grants/refresh_token_grant.h"
#include "oauth/grants/saml_bearer_grant.h"

namespace latchkey::app {
namespace {

std::string demo_client_id(store::AppStore& apps) {
  for (const auto& a : apps.list_apps()) {
    if (a.name == kDemoAppName) return a.client_id;
  }
  return {};
}

FanOut fan_out(EventSink* a, EventSink* b) {
  FanOut f;
  if (a) f.add(a);
  if (b) f.add(b);
  return f;
}

}  // namespace

Services::Services(store::Stores db, Random& random, const Clock& clock,
                   const crypto::KeySealer& sealer, AppOptions o)
    : key_source{db.keys, sealer, random, clock},
      options(std::move(o)),
      audit(options.audit_log.empty() ? nullptr
                                      : std::make_unique<AuditLog>(options.audit_log, clock)),
      events(fan_out(audit.get(), &metrics)),
      keys(std::make_shared<const keys::KeyRing>(db.keys, sealer, random, clock)),
      passwords(random, {options.argon2_memory_kib, options.argon2_iterations, 1}),
      opaque(db.tokens, random, clock),
      id_tokens(keys, clock, options.issuer),
      jwt_tokens(keys, random, options.issuer),
      issuer(db.tokens, opaque, jwt_tokens, id_tokens, clock, options.issuer),
      relay(db.board, random),
      clients(db.apps, db.replays, clock, options.issuer, {}, &relay, options.trusted_proxies),
      throttle(clock, 50'000, 15 * 60 * 1000, &relay),
      token(clients, events,
            [this](std::function<void()> job) { boost::asio::post(signers.pool, std::move(job)); }),
      revoke(db.tokens, clients, events),
      introspect(opaque, db.users, clients, options.issuer),
      // The CSRF key comes from the KEK, which every node of an installation is given: a form
      // one node showed may be posted to another behind a load balancer, or to the same node
      // after a restart (docs/deployment.md).
      authorize({db.apps, db.users, db.codes, db.consents, db.sessions, issuer, id_tokens,
                 passwords, throttle, pages, random, clock, events, options.issuer,
                 options.issuer.rfind("https://", 0) == 0, sealer.derive_key("csrf v1"),
                 options.trusted_proxies}),
      users(opaque, db.users, options.issuer),
      data(opaque, db.orgs, db.users, options.issuer),
      front_door({opaque, db.users, db.replays, authorize, random, clock, options.issuer,
                  sealer.derive_key("frontdoor v1")}),
      demo(
          options.issuer, demo_client_id(db.apps), random, pages,
          [this](const http::Request& r) { return token.handle(r); },
          [this](const http::Request& r) { return users.userinfo(r); }),
      readiness(db.health, clock) {
  token.add(std::make_unique<oauth::AuthorizationCodeGrant>(db.codes, db.tokens, db.users, issuer,
                                                            clock));
  token.add(std::make_unique<oauth::RefreshTokenGrant>(db.tokens, db.apps, db.users, issuer, clock,
                                                       options.refresh_reuse_grace_ms));
  token.add(std::make_unique<oauth::ClientCredentialsGrant>(db.apps, db.users, issuer));
  token.add(std::make_unique<oauth::PasswordGrant>(db.apps, db.users, issuer, passwords, throttle,
                                                   events, random, options.trusted_proxies));
  token.add(std::make_unique<oauth::JwtBearerGrant>(
      db.apps, db.users, db.consents, db.replays, issuer, clock, options.issuer,
      oauth::ClientAuthLimits{}.max_live_assertions_per_client, options.audience_aliases));
  token.add(std::make_unique<oauth::SamlBearerGrant>(db.apps, db.users, db.consents, db.replays,
                                                     issuer, clock, options.issuer));
  discovery = std::make_unique<oidc::Discovery>(options.issuer, token.grant_types(), keys,
                                                options.mtls_base_url);
}

}  // namespace latchkey::app
