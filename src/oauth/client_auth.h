// Client authentication at the token, revoke and introspect endpoints (RFC 6749 §2.3,
// RFC 7523 §2.2). Exactly one method per request: more than one is invalid_request
// (RFC 6749 §2.3: "MUST NOT use more than one authentication method in each request").
// On the TLS listener a client certificate counts as a method when the named app registered
// one: a self-signed certificate (--mtls-cert, RFC 8705 §2.2) or the subject DN of a
// certificate issued by --tls-client-ca (--mtls-subject-dn, RFC 8705 §2.1).
#pragma once

#include <string>

#include "core/clock.h"
#include "core/result.h"
#include "oauth/jwt_assertion.h"
#include "http/message.h"
#include "http/params.h"
#include "http/client_address.h"
#include "oauth/failure_throttle.h"
#include "oauth/throttle_relay.h"
#include "store/stores.h"

namespace latchkey::oauth {

// self_signed_tls_client_auth: RFC 8705 §2.2, the app's --mtls-cert presented in the TLS
// handshake, matched by its SHA-256 thumbprint.
// tls_client_auth: RFC 8705 §2.1, a certificate that chained to --tls-client-ca and whose
// subject DN is the app's --mtls-subject-dn.
// The same enum as the registration (store::App::token_endpoint_auth_method), so that the wire
// names live in one place (store/record_names.h).
using AuthMethod = store::ClientAuthMethod;

// Which methods an app's registered token_endpoint_auth_method admits (RFC 7591 §2):
// - client_secret_basic, client_secret_post: the client secret, in the Authorization header or
//   in the body alike (as Salesforce accepts it either way; RFC 7591 registers one method, and
//   the value says which one the client prefers), and private_key_jwt when the app has a
//   --cert: a signature with the registered key proves more than the secret does. This is what
//   every app accepted before the method was registered.
// - private_key_jwt, self_signed_tls_client_auth, tls_client_auth: that method alone; the app
//   has no secret.
// - none: no method at all (a public client).
bool permits(const store::App& app, AuthMethod used);

// Limits on client authentication (RFC 9700 §4.x online guessing; RFC 7523 §3 item 7 replay).
struct ClientAuthLimits {
  // The wrong secret from one address for one client id that starts a delay of 1 s; each
  // further one doubles it (2 s, 4 s, ...) up to max_delay_ms. The ones before are free.
  int free_failures_per_address = 5;
  // The same for one client id from all addresses together, after which its secrets are
  // delayed from every address: a guesser spread over many addresses is slowed too.
  int free_failures_per_client = 100;
  int64_t max_delay_ms = 60'000;
  // Live single-use assertion identifiers per client id (client assertions, JWT and SAML
  // bearer assertions together): over it that client's new assertions are refused until
  // earlier ones expire, and other clients are unaffected.
  int64_t max_live_assertions_per_client = 10'000;
};
struct ClientAuth {
  store::App app;
  AuthMethod method = AuthMethod::none;
  // The secret as presented, kept only for the response `signature` (docs/behaviour.md §5); empty
  // unless the client authenticated with its secret.
  std::string secret;
  // RFC 8705 §3: x5t#S256 of the client certificate the client authenticated with; tokens
  // issued on this request are bound to it. Empty unless method is mutual TLS, or method is
  // none and the public client presented a certificate on the TLS listener (§4).
  std::string cnf_x5t;
  bool authenticated() const { return method != AuthMethod::none; }
  bool used_basic() const { return method == AuthMethod::client_secret_basic; }
};

class ClientAuthenticator {
 public:
  // token_url and issuer are the accepted `aud` values of client assertions (docs/behaviour.md §7).
  // Seen assertion ids are kept in `replays` (the database), so a restart or another process on
  // the same database still refuses a replay.
  // With a relay, the failed-secret counts are shared with the other nodes
  // (oauth/throttle_relay.h). `trusted_proxies` (serve --trusted-proxy) name the reverse proxies
  // whose Forwarded / X-Forwarded-For report the client (http/client_address.h): behind a load
  // balancer the failed secrets are then counted per client address, not all under the
  // balancer's.
  ClientAuthenticator(store::AppStore& apps, store::ReplayStore& replays, const Clock& clock,
                      std::string issuer, ClientAuthLimits limits = {},
                      ThrottleRelay* relay = nullptr, std::vector<http::Cidr> trusted_proxies = {});

  // The address of the client that sent `request`, as the throttles count it and the audit log
  // names it: the trusted proxy's report, else the TCP peer.
  [[nodiscard]] std::string client_address(const http::Request& request) const {
    return http::client_address(request, trusted_proxies_);
  }

  // Identifies the client and checks whatever credential it presented. A request with no
  // credential but a client_id comes back with method none: whether that is enough is the
  // grant's decision (public clients). `tried_basic` is set whenever a Basic header was sent,
  // so that errors can carry the 401 challenge.
  Result<ClientAuth> authenticate(const http::Request& request, const http::Params& params,
                                  bool& tried_basic);

 private:
  // A secret attempt, delayed while its (client id, address) or its client id has failed too
  // often; only its outcome is counted.
  Result<ClientAuth> secret_attempt(const std::string& client_id, std::string_view secret,
                                    AuthMethod method, const http::Request& request);
  Result<ClientAuth> with_secret(std::string_view client_id, std::string_view secret,
                                 AuthMethod method);
  Result<ClientAuth> with_assertion(std::string_view client_id, std::string_view assertion);
  Result<ClientAuth> with_certificate(store::App app, const http::Request& request);

  store::AppStore& apps_;
  // private_key_jwt (RFC 7523 §2.2); its jti is single-use until it expires (§3 item 7).
  JwtAssertionVerifier assertions_;
  const Clock& clock_;
  std::string issuer_;
  std::string token_url_;
  ClientAuthLimits limits_;
  // Failed secrets (RFC 9700 §4.x brute force), per (client id, address) and per client id.
  // Only secrets can be guessed, so only secret attempts are counted and delayed: a valid
  // private_key_jwt or certificate is never refused because someone sent wrong secrets.
  FailureThrottle by_address_;
  FailureThrottle by_client_;
  std::vector<http::Cidr> trusted_proxies_;
};

}  // namespace latchkey::oauth
