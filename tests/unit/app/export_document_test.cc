// app/export_document.h: the document `latchkey export` writes and `latchkey import` reads.
#include "app/export_document.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <string>

namespace latchkey::app {
namespace {

constexpr const char* kSealed = "lk-kek-v1:0011223344556677:c2VhbGVk";

store::Snapshot sample() {
  store::Snapshot s;
  s.orgs = {{"00D000000000001", "Acme \"Q\"", 1000}};
  store::User u;
  u.id = "005000000000001";
  u.org_id = "00D000000000001";
  u.username = "ada@example.com";
  u.email = "ada@example.com";
  u.first_name = "Ada";
  u.last_name = "Lovelace";
  u.password_hash = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA";
  u.profile = "System Administrator";
  u.permission_sets = {"API Enabled", "line\nbreak"};
  u.active = false;
  u.created_ms = 2000;
  s.users = {u};
  store::App a;
  a.id = "0Ha000000000001";
  a.client_id = "3MVG9app";
  a.org_id = "00D000000000001";
  a.name = "App";
  a.secret_hash = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8";
  a.callbacks = {"https://app.example/cb"};
  a.scopes = {"api", "refresh_token"};
  a.pkce_required = true;
  a.client_credentials_user_id = "005000000000001";
  a.refresh_policy = store::RefreshPolicy::expire_after;
  a.refresh_ttl_s = 60;
  a.token_format = store::TokenFormat::jwt_sf;
  a.token_endpoint_auth_method = store::ClientAuthMethod::private_key_jwt;
  a.allow_password_flow = true;
  a.created_ms = 3000;
  s.apps = {a};
  s.preauthorizations = {{"3MVG9app", store::Preauthorization::Kind::permission_set, "API"}};
  s.consents = {{"005000000000001", "3MVG9app", {"api"}, 4000}};
  s.keys = {{"kid-1", "RS256", kSealed, 5000, 0}};
  return s;
}

std::string doc_of(const store::Snapshot& s) {
  auto doc = export_document(s);
  EXPECT_TRUE(doc.ok()) << (doc ? "" : doc.error().description());
  return doc ? *doc : std::string();
}

// The refusal of `json` (a document edited by `edit`), or "accepted".
template <class Edit>
std::string refusal_of(Edit&& edit) {
  boost::json::value v = boost::json::parse(doc_of(sample()));
  edit(v.as_object());
  auto parsed = parse_export_document(boost::json::serialize(v));
  return parsed ? "accepted" : parsed.error().description();
}

TEST(ExportDocument, ReadsBackEveryRecordAndWritesTheSameBytesAgain) {
  const std::string doc = doc_of(sample());
  auto parsed = parse_export_document(doc);
  ASSERT_TRUE(parsed.ok()) << parsed.error().description();
  EXPECT_EQ(parsed->users.at(0).password_hash, sample().users.at(0).password_hash);
  EXPECT_EQ(parsed->users.at(0).permission_sets, sample().users.at(0).permission_sets);
  EXPECT_EQ(parsed->apps.at(0).token_format, store::TokenFormat::jwt_sf);
  EXPECT_EQ(parsed->apps.at(0).token_endpoint_auth_method,
            store::ClientAuthMethod::private_key_jwt);
  EXPECT_EQ(parsed->keys.at(0), sample().keys.at(0));
  EXPECT_EQ(doc_of(*parsed), doc);
}

TEST(ExportDocument, NamesItsFormatVersionAndEachKeysKekId) {
  boost::json::value v = boost::json::parse(doc_of(sample()));
  EXPECT_EQ(v.at("format"), "latchkey-export");
  EXPECT_EQ(v.at("version"), 1);
  const auto& key = v.at("signing_keys").at(0);
  EXPECT_EQ(key.at("kek_id"), "0011223344556677");
  EXPECT_EQ(key.at("sealed_private_key"), kSealed);
}

TEST(ExportDocument, RefusesAKeyStoredInClear) {
  store::Snapshot s = sample();
  s.keys[0].private_pem = "-----BEGIN PRIVATE KEY-----\nMII\n-----END PRIVATE KEY-----\n";
  auto doc = export_document(s);
  ASSERT_FALSE(doc.ok());
  EXPECT_NE(doc.error().description().find("kid-1"), std::string::npos);
}

TEST(ExportDocument, RefusesAnotherFormatOrVersion) {
  EXPECT_NE(refusal_of([](auto& d) { d["version"] = 2; }).find("version: unsupported version 2"),
            std::string::npos);
  EXPECT_NE(refusal_of([](auto& d) { d["format"] = "keycloak"; }).find("format: not a latchkey"),
            std::string::npos);
  auto not_json = parse_export_document("{\"format\":");
  ASSERT_FALSE(not_json.ok());
  EXPECT_NE(not_json.error().description().find("not JSON"), std::string::npos);
}

TEST(ExportDocument, NamesTheFieldThatIsMissingMistypedOrUnknown) {
  EXPECT_NE(refusal_of([](auto& d) {
              d["users"].as_array()[0].as_object().erase("password_hash");
            }).find("users[0].password_hash: missing"),
            std::string::npos);
  EXPECT_NE(refusal_of([](auto& d) {
              d["apps"].as_array()[0].as_object()["pkce_required"] = 1;
            }).find("apps[0].pkce_required: must be true or false"),
            std::string::npos);
  EXPECT_NE(refusal_of([](auto& d) {
              d["apps"].as_array()[0].as_object()["token_format"] = "x";
            }).find("apps[0].token_format: unknown value \"x\""),
            std::string::npos);
  EXPECT_NE(
      refusal_of([](auto& d) { d["tokens"] = boost::json::array(); }).find("tokens: unknown field"),
      std::string::npos);
}

TEST(ExportDocument, RefusesRecordsThatDoNotHoldTogether) {
  EXPECT_NE(refusal_of([](auto& d) {
              d["consents"].as_array()[0].as_object()["user_id"] = "005nobody";
            }).find("consents[0]: user_id names no user"),
            std::string::npos);
  EXPECT_NE(refusal_of([](auto& d) {
              auto& users = d["users"].as_array();
              boost::json::object twin = users[0].as_object();
              twin["id"] = "005000000000002";
              twin["username"] = "ADA@example.com";
              users.push_back(twin);
            }).find("users[1]: the username is given twice"),
            std::string::npos);
  EXPECT_NE(refusal_of([](auto& d) {
              d["signing_keys"].as_array()[0].as_object()["kek_id"] = "ffffffffffffffff";
            }).find("signing_keys[0].sealed_private_key: not sealed under"),
            std::string::npos);
}

}  // namespace
}  // namespace latchkey::app
