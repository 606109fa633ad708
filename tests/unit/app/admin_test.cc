#include "app/admin.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "crypto/crypto.h"
#include "store/open.h"
#include "store/temp_dir.h"
#include "unit/support/test_support.h"

namespace latchkey::app {
namespace {

TEST(AdminValidUsername, AcceptsEmailShapedNames) {
  // docs/behaviour.md §7: usernames are name@host; alice@localhost is valid.
  EXPECT_TRUE(valid_username("alice@localhost"));
  EXPECT_TRUE(valid_username("alice.smith+test@example.com"));
  EXPECT_TRUE(valid_username("a@b"));
}

TEST(AdminValidUsername, RefusesMalformedNames) {
  EXPECT_FALSE(valid_username("alice"));
  EXPECT_FALSE(valid_username("@x"));
  EXPECT_FALSE(valid_username("a@"));
  EXPECT_FALSE(valid_username("a b@c"));
  EXPECT_FALSE(valid_username(""));
  EXPECT_FALSE(valid_username("a@b@c"));
  EXPECT_FALSE(valid_username("a\t@b"));
  EXPECT_FALSE(valid_username("a@b\n"));
  EXPECT_FALSE(valid_username("<a>@b"));
  EXPECT_FALSE(valid_username(std::string(76, 'a') + "@host"));  // 81 characters
  EXPECT_TRUE(valid_username(std::string(75, 'a') + "@host"));   // 80 is the limit
}

TEST(AdminValidCallback, AcceptsAbsoluteUris) {
  EXPECT_TRUE(valid_callback("https://app.example.test/callback"));
  EXPECT_TRUE(valid_callback("https://app.example.test"));
  EXPECT_TRUE(valid_callback("https://app.example.test:8443/cb?x=1"));
  EXPECT_TRUE(valid_callback("HTTPS://app.example.test/cb"));  // RFC 3986 §3.1: any case
  EXPECT_TRUE(valid_callback("http://localhost:8080/cb?x=1"));
  EXPECT_TRUE(valid_callback("com.example.app:/oauth2redirect"));  // RFC 8252 §7.1
  EXPECT_TRUE(valid_callback("com.example.app://callback"));
}

TEST(AdminValidCallback, AcceptsHttpOnlyForLoopbackHosts) {
  // RFC 8252 §7.3, §8.3: plain http only for a redirect that stays on the device.
  EXPECT_TRUE(valid_callback("http://localhost:1717/OauthRedirect"));  // the Salesforce CLI
  EXPECT_TRUE(valid_callback("http://LocalHost/cb"));
  EXPECT_TRUE(valid_callback("http://127.0.0.1:9/cb"));
  EXPECT_TRUE(valid_callback("http://127.0.0.1"));
  EXPECT_TRUE(valid_callback("http://127.255.10.3:80/cb"));
  EXPECT_TRUE(valid_callback("http://[::1]:8080/cb"));
  EXPECT_TRUE(valid_callback("http://[::1]/cb"));
  EXPECT_FALSE(valid_callback("http://app.example.test/cb"));
  EXPECT_FALSE(valid_callback("http://10.0.0.1/cb"));
  EXPECT_FALSE(valid_callback("http://128.0.0.1/cb"));
  EXPECT_FALSE(valid_callback("http://[::2]/cb"));
  EXPECT_FALSE(valid_callback("http://[::ffff:127.0.0.1]/cb"));
  EXPECT_FALSE(valid_callback("http://localhost.evil.example/cb"));
  EXPECT_FALSE(valid_callback("http://127.0.0.1.evil.example/cb"));
  EXPECT_FALSE(valid_callback("http://localhost@evil.example/cb"));  // userinfo
  EXPECT_FALSE(valid_callback("http://evil.example@localhost/cb"));
  EXPECT_FALSE(valid_callback("http://127.1/cb"));       // shortened forms
  EXPECT_FALSE(valid_callback("http://0177.0.0.1/cb"));  // octal
  EXPECT_FALSE(valid_callback("http://127.0.0.256/cb"));
  EXPECT_FALSE(valid_callback("http://127.0.0.1:80x/cb"));  // a port is digits
  EXPECT_FALSE(valid_callback("http://localhost:/cb#x"));
}

TEST(AdminValidCallback, RefusesSchemesABrowserActsOnItself) {
  EXPECT_FALSE(valid_callback("javascript:alert(document.cookie)"));
  EXPECT_FALSE(valid_callback("JavaScript://%0aalert(1)"));
  EXPECT_FALSE(valid_callback("data:text/html,<script>alert(1)</script>"));
  EXPECT_FALSE(valid_callback("vbscript:msgbox(1)"));
  EXPECT_FALSE(valid_callback("file:///etc/passwd"));
  EXPECT_FALSE(valid_callback("blob:https://app.example.test/uuid"));
  EXPECT_FALSE(valid_callback("about:blank"));
  EXPECT_FALSE(valid_callback("ftp://app.example.test/cb"));
  // RFC 8252 §7.1: a private-use scheme is reverse-DNS, so one without a period is refused.
  EXPECT_FALSE(valid_callback("myapp://callback"));
  EXPECT_FALSE(valid_callback("com.exa_mple:/cb"));  // not RFC 3986 §3.1 scheme syntax
  EXPECT_FALSE(valid_callback("1com.example:/cb"));
}

TEST(AdminValidCallback, RefusesRelativeFragmentAndMalformedUris) {
  // RFC 6749 §3.1.2: absolute, and MUST NOT include a fragment.
  EXPECT_FALSE(valid_callback(""));
  EXPECT_FALSE(valid_callback("/callback"));
  EXPECT_FALSE(valid_callback("callback"));
  EXPECT_FALSE(valid_callback(":nothing"));
  EXPECT_FALSE(valid_callback("https://app.example.test/cb#frag"));
  EXPECT_FALSE(valid_callback("https:/app.example.test/cb"));
  EXPECT_FALSE(valid_callback("https://"));
  EXPECT_FALSE(valid_callback("https://app.example.test/a b"));
  EXPECT_FALSE(valid_callback("https://app.example.test/\x7f"));
  EXPECT_FALSE(valid_callback("https://app.example.test/" + std::string(2000, 'a')));
}

class AdminTest : public ::testing::Test {
 protected:
  AdminTest() : db_(store::open_database("sqlite::memory:")), admin_(*db_, random_, clock_, kek_) {
    testsupport::seed_signing_keys(*db_, clock_.now_ms());
  }

  static NewApp base() {
    NewApp a;
    a.name = "Unit App";
    a.callbacks = {"https://app.example.test/callback"};
    return a;
  }

  template <typename Edit>
  void expect_refused(Edit edit, const std::string& what) {
    NewApp a = base();
    edit(a);
    std::size_t before = db_->list_apps().size();
    auto r = admin_.create_app(a);
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_EQ(r.error().code(), "invalid_request") << what;
    EXPECT_FALSE(r.error().description().empty()) << what;
    EXPECT_EQ(db_->list_apps().size(), before) << what << " stored an app anyway";
  }

  std::string client_id_of(const Result<boost::json::object>& r) {
    return std::string(r.value().at("client_id").as_string());
  }

  FakeClock clock_;
  crypto::OsRandom random_;
  std::unique_ptr<store::Database> db_;
  KekSource kek_{testsupport::test_sealer()};
  Admin admin_;
};

TEST_F(AdminTest, CreateAppReturnsSecretWhoseHashIsStored) {
  // docs/behaviour.md §2: only SHA-256 of the client secret is stored.
  auto r = admin_.create_app(base());
  ASSERT_TRUE(r.ok()) << r.error().description();
  ASSERT_TRUE(r->contains("client_secret"));
  std::string secret(r->at("client_secret").as_string());
  EXPECT_GE(secret.size(), 32u);
  auto app = db_->find_app(client_id_of(r));
  ASSERT_TRUE(app.has_value());
  EXPECT_EQ(app->secret_hash, crypto::sha256_hex(secret));
  EXPECT_NE(app->secret_hash, secret);
  // The clear secret appears nowhere in the stored record.
  for (const std::string* field : {&app->id, &app->client_id, &app->name, &app->secret_hash,
                                   &app->cert_pem, &app->mtls_cert_pem}) {
    EXPECT_EQ(field->find(secret), std::string::npos);
  }
}

TEST_F(AdminTest, CreateAppGivesDistinctClientIdsAndSecrets) {
  auto a = admin_.create_app(base());
  auto b = admin_.create_app(base());
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_NE(client_id_of(a), client_id_of(b));
  EXPECT_NE(a->at("client_secret"), b->at("client_secret"));
  EXPECT_EQ(client_id_of(a).rfind("3MVG", 0), 0u);
}

// docs/behaviour.md §3: the Salesforce CLI's web login needs the public app `PlatformCLI`.
TEST_F(AdminTest, CreateAppRegistersTheChosenClientIdAsAPublicClient) {
  NewApp a = base();
  a.client_id = "PlatformCLI";
  a.callbacks = {"http://localhost:1717/OauthRedirect"};
  a.scopes = "refresh_token api web";
  a.token_endpoint_auth_method = "none";
  auto r = admin_.create_app(a);
  ASSERT_TRUE(r.ok()) << r.error().description();
  EXPECT_EQ(client_id_of(r), "PlatformCLI");
  EXPECT_FALSE(r->contains("client_secret"));
  auto app = db_->find_app("PlatformCLI");
  ASSERT_TRUE(app.has_value());
  EXPECT_EQ(app->scopes, (std::vector<std::string>{"refresh_token", "api", "web"}));
  EXPECT_FALSE(app->require_secret_web_server);
}

TEST_F(AdminTest, CreateAppWithATakenClientIdIsRefusedAndKeepsTheFirst) {
  NewApp a = base();
  a.client_id = "PlatformCLI";
  auto first = admin_.create_app(a);
  ASSERT_TRUE(first.ok());
  a.name = "Second";
  auto second = admin_.create_app(a);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code(), "invalid_request");
  EXPECT_NE(second.error().description().find("PlatformCLI"), std::string::npos)
      << second.error().description();
  EXPECT_EQ(db_->find_app("PlatformCLI")->name, "Unit App");
  EXPECT_EQ(db_->list_apps().size(), 1u);
}

TEST_F(AdminTest, CreateAppRefusesAnUnprintableOrOverlongClientId) {
  for (const std::string& id :
       {std::string("Platform CLI"), std::string("del\x7f"), std::string("tab\there"),
        std::string("nl\n"), std::string("caf\xc3\xa9"), std::string(256, 'a')}) {
    expect_refused([&](NewApp& a) { a.client_id = id; }, "client id " + id);
  }
  NewApp longest = base();
  longest.client_id = std::string(255, 'a');
  EXPECT_TRUE(admin_.create_app(longest).ok());
}

// docs/behaviour.md §5.11: off by default, stored when asked for, refused for a public client.
TEST_F(AdminTest, CreateAppAllowsThePasswordFlowOnlyForAClientThatAuthenticates) {
  auto plain = admin_.create_app(base());
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(db_->find_app(client_id_of(plain))->allow_password_flow);
  NewApp a = base();
  a.allow_password_flow = true;
  auto allowed = admin_.create_app(a);
  ASSERT_TRUE(allowed.ok()) << allowed.error().description();
  EXPECT_TRUE(db_->find_app(client_id_of(allowed))->allow_password_flow);
  EXPECT_TRUE(admin_.show_app(client_id_of(allowed))->at("allow_password_flow").as_bool());
  expect_refused(
      [](NewApp& n) {
        n.allow_password_flow = true;
        n.token_endpoint_auth_method = "none";
      },
      "--allow-password-flow for a public client");
}

TEST_F(AdminTest, CreateAppDefaults) {
  // docs/behaviour.md §3 defaults: api refresh_token, pkce optional, secrets required, until
  // revoked.
  auto r = admin_.create_app(base());
  ASSERT_TRUE(r.ok());
  auto app = db_->find_app(client_id_of(r));
  ASSERT_TRUE(app.has_value());
  EXPECT_EQ(app->scopes, (std::vector<std::string>{"api", "refresh_token"}));
  EXPECT_FALSE(app->pkce_required);
  EXPECT_TRUE(app->require_secret_web_server);
  EXPECT_TRUE(app->require_secret_refresh);
  EXPECT_FALSE(app->admin_approved_only);
  EXPECT_EQ(app->refresh_policy, store::RefreshPolicy::until_revoked);
  EXPECT_EQ(app->access_token_ttl_s, 7200);
  EXPECT_FALSE(app->allow_implicit);
  EXPECT_EQ(app->token_format, store::TokenFormat::opaque);
  EXPECT_FALSE(app->org_id.empty());
}

TEST_F(AdminTest, CreateAppStoresFlags) {
  NewApp a = base();
  a.pkce = "required";
  a.permitted_users = "admin-approved";
  a.refresh_policy = "expire-after:3600";
  a.access_token_ttl_s = 2592000;
  a.allow_implicit = true;
  a.require_secret_refresh = false;
  a.scopes = "api openid api";
  auto r = admin_.create_app(a);
  ASSERT_TRUE(r.ok()) << r.error().description();
  auto app = db_->find_app(client_id_of(r));
  ASSERT_TRUE(app.has_value());
  EXPECT_TRUE(app->pkce_required);
  EXPECT_TRUE(app->admin_approved_only);
  EXPECT_EQ(app->refresh_policy, store::RefreshPolicy::expire_after);
  EXPECT_EQ(app->refresh_ttl_s, 3600);
  EXPECT_EQ(app->access_token_ttl_s, 2592000);
  EXPECT_TRUE(app->allow_implicit);
  EXPECT_FALSE(app->require_secret_refresh);
  EXPECT_EQ(app->scopes, (std::vector<std::string>{"api", "openid"}));
}

TEST_F(AdminTest, CreateAppAcceptsEveryRefreshPolicy) {
  for (const char* p : {"until-revoked", "immediately", "rotate", "expire-after:1"}) {
    NewApp a = base();
    a.refresh_policy = p;
    auto r = admin_.create_app(a);
    EXPECT_TRUE(r.ok()) << p;
  }
}

TEST_F(AdminTest, CreateAppRefusesBadRefreshPolicy) {
  for (const char* p :
       {"", "never", "until_revoked", "Rotate", "expire-after:", "expire-after:0",
        "expire-after:-5", "expire-after:10s", "expire-after: 10", "expire-after:abc",
        "expire_after:10", "expire-after:99999999999999999999999"}) {
    expect_refused([&](NewApp& a) { a.refresh_policy = p; }, std::string("refresh policy ") + p);
  }
}

TEST_F(AdminTest, CreateAppRefusesBadPkce) {
  for (const char* p : {"", "plain", "S256", "Required", "true"}) {
    expect_refused([&](NewApp& a) { a.pkce = p; }, std::string("pkce ") + p);
  }
}

TEST_F(AdminTest, CreateAppRefusesBadPermittedUsers) {
  for (const char* p : {"", "everyone", "admin_approved", "All"}) {
    expect_refused([&](NewApp& a) { a.permitted_users = p; }, std::string("permitted users ") + p);
  }
}

TEST_F(AdminTest, CreateAppRefusesBadAccessTokenTtl) {
  for (int64_t ttl : {int64_t{0}, int64_t{-1}, int64_t{2592001}, int64_t{-7200}}) {
    expect_refused([&](NewApp& a) { a.access_token_ttl_s = ttl; },
                   "access token ttl " + std::to_string(ttl));
  }
  NewApp one = base();
  one.access_token_ttl_s = 1;
  EXPECT_TRUE(admin_.create_app(one).ok());
}

TEST_F(AdminTest, CreateAppRefusesOtherBadInput) {
  expect_refused([](NewApp& a) { a.name.clear(); }, "empty name");
  expect_refused([](NewApp& a) { a.scopes = "   "; }, "no scopes");
  expect_refused(
      [](NewApp& a) {
        a.callbacks = {"https://ok.test/cb", "/relative"};
      },
      "relative callback");
  expect_refused([](NewApp& a) { a.callbacks = {"https://ok.test/cb#x"}; }, "fragment");
  expect_refused([](NewApp& a) { a.token_format = "paseto"; }, "token format");
  expect_refused([](NewApp& a) { a.cert_path = "/nonexistent/cert.pem"; }, "missing cert");
  expect_refused([](NewApp& a) { a.client_credentials_user = "nobody@localhost"; },
                 "unknown run-as user");
}

// `app create --callback javascript:…` and the like are refused with a message that says what
// is allowed, and nothing is stored.
TEST_F(AdminTest, CreateAppRefusesDangerousCallbackSchemesSayingWhatIsAllowed) {
  for (const char* cb :
       {"javascript:alert(1)", "data:text/html,x", "vbscript:x", "file:///x",
        "blob:https://a.test/x", "about:blank", "http://app.example.test/cb", "myapp://cb"}) {
    expect_refused([&](NewApp& a) { a.callbacks = {"https://ok.test/cb", cb}; }, cb);
    NewApp a = base();
    a.callbacks = {cb};
    auto r = admin_.create_app(a);
    ASSERT_FALSE(r.ok()) << cb;
    EXPECT_NE(r.error().description().find(cb), std::string::npos) << cb;
    EXPECT_NE(r.error().description().find("https://"), std::string::npos) << cb;
  }
  NewApp ok = base();
  ok.callbacks = {"https://ok.test/cb", "http://localhost:1717/OauthRedirect",
                  "http://127.0.0.1:9/cb", "http://[::1]:9/cb", "com.example.app:/cb"};
  auto r = admin_.create_app(ok);
  ASSERT_TRUE(r.ok()) << r.error().description();
}

// The demo app's callback is issuer + "/demo/callback": fine on a loopback issuer; on an http
// issuer elsewhere it is refused like any app's, and ensure_demo says so instead of failing
// silently.
TEST_F(AdminTest, EnsureDemoSaysWhyItHasNoAppOnANonLoopbackHttpIssuer) {
  auto refused = admin_.ensure_demo("http://0.0.0.0:8080");
  EXPECT_FALSE(refused.contains("client_id"));
  ASSERT_TRUE(refused.contains("error"));
  EXPECT_NE(std::string(refused.at("error").as_string()).find("http://0.0.0.0:8080/demo/callback"),
            std::string::npos);
  auto made = admin_.ensure_demo("http://127.0.0.1:8080");
  EXPECT_TRUE(made.contains("client_id"));
  EXPECT_FALSE(made.contains("error"));
}

// RFC 8705 §2.1 tls_client_auth: the subject DN is stored in the normal form certificates are
// compared in, and shown by app show and app list.
TEST_F(AdminTest, CreateAppStoresTheNormalizedSubjectDnAndShowsIt) {
  NewApp a = base();
  a.mtls_subject_dn = "cn=client,  O=Example";
  auto r = admin_.create_app(a);
  ASSERT_TRUE(r.ok()) << r.error().description();
  const std::string id = client_id_of(r);
  EXPECT_EQ(db_->find_app(id)->mtls_subject_dn, "CN=client,O=Example");
  auto shown = admin_.show_app(id);
  ASSERT_TRUE(shown.ok());
  EXPECT_EQ(shown->at("mtls_subject_dn"), "CN=client,O=Example");
  bool listed = false;
  const boost::json::object all = admin_.list_apps();
  for (const auto& app : all.at("apps").as_array()) {
    if (app.at("client_id").as_string() == id) {
      listed = true;
      EXPECT_EQ(app.at("mtls_subject_dn"), "CN=client,O=Example");
    } else {
      EXPECT_TRUE(app.at("mtls_subject_dn").is_null());
    }
  }
  EXPECT_TRUE(listed);
  // Without one: null.
  auto plain = admin_.create_app(base());
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(admin_.show_app(client_id_of(plain))->at("mtls_subject_dn").is_null());
}

TEST_F(AdminTest, CreateAppRefusesBothMtlsMethodsAndMalformedSubjectDns) {
  // A readable certificate, so that only the exclusivity rule can refuse the first case.
  static const crypto::SigningKey key = crypto::SigningKey::generate_es256("admin-mtls");
  const store::test::TempDir dir;
  const std::string path = dir.file("admin-mtls-cert.pem");
  std::ofstream(path) << testsupport::self_signed_cert_pem(key);
  NewApp ok = base();
  ok.mtls_cert_path = path;
  ASSERT_TRUE(admin_.create_app(ok).ok());
  expect_refused(
      [&](NewApp& a) {
        a.mtls_cert_path = path;
        a.mtls_subject_dn = "CN=client";
      },
      "--mtls-cert with --mtls-subject-dn");
  NewApp both = base();
  both.mtls_cert_path = path;
  both.mtls_subject_dn = "CN=client";
  auto r = admin_.create_app(both);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().description().find("--mtls-subject-dn"), std::string::npos);
  EXPECT_NE(r.error().description().find("not both"), std::string::npos);
  for (const char* bad : {"client", "CN=", "CN=a;O=b", "XX=a"}) {
    expect_refused([&](NewApp& a) { a.mtls_subject_dn = bad; }, bad);
  }
}

// RFC 7591 §2 token_endpoint_auth_method: what the registration implies by default, what may
// be chosen, and no secret for an app that cannot use one (RFC 8705 §2: a secret beside the
// certificate would get unbound tokens).
class AdminAuthMethodTest : public AdminTest {
 protected:
  AdminAuthMethodTest() {
    static const crypto::SigningKey key = crypto::SigningKey::generate_es256("admin-method");
    std::ofstream(cert_path_) << testsupport::self_signed_cert_pem(key);
  }
  // Creates the app; its stored method and the printed object.
  std::pair<store::ClientAuthMethod, boost::json::object> create(const NewApp& a) {
    auto r = admin_.create_app(a);
    EXPECT_TRUE(r.ok()) << r.error().description();
    auto app = db_->find_app(client_id_of(r));
    EXPECT_EQ(admin_.show_app(app->client_id)->at("token_endpoint_auth_method"),
              r->at("token_endpoint_auth_method"));
    EXPECT_EQ(app->secret_hash.empty(), !r->contains("client_secret"));
    return {app->token_endpoint_auth_method, *r};
  }
  // A directory of its own: ctest runs the tests of this fixture in parallel processes, and a
  // shared file was seen half-written by one while the other wrote it.
  const store::test::TempDir dir_;
  const std::string cert_path_ = dir_.file("admin-method-cert.pem");
};

TEST_F(AdminAuthMethodTest, MtlsAppsGetTheirCertificateMethodAndNoSecret) {
  using M = store::ClientAuthMethod;
  NewApp self = base();
  self.mtls_cert_path = cert_path_;
  auto [self_method, self_out] = create(self);
  EXPECT_EQ(self_method, M::self_signed_tls_client_auth);
  EXPECT_FALSE(self_out.contains("client_secret"));
  NewApp pki = base();
  pki.mtls_subject_dn = "CN=client,O=Example";
  auto [pki_method, pki_out] = create(pki);
  EXPECT_EQ(pki_method, M::tls_client_auth);
  EXPECT_FALSE(pki_out.contains("client_secret"));
  EXPECT_EQ(pki_out.at("token_endpoint_auth_method"), "tls_client_auth");
  // Naming their own method is fine; any other is refused.
  pki.token_endpoint_auth_method = "tls_client_auth";
  EXPECT_EQ(create(pki).first, M::tls_client_auth);
  for (const char* other : {"client_secret_basic", "client_secret_post", "none",
                            "self_signed_tls_client_auth", "tls_client_auth", "private_key_jwt"}) {
    const std::string method = other;
    if (method != "tls_client_auth") {
      expect_refused(
          [&](NewApp& a) {
            a.mtls_subject_dn = "CN=client";
            a.token_endpoint_auth_method = method;
          },
          "--mtls-subject-dn with " + method);
    }
    if (method != "self_signed_tls_client_auth") {
      expect_refused(
          [&](NewApp& a) {
            a.mtls_cert_path = cert_path_;
            a.token_endpoint_auth_method = method;
          },
          "--mtls-cert with " + method);
    }
  }
  // And an mTLS app has no secret to rotate either.
  auto rotated = admin_.rotate_secret(std::string(self_out.at("client_id").as_string()));
  ASSERT_FALSE(rotated.ok());
  EXPECT_EQ(rotated.error().code(), "invalid_request");
}

TEST_F(AdminAuthMethodTest, OtherAppsDefaultToTheSecretAndMayChoose) {
  using M = store::ClientAuthMethod;
  auto [plain, plain_out] = create(base());
  EXPECT_EQ(plain, M::client_secret_basic);
  EXPECT_TRUE(plain_out.contains("client_secret"));
  NewApp post = base();
  post.token_endpoint_auth_method = "client_secret_post";
  auto [post_method, post_out] = create(post);
  EXPECT_EQ(post_method, M::client_secret_post);
  EXPECT_TRUE(post_out.contains("client_secret"));
  NewApp jwt = base();
  jwt.cert_path = cert_path_;
  EXPECT_EQ(create(jwt).first, M::client_secret_basic);  // with a --cert, the default stays
  jwt.token_endpoint_auth_method = "private_key_jwt";
  auto [jwt_method, jwt_out] = create(jwt);
  EXPECT_EQ(jwt_method, M::private_key_jwt);
  EXPECT_FALSE(jwt_out.contains("client_secret"));
  expect_refused([](NewApp& a) { a.token_endpoint_auth_method = "private_key_jwt"; },
                 "private_key_jwt without --cert");
  expect_refused([](NewApp& a) { a.token_endpoint_auth_method = "tls_client_auth"; },
                 "tls_client_auth without --mtls-subject-dn");
  expect_refused([](NewApp& a) { a.token_endpoint_auth_method = "self_signed_tls_client_auth"; },
                 "self_signed_tls_client_auth without --mtls-cert");
  expect_refused([](NewApp& a) { a.token_endpoint_auth_method = "client_secret_jwt"; },
                 "an unsupported method");
}

TEST_F(AdminAuthMethodTest, NoneIsAPublicClientWithoutASecret) {
  NewApp a = base();
  a.token_endpoint_auth_method = "none";
  auto [method, out] = create(a);
  EXPECT_EQ(method, store::ClientAuthMethod::none);
  EXPECT_FALSE(out.contains("client_secret"));
  auto app = db_->find_app(std::string(out.at("client_id").as_string()));
  EXPECT_FALSE(app->require_secret_web_server);
  EXPECT_FALSE(app->require_secret_refresh);
}

TEST_F(AdminTest, CreateUserRefusesMalformedUsername) {
  NewUser u;
  u.username = "alice";
  u.password = "pw";
  auto r = admin_.create_user(u);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_request");
  EXPECT_TRUE(db_->list_users().empty());
}

}  // namespace
}  // namespace latchkey::app
