// OrgStore and UserStore.
#include "store/sqlite/list_codec.h"
#include "store/sqlite/row_writes.h"
#include "store/sqlite/sqlite_database.h"

namespace latchkey::store::sqlite {
namespace {

constexpr const char* kOrgColumns = "id, name, created_ms";

Org read_org(const Statement& st) {
  Org o;
  o.id = st.column_text(0);
  o.name = st.column_text(1);
  o.created_ms = st.column_int(2);
  return o;
}

constexpr const char* kUserColumns =
    "id, org_id, username, email, first_name, last_name, password_hash, profile, "
    "permission_sets, active, created_ms";

User read_user(const Statement& st) {
  User u;
  u.id = st.column_text(0);
  u.org_id = st.column_text(1);
  u.username = st.column_text(2);
  u.email = st.column_text(3);
  u.first_name = st.column_text(4);
  u.last_name = st.column_text(5);
  u.password_hash = st.column_text(6);
  u.profile = st.column_text(7);
  u.permission_sets = decode_list(st.column_text(8));
  u.active = st.column_bool(9);
  u.created_ms = st.column_int(10);
  return u;
}

std::optional<User> find_one_user(Connection& conn, const std::string& sql,
                                  const std::string& key) {
  Statement st = conn.prepare(sql);
  st.bind_text(1, key);
  if (!st.step()) return std::nullopt;
  return read_user(st);
}

}  // namespace

void insert_org(Connection& conn, const Org& org) {
  conn.prepare("INSERT INTO orgs (id, name, created_ms) VALUES (?1, ?2, ?3)")
      .bind_text(1, org.id)
      .bind_text(2, org.name)
      .bind_int(3, org.created_ms)
      .run();
}

void SqliteDatabase::create_org(const Org& org) {
  return write([&](Connection& conn) { insert_org(conn, org); });
}

std::optional<Org> SqliteDatabase::default_org() {
  return read([&](Connection& conn) -> std::optional<Org> {
    // rowid breaks ties between orgs created in the same millisecond by insertion order.
    Statement st = conn.prepare(std::string("SELECT ") + kOrgColumns +
                                " FROM orgs ORDER BY created_ms, rowid LIMIT 1");
    if (!st.step()) return std::nullopt;
    return read_org(st);
  });
}

std::optional<Org> SqliteDatabase::find_org(const std::string& id) {
  return read([&](Connection& conn) -> std::optional<Org> {
    Statement st = conn.prepare(std::string("SELECT ") + kOrgColumns + " FROM orgs WHERE id = ?1");
    st.bind_text(1, id);
    if (!st.step()) return std::nullopt;
    return read_org(st);
  });
}

std::vector<Org> SqliteDatabase::list_orgs() {
  return read([&](Connection& conn) -> std::vector<Org> {
    Statement st = conn.prepare(std::string("SELECT ") + kOrgColumns +
                                " FROM orgs ORDER BY created_ms, rowid");
    std::vector<Org> out;
    while (st.step()) out.push_back(read_org(st));
    return out;
  });
}

bool insert_user(Connection& conn, const User& user) {
  // DO NOTHING on the (case-insensitive) username only: a clash of the random id is a bug and
  // still raises StoreError rather than passing for "username taken".
  conn.prepare(std::string("INSERT INTO users (") + kUserColumns +
               ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
               " ON CONFLICT (username) DO NOTHING")
      .bind_text(1, user.id)
      .bind_text(2, user.org_id)
      .bind_text(3, user.username)
      .bind_text(4, user.email)
      .bind_text(5, user.first_name)
      .bind_text(6, user.last_name)
      .bind_text(7, user.password_hash)
      .bind_text(8, user.profile)
      .bind_text(9, encode_list(user.permission_sets))
      .bind_bool(10, user.active)
      .bind_int(11, user.created_ms)
      .run();
  return conn.changes() == 1;
}

bool SqliteDatabase::create_user(const User& user) {
  return write([&](Connection& conn) -> bool { return insert_user(conn, user); });
}

std::optional<User> SqliteDatabase::find_user_by_username(const std::string& username) {
  return read([&](Connection& conn) -> std::optional<User> {
    // The column's NOCASE collation makes this comparison case-insensitive (ASCII letters).
    return find_one_user(
        conn, std::string("SELECT ") + kUserColumns + " FROM users WHERE username = ?1", username);
  });
}

std::optional<User> SqliteDatabase::find_user(const std::string& id) {
  return read([&](Connection& conn) -> std::optional<User> {
    return find_one_user(conn, std::string("SELECT ") + kUserColumns + " FROM users WHERE id = ?1",
                         id);
  });
}

std::vector<User> SqliteDatabase::list_users() {
  return read([&](Connection& conn) -> std::vector<User> {
    Statement st = conn.prepare(std::string("SELECT ") + kUserColumns +
                                " FROM users ORDER BY created_ms, rowid");
    std::vector<User> out;
    while (st.step()) out.push_back(read_user(st));
    return out;
  });
}

bool SqliteDatabase::update_user_access(const std::string& user_id, const std::string& profile,
                                        const std::vector<std::string>& permission_sets) {
  return write([&](Connection& conn) -> bool {
    conn.prepare("UPDATE users SET profile = ?2, permission_sets = ?3 WHERE id = ?1")
        .bind_text(1, user_id)
        .bind_text(2, profile)
        .bind_text(3, encode_list(permission_sets))
        .run();
    return conn.changes() == 1;
  });
}

bool SqliteDatabase::set_user_active(const std::string& user_id, bool active) {
  return write([&](Connection& conn) -> bool {
    conn.prepare("UPDATE users SET active = ?2 WHERE id = ?1")
        .bind_text(1, user_id)
        .bind_int(2, active ? 1 : 0)
        .run();
    return conn.changes() == 1;
  });
}

}  // namespace latchkey::store::sqlite
