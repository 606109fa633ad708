// AppStore: connected apps and their pre-authorizations.
#include "store/postgres/postgres_database.h"
#include "store/postgres/row_writes.h"
#include "store/record_names.h"

namespace latchkey::store::postgres {
namespace {

#define LK_APP_COLUMNS                                                                 \
  "id, client_id, org_id, name, secret_hash, callbacks, scopes, pkce_required,"        \
  " require_secret_web_server, require_secret_refresh, admin_approved_only, cert_pem," \
  " client_credentials_user_id, refresh_policy, refresh_ttl_s, access_token_ttl_s,"    \
  " allow_implicit, mtls_cert_pem, token_format, created_ms, mtls_subject_dn,"         \
  " token_endpoint_auth_method, allow_password_flow"
constexpr const char* kInsert =
    "INSERT INTO apps (" LK_APP_COLUMNS
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,"
    " $19, $20, $21, $22, $23)"
    // DO NOTHING on the client id only (an admin may choose it): a clash of the random internal
    // id is a bug and still raises StoreError.
    " ON CONFLICT (client_id) DO NOTHING";
constexpr const char* kFind = "SELECT " LK_APP_COLUMNS " FROM apps WHERE client_id = $1";
constexpr const char* kList = "SELECT " LK_APP_COLUMNS " FROM apps ORDER BY created_ms, seq";
#undef LK_APP_COLUMNS

App read_app(const Result& r, int row) {
  App a;
  a.id = r.text(row, 0);
  a.client_id = r.text(row, 1);
  a.org_id = r.text(row, 2);
  a.name = r.text(row, 3);
  a.secret_hash = r.text(row, 4);
  a.callbacks = r.list(row, 5);
  a.scopes = r.list(row, 6);
  a.pkce_required = r.boolean(row, 7);
  a.require_secret_web_server = r.boolean(row, 8);
  a.require_secret_refresh = r.boolean(row, 9);
  a.admin_approved_only = r.boolean(row, 10);
  a.cert_pem = r.text(row, 11);
  a.client_credentials_user_id = r.text(row, 12);
  auto policy = parse_refresh_policy(r.text(row, 13));
  if (!policy) throw StoreError("postgres: unknown refresh_policy in apps row");
  a.refresh_policy = *policy;
  a.refresh_ttl_s = r.int64(row, 14);
  a.access_token_ttl_s = r.int64(row, 15);
  a.allow_implicit = r.boolean(row, 16);
  a.mtls_cert_pem = r.text(row, 17);
  auto format = parse_token_format(r.text(row, 18));
  if (!format) throw StoreError("postgres: unknown token_format in apps row");
  a.token_format = *format;
  a.created_ms = r.int64(row, 19);
  a.mtls_subject_dn = r.text(row, 20);
  auto method = parse_client_auth_method(r.text(row, 21));
  if (!method) throw StoreError("postgres: unknown token_endpoint_auth_method in apps row");
  a.token_endpoint_auth_method = *method;
  a.allow_password_flow = r.boolean(row, 22);
  return a;
}

}  // namespace

bool insert_app(Connection& conn, const App& app) {
  return conn.run(kInsert, Params()
                               .text(app.id)
                               .text(app.client_id)
                               .text(app.org_id)
                               .text(app.name)
                               .text(app.secret_hash)
                               .list(app.callbacks)
                               .list(app.scopes)
                               .boolean(app.pkce_required)
                               .boolean(app.require_secret_web_server)
                               .boolean(app.require_secret_refresh)
                               .boolean(app.admin_approved_only)
                               .text(app.cert_pem)
                               .text(app.client_credentials_user_id)
                               .text(to_string(app.refresh_policy))
                               .int64(app.refresh_ttl_s)
                               .int64(app.access_token_ttl_s)
                               .boolean(app.allow_implicit)
                               .text(app.mtls_cert_pem)
                               .text(to_string(app.token_format))
                               .int64(app.created_ms)
                               .text(app.mtls_subject_dn)
                               .text(to_string(app.token_endpoint_auth_method))
                               .boolean(app.allow_password_flow))
             .affected() == 1;
}

bool PostgresDatabase::create_app(const App& app) {
  return write([&](Connection& conn) { return insert_app(conn, app); });
}

std::optional<App> PostgresDatabase::find_app(const std::string& client_id) {
  return read([&](Connection& conn) -> std::optional<App> {
    Result r = conn.run(kFind, Params().text(client_id));
    if (r.rows() == 0) return std::nullopt;
    return read_app(r, 0);
  });
}

std::vector<App> PostgresDatabase::list_apps() {
  return read([&](Connection& conn) {
    Result r = conn.run(kList);
    std::vector<App> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) out.push_back(read_app(r, i));
    return out;
  });
}

bool PostgresDatabase::update_secret_hash(const std::string& client_id, const std::string& hash) {
  return write_announced(Change::app(client_id), [&](Connection& conn) -> int64_t {
           return conn
               .run("UPDATE apps SET secret_hash = $2 WHERE client_id = $1",
                    Params().text(client_id).text(hash))
               .affected();
         }) == 1;
}

bool PostgresDatabase::delete_app(const std::string& client_id) {
  return transact([&](Connection& conn) -> bool {
    // Its pre-authorizations go with it (ON DELETE CASCADE).
    if (conn.run("DELETE FROM apps WHERE client_id = $1", Params().text(client_id)).affected() !=
        1) {
      return false;
    }
    conn.run("DELETE FROM consents WHERE client_id = $1", Params().text(client_id));
    conn.run("UPDATE tokens SET revoked = true WHERE client_id = $1 AND NOT revoked",
             Params().text(client_id));
    notify_change(conn, Change::app(client_id));
    notify_change(conn, Change::all_tokens());
    return true;
  });
}

void insert_preauthorization(Connection& conn, const Preauthorization& p) {
  // Idempotent: granting the same profile or permission set twice is not an error. An unknown
  // client_id fails the foreign key and throws StoreError.
  conn.run(
      "INSERT INTO preauthorizations (client_id, kind, name) VALUES ($1, $2, $3)"
      " ON CONFLICT DO NOTHING",
      Params().text(p.client_id).text(to_string(p.kind)).text(p.name));
}

void PostgresDatabase::add_preauthorization(const Preauthorization& p) {
  write([&](Connection& conn) { insert_preauthorization(conn, p); });
}

std::vector<Preauthorization> PostgresDatabase::preauthorizations(const std::string& client_id) {
  return read([&](Connection& conn) {
    Result r = conn.run(
        "SELECT client_id, kind, name FROM preauthorizations WHERE client_id = $1"
        " ORDER BY kind COLLATE \"C\", name COLLATE \"C\"",
        Params().text(client_id));
    std::vector<Preauthorization> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
      auto kind = parse_preauthorization_kind(r.text(i, 1));
      if (!kind) throw StoreError("postgres: unknown kind in preauthorizations row");
      out.push_back({r.text(i, 0), *kind, r.text(i, 2)});
    }
    return out;
  });
}

bool PostgresDatabase::remove_preauthorization(const Preauthorization& p) {
  return write([&](Connection& conn) {
    return conn.run(
                   "DELETE FROM preauthorizations WHERE client_id = $1 AND kind = $2 AND name = $3",
                   Params().text(p.client_id).text(to_string(p.kind)).text(p.name))
               .affected() == 1;
  });
}

}  // namespace latchkey::store::postgres
