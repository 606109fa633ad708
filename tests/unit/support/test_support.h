// Shared fixtures for the OAuth-layer unit tests: an in-memory database with one org, user and
// confidential app, a fake clock, and helpers to build requests and self-signed certificates.
#pragma once

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <optional>
#include <mutex>
#include <string_view>
#include <vector>

#include "core/events.h"
#include "oauth/client_auth.h"
#include "oauth/grants/grant_handler.h"
#include "oauth/token_issuer.h"
#include "oidc/id_token.h"
#include "keys/key_ring.h"
#include "token/jwt_access_tokens.h"
#include "token/opaque_tokens.h"

#include <initializer_list>
#include <memory>
#include <string>
#include <utility>

#include "core/clock.h"
#include "crypto/crypto.h"
#include "crypto/jose.h"
#include "crypto/key_sealer.h"
#include "http/message.h"
#include "http/params.h"
#include "store/records.h"
#include "store/stores.h"

namespace latchkey::testsupport {

inline constexpr const char* kIssuer = "https://login.example.test";
inline constexpr const char* kCallback = "https://app.example.test/callback";

// A self-signed X.509 certificate (PEM) for the key's public half, as an app's --cert would be.
std::string self_signed_cert_pem(const crypto::SigningKey& key);
// The same with the given subject, root first ({{"O", "Example"}, {"CN", "client"}} is
// "CN=client,O=Example"), as a CA would have issued it; the tests set Request::client_cert_chained
// themselves.
std::string self_signed_cert_pem(const crypto::SigningKey& key,
                                 const std::vector<std::pair<std::string, std::string>>& subject);

// A key sealer over a fixed test KEK, shared by the tests of one process.
const crypto::KeySealer& test_sealer();

// Saves one RS256 and one ES256 signing key, made once per process and sealed by test_sealer(),
// so that keys::KeyRing and app::bootstrap find keys and skip generating new ones for every test.
void seed_signing_keys(store::KeyStore& keys, int64_t now_ms);

// Form parameters in the given order.
http::Params params(std::initializer_list<std::pair<std::string, std::string>> items);

// "Basic base64(id:secret)" (RFC 6749 §2.3.1; ids and secrets here need no escaping).
std::string basic_header(const std::string& id, const std::string& secret);

// A POST request with the given headers (names lower-cased, as the HTTP layer gives them).
http::Request post_request(std::initializer_list<std::pair<std::string, std::string>> headers = {});
// A request from 127.0.0.1 for `target` (path, then an optional ?query) with `body`.
http::Request request_to(std::string method, const std::string& target, std::string body = "");

// An in-memory database with one org and one active user.
// Records every event so tests can assert what the audit log and metrics would see.
class RecordingEvents final : public EventSink {
 public:
  struct Recorded {
    std::string type, client_id, user, detail, request_id;
  };
  void emit(const Event& e) override {
    std::lock_guard lock(mu_);
    events_.push_back({std::string(names_of(e.type).audit), std::string(e.client_id),
                       std::string(e.user), std::string(e.detail), std::string(e.request_id)});
  }
  std::vector<Recorded> all() const {
    std::lock_guard lock(mu_);
    return events_;
  }
  // How many events of `type` were recorded.
  std::size_t count(std::string_view type) const {
    std::lock_guard lock(mu_);
    std::size_t n = 0;
    for (const auto& e : events_) n += e.type == type ? 1 : 0;
    return n;
  }

 private:
  mutable std::mutex mu_;
  std::vector<Recorded> events_;
};

// A response as the server sends it: one that awaits its write (http::Response::await) is
// released first, as the session would once the write settles. The in-memory test database
// settles every write at once, so release must have been called by the time await returns.
inline http::Response released(http::Response r) {
  if (!r.await) return r;
  auto await = std::move(r.await);
  r.await = nullptr;
  bool called = false;
  std::optional<http::Response> instead;
  await([&](std::optional<http::Response> i) {
    called = true;
    instead = std::move(i);
  });
  EXPECT_TRUE(called) << "the response was never released";
  return instead ? std::move(*instead) : std::move(r);
}

// A code store over the network (store::CodeStore::finds_codes_later): find_code_later keeps
// each read until the test answers it, as the PostgreSQL reader thread would later. Not
// thread-safe: asked and answered on one thread, or with the test's own ordering.
class ReadLaterCodes final : public store::CodeStore {
 public:
  explicit ReadLaterCodes(store::CodeStore& stored) : stored_(stored) {}
  int64_t allocate_code_id() override { return stored_.allocate_code_id(); }
  void save_code(const store::AuthCode& code) override { stored_.save_code(code); }
  std::shared_ptr<store::PendingWrite> save_code_later(const store::AuthCode& code) override {
    return stored_.save_code_later(code);
  }
  std::optional<store::AuthCode> find_code(const store::SecretRef& ref) override {
    return stored_.find_code(ref);
  }
  bool finds_codes_later() const override { return true; }
  void find_code_later(const store::SecretRef& ref, const CodeFound& done) override {
    asked.push_back({ref, done});
  }
  // Answers the oldest read still asked with what the store holds, or with `error`.
  void answer(std::exception_ptr error = nullptr) {
    auto [ref, done] = asked.front();
    asked.erase(asked.begin());
    if (error) {
      done(std::nullopt, error);
    } else {
      done(stored_.find_code(ref), nullptr);
    }
  }
  std::vector<std::pair<store::SecretRef, CodeFound>> asked;

 private:
  store::CodeStore& stored_;
};

class TestWorld {
 public:
  TestWorld();
  RecordingEvents& events() { return events_; }

  store::Database& db() { return *db_; }
  FakeClock& clock() { return clock_; }
  crypto::OsRandom& random() { return random_; }
  const store::Org& org() const { return org_; }
  const store::User& user() const { return user_; }

  // Registers a confidential app with a known secret; `edit` may change any field first.
  // Returns the app as stored; the clear secret is `secret_of(app)`. As `app create` does, an
  // app given a client certificate authenticates with it alone, unless `edit` chose a method.
  // (It keeps the secret hash, as an app registered before the method existed does.)
  template <typename Edit>
  store::App add_app(Edit edit) {
    store::App app = base_app();
    edit(app);
    if (app.token_endpoint_auth_method == store::ClientAuthMethod::client_secret_basic) {
      if (!app.mtls_cert_pem.empty()) {
        app.token_endpoint_auth_method = store::ClientAuthMethod::self_signed_tls_client_auth;
      } else if (!app.mtls_subject_dn.empty()) {
        app.token_endpoint_auth_method = store::ClientAuthMethod::tls_client_auth;
      }
    }
    db_->create_app(app);
    return *db_->find_app(app.client_id);
  }
  store::App add_app() {
    return add_app([](store::App&) {});
  }
  // Every app made here has this secret.
  static const std::string& secret();

 private:
  store::App base_app();

  FakeClock clock_;
  crypto::OsRandom random_;
  RecordingEvents events_;
  std::unique_ptr<store::Database> db_;
  store::Org org_;
  store::User user_;
  int next_app_ = 0;
};

// Everything a grant needs to mint tokens, wired over a TestWorld (declaration order is
// construction order).
struct IssuerStack {
  IssuerStack(TestWorld& w, const std::string& issuer_url)
      : keys(std::make_shared<const keys::KeyRing>(w.db(), test_sealer(), w.random(), w.clock())),
        ids(keys, w.clock(), issuer_url),
        opaque(w.db(), w.random(), w.clock()),
        jwts(keys, w.random(), issuer_url),
        issuer(w.db(), opaque, jwts, ids, w.clock(), issuer_url) {}
  keys::CurrentKeyRing keys;
  oidc::IdTokens ids;
  token::OpaqueTokens opaque;
  token::JwtAccessTokens jwts;
  oauth::TokenIssuer issuer;
};

// The answer a grant's outcome comes to, by the path the token endpoint takes: the write
// awaited, the ID token signed, then oauth::settle().
inline Result<boost::json::object> answer_of(Result<oauth::TokenOutcome> r) {
  if (!r) return std::move(r).error();
  oauth::TokenOutcome& o = *r;
  store::WriteOutcome written = o.write->wait();
  std::optional<std::string> id_token;
  if (o.sign_id_token) id_token = o.sign_id_token();
  if (auto refusal = oauth::settle(o, written, std::move(id_token))) return *refusal;
  return std::move(o.body);
}

// What a TokenIssuer issued, once its write is durable (the tests fail if it is not).
inline oauth::Issued durable(oauth::Issued issued) {
  EXPECT_TRUE(issued.write->wait().is_durable());
  return issued;
}

// The result of client authentication as a grant receives it.
inline oauth::ClientAuth client_auth(const store::App& app, oauth::AuthMethod method,
                                     std::string secret = {}) {
  oauth::ClientAuth c;
  c.app = app;
  c.method = method;
  c.secret = std::move(secret);
  return c;
}

// A string member of a JSON object, "" when absent or not a string.
inline std::string str(const boost::json::object& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_string()) return {};
  return std::string(it->value().get_string());
}

}  // namespace latchkey::testsupport
