#include "conformance.h"

#include <stdlib.h>

#include <cstdio>

#include "postgres_server.h"
#include "store/open.h"

namespace latchkey::store::testing {

const std::vector<Backend>& backends() {
  static const std::vector<Backend> kBackends = [] {
    std::vector<Backend> all = {
        {"sqlite_file",
         [](const std::filesystem::path& scratch) {
           return FreshDatabase{"sqlite:" + (scratch / "latchkey.db").string(), nullptr};
         },
         true},
        {"sqlite_memory",
         [](const std::filesystem::path&) {
           return FreshDatabase{"sqlite::memory:", nullptr};
         },
         false},
    };
    if (auto server = test::postgres_server_url()) {
      all.push_back({"postgres",
                     [server = *server](const std::filesystem::path&) {
                       auto db = std::make_shared<test::TempPostgresDatabase>(server);
                       return FreshDatabase{db->url(), db};
                     },
                     true});
    } else {
      std::fprintf(stderr,
                   "store conformance: LATCHKEY_TEST_POSTGRES_URL is not set, so the PostgreSQL "
                   "backend is not tested (make test sets it)\n");
    }
    return all;
  }();
  return kBackends;
}

void StoreConformance::SetUp() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "latchkey-store-XXXXXX").string();
  ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
  scratch_ = tmpl;
  FreshDatabase fresh = GetParam().fresh(scratch_);
  url_ = fresh.url;
  owner_ = std::move(fresh.owner);
  db_ = open_database(url_);
}

void StoreConformance::TearDown() {
  db_.reset();
  owner_.reset();
  std::error_code ec;
  std::filesystem::remove_all(scratch_, ec);
}

std::unique_ptr<Database> StoreConformance::open_again() { return open_database(url_); }

void StoreConformance::reopen() {
  db_.reset();
  db_ = open_database(url_);
}

std::vector<std::string> tricky_list() {
  return {"api",
          "refresh_token offline_access",
          "say \"hi\"",
          "back\\slash",
          "line\nbreak",
          "tab\there",
          "caf\xC3\xA9 \xE2\x9C\x93",
          "",
          "[\"not\",\"json\"]",
          "\x01\x1f"};
}

Org sample_org(const std::string& id, int64_t created_ms) {
  return Org{id, "Org " + id, created_ms};
}

User sample_user(const std::string& id, const std::string& username) {
  User u;
  u.id = id;
  u.org_id = "00D000000000001";
  u.username = username;
  u.email = "mail+" + username;
  u.first_name = "Ada";
  u.last_name = "Lovelace O'Brien";
  u.password_hash = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA";
  u.profile = "System Administrator";
  u.permission_sets = {"API Enabled", "Manage Users", "with \"quotes\""};
  u.active = false;
  u.created_ms = 1700000000123;
  return u;
}

App sample_app(const std::string& client_id) {
  App a;
  a.id = "0Ha" + client_id;
  a.client_id = client_id;
  a.org_id = "00D000000000001";
  a.name = "My App";
  a.secret_hash = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8";
  a.callbacks = {"https://app.example/cb", "http://localhost:8080/callback?x=1 2"};
  a.scopes = tricky_list();
  a.pkce_required = true;
  a.require_secret_web_server = false;
  a.require_secret_refresh = false;
  a.admin_approved_only = true;
  a.cert_pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  a.client_credentials_user_id = "005000000000009";
  a.refresh_policy = RefreshPolicy::expire_after;
  a.refresh_ttl_s = 86400;
  a.access_token_ttl_s = 900;
  a.allow_implicit = true;
  a.mtls_cert_pem = "-----BEGIN CERTIFICATE-----\nMTLS\n-----END CERTIFICATE-----\n";
  a.token_format = TokenFormat::jwt;
  a.created_ms = 1700000000456;
  a.mtls_subject_dn = R"(CN=Smith\, John+UID=js,O=Example \"Q\",C=DE)";
  a.token_endpoint_auth_method = ClientAuthMethod::tls_client_auth;
  a.allow_password_flow = true;
  return a;
}

AuthCode sample_code(const std::string& code_hash) {
  AuthCode c;
  c.code_hash = code_hash;
  c.client_id = "3MVG9client";
  c.user_id = "005000000000001";
  c.redirect_uri = "https://app.example/cb?state=a b";
  c.scopes = tricky_list();
  c.code_challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
  c.nonce = "n-0S6_WzA2Mj";
  c.auth_time_s = 1700000000;
  c.expires_ms = 1700000600000;
  c.used = false;
  return c;
}

Token sample_token(const std::string& token_hash, TokenKind kind) {
  Token t;
  t.token_hash = token_hash;
  t.kind = kind;
  t.client_id = "3MVG9client";
  t.user_id = "005000000000001";
  t.org_id = "00D000000000001";
  t.scopes = tricky_list();
  t.family_id = "family-1";
  t.code_key = "code-1";
  t.issued_ms = 1700000000000;
  t.expires_ms = 1700007200000;
  t.revoked = false;
  t.rotated = false;
  t.cnf_x5t = "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2";
  t.auth_time_s = 1699999990;
  return t;
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreConformance, ::testing::ValuesIn(backends()),
                         [](const ::testing::TestParamInfo<Backend>& param_info) {
                           return param_info.param.name;
                         });

WriteOutcome redeem(TokenStore& store, Redemption::Kind kind, const SecretRef& ref,
                    const std::string& revoke_key, const std::vector<Token>& tokens) {
  return store.redeem_later({kind, ref, revoke_key}, tokens)->wait();
}

int replay_code(Database& db, const std::string& code_key) {
  AuthCode used = sample_code("used-code-of-" + code_key);
  used.used = true;
  if (!db.find_code(used.ref())) db.save_code(used);
  WriteOutcome o = redeem(db, Redemption::Kind::code, used.ref(), code_key);
  EXPECT_EQ(o.status, WriteOutcome::Status::already_redeemed) << o.error;
  return o.revoked;
}

}  // namespace latchkey::store::testing
