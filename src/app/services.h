// Every service of a running application, built from one another in declaration order and
// owned for the life of the server (docs/design.md, "Layers": app/ is the composition root).
// Application owns one; the route table (app/routes.h) calls into it. The services say their
// own thread safety; this struct adds none.
#pragma once

#include <algorithm>
#include <boost/asio/thread_pool.hpp>
#include <memory>
#include <thread>

#include "app/application.h"
#include "app/audit_log.h"
#include "app/demo.h"
#include "app/metrics.h"
#include "app/readiness.h"
#include "crypto/password.h"
#include "keys/current_key_ring.h"
#include "oauth/authorize/authorize_endpoint.h"
#include "oauth/client_auth.h"
#include "oauth/introspect_endpoint.h"
#include "oauth/login_throttle.h"
#include "oauth/revoke_endpoint.h"
#include "oauth/throttle_relay.h"
#include "oauth/token_endpoint.h"
#include "oauth/front_door.h"
#include "oauth/token_issuer.h"
#include "oidc/data_resources.h"
#include "oidc/discovery.h"
#include "oidc/id_token.h"
#include "oidc/user_endpoints.h"
#include "token/jwt_access_tokens.h"
#include "token/opaque_tokens.h"
#include "web/pages.h"

namespace latchkey::app {

// Declaration order is construction order: each service is built from those above it.
struct Services {
  Services(store::Stores db, Random& random, const Clock& clock, const crypto::KeySealer& sealer,
           AppOptions o);

  // What Application::reload_signing_keys() reads a new key ring with.
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
  // Before the throttles it shares (clients' failed secrets, throttle's failed logins).
  oauth::ThrottleRelay relay;
  oauth::ClientAuthenticator clients;
  oauth::LoginThrottle throttle;
  oauth::TokenEndpoint token;
  oauth::RevokeEndpoint revoke;
  oauth::IntrospectEndpoint introspect;
  oauth::AuthorizeEndpoint authorize;
  oidc::UserEndpoints users;
  oidc::DataResources data;
  oauth::FrontDoor front_door;
  Demo demo;
  std::unique_ptr<oidc::Discovery> discovery;
  // GET /readyz on both listeners: pings the database, at most once a second.
  Readiness readiness;
  // Threads that sign the token endpoint's ID tokens while their token writes are made durable
  // (an RS256 signature would otherwise hold an I/O thread for a third of a millisecond).
  // Declared last, so destroyed first: its jobs use the services above.
  struct Signers {
    boost::asio::thread_pool pool{std::max(1u, std::thread::hardware_concurrency())};
    ~Signers() { pool.join(); }  // runs what is queued, then lets the threads go
  } signers;
};

}  // namespace latchkey::app
