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
#include "crypto/public_key_cache.h"
#include "http/message.h"
#include "http/params.h"
#include "oauth/failure_throttle.h"
#include "oauth/replay_cache.h"
#include "store/stores.h"

namespace latchkey::oauth {

// self_signed_tls_client_auth: RFC 8705 §2.2, the app's --mtls-cert presented in the TLS
// handshake, matched by its SHA-256 thumbprint.
// tls_client_auth: RFC 8705 §2.1, a certificate that chained to --tls-client-ca and whose
// subject DN is the app's --mtls-subject-dn.
enum class AuthMethod {
  none,
  client_secret_basic,
  client_secret_post,
  private_key_jwt,
  self_signed_tls_client_auth,
  tls_client_auth
};

struct ClientAuth {
  store::App app;
  AuthMethod method = AuthMethod::none;
  // The secret as presented, kept only for the response `signature` (CONTRACT §5); empty
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
  // token_url and issuer are the accepted `aud` values of client assertions (CONTRACT §7).
  ClientAuthenticator(store::AppStore& apps, const Clock& clock, std::string issuer);

  // Identifies the client and checks whatever credential it presented. A request with no
  // credential but a client_id comes back with method none: whether that is enough is the
  // grant's decision (public clients). `tried_basic` is set whenever a Basic header was sent,
  // so that errors can carry the 401 challenge.
  Result<ClientAuth> authenticate(const http::Request& request, const http::Params& params,
                                  bool& tried_basic);

 private:
  Result<ClientAuth> with_secret(std::string_view client_id, std::string_view secret,
                                 AuthMethod method);
  Result<ClientAuth> with_assertion(std::string_view client_id, std::string_view assertion);
  Result<ClientAuth> with_certificate(store::App app, const http::Request& request);
  Result<ClientAuth> counted(const std::string& client_id, bool guessable,
                             Result<ClientAuth> result);

  store::AppStore& apps_;
  const Clock& clock_;
  std::string issuer_;
  std::string token_url_;
  // RFC 7523 §3 item 7: a client assertion's jti is single-use until it expires.
  ReplayCache seen_jti_;
  crypto::PublicKeyCache keys_;  // the apps' certificates for private_key_jwt, parsed once
  // Failed authentications per client id (RFC 9700 §4.x brute force): after five, each
  // further one doubles a lockout of at most a minute, so guessing is slow while a client
  // locked out by someone else's guesses recovers quickly.
  FailureThrottle failures_;
};

}  // namespace latchkey::oauth
