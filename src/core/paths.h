// The paths latchkey serves and advertises (docs/behaviour.md §4): Salesforce's, plus OIDC
// discovery's. Every layer that names an endpoint (the router, discovery, the audience of
// client assertions, the SAML recipient, the identity document) reads them here, so a path
// is spelled once. Character arrays, so that `issuer + paths::kToken` makes a URL; no state.
#pragma once

namespace latchkey::paths {

// The authorization server (behaviour §4, §5).
inline constexpr char kAuthorize[] = "/services/oauth2/authorize";
inline constexpr char kToken[] = "/services/oauth2/token";
inline constexpr char kRevoke[] = "/services/oauth2/revoke";
inline constexpr char kIntrospect[] = "/services/oauth2/introspect";
inline constexpr char kUserinfo[] = "/services/oauth2/userinfo";
// Salesforce's single-access (UI bridge) URL: a one-time URL of its front door, where a browser
// is signed in as the token's user (`sf org open`).
inline constexpr char kSingleAccess[] = "/services/oauth2/singleaccess";
inline constexpr char kFrontDoor[] = "/secur/frontdoor.jsp";

// Salesforce's identity URL, /id/{orgId}/{userId}, and the JWKS beside it.
inline constexpr char kIdentityPrefix[] = "/id/";
inline constexpr char kJwks[] = "/id/keys";

// Discovery (OIDC Discovery §4, RFC 8414 §3): the same document at both names.
inline constexpr char kWellKnownPrefix[] = "/.well-known/";
inline constexpr char kOpenidConfiguration[] = "/.well-known/openid-configuration";
inline constexpr char kOauthAuthorizationServer[] = "/.well-known/oauth-authorization-server";

// Salesforce's REST API root: the versions list at kData, a version's resources below it
// (/services/data/vNN.N/...).
inline constexpr char kData[] = "/services/data";
inline constexpr char kDataPrefix[] = "/services/data/";
// The SOAP API roots the identity document names (not served here).
inline constexpr char kSoapEnterprisePrefix[] = "/services/Soap/c/";
inline constexpr char kSoapPartnerPrefix[] = "/services/Soap/u/";

// The pages: the landing page, its stylesheet and the demo of `make run`.
inline constexpr char kRoot[] = "/";
inline constexpr char kIndex[] = "/index.html";
inline constexpr char kStaticPrefix[] = "/static/";
inline constexpr char kStylesheet[] = "/static/style.css";
inline constexpr char kDemoPrefix[] = "/demo/";
inline constexpr char kDemoStart[] = "/demo/start";
inline constexpr char kDemoCallback[] = "/demo/callback";

// Liveness and readiness (the database answers), on both listeners; the Prometheus text only on
// the metrics listener (behaviour §4, §8).
inline constexpr char kHealthz[] = "/healthz";
inline constexpr char kReadyz[] = "/readyz";
inline constexpr char kMetrics[] = "/metrics";

}  // namespace latchkey::paths
