#include "app/export_document.h"

#include <boost/json.hpp>

#include <cstdint>
#include <set>
#include <stdexcept>
#include <utility>
#include <vector>

#include "core/ascii.h"
#include "crypto/key_sealer.h"
#include "store/record_names.h"
#include "web/json_pretty.h"

namespace latchkey::app {
namespace {

namespace json = boost::json;

json::array strings(const std::vector<std::string>& list) {
  json::array out;
  for (const std::string& s : list) out.emplace_back(s);
  return out;
}

json::object org_json(const store::Org& o) {
  return {{"id", o.id}, {"name", o.name}, {"created_ms", o.created_ms}};
}

json::object user_json(const store::User& u) {
  return {{"id", u.id},
          {"org_id", u.org_id},
          {"username", u.username},
          {"email", u.email},
          {"first_name", u.first_name},
          {"last_name", u.last_name},
          {"password_hash", u.password_hash},
          {"profile", u.profile},
          {"permission_sets", strings(u.permission_sets)},
          {"active", u.active},
          {"created_ms", u.created_ms}};
}

json::object app_json(const store::App& a) {
  return {{"id", a.id},
          {"client_id", a.client_id},
          {"org_id", a.org_id},
          {"name", a.name},
          {"secret_hash", a.secret_hash},
          {"callbacks", strings(a.callbacks)},
          {"scopes", strings(a.scopes)},
          {"pkce_required", a.pkce_required},
          {"require_secret_web_server", a.require_secret_web_server},
          {"require_secret_refresh", a.require_secret_refresh},
          {"admin_approved_only", a.admin_approved_only},
          {"cert_pem", a.cert_pem},
          {"client_credentials_user_id", a.client_credentials_user_id},
          {"refresh_policy", store::to_string(a.refresh_policy)},
          {"refresh_ttl_s", a.refresh_ttl_s},
          {"access_token_ttl_s", a.access_token_ttl_s},
          {"allow_implicit", a.allow_implicit},
          {"mtls_cert_pem", a.mtls_cert_pem},
          {"token_format", store::to_string(a.token_format)},
          {"created_ms", a.created_ms},
          {"mtls_subject_dn", a.mtls_subject_dn},
          {"token_endpoint_auth_method", store::to_string(a.token_endpoint_auth_method)},
          {"allow_password_flow", a.allow_password_flow}};
}

// Why a document is refused: what is wrong, where (caught by parse_export_document).
struct Malformed : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Reads the fields of one JSON object, each once, and refuses at the end any it was not asked
// for: a field this version does not know could carry meaning that import would drop.
class Fields {
 public:
  Fields(const json::value& v, std::string where) : where_(std::move(where)) {
    if (!v.is_object()) fail(where_.empty() ? "the document" : where_, "must be an object");
    obj_ = &v.get_object();
  }

  std::string text(std::string_view key) {
    const json::value& v = get(key);
    if (!v.is_string()) fail(at(key), "must be a string");
    return std::string(v.get_string());
  }
  int64_t integer(std::string_view key) {
    const json::value& v = get(key);
    if (v.is_int64()) return v.get_int64();
    if (v.is_uint64() && v.get_uint64() <= INT64_MAX) return static_cast<int64_t>(v.get_uint64());
    fail(at(key), "must be an integer");
  }
  bool boolean(std::string_view key) {
    const json::value& v = get(key);
    if (!v.is_bool()) fail(at(key), "must be true or false");
    return v.get_bool();
  }
  std::vector<std::string> list(std::string_view key) {
    const json::value& v = get(key);
    if (!v.is_array()) fail(at(key), "must be an array of strings");
    std::vector<std::string> out;
    for (const json::value& e : v.get_array()) {
      if (!e.is_string()) fail(at(key), "must be an array of strings");
      out.emplace_back(e.get_string());
    }
    return out;
  }
  const json::array& array(std::string_view key) {
    const json::value& v = get(key);
    if (!v.is_array()) fail(at(key), "must be an array");
    return v.get_array();
  }
  // Refuses the fields nobody asked for.
  void finish() const {
    for (const auto& kv : *obj_) {
      if (!used_.contains(std::string(kv.key()))) {
        fail(at(kv.key()), "unknown field (written by another version of latchkey?)");
      }
    }
  }
  std::string at(std::string_view key) const {
    return where_.empty() ? std::string(key) : where_ + "." + std::string(key);
  }
  [[noreturn]] static void fail(const std::string& where, const std::string& what) {
    throw Malformed(where + ": " + what);
  }

 private:
  const json::value& get(std::string_view key) {
    const json::value* v = obj_->if_contains(key);
    if (v == nullptr) fail(at(key), "missing");
    used_.insert(std::string(key));
    return *v;
  }

  std::string where_;
  const json::object* obj_ = nullptr;
  std::set<std::string> used_;
};

template <class E, class Parse>
E enum_of(Fields& f, std::string_view key, Parse&& parse) {
  std::string name = f.text(key);
  auto e = parse(name);
  if (!e) Fields::fail(f.at(key), "unknown value \"" + name + "\"");
  return *e;
}

std::string item(std::string_view table, std::size_t i) {
  return std::string(table) + "[" + std::to_string(i) + "]";
}

store::Snapshot read_records(const json::value& doc) {
  Fields top(doc, "");
  if (top.text("format") != kExportFormat) {
    Fields::fail("format",
                 "not a latchkey export (expected \"" + std::string(kExportFormat) + "\")");
  }
  if (const int64_t version = top.integer("version"); version != kExportVersion) {
    Fields::fail("version", "unsupported version " + std::to_string(version) +
                                " (this latchkey reads version " + std::to_string(kExportVersion) +
                                ")");
  }
  store::Snapshot s;
  const json::array& orgs = top.array("orgs");
  for (std::size_t i = 0; i < orgs.size(); ++i) {
    Fields f(orgs[i], item("orgs", i));
    s.orgs.push_back({f.text("id"), f.text("name"), f.integer("created_ms")});
    f.finish();
  }
  const json::array& users = top.array("users");
  for (std::size_t i = 0; i < users.size(); ++i) {
    Fields f(users[i], item("users", i));
    store::User u;
    u.id = f.text("id");
    u.org_id = f.text("org_id");
    u.username = f.text("username");
    u.email = f.text("email");
    u.first_name = f.text("first_name");
    u.last_name = f.text("last_name");
    u.password_hash = f.text("password_hash");
    u.profile = f.text("profile");
    u.permission_sets = f.list("permission_sets");
    u.active = f.boolean("active");
    u.created_ms = f.integer("created_ms");
    f.finish();
    s.users.push_back(std::move(u));
  }
  const json::array& apps = top.array("apps");
  for (std::size_t i = 0; i < apps.size(); ++i) {
    Fields f(apps[i], item("apps", i));
    store::App a;
    a.id = f.text("id");
    a.client_id = f.text("client_id");
    a.org_id = f.text("org_id");
    a.name = f.text("name");
    a.secret_hash = f.text("secret_hash");
    a.callbacks = f.list("callbacks");
    a.scopes = f.list("scopes");
    a.pkce_required = f.boolean("pkce_required");
    a.require_secret_web_server = f.boolean("require_secret_web_server");
    a.require_secret_refresh = f.boolean("require_secret_refresh");
    a.admin_approved_only = f.boolean("admin_approved_only");
    a.cert_pem = f.text("cert_pem");
    a.client_credentials_user_id = f.text("client_credentials_user_id");
    a.refresh_policy =
        enum_of<store::RefreshPolicy>(f, "refresh_policy", store::parse_refresh_policy);
    a.refresh_ttl_s = f.integer("refresh_ttl_s");
    a.access_token_ttl_s = f.integer("access_token_ttl_s");
    a.allow_implicit = f.boolean("allow_implicit");
    a.mtls_cert_pem = f.text("mtls_cert_pem");
    a.token_format = enum_of<store::TokenFormat>(f, "token_format", store::parse_token_format);
    a.created_ms = f.integer("created_ms");
    a.mtls_subject_dn = f.text("mtls_subject_dn");
    a.token_endpoint_auth_method = enum_of<store::ClientAuthMethod>(
        f, "token_endpoint_auth_method", store::parse_client_auth_method);
    a.allow_password_flow = f.boolean("allow_password_flow");
    f.finish();
    s.apps.push_back(std::move(a));
  }
  const json::array& pre = top.array("preauthorizations");
  for (std::size_t i = 0; i < pre.size(); ++i) {
    Fields f(pre[i], item("preauthorizations", i));
    store::Preauthorization p;
    p.client_id = f.text("client_id");
    p.kind = enum_of<store::Preauthorization::Kind>(f, "kind", store::parse_preauthorization_kind);
    p.name = f.text("name");
    f.finish();
    s.preauthorizations.push_back(std::move(p));
  }
  const json::array& consents = top.array("consents");
  for (std::size_t i = 0; i < consents.size(); ++i) {
    Fields f(consents[i], item("consents", i));
    s.consents.push_back(
        {f.text("user_id"), f.text("client_id"), f.list("scopes"), f.integer("granted_ms")});
    f.finish();
  }
  const json::array& keys = top.array("signing_keys");
  for (std::size_t i = 0; i < keys.size(); ++i) {
    Fields f(keys[i], item("signing_keys", i));
    store::SigningKeyRecord k;
    k.kid = f.text("kid");
    k.alg = f.text("alg");
    const std::string kek_id = f.text("kek_id");
    k.private_pem = f.text("sealed_private_key");
    k.created_ms = f.integer("created_ms");
    k.retired_ms = f.integer("retired_ms");
    f.finish();
    if (crypto::KeySealer::kek_id_of(k.private_pem) != kek_id) {
      Fields::fail(f.at("sealed_private_key"),
                   "not sealed under the key-encryption key " + kek_id + " the entry names");
    }
    s.keys.push_back(std::move(k));
  }
  top.finish();
  return s;
}

// The references and unique keys the database would refuse, found here so the message names
// the record.
void check_references(const store::Snapshot& s) {
  std::set<std::string> orgs, user_ids, usernames, client_ids, kids;
  for (std::size_t i = 0; i < s.orgs.size(); ++i) {
    if (!orgs.insert(s.orgs[i].id).second) Fields::fail(item("orgs", i), "the id is given twice");
  }
  for (std::size_t i = 0; i < s.users.size(); ++i) {
    const store::User& u = s.users[i];
    if (!orgs.contains(u.org_id)) Fields::fail(item("users", i), "org_id names no org");
    if (!user_ids.insert(u.id).second) Fields::fail(item("users", i), "the id is given twice");
    if (!usernames.insert(to_ascii_lower(u.username)).second) {
      Fields::fail(item("users", i), "the username is given twice");
    }
  }
  for (std::size_t i = 0; i < s.apps.size(); ++i) {
    const store::App& a = s.apps[i];
    if (!orgs.contains(a.org_id)) Fields::fail(item("apps", i), "org_id names no org");
    if (!client_ids.insert(a.client_id).second) {
      Fields::fail(item("apps", i), "the client id is given twice");
    }
    if (!a.client_credentials_user_id.empty() && !user_ids.contains(a.client_credentials_user_id)) {
      Fields::fail(item("apps", i), "client_credentials_user_id names no user");
    }
  }
  for (std::size_t i = 0; i < s.preauthorizations.size(); ++i) {
    if (!client_ids.contains(s.preauthorizations[i].client_id)) {
      Fields::fail(item("preauthorizations", i), "client_id names no app");
    }
  }
  for (std::size_t i = 0; i < s.consents.size(); ++i) {
    if (!user_ids.contains(s.consents[i].user_id)) {
      Fields::fail(item("consents", i), "user_id names no user");
    }
    if (!client_ids.contains(s.consents[i].client_id)) {
      Fields::fail(item("consents", i), "client_id names no app");
    }
  }
  for (std::size_t i = 0; i < s.keys.size(); ++i) {
    if (!kids.insert(s.keys[i].kid).second) {
      Fields::fail(item("signing_keys", i), "the kid is given twice");
    }
  }
}

}  // namespace

Result<std::string> export_document(const store::Snapshot& s) {
  json::object doc;
  doc["format"] = kExportFormat;
  doc["version"] = kExportVersion;
  json::array orgs, users, apps, pre, consents, keys;
  for (const store::Org& o : s.orgs) orgs.emplace_back(org_json(o));
  for (const store::User& u : s.users) users.emplace_back(user_json(u));
  for (const store::App& a : s.apps) apps.emplace_back(app_json(a));
  for (const store::Preauthorization& p : s.preauthorizations) {
    pre.emplace_back(json::object{
        {"client_id", p.client_id}, {"kind", store::to_string(p.kind)}, {"name", p.name}});
  }
  for (const store::Consent& c : s.consents) {
    consents.emplace_back(json::object{{"user_id", c.user_id},
                                       {"client_id", c.client_id},
                                       {"scopes", strings(c.scopes)},
                                       {"granted_ms", c.granted_ms}});
  }
  for (const store::SigningKeyRecord& k : s.keys) {
    std::optional<std::string> kek_id = crypto::KeySealer::kek_id_of(k.private_pem);
    if (!kek_id) {
      return oauth::Error::invalid_request(
          "the signing key " + k.kid +
          " is stored unsealed (a database from before sealing); start latchkey serve on it "
          "once, which seals it under the key-encryption key, then export again");
    }
    keys.emplace_back(json::object{{"kid", k.kid},
                                   {"alg", k.alg},
                                   {"kek_id", *kek_id},
                                   {"sealed_private_key", k.private_pem},
                                   {"created_ms", k.created_ms},
                                   {"retired_ms", k.retired_ms}});
  }
  doc["orgs"] = std::move(orgs);
  doc["users"] = std::move(users);
  doc["apps"] = std::move(apps);
  doc["preauthorizations"] = std::move(pre);
  doc["consents"] = std::move(consents);
  doc["signing_keys"] = std::move(keys);
  return web::pretty_json(json::serialize(doc)) + "\n";
}

Result<store::Snapshot> parse_export_document(std::string_view text) {
  boost::system::error_code ec;
  json::value doc = json::parse(text, ec);
  if (ec) return oauth::Error::invalid_request("the document is not JSON: " + ec.message());
  try {
    store::Snapshot s = read_records(doc);
    check_references(s);
    return s;
  } catch (const Malformed& e) {
    return oauth::Error::invalid_request(std::string("the document is malformed: ") + e.what());
  }
}

}  // namespace latchkey::app
