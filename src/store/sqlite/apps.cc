// AppStore: connected apps and their pre-authorizations.
#include "store/record_names.h"
#include "store/sqlite/list_codec.h"
#include "store/sqlite/row_writes.h"
#include "store/sqlite/sqlite_database.h"

namespace latchkey::store::sqlite {
namespace {

constexpr const char* kAppColumns =
    "id, client_id, org_id, name, secret_hash, callbacks, scopes, pkce_required, "
    "require_secret_web_server, require_secret_refresh, admin_approved_only, cert_pem, "
    "client_credentials_user_id, refresh_policy, refresh_ttl_s, access_token_ttl_s, "
    "allow_implicit, mtls_cert_pem, token_format, created_ms, mtls_subject_dn, "
    "token_endpoint_auth_method, allow_password_flow";

App read_app(const Statement& st) {
  App a;
  a.id = st.column_text(0);
  a.client_id = st.column_text(1);
  a.org_id = st.column_text(2);
  a.name = st.column_text(3);
  a.secret_hash = st.column_text(4);
  a.callbacks = decode_list(st.column_text(5));
  a.scopes = decode_list(st.column_text(6));
  a.pkce_required = st.column_bool(7);
  a.require_secret_web_server = st.column_bool(8);
  a.require_secret_refresh = st.column_bool(9);
  a.admin_approved_only = st.column_bool(10);
  a.cert_pem = st.column_text(11);
  a.client_credentials_user_id = st.column_text(12);
  auto policy = parse_refresh_policy(st.column_text(13));
  if (!policy) throw StoreError("sqlite: unknown refresh_policy in apps row");
  a.refresh_policy = *policy;
  a.refresh_ttl_s = st.column_int(14);
  a.access_token_ttl_s = st.column_int(15);
  a.allow_implicit = st.column_bool(16);
  a.mtls_cert_pem = st.column_text(17);
  auto format = parse_token_format(st.column_text(18));
  if (!format) throw StoreError("sqlite: unknown token_format in apps row");
  a.token_format = *format;
  a.created_ms = st.column_int(19);
  a.mtls_subject_dn = st.column_text(20);
  auto method = parse_client_auth_method(st.column_text(21));
  if (!method) throw StoreError("sqlite: unknown token_endpoint_auth_method in apps row");
  a.token_endpoint_auth_method = *method;
  a.allow_password_flow = st.column_bool(22);
  return a;
}

}  // namespace

bool insert_app(Connection& conn, const App& app) {
  // DO NOTHING on the client id only (an admin may choose it): a clash of the random internal
  // id is a bug and still raises StoreError.
  conn.prepare(std::string("INSERT INTO apps (") + kAppColumns +
               ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,"
               " ?17, ?18, ?19, ?20, ?21, ?22, ?23) ON CONFLICT (client_id) DO NOTHING")
      .bind_text(1, app.id)
      .bind_text(2, app.client_id)
      .bind_text(3, app.org_id)
      .bind_text(4, app.name)
      .bind_text(5, app.secret_hash)
      .bind_text(6, encode_list(app.callbacks))
      .bind_text(7, encode_list(app.scopes))
      .bind_bool(8, app.pkce_required)
      .bind_bool(9, app.require_secret_web_server)
      .bind_bool(10, app.require_secret_refresh)
      .bind_bool(11, app.admin_approved_only)
      .bind_text(12, app.cert_pem)
      .bind_text(13, app.client_credentials_user_id)
      .bind_text(14, to_string(app.refresh_policy))
      .bind_int(15, app.refresh_ttl_s)
      .bind_int(16, app.access_token_ttl_s)
      .bind_bool(17, app.allow_implicit)
      .bind_text(18, app.mtls_cert_pem)
      .bind_text(19, to_string(app.token_format))
      .bind_int(20, app.created_ms)
      .bind_text(21, app.mtls_subject_dn)
      .bind_text(22, std::string(to_string(app.token_endpoint_auth_method)))
      .bind_bool(23, app.allow_password_flow)
      .run();
  return conn.changes() == 1;
}

bool SqliteDatabase::create_app(const App& app) {
  return write([&](Connection& conn) -> bool { return insert_app(conn, app); });
}

std::optional<App> SqliteDatabase::find_app(const std::string& client_id) {
  return read([&](Connection& conn) -> std::optional<App> {
    Statement st =
        conn.prepare(std::string("SELECT ") + kAppColumns + " FROM apps WHERE client_id = ?1");
    st.bind_text(1, client_id);
    if (!st.step()) return std::nullopt;
    return read_app(st);
  });
}

std::vector<App> SqliteDatabase::list_apps() {
  return read([&](Connection& conn) -> std::vector<App> {
    Statement st = conn.prepare(std::string("SELECT ") + kAppColumns +
                                " FROM apps ORDER BY created_ms, rowid");
    std::vector<App> out;
    while (st.step()) out.push_back(read_app(st));
    return out;
  });
}

bool SqliteDatabase::update_secret_hash(const std::string& client_id, const std::string& hash) {
  return write([&](Connection& conn) -> bool {
    conn.prepare("UPDATE apps SET secret_hash = ?2 WHERE client_id = ?1")
        .bind_text(1, client_id)
        .bind_text(2, hash)
        .run();
    return conn.changes() == 1;
  });
}

bool SqliteDatabase::delete_app(const std::string& client_id) {
  return write([&](Connection& conn) -> bool {
    // Its pre-authorizations go with it (ON DELETE CASCADE).
    conn.prepare("DELETE FROM apps WHERE client_id = ?1").bind_text(1, client_id).run();
    if (conn.changes() != 1) return false;
    conn.prepare("DELETE FROM consents WHERE client_id = ?1").bind_text(1, client_id).run();
    conn.prepare("UPDATE tokens SET revoked = 1 WHERE client_id = ?1 AND revoked = 0")
        .bind_text(1, client_id)
        .run();
    return true;
  });
}

void insert_preauthorization(Connection& conn, const Preauthorization& p) {
  // Idempotent: granting the same profile or permission set twice is not an error. An unknown
  // client_id fails the foreign key and throws StoreError.
  conn.prepare(
          "INSERT INTO preauthorizations (client_id, kind, name) VALUES (?1, ?2, ?3)"
          " ON CONFLICT DO NOTHING")
      .bind_text(1, p.client_id)
      .bind_text(2, to_string(p.kind))
      .bind_text(3, p.name)
      .run();
}

void SqliteDatabase::add_preauthorization(const Preauthorization& p) {
  return write([&](Connection& conn) { insert_preauthorization(conn, p); });
}

std::vector<Preauthorization> SqliteDatabase::preauthorizations(const std::string& client_id) {
  return read([&](Connection& conn) -> std::vector<Preauthorization> {
    Statement st = conn.prepare(
        "SELECT client_id, kind, name FROM preauthorizations WHERE client_id = ?1"
        " ORDER BY kind, name");
    st.bind_text(1, client_id);
    std::vector<Preauthorization> out;
    while (st.step()) {
      auto kind = parse_preauthorization_kind(st.column_text(1));
      if (!kind) throw StoreError("sqlite: unknown kind in preauthorizations row");
      out.push_back({st.column_text(0), *kind, st.column_text(2)});
    }
    return out;
  });
}

bool SqliteDatabase::remove_preauthorization(const Preauthorization& p) {
  return write([&](Connection& conn) -> bool {
    conn.prepare("DELETE FROM preauthorizations WHERE client_id = ?1 AND kind = ?2 AND name = ?3")
        .bind_text(1, p.client_id)
        .bind_text(2, to_string(p.kind))
        .bind_text(3, p.name)
        .run();
    return conn.changes() == 1;
  });
}

}  // namespace latchkey::store::sqlite
