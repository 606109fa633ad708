#include "oauth/client_auth.h"

#include <algorithm>
#include <cctype>
#include <string>

#include "core/ascii.h"
#include "crypto/certificate.h"
#include "crypto/crypto.h"
#include "crypto/distinguished_name.h"
#include "crypto/jose.h"
#include "oauth/jwt_claims.h"
#include "core/paths.h"

namespace latchkey::oauth {
namespace {

constexpr std::string_view kJwtBearerAssertion =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
// Authlib and other libraries default client assertions to exp = iat + 3600; longer is refused
// so the jti replay table need not remember an assertion for long.
constexpr int64_t kMaxAssertionLifetimeS = 3600 + 60;

Error bad_credentials() { return Error::invalid_client("invalid client credentials"); }

// RFC 8705 §4: a public client cannot authenticate with a certificate, but one it presents in
// the handshake (any certificate, registered nowhere) still binds its tokens to the key it
// holds, so that a stolen token is useless without that key. Empty when none came over TLS.
std::string public_binding(const http::Request& request) {
  if (!request.tls || request.client_cert_der.empty()) return {};
  return crypto::x5t_s256(request.client_cert_der);
}

Error method_not_permitted() {
  return bad_credentials().with_debug("method not registered for this client");
}

}  // namespace

bool permits(const store::App& app, AuthMethod used) {
  switch (app.token_endpoint_auth_method) {
    case AuthMethod::none:
      return false;
    case AuthMethod::client_secret_basic:
    case AuthMethod::client_secret_post:
      return used == AuthMethod::client_secret_basic || used == AuthMethod::client_secret_post ||
             (used == AuthMethod::private_key_jwt && !app.cert_pem.empty());
    case AuthMethod::private_key_jwt:
    case AuthMethod::self_signed_tls_client_auth:
    case AuthMethod::tls_client_auth:
      return used == app.token_endpoint_auth_method;
  }
  return false;
}

ClientAuthenticator::ClientAuthenticator(store::AppStore& apps, store::ReplayStore& replays,
                                         const Clock& clock, std::string issuer,
                                         ClientAuthLimits limits, ThrottleRelay* relay,
                                         std::vector<http::Cidr> trusted_proxies)
    : apps_(apps),
      assertions_(apps, replays, clock),
      clock_(clock),
      issuer_(std::move(issuer)),
      token_url_(issuer_ + paths::kToken),
      limits_(limits),
      by_address_(clock, 50'000, limits.max_delay_ms, limits.free_failures_per_address,
                  {"client.address", relay}),
      by_client_(clock, 50'000, limits.max_delay_ms, limits.free_failures_per_client,
                 {"client.id", relay}),
      trusted_proxies_(std::move(trusted_proxies)) {
  if (relay != nullptr) {
    relay->add(by_address_);
    relay->add(by_client_);
  }
}

Result<ClientAuth> ClientAuthenticator::authenticate(const http::Request& request,
                                                     const http::Params& params,
                                                     bool& tried_basic) {
  auto authz = request.header("authorization");
  std::optional<http::BasicCredentials> basic;
  // Auth scheme names are case-insensitive (RFC 9110 §11.1).
  if (authz && istarts_with(*authz, "basic ")) {
    tried_basic = true;
    basic = http::parse_basic(*authz);
    if (!basic) return Error::invalid_client("malformed Basic credentials");
  }
  bool post_secret = params.has("client_secret");
  bool assertion = params.has("client_assertion") || params.has("client_assertion_type");
  auto body_id = params.get("client_id");
  // RFC 8705 §2: a certificate from the TLS handshake is a credential for an app that
  // registered one. Looked up only when a certificate came, so plain requests cost nothing.
  std::optional<store::App> mtls_app;
  if (request.tls && !request.client_cert_der.empty()) {
    std::string_view named = basic ? std::string_view(basic->id) : body_id.value_or("");
    if (!named.empty() && named.size() <= 256) {
      mtls_app = apps_.find_app(std::string(named));
      if (mtls_app && mtls_app->mtls_cert_pem.empty() && mtls_app->mtls_subject_dn.empty()) {
        mtls_app.reset();
      }
    }
  }
  int methods = (basic ? 1 : 0) + (post_secret ? 1 : 0) + (assertion ? 1 : 0) + (mtls_app ? 1 : 0);
  if (methods > 1) return Error::invalid_request("more than one client authentication method");

  if (basic) {
    if (body_id && *body_id != basic->id) return bad_credentials();
    return secret_attempt(basic->id, basic->secret, AuthMethod::client_secret_basic, request);
  }
  if (post_secret) {
    if (!body_id) return Error::invalid_client("client identifier invalid");
    return secret_attempt(std::string(*body_id), params.value("client_secret"),
                          AuthMethod::client_secret_post, request);
  }
  // Signatures and certificates cannot be guessed: they are neither counted nor delayed.
  if (assertion) {
    if (params.value("client_assertion_type") != kJwtBearerAssertion) {
      return Error::invalid_client("unsupported client_assertion_type");
    }
    return with_assertion(body_id.value_or(""), params.value("client_assertion"));
  }
  if (mtls_app) return with_certificate(std::move(*mtls_app), request);
  if (!body_id || body_id->empty()) return Error::invalid_client("client identifier invalid");
  auto app = apps_.find_app(std::string(*body_id));
  if (!app) return Error::invalid_client("client identifier invalid");
  return ClientAuth{std::move(*app), AuthMethod::none, {}, public_binding(request)};
}

Result<ClientAuth> ClientAuthenticator::secret_attempt(const std::string& client_id,
                                                       std::string_view secret, AuthMethod method,
                                                       const http::Request& request) {
  // Keyed by the client id as sent (held as a digest, so a long id costs no more memory than a
  // short one). Per address, so that someone guessing from one address slows down that address
  // alone and the client's own servers elsewhere keep getting in; per client id with a much
  // higher allowance, so that guessing spread over many addresses is slowed as well. Delays
  // grow with the failures (1 s, 2 s, 4 s, ... up to a minute) rather than walling the client
  // off, and a client told to wait is told for how long.
  const auto client_key = FailureThrottle::key_of(client_id);
  const auto address_key = FailureThrottle::key_of(
      client_id + '\n' + FailureThrottle::address_of(client_address(request)));
  if (int64_t wait = std::max(by_address_.wait_s(address_key), by_client_.wait_s(client_key));
      wait > 0) {
    return Error::invalid_client("too many failed attempts; try again in " + std::to_string(wait) +
                                 " s");
  }
  Result<ClientAuth> result = with_secret(client_id, secret, method);
  if (result) {
    // Only this address's count: a client's own successes must not reset the count that slows
    // a guesser elsewhere.
    by_address_.success(address_key);
  } else if (result.error().error_code() == ErrorCode::invalid_client) {
    by_address_.failure(address_key);
    by_client_.failure(client_key);
  }
  return result;
}

Result<ClientAuth> ClientAuthenticator::with_secret(std::string_view client_id,
                                                    std::string_view secret, AuthMethod method) {
  if (client_id.empty() || client_id.size() > 256) return bad_credentials();
  auto app = apps_.find_app(std::string(client_id));
  // An app registered for another method has no secret to check (or, registered before the
  // method was, one it must no longer accept): refused alike, before any comparison.
  if (app && !permits(*app, method)) return method_not_permitted();
  // Hash first and compare hashes in constant time; the stored value is a hash anyway.
  std::string presented = crypto::sha256_hex(secret);
  if (!app || app->secret_hash.empty() ||
      !crypto::constant_time_equal(presented, app->secret_hash)) {
    return bad_credentials();
  }
  return ClientAuth{std::move(*app), method, std::string(secret), {}};
}

Result<ClientAuth> ClientAuthenticator::with_certificate(store::App app,
                                                         const http::Request& request) {
  const std::string& der = request.client_cert_der;
  AuthMethod method = AuthMethod::self_signed_tls_client_auth;
  if (!app.mtls_subject_dn.empty()) {
    // RFC 8705 §2.1: the certificate must chain to a trusted CA (--tls-client-ca) and carry
    // the registered subject. The chain is what makes the subject mean anything: anyone can
    // write any subject into a self-signed certificate. Subjects are compared in the normal
    // form of crypto::normalize_dn, in which the registered DN was stored.
    if (!request.client_cert_chained) {
      return bad_credentials().with_debug("client certificate does not chain to --tls-client-ca");
    }
    auto subject = crypto::certificate_subject_dn(der);
    if (!subject || *subject != app.mtls_subject_dn) {
      return bad_credentials().with_debug("client certificate subject does not match");
    }
    method = AuthMethod::tls_client_auth;
  } else {
    // RFC 8705 §2.2: the presented certificate must be the registered one, compared by SHA-256
    // thumbprint in constant time; chaining to a CA is neither needed nor enough.
    auto registered = crypto::certificate_der_from_pem(app.mtls_cert_pem);
    if (!registered) return bad_credentials().with_debug("registered mTLS certificate unreadable");
    if (!crypto::constant_time_equal(crypto::x5t_s256(der), crypto::x5t_s256(*registered))) {
      return bad_credentials().with_debug("client certificate does not match");
    }
  }
  // The handshake accepts expired certificates (a self-signed one does not chain anyway, and
  // the verification outcome is only recorded); the credential itself must be within its
  // validity window, checked against our clock.
  auto validity = crypto::certificate_validity(der);
  if (!validity || !crypto::within_validity(*validity, clock_.now_s())) {
    return Error::invalid_client("client certificate expired or not yet valid");
  }
  if (!permits(app, method)) return method_not_permitted();
  // RFC 8705 §3: tokens issued on this request are bound to the certificate presented.
  return ClientAuth{std::move(app), method, {}, crypto::x5t_s256(der)};
}

Result<ClientAuth> ClientAuthenticator::with_assertion(std::string_view client_id,
                                                       std::string_view assertion) {
  using F = JwtAssertionFailure;
  JwtAssertionRules rules;
  rules.purpose = "client_assertion";
  rules.audiences = {token_url_, issuer_};  // docs/behaviour.md §7
  rules.max_lifetime_s = kMaxAssertionLifetimeS;
  rules.sub_is_client = true;  // RFC 7523 §3 item 2
  // One registry for the token, introspection and revocation endpoints, in the database.
  rules.jti_required = true;
  rules.max_live_per_client = limits_.max_live_assertions_per_client;
  rules.app_permitted = [](const store::App& app) {
    return permits(app, AuthMethod::private_key_jwt);
  };
  auto verified = assertions_.verify(assertion, rules, client_id);
  if (auto* ok = std::get_if<VerifiedJwtAssertion>(&verified)) {
    return ClientAuth{std::move(ok->app), AuthMethod::private_key_jwt, {}, {}};
  }
  switch (std::get<F>(verified)) {
    case F::not_permitted:
      return method_not_permitted();
    case F::certificate_expired:
      return bad_credentials().with_debug("the app's certificate is outside its validity period");
    case F::audience:
      return Error::invalid_client("audience is invalid");
    case F::expired:
      return Error::invalid_client("expired authorization code");
    case F::no_jti:
    case F::replayed:
      return Error::invalid_client("client assertion replayed or without jti");
    case F::over_quota:
      return Error::invalid_client("too many assertions; try again once earlier ones expire");
    case F::malformed:
    case F::other_client:
    case F::unknown_app:
    case F::no_certificate:
    case F::bad_signature:
    case F::no_exp:
    case F::exp_too_far:
    case F::not_yet_valid:
      break;
  }
  return bad_credentials();
}

}  // namespace latchkey::oauth
