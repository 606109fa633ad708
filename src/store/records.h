// Plain records that cross the storage seam. Secrets never appear here in clear: every
// `*_hash` field is SHA-256 (hex) of the secret, passwords are Argon2id PHC strings.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace latchkey::store {

struct Org {
  std::string id;  // 00D...
  std::string name;
  int64_t created_ms = 0;
};

struct User {
  std::string id;  // 005...
  std::string org_id;
  std::string username;  // email-shaped, unique
  std::string email;
  std::string first_name;
  std::string last_name;
  std::string password_hash;  // Argon2id PHC string
  std::string profile;        // e.g. "Standard User"
  std::vector<std::string> permission_sets;
  bool active = true;
  int64_t created_ms = 0;
};

// Wire names of these enums (stored and shown) in record_names.h.
enum class RefreshPolicy { until_revoked, immediately, expire_after, rotate };

// The access tokens an app gets: opaque `00D…!…` tokens, RFC 9068 JWTs (header typ
// "at+jwt"), or the same JWTs with the header typ "JWT" that Salesforce's own JWT access tokens
// carry and the Salesforce CLI requires (`jwt_sf`, docs/behaviour.md §5.12).
enum class TokenFormat { opaque, jwt, jwt_sf };

// Client authentication methods (RFC 7591 §2 token_endpoint_auth_method, RFC 7523 §2.2,
// RFC 8705 §2). As a registration (App::token_endpoint_auth_method) it says which credentials
// the app may present; as an outcome (oauth::ClientAuth::method) which one it did, `none` then
// meaning no credential. Wire names in record_names.h.
enum class ClientAuthMethod {
  none,
  client_secret_basic,
  client_secret_post,
  private_key_jwt,
  self_signed_tls_client_auth,
  tls_client_auth
};

struct App {
  std::string id;         // 0Ha... internal id
  std::string client_id;  // consumer key
  std::string org_id;
  std::string name;
  std::string secret_hash;  // SHA-256 hex of the client secret
  std::vector<std::string> callbacks;
  std::vector<std::string> scopes;
  bool pkce_required = false;
  bool require_secret_web_server = true;
  bool require_secret_refresh = true;
  bool admin_approved_only = false;  // --permitted-users admin-approved
  std::string cert_pem;              // X.509 for JWT/SAML bearer and private_key_jwt
  std::string client_credentials_user_id;
  RefreshPolicy refresh_policy = RefreshPolicy::until_revoked;
  int64_t refresh_ttl_s = 0;  // for expire_after
  int64_t access_token_ttl_s = 7200;
  bool allow_implicit = false;
  std::string mtls_cert_pem;  // RFC 8705 §2.2 self_signed_tls_client_auth
  TokenFormat token_format = TokenFormat::opaque;
  int64_t created_ms = 0;
  // RFC 8705 §2.1 tls_client_auth: the subject DN of the app's CA-issued client certificate,
  // in the normal form of crypto::normalize_dn; empty when the app does not use it.
  std::string mtls_subject_dn;
  // How the app authenticates at the token, introspection and revocation endpoints; every
  // other method is refused (oauth/client_auth.h says what each value admits).
  ClientAuthMethod token_endpoint_auth_method = ClientAuthMethod::client_secret_basic;
  // The OAuth username-password flow (grant_type=password, RFC 6749 §4.3), which Salesforce
  // offers per org and latchkey per app (--allow-password-flow); off unless asked for.
  bool allow_password_flow = false;
};

// A pre-authorization of an admin-approved app for a profile or permission set.
struct Preauthorization {
  enum class Kind { profile, permission_set };
  std::string client_id;
  Kind kind = Kind::profile;
  std::string name;
};

// How a presented token or authorization code is found. Those minted by this version carry
// their row id (`id` > 0): the row is read by that id and the stored hash compared in constant
// time, so rows are appended in id order and no index over random hashes grows with each one.
// Those without an id (minted before, JWT access tokens, rows saved with id 0) are found by
// hash alone among the rows that have negative ids.
struct SecretRef {
  int64_t id = 0;
  std::string hash;

  static SecretRef by_hash(std::string hash) { return {0, std::move(hash)}; }
};

struct AuthCode {
  // Row id: as Token::id (> 0 for codes that carry it, < 0 found by hash, 0 before saving).
  int64_t id = 0;
  std::string code_hash;
  std::string client_id;
  std::string user_id;
  std::string redirect_uri;
  std::vector<std::string> scopes;
  std::string code_challenge;  // S256 challenge, empty when none was sent
  std::string nonce;
  int64_t auth_time_s = 0;
  int64_t expires_ms = 0;
  bool used = false;

  SecretRef ref() const { return {id, code_hash}; }
  // Every field equal (store/copy.h compares a copied row with its source).
  bool operator==(const AuthCode&) const = default;
};

// Access and refresh tokens share one table; `kind` tells them apart.
enum class TokenKind { access, refresh };

struct Token {
  // Row id: > 0 for tokens that carry it, < 0 for tokens found by hash, 0 before saving
  // (the store then picks a negative one).
  int64_t id = 0;
  std::string token_hash;
  TokenKind kind = TokenKind::access;
  std::string client_id;
  std::string user_id;
  std::string org_id;
  std::vector<std::string> scopes;
  // Refresh-token family: every token descended from one grant (code exchange) shares it, so
  // reuse detection and code replay can revoke the whole family at once.
  std::string family_id;
  // The code it was minted from (a replay of the code revokes by it, TokenStore::redeem_later),
  // empty if none (a refresh keeps the family but not the code; a replay reaches its tokens through
  // the family): the code's row id in decimal, which grows with every code and so keeps its index
  // appended to.
  std::string code_key;
  int64_t issued_ms = 0;
  int64_t expires_ms = 0;  // 0 = never
  bool revoked = false;
  bool rotated = false;  // refresh token already exchanged under the rotate policy
  // When it was first exchanged (0 while not rotated, and for tokens rotated before the column
  // existed): a retry within the reuse grace window (Redemption::reuse_since_ms) may use it
  // again.
  int64_t rotated_ms = 0;
  std::string cnf_x5t;  // RFC 8705 certificate binding (base64url SHA-256), empty if none
  // When the user signed in interactively for the grant this token descends from (seconds
  // since the epoch), 0 when none did: ID tokens minted by a refresh carry the original
  // auth_time (OIDC Core §12.2).
  int64_t auth_time_s = 0;

  SecretRef ref() const { return {id, token_hash}; }
  // Every field equal (store/copy.h compares a copied row with its source).
  bool operator==(const Token&) const = default;
};

// The single-use thing a grant uses up as it saves its tokens: an authorization code (by hash)
// or a refresh token under the rotate policy (by SecretRef). If another request used it up
// first, `revoke_key` names what to revoke instead: the code's tokens and their families, as
// TokenStore::redeem_later does for a replayed code (RFC 6749 §4.1.2), or the refresh token's
// family (RFC 9700 §4.14.2).
//
// A refresh token may be used again within a grace window after its first rotation
// (docs/behaviour.md §5.4, `--refresh-reuse-grace`), for a client that retries a refresh whose
// response it lost: it is still redeemable when rotated at or after `reuse_since_ms`. The first
// rotation's time (`now_ms`) is kept, so retries never extend the window.
struct Redemption {
  enum class Kind { code, refresh_token };
  Kind kind = Kind::code;
  SecretRef ref;
  std::string revoke_key;
  // Refresh tokens only: the time of this rotation, and the earliest first rotation a reuse may
  // follow (the default, the largest time, admits none).
  int64_t now_ms = 0;
  int64_t reuse_since_ms = std::numeric_limits<int64_t>::max();
};

struct Consent {
  std::string user_id;
  std::string client_id;
  std::vector<std::string> scopes;
  int64_t granted_ms = 0;
};

struct SigningKeyRecord {
  std::string kid;
  std::string alg;  // RS256 | ES256
  // The PKCS#8 PEM sealed under the key-encryption key (crypto/key_sealer.h); the store keeps it
  // as given. Databases from before sealing hold the plaintext PEM until the first start.
  std::string private_pem;
  int64_t created_ms = 0;
  int64_t retired_ms = 0;  // 0 = active

  bool operator==(const SigningKeyRecord&) const = default;
};

// A browser login session (cookie value stored hashed).
struct Session {
  std::string session_hash;
  std::string user_id;
  int64_t auth_time_s = 0;
  int64_t expires_ms = 0;
};

// A single-use assertion identifier as ReplayStore keeps it: `key` is the digest first_use()
// made of the identifier, never the identifier itself.
struct ReplayKey {
  std::string key;
  std::string client_id;
  int64_t expires_ms = 0;
};

// A credential of the admin API (docs/admin-api.md): the token itself is shown once, when it is
// made, and only its SHA-256 is kept. `name` is the admin identity the audit log records.
struct AdminToken {
  std::string name;
  std::string token_hash;  // SHA-256 of the token, lowercase hex
  int64_t created_ms = 0;
};

// How many rows one table holds (CopyStore::count_rows).
struct TableRows {
  std::string table;  // the table's name in both backends, e.g. "tokens"
  int64_t rows = 0;
};

}  // namespace latchkey::store
