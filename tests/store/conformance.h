// The storage conformance suite: every backend must pass these tests through the
// store::Database interface alone. A backend joins by adding a factory to backends() in
// conformance.cc; the tests never name a concrete class. PostgreSQL joins when
// LATCHKEY_TEST_POSTGRES_URL names a server (postgres_server.h), as `make test` does.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

#include "store/stores.h"

namespace latchkey::store::testing {

// A new, empty database for one test.
struct FreshDatabase {
  std::string url;  // its --db URL
  // What must live as long as the test; letting it go removes the database (null when the
  // test's scratch directory holds all of it).
  std::shared_ptr<void> owner;
};

struct Backend {
  std::string name;  // test-name suffix: letters, digits and '_'
  // A new, empty database. `scratch` is a fresh directory owned by the test.
  std::function<FreshDatabase(const std::filesystem::path& scratch)> fresh;
  // Whether opening the same URL again sees the same data (false for in-memory databases).
  bool persistent = true;
};

const std::vector<Backend>& backends();
// Test output names a backend rather than dumping its bytes.
inline void PrintTo(const Backend& backend, std::ostream* os) { *os << backend.name; }

class StoreConformance : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override;
  void TearDown() override;

  Database& db() { return *db_; }
  // Another handle on the same database, as a second process or a restart would see it.
  std::unique_ptr<Database> open_again();
  // Closes and reopens the test's handle (a restart).
  void reopen();

  std::filesystem::path scratch_;
  std::shared_ptr<void> owner_;  // FreshDatabase::owner
  std::string url_;
  std::unique_ptr<Database> db_;
};

// Records with every field set to a non-default value, so a dropped or swapped column shows.
// Lists include spaces, quotes, backslashes, newlines, non-ASCII text and an empty string.
std::vector<std::string> tricky_list();
Org sample_org(const std::string& id, int64_t created_ms);
User sample_user(const std::string& id, const std::string& username);
App sample_app(const std::string& client_id);
AuthCode sample_code(const std::string& code_hash);
Token sample_token(const std::string& token_hash, TokenKind kind);

// A redemption as a grant makes it (TokenStore::redeem_later), waited for: the code or refresh
// token `ref` names buys `tokens`, or its replay revokes what `revoke_key` names.
WriteOutcome redeem(TokenStore& store, Redemption::Kind kind, const SecretRef& ref,
                    const std::string& revoke_key, const std::vector<Token>& tokens = {});
// A replay of a code already used up whose tokens carry `code_key` (a used code is saved for
// it first): how many tokens the replay revoked (RFC 6749 §4.1.2).
int replay_code(Database& db, const std::string& code_key);

// Every field of a record as a tuple, so EXPECT_EQ compares (and prints) them all.
inline auto fields(const Org& o) { return std::tie(o.id, o.name, o.created_ms); }
inline auto fields(const User& u) {
  return std::tie(u.id, u.org_id, u.username, u.email, u.first_name, u.last_name, u.password_hash,
                  u.profile, u.permission_sets, u.active, u.created_ms);
}
inline auto fields(const App& a) {
  return std::make_tuple(
      a.id, a.client_id, a.org_id, a.name, a.secret_hash, a.callbacks, a.scopes, a.pkce_required,
      a.require_secret_web_server, a.require_secret_refresh, a.admin_approved_only, a.cert_pem,
      a.client_credentials_user_id, static_cast<int>(a.refresh_policy), a.refresh_ttl_s,
      a.access_token_ttl_s, a.allow_implicit, a.mtls_cert_pem, a.token_format, a.created_ms,
      a.mtls_subject_dn, static_cast<int>(a.token_endpoint_auth_method), a.allow_password_flow);
}
inline auto fields(const Preauthorization& p) { return std::tie(p.client_id, p.kind, p.name); }
inline auto fields(const AuthCode& c) {
  return std::tie(c.code_hash, c.client_id, c.user_id, c.redirect_uri, c.scopes, c.code_challenge,
                  c.nonce, c.auth_time_s, c.expires_ms, c.used);
}
inline auto fields(const Token& t) {
  return std::make_tuple(t.token_hash, static_cast<int>(t.kind), t.client_id, t.user_id, t.org_id,
                         t.scopes, t.family_id, t.code_key, t.issued_ms, t.expires_ms, t.revoked,
                         t.rotated, t.cnf_x5t, t.auth_time_s);
}
inline auto fields(const Consent& c) {
  return std::tie(c.user_id, c.client_id, c.scopes, c.granted_ms);
}
inline auto fields(const SigningKeyRecord& k) {
  return std::tie(k.kid, k.alg, k.private_pem, k.created_ms, k.retired_ms);
}
inline auto fields(const Session& s) {
  return std::tie(s.session_hash, s.user_id, s.auth_time_s, s.expires_ms);
}

}  // namespace latchkey::store::testing
